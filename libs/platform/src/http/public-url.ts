import type { Request } from 'express';

/**
 * Absolute base URL of the API as the client sees it: scheme from
 * X-Forwarded-Proto / X-Forwarded-Scheme, host from the Host header (so
 * `url` fields and Location headers echo what the client called), then the base path.
 */
export function publicBaseUrl(request: Request, basePath: string): string {
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

function header(request: Request, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The absolute URL the client requested, without a trailing slash (BitBroker's `Location` on 201). */
export function requestedResourceUrl(request: Request): string {
  const origin = publicBaseUrl(request, '');
  return `${origin}${request.originalUrl.split('?')[0].replace(/\/+$/, '')}`;
}
