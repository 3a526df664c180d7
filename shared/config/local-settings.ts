import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors/app-error.js';

/**
 * The environment as the Functions host would build it locally: `local.settings.json` "Values"
 * beneath the real environment (a variable already set wins).
 */
export function localEnvironment(cwd: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = join(cwd, 'local.settings.json');
  if (!existsSync(file)) return { ...env };
  let parsed: { Values?: Record<string, string> };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch {
    // Not the parser's message: it quotes the text around the fault, which may be a secret.
    throw new AppError('config-invalid', `${file} is not valid JSON; compare it with local.settings.sample.json.`);
  }
  return { ...parsed.Values, ...env };
}
