/**
 * Errors raised while talking to a remote catalog. Every one carries the URL
 * it concerns (credentials removed) and whether retrying later may help, so a
 * harvest run or a publication can report it per item and a queue can decide
 * between "retry with backoff" and "give up".
 */
export type CatalogErrorCode =
  | 'http-status'
  | 'remote-error'
  | 'network'
  | 'timeout'
  | 'unsafe-url'
  | 'too-many-redirects'
  | 'too-large'
  | 'malformed-payload'
  | 'not-supported'
  | 'invalid-config'
  | 'unexpected';

export interface CatalogErrorReport {
  code: CatalogErrorCode;
  message: string;
  url?: string;
  status?: number;
  retryable: boolean;
}

export class CatalogError extends Error {
  constructor(
    readonly code: CatalogErrorCode,
    message: string,
    readonly details: { url?: string; status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
  }

  get url(): string | undefined {
    return this.details.url;
  }

  get status(): number | undefined {
    return this.details.status;
  }

  /** True when the same request may succeed later (429, 5xx, network trouble). */
  get retryable(): boolean {
    return this.details.retryable ?? false;
  }

  toReport(): CatalogErrorReport {
    return { code: this.code, message: this.message, url: this.url, status: this.status, retryable: this.retryable };
  }
}

/** The remote answered with a non-success HTTP status. */
export class CatalogHttpError extends CatalogError {
  constructor(
    readonly method: string,
    url: string,
    status: number,
    /** A short, redacted excerpt of the body: what the remote said went wrong. */
    readonly remoteMessage?: string,
    /** Milliseconds the remote asked us to wait (Retry-After), when it did. */
    readonly retryAfterMs?: number,
  ) {
    super(
      'http-status',
      `${method} ${url} answered HTTP ${status}${remoteMessage ? `: ${remoteMessage}` : ''}`,
      { url, status, retryable: status === 408 || status === 425 || status === 429 || status >= 500 },
    );
  }
}

/**
 * The remote API reported a failure inside a response envelope, e.g. CKAN's
 * `{success: false, error: {...}}` which some servers send with HTTP 200.
 */
export class CatalogApiError extends CatalogError {
  constructor(
    url: string,
    message: string,
    readonly remoteType?: string,
    /** Field → messages, for validation errors. */
    readonly fieldErrors: Record<string, string[]> = {},
    status?: number,
  ) {
    super('remote-error', `${url}: ${remoteType ? `${remoteType}: ` : ''}${message}`, {
      url,
      status,
      retryable: status !== undefined && (status === 429 || status >= 500),
    });
  }
}

export class CatalogNetworkError extends CatalogError {
  constructor(url: string, reason: string, cause?: unknown, code: 'network' | 'timeout' = 'network') {
    super(code, `${url}: ${reason}`, { url, retryable: true, cause });
  }
}

/** The target resolves to an address the SSRF guard refuses (loopback, private, link-local…). */
export class UnsafeUrlError extends CatalogError {
  constructor(url: string, reason: string) {
    super('unsafe-url', `refused to fetch ${url}: ${reason}`, { url, retryable: false });
  }
}

export class TooManyRedirectsError extends CatalogError {
  constructor(url: string, limit: number) {
    super('too-many-redirects', `${url}: more than ${limit} redirects`, { url, retryable: false });
  }
}

export class ResponseTooLargeError extends CatalogError {
  constructor(url: string, limitBytes: number, what = 'response body') {
    super('too-large', `${url}: ${what} exceeds ${limitBytes} bytes`, { url, retryable: false });
  }
}

/** The body could not be understood: not JSON, truncated, invalid RDF, unexpected shape. */
export class CatalogPayloadError extends CatalogError {
  constructor(url: string | undefined, reason: string, cause?: unknown) {
    super('malformed-payload', `${url ? `${url}: ` : ''}${reason}`, { url, retryable: false, cause });
  }
}

export class CatalogNotSupportedError extends CatalogError {
  constructor(kind: string, what: string) {
    super('not-supported', `${kind} catalogs do not support ${what}`);
  }
}

export class CatalogConfigError extends CatalogError {
  constructor(message: string) {
    super('invalid-config', message);
  }
}

/** Any thrown value as a report, for per-item error lists. */
export function toCatalogErrorReport(error: unknown): CatalogErrorReport {
  if (error instanceof CatalogError) return error.toReport();
  return { code: 'unexpected', message: error instanceof Error ? error.message : String(error), retryable: false };
}
