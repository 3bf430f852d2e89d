import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  ConsumerPlatform,
  Connector,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  errorLines,
  publicId,
  q,
  startConsumerPlatform,
  upsert,
} from './consumer.support';

jest.setTimeout(120_000);

const LEGAL = [
  { type: 'attribution', text: 'Data from Wikipedia', link: 'https://en.wikipedia.org/' },
  { type: 'license', text: 'CC BY-SA 4.0', link: 'https://creativecommons.org/licenses/by-sa/4.0/' },
];

function country(id: string, continent: string, population: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: `Country ${id}`,
    entity: {
      continent,
      capital: `Capital of ${id}`,
      population,
      currency: { code: `${id}C`, population: 'nested, never masked' },
      ...extra,
    },
    instance: { independence: 1000 + population % 1000, motto: `Motto of ${id}` },
  };
}

/**
 * What a consumer sees (BitBroker section 4.1–4.5): records of live
 * connectors matching the policy's segment, plus the staged connectors it
 * names in x-bbk-connectors; masks and legal context of its policy; bbk://
 * links resolved. Local mode (the policy comes from x-bbk-audience).
 */
describeWithInfrastructure('consumer-query: visibility, masks, legal context, links', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let wikipedia: Connector;
  let factbook: Connector;
  let atlas: Connector;
  let unesco: Connector;
  let drafts: Connector;
  let all: ApiClient;
  let europe: ApiClient;
  let masked: ApiClient;
  let sites: ApiClient;

  const id = (connector: Connector, vendorId: string) => publicId(connector.id, vendorId);
  const ids = (body: Array<{ id: string }>) => body.map((item) => item.id);

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startConsumerPlatform(env);
    const { admin, contributor } = platform;
    await createType(admin, 'country', {
      schema: { type: 'object', properties: { continent: { type: 'string' }, capital: { type: 'string' }, population: { type: 'integer' } } },
    });
    await createType(admin, 'heritage-site');
    wikipedia = await createConnector(admin, 'country', 'wikipedia');
    factbook = await createConnector(admin, 'country', 'factbook', { live: false });
    atlas = await createConnector(admin, 'country', 'atlas', { live: false });
    unesco = await createConnector(admin, 'heritage-site', 'unesco');
    drafts = await createConnector(admin, 'heritage-site', 'drafts', { live: false });

    await upsert(contributor, wikipedia, [
      country('GB', 'Europe', 66_000_000),
      country('IN', 'Asia', 1_380_000_000),
      country('FR', 'Europe', 67_000_000),
      country('JP', 'Asia', 125_000_000),
      country('AQ', 'Antarctica', 0),
    ]);
    await upsert(contributor, factbook, [country('DE', 'Europe', 83_000_000), country('IT', 'Europe', 60_000_000)]);
    await upsert(contributor, atlas, [country('ES', 'Europe', 47_000_000)]);
    await upsert(contributor, unesco, [
      {
        id: 'stonehenge',
        name: 'Stonehenge',
        entity: {
          capital: 'a site field named like a masked country field',
          country: `bbk://country/${wikipedia.id}/GB`,
          nearby: [`BBK://country/${wikipedia.id}/FR`, { deeper: `bbk://country/${wikipedia.id}/IN` }],
          not_links: [`bbk://country/${wikipedia.id}/GB/extra`, `see bbk://country/${wikipedia.id}/GB`, 'bbk://Country/x/y'],
        },
        instance: { visited_from: `bbk://country/${wikipedia.id}/JP` },
      },
    ]);
    await upsert(contributor, drafts, [{ id: 'draft', name: 'Draft site', entity: { country: 'FR' } }]);

    await createPolicy(admin, 'all', { legal: LEGAL });
    await createPolicy(admin, 'europe', { segment: { type: 'country', 'entity.continent': 'Europe' }, legal: [LEGAL[0]] });
    await createPolicy(admin, 'sites', { segment: { type: 'heritage-site' } });
    await createPolicy(admin, 'masked', {
      masks: [
        'country.entity.population',
        'country.instance.independence',
        'country.entity.capital',
        'country.population',
        'country.entity.currency.code',
        'country.other.motto',
        'country.entity',
        'heritage-site.entity.nowhere',
      ],
    });
    all = consumerAs(platform.api, 'all');
    europe = consumerAs(platform.api, 'europe');
    masked = consumerAs(platform.api, 'masked');
    sites = consumerAs(platform.api, 'sites');
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  describe('the policy segment', () => {
    it('limits lists to matching records of live connectors, in insertion order', async () => {
      expect(ids((await all.get('/entity/country')).body)).toEqual(['GB', 'IN', 'FR', 'JP', 'AQ'].map((v) => id(wikipedia, v)));
      expect(ids((await europe.get('/entity/country')).body)).toEqual(['GB', 'FR'].map((v) => id(wikipedia, v)));
      expect((await europe.get('/entity/heritage-site')).body).toEqual([]);
      expect(ids((await sites.get('/entity/heritage-site')).body)).toEqual([id(unesco, 'stonehenge')]);
      expect((await sites.get('/entity/country')).body).toEqual([]);
      expect((await all.get('/entity/nothing-here')).body).toEqual([]);
    });

    it('answers conditional GETs: an ETag per answer, 304 when it has not changed, distinct per policy', async () => {
      const path = `/entity/country/${id(wikipedia, 'GB')}`;
      const first = await europe.get(path);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[A-Za-z0-9+/=]+"$/);
      expect((await europe.get(path, { 'if-none-match': etag })).status).toBe(304);
      expect((await europe.get(path, { 'if-none-match': '"stale"' })).status).toBe(200);
      // Another policy sees other fields (masks, legal context): another answer, another tag.
      expect((await masked.get(path)).headers.get('etag')).not.toBe(etag);
    });

    it('answers 404 for a record outside the segment, as if it did not exist', async () => {
      expect((await europe.get(`/entity/country/${id(wikipedia, 'GB')}`)).status).toBe(200);
      expect((await europe.get(`/entity/country/${id(wikipedia, 'IN')}`)).status).toBe(404);
      expect((await europe.get(`/entity/heritage-site/${id(unesco, 'stonehenge')}`)).status).toBe(404);
      expect((await sites.get(`/entity/country/${id(wikipedia, 'GB')}`)).status).toBe(404);
      // The type in the path must be the record's.
      expect((await all.get(`/entity/heritage-site/${id(wikipedia, 'GB')}`)).status).toBe(404);
      expect((await all.get(`/entity/country/${id(wikipedia, 'GB').toUpperCase()}`)).status).toBe(200);
    });

    it('lists only the types that have visible records', async () => {
      expect(ids((await all.get('/entity')).body)).toEqual(['country', 'heritage-site']);
      expect(ids((await europe.get('/entity')).body)).toEqual(['country']);
      expect(ids((await sites.get('/entity')).body)).toEqual(['heritage-site']);
      expect((await all.get('/entity')).body[0]).toEqual({
        id: 'country',
        url: `${platform.consumer.api}/entity/country`,
        name: 'country',
        description: 'The country type',
      });
    });

    it('is ANDed to catalog queries: no query can OR its way out of it', async () => {
      const europeans = ['GB', 'FR'].map((v) => id(wikipedia, v));
      expect(ids((await europe.get(q({ type: 'country' }))).body)).toEqual(europeans);
      expect((await europe.get(q({ 'entity.continent': 'Asia' }))).body).toEqual([]);
      expect((await europe.get(q({ type: 'heritage-site' }))).body).toEqual([]);
      for (const escape of [
        { $or: [{ type: 'country' }, { 'entity.continent': 'Asia' }] },
        { $or: [{ type: 'heritage-site' }, { type: 'country' }] },
        { $or: [{ 'entity.continent': 'Asia' }, { 'entity.continent': { $ne: 'Asia' } }] },
        { $nor: [{ 'entity.continent': 'Nowhere' }] },
        { $or: [{ name: { $regex: '.*' } }, { name: null }] },
        { 'entity.population': { $gte: 0 } },
        { $and: [{ $or: [{ type: 'country' }, { type: { $ne: 'country' } }] }] },
      ]) {
        const { status, body } = await europe.get(q(escape));
        expect({ escape, status }).toEqual({ escape, status: 200 });
        expect(ids(body).filter((item) => !europeans.includes(item))).toEqual([]);
      }
      expect(ids((await all.get(q({ 'entity.continent': 'Asia' }))).body)).toEqual(['IN', 'JP'].map((v) => id(wikipedia, v)));
      expect(ids((await sites.get(q({ $or: [{ type: 'country' }, { type: 'heritage-site' }] }))).body)).toEqual([id(unesco, 'stonehenge')]);
    });

    it('answers [] for no query or {} (BitBroker convention), and every record of a type for {"type": …}', async () => {
      expect((await all.get('/catalog')).body).toEqual([]);
      expect((await all.get(q({}))).body).toEqual([]);
      expect(ids((await all.get(q({ type: 'country' }))).body)).toHaveLength(5);
      expect(ids((await all.get(q({ type: { $eq: 'heritage-site' } }))).body)).toEqual([id(unesco, 'stonehenge')]);
      expect((await all.get(q({ type: 'no-such-type' }))).body).toEqual([]);
      expect(ids((await all.get(q({ type: 'country', 'entity.population': { $gt: 100_000_000 } }))).body)).toEqual(
        ['IN', 'JP'].map((v) => id(wikipedia, v)),
      );
    });
  });

  describe('staged connectors (x-bbk-connectors)', () => {
    const staged = (client: ApiClient, connectors: string) => client.withHeaders({ 'x-bbk-connectors': connectors });

    it('are not visible without the header', async () => {
      const everything = [
        ...ids((await all.get('/entity/country')).body),
        ...ids((await all.get('/entity/heritage-site')).body),
        ...ids((await all.get(q({ 'entity.continent': 'Europe' }))).body),
      ];
      for (const hidden of [id(factbook, 'DE'), id(factbook, 'IT'), id(atlas, 'ES'), id(drafts, 'draft')]) expect(everything).not.toContain(hidden);
      expect((await all.get(`/entity/country/${id(factbook, 'DE')}`)).status).toBe(404);
    });

    it("are visible with their contribution id: lists, records, catalog and types, still within the segment", async () => {
      const previewer = staged(europe, factbook.id);
      expect(ids((await previewer.get('/entity/country')).body)).toEqual([
        id(wikipedia, 'GB'),
        id(wikipedia, 'FR'),
        id(factbook, 'DE'),
        id(factbook, 'IT'),
      ]);
      expect((await previewer.get(`/entity/country/${id(factbook, 'DE')}`)).status).toBe(200);
      expect(ids((await previewer.get(q({ 'entity.population': { $gt: 70_000_000 } }))).body)).toEqual([id(factbook, 'DE')]);
      // Another connector's staged records stay hidden, of this type or another.
      expect((await previewer.get(`/entity/country/${id(atlas, 'ES')}`)).status).toBe(404);
      expect(ids((await staged(all, factbook.id).get('/entity/heritage-site')).body)).toEqual([id(unesco, 'stonehenge')]);
      expect(ids((await staged(all, drafts.id).get('/entity')).body)).toEqual(['country', 'heritage-site']);
      expect(ids((await staged(all, drafts.id).get('/entity/heritage-site')).body)).toEqual([id(unesco, 'stonehenge'), id(drafts, 'draft')]);
      expect(ids((await staged(sites, factbook.id).get('/entity')).body)).toEqual(['heritage-site']);
    });

    it('take comma-separated ids, trimmed, empty entries dropped, only the first 16', async () => {
      const filler = Array.from({ length: 15 }, (_, i) => String(i).padStart(40, 'f'));
      const sixteenth = [...filler, atlas.id].join(',');
      const seventeenth = [...filler, factbook.id, atlas.id].join(',');
      expect(ids((await staged(all, sixteenth).get(q({ 'entity.continent': 'Europe' }))).body)).toContain(id(atlas, 'ES'));
      const cut = ids((await staged(all, seventeenth).get(q({ 'entity.continent': 'Europe' }))).body);
      expect(cut).toContain(id(factbook, 'DE'));
      expect(cut).not.toContain(id(atlas, 'ES'));
      const spaced = ids((await staged(all, ` , ${factbook.id} ,, ${atlas.id} ,`).get('/entity/country')).body);
      expect(spaced).toEqual(expect.arrayContaining([id(factbook, 'DE'), id(factbook, 'IT'), id(atlas, 'ES')]));
      expect((await staged(all, `${factbook.id}' OR '1'='1`).get('/entity/country')).body).toHaveLength(5);
    });
  });

  describe('field masks', () => {
    it('remove top-level entity and instance fields of the masked type from full records only', async () => {
      const { body } = await masked.get(`/entity/country/${id(wikipedia, 'GB')}`);
      expect(Object.keys(body)).toEqual(['id', 'url', 'type', 'name', 'entity', 'instance', 'timeseries', 'legal']);
      // population and capital masked; the nested currency.population and currency.code are not (only top-level keys).
      expect(body.entity).toEqual({ continent: 'Europe', currency: { code: 'GBC', population: 'nested, never masked' } });
      expect(body.instance).toEqual({ motto: 'Motto of GB' });
      // Malformed masks (two or four parts, unknown section, no field) change nothing.
      const unmasked = (await all.get(`/entity/country/${id(wikipedia, 'GB')}`)).body;
      expect(unmasked.entity).toEqual(country('GB', 'Europe', 66_000_000).entity);
      expect(unmasked.instance).toEqual(country('GB', 'Europe', 66_000_000).instance);
    });

    it('only apply to records of the type they name', async () => {
      const { body } = await masked.get(`/entity/heritage-site/${id(unesco, 'stonehenge')}`);
      expect(body.entity.capital).toBe('a site field named like a masked country field');
    });
  });

  describe('legal context', () => {
    it("is the policy's legal_context on briefs and full records, not on type briefs", async () => {
      const [brief] = (await all.get('/entity/country?limit=1')).body;
      expect(brief).toEqual({ id: id(wikipedia, 'GB'), url: `${platform.consumer.api}/entity/country/${id(wikipedia, 'GB')}`, type: 'country', name: 'Country GB', legal: LEGAL });
      expect((await all.get(q({ 'entity.continent': 'Asia' }))).body.map((item: { legal: unknown }) => item.legal)).toEqual([LEGAL, LEGAL]);
      expect((await europe.get(`/entity/country/${id(wikipedia, 'FR')}`)).body.legal).toEqual([LEGAL[0]]);
      expect((await sites.get(`/entity/heritage-site/${id(unesco, 'stonehenge')}`)).body.legal).toEqual([]);
      expect((await all.get('/entity')).body[0]).not.toHaveProperty('legal');
    });
  });

  describe('bbk:// links', () => {
    it('are rewritten, however deep, in entity and instance of full records', async () => {
      const base = platform.consumer.api;
      const { body } = await all.get(`/entity/heritage-site/${id(unesco, 'stonehenge')}`);
      expect(body.entity.country).toBe(`${base}/entity/country/${id(wikipedia, 'GB')}`);
      expect(body.entity.nearby).toEqual([`${base}/entity/country/${id(wikipedia, 'FR')}`, { deeper: `${base}/entity/country/${id(wikipedia, 'IN')}` }]);
      expect(body.instance.visited_from).toBe(`${base}/entity/country/${id(wikipedia, 'JP')}`);
      // Only whole strings of the exact form are links.
      expect(body.entity.not_links).toEqual([
        `bbk://country/${wikipedia.id}/GB/extra`,
        `see bbk://country/${wikipedia.id}/GB`,
        'bbk://Country/x/y',
      ]);
      // The rewritten URL works.
      expect((await all.get(body.entity.country.slice(base.length))).body.name).toBe('Country GB');
    });
  });

  describe('paging', () => {
    it('takes limit and offset as BitBroker does', async () => {
      expect(ids((await all.get('/entity/country?limit=2&offset=1')).body)).toEqual(['IN', 'FR'].map((v) => id(wikipedia, v)));
      expect(ids((await all.get('/entity/country?limit=1$&offset=4')).body)).toEqual([id(wikipedia, 'AQ')]);
      expect((await all.get('/entity/country?offset=5')).body).toEqual([]);
      expect((await all.get('/entity/country?offset=100000000')).body).toEqual([]);
      expect(ids((await all.get(`${q({ type: 'country' })}&limit=2&offset=3`)).body)).toEqual(['JP', 'AQ'].map((v) => id(wikipedia, v)));
      expect(ids((await all.get('/entity?limit=1&offset=1')).body)).toEqual(['heritage-site']);
    });

    it('refuses bad values with BitBroker reasons, on every list', async () => {
      for (const path of ['/entity/country', '/catalog', '/entity']) {
        const join = path === '/catalog' ? `${q({ type: 'country' })}&` : `${path}?`;
        expect(errorLines(await all.get(`${join}limit=abc`))).toEqual(['limit: is not of a type(s) integer']);
        expect(errorLines(await all.get(`${join}limit=.2`))).toEqual([
          'limit: is not of a type(s) integer',
          'limit: must be greater than or equal to 1',
        ]);
        expect(errorLines(await all.get(`${join}limit=0`))).toEqual(['limit: must be greater than or equal to 1']);
        expect(errorLines(await all.get(`${join}limit=1000`))).toEqual(['limit: must be less than or equal to 250']);
        expect(errorLines(await all.get(`${join}offset=-1`))).toEqual(['offset: must be greater than or equal to 0']);
        expect(errorLines(await all.get(`${join}limit=0&offset=-1`))).toEqual([
          'limit: must be greater than or equal to 1',
          'offset: must be greater than or equal to 0',
        ]);
      }
    });
  });

  it('answers 403 without a policy or with an unknown one', async () => {
    expect((await platform.api.get('/entity')).status).toBe(403);
    expect((await consumerAs(platform.api, 'nobody').get('/entity/country')).status).toBe(403);
  });
});
