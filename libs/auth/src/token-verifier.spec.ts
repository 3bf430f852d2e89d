import { DataSource } from 'typeorm';
import { EventOutbox } from '@odb/messaging';
import { AuthKeyEntity, KeyRole, dataSourceOptions } from '@odb/persistence';
import { TestEnvironment, describeWithInfrastructure, sleep } from '@odb/testing';
import { AuthKeyStore } from './key-store';
import { TokenVerifier } from './token-verifier';
import { mintToken } from './tokens';

describeWithInfrastructure('TokenVerifier (against PostgreSQL)', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;
  const store = new AuthKeyStore(new EventOutbox('auth-test'));

  beforeAll(async () => {
    env = await TestEnvironment.create();
    dataSource = await new DataSource(dataSourceOptions({ url: env.databaseUrl, poolSize: 4 })).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await env?.dispose();
  });

  const issue = (role: KeyRole = 'contributor', context = 'a'.repeat(40)) =>
    dataSource.transaction((manager) => store.issue(manager, role, context));

  const revokeInDatabase = (keyId: string) =>
    dataSource.transaction((manager) => store.revoke(manager, [keyId], 'connector-deleted'));

  /** A verifier whose cache never expires during a test, unless told otherwise. */
  const verifier = (cacheTtlMs = 60_000, maxEntries?: number) => new TokenVerifier(dataSource, { cacheTtlMs, maxEntries });

  it('resolves a token to its key: id, role and context, not revoked', async () => {
    const { keyId, token } = await issue('consumer', 'some-policy');
    expect(await verifier().verify(token)).toEqual({ keyId, role: 'consumer', context: 'some-policy', revoked: false });
  });

  it('answers null for an unknown key, a wrong secret and a malformed token', async () => {
    const { token } = await issue();
    const lastChar = token.endsWith('A') ? 'B' : 'A';
    const subject = verifier();
    expect(await subject.verify(mintToken().token)).toBeNull();
    expect(await subject.verify(`${token.slice(0, -1)}${lastChar}`)).toBeNull();
    expect(await subject.verify('garbage')).toBeNull();
    expect(await subject.verify('')).toBeNull();
    // The right secret still works after a wrong one was tried (nothing bad was cached).
    expect(await subject.verify(token)).toMatchObject({ revoked: false });
  });

  it('stores only the hash of the secret', async () => {
    const { keyId, token } = await issue();
    const row = await dataSource.getRepository(AuthKeyEntity).findOneByOrFail({ keyId });
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(token).not.toContain(row.secretHash);
    expect(token.split('.')[2]).not.toBe(row.secretHash);
  });

  it('reports a key revoked in the database as revoked (not unknown)', async () => {
    const { keyId, token } = await issue();
    await revokeInDatabase(keyId);
    expect(await verifier().verify(token)).toEqual({ keyId, role: 'contributor', context: 'a'.repeat(40), revoked: true });
    const row = await dataSource.getRepository(AuthKeyEntity).findOneByOrFail({ keyId });
    expect(row.revokedAt).toBeInstanceOf(Date);
    expect(row.revokedReason).toBe('connector-deleted');
  });

  it('announces revocations through the outbox, in the same transaction', async () => {
    const { keyId } = await issue();
    await dataSource.query('DELETE FROM outbox_event');
    await revokeInDatabase(keyId);
    const rows: Array<{ subject: string; payload: unknown }> = await dataSource.query(`SELECT subject, payload FROM outbox_event`);
    expect(rows).toEqual([{ subject: 'keys.revoked', payload: { keyIds: [keyId], reason: 'connector-deleted' } }]);
  });

  it('serves a cached key until markRevoked, which takes effect at once', async () => {
    const { keyId, token } = await issue();
    const subject = verifier();
    expect((await subject.verify(token))?.revoked).toBe(false);
    await revokeInDatabase(keyId);
    expect((await subject.verify(token))?.revoked).toBe(false); // cached, no event seen yet
    subject.markRevoked([keyId]);
    expect((await subject.verify(token))?.revoked).toBe(true);
  });

  it('keeps a revocation that arrives while the key is being read from the database', async () => {
    const { keyId, token } = await issue();
    const subject = verifier();
    const inFlight = subject.verify(token); // reads the row as it was: not revoked
    subject.markRevoked([keyId]); // the event arrives before that read completes
    expect((await inFlight)?.revoked).toBe(true);
    expect((await subject.verify(token))?.revoked).toBe(true);
  });

  it('reads the key again once the cache entry is older than the TTL', async () => {
    const { keyId, token } = await issue();
    const subject = verifier(100);
    expect((await subject.verify(token))?.revoked).toBe(false);
    await revokeInDatabase(keyId); // the event is missed
    expect((await subject.verify(token))?.revoked).toBe(false);
    await sleep(150);
    expect((await subject.verify(token))?.revoked).toBe(true);
    await sleep(150);
    expect((await subject.verify(token))?.revoked).toBe(true); // stays revoked on every later read
  });

  it('forgets a key deleted from the database once its entry expires', async () => {
    const { keyId, token } = await issue();
    const subject = verifier(100);
    expect(await subject.verify(token)).not.toBeNull();
    await dataSource.getRepository(AuthKeyEntity).delete({ keyId });
    await sleep(150);
    expect(await subject.verify(token)).toBeNull();
  });

  it('forgets everything on clear()', async () => {
    const { keyId, token } = await issue();
    const subject = verifier();
    expect((await subject.verify(token))?.revoked).toBe(false);
    await revokeInDatabase(keyId);
    subject.clear();
    expect((await subject.verify(token))?.revoked).toBe(true);
  });

  it('remembers markRevoked for keys it has not cached yet, and unknown ids do no harm', async () => {
    const { keyId, token } = await issue();
    const subject = verifier();
    subject.markRevoked([keyId, mintToken().keyId]); // the event says so: no need to wait for a read to agree
    expect((await subject.verify(token))?.revoked).toBe(true);
    expect(await subject.verify(mintToken().token)).toBeNull();
  });

  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const keys = await Promise.all([issue(), issue(), issue()]);
    const subject = verifier(60_000, 2);
    for (const { token } of keys) expect((await subject.verify(token))?.revoked).toBe(false);
    for (const { keyId } of keys) await revokeInDatabase(keyId);
    // The first was evicted, so it is read again (revoked); the other two are still cached.
    expect((await subject.verify(keys[0].token))?.revoked).toBe(true);
    expect((await subject.verify(keys[2].token))?.revoked).toBe(false);
  });

  it('does not revoke twice: a second revoke leaves the first time and reason', async () => {
    const { keyId } = await issue();
    await revokeInDatabase(keyId);
    const first = await dataSource.getRepository(AuthKeyEntity).findOneByOrFail({ keyId });
    await dataSource.transaction((manager) => store.revoke(manager, [keyId], 'user-deleted'));
    const second = await dataSource.getRepository(AuthKeyEntity).findOneByOrFail({ keyId });
    expect(second.revokedAt).toEqual(first.revokedAt);
    expect(second.revokedReason).toBe('connector-deleted');
  });
});
