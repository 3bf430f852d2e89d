import type { CatalogAdapterConfig, CatalogAdapterOptions } from './adapter';
import { CatalogConfigError } from './errors';
import { SafeHttpClient } from './http/safe-http-client';

/**
 * The HTTP client of one adapter: the shared client's guards, plus this
 * catalog's credential header, with the key registered as a secret so it is
 * masked in every error and log line.
 */
export function adapterHttpClient(
  config: CatalogAdapterConfig,
  options: CatalogAdapterOptions,
  credentialHeaders: Record<string, string>,
): SafeHttpClient {
  const base = options.http ?? new SafeHttpClient(options.httpOptions);
  return base.derive({ headers: credentialHeaders, secrets: [config.apiKey] });
}

/** The portal's base URL without trailing slashes; rejects anything but http(s). */
export function baseUrlOf(config: CatalogAdapterConfig): string {
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new CatalogConfigError(`catalog url is not a URL: ${JSON.stringify(config.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CatalogConfigError(`catalog url must be http or https, got ${url.protocol}`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

export function requireApiKey(config: CatalogAdapterConfig, kind: string): string {
  if (!config.apiKey) throw new CatalogConfigError(`publishing to a ${kind} catalog needs an API key`);
  return config.apiKey;
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(value)));
}
