import { existsSync, readFileSync } from 'node:fs';
import ignore from 'ignore';
import { satisfies } from 'semver';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { settingsSchema } from '../../shared/config/settings.js';
import { bicepFile, groupAfter, valueOf } from './bicep-text.js';

/** `azd up`: azure.yaml names the infrastructure and the service; main.bicep tags the app azd deploys to. */
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const bicep = bicepFile('main.bicep');

const azureYamlSchema = z.object({
  name: z.string(),
  infra: z.object({ provider: z.literal('bicep'), path: z.string(), module: z.string() }),
  services: z.record(z.string(), z.object({ project: z.string(), language: z.string(), host: z.string(), remoteBuild: z.boolean().optional() })),
});
const packageJsonSchema = z.object({ main: z.string(), engines: z.object({ node: z.string() }), scripts: z.record(z.string(), z.string()) });

const azureYaml = azureYamlSchema.parse(parse(read('azure.yaml')));
const packageJson = packageJsonSchema.parse(JSON.parse(read('package.json')));

describe('azure.yaml', () => {
  it('provisions infra/main.bicep', () => {
    expect(azureYaml.infra.path).toBe('infra');
    expect(existsSync(new URL(`${azureYaml.infra.path}/${azureYaml.infra.module}.bicep`, root))).toBe(true);
  });

  it('deploys this Node package to the function app main.bicep tags with the service name', () => {
    const services = Object.entries(azureYaml.services);
    expect(services).toHaveLength(1);
    const [name, service] = services[0] ?? [];
    expect(service).toMatchObject({ project: '.', language: 'ts', host: 'function' });
    expect(bicep).toContain(`var azdServiceName = '${name}'`);
    const functionApp = groupAfter(bicep, "resource functionApp 'Microsoft.Web/sites@", '{');
    expect(valueOf(groupAfter(functionApp, 'tags:', '{'), 'azd-service-name')).toBe('azdServiceName');
    // The Functions host loads package.json "main", which `npm run build` compiles from functions/main.ts; it
    // builds the web console too, into the dist/console the app serves (shared/console/console-files.ts).
    expect(packageJson.main).toBe('dist/functions/main.js');
    expect(packageJson.scripts.build).toBe('tsc -p tsconfig.build.json && vite build --config console/vite.config.ts');
    expect(read('console/vite.config.ts')).toContain("outDir: fileURLToPath(new URL('../dist/console', import.meta.url))");
  });

  it('uploads the sources for a remote build, and no dependency or local-only file', () => {
    expect(azureYaml.services.api?.remoteBuild).toBe(true);
    const ignored = ignore().add(read('.funcignore'));
    const build = z.object({ include: z.array(z.string()) }).parse(JSON.parse(read('tsconfig.build.json')));
    const consoleSources = ['console/index.html', 'console/vite.config.ts', 'console/tsconfig.json', 'console/src/main.tsx', 'console/src/styles.css'];
    const shipped = ['host.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'functions/main.ts', ...build.include.map((dir) => `${dir}/x.ts`), ...consoleSources];
    expect(shipped.filter((path) => ignored.ignores(path))).toEqual([]);
    const localOnly = ['node_modules/zod/index.js', 'local.settings.json', '.azure/dev/.env', '.azurite/__blobstorage__/x', 'test/infra/deploy.test.ts', 'scratch/x'];
    expect(localOnly.filter((path) => !ignored.ignores(path))).toEqual([]);
  });
});

describe('Node version', () => {
  it('runs Node 22 in Azure, which package.json engines admits as it does this machine\'s Node', () => {
    const runtime = groupAfter(bicep, 'runtime:', '{');
    expect(valueOf(runtime, 'name')).toBe("'node'");
    expect(valueOf(runtime, 'version')).toBe("'22'");
    expect(satisfies('22.0.0', packageJson.engines.node)).toBe(true);
    expect(satisfies(process.version, packageJson.engines.node)).toBe(true);
  });
});

describe('namePrefix', () => {
  const prefixParam = /((?:@\w+\(.*\)\n)+)param namePrefix string/.exec(bicep)?.[1] ?? '';
  const bound = (decorator: string) => Number(new RegExp(`@${decorator}\\((\\d+)\\)`).exec(prefixParam)?.[1]);
  const accepted = (prefix: string) => settingsSchema.shape.USERSYNC_NAME_PREFIX.safeParse(prefix).success;

  it('is bounded to the lengths the app accepts, and its rule is stated', () => {
    const [min, max] = [bound('minLength'), bound('maxLength')];
    expect(accepted('a'.repeat(min))).toBe(true);
    expect(accepted('a'.repeat(min - 1))).toBe(false);
    expect(accepted('a'.repeat(max))).toBe(true);
    expect(accepted('a'.repeat(max + 1))).toBe(false);
    expect(prefixParam).toMatch(/@description\('.*lowercase letters or digits, starting with a letter/);
  });

  it('cannot make the storage account or Key Vault name invalid: they keep its lowercase letters and digits', () => {
    // uniqueString() is 13 lowercase letters and digits.
    expect(bicep).toMatch(/^var token = uniqueString\(/m);
    const alphanumeric = groupAfter(bicep, 'var prefixAlphanumeric =', '(');
    expect(alphanumeric).toMatch(/toLower\(substring\(namePrefix, i, 1\)\)/);
    expect(alphanumeric).toContain("contains('abcdefghijklmnopqrstuvwxyz0123456789', c)");
    const storageTake = Number(/^var storageAccountName = '\$\{take\(prefixAlphanumeric, (\d+)\)\}\$\{token\}'\s*$/m.exec(bicep)?.[1]);
    expect(storageTake + 13).toBeLessThanOrEqual(24);
    const vaultTake = Number(/^var keyVaultName = 'kv\$\{take\(prefixAlphanumeric, (\d+)\)\}\$\{token\}'\s*$/m.exec(bicep)?.[1]);
    expect(2 + vaultTake + 13).toBeLessThanOrEqual(24);
  });
});
