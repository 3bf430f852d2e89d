import { Injectable } from '@nestjs/common';
import { createHash } from 'crypto';
import { isDeepStrictEqual } from 'util';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects, RpcContracts, RpcSubjects } from '@odb/contracts';
import { EventOutbox, OnRpcRequest, RpcError } from '@odb/messaging';
import { EntityTypeEntity } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { BbkValidator } from '@odb/validation';
import { isUniqueViolation } from '../common/bbk-request';
import { EntityTypesService } from '../entity-types/entity-types.service';
import { HarvestSourcesService } from './harvest-sources.service';

type Request<S extends keyof RpcContracts> = RpcContracts[S]['request'];
type Response<S extends keyof RpcContracts> = RpcContracts[S]['response'];

/**
 * Data-mode harvests: each remote resource becomes an entity type of its own,
 * with a connector owned by the source. The coordinator owns entity types,
 * connectors, contribution ids and keys, so the harvester asks for them here.
 */
@Injectable()
export class HarvestProvisioningResponder {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly sources: HarvestSourcesService,
    private readonly entityTypes: EntityTypesService,
  ) {}

  @OnRpcRequest(RpcSubjects.HarvestProvision)
  async provision(request: Request<'coordinator.harvest.provision'>): Promise<Response<'coordinator.harvest.provision'>> {
    try {
      return await this.provisionOnce(request);
    } catch (error) {
      // Two runs cannot provision at once (one run per source), but a retried request may race its first attempt.
      if (isUniqueViolation(error)) return this.provisionOnce(request);
      throw error;
    }
  }

  @OnRpcRequest(RpcSubjects.HarvestRetire)
  async retire(request: Request<'coordinator.harvest.retire'>): Promise<Response<'coordinator.harvest.retire'>> {
    const [owned] = await this.dataSource.query(
      `SELECT t.slug FROM entity_type t JOIN harvest_source s ON s.id = t.harvest_source_id WHERE s.slug = $1 AND t.slug = $2`,
      [request.harvestSourceId, request.entityTypeId],
    );
    if (!owned) return { deleted: false };
    try {
      await this.entityTypes.delete(request.entityTypeId);
      return { deleted: true };
    } catch (error) {
      if (error instanceof ApiError && error.getStatus() === 404) return { deleted: false };
      throw error;
    }
  }

  private async provisionOnce(request: Request<'coordinator.harvest.provision'>): Promise<Response<'coordinator.harvest.provision'>> {
    return this.dataSource.transaction(async (manager) => {
      const [source] = await manager.query(`SELECT id, slug, mode, go_live FROM harvest_source WHERE slug = $1 FOR SHARE`, [request.harvestSourceId]);
      if (!source) throw new RpcError(404, `no harvest source ${request.harvestSourceId}`);
      if (source.mode !== 'data') throw new RpcError(409, `harvest source ${source.slug} is not in data mode`);
      const properties = {
        name: entityTypeName(request.name, request.resourceKey),
        description: (request.description || request.name || request.resourceKey).slice(0, 2048),
        tags: entityTypeTags(request.keywords),
        datasetMetadata: request.datasetMetadata as Record<string, any>,
      };
      const existing = await manager.findOne(EntityTypeEntity, {
        where: { slug: await this.ownedSlug(manager, source.id, request.resourceKey) },
        lock: { mode: 'pessimistic_write' },
      });
      if (existing) {
        const next = { ...properties, schema: request.schema ?? existing.schema };
        const changed = (['name', 'description', 'tags', 'datasetMetadata', 'schema'] as const).filter(
          (key) => !isDeepStrictEqual(existing[key], next[key]),
        );
        if (changed.length > 0) {
          await manager.update(EntityTypeEntity, { id: existing.id }, { ...next, version: () => 'version + 1' });
          await this.outbox.append(manager, EventSubjects.EntityTypeUpdated, {
            entityTypeId: existing.slug,
            changed: changed.map((key) => (key === 'datasetMetadata' ? 'dataset_metadata' : key)),
          });
        }
        const contributionId = await this.sources.ensureConnector(manager, source.id, source.slug, existing, source.go_live);
        return { entityTypeId: existing.slug, connectorId: source.slug, contributionId, created: false };
      }
      const slug = entityTypeSlug(source.slug, request.resourceKey);
      const schema = request.schema ?? {};
      if (!this.validator.isUsableJsonSchema(schema)) throw new RpcError(400, 'schema is not usable JSON Schema');
      await manager.query(
        `INSERT INTO entity_type (slug, name, description, schema, tags, dataset_metadata, harvest_source_id, harvest_resource_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [slug, properties.name, properties.description, JSON.stringify(schema), JSON.stringify(properties.tags), JSON.stringify(properties.datasetMetadata), source.id, request.resourceKey],
      );
      await this.outbox.append(manager, EventSubjects.EntityTypeCreated, { entityTypeId: slug });
      const type = await manager.findOneByOrFail(EntityTypeEntity, { slug });
      const contributionId = await this.sources.ensureConnector(manager, source.id, source.slug, type, source.go_live);
      return { entityTypeId: slug, connectorId: source.slug, contributionId, created: true };
    });
  }

  private async ownedSlug(manager: EntityManager, sourceId: number, resourceKey: string): Promise<string> {
    const [row] = await manager.query(`SELECT slug FROM entity_type WHERE harvest_source_id = $1 AND harvest_resource_key = $2`, [sourceId, resourceKey]);
    return row?.slug ?? '';
  }
}

/** `<source slug, cut>-<10 hex of sha1(source:resource)>`: stable, unique per source and resource, at most 32 characters. */
export function entityTypeSlug(sourceSlug: string, resourceKey: string): string {
  const hash = createHash('sha1').update(`${sourceSlug}:${resourceKey}`).digest('hex').slice(0, 10);
  return `${sourceSlug.slice(0, 21).replace(/-+$/, '')}-${hash}`;
}

function entityTypeName(name: string, fallback: string): string {
  const text = (name || fallback).replace(/\s+/g, ' ').trim();
  return (text.length > 64 ? `${text.slice(0, 63)}…` : text) || 'Harvested resource';
}

/** Tags as entity types take them: unique, 1 to 64 characters, 16 at most. */
function entityTypeTags(keywords: string[]): string[] {
  const tags = new Set<string>();
  for (const keyword of keywords) {
    const tag = keyword.trim().slice(0, 64);
    if (tag) tags.add(tag);
    if (tags.size === 16) break;
  }
  return [...tags];
}

