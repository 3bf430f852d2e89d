import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { CatalogReader } from '../src/catalog/catalog-reader';
import { csvField, csvLine } from '../src/catalog/csv';
import {
  ConsumerPlatform,
  Connector,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  errorLines,
  parseCsv,
  publicId,
  q,
  startConsumerPlatform,
  upsert,
} from './consumer.support';

jest.setTimeout(180_000);

const LEGAL = [{ type: 'attribution', text: 'Données ouvertes — merci', link: 'https://example.org/' }];

describe('CSV fields (RFC 4180)', () => {
  it('quotes fields with commas, quotes, CR or LF, doubling quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rlf\r\n')).toBe('"cr\rlf\r\n"');
    expect(csvField('ünïcødé 日本')).toBe('ünïcødé 日本');
  });

  it('writes numbers and booleans as JSON, nothing for null or missing, objects and arrays as JSON text', () => {
    expect([csvField(42), csvField(-1.5), csvField(true), csvField(null), csvField(undefined)]).toEqual(['42', '-1.5', 'true', '', '']);
    expect(csvField({ type: 'Point', coordinates: [1, 2] })).toBe('"{""type"":""Point"",""coordinates"":[1,2]}"');
    expect(csvField(['a'])).toBe('"[""a""]"');
  });

  it('defuses strings a spreadsheet would run as formulas', () => {
    expect(['=SUM(A1)', '+1', '-1', '@cmd', '\tx'].map(csvField)).toEqual(["'=SUM(A1)", "'+1", "'-1", "'@cmd", "'\tx"]);
    expect(csvField('a=b')).toBe('a=b');
  });

  it('ends records with CRLF', () => {
    expect(csvLine(['a', 1, null, 'b,c'])).toBe('a,1,,"b,c"\r\n');
  });
});

/**
 * GET /entity/:type and GET /catalog as text/csv: negotiated by Accept or
 * ?format=csv, streamed in keyset batches, header row, masks, every record
 * unless limit/offset are given.
 */
describeWithInfrastructure('consumer-query: CSV exports', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let gazetteer: Connector;
  let bulk: Connector;
  let consumer: ApiClient;
  const BULK = 10_000;

  const places = [
    { id: 'p1', name: 'Comma, Town', entity: { code: 'P1', label: 'Comma, here', population: 10, tags: ['a', 'b'], secret: 's1', extra: 'not declared' } },
    { id: 'p2', name: 'Quote "Town"', entity: { code: 'P2', label: 'Quote "here"', population: 20, location: { type: 'Point', coordinates: [2.35, 48.85] } } },
    { id: 'p3', name: 'New\nline', entity: { code: 'P3', label: 'New\nline and\r\nCRLF', population: null } },
    { id: 'p4', name: 'Ünïcødé 日本', entity: { code: 'P4', label: '=HYPERLINK("http://evil")', population: -5 } },
    { id: 'p5', name: 'Linked', entity: { code: 'P5', label: '', near: 'x' } },
  ];

  /** A raw answer (the ApiClient parses only JSON), as the consumer of `policy`. */
  async function csv(policy: string, path: string, headers: Record<string, string> = { accept: 'text/csv' }) {
    const response = await fetch(`${platform.consumer.api}${path}`, { headers: { 'x-bbk-audience': policy, ...headers } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, rows: response.status === 200 ? parseCsv(text) : [] };
  }

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startConsumerPlatform(env, { consumer: { CSV_BATCH_SIZE: '1000' } });
    await createType(platform.admin, 'place', {
      schema: {
        type: 'object',
        properties: {
          code: { type: 'string' },
          label: { type: 'string' },
          population: { type: ['integer', 'null'] },
          tags: { type: 'array' },
          location: { type: 'object', properties: { type: { const: 'Point' }, coordinates: { type: 'array' } } },
          secret: { type: 'string' },
          link: { type: 'string' },
        },
      },
    });
    await createType(platform.admin, 'bulk');
    gazetteer = await createConnector(platform.admin, 'place', 'gazetteer');
    bulk = await createConnector(platform.admin, 'bulk', 'generator');
    places[4].entity = { ...places[4].entity, link: `bbk://place/${gazetteer.id}/p1` } as never;
    await upsert(platform.contributor, gazetteer, places);
    await upsert(
      platform.contributor,
      bulk,
      Array.from({ length: BULK }, (_, i) => ({ id: `b${i}`, name: `Bulk ${i}, "quoted"`, entity: { i, text: `line ${i}\nnext` } })),
    );
    await createPolicy(platform.admin, 'masked', { masks: ['place.entity.secret', 'place.entity.tags', 'bulk.entity.text'], legal: LEGAL });
    await createPolicy(platform.admin, 'segmented', { segment: { 'entity.population': { $gte: 15 } } });
    consumer = consumerAs(platform.api, 'masked');
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  it('answers text/csv to Accept: text/csv or ?format=csv, JSON otherwise', async () => {
    const byAccept = await csv('masked', '/entity/place');
    expect(byAccept.status).toBe(200);
    expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(byAccept.headers.get('content-disposition')).toBe('attachment; filename="place.csv"');
    const byFormat = await csv('masked', '/entity/place?format=csv', {});
    expect(byFormat.text).toBe(byAccept.text);
    expect((await consumer.get('/entity/place?format=json', { accept: 'text/csv' })).body).toHaveLength(5);
    expect((await consumer.get('/entity/place', { accept: 'application/json, text/csv;q=0.5' })).body).toHaveLength(5);
    expect((await csv('masked', '/entity/place', { accept: 'text/csv, application/json;q=0.5' })).rows).toHaveLength(6);
    expect((await consumer.get('/entity/place')).headers.get('content-type')).toContain('application/json');
    const wrong = await consumer.get('/entity/place?format=xml');
    expect(wrong.status).toBe(400);
    expect(errorLines(wrong)).toEqual(['format: must be one of json, csv']);
  });

  it('has id, url, type, name, then the declared properties less the masked ones; values quoted per RFC 4180', async () => {
    const { text, rows, headers } = await csv('masked', '/entity/place');
    const base = platform.consumer.api;
    expect(rows[0]).toEqual(['id', 'url', 'type', 'name', 'code', 'label', 'link', 'location', 'population']);
    const id = (vendor: string) => publicId(gazetteer.id, vendor);
    expect(rows.slice(1)).toEqual([
      [id('p1'), `${base}/entity/place/${id('p1')}`, 'place', 'Comma, Town', 'P1', 'Comma, here', '', '', '10'],
      [id('p2'), `${base}/entity/place/${id('p2')}`, 'place', 'Quote "Town"', 'P2', 'Quote "here"', '', '{"type":"Point","coordinates":[2.35,48.85]}', '20'],
      [id('p3'), `${base}/entity/place/${id('p3')}`, 'place', 'New\nline', 'P3', 'New\nline and\r\nCRLF', '', '', ''],
      [id('p4'), `${base}/entity/place/${id('p4')}`, 'place', 'Ünïcødé 日本', 'P4', `'=HYPERLINK("http://evil")`, '', '', '-5'],
      [id('p5'), `${base}/entity/place/${id('p5')}`, 'place', 'Linked', 'P5', '', `${base}/entity/place/${id('p1')}`, '', ''],
    ]);
    // The raw text, byte for byte where it matters.
    expect(text.startsWith('id,url,type,name,code,label,link,location,population\r\n')).toBe(true);
    expect(text).toContain(',"Comma, Town",P1,"Comma, here",,,10\r\n');
    expect(text).toContain(',"Quote ""Town""",P2,"Quote ""here""",,"{""type"":""Point"",""coordinates"":[2.35,48.85]}",20\r\n');
    expect(text).toContain(',"New\nline",P3,"New\nline and\r\nCRLF",,,\r\n');
    expect(text).not.toContain('not declared');
    expect(text).not.toContain('s1');
    expect(JSON.parse(headers.get('x-bbk-legal-context')!)).toEqual(LEGAL);
  });

  it('exports everything without limit/offset, exactly the JSON page with them', async () => {
    const ids = (rows: string[][]) => rows.slice(1).map((row) => row[0]);
    const all = (await consumer.get('/entity/place')).body.map((item: { id: string }) => item.id);
    expect(ids((await csv('masked', '/entity/place')).rows)).toEqual(all);
    expect(ids((await csv('masked', '/entity/place?limit=2&offset=1')).rows)).toEqual(all.slice(1, 3));
    expect(ids((await csv('masked', '/entity/place?limit=2')).rows)).toEqual(all.slice(0, 2));
    expect(ids((await csv('masked', '/entity/place?offset=3')).rows)).toEqual(all.slice(3));
    expect((await csv('masked', '/entity/place?offset=50')).rows).toEqual([['id', 'url', 'type', 'name', 'code', 'label', 'link', 'location', 'population']]);
    const bad = await consumer.get('/entity/place?format=csv&limit=1000');
    expect(bad.status).toBe(400);
    expect(errorLines(bad)).toEqual(['limit: must be less than or equal to 250']);
    // The segment applies (population >= 15: p2 only).
    expect(ids((await csv('segmented', '/entity/place')).rows)).toEqual([publicId(gazetteer.id, 'p2')]);
  });

  it('gives a type without declared properties one entity column (JSON, masked)', async () => {
    const { rows } = await csv('masked', '/entity/bulk?limit=2');
    expect(rows[0]).toEqual(['id', 'url', 'type', 'name', 'entity']);
    expect(rows[1].slice(3)).toEqual(['Bulk 0, "quoted"', '{"i":0}']);
  });

  it('exports /catalog as id, url, type, name, entity and instance (JSON)', async () => {
    const { rows } = await csv('masked', `${q({ 'entity.population': { $gte: 15 } })}&format=csv`, {});
    expect(rows[0]).toEqual(['id', 'url', 'type', 'name', 'entity', 'instance']);
    expect(rows.slice(1).map((row) => [row[0], JSON.parse(row[4]), JSON.parse(row[5])])).toEqual([
      [publicId(gazetteer.id, 'p2'), places[1].entity, {}],
    ]);
    const masked = (await csv('masked', q({ 'entity.code': 'P1' }))).rows[1];
    expect(JSON.parse(masked[4])).toEqual({ code: 'P1', label: 'Comma, here', population: 10, extra: 'not declared' });
    expect((await csv('masked', '/catalog')).rows).toEqual([['id', 'url', 'type', 'name', 'entity', 'instance']]);
  });

  it(`streams a ${BULK}-record export in batches read one after the other`, async () => {
    const reader = platform.consumer.app.get(CatalogReader);
    const list = jest.spyOn(reader, 'listRecords');
    const started = Date.now();
    const response = await fetch(`${platform.consumer.api}/entity/bulk`, { headers: { 'x-bbk-audience': 'masked', accept: 'text/csv' } });
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(response.headers.get('content-length')).toBeNull();
    const decoder = new TextDecoder();
    let text = '';
    let chunks = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      chunks += 1;
      text += decoder.decode(chunk, { stream: true });
    }
    const rows = parseCsv(text);
    expect(rows).toHaveLength(BULK + 1);
    expect(rows.slice(1).map((row) => row[3])).toEqual(Array.from({ length: BULK }, (_, i) => `Bulk ${i}, "quoted"`));
    expect(rows.slice(1).map((row) => row[0])).toEqual(Array.from({ length: BULK }, (_, i) => publicId(bulk.id, `b${i}`)));
    expect(chunks).toBeGreaterThan(1);
    // Ten batches of 1,000 (keyset: each after the last id of the one before), and one that finds the end.
    const pages = list.mock.calls.map(([, , page]) => page);
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(pages.length).toBeLessThanOrEqual(11);
    expect(pages.every((page) => page.limit <= 1000)).toBe(true);
    expect(pages[0]).toEqual({ offset: 0, limit: 1000 });
    expect(pages.slice(1).every((page) => page.offset === 0 && typeof page.after === 'string')).toBe(true);
    list.mockRestore();
    expect(Date.now() - started).toBeLessThan(60_000);

    const catalog = await csv('masked', `${q({ type: 'bulk' })}&format=csv`, {});
    expect(catalog.rows).toHaveLength(BULK + 1);
  });
});
