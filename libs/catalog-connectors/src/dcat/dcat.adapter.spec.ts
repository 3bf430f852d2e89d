import { FakeDcat, FakeDcatFormat } from '@odb/testing';
import { CatalogNetworkError, CatalogPayloadError } from '../errors';
import { collectPages, testHttpOptions } from '../testing/test-helpers';
import { DcatAdapter, DcatAdapterConfig } from './dcat.adapter';

describe('DcatAdapter against a fake DCAT feed', () => {
  let dcat: FakeDcat;

  beforeEach(async () => {
    dcat = await new FakeDcat().start();
  });

  afterEach(() => dcat.stop());

  function adapter(config: Partial<DcatAdapterConfig> = {}, options: { maxItems?: number; maxRetries?: number } = {}) {
    return new DcatAdapter(
      { url: dcat.catalogUrl('jsonld'), ...config },
      { maxItems: options.maxItems, httpOptions: testHttpOptions([dcat.host], { maxRetries: options.maxRetries ?? 3 }) },
    );
  }

  describe.each<[FakeDcatFormat, 'partial-collection' | 'paged-collection']>([
    ['jsonld', 'partial-collection'],
    ['turtle', 'paged-collection'],
    ['rdfxml', 'partial-collection'],
    ['rdfxml', 'paged-collection'],
  ])('%s with hydra %s paging', (format, paging) => {
    it('follows every page and normalizes each dataset', async () => {
      const created = dcat.generate(23, { publisher: 'City of Example' });
      dcat.pageSize = 10;
      dcat.paging = paging;
      const pages = await collectPages(adapter({ url: dcat.catalogUrl(format) }).listDatasets());
      expect(pages.map((page) => page.datasets.length)).toEqual([10, 10, 3]);
      expect(pages.every((page) => page.total === 23 && !page.incomplete)).toBe(true);
      expect(pages.flatMap((page) => page.datasets.map((d) => d.remoteId))).toEqual(created.map((d) => d.identifier));
      expect(pages[0].datasets[0]).toEqual({
        remoteId: 'fake-0001',
        title: 'Generated dataset 0001',
        description: 'Description of generated dataset 0001',
        keywords: ['generated'],
        license: { id: 'etalab-2.0', title: expect.any(String), url: expect.any(String) },
        publisher: { name: 'City of Example' },
        remoteUrl: 'https://data.example.org/datasets/fake-0001',
        modified: '2024-01-02T00:00:00.000Z',
        frequency: 'monthly',
        distributions: [
          {
            remoteId: expect.stringMatching(/^derived:/),
            title: 'CSV 0001',
            format: 'CSV',
            mediaType: 'text/csv',
            url: 'https://files.example.org/0001.csv',
          },
        ],
      });
      expect(dcat.requests.map((request) => request.query.get('page'))).toEqual([null, '2', '3']);
    });
  });

  it('reports the catalog title and size', async () => {
    dcat.generate(12);
    await expect(adapter().check()).resolves.toMatchObject({ title: 'Fake DCAT catalog', datasetCount: 12 });
    dcat.pageSize = 5;
    await expect(adapter().check()).resolves.toMatchObject({ datasetCount: 12 });
  });

  it('applies every filter and the incremental cursor locally', async () => {
    dcat.addDataset({ identifier: 'a', title: 'Trees', keywords: ['nature', 'trees'], publisher: 'City', modified: '2024-05-01T00:00:00Z', distributions: [{ url: 'https://x.example/a.csv', format: 'CSV' }] });
    dcat.addDataset({ identifier: 'b', title: 'Parks', keywords: ['nature'], publisher: 'City', modified: '2023-01-01T00:00:00Z', distributions: [{ url: 'https://x.example/b.json', format: 'JSON' }] });
    dcat.addDataset({ identifier: 'c', title: 'Trees elsewhere', keywords: ['nature', 'trees'], publisher: 'Region' });
    const ids = async (...args: Parameters<DcatAdapter['listDatasets']>) =>
      (await collectPages(adapter().listDatasets(...args))).flatMap((page) => page.datasets.map((d) => d.remoteId));
    expect(await ids({ tags: ['nature', 'trees'] })).toEqual(['a', 'c']);
    expect(await ids({ organization: 'city' })).toEqual(['a', 'b']);
    expect(await ids({ query: 'elsewhere' })).toEqual(['c']);
    expect(await ids({ resourceFormats: ['json'] })).toEqual(['b']);
    // c has no modification date: harvested rather than missed.
    expect(await ids({}, { modifiedSince: '2024-01-01T00:00:00Z' })).toEqual(['a', 'c']);
  });

  it('stops when a page has the same content as an earlier one', async () => {
    dcat.generate(10);
    dcat.pageSize = 4;
    dcat.ignorePageParameter = true;
    const pages = await collectPages(adapter().listDatasets());
    expect(pages).toHaveLength(2);
    expect(pages[0].datasets).toHaveLength(4);
    expect(pages[1]).toMatchObject({ datasets: [], incomplete: expect.stringMatching(/same content/) });
  });

  it('stops at maxItems and says the listing is incomplete', async () => {
    dcat.generate(10);
    dcat.pageSize = 4;
    const pages = await collectPages(adapter({}, { maxItems: 6 }).listDatasets());
    expect(pages.flatMap((page) => page.datasets)).toHaveLength(6);
    expect(pages.at(-1)?.incomplete).toMatch(/limit of 6/);
  });

  it('reports an identifier used twice as a skipped item', async () => {
    dcat.addDataset({ identifier: 'same', title: 'First', uri: 'https://x.example/1' });
    dcat.addDataset({ identifier: 'same', title: 'Second', uri: 'https://x.example/2' });
    const [page] = await collectPages(adapter().listDatasets());
    expect(page.datasets.map((d) => d.title)).toEqual(['First']);
    expect(page.skipped).toEqual([{ reference: 'same', reason: 'identifier already used by an earlier dataset' }]);
  });

  it('finds one dataset by walking the pages', async () => {
    dcat.generate(9);
    dcat.pageSize = 4;
    await expect(adapter().getDataset('fake-0007')).resolves.toMatchObject({ title: 'Generated dataset 0007' });
    await expect(adapter().getDataset('nope')).resolves.toBeUndefined();
  });

  it('retries 429 and 500, and reports truncated or malformed documents as errors', async () => {
    dcat.generate(3);
    dcat.throttleNext(1, '0').failNext(1);
    expect((await collectPages(adapter().listDatasets()))[0].datasets).toHaveLength(3);

    dcat.truncateNext(5);
    await expect(collectPages(adapter({}, { maxRetries: 1 }).listDatasets())).rejects.toThrow(CatalogNetworkError);

    dcat.serveDocument('/broken.ttl', '@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<a> a dcat:Dataset ; dct:title "x" .', 'text/turtle');
    const turtle = await collectPages(adapter({ url: `${dcat.url}/broken.ttl` }).listDatasets()).catch((e: unknown) => e);
    expect(turtle).toBeInstanceOf(CatalogPayloadError);
    expect((turtle as Error).message).toMatch(/invalid Turtle: Undefined prefix "dct:" on line 2/);

    dcat.serveDocument('/page.html', '<html><body>Portal</body></html>', 'text/html');
    await expect(collectPages(adapter({ url: `${dcat.url}/page.html` }).listDatasets())).rejects.toThrow(CatalogPayloadError);
  });

  it('loads a remote JSON-LD context through the guarded client', async () => {
    dcat.serveDocument(
      '/context.jsonld',
      JSON.stringify({ '@context': { dcat: 'http://www.w3.org/ns/dcat#', dct: 'http://purl.org/dc/terms/', title: 'dct:title', identifier: 'dct:identifier', Dataset: 'dcat:Dataset', dataset: 'dcat:dataset' } }),
      'application/ld+json',
    );
    const catalog = (context: string) =>
      JSON.stringify({ '@context': context, '@id': 'https://x.example/catalog', dataset: [{ '@type': 'Dataset', '@id': 'https://x.example/d', identifier: 'd', title: 'With a remote context' }] });
    dcat.serveDocument('/compact.jsonld', catalog(`${dcat.url}/context.jsonld`), 'application/ld+json');
    const [page] = await collectPages(adapter({ url: `${dcat.url}/compact.jsonld` }).listDatasets());
    expect(page.datasets.map((d) => d.title)).toEqual(['With a remote context']);

    // A context on a host that is not allowed is refused like any other URL.
    dcat.serveDocument('/ssrf.jsonld', catalog('http://169.254.169.254/latest/meta-data/context.jsonld'), 'application/ld+json');
    await expect(collectPages(adapter({ url: `${dcat.url}/ssrf.jsonld` }).listDatasets())).rejects.toThrow(/169\.254\.169\.254/);
  });

  it('sends its credential only to the catalog origin, not to a next page elsewhere', async () => {
    const elsewhere = await new FakeDcat().start();
    try {
      elsewhere.generate(2);
      const page1 = JSON.stringify([
        { '@id': 'https://x.example/d1', '@type': ['http://www.w3.org/ns/dcat#Dataset'], 'http://purl.org/dc/terms/identifier': [{ '@value': 'd1' }], 'http://purl.org/dc/terms/title': [{ '@value': 'One' }] },
        { '@id': `${dcat.url}/paged?page=1`, '@type': ['http://www.w3.org/ns/hydra/core#PartialCollectionView'], 'http://www.w3.org/ns/hydra/core#next': [{ '@id': elsewhere.catalogUrl() }] },
      ]);
      dcat.serveDocument('/paged', page1, 'application/ld+json');
      const pages = await collectPages(
        new DcatAdapter(
          { url: `${dcat.url}/paged`, apiKey: 'dcat-secret-token' },
          { httpOptions: testHttpOptions([dcat.host, elsewhere.host]) },
        ).listDatasets(),
      );
      expect(pages.flatMap((page) => page.datasets.map((d) => d.remoteId))).toEqual(['d1', 'fake-0001', 'fake-0002']);
      expect(dcat.requests[0].headers.authorization).toBe('dcat-secret-token');
      expect(elsewhere.requests[0].headers.authorization).toBeUndefined();
    } finally {
      await elsewhere.stop();
    }
  });

  describe('XML external entities', () => {
    const document = (doctype: string, title: string) => `<?xml version="1.0"?>
${doctype}
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://x.example/d1"><dct:identifier>d1</dct:identifier><dct:title>${title}</dct:title></dcat:Dataset>
</rdf:RDF>`;

    it('does not resolve external entities (file or URL)', async () => {
      const xxe = document(
        `<!DOCTYPE rdf:RDF [<!ENTITY file SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "${dcat.url}/exfiltrate">]>`,
        'A &file; &remote; B',
      );
      dcat.serveDocument('/xxe.rdf', xxe, 'application/rdf+xml');
      const error = await collectPages(adapter({ url: `${dcat.url}/xxe.rdf` }).listDatasets()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogPayloadError);
      expect((error as Error).message).toMatch(/undefined entity/);
      expect((error as Error).message).not.toMatch(/root:/);
      expect(dcat.requestsTo('/exfiltrate')).toHaveLength(0);
    });

    it('does not fetch an external DTD nor expand entities recursively', async () => {
      const parameterEntity = document(`<!DOCTYPE rdf:RDF [<!ENTITY % dtd SYSTEM "${dcat.url}/evil.dtd"> %dtd;]>`, 'Plain');
      dcat.serveDocument('/param.rdf', parameterEntity, 'application/rdf+xml');
      const [page] = await collectPages(adapter({ url: `${dcat.url}/param.rdf` }).listDatasets());
      expect(page.datasets.map((d) => d.title)).toEqual(['Plain']);
      expect(dcat.requestsTo('/evil.dtd')).toHaveLength(0);

      const laughs = document(
        '<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
        '&c;',
      );
      dcat.serveDocument('/laughs.rdf', laughs, 'application/rdf+xml');
      const [bomb] = await collectPages(adapter({ url: `${dcat.url}/laughs.rdf` }).listDatasets());
      expect(bomb.datasets[0].title.length).toBeLessThan(100);
    });
  });
});
