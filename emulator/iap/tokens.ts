// OAuth access tokens the emulator issues (to a runner, through its metadata endpoint) and its IAP
// relay accepts. A token carries its expiry and an HMAC of it under a secret kept in the state dir:
// tokens stay valid across a restart on the same state dir (clients cache them for an hour), and
// a token the emulator did not issue, or one that expired, is told apart without a token list.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** GCE's metadata server hands out tokens that live about an hour. */
export const TOKEN_LIFETIME_SEC = 3599;
const PREFIX = 'emulator.';

export interface IssuedToken {
  access_token: string;
  expires_in: number;
  token_type: 'Bearer';
}

export type TokenCheck = 'valid' | 'expired' | 'unknown';

export class AccessTokens {
  private readonly secret: Buffer;
  issued = 0;

  constructor(stateDir: string) {
    const dir = join(stateDir, 'iap');
    const file = join(dir, 'token-secret');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
    this.secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  }

  private mac(expiresAt: number): string {
    return createHmac('sha256', this.secret).update(`${PREFIX}${expiresAt}`).digest('base64url');
  }

  issue(lifetimeSec = TOKEN_LIFETIME_SEC, now = Date.now()): IssuedToken {
    const expiresAt = Math.floor(now / 1000) + lifetimeSec;
    this.issued++;
    return { access_token: `${PREFIX}${expiresAt}.${this.mac(expiresAt)}`, expires_in: lifetimeSec, token_type: 'Bearer' };
  }

  check(token: string | undefined, now = Date.now()): TokenCheck {
    const m = token ? /^emulator\.(\d{1,12})\.([\w-]{43})$/.exec(token) : null;
    if (!m) return 'unknown';
    const expiresAt = Number(m[1]);
    const given = Buffer.from(m[2] as string);
    const expected = Buffer.from(this.mac(expiresAt));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'unknown';
    return expiresAt * 1000 > now ? 'valid' : 'expired';
  }
}

/** The token of an `Authorization: Bearer <token>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
