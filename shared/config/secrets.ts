import { AppError } from '../errors/app-error.js';

/**
 * Profiles name their secrets (e.g. `passwordSecret: "HR_CSV_PASSWORD"`); the value lives in the
 * app settings (Key Vault references in Azure). Values are only handed to the adapter that needs them.
 */
export interface SecretResolver {
  /** The value, or an AppError `secret-missing` naming the setting (never the value). */
  resolve(name: string): string;
  has(name: string): boolean;
}

export function environmentSecrets(env: Record<string, string | undefined>): SecretResolver {
  return {
    has: (name) => Boolean(env[name]),
    resolve(name) {
      const value = env[name];
      if (!value) {
        throw new AppError('secret-missing', `The app setting "${name}" named by the connection profile is not set.`, { details: { secret: name } });
      }
      return value;
    },
  };
}
