import type { IncomingHttpHeaders } from 'http';

/** What URL building reads of a request, on either HTTP adapter (Express or Fastify). */
export interface HttpRequest {
  headers: IncomingHttpHeaders;
  protocol?: string;
  originalUrl?: string;
  url?: string;
}

/**
 * Absolute base URL of the API as the client sees it: scheme from
 * X-Forwarded-Proto / X-Forwarded-Scheme, host from the Host header (so
 * `url` fields and Location headers echo what the client called), then the base path.
 */
export function publicBaseUrl(request: HttpRequest, basePath: string): string {
  const forwarded = header(request, 'x-forwarded-proto') ?? header(request, 'x-forwarded-scheme');
  const scheme = (forwarded?.split(',')[0].trim() || request.protocol || 'http').toLowerCase();
  const host = header(request, 'x-forwarded-host')?.split(',')[0].trim() || header(request, 'host') || 'localhost';
  return `${scheme}://${host}${normaliseBasePath(basePath)}`;
}

/** `v1/` → `/v1`; `/` and `` → ``. */
export function normaliseBasePath(basePath: string): string {
  const trimmed = basePath.replace(/^\/+|\/+$/g, '');
  return trimmed ? `/${trimmed}` : '';
}

function header(request: HttpRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The absolute URL the client requested, without a trailing slash (BitBroker's `Location` on 201). */
export function requestedResourceUrl(request: HttpRequest): string {
  const origin = publicBaseUrl(request, '');
  return `${origin}${(request.originalUrl ?? request.url ?? '').split('?')[0].replace(/\/+$/, '')}`;
}
