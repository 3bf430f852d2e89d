import { NatsConnection, connect } from 'nats';
import { Pool } from 'pg';
import { RpcSubjects } from '@odb/contracts';
import { RpcClient } from '@odb/messaging';
import { ApiClient, RunningService, TestEnvironment, describeWithInfrastructure, startServiceProcess, waitFor } from '@odb/testing';
import { startCoordinator } from '../../coordinator/test/coordinator.support';
import {
  CreatedConnector,
  EventTap,
  bufferedOperations,
  countryType,
  createConnector,
  createEntityType,
  inSession,
  recordsOf,
  replayRecordEvents,
} from './ingest.support';

const OPERATIONS = 100_000;
const BATCH = 1000;

/** About 300 bytes once stored. (The kills are timed on what PostgreSQL is running, not on the size of the commit.) */
function record(i: number) {
  return {
    id: `vendor-${i}`,
    name: `Record number ${i}`,
    entity: { capital: `Capital ${i}`, population: i, value: i / 7, code: `C${String(i).padStart(8, '0')}` },
    instance: { seen: '2024-05-01T12:00:00Z', tags: ['crash', 'test', String(i % 97)] },
  };
}

/**
 * An accrue commit of 100,000 operations is one transaction: SIGKILL the
 * ingest process (a real process) while PostgreSQL is executing the commit,
 * and either all or none of it is visible, with events (outbox and JetStream)
 * naming exactly what is visible. Restarted, the service closes the same
 * session cleanly, and a new one opens.
 */
describeWithInfrastructure('contributor-ingest: a crash during a 100,000-operation commit', () => {
  let env: TestEnvironment;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  let ingest: RunningService | undefined;
  let db: Pool;
  let nc: NatsConnection;
  let tap: EventTap;
  let connector: CreatedConnector;
  let sessionId: string;

  const startIngest = async () => {
    ingest = await startServiceProcess('contributor-ingest', env.serviceEnv({ AUTH_MODE: 'local' }), { waitFor: 'ready', timeoutMs: 30_000 });
    return new ApiClient(`${ingest.url}/v1`);
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    coordinator = await startCoordinator(env);
    await createEntityType(coordinator.api, 'country', countryType);
    connector = await createConnector(coordinator.api, 'country', 'bulk');
    db = new Pool({ connectionString: env.databaseUrl, max: 3 });
    db.on('error', () => undefined);
    nc = await connect({ servers: env.natsUrl });
    tap = await EventTap.start(env);
  }, 120_000);

  afterAll(async () => {
    await ingest?.kill();
    await tap?.stop();
    await nc?.close();
    await db?.end();
    await coordinator?.service.close();
    await env?.dispose();
  });

  const visible = async () =>
    (await db.query(`SELECT count(*)::int AS n FROM record r JOIN connector c ON c.id = r.connector_id WHERE c.contribution_id = $1`, [connector.id]))
      .rows[0].n as number;
  const publicIds = async () =>
    new Set(
      (await db.query(`SELECT r.public_id FROM record r JOIN connector c ON c.id = r.connector_id WHERE c.contribution_id = $1`, [connector.id])).rows.map(
        (row: { public_id: string }) => row.public_id,
      ),
    );
  /** Records named by the record events still in the outbox (not yet relayed). */
  const outboxRecords = async () =>
    (
      await db.query(
        `SELECT coalesce(sum(jsonb_array_length(payload->'records')), 0)::int AS n FROM outbox_event
          WHERE subject LIKE 'record.%' AND payload->>'contributionId' = $1`,
        [connector.id],
      )
    ).rows[0].n as number;
  /** The backend of the ingest service running one of the commit's statements, if any. */
  const commitBackend = async () =>
    (
      await db.query(
        `SELECT pid, now() - xact_start AS "inTransaction", left(query, 1000) AS query FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'contributor-ingest' AND state = 'active'
            AND (query LIKE '%session_final%' OR query LIKE '%session_gone%')`,
      )
    ).rows[0] as { pid: number; inTransaction: unknown; query: string } | undefined;

  it(`buffers an accrue session of ${OPERATIONS.toLocaleString('en')} operations through the NATS entry point`, async () => {
    await startIngest();
    const rpc = new RpcClient(nc, env.namespace);
    sessionId = (await rpc.call(RpcSubjects.IngestOpenSession, { contributionId: connector.id, mode: 'accrue' })).sessionId;
    const started = Date.now();
    let next = 0;
    // Two writers: one batch is parsed while the other is written.
    const writer = async () => {
      while (next < OPERATIONS) {
        const from = next;
        next += BATCH;
        const records = Array.from({ length: BATCH }, (_, i) => record(from + i));
        await rpc.call(RpcSubjects.IngestWrite, { contributionId: connector.id, sessionId, action: 'upsert', records }, { timeoutMs: 30_000 });
      }
    };
    await Promise.all([writer(), writer()]);
    process.stdout.write(`buffered ${OPERATIONS} operations in ${Date.now() - started} ms\n`);
    expect(await bufferedOperations(db, sessionId)).toBe(OPERATIONS);
    expect(await visible()).toBe(0);
  }, 120_000);
  /**
   * Sends close/true, waits until PostgreSQL is running the commit statement
   * that `stage` matches (pg_stat_activity), then SIGKILLs the process. Waits
   * until the orphaned backend has gone (its transaction ended one way or the
   * other) and returns what it saw.
   */
  async function killDuringCommit(stage: RegExp): Promise<{ query: string; visibleAfter: number; endedAfterMs: number }> {
    const api = new ApiClient(`${ingest!.url}/v1`);
    const closing = api.get(`/connector/${connector.id}/session/${sessionId}/close/true`).catch((error: Error) => error);
    const running = await waitFor(
      async () => {
        const backend = await commitBackend();
        return backend && stage.test(backend.query) ? backend : undefined;
      },
      { intervalMs: 2, timeoutMs: 30_000, what: `the commit statement ${stage}` },
    );
    await ingest!.kill();
    const killed = Date.now();
    ingest = undefined;
    // The client saw the connection die (fetch failed), not an answer.
    expect(await closing).not.toHaveProperty('status');
    await waitFor(async () => (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [running.pid])).rowCount === 0, {
      timeoutMs: 30_000,
      what: 'the orphaned backend to end',
    });
    // The commit sets client_connection_check_interval: PostgreSQL sees the dead client within about a second.
    return { query: running.query, visibleAfter: await visible(), endedAfterMs: Date.now() - killed };
  }

  /** Events (relayed to JetStream by the coordinator's relay, the ingest's being dead) replay to exactly the visible records. */
  async function expectEventsMatchTable() {
    await tap.caughtUp(db, 30_000);
    const replayed = replayRecordEvents(tap.forConnector(connector.id));
    const table = await publicIds();
    expect(replayed.size).toBe(table.size);
    expect([...table].every((id) => replayed.has(id))).toBe(true);
    return tap.forConnector(connector.id);
  }

  for (const [when, stage] of [
    ['while it computes the final state of each record', /CREATE TEMP TABLE session_final/],
    ['while it writes the records', /INSERT INTO record/],
  ] as const) {
    it(`SIGKILL ${when}: all or none visible, events consistent, the session intact`, async () => {
      if (!ingest) await startIngest();
      const { query, visibleAfter, endedAfterMs } = await killDuringCommit(stage);
      process.stdout.write(`killed during: ${query.replace(/\s+/g, ' ').slice(0, 60)}… → backend ended ${endedAfterMs} ms after the kill, ${visibleAfter} visible\n`);
      expect([0, OPERATIONS]).toContain(visibleAfter);
      // Killed before COMMIT was sent: PostgreSQL rolled the whole transaction back.
      expect(visibleAfter).toBe(0);
      expect(await outboxRecords()).toBe(0);
      const events = await expectEventsMatchTable();
      expect(recordsOf(events.filter((event) => event.subject.startsWith('record.')))).toEqual([]);
      expect(events.filter((event) => event.subject === 'session.committed')).toEqual([]);
      // Nothing of the commit stuck: the session is still open with all its operations.
      expect(await bufferedOperations(db, sessionId)).toBe(OPERATIONS);
      expect(await inSession(coordinator.api, connector)).toBe(true);
    }, 120_000);
  }

  it('restarted, the service commits the same session in one go; a new session then opens and closes cleanly', async () => {
    const api = await startIngest();
    const started = Date.now();
    const closed = await api.get(`/connector/${connector.id}/session/${sessionId}/close/true`);
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`commit of ${OPERATIONS} operations: ${seconds.toFixed(2)} s\n`);
    expect(closed.status).toBe(200);
    expect(await visible()).toBe(OPERATIONS);
    expect(await bufferedOperations(db, sessionId)).toBe(0);
    expect(await inSession(coordinator.api, connector)).toBe(false);

    const events = await expectEventsMatchTable();
    const upserted = events.filter((event) => event.subject === 'record.upserted');
    expect(upserted).toHaveLength(OPERATIONS / 1000);
    expect(recordsOf(upserted)).toHaveLength(OPERATIONS);
    expect(events.filter((event) => event.subject === 'session.committed').map((event) => (event.payload as { operations: number }).operations)).toEqual([
      OPERATIONS,
    ]);

    const again = await api.get(`/connector/${connector.id}/session/open/accrue`);
    expect(again.status).toBe(200);
    expect((await api.post(`/connector/${connector.id}/session/${again.body}/delete`, ['vendor-0', 'vendor-1'])).status).toBe(200);
    expect((await api.get(`/connector/${connector.id}/session/${again.body}/close/true`)).status).toBe(200);
    expect(await visible()).toBe(OPERATIONS - 2);
    expect(await inSession(coordinator.api, connector)).toBe(false);
    await expectEventsMatchTable();
    expect(await ingest!.stop()).toBe(0);
    ingest = undefined;
  }, 120_000);
});
