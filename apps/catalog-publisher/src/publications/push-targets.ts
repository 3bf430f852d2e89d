import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SecretBox } from '@odb/auth';
import {
  CatalogConfigError,
  PublishableEntityType,
  PublishingCatalogAdapter,
  SafeHttpClient,
  canPublish,
  createCatalogAdapter,
  parseHostList,
  readDatasetMetadata,
} from '@odb/catalog-connectors';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogPublisherConfig } from '../config';
import { PublicationRow } from './publication-store';

export interface RemoteCatalogTarget {
  id: number;
  slug: string;
  type: string;
  /** The organization published as ('' when none). */
  organization: string;
  adapter: PublishingCatalogAdapter;
  /** The API key, to mask wherever text leaves the process. */
  secrets: string[];
}

interface CatalogRow {
  id: number;
  slug: string;
  type: string;
  url: string;
  organization: string | null;
  api_key_sealed: string | null;
  updated_at: Date;
}

interface CatalogClients {
  stamp: number;
  apiKey: string | null;
  /** One per catalog: requests to it are paced together whatever the organization published as. */
  http: SafeHttpClient;
  adapters: Map<string, PublishingCatalogAdapter>;
}

/**
 * Where a push goes and what it pushes: the remote catalog's adapter (API
 * key unsealed, outbound guard, pacing per catalog) and the entity type as
 * it is now. Adapters are kept per catalog until its configuration changes.
 */
@Injectable()
export class PushTargets {
  private readonly logger = new Logger('PushTargets');
  private readonly secretBox: SecretBox;
  private readonly clients = new Map<number, CatalogClients>();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: CatalogPublisherConfig,
  ) {
    this.secretBox = new SecretBox(config.SECRETS_KEY);
  }

  async catalog(publication: PublicationRow): Promise<RemoteCatalogTarget> {
    const [row]: CatalogRow[] = await this.dataSource.query(
      `SELECT id, slug, type, url, organization, api_key_sealed, updated_at FROM remote_catalog WHERE id = $1`,
      [publication.remote_catalog_id],
    );
    if (!row) throw new CatalogConfigError('the remote catalog no longer exists');
    const clients = this.clientsFor(row);
    const organization = publication.organization ?? row.organization ?? '';
    let adapter = clients.adapters.get(organization);
    if (!adapter) {
      const config: Record<string, unknown> = { url: row.url };
      if (clients.apiKey) config.apiKey = clients.apiKey;
      if (organization) config.organization = organization;
      const created = createCatalogAdapter(row.type, config, { http: clients.http });
      if (!canPublish(created)) throw new CatalogConfigError(`catalogs of type ${row.type} cannot be published to`);
      adapter = created;
      clients.adapters.set(organization, adapter);
    }
    return { id: row.id, slug: row.slug, type: row.type, organization, adapter, secrets: clients.apiKey ? [clients.apiKey] : [] };
  }

  /** The entity type as consumers see it now, or undefined when it was deleted. */
  async entityType(slug: string): Promise<PublishableEntityType | undefined> {
    const [row]: Array<{ slug: string; name: string; description: string; tags: string[]; dataset_metadata: unknown; live_sources: string[] }> =
      await this.dataSource.query(
        `SELECT t.slug, t.name, t.description, t.tags, t.dataset_metadata,
                ARRAY(SELECT c.name FROM connector c WHERE c.entity_type_id = t.id AND c.is_live ORDER BY c.slug) AS live_sources
           FROM entity_type t WHERE t.slug = $1`,
        [slug],
      );
    if (!row) return undefined;
    return {
      slug: row.slug,
      name: row.name,
      description: row.description,
      tags: Array.isArray(row.tags) ? row.tags : [],
      metadata: readDatasetMetadata(row.dataset_metadata),
      liveSources: row.live_sources ?? [],
    };
  }

  close(): void {
    for (const clients of this.clients.values()) clients.http.close();
    this.clients.clear();
  }

  private clientsFor(row: CatalogRow): CatalogClients {
    const stamp = new Date(row.updated_at).getTime();
    const known = this.clients.get(row.id);
    if (known && known.stamp === stamp) return known;
    known?.http.close();
    let apiKey: string | null = null;
    if (row.api_key_sealed) {
      try {
        apiKey = this.secretBox.open(row.api_key_sealed);
      } catch {
        throw new CatalogConfigError(`the API key of remote catalog ${row.slug} cannot be decrypted (was SECRETS_KEY changed?)`);
      }
    }
    const http = new SafeHttpClient({
      allowedHosts: parseHostList(this.config.REMOTE_ALLOWED_HOSTS),
      allowPrivateNetworks: this.config.REMOTE_ALLOW_PRIVATE_NETWORKS,
      timeoutMs: this.config.REMOTE_TIMEOUT_MS,
      maxRetries: this.config.PUBLISH_HTTP_RETRIES,
      retryBaseDelayMs: 250,
      // Longer waits are the push's backoff (the worker slot is freed meanwhile).
      maxRetryDelayMs: 5000,
      maxRequestsPerSecond: this.config.PUBLISH_REQUESTS_PER_SECOND || undefined,
      secrets: [apiKey ?? undefined],
      userAgent: 'open-data-broker/catalog-publisher',
      logger: { warn: (message, context) => this.logger.warn(`${row.slug}: ${message} ${context?.url ?? ''}`.trim()) },
    });
    const clients: CatalogClients = { stamp, apiKey, http, adapters: new Map() };
    this.clients.set(row.id, clients);
    return clients;
  }
}
