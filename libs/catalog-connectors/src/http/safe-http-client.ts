import type { LookupAddress } from 'dns';
import { lookup as dnsLookup } from 'dns/promises';
import { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage, request as httpRequest } from 'http';
import { Agent as HttpsAgent, request as httpsRequest } from 'https';
import { isIP } from 'net';
import { Readable, Transform } from 'stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'zlib';
import {
  CatalogError,
  CatalogHttpError,
  CatalogNetworkError,
  CatalogPayloadError,
  ResponseTooLargeError,
  TooManyRedirectsError,
  UnsafeUrlError,
} from '../errors';
import { isLocalHostName, nonPublicAddressReason } from './address-guard';
import { redactSecrets, redactUrl } from './redact';
import { backoffDelay, parseRetryAfter } from './retry';

export interface HttpLogger {
  warn(message: string, context?: Record<string, unknown>): void;
  debug?(message: string, context?: Record<string, unknown>): void;
}

export interface SafeHttpClientOptions {
  /** Let requests reach loopback/private/link-local addresses. Off by default (SSRF guard). */
  allowPrivateNetworks?: boolean;
  /** Hosts (`name` or `name:port`) exempt from the address guard, e.g. a fake catalog in tests. */
  allowedHosts?: readonly string[];
  /** Deadline for one attempt, from connecting to the last body byte. Default 30 s. */
  timeoutMs?: number;
  /** Default 5. Each hop is checked by the address guard again. */
  maxRedirects?: number;
  /** Body size cap, counted after decompression. Default 50 MiB. */
  maxResponseBytes?: number;
  /** Retries after the first attempt, for retryable failures. Default 3. */
  maxRetries?: number;
  /** First backoff delay, doubled on each retry. Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Longest wait before a retry; a Retry-After beyond it fails at once (the caller reschedules). Default 30 s. */
  maxRetryDelayMs?: number;
  /** Client-side pacing, to stay under a remote's rate limit. */
  maxRequestsPerSecond?: number;
  /** Headers sent with every request; dropped when a redirect leaves the origin. */
  headers?: Record<string, string>;
  /** Values (API keys) that must never appear in errors or logs. */
  secrets?: readonly (string | undefined)[];
  userAgent?: string;
  logger?: HttpLogger;
  /** DNS resolution, replaceable in tests. Returns every address of the host. */
  resolveHost?: (hostname: string) => Promise<string[]>;
  sleep?: (ms: number) => Promise<void>;
}

export type RetryPolicy =
  /** Idempotent methods retry on network errors, 408/425/429/5xx; POST only where nothing was processed (429, refused). */
  | 'auto'
  /** The caller knows the operation is idempotent: retry like a GET. */
  | 'idempotent'
  | 'never';

export interface HttpRequest {
  method?: string;
  url: string | URL;
  query?: Record<string, string | number | boolean | undefined | readonly string[]>;
  headers?: Record<string, string>;
  /** Sent as JSON with the matching content type. */
  json?: unknown;
  body?: string | Buffer;
  retry?: RetryPolicy;
  /** Statuses returned to the caller instead of thrown (e.g. to read an API's error envelope). */
  acceptStatus?: (status: number) => boolean;
  maxResponseBytes?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Final URL after redirects, redacted. */
  url: string;
  body: Buffer;
  text(): string;
  /** Parsed JSON body; a CatalogPayloadError when it is not JSON (HTML error page, truncated body…). */
  json<T = unknown>(): T;
}

/** A response whose body is read as it arrives (data files): decoded, size-capped, with an idle deadline. */
export interface HttpStreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Final URL after redirects, redacted. */
  url: string;
  /** Decoded body. Fails with ResponseTooLargeError past the cap, or CatalogNetworkError when the remote stalls or cuts it. */
  body: Readable;
}

export interface HttpStreamRequest extends Omit<HttpRequest, 'json' | 'body'> {
  /** Longest silence between two chunks of the body (default: the client's timeoutMs). */
  idleTimeoutMs?: number;
}

interface SharedConnections {
  httpAgent: HttpAgent;
  httpsAgent: HttpsAgent;
  /** Paced requests wait their turn in this chain… */
  pacing: Promise<void>;
  /** …and leave at least 1/rate s after the previous one actually left (a late timer cannot bunch them). */
  lastPacedRequestAt: number;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const CREDENTIAL_HEADERS = ['authorization', 'x-api-key', 'x-ckan-api-key', 'x-ckan-api-token', 'cookie', 'proxy-authorization'];
const DEFAULT_MAX_RESPONSE_BYTES = 50 * 1024 * 1024;

/**
 * The only way adapters reach the network. Harvest URLs come from users, so
 * every hop is checked against the address guard after DNS resolution (and
 * connects to the address that was checked, so DNS rebinding cannot swap it),
 * bodies are capped after decompression, redirects are bounded, and transient
 * failures are retried with backoff that honours Retry-After. Errors carry the
 * redacted URL and status, never an API key.
 */
export class SafeHttpClient {
  private readonly options: Required<
    Pick<
      SafeHttpClientOptions,
      'timeoutMs' | 'maxRedirects' | 'maxResponseBytes' | 'maxRetries' | 'retryBaseDelayMs' | 'maxRetryDelayMs'
    >
  > &
    SafeHttpClientOptions;
  private readonly allowedHosts: Set<string>;

  constructor(
    options: SafeHttpClientOptions = {},
    /** Connection pools and pacing, shared with the clients derived from this one. */
    private readonly shared: SharedConnections = {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
      pacing: Promise.resolve(),
      lastPacedRequestAt: 0,
    },
  ) {
    this.options = {
      timeoutMs: 30_000,
      maxRedirects: 5,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
      maxRetries: 3,
      retryBaseDelayMs: 500,
      maxRetryDelayMs: 30_000,
      ...definedOnly(options),
    };
    this.allowedHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
  }

  /** A client with the same guards and extra settings (e.g. the adapter's credentials and secrets). */
  derive(options: SafeHttpClientOptions): SafeHttpClient {
    return new SafeHttpClient(
      {
        ...this.options,
        ...definedOnly(options),
        headers: { ...this.options.headers, ...options.headers },
        secrets: [...(this.options.secrets ?? []), ...(options.secrets ?? [])],
        allowedHosts: [...(this.options.allowedHosts ?? []), ...(options.allowedHosts ?? [])],
      },
      this.shared,
    );
  }

  async getJson<T = unknown>(url: string | URL, request: Omit<HttpRequest, 'url' | 'method'> = {}): Promise<T> {
    return (await this.request({ ...request, url, method: 'GET' })).json<T>();
  }

  /**
   * Like `request`, but the body of a 2xx answer is not buffered: it streams,
   * decoded, counted against `maxResponseBytes` and with an idle deadline
   * instead of a total one (a large file takes as long as its reader takes).
   * Retries happen only before the body starts. Other statuses are handled as
   * `request` does (thrown, or returned when `acceptStatus` says so).
   */
  async stream(request: HttpStreamRequest): Promise<HttpStreamResponse> {
    const response = await this.perform(request, request.idleTimeoutMs ?? this.options.timeoutMs);
    return { status: response.status, headers: response.headers, url: response.url, body: response.stream ?? Readable.from([response.body]) };
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    return this.perform(request);
  }

  /** `streamIdleMs`: stream a 2xx body (with that idle deadline) instead of buffering it. */
  private async perform(request: HttpRequest, streamIdleMs?: number): Promise<HttpResponse & { stream?: Readable }> {
    const method = (request.method ?? 'GET').toUpperCase();
    const url = withQuery(request.url, request.query);
    const policy = request.retry ?? 'auto';
    for (let attempt = 0; ; attempt += 1) {
      const attemptsLeft = attempt < this.options.maxRetries;
      let response: HttpResponse & { stream?: Readable };
      try {
        await this.pace();
        response = await this.followRedirects(method, url, request, streamIdleMs);
      } catch (error) {
        const canRetry =
          attemptsLeft && error instanceof CatalogNetworkError && this.mayRetryFailure(method, policy, error);
        if (!canRetry) throw error;
        const delay = backoffDelay(attempt, this.backoffPolicy());
        this.options.logger?.warn(`retrying after network failure in ${delay} ms`, { url: redactUrl(url), error: this.redact(error.message) });
        await this.wait(delay, request.signal);
        continue;
      }
      const { status } = response;
      if (status < 300) return response;
      const retryable = RETRYABLE_STATUSES.has(status) && this.mayRetryStatus(method, policy, status);
      // Statuses the caller wants to read itself (an API's error envelope) are returned, unless a retry may cure them.
      if (!retryable && request.acceptStatus?.(status)) return response;
      const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
      const error = new CatalogHttpError(method, response.url, status, this.redactOptional(remoteMessage(response)), retryAfterMs);
      if (!retryable || !attemptsLeft) throw error;
      if (retryAfterMs !== undefined && retryAfterMs > this.options.maxRetryDelayMs) throw error;
      const delay = retryAfterMs ?? backoffDelay(attempt, this.backoffPolicy());
      this.options.logger?.warn(`HTTP ${response.status}, retrying in ${delay} ms`, { url: response.url });
      await this.wait(delay, request.signal);
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.shared.httpAgent.destroy();
    this.shared.httpsAgent.destroy();
  }

  /** Masks configured secrets in a text. */
  redact(text: string): string {
    return redactSecrets(text, this.options.secrets ?? []);
  }

  private redactOptional(text: string | undefined): string | undefined {
    return text === undefined ? undefined : this.redact(text);
  }

  private backoffPolicy() {
    return { baseDelayMs: this.options.retryBaseDelayMs, maxDelayMs: this.options.maxRetryDelayMs };
  }

  private mayRetryFailure(method: string, policy: RetryPolicy, error: CatalogNetworkError): boolean {
    if (policy === 'never') return false;
    if (policy === 'idempotent' || IDEMPOTENT_METHODS.has(method)) return true;
    // A refused connection or failed DNS lookup never reached the server.
    return /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(error.message);
  }

  private mayRetryStatus(method: string, policy: RetryPolicy, status: number): boolean {
    if (policy === 'never') return false;
    if (policy === 'idempotent' || IDEMPOTENT_METHODS.has(method)) return true;
    return status === 429;
  }

  private async pace(): Promise<void> {
    const rate = this.options.maxRequestsPerSecond;
    if (!rate) return;
    const turn = this.shared.pacing.then(async () => {
      const gap = this.shared.lastPacedRequestAt + 1000 / rate - Date.now();
      if (gap > 0) await this.wait(gap);
      this.shared.lastPacedRequestAt = Date.now();
    });
    this.shared.pacing = turn.catch(() => undefined);
    await turn;
  }

  private async wait(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await (this.options.sleep ?? defaultSleep)(ms);
    signal?.throwIfAborted();
  }

  private async followRedirects(
    method: string,
    startUrl: URL,
    request: HttpRequest,
    streamIdleMs?: number,
  ): Promise<HttpResponse & { stream?: Readable }> {
    let url = startUrl;
    let currentMethod = method;
    let body = request.json !== undefined ? Buffer.from(JSON.stringify(request.json)) : toBuffer(request.body);
    let headers: Record<string, string> = {
      'user-agent': this.options.userAgent ?? 'open-data-broker/catalog-connectors',
      'accept-encoding': 'gzip, deflate, br',
      accept: 'application/json, application/ld+json;q=0.9, text/turtle;q=0.9, application/rdf+xml;q=0.9, */*;q=0.5',
      ...lowerCaseKeys(this.options.headers),
      ...lowerCaseKeys(request.headers),
      ...(request.json !== undefined ? { 'content-type': 'application/json' } : {}),
    };
    for (let hop = 0; ; hop += 1) {
      const response = await this.send(currentMethod, url, headers, body, request, streamIdleMs);
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.status) || !location) return response;
      if (hop >= this.options.maxRedirects) throw new TooManyRedirectsError(redactUrl(startUrl), this.options.maxRedirects);
      const next = new URL(location, url);
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && currentMethod === 'POST')) {
        currentMethod = currentMethod === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      url = next;
    }
  }

  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: Buffer | undefined,
    request: HttpRequest,
    streamIdleMs?: number,
  ): Promise<HttpResponse & { stream?: Readable }> {
    const address = await this.checkedAddress(url);
    const limit = request.maxResponseBytes ?? this.options.maxResponseBytes;
    const shownUrl = redactUrl(url);
    const isHttps = url.protocol === 'https:';
    const requestHeaders = { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) };

    return new Promise<HttpResponse & { stream?: Readable }>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        req.destroy();
        reject(error);
      };
      const onAbort = () => fail(request.signal?.reason ?? new Error('aborted'));
      const timer = setTimeout(
        () => fail(new CatalogNetworkError(shownUrl, `no complete response within ${this.options.timeoutMs} ms`, undefined, 'timeout')),
        this.options.timeoutMs,
      );
      const req = (isHttps ? httpsRequest : httpRequest)(
        {
          method,
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (isHttps ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          headers: requestHeaders,
          agent: isHttps ? this.shared.httpsAgent : this.shared.httpAgent,
          // Connect to the address that passed the guard, not to a fresh DNS answer.
          lookup: pinnedLookup(address),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (streamIdleMs !== undefined && status >= 200 && status < 300) {
            // Headers are in: from now on the deadline is per chunk, and the caller reads at its own pace.
            settled = true;
            clearTimeout(timer);
            request.signal?.removeEventListener('abort', onAbort);
            const body = streamBody(res, limit, shownUrl, streamIdleMs, request.signal);
            resolve(Object.assign(toResponse(res, Buffer.alloc(0), shownUrl), { stream: body }));
            return;
          }
          readBody(res, limit, shownUrl).then(
            (buffer) => {
              if (settled) return;
              settled = true;
              clearTimeout(timer);
              request.signal?.removeEventListener('abort', onAbort);
              resolve(toResponse(res, buffer, shownUrl));
            },
            (error) => {
              res.destroy();
              fail(error);
            },
          );
        },
      );
      if (request.signal?.aborted) return onAbort();
      request.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (error: NodeJS.ErrnoException) =>
        fail(error instanceof CatalogError ? error : new CatalogNetworkError(shownUrl, this.redact(describeSocketError(error)), error)),
      );
      req.end(body);
    });
  }

  /** The address to connect to, after the SSRF checks on the URL and on every DNS answer. */
  private async checkedAddress(url: URL): Promise<{ address: string; family: 4 | 6 }> {
    const shownUrl = redactUrl(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UnsafeUrlError(shownUrl, `scheme ${url.protocol} is not allowed`);
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const exempt =
      this.options.allowPrivateNetworks || this.allowedHosts.has(hostname) || this.allowedHosts.has(url.host.toLowerCase());
    if (!exempt && isLocalHostName(hostname)) throw new UnsafeUrlError(shownUrl, `host ${hostname} is local`);
    const addresses = isIP(hostname) ? [hostname] : await this.resolve(hostname, shownUrl);
    if (!exempt) {
      for (const address of addresses) {
        const reason = nonPublicAddressReason(address);
        if (reason) throw new UnsafeUrlError(shownUrl, `${hostname} resolves to a ${reason}`);
      }
    }
    const address = addresses[0];
    return { address, family: isIP(address) === 6 ? 6 : 4 };
  }

  private async resolve(hostname: string, shownUrl: string): Promise<string[]> {
    try {
      const addresses = this.options.resolveHost
        ? await this.options.resolveHost(hostname)
        : (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);
      if (addresses.length === 0) throw new Error('no address');
      return addresses;
    } catch (error) {
      if (error instanceof CatalogError) throw error;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new CatalogNetworkError(shownUrl, `cannot resolve ${hostname} (${code})`, error);
    }
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function pinnedLookup(pinned: { address: string; family: 4 | 6 }) {
  return (
    _hostname: string,
    options: { all?: boolean } | number,
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    if (typeof options === 'object' && options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}

/** The decoded body of a streamed response, capped at `limit` bytes (raw and decoded), failing after `idleMs` without data. */
function streamBody(res: IncomingMessage, limit: number, shownUrl: string, idleMs: number, signal?: AbortSignal): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const declared = Number(res.headers['content-length']);
  const stalled = () => new CatalogNetworkError(shownUrl, `no data for ${idleMs} ms`, undefined, 'timeout');
  let idle = setTimeout(() => fail(stalled()), idleMs);
  // Counting transforms, not 'data' listeners: the body must not start flowing before its reader is there.
  const counter = (cap: () => Error, onChunk?: () => void) => {
    let bytes = 0;
    return new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        onChunk?.();
        callback(bytes > limit ? cap() : null, bytes > limit ? undefined : chunk);
      },
    });
  };
  const raw = counter(
    () => new ResponseTooLargeError(shownUrl, limit),
    () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(stalled()), idleMs);
    },
  );
  let output: Readable = res.pipe(raw);
  const decompressor =
    encoding === 'gzip' || encoding === 'x-gzip' ? createGunzip() : encoding === 'deflate' ? createInflate() : encoding === 'br' ? createBrotliDecompress() : undefined;
  if (decompressor) {
    // Counted after decompression too: a small gzip bomb cannot fill memory or disk.
    const decoded = counter(() => new ResponseTooLargeError(shownUrl, limit, 'decoded response body'));
    output = raw.pipe(decompressor).pipe(decoded);
    raw.on('error', (error) => decompressor.destroy(error));
    decompressor.on('error', (error: NodeJS.ErrnoException) =>
      decoded.destroy(error instanceof CatalogError ? error : new CatalogPayloadError(shownUrl, `cannot decompress ${encoding} body: ${error.message}`, error)),
    );
  }
  const body = output;
  function fail(error: Error): void {
    clearTimeout(idle);
    if (!body.destroyed) body.destroy(error);
    res.destroy();
  }
  res.on('error', (error) => raw.destroy(error));
  raw.on('error', (error) => {
    if (body !== raw) fail(error);
  });
  if (Number.isFinite(declared) && declared > limit) setImmediate(() => fail(new ResponseTooLargeError(shownUrl, limit)));
  const truncated = () => new CatalogNetworkError(shownUrl, 'connection closed before the whole body arrived (truncated response)');
  res.on('aborted', () => fail(truncated()));
  res.on('close', () => {
    if (!res.complete) fail(truncated());
  });
  body.on('end', () => clearTimeout(idle));
  body.on('close', () => clearTimeout(idle));
  const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  body.on('close', () => signal?.removeEventListener('abort', onAbort));
  return body;
}

async function readBody(res: IncomingMessage, limit: number, shownUrl: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new ResponseTooLargeError(shownUrl, limit);
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  let stream: Readable = res;
  let rawBytes = 0;
  res.on('data', (chunk: Buffer) => {
    rawBytes += chunk.length;
    // Compressed bytes count too: a slow trickle of them must not run forever.
    if (rawBytes > limit) stream.destroy(new ResponseTooLargeError(shownUrl, limit));
  });
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = res.pipe(createGunzip());
  else if (encoding === 'deflate') stream = res.pipe(createInflate());
  else if (encoding === 'br') stream = res.pipe(createBrotliDecompress());
  if (stream !== res) res.on('error', (error) => stream.destroy(error));

  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<Buffer>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Counted after decompression: a small gzip bomb cannot fill memory.
        const error = new ResponseTooLargeError(shownUrl, limit, 'decoded response body');
        stream.destroy(error);
        res.destroy();
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => {
      if (res.complete) resolve(Buffer.concat(chunks));
      else reject(new CatalogNetworkError(shownUrl, 'connection closed before the whole body arrived (truncated response)'));
    });
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof CatalogError) reject(error);
      else if (error.code === 'ECONNRESET' || error.message === 'aborted') {
        reject(new CatalogNetworkError(shownUrl, 'connection closed before the whole body arrived (truncated response)', error));
      } else if (stream !== res && (error.code?.startsWith('Z_') || error.code?.startsWith('ERR_'))) {
        reject(new CatalogPayloadError(shownUrl, `cannot decompress ${encoding} body: ${error.message}`, error));
      } else reject(new CatalogNetworkError(shownUrl, describeSocketError(error), error));
    });
    res.on('aborted', () =>
      stream.destroy(new CatalogNetworkError(shownUrl, 'connection closed before the whole body arrived (truncated response)')),
    );
  });
}

function toResponse(res: IncomingMessage, body: Buffer, url: string): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    url,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => parseJson<T>(body, url, String(res.headers['content-type'] ?? '')),
  };
}

function parseJson<T>(body: Buffer, url: string, contentType: string): T {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    const kind = /html/i.test(contentType) || /^\s*</.test(text) ? 'an HTML/XML page' : 'invalid or truncated JSON';
    throw new CatalogPayloadError(url, `expected JSON, got ${kind} (${body.length} bytes)`, error);
  }
}

/** What the remote said went wrong, from its body, in a few words. */
function remoteMessage(response: HttpResponse): string | undefined {
  const text = response.text().trim();
  if (!text) return undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body.error as Record<string, unknown> | string | undefined;
    const message =
      (typeof error === 'object' && error ? error.message : error) ?? body.message ?? body.detail ?? body.errors;
    if (message !== undefined) return truncate(typeof message === 'string' ? message : JSON.stringify(message));
  } catch {
    // not JSON: fall through to the raw text
  }
  return /^\s*</.test(text) ? undefined : truncate(text);
}

function truncate(text: string, max = 300): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}

function withQuery(url: string | URL, query: HttpRequest['query']): URL {
  const result = new URL(url.toString());
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) result.searchParams.append(name, item);
    else result.searchParams.set(name, String(value));
  }
  return result;
}

function toBuffer(body: string | Buffer | undefined): Buffer | undefined {
  return body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.includes(name)));
}
