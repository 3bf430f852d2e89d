import { EntityManager, In, IsNull } from 'typeorm';
import { EventSubjects, KeysRevoked } from '@odb/contracts';
import { EventOutbox } from '@odb/messaging';
import { AuthKeyEntity, KeyRole } from '@odb/persistence';
import { mintToken } from './tokens';

/** Issues and revokes keys inside the caller's transaction; revocations are announced through the outbox. */
export class AuthKeyStore {
  constructor(private readonly outbox: EventOutbox) {}

  /** Returns the token: the only time it exists in clear. */
  async issue(manager: EntityManager, role: KeyRole, context: string): Promise<{ keyId: string; token: string }> {
    const minted = mintToken();
    await manager.insert(AuthKeyEntity, {
      keyId: minted.keyId,
      role,
      context,
      secretHash: minted.secretHash,
      revokedAt: null,
      revokedReason: null,
    });
    return { keyId: minted.keyId, token: minted.token };
  }

  async revoke(manager: EntityManager, keyIds: Array<string | null | undefined>, reason: KeysRevoked['reason']): Promise<void> {
    const ids = keyIds.filter((id): id is string => Boolean(id));
    if (ids.length === 0) return;
    await manager.update(AuthKeyEntity, { keyId: In(ids), revokedAt: IsNull() }, { revokedAt: () => 'now()', revokedReason: reason });
    await this.outbox.append(manager, EventSubjects.KeysRevoked, { keyIds: ids, reason });
  }
}
