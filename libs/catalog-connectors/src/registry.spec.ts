import { RunningFakeCatalogs, startFakeCatalogs } from '@odb/testing';
import { canPublish } from './adapter';
import { CatalogConfigError } from './errors';
import { SafeHttpClient } from './http/safe-http-client';
import { CATALOG_ADAPTERS, CatalogKind, createCatalogAdapter, validateCatalogConfig } from './registry';
import { collectPages, testHttpOptions } from './testing/test-helpers';

describe('catalog adapter registry', () => {
  let fakes: RunningFakeCatalogs;

  beforeAll(async () => {
    fakes = await startFakeCatalogs({ datasets: 12 });
  });

  afterAll(() => fakes.stop());

  const hosts = () => [fakes.ckan.host, fakes.udata.host, fakes.dcat.host];

  it('declares each kind with its capabilities', () => {
    expect(Object.keys(CATALOG_ADAPTERS).sort()).toEqual(['ckan', 'dcat', 'udata']);
    expect(CATALOG_ADAPTERS.ckan.capabilities).toEqual(['harvest', 'publish']);
    expect(CATALOG_ADAPTERS.udata.capabilities).toEqual(['harvest', 'publish']);
    expect(CATALOG_ADAPTERS.dcat.capabilities).toEqual(['harvest']);
  });

  it('validates configurations against the kind schema, listing every problem', () => {
    expect(() => validateCatalogConfig('ckan', { url: 'https://demo.ckan.org', apiKey: 'k' })).not.toThrow();
    expect(() => validateCatalogConfig('csw', { url: 'https://x.example' })).toThrow(/unknown catalog kind "csw"/);
    const error = (() => {
      try {
        validateCatalogConfig('udata', { url: 'ftp://x.example', apiKey: '', extra: 1 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(CatalogConfigError);
    expect(error?.message).toMatch(/url/);
    expect(error?.message).toMatch(/apiKey/);
    expect(error?.message).toMatch(/additional properties/);
    expect(() => validateCatalogConfig('dcat', { url: 'https://x.example/catalog.ttl', format: 'turtle' })).not.toThrow();
  });

  it.each<CatalogKind>(['ckan', 'udata', 'dcat'])('creates a working %s adapter against the demo fakes', async (kind) => {
    const adapter = createCatalogAdapter(kind, fakes.describe()[kind], { httpOptions: testHttpOptions(hosts()) });
    expect(adapter.kind).toBe(kind);
    expect(canPublish(adapter)).toBe(kind !== 'dcat');
    const check = await adapter.check();
    expect(check.datasetCount).toBe(12);
    const datasets = (await collectPages(adapter.listDatasets())).flatMap((page) => page.datasets);
    expect(datasets).toHaveLength(12);
    expect(new Set(datasets.map((dataset) => dataset.remoteId)).size).toBe(12);
  });

  it('copes with a remote limited to N requests per second: 429 + Retry-After, or paced', async () => {
    fakes.udata.limitRate(4);
    fakes.udata.clearRequests();
    const config = fakes.describe().udata;
    const burst = createCatalogAdapter('udata', config, { pageSize: 1, httpOptions: testHttpOptions(hosts(), { maxRetries: 5 }) });
    const pages = await collectPages(burst.listDatasets());
    expect(pages.flatMap((page) => page.datasets)).toHaveLength(12);
    // 13 pages were needed; the extra requests are the retries after 429.
    expect(fakes.udata.requests.length).toBeGreaterThan(13);

    const paced = new SafeHttpClient(testHttpOptions(hosts(), { maxRequestsPerSecond: 3.5 }));
    const polite = createCatalogAdapter('udata', config, { pageSize: 3, http: paced });
    const started = Date.now();
    const politePages = await collectPages(polite.listDatasets());
    expect(politePages.flatMap((page) => page.datasets)).toHaveLength(12);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * (1000 / 3.5) - 50);
    paced.close();
    fakes.udata.limitRate(0);
  });
});
