import { FakeCkan } from '@odb/testing';
import type { PublishedDatasetMetadata } from '../adapter';
import { CatalogApiError, CatalogHttpError, CatalogNetworkError, CatalogPayloadError } from '../errors';
import { collectPages, testHttpOptions } from '../testing/test-helpers';
import { CKAN_LOCAL_ID_EXTRA, CkanAdapter } from './ckan.adapter';

describe('CkanAdapter against a fake CKAN', () => {
  let ckan: FakeCkan;
  const token = 'ckan-test-token';

  beforeEach(async () => {
    ckan = await new FakeCkan({ apiTokens: [token] }).start();
    ckan.addOrganization('city', 'City of Example');
  });

  afterEach(() => ckan.stop());

  function adapter(options: { apiKey?: string; organization?: string; pageSize?: number; maxRetries?: number } = {}) {
    return new CkanAdapter(
      { url: ckan.url, apiKey: 'apiKey' in options ? options.apiKey : token, organization: options.organization ?? 'city' },
      { pageSize: options.pageSize, httpOptions: testHttpOptions([ckan.host], { maxRetries: options.maxRetries ?? 3 }) },
    );
  }

  const searches = () => ckan.requestsTo('/api/3/action/package_search');

  describe('harvest', () => {
    it('checks reachability, dataset count and credentials', async () => {
      ckan.generate(3);
      await expect(adapter().check()).resolves.toMatchObject({
        title: 'Fake CKAN',
        datasetCount: 3,
        authenticated: true,
        software: 'CKAN 2.10.4',
      });
      await expect(adapter({ apiKey: 'wrong-token' }).check()).resolves.toMatchObject({ authenticated: false });
      await expect(adapter({ organization: 'elsewhere' }).check()).resolves.toMatchObject({
        warnings: [expect.stringContaining('elsewhere')],
      });
    });

    it('pages package_search sorted by id with rows and start, every dataset once', async () => {
      const created = ckan.generate(25);
      const pages = await collectPages(adapter({ pageSize: 7 }).listDatasets());
      expect(pages.map((page) => page.datasets.length)).toEqual([7, 7, 7, 4]);
      expect(pages.every((page) => page.total === 25 && !page.incomplete)).toBe(true);
      const ids = pages.flatMap((page) => page.datasets.map((dataset) => dataset.remoteId));
      expect([...ids].sort()).toEqual(created.map((pkg) => pkg.id).sort());
      expect(ids).toEqual([...ids].sort());
      expect(searches().map((request) => [request.query.get('sort'), request.query.get('rows'), request.query.get('start')])).toEqual([
        ['id asc', '7', '0'],
        ['id asc', '7', '7'],
        ['id asc', '7', '14'],
        ['id asc', '7', '21'],
      ]);
      expect(pages[0].datasets[0]).toMatchObject({
        title: expect.stringMatching(/^Generated dataset/),
        remoteUrl: expect.stringMatching(new RegExp(`^${ckan.url}/dataset/generated-`)),
        license: { id: 'CC-BY-4.0' },
        distributions: [expect.objectContaining({ format: 'CSV', url: expect.stringMatching(/^https:\/\/files\.example\.org\//) })],
      });
    });

    it('never asks for more than 1000 rows and follows a server that returns fewer', async () => {
      ckan.generate(30);
      await collectPages(adapter({ pageSize: 5000 }).listDatasets());
      expect(searches()[0].query.get('rows')).toBe('1000');

      await ckan.stop();
      ckan = await new FakeCkan({ apiTokens: [token], rowsMax: 8 }).start();
      ckan.generate(30);
      const pages = await collectPages(adapter({ pageSize: 100 }).listDatasets());
      expect(pages.flatMap((page) => page.datasets)).toHaveLength(30);
      expect(searches().map((request) => request.query.get('start'))).toEqual(['0', '8', '16', '24']);
    });

    it('filters by organization, tags, query and resource format remotely', async () => {
      ckan.addOrganization('other');
      ckan.addDataset({ name: 'trees', title: 'Trees of the city', organization: 'city', tags: [{ name: 'nature' }, { name: 'trees' }], resources: [{ url: 'https://x.example/t.csv', format: 'CSV' }] });
      ckan.addDataset({ name: 'trees-json', title: 'Trees as JSON', organization: 'city', tags: [{ name: 'nature' }, { name: 'trees' }], resources: [{ url: 'https://x.example/t.json', format: 'JSON' }] });
      ckan.addDataset({ name: 'parks', title: 'Parks', organization: 'city', tags: [{ name: 'nature' }] });
      ckan.addDataset({ name: 'other-trees', title: 'Trees elsewhere', organization: 'other', tags: [{ name: 'nature' }, { name: 'trees' }] });

      const titles = async (filters: Parameters<CkanAdapter['listDatasets']>[0]) =>
        (await collectPages(adapter().listDatasets(filters))).flatMap((page) => page.datasets.map((d) => d.title)).sort();

      expect(await titles({ organization: 'city', tags: ['nature', 'trees'] })).toEqual(['Trees as JSON', 'Trees of the city']);
      expect(await titles({ organization: 'city', resourceFormats: ['csv'] })).toEqual(['Trees of the city']);
      expect(await titles({ query: 'elsewhere' })).toEqual(['Trees elsewhere']);
      const fq = searches()[0].query.get('fq');
      expect(fq).toBe('+organization:"city" +tags:"nature" +tags:"trees"');
    });

    it('lists only datasets modified since the cursor (incremental harvest)', async () => {
      ckan.setClock('2024-01-01T00:00:00Z');
      const [first, second] = ckan.generate(5);
      ckan.setClock('2024-06-01T00:00:00Z');
      ckan.touch(first.id, { title: 'Changed first' });
      ckan.touch(second.id, { title: 'Changed second' });
      const pages = await collectPages(adapter().listDatasets({}, { modifiedSince: '2024-05-01T00:00:00Z' }));
      expect(pages.flatMap((page) => page.datasets.map((d) => d.title)).sort()).toEqual(['Changed first', 'Changed second']);
      expect(searches()[0].query.get('fq')).toBe('+metadata_modified:[2024-05-01T00:00:00.000Z TO *]');
    });

    it('de-duplicates a dataset pushed onto the next page by an insertion, and flags the listing', async () => {
      ckan.generate(10);
      const pages: Awaited<ReturnType<typeof collectPages>> = [];
      for await (const page of adapter({ pageSize: 5 }).listDatasets()) {
        pages.push(page);
        // Sorts first by id: everything after it shifts one place down.
        if (page.index === 1) ckan.addDataset({ id: '00000000-0000-4000-8000-000000000000', name: 'inserted' });
      }
      const ids = pages.flatMap((page) => page.datasets.map((d) => d.remoteId));
      expect(ids).toHaveLength(new Set(ids).size);
      expect(ids).toHaveLength(10);
      expect(pages.at(-1)?.incomplete).toMatch(/count changed/);
    });

    it('stops when a page repeats (a server ignoring start)', async () => {
      ckan.generate(12);
      ckan.ignoreSearchOffset = true;
      const pages = await collectPages(adapter({ pageSize: 5 }).listDatasets());
      expect(pages).toHaveLength(2);
      expect(pages[0].datasets).toHaveLength(5);
      expect(pages[1]).toMatchObject({ datasets: [], incomplete: expect.stringMatching(/repeated/) });
    });

    it('retries 429 and 500 answers, then succeeds', async () => {
      ckan.generate(3);
      ckan.throttleNext(2, '0');
      const pages = await collectPages(adapter().listDatasets());
      expect(pages[0].datasets).toHaveLength(3);
      ckan.failNext(2, 500);
      await expect(adapter().getDataset(pages[0].datasets[0].remoteId)).resolves.toMatchObject({ remoteId: pages[0].datasets[0].remoteId });
    });

    it('surfaces permanent failures as typed errors', async () => {
      ckan.failNext(10, 502);
      await expect(collectPages(adapter({ maxRetries: 2 }).listDatasets())).rejects.toMatchObject({
        constructor: CatalogHttpError,
        status: 502,
        retryable: true,
        url: expect.stringContaining('/api/3/action/package_search'),
      });
    });

    it('reports success:false sent with HTTP 200 as an error', async () => {
      ckan.answerSuccessFalseNext(1);
      const error = await collectPages(adapter().listDatasets()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogApiError);
      expect(error).toMatchObject({ remoteType: 'Internal Server Error', message: expect.stringContaining('Search index unavailable') });
    });

    it('reads "not found" from a 200 envelope (old CKAN) as absent', async () => {
      await ckan.stop();
      ckan = await new FakeCkan({ apiTokens: [token], errorsWithHttp200: true }).start();
      await expect(adapter().getDataset('no-such-dataset')).resolves.toBeUndefined();
      expect(ckan.requests.at(-1)?.path).toBe('/api/3/action/package_show');
    });

    it('reports malformed and truncated payloads as errors', async () => {
      ckan.answerNext(1, { status: 200, headers: { 'content-type': 'text/html' }, body: '<html><body>Maintenance</body></html>' });
      await expect(collectPages(adapter().listDatasets())).rejects.toThrow(CatalogPayloadError);
      ckan.answerNext(1, { status: 200, body: { success: true, result: { results: 'nope' } } });
      await expect(collectPages(adapter().listDatasets())).rejects.toThrow(/lacks count\/results/);
      ckan.answerNext(1, { status: 200, body: { unexpected: true } });
      await expect(collectPages(adapter().listDatasets())).rejects.toThrow(/not a CKAN Action API response/);
      ckan.generate(3);
      ckan.truncateNext(5);
      await expect(collectPages(adapter({ maxRetries: 2 }).listDatasets())).rejects.toThrow(CatalogNetworkError);
    });

    it('skips packages it cannot normalize and keeps going', async () => {
      ckan.generate(2);
      ckan.addDataset({ name: 'untitled', title: '' });
      const [page] = await collectPages(adapter().listDatasets());
      expect(page.datasets).toHaveLength(3); // name stands in for a missing title
      ckan.answerNext(1, { status: 200, body: { success: true, result: { count: 2, results: [{ title: 'no id' }, { id: 'x', name: 'x', title: 'ok' }] } } });
      const [odd] = await collectPages(adapter().listDatasets());
      expect(odd.datasets.map((d) => d.remoteId)).toEqual(['x']);
      expect(odd.skipped).toEqual([{ reference: 'no id', reason: 'package has no id nor name' }]);
    });
  });

  describe('publish', () => {
    const metadata = (overrides: Partial<PublishedDatasetMetadata> = {}): PublishedDatasetMetadata => ({
      localId: 'Bike Stations (Évian)',
      title: 'Bike stations',
      description: 'Where to park bikes',
      keywords: ['mobility', 'vélo', 'a', 'bikes/parking'],
      license: { id: 'ODbL-1.0' },
      frequency: 'daily',
      landingPage: 'https://platform.example/datasets/bike-stations',
      resources: [
        { key: 'api', title: 'API', url: 'https://platform.example/api/bike-stations', format: 'JSON' },
        { key: 'openapi', title: 'OpenAPI', url: 'https://platform.example/api/openapi.json', format: 'JSON' },
      ],
      ...overrides,
    });

    it('creates a package with a valid name, notes, tags as objects, extras and owner_org', async () => {
      const result = await adapter().publishDataset(metadata());
      const pkg = ckan.getDataset(result.remoteId)!;
      expect(pkg).toMatchObject({
        name: 'bike-stations-evian',
        title: 'Bike stations',
        notes: 'Where to park bikes',
        license_id: 'odc-odbl',
        url: 'https://platform.example/datasets/bike-stations',
        owner_org: ckan.addOrganization('city').id,
        tags: [{ name: 'mobility' }, { name: 'vélo' }, { name: 'bikes parking' }],
      });
      expect(pkg.extras).toEqual(
        expect.arrayContaining([
          { key: CKAN_LOCAL_ID_EXTRA, value: 'Bike Stations (Évian)' },
          { key: 'frequency', value: 'http://publications.europa.eu/resource/authority/frequency/DAILY' },
        ]),
      );
      expect(result).toEqual({
        remoteId: pkg.id,
        remoteUrl: `${ckan.url}/dataset/bike-stations-evian`,
        resourceIds: { api: pkg.resources[0].id, openapi: pkg.resources[1].id },
      });
      const create = ckan.requestsTo('/api/3/action/package_create')[0];
      expect(create.headers.authorization).toBe(token);
    });

    it('updates with package_patch, keeping resource ids and what others added', async () => {
      const first = await adapter().publishDataset(metadata());
      const remote = ckan.getDataset(first.remoteId)!;
      remote.extras.push({ key: 'curator-note', value: 'checked' });
      remote.resources.push({ id: 'foreign', package_id: remote.id, name: 'Added by a curator', url: 'https://else.example/doc.pdf', format: 'PDF', description: '', mimetype: null, size: null });

      const second = await adapter().publishDataset(
        metadata({ title: 'Bike stations (v2)', resources: [metadata().resources[0]] }),
        { remoteId: first.remoteId, resourceIds: first.resourceIds },
      );
      const updated = ckan.getDataset(first.remoteId)!;
      expect(ckan.requestsTo('/api/3/action/package_update')).toHaveLength(0);
      expect(ckan.requestsTo('/api/3/action/package_patch')).toHaveLength(1);
      expect(updated.title).toBe('Bike stations (v2)');
      expect(second.resourceIds).toEqual({ api: first.resourceIds.api });
      expect(updated.resources.map((r) => r.id)).toEqual([first.resourceIds.api, 'foreign']);
      expect(updated.extras).toEqual(expect.arrayContaining([{ key: 'curator-note', value: 'checked' }]));
      expect(second.remoteId).toBe(first.remoteId);
    });

    it('adopts its own package after a lost create response instead of duplicating', async () => {
      const first = await adapter().publishDataset(metadata());
      const again = await adapter().publishDataset(metadata({ title: 'Retried' }));
      expect(again.remoteId).toBe(first.remoteId);
      expect(ckan.packages.size).toBe(1);
    });

    it('picks another valid name when the slug belongs to someone else', async () => {
      ckan.addDataset({ name: 'bike-stations-evian', title: 'Not ours', organization: 'city' });
      const result = await adapter().publishDataset(metadata());
      expect(ckan.getDataset(result.remoteId)?.name).toMatch(/^bike-stations-evian-[0-9a-f]{6}$/);
    });

    it('restores a package deleted remotely when republishing, and deletes idempotently', async () => {
      const first = await adapter().publishDataset(metadata());
      await adapter().deleteDataset(first.remoteId);
      expect(ckan.getDataset(first.remoteId)?.state).toBe('deleted');
      await adapter().deleteDataset('never-existed');

      const restored = await adapter().publishDataset(metadata(), first);
      expect(restored.remoteId).toBe(first.remoteId);
      expect(ckan.getDataset(first.remoteId)?.state).toBe('active');
      expect(restored.resourceIds).toEqual(first.resourceIds);
    });

    it('surfaces validation (409) and authorization (403) errors with their fields', async () => {
      const noOrganization = new CkanAdapter({ url: ckan.url, apiKey: token }, { httpOptions: testHttpOptions([ckan.host]) });
      const validation = await noOrganization.publishDataset(metadata()).catch((e: unknown) => e);
      expect(validation).toBeInstanceOf(CatalogApiError);
      expect(validation).toMatchObject({ status: 409, remoteType: 'Validation Error', fieldErrors: { owner_org: [expect.any(String)] } });

      const forbidden = await adapter({ apiKey: 'stolen-or-wrong-key' }).publishDataset(metadata()).catch((e: unknown) => e);
      expect(forbidden).toMatchObject({ status: 403, remoteType: 'Authorization Error', retryable: false });
      expect(String((forbidden as Error).message)).not.toContain('stolen-or-wrong-key');

      await expect(adapter({ apiKey: undefined }).publishDataset(metadata())).rejects.toThrow(/needs an API key/);
    });
  });
});
