import { ApiClient, TestEnvironment, describeWithInfrastructure, waitFor } from '@odb/testing';
import { compileQuery, fieldIndexExpressions } from '@odb/query';
import { CatalogDatabase } from '../src/catalog/catalog-database';
import { segmentScope, takeEqualities, takeType } from '../src/catalog/query-shape';
import { EntityTypeDirectory, describe as describeType } from '../src/catalog/entity-types';
import { indexedProperties, planIndexes, planStatistics } from '../src/indexes/type-index-plan';
import {
  ConsumerPlatform,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  expectStatus,
  publicId,
  q,
  startConsumerPlatform,
  typeIndexes,
  upsert,
  waitForTypeIndexes,
} from './consumer.support';

jest.setTimeout(180_000);

const PLACE_SCHEMA = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    population: { type: 'integer', minimum: 0 },
    elevation: { type: ['number', 'null'] },
    open: { type: 'boolean' },
    kind: { enum: ['town', 'village'] },
    location: { type: 'object', properties: { type: { const: 'Point' }, coordinates: { type: 'array' } } },
    area: { $ref: 'https://geojson.org/schema/Point.json' },
    tags: { type: 'array' },
    'bad name': { type: 'string' },
  },
};

/** What the coordinator accepts (it refuses unresolvable $refs): the same less `area`. */
const { area: _area, ...SERVED_PROPERTIES } = PLACE_SCHEMA.properties;
const SERVED_SCHEMA = { type: 'object', properties: SERVED_PROPERTIES };

describe('type index plan', () => {
  it('indexes declared numbers (json), strings (text) and GeoJSON points (point), nothing else', () => {
    expect(indexedProperties(PLACE_SCHEMA).map((property) => [property.name, property.kinds])).toEqual([
      ['area', ['point']],
      ['code', ['text']],
      ['elevation', ['json']],
      ['kind', ['text']],
      ['location', ['point']],
      ['population', ['json']],
    ]);
    expect(indexedProperties(PLACE_SCHEMA, 2).map((property) => property.name)).toEqual(['area', 'code']);
    expect(indexedProperties({})).toEqual([]);
    expect(indexedProperties({ properties: 'nonsense' })).toEqual([]);
  });

  it('plans partial indexes on the exact expressions the compiler generates, with deterministic names', () => {
    const plan = planIndexes({ id: 7, schema: PLACE_SCHEMA });
    expect(plan).toHaveLength(6);
    expect(planIndexes({ id: 7, schema: PLACE_SCHEMA })).toEqual(plan);
    const population = plan.find((index) => index.property === 'population')!;
    expect(population.name).toMatch(/^record_et_7_json_[0-9a-f]{12}$/);
    expect(population.create).toBe(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${population.name} ON record USING btree ((${fieldIndexExpressions('document', 'entity.population').json}), id) WHERE entity_type_id = 7`,
    );
    const location = plan.filter((index) => index.property === 'location');
    expect(location.map((index) => index.create.includes('USING gist'))).toEqual([true]);
    expect(location[0].create).toContain(fieldIndexExpressions('document', 'entity.location').point);
    // Another type, other names.
    expect(planIndexes({ id: 8, schema: PLACE_SCHEMA }).map((index) => index.name)).not.toContain(population.name);
  });
});

describe('query shape', () => {
  it('takes a top-level type equality out of a query', () => {
    expect(takeType({ type: 'place', 'entity.code': 'x' })).toEqual({ type: 'place', rest: { 'entity.code': 'x' } });
    expect(takeType({ type: { $eq: 'place' } })).toEqual({ type: 'place', rest: {} });
    expect(takeType({ type: { $ne: 'place' } })).toEqual({ rest: { type: { $ne: 'place' } } });
    expect(takeType({ type: 5 })).toEqual({ rest: { type: 5 } });
    expect(takeType({ $or: [{ type: 'place' }] })).toEqual({ rest: { $or: [{ type: 'place' }] } });
  });

  it('says when a segment lets a whole type through', () => {
    expect(segmentScope({})).toEqual({ all: true });
    expect(segmentScope({ type: 'place' })).toEqual({ type: 'place' });
    expect(segmentScope({ type: 'place', 'entity.x': 1 })).toBeNull();
    expect(segmentScope({ 'entity.x': 1 })).toBeNull();
  });

  it('turns top-level scalar equalities on indexed properties of the right kind into equalities on the indexed expressions', () => {
    const type = describeType({ id: 3, slug: 'place', schema: PLACE_SCHEMA });
    const take = (query: Record<string, unknown>) => {
      const { conditions, rest } = takeEqualities(query, type);
      return { conditions: conditions.map((condition) => condition.render(1)), rest };
    };
    const code = fieldIndexExpressions('r.document', 'entity.code');
    expect(take({ 'entity.code': 'P1', 'entity.population': 5, 'entity.elevation': { $eq: 1.5 }, name: 'x' })).toEqual({
      conditions: [
        { sql: `(${code.text} = $1::text AND jsonb_typeof(${code.json}) = 'string')`, params: ['P1'] },
        { sql: `${fieldIndexExpressions('r.document', 'entity.population').json} = $1::jsonb`, params: ['5'] },
        { sql: `${fieldIndexExpressions('r.document', 'entity.elevation').json} = $1::jsonb`, params: ['1.5'] },
      ],
      rest: { name: 'x' },
    });
    const untouched = { 'entity.code': 5, 'entity.population': 'five', 'entity.open': true, 'entity.tags': ['a'], 'entity.code.deeper': 'x', 'entity.kind': null };
    expect(take(untouched)).toEqual({ conditions: [], rest: untouched });
    expect(take({ 'entity.population': { $gt: 5 } })).toEqual({ conditions: [], rest: { 'entity.population': { $gt: 5 } } });
  });
});

/**
 * The per-type indexes in a running service: built when a type is created,
 * rebuilt when its schema changes, dropped with it, and used by the catalog
 * queries (checked with EXPLAIN on the SQL the service really runs).
 */
describeWithInfrastructure('consumer-query: per-type indexes', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let consumer: ApiClient;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startConsumerPlatform(env);
    await createType(platform.admin, 'place', { schema: SERVED_SCHEMA });
    await createType(platform.admin, 'plain');
    const gazetteer = await createConnector(platform.admin, 'place', 'gazetteer');
    await upsert(
      platform.contributor,
      gazetteer,
      Array.from({ length: 3000 }, (_, i) => ({
        id: `p${i}`,
        name: `Place ${i}`,
        entity: {
          code: `C${String(i).padStart(5, '0')}`,
          population: i * 10,
          elevation: i % 7 === 0 ? null : i / 3,
          kind: i % 2 ? 'town' : 'village',
          location: { type: 'Point', coordinates: [-5 + (i % 100) / 10, 42 + Math.floor(i / 100) / 4] },
        },
      })),
    );
    await createPolicy(platform.admin, 'all');
    await createPolicy(platform.admin, 'places', { segment: { type: 'place' } });
    consumer = consumerAs(platform.api, 'all');
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  it('builds the planned indexes when a type is created (none for a type without declared properties)', async () => {
    const indexes = await waitForTypeIndexes(platform.db, 'place', 5);
    const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
    expect(indexes.map((index) => index.name).sort()).toEqual(planIndexes({ id, schema: SERVED_SCHEMA }).map((index) => index.name).sort());
    for (const index of indexes) expect(index.definition).toContain(`WHERE (entity_type_id = ${id})`);
    expect(await typeIndexes(platform.db, 'plain')).toEqual([]);
  });

  async function plan(query: Record<string, unknown>, settings = 'SET enable_seqscan = off; SET enable_indexscan = off'): Promise<string> {
    const db = platform.consumer.app.get(CatalogDatabase);
    const spy = jest.spyOn(db, 'query');
    try {
      expect((await consumer.get(q(query))).status).toBe(200);
      const [text, values] = spy.mock.calls.find(([sql]) => sql.includes('ORDER BY r.id'))!;
      const client = await db.connect();
      try {
        // The tables are small: forbid the plain scans so that the cheapest index on a condition must show.
        await client.query(settings);
        const { rows } = await client.query(`EXPLAIN ${text}`, values);
        return rows.map((row) => row['QUERY PLAN']).join('\n');
      } finally {
        await client.query('RESET enable_seqscan; RESET enable_indexscan; RESET enable_sort');
        client.release();
      }
    } finally {
      spy.mockRestore();
    }
  }

  it('serves range, $in, equality and geo conditions of a typed catalog query from them', async () => {
    const index = async (kind: string, property: string) => {
      const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
      return planIndexes({ id, schema: SERVED_SCHEMA }).find((planned) => planned.kind === kind && planned.property === property)!.name;
    };
    await waitForTypeIndexes(platform.db, 'place', 5);
    await platform.db.query('ANALYZE record');
    expect(await plan({ type: 'place', 'entity.population': { $gte: 100, $lt: 200 } })).toContain(await index('json', 'population'));
    expect(await plan({ type: 'place', 'entity.population': { $in: [10, 20, 30] } })).toContain(await index('json', 'population'));
    expect(await plan({ type: 'place', 'entity.code': { $gt: 'C02990' } })).toContain(await index('text', 'code'));
    expect(await plan({ type: 'place', 'entity.code': 'C00042' })).toContain(await index('text', 'code'));
    expect(
      await plan({ type: 'place', 'entity.location': { $near: { $geometry: { type: 'Point', coordinates: [-4, 42] }, $max: 5000 } } }),
    ).toContain(await index('point', 'location'));
    const square = { type: 'Polygon', coordinates: [[[-5, 42], [-4.9, 42], [-4.9, 42.1], [-5, 42.1], [-5, 42]]] };
    expect(await plan({ type: 'place', 'entity.location': { $within: { $geometry: square } } })).toContain(await index('point', 'location'));
  });

  it('gives the planner dependency statistics for each indexed string property, so that it estimates typed equalities', async () => {
    const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
    await waitForTypeIndexes(platform.db, 'place', 5);
    const planned = planStatistics({ id, schema: SERVED_SCHEMA });
    expect(planned.map((statistics) => statistics.property).sort()).toEqual(['code', 'kind']);
    const { rows } = await platform.db.query(
      `SELECT stxname AS name, stxkind::text[] AS kinds, pg_get_statisticsobjdef_expressions(oid)::text AS expressions
         FROM pg_statistic_ext WHERE stxrelid = 'record'::regclass AND starts_with(stxname, $1)`,
      [`record_et_${id}_`],
    );
    expect(rows.map((row) => row.name).sort()).toEqual(planned.map((statistics) => statistics.name).sort());
    for (const row of rows) expect(row.kinds).toEqual(['f', 'e']);
    expect(rows.map((row) => row.expressions).join(' ')).toContain(`jsonb_typeof((document #> '{entity,code}'::text[]))`);
  });

  it('reads a page of an equality in insertion order straight from the index, without sorting the matches', async () => {
    const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
    const code = planIndexes({ id, schema: SERVED_SCHEMA }).find((planned) => planned.kind === 'text' && planned.property === 'code')!.name;
    await waitForTypeIndexes(platform.db, 'place', 5);
    const explained = await plan({ type: 'place', 'entity.code': 'C00042' }, 'SET enable_seqscan = off; SET enable_sort = off');
    expect(explained).toContain(`Index Scan using ${code}`);
    expect(explained).not.toContain('Sort');
  });

  it('answers rewritten equalities exactly as containment would, whatever the stored values', async () => {
    // Values the schema forbids, as records written under an earlier schema would hold: written directly.
    const edges = await createConnector(platform.admin, 'place', 'edges');
    const records = [
      { id: 'e1', name: 'string 5', entity: { code: '5', population: 5 } },
      { id: 'e2', name: 'number 5', entity: { code: 5, population: 5.0 } },
      { id: 'e3', name: 'array', entity: { code: ['5'], population: [5] } },
      { id: 'e4', name: 'object', entity: { code: { value: '5' }, population: { value: 5 } } },
      { id: 'e5', name: 'text 5', entity: { code: 'C5', population: '5' } },
      { id: 'e6', name: 'nothing', entity: {} },
      { id: 'e7', name: 'bool', entity: { code: true, population: false } },
    ];
    for (const record of records) {
      await platform.db.query(
        `INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT $1, c.id, c.entity_type_id, $2, $3, $4 FROM connector c WHERE c.contribution_id = $5`,
        [publicId(edges.id, record.id), record.id, record.name, { ...record, type: 'place', timeseries: {} }, edges.id],
      );
    }
    for (const condition of [
      { 'entity.code': '5' },
      { 'entity.code': { $eq: '5' } },
      { 'entity.code': 'C5' },
      { 'entity.population': 5 },
      { 'entity.population': 5.0 },
      { 'entity.population': { $eq: 5 } },
      { 'entity.population': '5' },
      { 'entity.code': '5', 'entity.population': 5 },
    ]) {
      // The query library's containment decides; the service answers typed and untyped queries with the rewritten equality.
      const contained = (await matchingEverywhere(condition, 250, 0)).map(([id]) => id);
      const typed = (await consumer.get(q({ type: 'place', ...condition }))).body.map((item: { id: string }) => item.id);
      const untyped = (await consumer.get(q(condition))).body.map((item: { id: string }) => item.id);
      expect({ condition, typed, untyped }).toEqual({ condition, typed: contained, untyped: contained });
    }
    expect((await consumer.get(q({ type: 'place', 'entity.code': '5' }))).body.map((item: { name: string }) => item.name)).toEqual(['string 5']);
    expect((await consumer.get(q({ type: 'place', 'entity.population': 5 }))).body.map((item: { name: string }) => item.name)).toEqual(['string 5', 'number 5']);
  });

  it("answers the same with the type taken from the query or from the segment", async () => {
    const asked = (await consumer.get(q({ type: 'place', 'entity.population': { $gte: 0, $lt: 50 } }))).body;
    expect(asked.map((item: { name: string }) => item.name)).toEqual(['Place 0', 'Place 1', 'Place 2', 'Place 3', 'Place 4', 'string 5', 'number 5']);
    expect((await consumerAs(platform.api, 'places').get(q({ 'entity.population': { $gte: 0, $lt: 50 } }))).body).toEqual(
      asked.map((item: object) => ({ ...item, legal: [] })),
    );
    expect((await consumerAs(platform.api, 'places').get(q({ type: 'plain' }))).body).toEqual([]);
  });

  /** [public id, type] of the records matching a query over every record, as the query library compiles it, in BitBroker's order. */
  async function matchingEverywhere(query: Record<string, unknown>, limit: number, offset: number): Promise<string[][]> {
    const where = compileQuery(query, { column: 'r.document', whenEmpty: 'none' });
    const { rows } = await platform.db.query(
      `SELECT r.public_id, t.slug FROM record r JOIN entity_type t ON t.id = r.entity_type_id
        WHERE ${where.sql} ORDER BY r.id LIMIT $${where.params.length + 1} OFFSET $${where.params.length + 2}`,
      [...where.params, limit, offset],
    );
    return rows.map((row) => [row.public_id, row.slug]);
  }

  async function answered(query: Record<string, unknown>, limit: number, offset: number): Promise<string[][]> {
    const { status, body } = await consumer.get(`${q(query)}&limit=${limit}&offset=${offset}`);
    expect({ query, status, body: status === 200 ? 'records' : body }).toEqual({ query, status: 200, body: 'records' });
    return body.map((item: { id: string; type: string }) => [item.id, item.type]);
  }

  describe('a catalog query that names no type', () => {
    beforeAll(async () => {
      // Records of three types, interleaved in insertion order: one indexing population like place, one without a schema.
      await createType(platform.admin, 'town', { schema: { type: 'object', properties: { population: { type: 'integer' } } } });
      const towns = await createConnector(platform.admin, 'town', 'towns');
      const plains = await createConnector(platform.admin, 'plain', 'plains');
      for (let round = 0; round < 4; round += 1) {
        await upsert(platform.contributor, towns, Array.from({ length: 10 }, (_, i) => ({ id: `t${round}-${i}`, name: `Town ${round}-${i}`, entity: { population: round * 40 + i * 4 } })));
        await upsert(platform.contributor, plains, Array.from({ length: 10 }, (_, i) => ({ id: `x${round}-${i}`, name: `Plain ${round}-${i}`, entity: { population: round * 40 + i * 4 + 2, code: `C0004${i}` } })));
      }
      await waitForTypeIndexes(platform.db, 'town', 1);
      await platform.db.query('ANALYZE record');
    });

    it('is answered exactly as one query over every record would be, page after page', async () => {
      for (const query of [
        { 'entity.population': { $gte: 0, $lt: 200 } },
        { 'entity.population': 40 },
        { 'entity.population': { $in: [8, 10, 42, 120] } },
        { 'entity.code': 'C00042' },
        { 'entity.code': { $gte: 'C00040', $lt: 'C00046' }, name: { $regex: '^(Place|Plain) ' } },
        { 'entity.population': { $gt: 100 }, 'entity.code': { $ne: 'C00041' } },
      ]) {
        for (const [limit, offset] of [[250, 0], [7, 0], [7, 7], [7, 21], [5, 60]]) {
          expect({ query, limit, offset, records: await answered(query, limit, offset) }).toEqual({
            query,
            limit,
            offset,
            records: await matchingEverywhere(query, limit, offset),
          });
        }
      }
      // Several types answer the first of them.
      expect(new Set((await answered({ 'entity.population': { $gte: 0, $lt: 200 } }, 250, 0)).map(([, type]) => type))).toEqual(
        new Set(['place', 'town', 'plain']),
      );
    });

    it("runs one query per type, each on its type's indexes", async () => {
      const [{ id: placeId }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
      const [{ id: townId }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'town'`)).rows;
      const population = (id: number, schema: object) => planIndexes({ id, schema }).find((planned) => planned.property === 'population')!.name;
      const explained = await plan({ 'entity.population': { $gte: 100, $lt: 200 } });
      expect(explained).toContain(population(placeId, SERVED_SCHEMA));
      expect(explained).toContain(population(townId, { properties: { population: { type: 'integer' } } }));
    });

    it('finds the records of a type created after the service last listed the types', async () => {
      const directory = platform.consumer.app.get(EntityTypeDirectory);
      const before = await directory.all();
      await createType(platform.admin, 'hamlet', { schema: { type: 'object', properties: { population: { type: 'integer' } } } });
      const hamlets = await createConnector(platform.admin, 'hamlet', 'hamlets');
      await upsert(platform.contributor, hamlets, [{ id: 'h1', name: 'Hamlet 1', entity: { population: 41 } }]);
      const stale = jest.spyOn(directory, 'all').mockResolvedValue(before); // as if the type's creation had not reached this replica yet
      try {
        const query = { 'entity.population': { $gte: 38, $lte: 42 } };
        const records = await answered(query, 250, 0);
        expect(records.map(([, type]) => type)).toContain('hamlet');
        expect(records).toEqual(await matchingEverywhere(query, 250, 0));
        expect(stale).toHaveBeenCalled();
      } finally {
        stale.mockRestore();
      }
    });
  });

  it('follows schema changes: new properties get indexes, dropped ones lose them', async () => {
    const schema = { type: 'object', properties: { code: { type: 'string' }, rank: { type: 'number' } } };
    await expectStatus(
      platform.admin.put('/entity/place', { name: 'place', description: 'The place type', schema, timeseries: {} }),
      204,
      'updating the type',
    );
    const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
    const expected = planIndexes({ id, schema }).map((index) => index.name).sort();
    await waitFor(async () => JSON.stringify((await typeIndexes(platform.db, 'place')).map((index) => index.name).sort()) === JSON.stringify(expected), {
      timeoutMs: 30_000,
      what: 'indexes of the new schema',
    });
    // Queries still answer (code kept its index, population lost it).
    expect((await consumer.get(q({ type: 'place', 'entity.population': { $gte: 0, $lt: 20 } }))).body).toHaveLength(4);
  });

  it('drops the indexes and statistics objects of a deleted type', async () => {
    const [{ id }] = (await platform.db.query(`SELECT id FROM entity_type WHERE slug = 'place'`)).rows;
    await expectStatus(platform.admin.delete('/entity/place'), 204, 'deleting the type');
    await waitFor(async () => (await platform.db.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE starts_with(indexname, $1)`, [`record_et_${id}_`])).rows[0].n === 0, {
      timeoutMs: 30_000,
      what: 'no index of the type left',
    });
    await waitFor(async () => (await platform.db.query(`SELECT count(*)::int AS n FROM pg_statistic_ext WHERE starts_with(stxname, $1)`, [`record_et_${id}_`])).rows[0].n === 0, {
      timeoutMs: 30_000,
      what: 'no statistics object of the type left',
    });
    // The other types keep theirs.
    expect(await typeIndexes(platform.db, 'town')).toHaveLength(1);
    expect((await consumer.get(q({ type: 'place' }))).body).toEqual([]);
  });
});
