// OAuth access tokens the emulator issues (to a runner through its metadata endpoint, to VMs
// through theirs) and that its IAP relay and Secret Manager accept. A token names its principal
// (a service account's e-mail) and its expiry, with an HMAC of both under a secret kept in the
// state dir: tokens stay valid across a restart on the same state dir (clients cache them for an
// hour), and a token the emulator did not issue, one that expired, or one whose principal was
// altered is told apart without a token list.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** GCE's metadata server hands out tokens that live about an hour. */
export const TOKEN_LIFETIME_SEC = 3599;
const PREFIX = 'emulator.';
const SHAPE = /^emulator\.([A-Za-z0-9_-]{1,400})\.(\d{1,12})\.([\w-]{43})$/;

export interface IssuedToken {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
}

export type TokenCheck = 'valid' | 'expired' | 'unknown';

export interface VerifiedToken {
  state: TokenCheck;
  /** The service account the token was issued to (only when the token is valid). */
  principal?: string;
}

export class AccessTokens {
  private readonly secret: Buffer;
  /** Whose token `issue()` makes when no principal is named (the runner). */
  private readonly defaultPrincipal: string;
  issued = 0;

  constructor(stateDir: string, defaultPrincipal: string) {
    const dir = join(stateDir, 'iap');
    const file = join(dir, 'token-secret');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    this.secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    this.defaultPrincipal = defaultPrincipal;
  }

  private mac(principal: string, expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${PREFIX}${principal}\n${expiresAt}`).digest('base64url');
  }

  /** A token for the default principal (the runner), `lifetimeSec` from `now`. */
  issue(lifetimeSec = TOKEN_LIFETIME_SEC, now = Date.now()): IssuedToken {
    return this.issueFor(this.defaultPrincipal, lifetimeSec, now);
  }

  issueFor(principal: string, lifetimeSec = TOKEN_LIFETIME_SEC, now = Date.now()): IssuedToken {
    const expiresAt = Math.floor(now / 1000) + lifetimeSec;
    this.issued++;
    const who = Buffer.from(principal).toString('base64url');
    return {
      access_token: `${PREFIX}${who}.${expiresAt}.${this.mac(principal, expiresAt)}`,
      expires_in: lifetimeSec,
      token_type: 'Bearer',
    };
  }

  verify(token: string | undefined, now = Date.now()): VerifiedToken {
    const m = token ? SHAPE.exec(token) : null;
    if (!m) return { state: 'unknown' };
    const principal = Buffer.from(m[1] as string, 'base64url').toString('utf8');
    const expiresAt = Number(m[2]);
    const given = Buffer.from(m[3] as string);
    const expected = Buffer.from(this.mac(principal, expiresAt));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { state: 'unknown' };
    return expiresAt * 1000 > now ? { state: 'valid', principal } : { state: 'expired' };
  }

  check(token: string | undefined, now = Date.now()): TokenCheck {
    return this.verify(token, now).state;
  }
}

/** The token of an `Authorization: Bearer <token>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
