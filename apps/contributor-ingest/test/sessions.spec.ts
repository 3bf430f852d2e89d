import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  CreatedConnector,
  EventTap,
  IngestPlatform,
  bufferedOperations,
  connectorRow,
  country,
  countryType,
  createConnector,
  createEntityType,
  inSession,
  outboxHighWater,
  publicId,
  recordsOf,
  siteType,
  startIngestPlatform,
  storedRecords,
  vendorIds,
} from './ingest.support';
import { SessionStore } from '../src/sessions/session-store';

/**
 * Sessions of the Contributor API (BitBroker section 3) with what they leave
 * in the `record` table: stream applies each batch at once, accrue on commit,
 * replace wipes the connector's records then applies; one session per
 * connector; a connector only ever touches its own records.
 */
describeWithInfrastructure('contributor-ingest: sessions', () => {
  let env: TestEnvironment;
  let platform: IngestPlatform;
  let api: ApiClient;
  let tap: EventTap;
  // Several types and connectors, so that entity type ids and connector ids differ.
  let wikipedia: CreatedConnector;
  let factbook: CreatedConnector;
  let unesco: CreatedConnector;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startIngestPlatform(env);
    api = platform.api;
    await createEntityType(platform.admin, 'placeholder', siteType);
    await createEntityType(platform.admin, 'heritage-site', siteType);
    await createEntityType(platform.admin, 'country', countryType);
    unesco = await createConnector(platform.admin, 'heritage-site', 'unesco');
    wikipedia = await createConnector(platform.admin, 'country', 'wikipedia');
    factbook = await createConnector(platform.admin, 'country', 'factbook');
    tap = await EventTap.start(env);
  });

  afterAll(async () => {
    await tap?.stop();
    await platform?.close();
    await env?.dispose();
  });

  const session = (connector: CreatedConnector) => `/connector/${connector.id}/session`;

  async function open(connector: CreatedConnector, mode: string): Promise<string> {
    const { status, body, headers } = await api.get(`${session(connector)}/open/${mode}`);
    expect(status).toBe(200);
    expect(headers.get('content-type')).toContain('application/json');
    expect(body).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    return body;
  }

  async function upsert(connector: CreatedConnector, sid: string, records: object[]) {
    const response = await api.post(`${session(connector)}/${sid}/upsert`, records);
    expect(response.status).toBe(200);
    return response.body as Record<string, string>;
  }

  async function remove(connector: CreatedConnector, sid: string, ids: string[]) {
    const response = await api.post(`${session(connector)}/${sid}/delete`, ids);
    expect(response.status).toBe(200);
    return response.body as Record<string, string>;
  }

  async function close(connector: CreatedConnector, sid: string, commit: boolean) {
    const response = await api.get(`${session(connector)}/${sid}/close/${commit}`);
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
  }

  /** Replaces all of a connector's records with these, through a replace session. */
  async function reset(connector: CreatedConnector, records: object[] = []) {
    const sid = await open(connector, 'replace');
    if (records.length > 0) await upsert(connector, sid, records);
    await close(connector, sid, true);
  }

  describe('stream', () => {
    beforeAll(() => reset(wikipedia));

    it('applies each batch at once, with the stored document, the right connector and type, and answers {vendor: public}', async () => {
      const sid = await open(wikipedia, 'stream');
      const gb = country('GB', 66_040_229, { instance: { independence: 1066 } });
      const ids = await upsert(wikipedia, sid, [gb, country('FR', 67_000_000)]);
      expect(ids).toEqual({ GB: publicId(wikipedia.id, 'GB'), FR: publicId(wikipedia.id, 'FR') });

      const stored = await storedRecords(platform.db, wikipedia.id);
      const owner = await connectorRow(platform.db, wikipedia.id);
      expect(stored.map((record) => [record.vendorId, record.publicId, record.name, record.connectorId, record.entityTypeId])).toEqual([
        ['GB', publicId(wikipedia.id, 'GB'), 'Country GB', owner.id, owner.entityTypeId],
        ['FR', publicId(wikipedia.id, 'FR'), 'Country FR', owner.id, owner.entityTypeId],
      ]);
      // The document consumers query: the record plus its type and the type's timeseries.
      expect(stored[0].document).toEqual({
        id: 'GB',
        name: 'Country GB',
        type: 'country',
        entity: gb.entity,
        instance: { independence: 1066 },
        timeseries: countryType.timeseries,
      });
      expect(stored[1].document).not.toHaveProperty('instance');

      expect(await remove(wikipedia, sid, ['FR', 'nowhere'])).toEqual({ FR: publicId(wikipedia.id, 'FR'), nowhere: publicId(wikipedia.id, 'nowhere') });
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB']);
      expect(await bufferedOperations(platform.db)).toBe(0);
      await close(wikipedia, sid, true);
    });

    it('close false changes nothing more: what was streamed stays', async () => {
      const sid = await open(wikipedia, 'stream');
      await upsert(wikipedia, sid, [country('DE')]);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'DE']);
      await close(wikipedia, sid, false);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'DE']);
      expect(await inSession(platform.admin, wikipedia)).toBe(false);
    });

    it('close true changes nothing more either', async () => {
      const before = await storedRecords(platform.db, wikipedia.id);
      const sid = await open(wikipedia, 'stream');
      await close(wikipedia, sid, true);
      expect(await storedRecords(platform.db, wikipedia.id)).toEqual(before);
    });

    it('applies an upsert of a known id as an update, keeping its place in the order', async () => {
      const sid = await open(wikipedia, 'stream');
      await upsert(wikipedia, sid, [country('GB', 1)]);
      const stored = await storedRecords(platform.db, wikipedia.id);
      expect(stored.map((record) => record.vendorId)).toEqual(['GB', 'DE']);
      expect(stored[0].document.entity.population).toBe(1);
      await close(wikipedia, sid, true);
    });
  });

  describe('accrue', () => {
    beforeAll(() => reset(wikipedia, [country('GB'), country('FR'), country('DE')]));

    it('buffers operations and applies them all on close true, in order', async () => {
      const sid = await open(wikipedia, 'accrue');
      await upsert(wikipedia, sid, [country('IT'), country('ES')]);
      await remove(wikipedia, sid, ['FR', 'ES']);
      await upsert(wikipedia, sid, [country('GB', 5), country('PT')]);
      // Deleted, then back: it moves to the end of the insertion order, as sequential application would.
      await remove(wikipedia, sid, ['DE']);
      await upsert(wikipedia, sid, [country('DE', 7)]);

      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'FR', 'DE']);
      expect(await bufferedOperations(platform.db, sid)).toBe(8);
      expect(await inSession(platform.admin, wikipedia)).toBe(true);

      await close(wikipedia, sid, true);
      const stored = await storedRecords(platform.db, wikipedia.id);
      const owner = await connectorRow(platform.db, wikipedia.id);
      expect(stored.map((record) => record.vendorId)).toEqual(['GB', 'IT', 'PT', 'DE']);
      expect(stored.every((record) => record.connectorId === owner.id && record.entityTypeId === owner.entityTypeId)).toBe(true);
      expect(stored.every((record) => record.publicId === publicId(wikipedia.id, record.vendorId))).toBe(true);
      expect(stored.find((record) => record.vendorId === 'GB')?.document.entity.population).toBe(5);
      expect(stored.find((record) => record.vendorId === 'DE')?.document.entity.population).toBe(7);
      expect(await bufferedOperations(platform.db)).toBe(0);
      expect(await inSession(platform.admin, wikipedia)).toBe(false);
    });

    it('discards the buffered operations on close false', async () => {
      const before = await storedRecords(platform.db, wikipedia.id);
      const sid = await open(wikipedia, 'accrue');
      await upsert(wikipedia, sid, [country('NL'), country('GB', 99)]);
      await remove(wikipedia, sid, ['IT']);
      await close(wikipedia, sid, false);
      expect(await storedRecords(platform.db, wikipedia.id)).toEqual(before);
      expect(await bufferedOperations(platform.db)).toBe(0);
      expect(await inSession(platform.admin, wikipedia)).toBe(false);
    });

    it('commits deletions of records the connector already had, and ignores unknown ids', async () => {
      const sid = await open(wikipedia, 'accrue');
      await remove(wikipedia, sid, ['IT', 'PT', 'XX']);
      await close(wikipedia, sid, true);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'DE']);
    });
  });

  describe('replace', () => {
    beforeAll(() => reset(wikipedia, [country('GB'), country('FR'), country('DE')]));

    it('wipes the connector records, then applies the session', async () => {
      const sid = await open(wikipedia, 'replace');
      await upsert(wikipedia, sid, [country('FR', 2), country('NL')]);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'FR', 'DE']);
      await close(wikipedia, sid, true);
      const stored = await storedRecords(platform.db, wikipedia.id);
      expect(stored.map((record) => record.vendorId)).toEqual(['FR', 'NL']);
      expect(stored[0].document.entity.population).toBe(2);
    });

    it('changes nothing on close false', async () => {
      const before = await storedRecords(platform.db, wikipedia.id);
      const sid = await open(wikipedia, 'replace');
      await upsert(wikipedia, sid, [country('BE')]);
      await close(wikipedia, sid, false);
      expect(await storedRecords(platform.db, wikipedia.id)).toEqual(before);
      expect(await bufferedOperations(platform.db)).toBe(0);
    });

    it('deletes everything when an empty session is committed', async () => {
      const sid = await open(wikipedia, 'replace');
      await close(wikipedia, sid, true);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual([]);
    });
  });

  describe('one session per connector', () => {
    beforeAll(() => reset(wikipedia, [country('GB')]));

    it('shows the session on the coordinator read-back (in_session)', async () => {
      expect(await inSession(platform.admin, wikipedia)).toBe(false);
      const sid = await open(wikipedia, 'accrue');
      expect(await inSession(platform.admin, wikipedia)).toBe(true);
      await close(wikipedia, sid, false);
      expect(await inSession(platform.admin, wikipedia)).toBe(false);
    });

    it('a new open discards the old session’s operations; the old sid then gets 401 everywhere', async () => {
      const first = await open(wikipedia, 'accrue');
      await upsert(wikipedia, first, [country('FR'), country('DE')]);
      expect(await bufferedOperations(platform.db, first)).toBe(2);

      const second = await open(wikipedia, 'accrue');
      expect(second).not.toBe(first);
      expect(await bufferedOperations(platform.db, first)).toBe(0);

      for (const response of [
        await api.post(`${session(wikipedia)}/${first}/upsert`, [country('XX')]),
        await api.post(`${session(wikipedia)}/${first}/delete`, ['GB']),
        await api.get(`${session(wikipedia)}/${first}/close/true`),
      ]) {
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ error: { code: 401, status: 'Unauthorized', message: '' } });
      }
      await upsert(wikipedia, second, [country('NL')]);
      await close(wikipedia, second, true);
      // Nothing of the first session was applied.
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'NL']);
      // A closed session's id is refused too.
      expect((await api.get(`${session(wikipedia)}/${second}/close/true`)).status).toBe(401);
    });

    it('a stream write checked against a session that a new open has since replaced writes nothing and is refused', async () => {
      // The window between the service's session check and its write, made wide: the write path itself re-checks.
      const store = platform.ingest.app.get(SessionStore);
      const first = await open(factbook, 'stream');
      const checked = (await store.findTarget(factbook.id))!;
      expect(checked.sessionId).toBe(first);
      const second = await open(factbook, 'stream');
      const record = { vendorId: 'LATE', publicId: publicId(factbook.id, 'LATE'), name: 'Late', document: { id: 'LATE' } };
      expect(await store.upsertNow(checked, [record])).toBeNull();
      expect(await store.deleteNow(checked, [record])).toBeNull();
      expect(await vendorIds(platform.db, factbook.id)).toEqual([]);
      await close(factbook, second, false);
    });

    it('sessions of different connectors are independent', async () => {
      const a = await open(wikipedia, 'accrue');
      const b = await open(factbook, 'accrue');
      await upsert(wikipedia, a, [country('AT')]);
      await upsert(factbook, b, [country('AT')]);
      // The sid belongs to its connector.
      expect((await api.post(`${session(factbook)}/${a}/upsert`, [country('CH')])).status).toBe(401);
      await close(factbook, b, false);
      await close(wikipedia, a, true);
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB', 'NL', 'AT']);
      expect(await vendorIds(platform.db, factbook.id)).toEqual([]);
    });
  });

  describe('duplicate ids in a batch', () => {
    beforeEach(() => reset(wikipedia));

    for (const mode of ['stream', 'accrue', 'replace']) {
      it(`${mode}: the last one wins, at the first one’s place`, async () => {
        const sid = await open(wikipedia, mode);
        const ids = await upsert(wikipedia, sid, [country('A', 1), country('B', 2), country('A', 3)]);
        expect(ids).toEqual({ A: publicId(wikipedia.id, 'A'), B: publicId(wikipedia.id, 'B') });
        await close(wikipedia, sid, true);
        const stored = await storedRecords(platform.db, wikipedia.id);
        expect(stored.map((record) => [record.vendorId, record.document.entity.population])).toEqual([
          ['A', 3],
          ['B', 2],
        ]);
      });
    }

    it('duplicate ids in a delete batch are answered once', async () => {
      const sid = await open(wikipedia, 'stream');
      await upsert(wikipedia, sid, [country('A')]);
      expect(await remove(wikipedia, sid, ['A', 'A'])).toEqual({ A: publicId(wikipedia.id, 'A') });
      expect(await vendorIds(platform.db, wikipedia.id)).toEqual([]);
      await close(wikipedia, sid, true);
    });
  });

  describe('a connector only touches its own records', () => {
    beforeAll(async () => {
      await reset(wikipedia, [country('GB'), country('FR')]);
      await reset(factbook, [country('GB', 42)]);
    });

    it('the same vendor id under two connectors is two records with different public ids', async () => {
      const [a] = await storedRecords(platform.db, wikipedia.id);
      const [b] = await storedRecords(platform.db, factbook.id);
      expect(a.vendorId).toBe('GB');
      expect(b.vendorId).toBe('GB');
      expect(a.publicId).toBe(publicId(wikipedia.id, 'GB'));
      expect(b.publicId).toBe(publicId(factbook.id, 'GB'));
      expect(a.publicId).not.toBe(b.publicId);
      expect(b.document.entity.population).toBe(42);
    });

    it('deletes (stream and accrue) and replace commits of one connector leave the other’s records alone', async () => {
      const other = await storedRecords(platform.db, wikipedia.id);
      const stream = await open(factbook, 'stream');
      await remove(factbook, stream, ['GB', 'FR']);
      await close(factbook, stream, true);
      const accrue = await open(factbook, 'accrue');
      await upsert(factbook, accrue, [country('FR', 3)]);
      await remove(factbook, accrue, ['GB']);
      await close(factbook, accrue, true);
      await reset(factbook, [country('DE')]);
      expect(await storedRecords(platform.db, wikipedia.id)).toEqual(other);
      expect(await vendorIds(platform.db, factbook.id)).toEqual(['DE']);
    });

    it('records of a connector of another entity type get that type', async () => {
      const sid = await open(unesco, 'accrue');
      await upsert(unesco, sid, [{ id: 'GB', name: 'Stonehenge', entity: { anything: ['goes'] } }]);
      await close(unesco, sid, true);
      const [record] = await storedRecords(platform.db, unesco.id);
      const owner = await connectorRow(platform.db, unesco.id);
      expect(record).toMatchObject({ vendorId: 'GB', publicId: publicId(unesco.id, 'GB'), connectorId: owner.id, entityTypeId: owner.entityTypeId });
      expect(record.document).toEqual({ id: 'GB', name: 'Stonehenge', type: 'heritage-site', entity: { anything: ['goes'] }, timeseries: {} });
    });
  });

  describe('unchanged records are not rewritten', () => {
    beforeAll(() => reset(wikipedia, [country('GB', 10), country('FR', 20)]));

    for (const mode of ['stream', 'accrue']) {
      it(`${mode}: re-upserting the same content keeps updated_at and emits no record event`, async () => {
        const before = await storedRecords(platform.db, wikipedia.id);
        const highWater = await outboxHighWater(platform.db);
        const sid = await open(wikipedia, mode);
        await upsert(wikipedia, sid, [country('GB', 10), country('FR', 20)]);
        await close(wikipedia, sid, true);
        expect(await storedRecords(platform.db, wikipedia.id)).toEqual(before);
        await tap.caughtUp(platform.db);
        const events = tap.forConnector(wikipedia.id, highWater);
        // Only the session's own events.
        expect(events.map((event) => event.subject)).toEqual(['session.opened', 'session.committed']);
      });
    }

    it('a changed record gets a new updated_at and one record.upserted naming only it', async () => {
      const before = await storedRecords(platform.db, wikipedia.id);
      const highWater = await outboxHighWater(platform.db);
      const sid = await open(wikipedia, 'stream');
      await upsert(wikipedia, sid, [country('GB', 10), country('FR', 21)]);
      await close(wikipedia, sid, true);
      const after = await storedRecords(platform.db, wikipedia.id);
      expect(after[0]).toEqual(before[0]);
      expect(after[1].updatedAt.getTime()).toBeGreaterThan(before[1].updatedAt.getTime());
      await tap.caughtUp(platform.db);
      const upserted = tap.forConnector(wikipedia.id, highWater).filter((event) => event.subject === 'record.upserted');
      expect(recordsOf(upserted)).toEqual([{ publicId: publicId(wikipedia.id, 'FR'), vendorId: 'FR' }]);
    });
  });

  it('accepts upper-case mode, action and commit (they are lower-cased)', async () => {
    await reset(wikipedia);
    const sid = await open(wikipedia, 'STREAM');
    expect((await api.post(`${session(wikipedia)}/${sid}/UPSERT`, [country('GB')])).status).toBe(200);
    expect((await api.get(`${session(wikipedia)}/${sid}/close/TRUE`)).status).toBe(200);
    expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB']);
  });

  it('deleting a connector deletes its records and only its records; deleting the type deletes the rest', async () => {
    await createEntityType(platform.admin, 'island', countryType);
    const [north, south] = [await createConnector(platform.admin, 'island', 'north'), await createConnector(platform.admin, 'island', 'south')];
    for (const connector of [north, south]) {
      const sid = await open(connector, 'stream');
      await upsert(connector, sid, [country('A'), country('B')]);
      await close(connector, sid, true);
    }
    const { entityTypeId: typeId } = await connectorRow(platform.db, north.id);
    const count = async () => (await platform.db.query(`SELECT count(*)::int AS n FROM record WHERE entity_type_id = $1`, [typeId])).rows[0].n;
    // What consumers page through: the per-type record counts follow the deletions too.
    const counted = async () =>
      (await platform.db.query(`SELECT coalesce(sum(n), 0)::int AS n FROM record_bucket WHERE entity_type_id = $1 AND level = 0`, [typeId])).rows[0].n;
    expect([await count(), await counted()]).toEqual([4, 4]);

    expect((await platform.admin.delete('/entity/island/connector/north')).status).toBe(204);
    expect(await vendorIds(platform.db, north.id)).toEqual([]);
    expect(await vendorIds(platform.db, south.id)).toEqual(['A', 'B']);
    expect([await count(), await counted()]).toEqual([2, 2]);

    expect((await platform.admin.delete('/entity/island')).status).toBe(204);
    expect([await count(), await counted()]).toEqual([0, 0]);
  });

  it('accepts an empty batch and answers {}', async () => {
    const sid = await open(wikipedia, 'stream');
    expect(await upsert(wikipedia, sid, [])).toEqual({});
    expect(await remove(wikipedia, sid, [])).toEqual({});
    await close(wikipedia, sid, true);
    expect(await vendorIds(platform.db, wikipedia.id)).toEqual(['GB']);
  });
});
