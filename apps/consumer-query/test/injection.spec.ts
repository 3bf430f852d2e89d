import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  ConsumerPlatform,
  Connector,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  publicId,
  q,
  startConsumerPlatform,
  upsert,
} from './consumer.support';

jest.setTimeout(180_000);

/**
 * Hostile input in `q` and in the path: every answer is a 400 (with
 * BitBroker's error names) or a correct result, never a 500, never a record
 * outside the policy's segment, and the tables are intact afterwards.
 */
describeWithInfrastructure('consumer-query: hostile queries', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let wikipedia: Connector;
  let europe: ApiClient;
  let all: ApiClient;
  let snapshot: unknown;

  const europeans = () => ['GB', 'FR'].map((id) => publicId(wikipedia.id, id));

  async function tables() {
    const { rows } = await platform.db.query(
      `SELECT (SELECT count(*)::int FROM record) AS records,
              (SELECT md5(string_agg(public_id || document::text, ',' ORDER BY id)) FROM record) AS digest,
              (SELECT count(*)::int FROM entity_type) AS types,
              (SELECT count(*)::int FROM connector) AS connectors,
              (SELECT count(*)::int FROM policy) AS policies,
              (SELECT count(*)::int FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace) AS relations`,
    );
    return rows[0];
  }

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startConsumerPlatform(env);
    await createType(platform.admin, 'country', {
      schema: { type: 'object', properties: { capital: { type: 'string' }, population: { type: 'integer' }, location: { type: 'object', properties: { type: {}, coordinates: {} } } } },
    });
    wikipedia = await createConnector(platform.admin, 'country', 'wikipedia');
    await upsert(platform.contributor, wikipedia, [
      { id: 'GB', name: "Saint George's Land", entity: { continent: 'Europe', capital: 'London', population: 66, location: { type: 'Point', coordinates: [-0.1, 51.5] } } },
      { id: 'FR', name: 'France "the hexagon"', entity: { continent: 'Europe', capital: 'Paris; Lyon', population: 67, location: { type: 'Point', coordinates: [2.35, 48.85] } } },
      { id: 'JP', name: 'Japan -- /* islands */', entity: { continent: 'Asia', capital: 'Tokyo', population: 125, secret: true } },
    ]);
    await createPolicy(platform.admin, 'europe', { segment: { 'entity.continent': 'Europe' } });
    await createPolicy(platform.admin, 'all');
    europe = consumerAs(platform.api, 'europe');
    all = consumerAs(platform.api, 'all');
    snapshot = await tables();
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  /** 400 with the query error name, or 200 with records of the segment only. */
  async function safe(client: ApiClient, path: string, allowed: string[]) {
    const started = Date.now();
    const response = await client.get(path);
    const elapsed = Date.now() - started;
    expect({ path: path.slice(0, 200), status: [200, 400].includes(response.status) ? 'ok' : response.status }).toEqual({ path: path.slice(0, 200), status: 'ok' });
    if (response.status === 200) {
      const outside = response.body.map((item: { id: string }) => item.id).filter((id: string) => !allowed.includes(id));
      expect({ path: path.slice(0, 200), outside }).toEqual({ path: path.slice(0, 200), outside: [] });
    } else {
      for (const error of response.body.error.message) expect(['policy.data_segment.segment_query', 'limit', 'offset']).toContain(error.name);
    }
    expect(elapsed).toBeLessThan(10_000);
    return response;
  }

  const hostile: Array<[string, unknown]> = [
    ['quote in a value', { name: "Saint George's Land" }],
    ['quote breaking out', { name: "x' OR '1'='1" }],
    ['double quote breaking out', { name: 'x" OR "1"="1' }],
    ['semicolon', { name: 'x; DROP TABLE record; --' }],
    ['comment', { name: 'x/* */ OR 1=1 --' }],
    ['backslash', { name: 'x\\\' OR 1=1 --' }],
    ['dollar quoting', { name: '$$; DROP TABLE record; $$' }],
    ['quote in a key', { "entity.x' OR '1'='1": 1 }],
    ['semicolon in a key', { 'entity.x; DROP TABLE record; --': 1 }],
    ['comment in a key', { 'entity./* x */': 1, 'entity.a--b': 2 }],
    ['brace and comma in a key', { 'entity.{a,b}': 1, 'entity."q"': 2 }],
    ['key NULL', { 'entity.NULL': null }],
    ['empty segment', { 'entity..capital': 'London' }],
    ['operator in a path', { 'entity.$where': 'sleep(10)' }],
    ['unknown operator', { $where: 'sleep(10)' }],
    ['operator in a value', { name: { $regex: { $ne: 1 } } }],
    ['unicode key', { 'entity.çapital': 'x', 'entity.🙂': 'y' }],
    ['long path', { [Array.from({ length: 40 }, () => 'a').join('.')]: 1 }],
    ['regex with quotes', { 'entity.capital': { $regex: "'; DROP TABLE record; --" } }],
    ['regex bomb: nested quantifiers', { name: { $regex: '(a+)+$' } }],
    ['regex bomb: alternation', { name: { $regex: '(a|aa)+b' } }],
    ['regex bomb: repeated group', { name: { $regex: '(.*a){20}' } }],
    ['regex bomb: star of stars', { name: { $regex: '((a*)*)*b' } }],
    ['regex bomb: big bounds', { name: { $regex: 'a{1000}' } }],
    ['regex lookahead', { name: { $regex: '(?=.*a)(?=.*b)' } }],
    ['regex backreference', { name: { $regex: '(a)\\1' } }],
    ['regex embedded options', { name: { $regex: '(?x)a' } }],
    ['bad regex', { name: { $regex: '[' } }],
    ['NUL in a value', { name: 'a\u0000b' }],
    ['lone surrogate', { name: '\ud800' }],
    ['huge number', { 'entity.population': { $gt: 1e308 } }],
    ['$in with mixed types', { 'entity.population': { $in: [66, '67', null, true, { a: 1 }, [1]] } }],
    ['$or escape', { $or: [{ 'entity.continent': 'Asia' }, { 'entity.continent': { $ne: 'Asia' } }] }],
    ['$not escape', { $not: { 'entity.continent': 'Europe' } }],
    ['bad geometry', { 'entity.location': { $near: { $geometry: { type: 'Point', coordinates: [1000, 1000] }, $max: 10 } } }],
    ['geometry injection', { 'entity.location': { $near: { $geometry: "{'type':'Point'}); DROP TABLE record; --" } } }],
    ['within injection', { 'entity.location': { $within: { $geometry: { type: 'Polygon', coordinates: 'x' } } } }],
    ['negative distance', { 'entity.location': { $near: { $geometry: { type: 'Point', coordinates: [0, 51] }, $max: -1 } } }],
    ['not an object', 'slug'],
    ['an array', [{ name: 'x' }]],
    ['null', null],
  ];

  it.each(hostile)('%s: 400 or a correct result', async (_, query) => {
    await safe(europe, q(query), europeans());
  });

  it('finds what quoting-sensitive values really match, exactly', async () => {
    expect((await europe.get(q({ name: "Saint George's Land" }))).body.map((item: { id: string }) => item.id)).toEqual([publicId(wikipedia.id, 'GB')]);
    expect((await europe.get(q({ name: 'France "the hexagon"' }))).body.map((item: { id: string }) => item.id)).toEqual([publicId(wikipedia.id, 'FR')]);
    expect((await europe.get(q({ 'entity.capital': 'Paris; Lyon' }))).body).toHaveLength(1);
    expect((await all.get(q({ name: 'Japan -- /* islands */' }))).body).toHaveLength(1);
    expect((await europe.get(q({ name: 'Japan -- /* islands */' }))).body).toEqual([]);
  });

  it('refuses deep nesting and oversized queries with 400, never 500', async () => {
    let nested: unknown = { name: 'x' };
    for (let i = 0; i < 200; i++) nested = { $and: [nested] };
    expect((await safe(europe, q(nested), europeans())).status).toBe(400);
    let deepValue: unknown = 'x';
    for (let i = 0; i < 200; i++) deepValue = [deepValue];
    expect((await safe(europe, q({ 'entity.capital': deepValue }), europeans())).status).toBe(400);
    // Raw text: 5,000 unclosed brackets, and 1,500 closed ones (URLs stay under Node's 16 KiB header limit).
    expect((await safe(europe, `/catalog?q=${'['.repeat(5000)}`, europeans())).status).toBe(400);
    expect((await safe(europe, `/catalog?q=${encodeURIComponent(`${'['.repeat(1500)}${']'.repeat(1500)}`)}`, europeans())).status).toBe(400);
    expect((await safe(europe, `/catalog?q=${encodeURIComponent('{"name": "x"')}`, europeans())).status).toBe(400);
  });

  it('answers giant arrays correctly, and refuses URLs larger than the server takes without a 500', async () => {
    const many = Array.from({ length: 600 }, (_, i) => `v${i}`);
    expect((await safe(europe, q({ 'entity.capital': { $in: [...many, 'London'] } }), europeans())).body).toHaveLength(1);
    expect((await safe(europe, q({ 'entity.capital': { $nin: many } }), europeans())).body).toHaveLength(2);
    expect((await safe(europe, q({ $or: many.slice(0, 150).map((name) => ({ name })) }), europeans())).body).toEqual([]);
    const huge = await europe.get(q({ 'entity.capital': { $in: Array.from({ length: 20_000 }, (_, i) => i) } }));
    expect([400, 414, 431]).toContain(huge.status);
  });

  it('treats hostile path segments as names that match nothing', async () => {
    for (const path of [
      `/entity/country'; DROP TABLE record; --`,
      '/entity/country%00',
      `/entity/${encodeURIComponent("x' OR '1'='1")}`,
      `/entity/country/${encodeURIComponent("x' OR '1'='1")}`,
      '/entity/country/%00',
      `/entity/country/${'a'.repeat(5000)}`,
      `/entity/country/${publicId(wikipedia.id, 'JP')}`,
      `/entity/country/${publicId(wikipedia.id, 'JP')}/timeseries/x%00`,
      `/entity/country%00/${publicId(wikipedia.id, 'GB')}`,
      `/entity/country?format=${encodeURIComponent("csv' --")}`,
    ]) {
      const response = await europe.get(path);
      expect({ path, status: [200, 400, 404].includes(response.status) ? 'ok' : response.status }).toEqual({ path, status: 'ok' });
      if (response.status === 200) expect({ path, body: response.body }).toEqual({ path, body: [] });
    }
    expect((await europe.get('/entity/country/%E0%A4%A')).status).toBeLessThan(500);
    expect((await europe.get('/entity/country/%ED%A0%80')).status).toBeLessThan(500);
  });

  it('leaves every table as it was', async () => {
    expect(await tables()).toEqual(snapshot);
    expect((await all.get('/entity/country')).body).toHaveLength(3);
  });
});
