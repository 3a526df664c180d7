import type { AccessToken, TokenCredential } from '@azure/identity';
import { AppError } from '../errors/app-error.js';

export type { TokenCredential } from '@azure/identity';

/** A token this close to its expiry is replaced: a run's wait can outlast one (they live about an hour). */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Microsoft Entra access tokens for the API's scope, for Easy Auth in front of the app. The credential is
 * DefaultAzureCredential unless given (so `az login` is enough, and an automation's environment or managed
 * identity works too), loaded only when a token is first needed: local mode never pays for the SDK. A token
 * is kept until shortly before it expires, since the Azure CLI credential starts a process for each one.
 */
export class EntraTokens {
  private credential: Promise<TokenCredential> | undefined;
  private token: AccessToken | undefined;

  constructor(
    private readonly scope: string,
    private readonly makeCredential: () => Promise<TokenCredential> = defaultCredential,
  ) {}

  /** The `Authorization` header's value. */
  async authorization(): Promise<string> {
    if (!this.token || this.token.expiresOnTimestamp - Date.now() < RENEW_BEFORE_MS) this.token = await this.fresh();
    return `Bearer ${this.token.token}`;
  }

  private async fresh(): Promise<AccessToken> {
    let token: AccessToken | null;
    try {
      this.credential ??= this.makeCredential();
      token = await (await this.credential).getToken(this.scope);
    } catch (error) {
      throw tokenProblem(this.scope, error);
    }
    if (!token) throw tokenProblem(this.scope, undefined);
    return token;
  }
}

async function defaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/**
 * Why no token came, as what to do. Microsoft Entra ID's own reason (`AADSTS…: sentence.`) is kept when the
 * credential passes it on: a wrong scope or a missing consent is not fixed by signing in again. AADSTS50105
 * is the app registration refusing a signed-in user who holds none of its roles.
 */
function tokenProblem(scope: string, error: unknown): AppError {
  // Its first sentence: what follows is trace and correlation ids, and a timestamp.
  const said = error instanceof Error ? /AADSTS\d+:[^\r\n]*?(?:\.(?=\s)|$)/m.exec(error.message)?.[0] : undefined;
  if (said?.startsWith('AADSTS50105:')) {
    return new AppError('forbidden', `Your account holds no role on the app's API (${scope}) — ask an admin to assign you UserSync.Admin or UserSync.Reader.`);
  }
  return new AppError('sign-in-required', `Sign in: \`az login\` (then try again) — no Microsoft Entra token for ${scope} could be had.${said ? ` Microsoft Entra ID said: ${said}` : ''}`);
}
