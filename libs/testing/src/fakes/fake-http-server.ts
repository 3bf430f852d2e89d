import { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { AddressInfo } from 'net';

/** One request as the fake saw it, for assertions. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body when the body was JSON, else the raw text (undefined when empty). */
  body: unknown;
  at: number;
}

export interface FakeRequest extends RecordedRequest {
  url: URL;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON. */
  body?: unknown;
}

/**
 * Faults a test can switch on. Counters ("next N requests") decrease as
 * requests arrive; the first matching fault wins, in the order: rate limit,
 * 429, 5xx, canned response, then the normal answer (maybe delayed, maybe
 * truncated).
 */
export interface FaultSwitches {
  /** Added before every answer. */
  latencyMs: number;
  /** Answer the next N requests with 429 and this Retry-After. */
  tooManyRequests: { remaining: number; retryAfter: string };
  /** Answer the next N requests with this 5xx status. */
  serverErrors: { remaining: number; status: number };
  /** Cut the body of the next N answers in half (Content-Length announces the whole). */
  truncatedBodies: { remaining: number };
  /** More requests than this within one second get 429 with Retry-After: 1 (0 = unlimited). */
  requestsPerSecond: number;
  /** Answer the next N requests with this canned response (malformed payloads, odd envelopes). */
  cannedResponses: { remaining: number; response?: FakeResponse };
}

/**
 * Base of the fake remote catalogs: a node:http server on a free port with a
 * request log and fault injection. Subclasses implement `handle`.
 */
export abstract class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  readonly faults: FaultSwitches = FakeHttpServer.noFaults();
  private server?: Server;
  private baseUrl?: string;
  private readonly recentRequests: number[] = [];

  /** Starts listening (port 0 = any free port) and resolves with the server itself. */
  async start(port = 0, host = '127.0.0.1'): Promise<this> {
    if (this.server) return this;
    const server = createServer((req, res) => void this.dispatch(req, res));
    // Tests stop servers while clients keep idle keep-alive sockets: do not wait for them.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    this.server = server;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Base URL, e.g. `http://127.0.0.1:39123`. */
  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.constructor.name} is not started`);
    return this.baseUrl;
  }

  /** `host:port`, to put in a SafeHttpClient allow-list. */
  get host(): string {
    return new URL(this.url).host;
  }

  // Fault switches, readable in tests: fake.failNext(2), fake.throttleNext(1, '2')…

  setLatency(ms: number): this {
    this.faults.latencyMs = ms;
    return this;
  }

  /** The next `count` requests get 429 Too Many Requests with `Retry-After: retryAfter` (seconds or HTTP-date). */
  throttleNext(count: number, retryAfter = '0'): this {
    this.faults.tooManyRequests = { remaining: count, retryAfter };
    return this;
  }

  /** The next `count` requests get an HTTP `status` (default 500). */
  failNext(count: number, status = 500): this {
    this.faults.serverErrors = { remaining: count, status };
    return this;
  }

  /** The next `count` answers are cut in the middle of their body. */
  truncateNext(count: number): this {
    this.faults.truncatedBodies = { remaining: count };
    return this;
  }

  /** The next `count` requests get `response` whatever they ask (e.g. an HTML page with status 200). */
  answerNext(count: number, response: FakeResponse): this {
    this.faults.cannedResponses = { remaining: count, response };
    return this;
  }

  /** More than `perSecond` requests in any second are answered 429 (0 lifts the limit). */
  limitRate(perSecond: number): this {
    this.faults.requestsPerSecond = perSecond;
    return this;
  }

  resetFaults(): this {
    Object.assign(this.faults, FakeHttpServer.noFaults());
    return this;
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Requests whose path starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path.startsWith(prefix));
  }

  protected abstract handle(request: FakeRequest): FakeResponse | Promise<FakeResponse>;

  /** Answer for a fault that applies to every endpoint of this fake; subclasses may shape it (CKAN envelope). */
  protected faultResponse(status: number, headers: Record<string, string> = {}): FakeResponse {
    return { status, headers, body: { message: status === 429 ? 'Too Many Requests' : 'Internal Server Error' } };
  }

  private static noFaults(): FaultSwitches {
    return {
      latencyMs: 0,
      tooManyRequests: { remaining: 0, retryAfter: '0' },
      serverErrors: { remaining: 0, status: 500 },
      truncatedBodies: { remaining: 0 },
      requestsPerSecond: 0,
      cannedResponses: { remaining: 0 },
    };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const request = await this.record(req);
      const response = await this.respond(request);
      if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
      this.send(res, response);
    } catch (error) {
      this.send(res, { status: 500, body: { message: `fake server error: ${(error as Error).message}` } });
    }
  }

  private async respond(request: FakeRequest): Promise<FakeResponse> {
    if (this.faults.requestsPerSecond > 0) {
      const now = Date.now();
      while (this.recentRequests.length && this.recentRequests[0] <= now - 1000) this.recentRequests.shift();
      if (this.recentRequests.length >= this.faults.requestsPerSecond) return this.faultResponse(429, { 'retry-after': '1' });
      this.recentRequests.push(now);
    }
    const throttle = this.faults.tooManyRequests;
    if (throttle.remaining > 0) {
      throttle.remaining -= 1;
      return this.faultResponse(429, { 'retry-after': throttle.retryAfter });
    }
    const failure = this.faults.serverErrors;
    if (failure.remaining > 0) {
      failure.remaining -= 1;
      return this.faultResponse(failure.status);
    }
    const canned = this.faults.cannedResponses;
    if (canned.remaining > 0 && canned.response) {
      canned.remaining -= 1;
      return canned.response;
    }
    return this.handle(request);
  }

  private async record(req: IncomingMessage): Promise<FakeRequest> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text || undefined;
    if (text && /json/i.test(String(req.headers['content-type'] ?? ''))) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const request: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      at: Date.now(),
      url,
    };
    const { url: _url, ...recorded } = request;
    this.requests.push(recorded);
    return request;
  }

  private send(res: ServerResponse, response: FakeResponse): void {
    const isText = typeof response.body === 'string' || Buffer.isBuffer(response.body);
    const payload =
      response.body === undefined
        ? Buffer.alloc(0)
        : isText
          ? Buffer.from(response.body as string | Buffer)
          : Buffer.from(JSON.stringify(response.body));
    const headers: Record<string, string> = {
      ...(response.body !== undefined && !isText ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      ...response.headers,
      'content-length': String(payload.length),
    };
    const truncate = this.faults.truncatedBodies;
    if (truncate.remaining > 0 && payload.length > 1) {
      truncate.remaining -= 1;
      res.writeHead(response.status, headers);
      // Half the promised bytes, then the connection drops.
      res.write(payload.subarray(0, Math.floor(payload.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.writeHead(response.status, headers);
    res.end(payload);
  }
}

/** JSON answer helper. */
export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { status, body, headers };
}
