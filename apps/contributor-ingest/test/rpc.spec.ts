import { NatsConnection, connect } from 'nats';
import { MAX_RPC_BATCH, RpcSubjects } from '@odb/contracts';
import { RpcClient, RpcError } from '@odb/messaging';
import { TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  CreatedConnector,
  IngestPlatform,
  bufferedOperations,
  country,
  countryType,
  createConnector,
  createEntityType,
  publicId,
  startIngestPlatform,
  storedRecords,
  vendorIds,
  writeSnapshot,
} from './ingest.support';

const UNKNOWN_CID = 'f'.repeat(40);
const UNKNOWN_SID = '4527eff4-7a0c-4b7e-9c6a-2b1c8c1d2e3f';

/**
 * The NATS request/reply entry point the harvester uses: the same sessions
 * and checks as the Contributor API, batches of up to 1,000 records, and
 * refusals answered as RpcError with the HTTP-like code (400 with the field
 * errors as details, 401, 404).
 */
describeWithInfrastructure('contributor-ingest: NATS request/reply', () => {
  let env: TestEnvironment;
  let platform: IngestPlatform;
  let nc: NatsConnection;
  let rpc: RpcClient;
  let harvest: CreatedConnector;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startIngestPlatform(env);
    await createEntityType(platform.admin, 'country', countryType);
    harvest = await createConnector(platform.admin, 'country', 'harvested');
    nc = await connect({ servers: env.natsUrl });
    rpc = new RpcClient(nc, env.namespace);
  });

  afterAll(async () => {
    await nc?.close();
    await platform?.close();
    await env?.dispose();
  });

  const openSession = async (mode: 'stream' | 'accrue' | 'replace') =>
    (await rpc.call(RpcSubjects.IngestOpenSession, { contributionId: harvest.id, mode })).sessionId;
  const upsert = (sessionId: string, records: unknown[], ids = true) =>
    rpc.call(RpcSubjects.IngestWrite, { contributionId: harvest.id, sessionId, action: 'upsert', records: records as never, ids }, { timeoutMs: 30_000 });
  const remove = (sessionId: string, records: string[]) =>
    rpc.call(RpcSubjects.IngestWrite, { contributionId: harvest.id, sessionId, action: 'delete', records, ids: true });
  const close = (sessionId: string, commit: boolean) => rpc.call(RpcSubjects.IngestCloseSession, { contributionId: harvest.id, sessionId, commit });
  const many = (from: number, count: number, population = 1) => Array.from({ length: count }, (_, i) => country(`H${from + i}`, population));

  /** The call must fail with an RpcError of `code`, and write nothing. */
  async function refused(call: () => Promise<unknown>, code: number): Promise<RpcError> {
    const before = await writeSnapshot(platform.db);
    const error = await call().then(
      () => {
        throw new Error(`expected an RpcError ${code}`);
      },
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).code).toBe(code);
    expect(await writeSnapshot(platform.db)).toEqual(before);
    return error as RpcError;
  }

  it('stream: a write applies at once and answers {ids, changed}; an unchanged batch changes nothing', async () => {
    const sid = await openSession('stream');
    expect(sid).toMatch(/^[0-9a-f-]{36}$/);
    const written = await upsert(sid, many(0, 1000));
    expect(Object.keys(written.ids!)).toHaveLength(1000);
    expect(written.ids!.H7).toBe(publicId(harvest.id, 'H7'));
    expect(written.changed).toBe(1000);
    expect(await storedRecords(platform.db, harvest.id)).toHaveLength(1000);

    // Without `ids`, only the count: nothing is built or sent for the 1,000 public ids a writer already knows.
    expect(await upsert(sid, [...many(0, 10), ...many(10, 5, 2)], false)).toEqual({ changed: 5 });
    expect(await remove(sid, ['H0', 'H1', 'none'])).toEqual({
      ids: { H0: publicId(harvest.id, 'H0'), H1: publicId(harvest.id, 'H1'), none: publicId(harvest.id, 'none') },
      changed: 2,
    });
    expect(await close(sid, true)).toEqual({ applied: 0 });
    expect(await storedRecords(platform.db, harvest.id)).toHaveLength(998);
  });

  it('accrue: writes are buffered, the commit applies them and says how many operations it applied', async () => {
    const sid = await openSession('accrue');
    const written = await upsert(sid, many(2000, 1000));
    expect(written.changed).toBe(0);
    await remove(sid, ['H2']);
    expect(await vendorIds(platform.db, harvest.id)).not.toContain('H2000');
    expect(await bufferedOperations(platform.db, sid)).toBe(1001);
    expect(await close(sid, true)).toEqual({ applied: 1001 });
    const ids = await vendorIds(platform.db, harvest.id);
    expect(ids).toHaveLength(998 + 1000 - 1);
    expect(ids).toContain('H2999');
    expect(ids).not.toContain('H2');
  });

  it('replace: the commit wipes the connector’s records then applies; close false discards', async () => {
    let sid = await openSession('replace');
    await upsert(sid, many(5000, 3));
    expect(await close(sid, false)).toEqual({ applied: 0 });
    expect(await vendorIds(platform.db, harvest.id)).toHaveLength(1997);
    sid = await openSession('replace');
    await upsert(sid, many(5000, 3));
    await close(sid, true);
    expect(await vendorIds(platform.db, harvest.id)).toEqual(['H5000', 'H5001', 'H5002']);
  });

  it('shares sessions with the HTTP API: one session per connector, whichever door opened it', async () => {
    const viaHttp = (await platform.api.get(`/connector/${harvest.id}/session/open/accrue`)).body;
    await upsert(viaHttp, [country('from-rpc')]);
    const viaRpc = await openSession('accrue');
    // The HTTP session was rolled back by the new open.
    expect((await platform.api.post(`/connector/${harvest.id}/session/${viaHttp}/upsert`, [country('x')])).status).toBe(401);
    await refused(() => upsert(viaHttp, [country('x')]), 401);
    await close(viaRpc, true);
    expect(await vendorIds(platform.db, harvest.id)).not.toContain('from-rpc');
  });

  describe('refusals', () => {
    let sid: string;
    beforeAll(async () => {
      sid = await openSession('accrue');
    });

    it('400 with the field errors as details: ids, mode, action, commit', async () => {
      const openError = await refused(() => rpc.call(RpcSubjects.IngestOpenSession, { contributionId: 'X', mode: 'sometimes' as never }), 400);
      expect(openError.details).toEqual(
        expect.arrayContaining([
          { name: 'id', index: null, reason: expect.stringContaining('does not meet minimum length of 40') },
          { name: 'mode', index: null, reason: 'is not one of enum values: accrue,stream,replace' },
        ]),
      );
      const writeError = await refused(
        () => rpc.call(RpcSubjects.IngestWrite, { contributionId: harvest.id, sessionId: 'nope', action: 'merge' as never, records: [] }),
        400,
      );
      expect((writeError.details as Array<{ name: string }>).map((error) => error.name)).toEqual(expect.arrayContaining(['id', 'action']));
      const closeError = await refused(
        () => rpc.call(RpcSubjects.IngestCloseSession, { contributionId: harvest.id, sessionId: sid, commit: 'perhaps' as never }),
        400,
      );
      expect(closeError.details).toEqual([{ name: 'commit', index: null, reason: 'is not one of enum values: true,false' }]);
    });

    it(`400 over ${MAX_RPC_BATCH} records, for malformed records, and for entity schema violations`, async () => {
      const tooMany = await refused(() => upsert(sid, many(0, MAX_RPC_BATCH + 1)), 400);
      expect(tooMany.details).toEqual([{ name: 'records', index: null, reason: `does not meet maximum length of ${MAX_RPC_BATCH}` }]);
      const tooManyIds = await refused(() => remove(sid, Array(MAX_RPC_BATCH + 1).fill('x')), 400);
      expect(tooManyIds.details).toEqual([{ name: 'records', index: null, reason: `does not meet maximum length of ${MAX_RPC_BATCH}` }]);
      const malformed = await refused(() => upsert(sid, [country('ok'), { id: 'no-entity', name: 'x', extra: 1 }]), 400);
      expect(malformed.details).toEqual(
        expect.arrayContaining([
          { name: 'records', index: 1, reason: 'requires property "entity"' },
          { name: 'records', index: 1, reason: 'is not allowed to have the additional property "extra"' },
        ]),
      );
      const schema = await refused(() => upsert(sid, [country('ok'), country('negative', -5)]), 400);
      expect(schema.details).toEqual([{ name: 'records.entity.population', index: 1, reason: 'must be greater than or equal to 0' }]);
      expect(schema.message).toContain('records.entity.population');
      const notAnArray = await refused(
        () => rpc.call(RpcSubjects.IngestWrite, { contributionId: harvest.id, sessionId: sid, action: 'upsert', records: { a: 1 } as never }),
        400,
      );
      expect(notAnArray.details).toEqual([{ name: 'records', index: null, reason: 'is not of a type(s) array' }]);
    });

    it('404 for an unknown connector (after the body checks), 401 for a session that is not the current one', async () => {
      await refused(() => rpc.call(RpcSubjects.IngestOpenSession, { contributionId: UNKNOWN_CID, mode: 'stream' }), 404);
      await refused(
        () => rpc.call(RpcSubjects.IngestWrite, { contributionId: UNKNOWN_CID, sessionId: sid, action: 'upsert', records: [country('x')] }),
        404,
      );
      await refused(
        () => rpc.call(RpcSubjects.IngestWrite, { contributionId: UNKNOWN_CID, sessionId: sid, action: 'upsert', records: [{ id: 1 } as never] }),
        400,
      );
      await refused(() => rpc.call(RpcSubjects.IngestCloseSession, { contributionId: UNKNOWN_CID, sessionId: sid, commit: true }), 404);
      await refused(() => upsert(UNKNOWN_SID, [country('x')]), 401);
      await refused(() => upsert(UNKNOWN_SID, [country('x', -1)]), 401);
      await refused(() => close(UNKNOWN_SID, true), 401);
    });

    it('the session survived the refusals, with nothing buffered by them', async () => {
      expect(await bufferedOperations(platform.db, sid)).toBe(0);
      expect(await close(sid, true)).toEqual({ applied: 0 });
    });
  });
});
