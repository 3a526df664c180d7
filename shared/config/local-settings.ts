import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The environment as the Functions host would build it locally: `local.settings.json` "Values"
 * beneath the real environment (a variable already set wins).
 */
export function localEnvironment(cwd: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = join(cwd, 'local.settings.json');
  if (!existsSync(file)) return { ...env };
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  return { ...parsed.Values, ...env };
}
