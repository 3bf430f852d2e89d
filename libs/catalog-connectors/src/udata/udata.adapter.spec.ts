import { FakeUdata } from '@odb/testing';
import type { PublishedDatasetMetadata } from '../adapter';
import { CatalogHttpError, CatalogNetworkError, CatalogPayloadError } from '../errors';
import { collectPages, testHttpOptions } from '../testing/test-helpers';
import { UDATA_LOCAL_ID_EXTRA, UdataAdapter } from './udata.adapter';

describe('UdataAdapter against a fake udata', () => {
  let udata: FakeUdata;
  let organizationId: string;
  const apiKey = 'udata-key-0123456789';

  beforeEach(async () => {
    udata = await new FakeUdata({ apiKey, organizations: ['city'] }).start();
    organizationId = udata.addOrganization('city').id;
  });

  afterEach(() => udata.stop());

  function adapter(options: { apiKey?: string; organization?: string; pageSize?: number; maxRetries?: number } = {}) {
    return new UdataAdapter(
      { url: udata.url, apiKey: 'apiKey' in options ? options.apiKey : apiKey, organization: options.organization ?? organizationId },
      { pageSize: options.pageSize, httpOptions: testHttpOptions([udata.host], { maxRetries: options.maxRetries ?? 3 }) },
    );
  }

  const listRequests = () => udata.requests.filter((request) => request.path === '/api/1/datasets/' && request.method === 'GET');

  describe('harvest', () => {
    it('checks the site, the dataset count and the key', async () => {
      udata.generate(4);
      await expect(adapter().check()).resolves.toMatchObject({ title: 'Fake udata', datasetCount: 4, authenticated: true });
      await expect(adapter({ apiKey: 'bad-key-000' }).check()).resolves.toMatchObject({ authenticated: false });
      await expect(adapter({ organization: 'not-mine' }).check()).resolves.toMatchObject({ warnings: [expect.stringContaining('not-mine')] });
    });

    it('pages with page/page_size following next_page, in creation order', async () => {
      const created = udata.generate(25);
      const pages = await collectPages(adapter({ pageSize: 10 }).listDatasets());
      expect(pages.map((page) => page.datasets.length)).toEqual([10, 10, 5]);
      expect(pages.flatMap((page) => page.datasets.map((d) => d.remoteId))).toEqual(created.map((d) => d.id));
      expect(listRequests().map((request) => [request.query.get('page'), request.query.get('page_size'), request.query.get('sort')])).toEqual([
        ['1', '10', 'created'],
        ['2', '10', 'created'],
        ['3', '10', 'created'],
      ]);
      expect(pages[0].datasets[0]).toMatchObject({
        title: 'Generated dataset 0001',
        license: { id: 'etalab-2.0' },
        landingPage: `${udata.url}/datasets/generated-dataset-0001/`,
        distributions: [expect.objectContaining({ format: 'CSV', url: 'https://files.example.org/0001.csv' })],
      });
    });

    it('filters by organization, tags and query remotely, resource formats locally', async () => {
      udata.addOrganization('other');
      udata.addDataset({ title: 'Trees', organization: 'city', tags: ['nature', 'trees'], resources: [{ title: 'csv', url: 'https://x.example/t.csv', format: 'csv' }] });
      udata.addDataset({ title: 'Trees JSON', organization: 'city', tags: ['nature', 'trees'], resources: [{ title: 'json', url: 'https://x.example/t.json', format: 'json' }] });
      udata.addDataset({ title: 'Parks', organization: 'city', tags: ['nature'] });
      udata.addDataset({ title: 'Trees elsewhere', organization: 'other', tags: ['nature', 'trees'] });
      const titles = async (filters: Parameters<UdataAdapter['listDatasets']>[0]) =>
        (await collectPages(adapter().listDatasets(filters))).flatMap((page) => page.datasets.map((d) => d.title)).sort();

      expect(await titles({ organization: organizationId, tags: ['nature', 'trees'] })).toEqual(['Trees', 'Trees JSON']);
      expect(listRequests()[0].query.getAll('tag')).toEqual(['nature', 'trees']);
      expect(await titles({ organization: organizationId, resourceFormats: ['CSV'] })).toEqual(['Trees']);
      expect(await titles({ query: 'elsewhere' })).toEqual(['Trees elsewhere']);
    });

    it('lists recently updated datasets first and stops at the cursor (incremental harvest)', async () => {
      const created = udata.generate(30);
      udata.editRemotely(created[3].id, { title: 'Edited 4' });
      udata.editRemotely(created[17].id, { title: 'Edited 18' });
      const since = created[29].last_update.replace('+00:00', 'Z');
      const pages = await collectPages(adapter({ pageSize: 5 }).listDatasets({}, { modifiedSince: since }));
      expect(pages.flatMap((page) => page.datasets.map((d) => d.title))).toEqual(['Edited 18', 'Edited 4', 'Generated dataset 0030']);
      expect(listRequests()).toHaveLength(1);
      expect(listRequests()[0].query.get('sort')).toBe('-last_update');
    });

    it('de-duplicates a dataset shifted onto the next page and flags the listing', async () => {
      udata.generate(10);
      const pages: Awaited<ReturnType<typeof collectPages>> = [];
      for await (const page of adapter({ pageSize: 4 }).listDatasets()) {
        pages.push(page);
        // Created "earlier" than everything: the creation-ordered list shifts by one.
        if (page.index === 1) udata.addDataset({ title: 'Backdated', created_at: '2000-01-01T00:00:00+00:00' });
      }
      const ids = pages.flatMap((page) => page.datasets.map((d) => d.remoteId));
      expect(ids).toHaveLength(10);
      expect(new Set(ids).size).toBe(10);
      expect(pages.at(-1)?.incomplete).toMatch(/total changed/);
    });

    it('does not follow a next_page that leaves the portal (the API key would travel with it)', async () => {
      udata.generate(3);
      const first = [...udata.datasets.values()][0];
      udata.answerNext(1, {
        status: 200,
        body: { data: [first], page: 1, page_size: 1, total: 3, next_page: 'https://evil.example/api/1/datasets/?page=2' },
      });
      const pages = await collectPages(adapter({ pageSize: 1 }).listDatasets());
      expect(pages.flatMap((page) => page.datasets)).toHaveLength(3);
      expect(listRequests()[1].query.get('page')).toBe('2');
    });

    it('stops when a page repeats an earlier one', async () => {
      const [first, second] = udata.generate(4);
      const samePage = {
        status: 200,
        body: { data: [first, second], page: 1, page_size: 2, total: 4, next_page: `${udata.url}/api/1/datasets/?page=2&page_size=2` },
      };
      udata.answerNext(2, samePage);
      const pages = await collectPages(adapter({ pageSize: 2 }).listDatasets());
      expect(pages.map((page) => [page.datasets.length, page.incomplete])).toEqual([
        [2, undefined],
        [0, expect.stringMatching(/repeated/)],
      ]);
    });

    it('retries 429/500, then surfaces permanent errors as typed errors', async () => {
      udata.generate(2);
      udata.throttleNext(1, '0').failNext(1);
      expect((await collectPages(adapter().listDatasets()))[0].datasets).toHaveLength(2);
      await expect(adapter().getDataset('does-not-exist')).resolves.toBeUndefined();
      udata.failNext(10, 503);
      await expect(collectPages(adapter({ maxRetries: 1 }).listDatasets())).rejects.toMatchObject({ constructor: CatalogHttpError, status: 503 });
    });

    it('reports malformed and truncated payloads as errors', async () => {
      udata.generate(2);
      udata.answerNext(1, { status: 200, headers: { 'content-type': 'text/html' }, body: '<!doctype html><p>Maintenance' });
      await expect(collectPages(adapter().listDatasets())).rejects.toThrow(CatalogPayloadError);
      udata.answerNext(1, { status: 200, body: { items: [] } });
      await expect(collectPages(adapter().listDatasets())).rejects.toThrow(/lacks a data array/);
      udata.truncateNext(5);
      await expect(collectPages(adapter({ maxRetries: 1 }).listDatasets())).rejects.toThrow(CatalogNetworkError);
    });
  });

  describe('publish', () => {
    const metadata = (overrides: Partial<PublishedDatasetMetadata> = {}): PublishedDatasetMetadata => ({
      localId: 'bike-stations',
      title: 'Bike stations',
      description: 'Where to park bikes',
      keywords: ['mobility', 'bikes'],
      license: { id: 'etalab-2.0' },
      frequency: 'daily',
      temporal: { start: '2020-01-01T00:00:00.000Z' },
      resources: [
        { key: 'api', title: 'API', url: 'https://platform.example/api/bike-stations', format: 'JSON', type: 'api' },
        { key: 'page', title: 'Consultez les données', url: 'https://platform.example/datasets/bike-stations' },
      ],
      ...overrides,
    });

    it('creates with POST, X-API-KEY, udata vocabulary ids and the organization', async () => {
      const result = await adapter().publishDataset(metadata());
      const remote = udata.getDataset(result.remoteId)!;
      expect(remote).toMatchObject({
        title: 'Bike stations',
        description: 'Where to park bikes',
        license: 'lov2',
        frequency: 'daily',
        tags: ['mobility', 'bikes'],
        temporal_coverage: { start: '2020-01-01T00:00:00.000Z', end: null },
        organization: { id: organizationId },
        extras: { [UDATA_LOCAL_ID_EXTRA]: 'bike-stations' },
      });
      expect(remote.resources.map((r) => [r.title, r.filetype, r.type])).toEqual([
        ['API', 'remote', 'api'],
        ['Consultez les données', 'remote', 'main'],
      ]);
      expect(result).toEqual({
        remoteId: remote.id,
        remoteUrl: `${udata.url}/datasets/bike-stations/`,
        resourceIds: { api: remote.resources[0].id, page: remote.resources[1].id },
      });
      expect(udata.requestsTo('/api/1/datasets/').find((r) => r.method === 'POST')?.headers['x-api-key']).toBe(apiKey);
    });

    it('updates by GET-merge-PUT: fields others set remotely survive, resource ids stay', async () => {
      const first = await adapter().publishDataset(metadata());
      const remote = udata.getDataset(first.remoteId)!;
      // Someone edits the remote dataset by hand: fields and a resource we do not manage.
      udata.editRemotely(first.remoteId, {
        acronym: 'BIKES',
        spatial: { zones: ['fr:commune:74119'], granularity: 'fr:commune', geom: null },
        extras: { ...remote.extras, 'curator-note': 'checked' },
        resources: [...remote.resources, { ...remote.resources[0], id: 'doc-by-curator', title: 'Guide', url: 'https://else.example/guide.pdf', extras: {} }],
      });

      const second = await adapter().publishDataset(metadata({ title: 'Bike stations v2', keywords: ['mobility'] }), first);
      const updated = udata.getDataset(first.remoteId)!;
      expect(udata.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
      expect(updated).toMatchObject({
        title: 'Bike stations v2',
        tags: ['mobility'],
        acronym: 'BIKES',
        spatial: { zones: ['fr:commune:74119'] },
        extras: { 'curator-note': 'checked', [UDATA_LOCAL_ID_EXTRA]: 'bike-stations' },
      });
      expect(updated.resources.map((r) => r.id)).toEqual([first.resourceIds.api, first.resourceIds.page, 'doc-by-curator']);
      expect(second.resourceIds).toEqual(first.resourceIds);
    });

    it('drops the resources it no longer publishes, keeping the others', async () => {
      const first = await adapter().publishDataset(metadata());
      const second = await adapter().publishDataset(metadata({ resources: [metadata().resources[1]] }), first);
      expect(second.resourceIds).toEqual({ page: first.resourceIds.page });
      expect(udata.getDataset(first.remoteId)!.resources.map((r) => r.id)).toEqual([first.resourceIds.page]);
    });

    it('restores a soft-deleted dataset on republish', async () => {
      const first = await adapter().publishDataset(metadata());
      await adapter().deleteDataset(first.remoteId);
      expect(udata.getDataset(first.remoteId)?.deleted).toEqual(expect.any(String));
      await adapter().deleteDataset(first.remoteId); // already deleted: 410 tolerated
      await adapter().deleteDataset('000000000000000000000000'); // unknown: 404 tolerated

      const restored = await adapter().publishDataset(metadata(), first);
      expect(restored.remoteId).toBe(first.remoteId);
      expect(udata.getDataset(first.remoteId)?.deleted).toBeNull();
      expect(restored.resourceIds).toEqual(first.resourceIds);
    });

    it('creates anew when the remembered dataset no longer exists', async () => {
      const result = await adapter().publishDataset(metadata(), { remoteId: '0123456789abcdef01234567' });
      expect(result.remoteId).not.toBe('0123456789abcdef01234567');
      expect(udata.datasets.size).toBe(1);
    });

    it('fails with a typed error on a rejected key, without the key in the message', async () => {
      const error = await adapter({ apiKey: 'wrong-key-abcdef' }).publishDataset(metadata()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogHttpError);
      expect(error).toMatchObject({ status: 401, retryable: false });
      expect((error as Error).message).not.toContain('wrong-key-abcdef');
    });
  });
});
