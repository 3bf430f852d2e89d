import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { DomainEvent, EventSubject, RecordsChanged, SessionChanged, eventEnvelopeSchema } from '@odb/contracts';
import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  CreatedConnector,
  EventTap,
  IngestPlatform,
  country,
  countryType,
  createConnector,
  createEntityType,
  outboxHighWater,
  publicId,
  recordsOf,
  replayRecordEvents,
  startIngestPlatform,
  storedRecords,
} from './ingest.support';

/**
 * The events of the write path, as a subscriber of `<namespace>.events.v1.>`
 * receives them from JetStream: written to the outbox by the transaction that
 * makes the change, one `record.*` event per batch (commits chunked by 1,000
 * records), payloads that validate against the published schemas, and a
 * stream of events that, replayed, gives exactly what the `record` table holds.
 */
describeWithInfrastructure('contributor-ingest: events', () => {
  let env: TestEnvironment;
  let platform: IngestPlatform;
  let api: ApiClient;
  let tap: EventTap;
  let connectors: Record<string, CreatedConnector>;
  const ajv = addFormats(new Ajv({ allErrors: true, allowUnionTypes: true, strict: false }));

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startIngestPlatform(env);
    api = platform.api;
    await createEntityType(platform.admin, 'country', countryType);
    connectors = {};
    for (const slug of ['stream-one', 'accrue-one', 'replace-one', 'rollback-one']) {
      connectors[slug] = await createConnector(platform.admin, 'country', slug);
    }
    tap = await EventTap.start(env);
  });

  afterAll(async () => {
    await tap?.stop();
    await platform?.close();
    await env?.dispose();
  });

  const path = (connector: CreatedConnector) => `/connector/${connector.id}/session`;
  const open = async (connector: CreatedConnector, mode: string) => (await api.get(`${path(connector)}/open/${mode}`)).body as string;
  const post = async (connector: CreatedConnector, sid: string, verb: string, body: unknown) => {
    const response = await api.post(`${path(connector)}/${sid}/${verb}`, body);
    expect(response.status).toBe(200);
  };
  const close = async (connector: CreatedConnector, sid: string, commit: boolean) =>
    expect((await api.get(`${path(connector)}/${sid}/close/${commit}`)).status).toBe(200);

  /** Events of the connector written after `since`, once the relay has published everything written so far. */
  async function eventsSince(connector: CreatedConnector, since: number): Promise<DomainEvent[]> {
    await tap.caughtUp(platform.db);
    return tap.forConnector(connector.id, since).sort((a, b) => Number(a.id) - Number(b.id));
  }

  function expectValid(events: DomainEvent[]) {
    for (const event of events) {
      const validate = ajv.compile(eventEnvelopeSchema(event.subject as EventSubject));
      expect(validate(event) ? null : { event, errors: validate.errors }).toBeNull();
      expect(event.source).toBe('contributor-ingest');
    }
  }

  async function expectConsistent(connector: CreatedConnector) {
    const table = new Set((await storedRecords(platform.db, connector.id)).map((record) => record.publicId));
    const replayed = replayRecordEvents(await eventsSince(connector, 0));
    expect(replayed.size).toBe(table.size);
    expect([...replayed].filter((id) => !table.has(id))).toEqual([]);
  }

  it('stream: session.opened, one record event per batch naming its records in order, session.committed', async () => {
    const connector = connectors['stream-one'];
    const since = await outboxHighWater(platform.db);
    const sid = await open(connector, 'stream');
    await post(connector, sid, 'upsert', [country('GB'), country('FR'), country('GB', 7)]);
    await post(connector, sid, 'upsert', [country('DE')]);
    await post(connector, sid, 'delete', ['FR', 'nowhere']);
    await post(connector, sid, 'delete', ['nowhere']);
    await close(connector, sid, true);

    const events = await eventsSince(connector, since);
    expectValid(events);
    expect(events.map((event) => event.subject)).toEqual([
      'session.opened',
      'record.upserted',
      'record.upserted',
      'record.deleted',
      // A delete of nothing is no event.
      'session.committed',
    ]);
    const base = { entityTypeId: 'country', connectorId: 'stream-one', contributionId: connector.id };
    expect(events[0].payload).toEqual({ ...base, sessionId: sid, mode: 'stream' });
    const entry = (vendorId: string) => ({ publicId: publicId(connector.id, vendorId), vendorId });
    expect(events[1].payload).toEqual({ ...base, isLive: false, sessionId: sid, records: [entry('GB'), entry('FR')] });
    expect((events[2].payload as RecordsChanged).records).toEqual([entry('DE')]);
    expect(events[3].payload).toEqual({ ...base, isLive: false, sessionId: sid, records: [entry('FR')] });
    expect(events[4].payload).toEqual({ ...base, sessionId: sid, mode: 'stream', operations: 0 });
    expect(new Date(events[0].occurredAt).toISOString()).toBe(events[0].occurredAt);
    await expectConsistent(connector);
  });

  it('stream: a batch of new records, then one mixing new, changed and unchanged ones (written first as inserts, then as upserts)', async () => {
    const connector = await createConnector(platform.admin, 'country', 'stream-mixed');
    const since = await outboxHighWater(platform.db);
    const sid = await open(connector, 'stream');
    await post(connector, sid, 'upsert', [country('GB'), country('FR')]);
    // GB changed, FR unchanged, ES new: the session meets existing records from here on.
    await post(connector, sid, 'upsert', [country('GB', 9), country('FR'), country('ES')]);
    await post(connector, sid, 'upsert', [country('PT'), country('ES', 3)]);
    await close(connector, sid, true);
    // A new session writes new records again, and meets an existing one in its second batch.
    const next = await open(connector, 'stream');
    await post(connector, next, 'upsert', [country('IE')]);
    await post(connector, next, 'upsert', [country('IE', 4), country('NL')]);
    await close(connector, next, true);

    const events = await eventsSince(connector, since);
    const named = events.filter((event) => event.subject === 'record.upserted').map((event) => (event.payload as RecordsChanged).records.map((r) => r.vendorId));
    expect(named).toEqual([['GB', 'FR'], ['GB', 'ES'], ['PT', 'ES'], ['IE'], ['IE', 'NL']]);
    const stored = await storedRecords(platform.db, connector.id);
    expect(stored.map((record) => [record.vendorId, record.document.entity.population])).toEqual([
      ['GB', 9],
      ['FR', 1000],
      ['ES', 3],
      ['PT', 1000],
      ['IE', 4],
      ['NL', 1000],
    ]);
    await expectConsistent(connector);
  });

  it('carries the connector’s live flag at the time of the change', async () => {
    const connector = connectors['stream-one'];
    expect((await platform.admin.post(`/entity/country/connector/stream-one/live`)).status).toBe(204);
    const since = await outboxHighWater(platform.db);
    const sid = await open(connector, 'stream');
    await post(connector, sid, 'upsert', [country('IT')]);
    await close(connector, sid, false);
    const events = await eventsSince(connector, since);
    expect(events.map((event) => event.subject)).toEqual(['session.opened', 'record.upserted', 'session.rolled-back']);
    expect((events[1].payload as RecordsChanged).isLive).toBe(true);
    await expectConsistent(connector);
  });

  it('accrue: no record event before the commit; a 3,000-operation commit gives upsert events of at most 1,000 records', async () => {
    const connector = connectors['accrue-one'];
    const since = await outboxHighWater(platform.db);
    const sid = await open(connector, 'accrue');
    for (let batch = 0; batch < 12; batch += 1) {
      await post(
        connector,
        sid,
        'upsert',
        Array.from({ length: 250 }, (_, i) => country(`V${batch * 250 + i}`, batch)),
      );
    }
    await tap.caughtUp(platform.db);
    expect((await eventsSince(connector, since)).map((event) => event.subject)).toEqual(['session.opened']);

    await close(connector, sid, true);
    const events = await eventsSince(connector, since);
    expectValid(events);
    const upserted = events.filter((event) => event.subject === 'record.upserted');
    expect(upserted.map((event) => (event.payload as RecordsChanged).records.length)).toEqual([1000, 1000, 1000]);
    expect(upserted.every((event) => (event.payload as RecordsChanged).sessionId === sid)).toBe(true);
    const stored = await storedRecords(platform.db, connector.id);
    expect(stored).toHaveLength(3000);
    expect(new Set(recordsOf(upserted).map((record) => record.publicId))).toEqual(new Set(stored.map((record) => record.publicId)));
    expect(recordsOf(upserted).every((record) => record.publicId === publicId(connector.id, record.vendorId))).toBe(true);
    const committed = events.filter((event) => event.subject === 'session.committed');
    expect(committed.map((event) => (event.payload as SessionChanged).operations)).toEqual([3000]);
    // The session's events come after its records' ones: all from one transaction, in order.
    expect(events[events.length - 1].subject).toBe('session.committed');
    await expectConsistent(connector);
  });

  it('accrue: deletions, changes, unchanged and new records in one commit; events name exactly what changed', async () => {
    const connector = connectors['accrue-one'];
    const since = await outboxHighWater(platform.db);
    const sid = await open(connector, 'accrue');
    const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `V${from + i}`);
    // V0–V1499 deleted (1,500), V1500–V1999 changed (500), V2000–V2499 unchanged, V3000–V3199 new (200).
    for (let from = 0; from < 1500; from += 250) await post(connector, sid, 'delete', ids(from, from + 250));
    for (let from = 1500; from < 2000; from += 250) await post(connector, sid, 'upsert', ids(from, from + 250).map((id) => country(id, 99)));
    for (let from = 2000; from < 2500; from += 250) {
      await post(connector, sid, 'upsert', ids(from, from + 250).map((id) => country(id, Math.floor(Number(id.slice(1)) / 250))));
    }
    await post(connector, sid, 'upsert', ids(3000, 3200).map((id) => country(id)));
    // An upsert then a delete of the same new id in the session: it never shows.
    await post(connector, sid, 'upsert', [country('ephemeral')]);
    await post(connector, sid, 'delete', ['ephemeral']);
    await close(connector, sid, true);

    const events = await eventsSince(connector, since);
    expectValid(events);
    const deleted = events.filter((event) => event.subject === 'record.deleted');
    const upserted = events.filter((event) => event.subject === 'record.upserted');
    expect(deleted.map((event) => (event.payload as RecordsChanged).records.length).sort()).toEqual([1000, 500].sort());
    expect(new Set(recordsOf(deleted).map((record) => record.vendorId))).toEqual(new Set(ids(0, 1500)));
    expect(upserted.map((event) => (event.payload as RecordsChanged).records.length)).toEqual([700]);
    expect(new Set(recordsOf(upserted).map((record) => record.vendorId))).toEqual(new Set([...ids(1500, 2000), ...ids(3000, 3200)]));
    expect((await storedRecords(platform.db, connector.id)).length).toBe(1500 + 200);
    expect(events.find((event) => event.subject === 'session.committed')?.payload).toMatchObject({ operations: 1500 + 500 + 500 + 200 + 2 });
    await expectConsistent(connector);
  });

  it('replace: the wiped records not sent again are deleted, new and changed ones upserted, unchanged ones silent', async () => {
    const connector = connectors['replace-one'];
    let sid = await open(connector, 'stream');
    await post(connector, sid, 'upsert', ['A', 'B', 'C', 'D'].map((id) => country(id)));
    await close(connector, sid, true);

    const since = await outboxHighWater(platform.db);
    sid = await open(connector, 'replace');
    await post(connector, sid, 'upsert', [country('A'), country('B', 2), country('E')]);
    await close(connector, sid, true);
    const events = await eventsSince(connector, since);
    expectValid(events);
    expect(events.map((event) => event.subject)).toEqual(['session.opened', 'record.upserted', 'record.deleted', 'session.committed']);
    expect(recordsOf(events.filter((event) => event.subject === 'record.upserted')).map((record) => record.vendorId).sort()).toEqual(['B', 'E']);
    expect(recordsOf(events.filter((event) => event.subject === 'record.deleted')).map((record) => record.vendorId).sort()).toEqual(['C', 'D']);
    await expectConsistent(connector);

    // An empty replace: everything deleted, and said so.
    const before = await outboxHighWater(platform.db);
    sid = await open(connector, 'replace');
    await close(connector, sid, true);
    const wiped = (await eventsSince(connector, before)).filter((event) => event.subject === 'record.deleted');
    expect(recordsOf(wiped).map((record) => record.vendorId).sort()).toEqual(['A', 'B', 'E']);
    expect(await storedRecords(platform.db, connector.id)).toEqual([]);
    await expectConsistent(connector);
  });

  it('rollbacks: close false and a new open emit session.rolled-back for the old session, and no record event', async () => {
    const connector = connectors['rollback-one'];
    const since = await outboxHighWater(platform.db);
    const first = await open(connector, 'accrue');
    await post(connector, first, 'upsert', [country('X')]);
    const second = await open(connector, 'replace');
    await post(connector, second, 'upsert', [country('Y')]);
    await close(connector, second, false);
    const events = await eventsSince(connector, since);
    expectValid(events);
    expect(events.map((event) => [event.subject, (event.payload as SessionChanged).sessionId, (event.payload as SessionChanged).mode])).toEqual([
      ['session.opened', first, 'accrue'],
      ['session.rolled-back', first, 'accrue'],
      ['session.opened', second, 'replace'],
      ['session.rolled-back', second, 'replace'],
    ]);
    expect(await storedRecords(platform.db, connector.id)).toEqual([]);
  });

  it('every event of the file is on JetStream, and the outbox is drained', async () => {
    await tap.caughtUp(platform.db);
    const { rows } = await platform.db.query(`SELECT count(*)::int AS n FROM outbox_event`);
    expect(rows[0].n).toBe(0);
    // Every event written (the outbox sequence, nothing rolled back in this file) reached the stream.
    expect(tap.events.length).toBe(await outboxHighWater(platform.db));
    // Ids are unique: JetStream de-duplicates re-publications by outbox id.
    const ids = tap.events.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
