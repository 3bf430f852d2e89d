import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'zlib';
import {
  CatalogHttpError,
  CatalogNetworkError,
  ResponseTooLargeError,
  TooManyRedirectsError,
  UnsafeUrlError,
} from '../errors';
import { startRawServer, testHttpOptions } from '../testing/test-helpers';
import { nonPublicAddressReason } from './address-guard';
import { parseRetryAfter } from './retry';
import { SafeHttpClient } from './safe-http-client';

type RawServer = Awaited<ReturnType<typeof startRawServer>>;

describe('SafeHttpClient', () => {
  const servers: RawServer[] = [];
  const clients: SafeHttpClient[] = [];

  async function server(handler: Parameters<typeof startRawServer>[0]): Promise<RawServer> {
    const started = await startRawServer(handler);
    servers.push(started);
    return started;
  }

  function client(allowed: RawServer[], extra: ConstructorParameters<typeof SafeHttpClient>[0] = {}): SafeHttpClient {
    const created = new SafeHttpClient(testHttpOptions(allowed.map((s) => s.host), extra));
    clients.push(created);
    return created;
  }

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  describe('SSRF guard', () => {
    // Every refusal happens before a socket is opened: none of these addresses is contacted.
    const guarded = new SafeHttpClient({ maxRetries: 0, timeoutMs: 2000 });
    afterAll(() => guarded.close());

    it.each([
      ['http://127.0.0.1/', 'loopback'],
      ['http://10.1.2.3/catalog.json', 'private'],
      ['http://172.16.5.4/', 'private'],
      ['http://192.168.1.1/', 'private'],
      ['http://169.254.169.254/latest/meta-data/', 'link-local'],
      ['http://100.64.0.1/', 'carrier-grade NAT'],
      ['http://[::1]/', 'loopback'],
      ['http://[fd12:3456::1]/', 'unique-local'],
      ['http://[fe80::1]/', 'link-local'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://0.0.0.0/', 'unspecified'],
      ['http://localhost:8080/', 'local'],
    ])('refuses %s (%s)', async (url, reason) => {
      const error = await guarded.request({ url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsafeUrlError);
      expect((error as UnsafeUrlError).message).toContain(reason);
      expect((error as UnsafeUrlError).retryable).toBe(false);
    });

    it.each([
      [['127.0.0.1'], 'loopback'],
      // One bad answer among good ones is enough: the connection could use it.
      [['8.8.8.8', '10.0.0.7'], 'private'],
    ])('refuses a host name resolving to %j', async (addresses, reason) => {
      const resolving = new SafeHttpClient({ maxRetries: 0, resolveHost: async () => addresses });
      const error = await resolving.request({ url: 'http://catalog.example.org/' }).catch((e: unknown) => e);
      resolving.close();
      expect(error).toBeInstanceOf(UnsafeUrlError);
      expect((error as Error).message).toContain(`catalog.example.org resolves to a ${reason}`);
    });

    it('refuses non-http schemes', async () => {
      await expect(guarded.request({ url: 'file:///etc/passwd' })).rejects.toBeInstanceOf(UnsafeUrlError);
      await expect(guarded.request({ url: 'gopher://example.org/' })).rejects.toBeInstanceOf(UnsafeUrlError);
    });

    it('lets public addresses through the classification', () => {
      expect(nonPublicAddressReason('8.8.8.8')).toBeUndefined();
      expect(nonPublicAddressReason('2606:4700:4700::1111')).toBeUndefined();
      expect(nonPublicAddressReason('64:ff9b::a00:1')).toMatch(/private/);
    });

    it('reaches a loopback server only when its host is allowed', async () => {
      const target = await server((_req, res) => res.end('ok'));
      await expect(new SafeHttpClient({ maxRetries: 0 }).request({ url: target.url })).rejects.toBeInstanceOf(UnsafeUrlError);
      expect(target.hits).toHaveLength(0);
      expect((await client([target]).request({ url: target.url })).text()).toBe('ok');
      const open = new SafeHttpClient({ allowPrivateNetworks: true });
      expect((await open.request({ url: target.url })).text()).toBe('ok');
      open.close();
    });

    it('refuses a redirect to a private address', async () => {
      const target = await server((_req, res) => {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam' }).end();
      });
      const error = await client([target]).request({ url: `${target.url}/catalog` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsafeUrlError);
      expect((error as Error).message).toContain('169.254.169.254');
    });

    it('refuses a redirect to another loopback port that is not allowed', async () => {
      const other = await server((_req, res) => res.end('secret'));
      const target = await server((_req, res) => res.writeHead(307, { location: `${other.url}/admin` }).end());
      await expect(client([target]).request({ url: target.url })).rejects.toBeInstanceOf(UnsafeUrlError);
      expect(other.hits).toHaveLength(0);
    });
  });

  describe('redirects', () => {
    it('follows a bounded number of redirects', async () => {
      const target = await server((req, res) => {
        const step = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('step') ?? '0');
        if (step < 3) res.writeHead(301, { location: `/?step=${step + 1}` }).end();
        else res.end(`arrived after ${step}`);
      });
      expect((await client([target]).request({ url: target.url })).text()).toBe('arrived after 3');
      await expect(client([target], { maxRedirects: 2 }).request({ url: target.url })).rejects.toBeInstanceOf(TooManyRedirectsError);
    });

    it('does not send credentials to another origin', async () => {
      const seen: Array<string | undefined> = [];
      const other = await server((req, res) => {
        seen.push(req.headers['x-api-key'] as string | undefined);
        res.end('ok');
      });
      const target = await server((req, res) => {
        seen.push(req.headers['x-api-key'] as string | undefined);
        res.writeHead(302, { location: `${other.url}/elsewhere` }).end();
      });
      await client([target, other], { headers: { 'X-API-KEY': 'secret-key-123' } }).request({ url: target.url });
      expect(seen).toEqual(['secret-key-123', undefined]);
    });
  });

  describe('size caps', () => {
    it('aborts a body larger than the cap, declared or streamed', async () => {
      const big = Buffer.alloc(2 * 1024 * 1024, 'a');
      const declared = await server((_req, res) => res.writeHead(200, { 'content-length': big.length }).end(big));
      const streamed = await server((_req, res) => {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 32; i += 1) res.write(big.subarray(0, 64 * 1024));
        res.end();
      });
      const http = client([declared, streamed], { maxResponseBytes: 1024 * 1024 });
      await expect(http.request({ url: declared.url })).rejects.toBeInstanceOf(ResponseTooLargeError);
      await expect(http.request({ url: streamed.url })).rejects.toBeInstanceOf(ResponseTooLargeError);
    });

    it.each([
      ['gzip', (data: Buffer) => gzipSync(data)],
      ['br', (data: Buffer) => brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 1 } })],
    ])('stops a %s decompression bomb by counting decoded bytes', async (encoding, compress) => {
      const bomb = compress(Buffer.alloc(16 * 1024 * 1024));
      expect(bomb.length).toBeLessThan(100 * 1024);
      const target = await server((_req, res) => res.writeHead(200, { 'content-encoding': encoding }).end(bomb));
      const error = await client([target], { maxResponseBytes: 1024 * 1024 })
        .request({ url: target.url })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect((error as Error).message).toContain('decoded');
    });

    it('decodes an ordinary gzip body', async () => {
      const target = await server((_req, res) =>
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'application/json' }).end(gzipSync('{"ok":true}')),
      );
      expect((await client([target]).request({ url: target.url })).json()).toEqual({ ok: true });
    });
  });

  describe('retries', () => {
    function countingServer(statuses: Array<[number, Record<string, string>?]>) {
      let call = 0;
      return server((_req, res) => {
        const [status, headers] = statuses[Math.min(call, statuses.length - 1)];
        call += 1;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ call }));
      });
    }

    it('retries 429 and 5xx with backoff, then succeeds', async () => {
      const target = await countingServer([[429], [503], [500], [200]]);
      const response = await client([target]).request({ url: target.url });
      expect(response.json()).toEqual({ call: 4 });
    });

    it('honours Retry-After in seconds and as an HTTP date', async () => {
      const waits: number[] = [];
      const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
      const target = await countingServer([[429, { 'retry-after': '3' }], [503, { 'retry-after': inTwoSeconds }], [200]]);
      await client([target], { sleep: async (ms) => void waits.push(ms), maxRetryDelayMs: 10_000 }).request({ url: target.url });
      expect(waits[0]).toBe(3000);
      expect(waits[1]).toBeGreaterThan(500);
      expect(waits[1]).toBeLessThanOrEqual(2000);
      expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    });

    it('gives up at once when Retry-After is longer than it may wait', async () => {
      const target = await countingServer([[429, { 'retry-after': '3600' }], [200]]);
      const error = await client([target]).request({ url: target.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogHttpError);
      expect(error).toMatchObject({ status: 429, retryAfterMs: 3_600_000, retryable: true });
      expect(target.hits).toHaveLength(1);
    });

    it('surfaces a permanent error without retrying, with status and URL', async () => {
      const target = await countingServer([[404]]);
      const error = await client([target]).request({ url: `${target.url}/missing` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogHttpError);
      expect(error).toMatchObject({ status: 404, url: `${target.url}/missing`, retryable: false });
      expect(target.hits).toHaveLength(1);
    });

    it('does not repeat a POST after a 500 (it may have been applied), but does after a 429', async () => {
      const failing = await countingServer([[500], [200]]);
      await expect(client([failing]).request({ method: 'POST', url: failing.url, json: {} })).rejects.toBeInstanceOf(CatalogHttpError);
      expect(failing.hits).toHaveLength(1);
      const throttled = await countingServer([[429], [200]]);
      await client([throttled]).request({ method: 'POST', url: throttled.url, json: {} });
      expect(throttled.hits).toHaveLength(2);
    });

    it('reports a truncated body as a retryable network error', async () => {
      const target = await server((_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('{"partial":', () => res.socket?.destroy());
      });
      const error = await client([target], { maxRetries: 1 }).request({ url: target.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogNetworkError);
      expect((error as Error).message).toContain('truncated');
      expect(target.hits).toHaveLength(2);
    });

    it('times out a slow answer', async () => {
      const target = await server((_req, res) => {
        const late = setTimeout(() => res.end('late'), 1500);
        res.on('close', () => clearTimeout(late)); // the client gave up: nothing left to answer, nothing keeps Jest's worker alive
      });
      const error = await client([target], { timeoutMs: 200, maxRetries: 0 }).request({ url: target.url }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'timeout', retryable: true });
    });
  });

  describe('secrets', () => {
    it('never puts the API key in an error message', async () => {
      const apiKey = 'sk-live-0123456789abcdef';
      const target = await server((req, res) =>
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `key ${req.headers['x-api-key']} refused` })),
      );
      const error = await client([target], { headers: { 'X-API-KEY': apiKey }, secrets: [apiKey] })
        .request({ url: `${target.url}/?api_key=${apiKey}` })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatalogHttpError);
      const report = JSON.stringify((error as CatalogHttpError).toReport());
      expect(report).not.toContain(apiKey);
      expect(report).toContain('refused');
      expect((error as Error).message).not.toContain(apiKey);
    });
  });
});
