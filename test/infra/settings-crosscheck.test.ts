import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsSchema, storageNames } from '../../shared/config/settings.js';
import { allBicepFiles, bicepFile, groupAfter, infraText, valueOf } from './bicep-text.js';

/**
 * infra/main.bicep sets the app settings the code reads (shared/config/settings.ts), and nothing stale: the
 * `name: '…'` entries of the function app's `appSettings` array, read from the template's text.
 */
const bicep = bicepFile('main.bicep');
const storageBicep = bicepFile('modules/storage.bicep');
const appSettings = groupAfter(bicep, 'appSettings:');
const appSettingNames = [...appSettings.matchAll(/^\s*name: '([^']+)'\s*$/gm)].map((match) => match[1] ?? '');
const schemaKeys = Object.keys(settingsSchema.shape);
/** The code reads a connection string; in Azure the host and the app use the identity-based form instead. */
const identityBased = 'AzureWebJobsStorage';

/** The value expression of the app setting `name`, as written in the template. */
function settingValue(name: string): string | undefined {
  return new RegExp(`name: '${name}'\\s*\\n\\s*value: (.+)`).exec(appSettings)?.[1]?.trim();
}

describe('infra/main.bicep app settings', () => {
  it('sets every setting of the schema (AzureWebJobsStorage as AzureWebJobsStorage__accountName)', () => {
    const missing = schemaKeys.filter((key) => key !== identityBased && !appSettingNames.includes(key));
    expect(missing).toEqual([]);
  });

  it('names no USERSYNC_* setting the schema does not have (outputs are azd environment values, not settings)', () => {
    const settingsPart = bicep.replace(/^output .*$/gm, '');
    const named = [...new Set(settingsPart.match(/\bUSERSYNC_[A-Z0-9_]+/g) ?? [])];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !schemaKeys.includes(name))).toEqual([]);
  });

  it('sets the same defaults as the schema', () => {
    const defaults = settingsSchema.parse({ AzureWebJobsStorage: 'x' });
    expect(settingValue('USERSYNC_PAGE_SIZE')).toBe(`'${defaults.USERSYNC_PAGE_SIZE}'`);
    expect(settingValue('USERSYNC_ALLOW_INSECURE_HTTP')).toBe(`'${defaults.USERSYNC_ALLOW_INSECURE_HTTP}'`);
    expect(settingValue('USERSYNC_ALLOW_PRIVATE_SOURCES')).toBe(`'${defaults.USERSYNC_ALLOW_PRIVATE_SOURCES}'`);
    expect(settingValue('USERSYNC_ARCHIVE_DAYS')).toBe('string(archiveDays)');
    expect(bicep).toContain(`param archiveDays int = ${defaults.USERSYNC_ARCHIVE_DAYS}`);
    expect(settingValue('USERSYNC_CSV_MAX_BYTES')).toBe(`'${defaults.USERSYNC_CSV_MAX_BYTES}'`);
    expect(settingValue('USERSYNC_TIMER_SCHEDULE')).toBe(`'${defaults.USERSYNC_TIMER_SCHEDULE}'`);
    expect(settingValue('USERSYNC_NAME_PREFIX')).toBe('namePrefix');
    expect(bicep).toContain(`param namePrefix string = '${defaults.USERSYNC_NAME_PREFIX}'`);
    expect(settingValue('USERSYNC_LICENCE_LIMIT')).toBe('licenceLimit');
    expect(bicep).toContain(`param licenceLimit string = ''`);
  });

  it('expires the runs container after archiveDays, as the timer does', () => {
    expect(valueOf(groupAfter(bicep, "module storage 'modules/storage.bicep'", '{'), 'archiveDays')).toBe('archiveDays');
    const rule = storageBicep.slice(storageBicep.indexOf("name: 'expire-run-files'"));
    expect(rule).toMatch(/prefixMatch: \[\s*'\$\{namePrefix\}-runs\/'\s*\]/);
    expect(rule).toMatch(/baseBlob: \{\s*delete: \{\s*daysAfterModificationGreaterThan: archiveDays\s*\}/);
  });

  it('uses identity-based host storage and Application Insights', () => {
    for (const name of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId', 'APPLICATIONINSIGHTS_CONNECTION_STRING']) {
      expect(appSettingNames).toContain(name);
    }
    expect(settingValue('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(appSettingNames).not.toContain(identityBased);
  });

  it('lists each setting once and none that Flex Consumption rejects', () => {
    expect(appSettingNames.filter((name, index) => appSettingNames.indexOf(name) !== index)).toEqual([]);
    const flexManaged = ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'WEBSITE_CONTENTSHARE'];
    expect(appSettingNames.filter((name) => flexManaged.includes(name))).toEqual([]);
  });

  it('turns secretSettings into Key Vault references', () => {
    expect(bicep).toMatch(/for \w+ in secretSettings:/);
    expect(bicep).toMatch(/'@Microsoft\.KeyVault\(VaultName=\$\{keyVault\.outputs\.name\};SecretName=\$\{\w+\.secretName\}\)'/);
    expect(bicep).toMatch(/appSettings: concat\(\[[\s\S]*\], keyVaultReferenceSettings\)/);
  });

  it('holds no account key or key-based connection string, in any template', () => {
    for (const text of allBicepFiles().values()) {
      expect(text).not.toMatch(/AccountKey=/i);
      expect(text).not.toMatch(/listKeys\(|listAccountSas\(|\.keys\[/);
    }
    expect(storageBicep).toContain('allowSharedKeyAccess: false');
  });

  it('creates the tables, queues and containers storageNames() derives from the prefix', () => {
    expect(valueOf(groupAfter(bicep, "module storage 'modules/storage.bicep'", '{'), 'namePrefix')).toBe('namePrefix');
    const marker = 'PREFIX';
    for (const name of Object.values(storageNames(marker))) {
      expect(storageBicep).toContain(`'${name.replace(marker, '${namePrefix}')}'`);
    }
  });
});

describe('local.settings.sample.json and README.md', () => {
  it('list every setting of the schema', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    expect(schemaKeys.filter((key) => !(key in sample.Values))).toEqual([]);
  });

  it('README.md documents every setting of the schema in its Settings section', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('\n## Settings\n');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    expect(schemaKeys.filter((key) => !section.includes(`\`${key}\``))).toEqual([]);
  });
});

describe('infra/main.parameters.json', () => {
  const file = JSON.parse(readFileSync(new URL('../../infra/main.parameters.json', import.meta.url), 'utf8')) as {
    $schema?: string;
    parameters: Record<string, { value: unknown }>;
  };
  const declared = [...bicep.matchAll(/^param\s+(\w+)\s+[\w[\]]+(\s*=)?/gm)].map((match) => ({ name: match[1] ?? '', hasDefault: Boolean(match[2]) }));

  it('is a deployment parameters file naming only parameters of main.bicep, and every required one', () => {
    expect(file.$schema).toMatch(/deploymentParameters\.json#$/);
    const names = declared.map((parameter) => parameter.name);
    expect(names).toEqual(expect.arrayContaining(['location', 'namePrefix', 'licenceLimit', 'secretSettings']));
    expect(Object.keys(file.parameters).filter((name) => !names.includes(name))).toEqual([]);
    const required = declared.filter((parameter) => !parameter.hasDefault).map((parameter) => parameter.name);
    expect(required.filter((name) => !(name in file.parameters))).toEqual([]);
  });

  it('takes from the azd environment only string parameters, each named in infra/README.md', () => {
    const guide = infraText('README.md');
    const fromEnvironment = Object.entries(file.parameters).flatMap(([name, { value }]) =>
      typeof value === 'string' ? [...value.matchAll(/\$\{(\w+)\}/g)].map((match) => ({ name, variable: match[1] ?? '' })) : [],
    );
    expect(fromEnvironment.map(({ variable }) => variable)).toContain('USERSYNC_ADMIN_PRINCIPAL_ID');
    for (const { name, variable } of fromEnvironment) {
      // azd substitutes text: a number or bool parameter would get a string and fail the deployment.
      expect(bicep).toMatch(new RegExp(`^param ${name} string\\b`, 'm'));
      expect(guide).toContain(variable);
    }
  });

  it('gives a valid prefix and secretSettings that do not shadow a fixed setting', () => {
    const prefix = settingsSchema.shape.USERSYNC_NAME_PREFIX.safeParse(file.parameters.namePrefix?.value);
    expect(prefix.success).toBe(true);
    const secrets = (file.parameters.secretSettings?.value ?? []) as { name: string; secretName: string }[];
    for (const secret of secrets) {
      expect(appSettingNames).not.toContain(secret.name);
      expect(secret.secretName).toMatch(/^[0-9A-Za-z-]{1,127}$/);
    }
  });
});
