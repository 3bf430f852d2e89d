import { Client } from 'pg';
import { TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { QueryError, QueryErrorReason, and, compileQuery, fieldIndexExpressions, parseQuery } from './index';
import { COUNTRIES, HERITAGE_SITES, RecordDocument } from './test/catalog-fixture';

/**
 * Runs compiled queries against real PostgreSQL + PostGIS over a small catalog modelled
 * on BitBroker's test data, mirroring the "catalog api tests" of BitBroker's
 * tests/consumer.js (same queries, expectations restricted to this subset).
 */

const GEOGRAPHY = {
  BIG_BEN: { type: 'Point', coordinates: [-3.435973, 55.378051] },
  BRITISH_ISLES: {
    type: 'Polygon',
    coordinates: [
      [
        [-12.386341, 59.062341],
        [-12.386341, 49.952269],
        [2.500282, 49.952269],
        [2.500282, 59.062341],
        [-12.386341, 59.062341],
      ],
    ],
  },
};

/** Records that break naive SQL: odd geometry, odd types, missing fields, quotes, newlines. */
const ODDITIES: RecordDocument[] = [
  ['Location is a string', 'London'],
  ['Point without coordinates', { type: 'Point' }],
  ['Point with one ordinate', { type: 'Point', coordinates: [1] }],
  ['Point with a text ordinate', { type: 'Point', coordinates: ['a', 51.5] }],
  ['Point out of range', { type: 'Point', coordinates: [200, 95] }],
  ['Point with a crs', { type: 'Point', coordinates: [-0.12, 51.5], crs: { type: 'name', properties: { name: 'EPSG:3857' } } }],
  ['Polygon location', { type: 'Polygon', coordinates: [[[-1, 51], [0, 51], [0, 52], [-1, 51]]] }],
  ['Bare coordinates', [-0.12, 51.5]],
  ['Null location', null],
  ['Point with a huge ordinate', { type: 'Point', coordinates: [1e300, 51.5] }],
].map(([name, location], i) => ({
  id: `odd-${i}`,
  name: name as string,
  type: 'odd',
  entity: { location, population: 'many', code: i === 0 ? '44' : 44 },
  instance: {},
  timeseries: {},
}));

const NEWLINES: RecordDocument = {
  id: 'text-1',
  name: `O'Brien "Quoted"\nsecond line`,
  type: 'text',
  entity: { capital: `Saint George"s` },
  instance: {},
  timeseries: {},
};

const ALL: RecordDocument[] = [...COUNTRIES, ...HERITAGE_SITES, ...ODDITIES, NEWLINES];
const country = (code: string) => COUNTRIES.find((c) => c.id === code)!;
const entity = (code: string) => country(code).entity as Record<string, unknown>;
const POPULATION = (code: string) => entity(code).population as number;
const CALLING_CODE = (code: string) => entity(code).calling_code as number;
const THE_WORLD = COUNTRIES.map((c) => c.name);
const except = (names: string[]) => THE_WORLD.filter((name) => !names.includes(name));

describeWithInfrastructure('catalog queries on PostgreSQL + PostGIS', () => {
  let env: TestEnvironment;
  let db: Client;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    db = new Client({ connectionString: env.databaseUrl });
    await db.connect();
    await db.query('CREATE TABLE q (id serial PRIMARY KEY, document jsonb NOT NULL)');
    await db.query('INSERT INTO q (document) SELECT value FROM jsonb_array_elements($1::jsonb)', [JSON.stringify(ALL)]);
  });

  afterAll(async () => {
    await db?.end();
    await env?.dispose();
  });

  async function select(where: { sql: string; params: unknown[] }): Promise<string[]> {
    const result = await db.query<{ name: string }>(`SELECT document->>'name' AS name FROM q WHERE ${where.sql} ORDER BY id`, where.params);
    return result.rows.map((row) => row.name);
  }

  /** Names matched by a catalog query given as JSON text, the way `?q=` arrives. */
  async function names(query: unknown): Promise<string[]> {
    return select(compileQuery(parseQuery(JSON.stringify(query)), { column: 'document', whenEmpty: 'none' }));
  }

  const sorted = (items: string[]) => [...items].sort();
  async function expectNames(query: unknown, expected: string[]): Promise<void> {
    expect(sorted(await names(query))).toEqual(sorted(expected));
  }

  it('holds the fixture', async () => {
    const { rows } = await db.query('SELECT count(*)::int AS n FROM q');
    expect(rows[0].n).toBe(ALL.length);
  });

  describe('BitBroker consumer.js catalog cases', () => {
    const OCEANIA = ['Australia', 'Fiji', 'Nauru', 'New Zealand', 'Palestine', 'Palau', 'Tuvalu'];

    it('invalid query (unknown field) » 0', () => expectNames({ foo: 'bar' }, []));
    it('nul » empty query » 0', () => expectNames({}, []));
    it('str » implicit equal » 1', () => expectNames({ type: 'country', name: 'United Kingdom' }, ['United Kingdom']));
    it('str » implicit equal » 0', () => expectNames({ type: 'country', name: 'Atlantis' }, []));
    it('str » implicit equal » M', () => expectNames({ type: 'country', 'entity.continent': 'Oceania' }, OCEANIA));
    it('num » implicit equal » 1', () => expectNames({ type: 'country', 'entity.population': POPULATION('GB') }, ['United Kingdom']));
    it('num » implicit equal » 0', () => expectNames({ 'entity.population': 0 }, []));
    it('num » implicit equal » M', () => expectNames({ 'entity.calling_code': CALLING_CODE('US') }, ['United States', 'Canada']));
    it('str » $eq » 1', () => expectNames({ type: 'country', name: { $eq: 'United Kingdom' } }, ['United Kingdom']));
    it('str » $eq » 0', () => expectNames({ type: 'country', name: { $eq: 'Atlantis' } }, []));
    it('str » $eq » M', () => expectNames({ type: 'country', 'entity.continent': { $eq: 'Oceania' } }, OCEANIA));
    it('num » $eq » 1', () => expectNames({ type: 'country', 'entity.population': { $eq: POPULATION('GB') } }, ['United Kingdom']));
    it('num » $eq » 0', () => expectNames({ 'entity.population': { $eq: 0 } }, []));
    it('num » $eq » M', () => expectNames({ 'entity.calling_code': { $eq: CALLING_CODE('US') } }, ['United States', 'Canada']));
    it('str » $ne', () => expectNames({ type: 'country', 'entity.population': { $ne: POPULATION('GB') } }, except(['United Kingdom'])));
    it('num » $ne', () =>
      expectNames({ type: 'country', 'entity.calling_code': { $ne: CALLING_CODE('US') } }, except(['United States', 'Canada'])));
    it('num » $lt', () =>
      expectNames({ type: 'country', 'entity.population': { $lt: POPULATION('LI') } }, ['Nauru', 'Palau', 'San Marino', 'Tuvalu', 'Vatican City']));
    it('num » $lte', () =>
      expectNames({ type: 'country', 'entity.population': { $lte: POPULATION('LI') } }, [
        'Liechtenstein', 'Nauru', 'Palau', 'San Marino', 'Tuvalu', 'Vatican City',
      ]));
    it('num » $gt', () => expectNames({ type: 'country', 'entity.population': { $gt: POPULATION('IN') } }, ['China']));
    it('num » $gte', () => expectNames({ 'entity.population': { $gte: POPULATION('IN') } }, ['China', 'India']));
    it('str » $lt', () =>
      expectNames({ type: 'country', name: { $lt: 'Argentina' } }, ['Afghanistan', 'Albania', 'Algeria', 'Andorra', 'Angola', 'Antigua and Barbuda']));
    it('str » $lte', () =>
      expectNames({ type: 'country', name: { $lte: 'Argentina' } }, [
        'Afghanistan', 'Albania', 'Algeria', 'Andorra', 'Angola', 'Antigua and Barbuda', 'Argentina',
      ]));
    it('str » $in » 0', () => expectNames({ type: 'country', name: { $in: ['Atlantis', 'Sparta'] } }, []));
    it('str » $in » M', () =>
      expectNames({ type: 'country', name: { $in: ['United Kingdom', 'Atlantis', 'India', 'France'] } }, ['United Kingdom', 'India', 'France']));
    it('str » $nin » M', () =>
      expectNames({ type: 'country', name: { $nin: ['United Kingdom', 'Atlantis', 'India', 'France'] } }, except(['United Kingdom', 'India', 'France'])));
    it('num » $in', () =>
      expectNames({ type: 'country', 'entity.calling_code': { $in: [CALLING_CODE('US'), CALLING_CODE('GB')] } }, [
        'United Kingdom', 'United States', 'Canada',
      ]));
    it('num » $nin', () =>
      expectNames(
        { type: 'country', 'entity.calling_code': { $nin: [CALLING_CODE('US'), CALLING_CODE('GB')] } },
        except(['United Kingdom', 'United States', 'Canada']),
      ));
    it('str » $contains » 0', () => expectNames({ type: 'country', 'entity.languages': { $contains: 'Klingon' } }, []));
    it('str » $contains » M (single)', () =>
      expectNames({ type: 'country', 'entity.languages': { $contains: ['Japanese'] } }, ['Japan', 'United States', 'Brazil']));
    it('str » $contains » M (multiple)', () =>
      expectNames({ type: 'country', 'entity.languages': { $contains: ['Japanese', 'English'] } }, ['Japan', 'United States']));
    it('num » $contains » M (array)', () =>
      expectNames({ type: 'country', 'entity.location.coordinates': { $contains: GEOGRAPHY.BIG_BEN.coordinates } }, ['United Kingdom']));
    it('str » regex (basic)', () =>
      expectNames({ type: 'country', name: { $regex: '^.*stan$' } }, ['Afghanistan', 'Kyrgyzstan', 'Kazakhstan', 'Pakistan']));
    it('str » regex (case insensitive)', () =>
      expectNames({ type: 'country', name: { $regex: 'United .*', $options: 'i' } }, ['United Kingdom', 'United States', 'United Arab Emirates']));
    it('str » regex (combination)', () =>
      expectNames({ type: 'country', $or: [{ name: { $regex: '.*stan$' } }, { 'entity.capital': { $regex: '^San\\s' } }] }, [
        'Afghanistan', 'Costa Rica', 'Kyrgyzstan', 'Kazakhstan', 'Pakistan', 'Puerto Rico', 'El Salvador', 'San Marino',
      ]));
    const NEAR = ['United Kingdom', 'Ireland', 'Netherlands'];
    it('geo » $near', () =>
      expectNames({ type: 'country', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $min: 0, $max: 750000 } } }, NEAR));
    it('geo » $near (alt order 1)', () =>
      expectNames({ type: 'country', 'entity.location': { $near: { $min: 0, $max: 750000, $geometry: GEOGRAPHY.BIG_BEN } } }, NEAR));
    it('geo » $near (alt order 2)', () =>
      expectNames({ type: 'country', 'entity.location': { $near: { $max: 750000, $min: 0, $geometry: GEOGRAPHY.BIG_BEN } } }, NEAR));
    it('geo » $near (min only)', () =>
      expectNames({ type: 'country', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $min: 750000 } } }, except(NEAR)));
    it('geo » $near (max only)', () =>
      expectNames({ type: 'country', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 500000 } } }, ['United Kingdom', 'Ireland']));
    it('geo » $within', () =>
      expectNames({ type: 'country', 'entity.location': { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } }, ['United Kingdom', 'Ireland']));
    it('str » $and', () =>
      expectNames({ type: 'country', $and: [{ name: 'United Kingdom' }, { 'entity.population': POPULATION('GB') }] }, ['United Kingdom']));
    it('str » $or', () =>
      expectNames({ type: 'country', $or: [{ name: 'United Kingdom' }, { 'entity.population': POPULATION('IN') }] }, ['United Kingdom', 'India']));
    it('str » $not', () => expectNames({ type: 'country', $not: { name: 'United Kingdom' } }, except(['United Kingdom'])));
    it('str » $nor', () =>
      expectNames({ type: 'country', $nor: [{ name: 'United Kingdom' }, { 'entity.population': POPULATION('IN') }] }, except(['United Kingdom', 'India'])));
    it('mix » $and', () =>
      expectNames({ type: 'country', $and: [{ name: 'United Kingdom' }, { 'entity.calling_code': CALLING_CODE('GB') }] }, ['United Kingdom']));
    it('mix » $or', () =>
      expectNames({ type: 'country', $or: [{ name: 'United Kingdom' }, { 'entity.calling_code': CALLING_CODE('IN') }] }, ['United Kingdom', 'India']));
    it('escaped single quotes', () => expectNames({ 'entity.capital': "Saint George's" }, ['Grenada']));
    it('escaped double quotes (matches the record that has one, and does not fail)', () =>
      expectNames({ 'entity.capital': 'Saint George"s' }, [NEWLINES.name]));
  });

  describe('further semantics', () => {
    // Points on rings around the target at distances just below, at and just above each bound, in
    // every direction (every 7°): the lon/lat box that finds the candidates must never drop one that
    // the exact comparison (BitBroker's ST_Distance) keeps, wherever the target is on the globe.
    const RING_TARGETS: Array<[string, Record<string, unknown>]> = [
      ['a point at 55°N', { type: 'Point', coordinates: [-3.435973, 55.378051] }],
      ['a point on the equator', { type: 'Point', coordinates: [0, 0] }],
      ['a point at 78°S', { type: 'Point', coordinates: [166.67, -77.85] }],
      ['a point beside the antimeridian', { type: 'Point', coordinates: [179.99, -16.5] }],
      ['points far apart', { type: 'MultiPoint', coordinates: [[-70.6, -33.4], [151.2, -33.9], [-0.1, 51.5]] }],
      ['a line', { type: 'LineString', coordinates: [[2.35, 48.85], [13.4, 52.52]] }],
      ['a polygon', { type: 'Polygon', coordinates: [[[-10, 35], [5, 35], [5, 45], [-10, 45], [-10, 35]]] }],
    ];
    it.each(RING_TARGETS)('$near around %s finds exactly the points within $min/$max, however close to the bounds', async (_, target) => {
      const ring = `SELECT ST_Project(ST_PointOnSurface(ST_GeomFromGeoJSON($1))::geography, d * k, radians(b))::geometry AS point
                      FROM unnest($2::float8[]) AS d, unnest(ARRAY[0.999999, 1, 1.000001]) AS k, generate_series(0, 359, 7) AS b`;
      await db.query('DROP TABLE IF EXISTS ring');
      await db.query(`CREATE TEMP TABLE ring AS SELECT row_number() OVER () AS id,
                        jsonb_build_object('entity', jsonb_build_object('location', ST_AsGeoJSON(point, 15)::jsonb)) AS document
                        FROM (${ring}) r`, [JSON.stringify(target), [1, 10_000, 750_000, 5_000_000]]);
      const exact = async (condition: string, bounds: number[]) =>
        (
          await db.query<{ id: string }>(
            `SELECT id FROM ring WHERE ST_Distance(ST_GeomFromGeoJSON(document #>> '{entity,location}')::geography, ST_GeomFromGeoJSON($1)::geography, false) ${condition} ORDER BY id`,
            [JSON.stringify(target), ...bounds],
          )
        ).rows.map((row) => row.id);
      const compiled = async (near: Record<string, number>) => {
        const where = compileQuery({ 'entity.location': { $near: { $geometry: target, ...near } } }, { column: 'document' });
        return (await db.query<{ id: string }>(`SELECT id FROM ring WHERE ${where.sql} ORDER BY id`, where.params)).rows.map((row) => row.id);
      };
      for (const max of [10_000, 750_000, 5_000_000]) {
        const expected = await exact('< $2', [max]);
        expect(expected.length).toBeGreaterThan(0);
        expect(await compiled({ $max: max })).toEqual(expected);
        expect(await compiled({ $min: 1, $max: max })).toEqual(await exact('BETWEEN $2 AND $3', [1, max]));
      }
    });

    it('key order does not matter anywhere', async () => {
      const a = await names({ type: 'country', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 750000, $min: 10 } } });
      const b = await names({ 'entity.location': { $near: { $min: 10, $geometry: { coordinates: GEOGRAPHY.BIG_BEN.coordinates, type: 'Point' }, $max: 750000 } }, type: 'country' });
      expect(b).toEqual(a);
      expect(await names({ name: { $options: 'i', $regex: '^united k' } })).toEqual(['United Kingdom']);
    });

    it('nested objects are exact equality, dotted paths are containment', async () => {
      expect(await names({ 'entity.currency': { code: 'GBP', name: 'Sterling' } })).toEqual(['United Kingdom']);
      expect(await names({ 'entity.currency': { code: 'GBP' } })).toEqual([]); // not the whole object
      expect(await names({ 'entity.currency.code': 'GBP' })).toEqual(['United Kingdom']);
      expect(await names({ 'entity.currency': { $eq: { code: 'GBP' } } })).toEqual(['United Kingdom']); // $eq is containment
      expect(await names({ entity: { code: 'GB' } })).toEqual([]);
    });

    it('$ne and $not keep records without the field; $nin and range operators do not', async () => {
      const odd = ODDITIES.map((o) => o.name);
      expect(await names({ type: 'odd', 'entity.calling_code': { $ne: 44 } })).toEqual(odd);
      expect(await names({ type: 'odd', 'entity.calling_code': { $nin: [44] } })).toEqual([]);
      expect(await names({ type: 'odd', 'entity.calling_code': { $lt: 44 } })).toEqual([]);
    });

    it('null matches a missing or null field; $in with null too', async () => {
      expect(await names({ type: 'odd', 'entity.location': null })).toEqual(['Null location']);
      expect(await names({ type: 'text', 'entity.location': null })).toEqual([NEWLINES.name]);
      expect(sorted(await names({ type: { $in: ['odd', 'text'] }, 'entity.location': { $in: [null, 'London'] } }))).toEqual(
        sorted(['Location is a string', 'Null location', NEWLINES.name]),
      );
    });

    it('$in compares strings as text (as BitBroker) and other values as JSON', async () => {
      expect(await names({ type: 'odd', 'entity.code': { $in: ['44'] } })).toHaveLength(ODDITIES.length);
      expect(await names({ type: 'odd', 'entity.code': { $in: [44] } })).toHaveLength(ODDITIES.length - 1);
      expect(await names({ type: 'odd', 'entity.code': { $in: [44, 'nothing'] } })).toHaveLength(ODDITIES.length - 1);
      expect(await names({ 'entity.landlocked': { $in: [true] }, 'entity.continent': 'Europe' })).toEqual(
        COUNTRIES.filter((c) => c.entity.landlocked === true && c.entity.continent === 'Europe').map((c) => c.name),
      );
      expect(
        await names({ 'entity.currency': { $in: [{ code: 'GBP', name: 'Sterling' }, { code: `it's "q" \\ {a,b}` }, [1, '"']] } }),
      ).toEqual(['United Kingdom']);
      expect(await names({ name: { $in: [] } })).toEqual([]);
      expect(await names({ type: 'country', name: { $nin: [] } })).toEqual(THE_WORLD);
    });

    it('numbers compare as numbers, strings as text, across types as jsonb', async () => {
      expect(await names({ type: 'odd', 'entity.population': { $gt: 5 } })).toEqual([]); // "many" is a string
      expect(await names({ type: 'odd', 'entity.population': { $gt: 'm' } })).toHaveLength(ODDITIES.length);
      expect(await names({ 'entity.area': { $gt: 9000000 }, type: 'country' })).toEqual(
        COUNTRIES.filter((c) => (c.entity.area as number) > 9000000).map((c) => c.name),
      );
    });

    it('array elements by index', async () => {
      expect(await names({ 'entity.languages.3': 'Japanese' })).toEqual(
        COUNTRIES.filter((c) => (c.entity.languages as string[])[3] === 'Japanese').map((c) => c.name),
      );
      expect(await names({ 'entity.languages.3': 'Japanese', 'entity.code': 'JP' })).toEqual(['Japan']);
      expect(await names({ 'entity.languages.0': { $ne: 'English' }, type: 'country' })).toEqual(
        COUNTRIES.filter((c) => (c.entity.languages as string[])[0] !== 'English').map((c) => c.name),
      );
      expect(sorted(await names({ type: 'country', 'entity.location.coordinates.1': { $gt: 60 } }))).toEqual(
        sorted(COUNTRIES.filter((c) => ((c.entity.location as { coordinates: number[] }).coordinates[1]) > 60).map((c) => c.name)),
      );
    });

    it('regex options: m and s, and \\b as a word boundary', async () => {
      expect(await names({ name: { $regex: '^second' } })).toEqual([]);
      expect(await names({ name: { $regex: '^second', $options: 'm' } })).toEqual([NEWLINES.name]);
      expect(await names({ name: { $regex: 'Quoted".second' } })).toEqual([]);
      expect(await names({ name: { $regex: 'Quoted".second', $options: 's' } })).toEqual([NEWLINES.name]);
      const SAN = ['Costa Rica', 'El Salvador', 'Puerto Rico', 'San Marino'];
      expect(sorted(await names({ 'entity.capital': { $regex: '\\bSan\\b' } }))).toEqual(SAN);
      expect(sorted(await names({ 'entity.capital': { $regex: '\\BSan' } }))).toEqual([]);
      expect(await names({ type: 'country', name: { $regex: '\\bKing' } })).toEqual(['United Kingdom']);
      expect(await names({ type: 'country', name: { $regex: 'ingdom\\b' } })).toEqual(['United Kingdom']);
    });

    it('field-level $or, $not and $contains with operators', async () => {
      expect(sorted(await names({ type: 'country', name: { $or: [{ $regex: '^Ind' }, { $eq: 'China' }] } }))).toEqual(['China', 'India']);
      expect(await names({ type: 'country', name: { $not: { $regex: 'a' } } })).toEqual(THE_WORLD.filter((n) => !n.includes('a')));
    });

    it('{"field": {}} and {"$and": [{}]} restrict nothing (as BitBroker)', async () => {
      expect(await names({ type: 'country', name: {} })).toEqual(THE_WORLD);
      expect(await names({ $and: [{}], type: 'country' })).toEqual(THE_WORLD);
    });

    it('heritage sites: bbk links, categories, geo', async () => {
      expect(sorted(await names({ 'entity.country': { $regex: '/GB$' } }))).toEqual(['Dorset and East Devon Coast', 'Henderson Island']);
      expect(sorted(await names({ type: 'heritage-site', 'entity.inscribed': { $gte: 2001, $lt: 2005 } }))).toEqual(
        sorted(HERITAGE_SITES.filter((h) => (h.entity.inscribed as number) >= 2001 && (h.entity.inscribed as number) < 2005).map((h) => h.name)),
      );
    });
  });

  describe('policy segments ANDed with the user query', () => {
    const segment = (query: unknown) => compileQuery(query, { column: 'document' });
    const user = (query: unknown) => compileQuery(query, { column: 'document', whenEmpty: 'none' });

    it('british-isles ($within, no type) with a user query', async () => {
      const britishIsles = segment({ 'entity.location': { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } });
      expect(sorted(await select(and(britishIsles, user({ type: 'heritage-site' }))))).toEqual(
        sorted(['Dorset and East Devon Coast', 'Brú na Bóinne - Archaeological Ensemble of the Bend of the Boyne', 'Sceilg Mhichíl']),
      );
      expect(sorted(await select(and(britishIsles, user({ name: { $regex: 'i' } })))).length).toBeGreaterThan(0);
    });

    it('over-a-billion and european-union segments', async () => {
      const billion = segment({ type: 'country', 'entity.population': { $gt: 1000000000 } });
      expect(sorted(await select(and(billion, user({ 'entity.languages': { $contains: ['Hindi'] } }))))).toEqual(['India']);
      const eu = segment({ type: 'country', 'entity.code': { $in: ['AT', 'BE', 'DE', 'DK', 'FR', 'IE', 'NL'] } });
      expect(sorted(await select(and(eu, user({ 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 750000 } } }))))).toEqual(
        ['Ireland', 'Netherlands'],
      );
    });

    it('access-all-areas ({}) segment and an empty user query', async () => {
      expect(await select(and(segment({}), user({})))).toEqual([]);
      expect(and(segment({}), user({})).matchesNothing).toBe(true);
      expect(await select(and(segment({}), user({ name: 'India' })))).toEqual(['India']);
    });

    it('numbers placeholders after other parameters', async () => {
      const where = and(segment({ type: 'country' }), user({ name: { $in: ['India', 'China'] } })).withFirstParam(2);
      const result = await db.query(`SELECT document->>'name' AS name FROM q WHERE document->>'id' <> $1 AND ${where.sql} ORDER BY 1`, [
        'CN',
        ...where.params,
      ]);
      expect(result.rows.map((row) => row.name)).toEqual(['India']);
    });
  });

  describe('hostile input never reaches PostgreSQL as SQL', () => {
    const HOSTILE = [
      "'; DROP TABLE q; --",
      "' OR '1'='1",
      '" OR "1"="1',
      'x\'); DELETE FROM q; --',
      '/* comment */',
      '-- comment',
      '$1',
      '$$ ; $$',
      '\\',
      "\\'",
      '{a,b}',
      '{"a"}',
      'NULL',
      "'{entity,population}'",
      'é ü 中文 🎉',
      "a'b\"c\\d;e--f/*g*/",
    ];

    it.each(HOSTILE)('as a value, key, path and regex: %s', async (text) => {
      const key = text.startsWith('$') ? `x${text}` : text; // "$…" keys are operators
      const queries = [
        { name: text },
        { name: { $eq: text } },
        { name: { $ne: text }, type: 'nothing' },
        { name: { $in: [text, 'x'] } },
        { name: { $gt: text }, type: 'nothing' },
        { [key]: 1 },
        { [`entity.${key}`]: { $gt: 1 } },
        { [`entity.${key}.x`]: { $in: ['a', 1] } },
        { [key]: { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 1 } } },
        { [key]: { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } },
        { 'entity.capital': { [key]: text } },
      ];
      for (const query of queries) {
        const compiled = compileQuery(parseQuery(JSON.stringify(query)), { column: 'document' });
        // Only [A-Za-z0-9_-] path segments are ever written into the SQL text (NULL is one).
        if (text.length > 2 && !/^[A-Za-z0-9_-]+$/.test(text)) expect(compiled.sql).not.toContain(text);
        await expect(select(compiled)).resolves.toEqual([]);
      }
      // A regex made of the hostile text is either refused or runs.
      try {
        await select(compileQuery(parseQuery(JSON.stringify({ name: { $regex: text } })), { column: 'document' }));
      } catch (error) {
        expect(error).toBeInstanceOf(QueryError);
      }
      const { rows } = await db.query('SELECT count(*)::int AS n FROM q');
      expect(rows[0].n).toBe(ALL.length);
    });

    it('refuses what PostgreSQL could not take, as a QueryError', () => {
      const refused = [
        '{"name": "a\\u0000b"}',
        '{"name\\u0000": 1}',
        '{"name": "\\ud800"}',
        '{"entity.population": 1e999}',
        '{"name": {"$regex": "x{256}"}}',
        '{"name": {"$regex": "(x{255}){255}"}}',
        '{"name": {"$regex": "[a-c-e]"}}',
        '{"name": {"$regex": "a{1"}}',
        '{"name": {"$regex": "\\\\y*"}}',
        '{"name": {"$regex": "(?i)a"}}',
        '{"entity.location": {"$near": {"$geometry": {"type": "Point", "coordinates": [200, 95]}, "$max": 1}}}',
        '{"entity.location": {"$near": {"$geometry": {"type": "Point"}, "$max": 1}}}',
        '{"entity.location": {"$within": {"$geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1]]]}}}}',
        '{"entity.location": {"$near": {"$geometry": {"type": "Point", "coordinates": [1, 2]}, "$max": -1}}}',
        `${'{"$not":'.repeat(40)}{}${'}'.repeat(40)}`,
        `${'['.repeat(100000)}${']'.repeat(100000)}`,
      ];
      for (const text of refused) {
        let error: unknown;
        try {
          compileQuery(parseQuery(text), { column: 'document' });
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(QueryError);
        expect((error as QueryError).reason).toBe(QueryErrorReason.Unparsable);
      }
    });

    it('geo queries survive records whose location is not a usable Point', async () => {
      const around = { $near: { $geometry: { type: 'Point', coordinates: [-0.12, 51.5] }, $max: 100000 } };
      expect(await names({ type: 'odd', 'entity.location': around })).toEqual([]);
      expect(await names({ type: 'odd', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $min: 0 } } })).toEqual([]);
      expect(await names({ type: 'odd', 'entity.location': { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } })).toEqual([]);
      // the whole table, other fields too: no record makes the query fail
      await expect(names({ name: { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 1 } } })).resolves.toEqual([]);
      await expect(names({ entity: { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } })).resolves.toEqual([]);
      // every country and site but the United Kingdom, whose location is BIG_BEN itself
      await expect(names({ 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $min: 1 } } })).resolves.toHaveLength(
        COUNTRIES.length + HERITAGE_SITES.length - 1,
      );
    });

    it('every accepted regex compiles in PostgreSQL (fuzz)', async () => {
      await db.query(`
        CREATE FUNCTION regex_errors(patterns text[]) RETURNS text[] LANGUAGE plpgsql AS $$
        DECLARE p text; bad text[] := '{}';
        BEGIN
          FOREACH p IN ARRAY patterns LOOP
            BEGIN
              PERFORM 'Abc de\nf' ~ p, 'Abc de\nf' ~* p;
            EXCEPTION WHEN others THEN bad := bad || (p || ' => ' || SQLERRM);
            END;
          END LOOP;
          RETURN bad;
        END $$`);
      let seed = 42;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return Math.floor(seed / 65536) % n;
      };
      const generate = (alphabet: string[], prefix = '', suffix = '') => {
        let pattern = prefix;
        const length = 1 + random(10);
        for (let j = 0; j < length; j++) pattern += alphabet[random(alphabet.length)];
        return pattern + suffix;
      };
      const anywhere = ['a', 'b', 'Z', 'é', '.', '*', '+', '?', '(', ')', '(?:', '(?=', '(?<!', '[', ']', '[^', '-', '{', '}', '{2}',
        '{1,3}', '{255}', '|', '^', '$', '\\', '\\d', '\\w', '\\s', '\\b', '\\y', '\\.', '\\-', '\\]', '[:alpha:]', ',', '0', ' '];
      const inBrackets = ['a', 'z', 'A', '0', '9', 'é', '!', '/', '-', '^', '[', ']', '\\d', '\\w', '\\]', '\\-', '\\\\', '\\t',
        '[:alpha:]', '[:digit:]', '[:foo:]', '[.a.]', ':'];
      const accepted: string[] = [];
      let bracketsAccepted = 0;
      for (let i = 0; i < 12000; i++) {
        const brackets = i % 3 === 0;
        const pattern = brackets ? generate(inBrackets, random(2) ? '[' : '[^', ']') : generate(anywhere);
        const $options = ['', 'i', 'ms'][random(3)];
        try {
          const compiled = compileQuery({ name: { $regex: pattern, $options } }, { column: 'document' });
          accepted.push(compiled.params[0] as string);
          if (brackets) bracketsAccepted++;
        } catch (error) {
          expect(error).toBeInstanceOf(QueryError);
        }
      }
      expect(accepted.length).toBeGreaterThan(2000);
      expect(bracketsAccepted).toBeGreaterThan(300);
      const { rows } = await db.query<{ bad: string[] }>('SELECT regex_errors($1::text[]) AS bad', [accepted]);
      expect(rows[0].bad).toEqual([]);
    });
  });

  describe('expression indexes match the generated SQL', () => {
    async function plan(where: { sql: string; params: unknown[] }): Promise<string> {
      const { rows } = await db.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM q WHERE ${where.sql}`, where.params);
      return JSON.stringify(rows[0]['QUERY PLAN']);
    }

    beforeAll(async () => {
      const population = fieldIndexExpressions('document', 'entity.population');
      const name = fieldIndexExpressions('document', 'name');
      const location = fieldIndexExpressions('document', 'entity.location');
      await db.query('CREATE INDEX q_gin ON q USING gin (document jsonb_path_ops)');
      await db.query(`CREATE INDEX q_population ON q ((${population.json}))`);
      await db.query(`CREATE INDEX q_name ON q ((${name.text}))`);
      await db.query(`CREATE INDEX q_location_point ON q USING gist ((${location.point}))`);
      await db.query('ANALYZE q');
      await db.query('SET enable_seqscan = off');
    });

    afterAll(async () => {
      await db.query('RESET enable_seqscan');
    });

    const compile = (query: unknown) => compileQuery(query, { column: 'document' });

    it('containment uses the GIN index', async () => {
      expect(await plan(compile({ type: 'country', name: 'India' }))).toContain('q_gin');
    });
    it('numeric ranges and $in use the #> expression index', async () => {
      expect(await plan(compile({ 'entity.population': { $gt: 1000000000 } }))).toContain('q_population');
      expect(await plan(compile({ 'entity.population': { $in: [1, 2] } }))).toContain('q_population');
    });
    it('string ranges and $in use the #>> expression index', async () => {
      expect(await plan(compile({ name: { $lt: 'Argentina' } }))).toContain('q_name');
      expect(await plan(compile({ name: { $in: ['India', 'China'] } }))).toContain('q_name');
    });
    it('$within and $near use the point index', async () => {
      expect(await plan(compile({ 'entity.location': { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } }))).toContain('q_location_point');
      expect(await plan(compile({ 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 500000 } } }))).toContain('q_location_point');
    });
    it('results are the same with the indexes', async () => {
      await expectNames({ type: 'country', 'entity.location': { $near: { $geometry: GEOGRAPHY.BIG_BEN, $max: 500000 } } }, ['United Kingdom', 'Ireland']);
      await expectNames({ type: 'country', 'entity.location': { $within: { $geometry: GEOGRAPHY.BRITISH_ISLES } } }, ['United Kingdom', 'Ireland']);
      await expectNames({ type: 'country', 'entity.population': { $gt: POPULATION('IN') } }, ['China']);
    });
  });
});
