import { createHash, randomUUID } from 'crypto';
import { Parser } from 'n3';
import { Client } from 'pg';
import { DatasetPage, DcatAdapter } from '@odb/catalog-connectors';
import { ApiClient, InProcessService, TestEnvironment, describeWithInfrastructure, startInProcess } from '@odb/testing';
import { startCoordinator } from '../../coordinator/test/coordinator.support';
import { ConsumerQueryConfig } from '../src/config';
import { consumerQueryService } from '../src/service';

const DCAT = 'http://www.w3.org/ns/dcat#';
const DCT = 'http://purl.org/dc/terms/';
const HYDRA = 'http://www.w3.org/ns/hydra/core#';

/** The platform's own catalog as DCAT-AP, as a portal harvesting it sees it (no consumer key). */
describeWithInfrastructure('consumer API: DCAT-AP feed', () => {
  let env: TestEnvironment;
  let coordinator: InProcessService<any>;
  let consumer: InProcessService<ConsumerQueryConfig>;
  let admin: ApiClient;
  let anonymous: ApiClient;

  async function sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** An entity type with a connector (live or staging) and `records` records. */
  async function seedType(slug: string, live: boolean, records: number, extra: Record<string, unknown> = {}): Promise<void> {
    expect((await admin.post(`/entity/${slug}`, { name: `Type ${slug}`, description: `About ${slug}`, tags: ['seeded'], ...extra })).status).toBe(201);
    expect((await admin.post(`/entity/${slug}/connector/source`, { name: 'Source', description: 'Where it comes from' })).status).toBe(201);
    if (live) expect((await admin.post(`/entity/${slug}/connector/source/live`)).status).toBe(204);
    for (let i = 0; i < records; i += 1) {
      await sql(
        `INSERT INTO record (public_id, connector_id, entity_type_id, vendor_id, name, document)
         SELECT $1, c.id, t.id, $2, $2, $3 FROM connector c JOIN entity_type t ON t.id = c.entity_type_id WHERE t.slug = $4`,
        [createHash('sha1').update(randomUUID()).digest('hex'), `r${i}`, JSON.stringify({ id: `r${i}`, name: `r${i}`, type: slug, entity: {} }), slug],
      );
    }
  }

  beforeAll(async () => {
    env = await TestEnvironment.create();
    ({ service: coordinator, api: admin } = await startCoordinator(env));
    consumer = await startInProcess(consumerQueryService, env.serviceEnv());
    anonymous = new ApiClient(consumer.api);
    await seedType('bike-stations', true, 2, { name: 'Bike stations', description: 'Self-service bike stations', tags: ['mobility'] });
    expect(
      (
        await admin.put('/entity/bike-stations/metadata', {
          license: { id: 'etalab-2.0' },
          frequency: 'daily',
          keywords: ['bikes'],
          temporal: { start: '2020-01-01', end: '2024-12-31' },
          spatial: 'Lyon',
          publisher: { name: 'Mobility department', email: 'mobility@example.org', url: 'https://example.org/mobility' },
          landing_page: 'https://example.org/bikes',
        })
      ).status,
    ).toBe(204);
    await seedType('air-quality', true, 1);
    await seedType('parking', true, 3);
    await seedType('drafts', false, 2); // staged only: consumers see nothing of it
    await seedType('empty', true, 0);
  });

  afterAll(async () => {
    await consumer?.close();
    await coordinator?.close();
    await env?.dispose();
  });

  const datasets = (document: any) => (document['dcat:dataset'] as any[]) ?? [];

  it('answers JSON-LD without a consumer key, listing the types consumers can see data of', async () => {
    const { status, headers, body } = await anonymous.get('/dcat/catalog');
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/ld\+json/);
    expect(body['@type']).toEqual(['dcat:Catalog', 'hydra:Collection']);
    expect(body['hydra:totalItems']).toBe(3);
    expect(datasets(body).map((dataset) => dataset['dct:identifier'])).toEqual(['air-quality', 'bike-stations', 'parking']);
    const bikes = datasets(body)[1];
    expect(bikes).toMatchObject({
      '@id': `${consumer.api}/dcat/dataset/bike-stations`,
      '@type': 'dcat:Dataset',
      'dct:title': 'Bike stations',
      'dct:description': 'Self-service bike stations',
      'dcat:keyword': ['mobility', 'bikes'],
      'dct:accrualPeriodicity': { '@id': 'http://publications.europa.eu/resource/authority/frequency/DAILY' },
      'dct:temporal': { 'dcat:startDate': { '@value': '2020-01-01', '@type': 'xsd:date' } },
      'dct:spatial': { 'skos:prefLabel': 'Lyon' },
      'dct:publisher': { 'foaf:name': 'Mobility department' },
      'dcat:contactPoint': { 'vcard:hasEmail': { '@id': 'mailto:mobility@example.org' } },
      'dcat:landingPage': { '@id': 'https://example.org/bikes' },
    });
    expect(bikes['dcat:distribution'].map((distribution: any) => [distribution['dcat:accessURL']['@id'], distribution['dct:license']['@id']])).toEqual([
      [`${consumer.api}/entity/bike-stations`, 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/'],
      [`${consumer.api}/entity/bike-stations?format=csv`, 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/'],
    ]);
    expect(body['dcat:service']).toMatchObject({ 'dcat:endpointDescription': { '@id': `${consumer.api}/openapi.json` } });
  });

  it('answers Turtle when asked by Accept or by ?format=ttl', async () => {
    for (const [path, headers] of [
      ['/dcat/catalog', { accept: 'text/turtle' }],
      ['/dcat/catalog?format=ttl', {}],
    ] as const) {
      const response = await anonymous.get(path, headers);
      expect(response.headers.get('content-type')).toMatch(/^text\/turtle/);
      expect(response.text).toContain('@prefix dcat: <http://www.w3.org/ns/dcat#>.');
      const quads = new Parser({ baseIRI: consumer.api }).parse(response.text);
      const identifiers = quads.filter((quad) => quad.predicate.value === `${DCT}identifier`).map((quad) => quad.object.value);
      expect(identifiers.sort()).toEqual(['air-quality', 'bike-stations', 'parking']);
      expect(quads.some((quad) => quad.predicate.value === `${DCAT}distribution`)).toBe(true);
    }
  });

  it('pages with hydra: a PartialCollectionView with first, last, next and previous', async () => {
    const first = (await anonymous.get('/dcat/catalog?page_size=2')).body;
    expect(datasets(first)).toHaveLength(2);
    expect(first['hydra:view']).toEqual({
      '@id': `${consumer.api}/dcat/catalog?page=1&page_size=2`,
      '@type': 'hydra:PartialCollectionView',
      'hydra:first': { '@id': `${consumer.api}/dcat/catalog?page=1&page_size=2` },
      'hydra:last': { '@id': `${consumer.api}/dcat/catalog?page=2&page_size=2` },
      'hydra:next': { '@id': `${consumer.api}/dcat/catalog?page=2&page_size=2` },
    });
    const second = (await anonymous.get('/dcat/catalog?page=2&page_size=2')).body;
    expect(datasets(second).map((dataset) => dataset['dct:identifier'])).toEqual(['parking']);
    expect(second['hydra:view']['hydra:previous']).toEqual({ '@id': `${consumer.api}/dcat/catalog?page=1&page_size=2` });
    expect(second['hydra:view']['hydra:next']).toBeUndefined();
    const turtle = await anonymous.get('/dcat/catalog?page_size=2&format=ttl');
    const next = new Parser().parse(turtle.text).find((quad) => quad.predicate.value === `${HYDRA}next`);
    expect(next?.object.value).toBe(`${consumer.api}/dcat/catalog?page=2&page_size=2&format=ttl`);
  });

  it.each([
    ['JSON-LD', `/dcat/catalog?page_size=2`],
    ['Turtle', `/dcat/catalog?page_size=2&format=ttl`],
  ])('is harvested whole by a DCAT harvester following the pages (%s)', async (_format, path) => {
    const adapter = new DcatAdapter({ url: `${consumer.api}${path}` }, { httpOptions: { allowedHosts: [new URL(consumer.url).host] } });
    const pages: DatasetPage[] = [];
    for await (const page of adapter.listDatasets()) pages.push(page);
    expect(pages).toHaveLength(2);
    expect(pages.every((page) => !page.incomplete)).toBe(true);
    const harvested = pages.flatMap((page) => page.datasets);
    expect(harvested.map((dataset) => dataset.remoteId).sort()).toEqual(['air-quality', 'bike-stations', 'parking']);
    const bikes = harvested.find((dataset) => dataset.remoteId === 'bike-stations')!;
    expect(bikes).toMatchObject({ title: 'Bike stations', frequency: 'daily', license: { id: 'etalab-2.0' }, landingPage: 'https://example.org/bikes' });
    expect(bikes.keywords.sort()).toEqual(['bikes', 'mobility']);
    expect(bikes.distributions.map((distribution) => distribution.url).sort()).toEqual([
      `${consumer.api}/entity/bike-stations`,
      `${consumer.api}/entity/bike-stations?format=csv`,
    ]);
  });

  it('answers each dataset IRI, and only for listed datasets', async () => {
    const { status, body } = await anonymous.get('/dcat/dataset/bike-stations');
    expect(status).toBe(200);
    expect(body).toMatchObject({ '@id': `${consumer.api}/dcat/dataset/bike-stations`, 'dct:identifier': 'bike-stations' });
    expect((await anonymous.get('/dcat/dataset/drafts')).status).toBe(404);
    expect((await anonymous.get('/dcat/dataset/nowhere')).status).toBe(404);
  });

  it('refuses bad paging and unknown formats with the API error envelope', async () => {
    const bad = await anonymous.get('/dcat/catalog?page=0&page_size=1000');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message.map((error: { name: string }) => error.name)).toEqual(['page', 'page_size']);
    expect((await anonymous.get('/dcat/catalog?format=xml')).status).toBe(400);
    const beyond = await anonymous.get('/dcat/catalog?page=9&page_size=2');
    expect(beyond.status).toBe(200);
    expect(datasets(beyond.body)).toEqual([]);
  });
});
