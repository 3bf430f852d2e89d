import { FakeDcat } from '@odb/testing';
import type { DatasetPage, HarvestedDataset } from '../adapter';
import { CatalogPayloadError } from '../errors';
import { collectPages, readFixture, testHttpOptions } from '../testing/test-helpers';
import { DcatAdapter } from './dcat.adapter';

/**
 * Every recorded DCAT payload in shared/fixtures/real/dcat, served by the fake
 * with the content type its format has on the wire, harvested through the
 * adapter. Expected values are read from the files.
 */
describe('DCAT adapter on recorded catalogs', () => {
  let dcat: FakeDcat;

  beforeAll(async () => {
    dcat = await new FakeDcat().start();
  });

  afterAll(() => dcat.stop());

  const CONTENT_TYPES: Record<string, string> = {
    jsonld: 'application/ld+json',
    json: 'application/json',
    ttl: 'text/turtle',
    xml: 'application/rdf+xml',
    rdf: 'application/rdf+xml',
  };

  async function harvest(file: string, body = readFixture('real', 'dcat', file)): Promise<DatasetPage[]> {
    const path = `/${file}`;
    dcat.serveDocument(path, body, CONTENT_TYPES[file.split('.').pop()!]);
    const adapter = new DcatAdapter({ url: `${dcat.url}${path}` }, { httpOptions: testHttpOptions([dcat.host]) });
    return collectPages(adapter.listDatasets());
  }

  async function datasetsOf(file: string, body?: string): Promise<HarvestedDataset[]> {
    const pages = await harvest(file, body);
    expect(pages.every((page) => page.skipped.length === 0 && !page.incomplete)).toBe(true);
    return pages.flatMap((page) => page.datasets);
  }

  const byId = (datasets: HarvestedDataset[]) => Object.fromEntries(datasets.map((dataset) => [dataset.remoteId, dataset]));

  it('flat.jsonld: expanded JSON-LD, one node per resource, linked by @id', async () => {
    const datasets = await datasetsOf('flat.jsonld');
    expect(datasets.map((d) => [d.remoteId, d.title])).toEqual([
      ['1', 'Dataset 1'],
      ['2', 'Dataset 2'],
      ['3', 'Dataset 3'],
    ]);
    expect(datasets[0]).toMatchObject({
      description: 'Dataset 1 description',
      keywords: ['Tag 1', 'Tag 2', 'Tag 3', 'Tag 4'],
      landingPage: 'http://data.test.org/datasets/1',
      publisher: { name: 'An Organization', id: 'http://data.test.org/organizations/1' },
      issued: '2016-12-14T18:59:02.737Z',
      modified: '2016-12-14T19:01:24.184Z',
      temporal: { start: '2016-12-05T00:00:00.000Z' },
      spatial: { uris: ['http://wuEurope.com'] },
    });
    expect(datasets[0].distributions.map((d) => [d.remoteId, d.title, d.format, d.url])).toEqual([
      ['http://data.test.org/datasets/1/resources/1', 'Resource 1-1', 'JSON', 'http://data.test.org/datasets/1/resources/1/file.json'],
      ['http://data.test.org/datasets/1/resources/2', 'Resource 1-2', 'JSON', 'http://data.test.org/datasets/1/resources/2/file.json'],
    ]);
    expect(datasets[1].temporal).toEqual({ start: '2016-01-01T00:00:00.000Z', end: '2016-12-05T00:00:00.000Z' });
  });

  it('nested.jsonld: one dataset with a checksummed distribution', async () => {
    const [dataset] = await datasetsOf('nested.jsonld');
    expect(dataset).toMatchObject({ remoteId: '1', title: 'Dataset 1', description: 'Dataset description' });
    expect(dataset.distributions).toEqual([
      { remoteId: 'http://data.test.org/datasets/1/resources/1', title: 'Resource 1-1', format: 'JSON', url: 'http://data.test.org/datasets/1/resources/1/file.json' },
    ]);
  });

  it('bnodes.jsonld: datasets and distributions as blank nodes, one with no @id at all', async () => {
    const datasets = await datasetsOf('bnodes.jsonld');
    expect(datasets.map((d) => [d.remoteId, d.title])).toEqual([
      ['1', 'Dataset 1'],
      ['2', 'Dataset 2'],
      ['3', 'Dataset 3'],
    ]);
    // "_:dataset-1" given as a landing page literal is not a URL.
    expect(datasets[0].landingPage).toBeUndefined();
    expect(datasets[0].publisher).toEqual({ name: 'An Organization' });
    expect(datasets[0].distributions[0]).toMatchObject({ title: 'Resource 1-1', mediaType: 'application/json', remoteId: expect.stringMatching(/^derived:/) });
    // Blank node labels change between parses; derived ids must not.
    const again = await datasetsOf('bnodes.jsonld');
    expect(again[0].distributions.map((d) => d.remoteId)).toEqual(datasets[0].distributions.map((d) => d.remoteId));
  });

  it('catalog_with_at_graph.jsonld: compact JSON-LD with @context and @graph, identified by URI', async () => {
    const [dataset] = await datasetsOf('catalog_with_at_graph.jsonld');
    expect(dataset).toMatchObject({
      remoteId: 'https://ckan.example.org/dataset/d4ce4e6e-ab89-44cb-bf5c-33a162c234de#dataset',
      title: 'Title dataset',
      description: 'Description distribution',
      license: { id: 'CC0-1.0' },
    });
    expect(dataset.distributions).toEqual([
      expect.objectContaining({ title: 'download.zip', url: 'http://example2.org/files/download.zip' }),
    ]);
  });

  it('catalog.xml: RDF/XML with relative IRIs, nested nodes, licenses as titles, hasPart not a distribution', async () => {
    const datasets = byId(await datasetsOf('catalog.xml'));
    expect(Object.keys(datasets).sort()).toEqual(['1', '2', '3', '4']);
    expect(datasets['3']).toMatchObject({
      title: 'Dataset 3',
      frequency: 'daily',
      license: { id: 'etalab-2.0' },
      temporal: { start: '2016-01-01T00:00:00.000Z', end: '2016-12-05T00:00:00.000Z' },
      distributions: [expect.objectContaining({ remoteId: `${dcat.url}/datasets/3/resources/1`, title: 'Resource 3-1' })],
    });
    expect(datasets['1']).toMatchObject({
      title: 'Dataset 1',
      description: '<h1>h1 title</h1><h2>h2 title</h2><b>and bold text</b>',
      // the dataset has none; its first distribution says "Licence Ouverte Version 1.0"
      license: { id: 'etalab-1.0' },
    });
    expect(datasets['1'].frequency).toBeUndefined(); // purl.org/cld/freq/ThisTermDoesNotExist
    expect(datasets['1'].distributions.map((d) => d.title)).toEqual(['Resource 1-1', 'Resource 1-2', 'Resource 1-4']);
    expect(datasets['1'].distributions[0]).toMatchObject({ format: 'JSON', mediaType: 'application/json', size: 12323 });
    expect(datasets['2'].license).toMatchObject({ id: 'etalab-2.0' }); // from dct:rights
  });

  it('dataset_gov_de.rdf: DCAT-AP.de dataset with nine distributions', async () => {
    const [dataset] = await datasetsOf('dataset_gov_de.rdf');
    expect(dataset).toMatchObject({
      remoteId: 'c1be4007-d811-48fb-8818-2cb358b06a63',
      title: 'Liefer- und Abholservices (Gastronomie)',
      landingPage: 'https://www.opendata-hro.de/dataset/c1be4007-d811-48fb-8818-2cb358b06a63',
      publisher: { name: 'Hanse- und Universitätsstadt Rostock' },
      license: { id: 'CC0-1.0' },
      modified: '2024-05-08T04:11:24.309Z',
      spatial: { geometry: expect.objectContaining({ type: 'Polygon' }) },
    });
    expect(dataset.keywords).toContain('ökonomie');
    expect(dataset.distributions).toHaveLength(9);
    expect(dataset.distributions.map((d) => d.format)).toEqual(['GEOJSON', 'WMS', 'WFS', undefined, undefined, 'XLSX', 'CSV', 'GML', 'KML']);
    expect(dataset.distributions[0]).toMatchObject({
      remoteId: 'https://www.opendata-hro.de/dataset/c1be4007-d811-48fb-8818-2cb358b06a63/resource/8fccc5c3-a9cd-47bc-861d-8d32182c0729',
      url: 'https://geo.sv.rostock.de/download/opendata/lieferservices/lieferservices.json',
      mediaType: 'application/geo+json',
      size: 147253,
    });
  });

  it('catalog_pod.jsonld: Project Open Data catalog read as data.json', async () => {
    const [dataset] = await datasetsOf('catalog_pod.jsonld');
    expect(dataset).toMatchObject({
      remoteId: 'widgets-0001',
      title: 'U.S. Widget Manufacturing Statistics',
      keywords: ['widget', 'manufacturing', 'factory'],
      license: { id: 'CC0-1.0' },
      publisher: { name: 'Widget Services' },
      frequency: 'annual',
      temporal: { start: '2009-09-01T12:00:00.000Z', end: '2010-05-31T12:00:00.000Z' },
      spatial: { text: 'United States' },
    });
    expect(dataset.distributions.map((d) => [d.title, d.format, d.url])).toEqual([
      ['widgets.csv', 'CSV', 'https://data.agency.gov/datasets/widgets-statistics/widgets.csv'],
      ['widgets-all.zip', 'ZIPPED CSV', 'https://data.agency.gov/datasets/widgets-statistics/widgets-all.zip'],
      ['widgets-all.json', 'JSON', 'http://www.agency.gov/feeds/widgets-all.json'],
      ['Widgets REST API', 'API', 'https://data.agency.gov/api/widgets-statistics/'],
    ]);
  });

  it('evian.json: a real ArcGIS Hub DCAT-US data.json with a remote @context (not fetched)', async () => {
    const datasets = await datasetsOf('evian.json');
    expect(datasets.map((d) => d.title)).toEqual([
      'stationnement velos',
      'poubelles',
      'defibrillateurs',
      'places de marche',
      'places PMR',
      'Publication actes dématérialisés',
      'Carte piéton concertation',
      'Carte vélo finale',
    ]);
    expect(datasets[0]).toMatchObject({
      remoteId: 'https://www.arcgis.com/home/item.html?id=f6565516d1354383b25793e630cf3f2b&sublayer=5',
      // the license is an HTML paragraph quoting the Etalab URL
      license: { id: 'etalab-2.0' },
      publisher: { name: "Ville d'Evian-les-Bains" },
      spatial: { geometry: { type: 'Polygon', coordinates: [[[6.5735, 46.3912], [6.6069, 46.3912], [6.6069, 46.4028], [6.5735, 46.4028], [6.5735, 46.3912]]] } },
    });
    expect(datasets[0].distributions.map((d) => d.format)).toEqual(['WEB PAGE', 'ARCGIS GEOSERVICES REST API', 'CSV', 'GEOJSON', 'ZIP', 'KML']);
    expect(dcat.requests.some((request) => request.path.includes('project-open-data'))).toBe(false);
  });

  it('dataset.ttl: reported as invalid Turtle (undeclared prefix), not a crash', async () => {
    const error = await harvest('dataset.ttl').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogPayloadError);
    expect((error as Error).message).toMatch(/invalid Turtle: Undefined prefix "healthdcatap:" on line 149/);
  });

  it('dataset.ttl, with its two syntax errors repaired: HealthDCAT-AP dataset and its series', async () => {
    const repaired = `@prefix healthdcatap: <http://healthdataportal.eu/ns/health#> .\n${readFixture('real', 'dcat', 'dataset.ttl').replace('^^<<http', '^^<http')}`;
    const datasets = byId(await datasetsOf('dataset.ttl', repaired));
    expect(Object.keys(datasets)).toEqual(['http://example.com/dataset/1234567890', 'http://example.com/series']);
    expect(datasets['http://example.com/dataset/1234567890']).toMatchObject({
      title: 'HealthDCAT-AP test dataset',
      description: 'This dataset is an example of using HealthDCAT-AP in CKAN',
      keywords: ['Test 1', 'Test 2', 'Test 3'],
      frequency: 'daily',
      issued: '2024-01-01T00:00:00.000Z',
      temporal: { start: '2020-03-01T00:00:00.000Z', end: '2024-12-31T00:00:00.000Z' },
      publisher: { name: 'Contact Point' },
      spatial: { uris: ['http://publications.europa.eu/resource/authority/country/BEL'] },
      license: { id: 'CC-BY-NC-ND-3.0' },
      distributions: [
        expect.objectContaining({
          remoteId: 'http://ehelse.healthdataportal.eu/analytics/47f55653-a151-48c1-8d90-940561da6e57',
          format: 'CSV',
          mediaType: 'text/csv',
        }),
      ],
    });
    expect(datasets['http://example.com/series']).toMatchObject({ title: 'Example dataset series', frequency: 'daily' });
  });

  describe.each([
    ['paged-collection', 'hydra:PagedCollection + nextPage'],
    ['partial-collection', 'hydra:PartialCollectionView + next'],
  ])('%s-1/2.jsonld (%s)', (name) => {
    it('walks both pages and yields the four datasets', async () => {
      // The recorded pages point at http://data.test.org: make them point at the fake.
      const page = (n: number) => readFixture('real', 'dcat', `${name}-${n}.jsonld`).split('http://data.test.org/catalog.jsonld').join(`${dcat.url}/${name}.jsonld`);
      dcat.serveDocument(`/${name}.jsonld`, page(1), 'application/ld+json');
      dcat.serveDocument(`/${name}.jsonld?page=2`, page(2), 'application/ld+json');
      dcat.clearRequests();
      const adapter = new DcatAdapter({ url: `${dcat.url}/${name}.jsonld` }, { httpOptions: testHttpOptions([dcat.host]) });
      const pages = await collectPages(adapter.listDatasets());
      expect(pages.map((p) => [p.datasets.map((d) => d.remoteId), p.total, p.incomplete])).toEqual([
        [['1', '2', '3'], 4, undefined],
        [['4'], 4, undefined],
      ]);
      // as recorded: the fourth dataset is titled "Dataset 1" too
      expect(pages[1].datasets[0]).toMatchObject({ title: 'Dataset 1', description: 'Dataset 4 description' });
      expect(dcat.requests.map((request) => `${request.path}${request.query.size ? `?${request.query}` : ''}`)).toEqual([
        `/${name}.jsonld`,
        `/${name}.jsonld?page=2`,
      ]);
    });
  });
});
