import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'crypto';

/**
 * Tokens are `odb1.<key id, 32 hex>.<secret, 43 base64url chars>`: the key id
 * finds the key, the 256-bit secret proves possession. Only a SHA-256 of the
 * secret is stored (a slow hash adds nothing for secrets of that entropy), so
 * a database dump yields no usable token.
 */
export interface MintedToken {
  keyId: string;
  token: string;
  secretHash: string;
}

const PREFIX = 'odb1';
const TOKEN_PATTERN = /^odb1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export function mintToken(): MintedToken {
  const keyId = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { keyId, token: `${PREFIX}.${keyId.replace(/-/g, '')}.${secret}`, secretHash: hashSecret(secret) };
}

export function parseToken(token: string): { keyId: string; secret: string } | null {
  const match = TOKEN_PATTERN.exec(token.trim());
  if (!match) return null;
  const hex = match[1];
  const keyId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { keyId, secret: match[2] };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
