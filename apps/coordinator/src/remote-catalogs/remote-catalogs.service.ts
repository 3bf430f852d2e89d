import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { SecretBox } from '@odb/auth';
import { CATALOG_ADAPTERS, CatalogError, adapterForRemoteCatalog, parseHostList } from '@odb/catalog-connectors';
import { EventOutbox } from '@odb/messaging';
import { RemoteCatalogEntity } from '@odb/persistence';
import { ApiError, SERVICE_CONFIG } from '@odb/platform';
import { ApiSchemas, BbkValidator } from '@odb/validation';
import { CoordinatorConfig } from '../config';
import { Body, isUniqueViolation, rejectInvalid } from '../common/bbk-request';

export interface RemoteCatalogProperties {
  type: string;
  url: string;
  name: string;
  description: string;
  organization: string | null;
}

export interface RemoteCatalogCheck {
  reachable: boolean;
  title?: string;
  dataset_count?: number;
  authenticated?: boolean;
  software?: string;
  warnings?: string[];
  error?: string;
}

const remoteCatalogSchema = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: Object.keys(CATALOG_ADAPTERS) },
    url: { type: 'string', maxLength: 2048, format: 'uri', pattern: '^https?://.*$' },
    name: ApiSchemas.name,
    description: { type: 'string', maxLength: 2048 },
    organization: { type: ['string', 'null'], maxLength: 256 },
    api_key: { type: ['string', 'null'], minLength: 1, maxLength: 1024 },
  },
  required: ['type', 'url', 'name'],
};

/**
 * Remote catalogs: where harvest sources read and publications write. The
 * API key is write-only: sealed at rest, never returned, shown as set or not.
 */
@Injectable()
export class RemoteCatalogsService {
  private readonly validator = new BbkValidator();
  private readonly secrets: SecretBox;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    @Inject(SERVICE_CONFIG) private readonly config: CoordinatorConfig,
  ) {
    this.secrets = new SecretBox(config.SECRETS_KEY);
  }

  list(): Promise<RemoteCatalogEntity[]> {
    return this.dataSource.getRepository(RemoteCatalogEntity).find({ order: { slug: 'ASC' } });
  }

  async get(slug: string): Promise<RemoteCatalogEntity> {
    const found = await this.dataSource.getRepository(RemoteCatalogEntity).findOneBy({ slug });
    if (!found) throw ApiError.notFound();
    return found;
  }

  async create(slug: string, body: Body): Promise<void> {
    const properties = this.validate(body, this.validator.check(slug, 'slug', 'slug'));
    const apiKey = typeof body.api_key === 'string' ? this.secrets.seal(body.api_key) : null;
    try {
      await this.dataSource.transaction(async (manager) => {
        if (await manager.existsBy(RemoteCatalogEntity, { slug })) throw ApiError.conflict();
        await manager.insert(RemoteCatalogEntity, { slug, ...properties, apiKeySealed: apiKey });
        await this.outbox.append(manager, EventSubjects.RemoteCatalogCreated, { remoteCatalogId: slug, type: properties.type });
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  /** `api_key` absent keeps the stored key, `null` removes it, a string replaces it. */
  async update(slug: string, body: Body): Promise<void> {
    const properties = this.validate(body, []);
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(RemoteCatalogEntity, { slug });
      if (!current) throw ApiError.notFound();
      const changes: Partial<RemoteCatalogEntity> = { ...properties };
      if (body.api_key !== undefined) changes.apiKeySealed = typeof body.api_key === 'string' ? this.secrets.seal(body.api_key) : null;
      await manager.update(RemoteCatalogEntity, { id: current.id }, changes);
      await this.outbox.append(manager, EventSubjects.RemoteCatalogUpdated, { remoteCatalogId: slug, type: properties.type });
    });
  }

  /** 409 while harvest sources or publications use the catalog. */
  async delete(slug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(RemoteCatalogEntity, { slug });
      if (!current) throw ApiError.notFound();
      const [{ users }] = await manager.query(
        `SELECT (SELECT count(*) FROM harvest_source WHERE remote_catalog_id = $1) + (SELECT count(*) FROM publication WHERE remote_catalog_id = $1) AS users`,
        [current.id],
      );
      if (Number(users) > 0) throw ApiError.conflict();
      await manager.delete(RemoteCatalogEntity, { id: current.id });
      await this.outbox.append(manager, EventSubjects.RemoteCatalogDeleted, { remoteCatalogId: slug, type: current.type });
    });
  }

  /** Reaches the remote with the stored credentials and says what it is; failures are answers, not errors. */
  async check(slug: string): Promise<RemoteCatalogCheck> {
    const catalog = await this.get(slug);
    try {
      const adapter = adapterForRemoteCatalog(
        { type: catalog.type, url: catalog.url, organization: catalog.organization, apiKey: catalog.apiKeySealed ? this.secrets.open(catalog.apiKeySealed) : null },
        {
          allowedHosts: parseHostList(this.config.REMOTE_ALLOWED_HOSTS),
          allowPrivateNetworks: this.config.REMOTE_ALLOW_PRIVATE_NETWORKS,
          timeoutMs: this.config.REMOTE_TIMEOUT_MS,
        },
        { httpOptions: { maxRetries: 1 } },
      );
      const result = await adapter.check();
      return {
        reachable: true,
        title: result.title,
        dataset_count: result.datasetCount,
        authenticated: result.authenticated,
        software: result.software,
        warnings: result.warnings ?? [],
      };
    } catch (error) {
      // Adapter errors are already redacted (no API key in URLs or messages).
      return { reachable: false, error: error instanceof CatalogError ? error.message : 'the remote catalog could not be reached' };
    }
  }

  private validate(body: Body, slugErrors: ReturnType<BbkValidator['check']>): RemoteCatalogProperties {
    const properties = {
      type: body.type ?? '',
      url: typeof body.url === 'string' ? body.url.replace(/\/+$/, '') : body.url,
      name: body.name || '',
      description: body.description ?? '',
      organization: body.organization ?? null,
    };
    rejectInvalid([...slugErrors, ...this.validator.check({ ...properties, api_key: body.api_key }, remoteCatalogSchema)]);
    return properties;
  }
}
