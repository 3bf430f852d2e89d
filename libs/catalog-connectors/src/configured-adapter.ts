import type { CatalogAdapter, CatalogAdapterOptions } from './adapter';
import { createCatalogAdapter } from './registry';

/** A remote catalog as the platform stores it, with its API key already unsealed (if any). */
export interface ConfiguredRemoteCatalog {
  type: string;
  url: string;
  organization?: string | null;
  apiKey?: string | null;
}

/** The deployment's rules for outbound calls to remote catalogs (SSRF guard and timeouts). */
export interface OutboundPolicy {
  /** Hosts (name or name:port) exempt from the private-address guard. */
  allowedHosts: readonly string[];
  allowPrivateNetworks: boolean;
  timeoutMs: number;
}

/** The adapter for a configured remote catalog, its API key registered as a secret to redact everywhere. */
export function adapterForRemoteCatalog(
  catalog: ConfiguredRemoteCatalog,
  policy: OutboundPolicy,
  options: Omit<CatalogAdapterOptions, 'http'> = {},
): CatalogAdapter {
  const config: Record<string, unknown> = { url: catalog.url };
  if (catalog.apiKey) config.apiKey = catalog.apiKey;
  if (catalog.organization) config.organization = catalog.organization;
  return createCatalogAdapter(catalog.type, config, {
    ...options,
    httpOptions: {
      allowedHosts: policy.allowedHosts,
      allowPrivateNetworks: policy.allowPrivateNetworks,
      timeoutMs: policy.timeoutMs,
      secrets: [catalog.apiKey ?? undefined],
      ...options.httpOptions,
    },
  });
}

/** `a.example.org, b:8080` → ['a.example.org', 'b:8080']. */
export function parseHostList(value: string): string[] {
  return value
    .split(',')
    .map((host) => host.trim())
    .filter((host) => host.length > 0);
}
