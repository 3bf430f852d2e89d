import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { ConnectorEntity, EntityTypeEntity, TimeseriesDefinition } from '@odb/persistence';
import { ApiError } from '@odb/platform';
import { BbkValidator, FieldError } from '@odb/validation';
import { Body, changedProperties, isUniqueViolation, rejectInvalid } from '../common/bbk-request';

export interface EntityTypeProperties {
  name: string;
  description: string;
  schema: Record<string, any>;
  timeseries: Record<string, TimeseriesDefinition>;
  tags: string[];
  icon: string;
}

/** Entity types: slugs, JSON Schemas, timeseries definitions. */
@Injectable()
export class EntityTypesService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
  ) {}

  /** BitBroker's defaults: missing or null fields become empty values, which validation then judges. */
  static properties(body: Body): EntityTypeProperties {
    return {
      name: body.name || '',
      description: body.description || '',
      schema: body.schema || {},
      timeseries: body.timeseries || {},
      tags: body.tags ?? [],
      icon: body.icon ?? '',
    };
  }

  validate(properties: EntityTypeProperties): FieldError[] {
    const errors = this.validator.check(properties, 'entityType');
    if (!this.validator.isUsableJsonSchema(properties.schema)) {
      errors.push({ name: 'schema', index: null, reason: 'is not valid JSON schema' });
    }
    return errors;
  }

  list(): Promise<EntityTypeEntity[]> {
    return this.dataSource.getRepository(EntityTypeEntity).find({ order: { slug: 'ASC' } });
  }

  async get(slug: string): Promise<EntityTypeEntity> {
    const found = await this.dataSource.getRepository(EntityTypeEntity).findOneBy({ slug });
    if (!found) throw ApiError.notFound();
    return found;
  }

  async create(slug: string, body: Body): Promise<void> {
    const properties = EntityTypesService.properties(body);
    rejectInvalid([...this.validator.check(slug, 'slug', 'slug'), ...this.validate(properties)]);
    try {
      await this.dataSource.transaction(async (manager) => {
        if (await manager.existsBy(EntityTypeEntity, { slug })) throw ApiError.conflict();
        await manager.insert(EntityTypeEntity, { slug, ...properties });
        await this.outbox.append(manager, EventSubjects.EntityTypeCreated, { entityTypeId: slug });
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  async update(slug: string, body: Body): Promise<void> {
    const properties = EntityTypesService.properties(body);
    rejectInvalid(this.validate(properties));
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(EntityTypeEntity, { where: { slug }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw ApiError.notFound();
      const changed = changedProperties<EntityTypeProperties>(current, properties);
      if (changed.length === 0) return; // nothing to write, version and event included
      await manager.update(EntityTypeEntity, { id: current.id }, { ...properties, version: () => 'version + 1' });
      await this.outbox.append(manager, EventSubjects.EntityTypeUpdated, { entityTypeId: slug, changed });
    });
  }

  /** Deletes the type, its connectors and their records; their keys stop working (403) everywhere. */
  async delete(slug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(EntityTypeEntity, { slug });
      if (!current) throw ApiError.notFound();
      const connectors = await manager.find(ConnectorEntity, { where: { entityTypeId: current.id }, order: { id: 'ASC' } });
      await this.keys.revoke(manager, connectors.map((connector) => connector.keyId), 'entity-type-deleted');
      await this.outbox.appendMany(
        manager,
        connectors.map((connector) => ({
          subject: EventSubjects.ConnectorDeleted,
          payload: { entityTypeId: slug, connectorId: connector.slug, contributionId: connector.contributionId, isLive: connector.isLive },
        })),
      );
      await manager.delete(EntityTypeEntity, { id: current.id });
      await this.outbox.append(manager, EventSubjects.EntityTypeDeleted, { entityTypeId: slug });
    });
  }

  /** For the connector service: the type, or 404. */
  async find(manager: EntityManager, slug: string): Promise<EntityTypeEntity> {
    const found = await manager.findOneBy(EntityTypeEntity, { slug });
    if (!found) throw ApiError.notFound();
    return found;
  }
}
