import { DataSource } from 'typeorm';
import { AuthKeyEntity, KeyRole } from '@odb/persistence';
import { parseToken, secretMatches } from './tokens';

export interface VerifiedKey {
  keyId: string;
  role: KeyRole;
  context: string;
  revoked: boolean;
}

interface CachedKey {
  key: VerifiedKey & { secretHash: string };
  fetchedAt: number;
}

export interface TokenVerifierOptions {
  /**
   * How long a key read from the database is trusted without reading it again.
   * Revocation events update the cache at once; this bounds staleness if one is missed.
   */
  cacheTtlMs?: number;
  maxEntries?: number;
}

/** Resolves a presented token to its key, with a small cache kept fresh by revocation events. */
export class TokenVerifier {
  private readonly cache = new Map<string, CachedKey>();
  /**
   * Key ids announced as revoked. Revocation is final, so this is always true;
   * it covers a key whose database read was in flight when its event arrived
   * (the read would otherwise cache it as valid for a whole TTL).
   */
  private readonly revokedIds = new Set<string>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly dataSource: DataSource,
    options: TokenVerifierOptions = {},
  ) {
    this.ttlMs = options.cacheTtlMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The key the token belongs to, or null when the token is malformed, unknown or its secret is wrong. */
  async verify(token: string): Promise<VerifiedKey | null> {
    const parsed = parseToken(token);
    if (!parsed) return null;
    const key = await this.load(parsed.keyId);
    if (!key || !secretMatches(parsed.secret, key.secretHash)) return null;
    return { keyId: key.keyId, role: key.role, context: key.context, revoked: key.revoked };
  }

  /** Called for every `keys.revoked` event, on every replica. */
  markRevoked(keyIds: string[]): void {
    for (const keyId of keyIds) {
      const cached = this.cache.get(keyId);
      if (cached) cached.key.revoked = true;
      this.revokedIds.delete(keyId);
      this.revokedIds.add(keyId);
      if (this.revokedIds.size > this.maxEntries) this.revokedIds.delete(this.revokedIds.values().next().value as string);
    }
  }

  /** After a lost connection to the bus, events may have been missed: forget everything. */
  clear(): void {
    this.cache.clear();
  }

  private async load(keyId: string): Promise<CachedKey['key'] | null> {
    const cached = this.cache.get(keyId);
    if (cached && Date.now() - cached.fetchedAt < this.ttlMs) return cached.key;
    const row = await this.dataSource.getRepository(AuthKeyEntity).findOneBy({ keyId });
    if (!row) {
      this.cache.delete(keyId);
      return null;
    }
    const revoked = row.revokedAt !== null || this.revokedIds.has(keyId);
    const key = { keyId: row.keyId, role: row.role, context: row.context, secretHash: row.secretHash, revoked };
    this.cache.delete(keyId);
    this.cache.set(keyId, { key, fetchedAt: Date.now() });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return key;
  }
}
