import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { settingsSchema, storageNames } from '../../shared/config/settings.js';

/**
 * infra/main.bicep sets the app settings the code reads (shared/config/settings.ts), and nothing stale.
 * There is no Bicep compiler here, so the template is read as text: comments are dropped, then the
 * `name: '…'` entries of the function app's `appSettings` array are collected.
 */
const bicep = stripLineComments(readFileSync(new URL('../../infra/main.bicep', import.meta.url), 'utf8'));
const appSettingNames = namesIn(arrayAfter(bicep, 'appSettings:'));
const schemaKeys = Object.keys(settingsSchema.shape);
/** The code reads a connection string; in Azure the host and the app use the identity-based form instead. */
const identityBased = 'AzureWebJobsStorage';

describe('infra/main.bicep app settings', () => {
  it('sets every setting of the schema (AzureWebJobsStorage as AzureWebJobsStorage__accountName)', () => {
    const missing = schemaKeys.filter((key) => key !== identityBased && !appSettingNames.includes(key));
    expect(missing).toEqual([]);
  });

  it('names no USERSYNC_* setting the schema does not have', () => {
    const named = [...new Set(bicep.match(/\bUSERSYNC_[A-Z0-9_]+/g) ?? [])];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !schemaKeys.includes(name))).toEqual([]);
  });

  it('sets the same defaults as the schema', () => {
    const defaults = settingsSchema.parse({ AzureWebJobsStorage: 'x' });
    expect(valueOf('USERSYNC_PAGE_SIZE')).toBe(`'${defaults.USERSYNC_PAGE_SIZE}'`);
    expect(valueOf('USERSYNC_ALLOW_INSECURE_HTTP')).toBe(`'${defaults.USERSYNC_ALLOW_INSECURE_HTTP}'`);
    expect(valueOf('USERSYNC_ALLOW_PRIVATE_SOURCES')).toBe(`'${defaults.USERSYNC_ALLOW_PRIVATE_SOURCES}'`);
    expect(valueOf('USERSYNC_ARCHIVE_DAYS')).toBe('string(archiveDays)');
    expect(bicep).toContain(`param archiveDays int = ${defaults.USERSYNC_ARCHIVE_DAYS}`);
    expect(valueOf('USERSYNC_TIMER_SCHEDULE')).toBe(`'${defaults.USERSYNC_TIMER_SCHEDULE}'`);
    expect(valueOf('USERSYNC_NAME_PREFIX')).toBe('namePrefix');
    expect(bicep).toContain(`param namePrefix string = '${defaults.USERSYNC_NAME_PREFIX}'`);
    expect(valueOf('USERSYNC_LICENCE_LIMIT')).toBe('licenceLimit');
    expect(bicep).toContain(`param licenceLimit string = ''`);
  });

  it('expires the runs container after archiveDays, as the timer does', () => {
    const rule = bicep.slice(bicep.indexOf("name: 'expire-run-files'"));
    expect(rule).toMatch(/prefixMatch: \[\s*'\$\{namePrefix\}-runs\/'\s*\]/);
    expect(rule).toMatch(/baseBlob: \{\s*delete: \{\s*daysAfterModificationGreaterThan: archiveDays\s*\}/);
  });

  it('uses identity-based host storage and Application Insights', () => {
    for (const name of ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId', 'APPLICATIONINSIGHTS_CONNECTION_STRING']) {
      expect(appSettingNames).toContain(name);
    }
    expect(valueOf('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(appSettingNames).not.toContain(identityBased);
  });

  it('lists each setting once and none that Flex Consumption rejects', () => {
    expect(appSettingNames.filter((name, index) => appSettingNames.indexOf(name) !== index)).toEqual([]);
    const flexManaged = ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION', 'WEBSITE_RUN_FROM_PACKAGE', 'WEBSITE_NODE_DEFAULT_VERSION', 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING', 'WEBSITE_CONTENTSHARE'];
    expect(appSettingNames.filter((name) => flexManaged.includes(name))).toEqual([]);
  });

  it('turns secretSettings into Key Vault references', () => {
    expect(bicep).toMatch(/for \w+ in secretSettings:/);
    expect(bicep).toMatch(/'@Microsoft\.KeyVault\(VaultName=\$\{keyVault\.name\};SecretName=\$\{\w+\.secretName\}\)'/);
    expect(bicep).toMatch(/appSettings: concat\(\[[\s\S]*\], keyVaultReferenceSettings\)/);
  });

  it('holds no account key or key-based connection string', () => {
    expect(bicep).not.toMatch(/AccountKey=/i);
    expect(bicep).not.toMatch(/listKeys\(|listAccountSas\(|\.keys\[/);
    expect(bicep).toContain('allowSharedKeyAccess: false');
  });

  it('creates the tables, queues and containers storageNames() derives from the prefix', () => {
    const marker = 'PREFIX';
    for (const name of Object.values(storageNames(marker))) {
      expect(bicep).toContain(`'${name.replace(marker, '${namePrefix}')}'`);
    }
  });
});

describe('local.settings.sample.json', () => {
  it('lists every setting of the schema', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string> };
    expect(schemaKeys.filter((key) => !(key in sample.Values))).toEqual([]);
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

/** Drops `//` comments (a `//` inside a string such as 'https://…' follows a non-space and stays). */
function stripLineComments(text: string): string {
  return text.replace(/(^|\s)\/\/.*$/gm, '$1');
}

/** The bracketed array that follows `marker` (the first `[` after it, to its matching `]`). */
function arrayAfter(text: string, marker: string): string {
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`"${marker}" not found in infra/main.bicep`);
  const open = text.indexOf('[', at);
  let depth = 0;
  let quoted = false;
  for (let index = open; index < text.length; index += 1) {
    const char = text[index];
    if (quoted) {
      if (char === '\\') index += 1;
      else if (char === "'") quoted = false;
    } else if (char === "'") quoted = true;
    else if (char === '[') depth += 1;
    else if (char === ']' && (depth -= 1) === 0) return text.slice(open, index + 1);
  }
  throw new Error(`unbalanced array after "${marker}" in infra/main.bicep`);
}

function namesIn(array: string): string[] {
  return [...array.matchAll(/^\s*name: '([^']+)'\s*$/gm)].map((match) => match[1] ?? '');
}

/** The value expression of the app setting `name`, as written in the template. */
function valueOf(name: string): string | undefined {
  const block = arrayAfter(bicep, 'appSettings:');
  const match = new RegExp(`name: '${name}'\\s*\\n\\s*value: (.+)`).exec(block);
  return match?.[1]?.trim();
}
