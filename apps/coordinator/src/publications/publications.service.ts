import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { EventSubjects, PublicationChanged } from '@odb/contracts';
import { CATALOG_ADAPTERS, isCatalogKind } from '@odb/catalog-connectors';
import { EventOutbox } from '@odb/messaging';
import { EntityTypeEntity, PublicationEntity, PublicationVisibility, RemoteCatalogEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { BbkValidator } from '@odb/validation';
import { Body, isUniqueViolation, rejectInvalid } from '../common/bbk-request';
import { PublicationWithCatalog } from './publication.view';

const publicationSchema = {
  type: 'object',
  properties: {
    organization: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
    visibility: { type: 'string', enum: ['public', 'private'] },
  },
};

/**
 * Publications: an entity type pushed to a remote catalog that can be
 * published to (udata, CKAN). The coordinator keeps their configuration and
 * asks for pushes and deletions through events; the catalog publisher does
 * the remote work and records the outcome on the same row.
 */
@Injectable()
export class PublicationsService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
  ) {}

  async listForEntity(entitySlug: string): Promise<PublicationWithCatalog[]> {
    if (!(await this.dataSource.getRepository(EntityTypeEntity).existsBy({ slug: entitySlug }))) throw ApiError.notFound();
    return this.query(this.dataSource.manager, 'p.entity_type_slug = $1', [entitySlug]);
  }

  async listForCatalog(catalogSlug: string): Promise<PublicationWithCatalog[]> {
    if (!(await this.dataSource.getRepository(RemoteCatalogEntity).existsBy({ slug: catalogSlug }))) throw ApiError.notFound();
    return this.query(this.dataSource.manager, 'c.slug = $1', [catalogSlug]);
  }

  async get(entitySlug: string, catalogSlug: string): Promise<PublicationWithCatalog> {
    const [found] = await this.query(this.dataSource.manager, 'p.entity_type_slug = $1 AND c.slug = $2', [entitySlug, catalogSlug]);
    if (!found) throw ApiError.notFound();
    return found;
  }

  /** Creates (true) or updates (false) the publication; either way a push follows. */
  async put(entitySlug: string, catalogSlug: string, body: Body): Promise<boolean> {
    rejectInvalid(this.validator.check(body, publicationSchema));
    const settings: { organization?: string | null; visibility?: PublicationVisibility } = {};
    if (body.organization !== undefined) settings.organization = body.organization;
    if (body.visibility !== undefined) settings.visibility = body.visibility;
    try {
      return await this.dataSource.transaction(async (manager) => {
        const type = await manager.findOneBy(EntityTypeEntity, { slug: entitySlug });
        const catalog = await manager.findOneBy(RemoteCatalogEntity, { slug: catalogSlug });
        if (!type || !catalog) throw ApiError.notFound();
        if (!isCatalogKind(catalog.type) || !CATALOG_ADAPTERS[catalog.type].capabilities.includes('publish')) {
          throw ApiError.field('remote_catalog', `catalogs of type ${catalog.type} cannot be published to`);
        }
        if (!catalog.apiKeySealed) throw ApiError.field('remote_catalog', 'has no API key, which publishing needs');
        const current = await manager.findOne(PublicationEntity, {
          where: { entityTypeSlug: entitySlug, remoteCatalogId: catalog.id },
          lock: { mode: 'pessimistic_write' },
        });
        if (current?.status === 'deleting') throw ApiError.conflict();
        if (current) await manager.update(PublicationEntity, { id: current.id }, settings);
        else await manager.insert(PublicationEntity, { entityTypeSlug: entitySlug, remoteCatalogId: catalog.id, ...settings });
        await this.emit(manager, EventSubjects.PublicationUpdated, entitySlug, catalogSlug, current ?? undefined);
        return !current;
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  /** Asks for a push now, whatever changed (e.g. after an error, or to restore a dataset deleted remotely). */
  async requestPush(entitySlug: string, catalogSlug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const publication = await this.lock(manager, entitySlug, catalogSlug);
      if (publication.status === 'deleting') throw ApiError.conflict();
      await this.emit(manager, EventSubjects.PublicationPushRequested, entitySlug, catalogSlug, publication);
    });
  }

  /**
   * Marks the publication for deletion: the publisher deletes the remote
   * dataset, then the row. Until then the publication shows `deleting`.
   * Asking again retries a deletion that failed.
   */
  async delete(entitySlug: string, catalogSlug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const publication = await this.lock(manager, entitySlug, catalogSlug);
      await manager.update(PublicationEntity, { id: publication.id }, { status: 'deleting', retryAt: null });
      await this.emit(manager, EventSubjects.PublicationDeleted, entitySlug, catalogSlug, publication);
    });
  }

  private async lock(manager: EntityManager, entitySlug: string, catalogSlug: string): Promise<PublicationEntity> {
    const catalog = await manager.findOneBy(RemoteCatalogEntity, { slug: catalogSlug });
    const publication =
      catalog &&
      (await manager.findOne(PublicationEntity, {
        where: { entityTypeSlug: entitySlug, remoteCatalogId: catalog.id },
        lock: { mode: 'pessimistic_write' },
      }));
    if (!publication) throw ApiError.notFound();
    return publication;
  }

  private emit(
    manager: EntityManager,
    subject: 'publication.updated' | 'publication.deleted' | 'publication.push-requested',
    entitySlug: string,
    catalogSlug: string,
    publication: PublicationEntity | undefined,
  ): Promise<string> {
    const payload: PublicationChanged = { entityTypeId: entitySlug, remoteCatalogId: catalogSlug, remoteId: publication?.remoteId ?? null };
    if (publication && publication.status !== 'deleting' && subject !== EventSubjects.PublicationDeleted) payload.status = publication.status;
    return this.outbox.append(manager, subject, payload);
  }

  private async query(manager: EntityManager, where: string, params: unknown[]): Promise<PublicationWithCatalog[]> {
    const rows: Array<{ id: number; catalog_slug: string; catalog_type: string }> = await manager.query(
      `SELECT p.id, c.slug AS catalog_slug, c.type AS catalog_type
         FROM publication p JOIN remote_catalog c ON c.id = p.remote_catalog_id
        WHERE ${where} ORDER BY p.entity_type_slug, c.slug`,
      params,
    );
    if (rows.length === 0) return [];
    const publications = await manager.findBy(PublicationEntity, { id: In(rows.map((row) => row.id)) });
    const byId = new Map(publications.map((publication) => [publication.id, publication]));
    return rows
      .filter((row) => byId.has(row.id))
      .map((row) => ({ publication: byId.get(row.id)!, catalogSlug: row.catalog_slug, catalogType: row.catalog_type }));
  }
}
