import { createHash } from 'crypto';
import { Server, createServer } from 'http';
import { AddressInfo } from 'net';
import { ApiClient, FakeCkan, describeWithInfrastructure } from '@odb/testing';
import { HarvestPlatform, addCatalog, addSource, runHarvest, sql, startHarvestPlatform } from './harvest.support';

/** Data files over HTTP, with ETags (conditional requests answer 304). */
class FileServer {
  readonly files = new Map<string, { body: string; type: string }>();
  readonly hits: string[] = [];
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      this.hits.push(`${request.method} ${path}`);
      const file = this.files.get(path);
      if (!file) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      const etag = `"${createHash('sha1').update(file.body).digest('hex')}"`;
      if (request.headers['if-none-match'] === etag) return void response.writeHead(304, { etag }).end();
      response.writeHead(200, { 'content-type': file.type, etag }).end(file.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get host(): string {
    return `127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  url(path: string): string {
    return `http://${this.host}${path}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

function stationsCsv(rows: Array<[string, string, string, string]>): string {
  return ['id;name;capacity;open', ...rows.map((row) => row.join(';'))].join('\n');
}

describeWithInfrastructure('harvester: data mode', () => {
  const ckan = new FakeCkan();
  const files = new FileServer();
  let platform: HarvestPlatform;
  let api: ApiClient;
  const typeOf = async (resourceUrl: string) =>
    (
      await sql(
        platform.env,
        `SELECT t.slug, t.schema, t.dataset_metadata, t.name FROM entity_type t WHERE t.dataset_metadata #>> '{resource,url}' = $1`,
        [resourceUrl],
      )
    )[0];
  const rowsOf = async (entityType: string) =>
    new Map(
      (await sql(platform.env, `SELECT r.vendor_id, r.document FROM record r JOIN entity_type t ON t.id = r.entity_type_id WHERE t.slug = $1`, [entityType])).map(
        (row) => [row.vendor_id, row.document.entity],
      ),
    );

  beforeAll(async () => {
    await files.start();
    await ckan.start();
    files.files.set('/stations.csv', {
      type: 'text/csv',
      body: stationsCsv([
        ['S1', 'Gare', '20', 'true'],
        ['S2', 'Mairie', '12', 'false'],
        ['S3', 'Port', '', 'true'],
      ]),
    });
    files.files.set('/zones.geojson', {
      type: 'application/geo+json',
      body: JSON.stringify({
        type: 'FeatureCollection',
        features: [
          { type: 'Feature', id: 'z1', properties: { id: 'Z1', label: 'North' }, geometry: { type: 'Point', coordinates: [2.35, 48.85] } },
          { type: 'Feature', id: 'z2', properties: { id: 'Z2', label: 'South' }, geometry: { type: 'Point', coordinates: [2.3, 48.8] } },
        ],
      }),
    });
    files.files.set('/items.json', { type: 'application/json', body: JSON.stringify([{ id: 1, kind: 'bench', tags: ['wood'] }, { id: 2, kind: 'lamp', tags: [] }]) });
    ckan.addDataset({
      id: 'mobility',
      title: 'Mobility',
      notes: 'Bike stations and zones',
      tags: [{ name: 'mobility' }],
      resources: [
        { id: 'stations', name: 'Stations', url: files.url('/stations.csv'), format: 'CSV' },
        { id: 'zones', name: 'Zones', url: files.url('/zones.geojson'), format: 'GeoJSON' },
        { id: 'doc', name: 'Documentation', url: files.url('/doc.pdf'), format: 'PDF' },
      ],
    });
    ckan.addDataset({ id: 'furniture', title: 'Street furniture', resources: [{ id: 'items', name: 'Items', url: files.url('/items.json'), format: 'JSON' }] });
    ckan.addDataset({ id: 'broken', title: 'Broken link', resources: [{ id: 'missing', name: 'Missing', url: files.url('/missing.csv'), format: 'CSV' }] });
    platform = await startHarvestPlatform([ckan.host, files.host]);
    api = platform.api;
    await addCatalog(api, 'portal', { type: 'ckan', url: ckan.url });
    await addSource(api, 'city-data', { catalog: 'portal', mode: 'data', row_key: 'id', go_live: true });
  });

  afterAll(async () => {
    await platform?.close();
    await ckan.stop();
    await files.stop();
  });

  it('first harvest: each CSV, JSON and GeoJSON resource becomes an entity type with an inferred schema; a dead link fails alone', async () => {
    const run = await runHarvest(api, 'city-data');
    expect(run.status).toBe('done-with-errors');
    expect(run.counts).toMatchObject({ added: 3, failed: 1 });
    expect(run.items).toEqual(expect.arrayContaining([expect.objectContaining({ remote_id: 'broken#missing', outcome: 'failed', message: expect.stringMatching(/404/) })]));

    const stations = await typeOf(files.url('/stations.csv'));
    expect(stations.slug).toMatch(/^city-data-[0-9a-f]{10}$/);
    expect(stations.name).toBe('Mobility (Stations)');
    expect(stations.schema.properties).toEqual({
      id: { type: ['string', 'null'] },
      name: { type: ['string', 'null'] },
      capacity: { type: ['integer', 'null'] },
      open: { type: ['boolean', 'null'] },
    });
    expect(stations.dataset_metadata).toMatchObject({ title: 'Mobility', keywords: ['mobility'], resource: { format: 'CSV' } });
    expect(Object.fromEntries(await rowsOf(stations.slug))).toEqual({
      S1: { id: 'S1', name: 'Gare', capacity: 20, open: true },
      S2: { id: 'S2', name: 'Mairie', capacity: 12, open: false },
      S3: { id: 'S3', name: 'Port', capacity: null, open: true },
    });
    const zones = await typeOf(files.url('/zones.geojson'));
    expect((await rowsOf(zones.slug)).get('Z1')).toEqual({ id: 'Z1', label: 'North', geometry: { type: 'Point', coordinates: [2.35, 48.85] } });
    const items = await typeOf(files.url('/items.json'));
    expect((await rowsOf(items.slug)).get('1')).toEqual({ id: 1, kind: 'bench', tags: ['wood'] });
    // Connectors owned by the source, live at once (go_live).
    const connectors = await sql(platform.env, `SELECT c.slug, c.is_live FROM connector c JOIN harvest_source s ON s.id = c.harvest_source_id WHERE s.slug = 'city-data'`);
    expect(connectors).toEqual([
      { slug: 'city-data', is_live: true },
      { slug: 'city-data', is_live: true },
      { slug: 'city-data', is_live: true },
    ]);
  });

  it('re-harvest of unchanged files: conditional requests, no record written', async () => {
    files.files.set('/missing.csv', { type: 'text/csv', body: 'id;value\nM1;1' });
    const [{ max }] = await sql(platform.env, `SELECT max(updated_at)::text AS max FROM record`);
    const run = await runHarvest(api, 'city-data');
    expect(run).toMatchObject({ status: 'done', counts: { added: 1, unchanged: 3, failed: 0 } });
    const [{ count }] = await sql(platform.env, `SELECT count(*)::int AS count FROM record r JOIN entity_type t ON t.id = r.entity_type_id WHERE r.updated_at > $1::timestamptz AND t.dataset_metadata #>> '{resource,id}' <> 'missing'`, [max]);
    expect(count).toBe(0);
  });

  it('a changed file replaces its records as a whole: changed rows updated, rows gone deleted, others untouched', async () => {
    files.files.set('/stations.csv', { type: 'text/csv', body: stationsCsv([['S1', 'Gare', '25', 'true'], ['S3', 'Port', '8', 'true']]) });
    const run = await runHarvest(api, 'city-data');
    expect(run).toMatchObject({ status: 'done', counts: { updated: 1, unchanged: 3 } });
    const stations = await typeOf(files.url('/stations.csv'));
    expect(Object.fromEntries(await rowsOf(stations.slug))).toEqual({
      S1: { id: 'S1', name: 'Gare', capacity: 25, open: true },
      S3: { id: 'S3', name: 'Port', capacity: 8, open: true },
    });
  });

  it('a row that does not fit the inferred schema, or holds text PostgreSQL cannot store, is reported on its own; the others are written', async () => {
    const rows: Array<[string, string, string, string]> = Array.from({ length: 1100 }, (_, i) => [`S${i}`, `Station ${i}`, String(i), 'true']);
    rows[1050][2] = 'many';
    rows[20][1] = 'Station\u0000 20';
    files.files.set('/stations.csv', { type: 'text/csv', body: stationsCsv(rows) });
    const run = await runHarvest(api, 'city-data');
    expect(run.status).toBe('done-with-errors');
    expect(run.counts).toMatchObject({ updated: 1, failed: 2 });
    expect(run.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: 'failed', message: expect.stringMatching(/row 1051: column capacity: "many" is not an integer/) }),
        expect.objectContaining({ remote_id: 'mobility#stations#S20', outcome: 'failed', message: expect.stringMatching(/row refused by the catalog: records: contains a NUL character/) }),
      ]),
    );
    const stations = await typeOf(files.url('/stations.csv'));
    expect((await rowsOf(stations.slug)).size).toBe(1098);
  });

  it('a resource gone from the remote: its entity type is deleted after a complete, error-free listing', async () => {
    files.files.set('/stations.csv', { type: 'text/csv', body: stationsCsv([['S1', 'Gare', '25', 'true']]) });
    const items = await typeOf(files.url('/items.json'));
    ckan.getDataset('furniture')!.state = 'deleted';
    const run = await runHarvest(api, 'city-data');
    expect(run).toMatchObject({ status: 'done', listing_complete: true, counts: { deleted: 1 } });
    expect(run.items).toEqual(expect.arrayContaining([expect.objectContaining({ remote_id: 'furniture#items', outcome: 'deleted' })]));
    expect(await sql(platform.env, `SELECT 1 FROM entity_type WHERE slug = $1`, [items.slug])).toEqual([]);
  });

  it('deleting the source deletes the entity types, connectors and records it created', async () => {
    expect((await api.delete('/harvest/city-data')).status).toBe(204);
    expect(await sql(platform.env, `SELECT slug FROM entity_type WHERE harvest_source_id IS NOT NULL`)).toEqual([]);
    expect(await sql(platform.env, `SELECT count(*)::int AS n FROM record`)).toEqual([{ n: 0 }]);
  });
});
