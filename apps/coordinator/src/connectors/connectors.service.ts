import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ConnectorChanged, EventSubject, EventSubjects } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { ConnectorEntity, EntityTypeEntity } from '@odb/persistence';
import { ApiError, SERVICE_CONFIG } from '@odb/platform';
import { BbkValidator } from '@odb/validation';
import { CoordinatorConfig } from '../config';
import { Body, changedProperties, isUniqueViolation, rejectInvalid } from '../common/bbk-request';
import { EntityTypesService } from '../entity-types/entity-types.service';

export interface ConnectorProperties {
  name: string;
  description: string;
  webhook: string | null;
  cache: number;
}

export interface ConnectorWithType {
  connector: ConnectorEntity;
  entityType: EntityTypeEntity;
}

/** Data connectors of an entity type: contribution ids, contributor keys, live/staging. */
@Injectable()
export class ConnectorsService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
    private readonly entityTypes: EntityTypesService,
    @Inject(SERVICE_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  static properties(body: Body): ConnectorProperties {
    const webhook = body.webhook;
    return {
      name: body.name || '',
      description: body.description || '',
      // Stored without trailing slashes; "" and null mean no webhook.
      webhook: typeof webhook === 'string' ? webhook.replace(/\/+$/, '') || null : (webhook ?? null) || null,
      cache: body.cache || 0,
    };
  }

  /** sha1("<entity>:<connector>:<secret>"): the same id when a connector is deleted and re-created. */
  contributionId(entitySlug: string, connectorSlug: string): string {
    return createHash('sha1').update(`${entitySlug}:${connectorSlug}:${this.config.APP_SECRET}`).digest('hex');
  }

  async list(entitySlug: string): Promise<ConnectorEntity[]> {
    const type = await this.entityTypes.find(this.dataSource.manager, entitySlug);
    return this.dataSource.getRepository(ConnectorEntity).find({ where: { entityTypeId: type.id }, order: { slug: 'ASC' } });
  }

  async get(entitySlug: string, connectorSlug: string): Promise<ConnectorWithType> {
    return this.find(this.dataSource.manager, entitySlug, connectorSlug);
  }

  async create(entitySlug: string, connectorSlug: string, body: Body): Promise<{ id: string; token: string }> {
    const properties = ConnectorsService.properties(body);
    rejectInvalid([...this.validator.check(connectorSlug, 'slug', 'slug'), ...this.validator.check(properties, 'connector')]);
    try {
      return await this.dataSource.transaction(async (manager) => {
        const type = await this.entityTypes.find(manager, entitySlug);
        this.requireWebhookForTimeseries(type, properties);
        if (await manager.existsBy(ConnectorEntity, { entityTypeId: type.id, slug: connectorSlug })) throw ApiError.conflict();
        const contributionId = this.contributionId(entitySlug, connectorSlug);
        const key = await this.keys.issue(manager, 'contributor', contributionId);
        await manager.insert(ConnectorEntity, {
          entityTypeId: type.id,
          slug: connectorSlug,
          ...properties,
          contributionId,
          keyId: key.keyId,
          isLive: false,
        });
        await this.emit(manager, EventSubjects.ConnectorCreated, entitySlug, connectorSlug, contributionId, false);
        return { id: contributionId, token: key.token };
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  async update(entitySlug: string, connectorSlug: string, body: Body): Promise<void> {
    const properties = ConnectorsService.properties(body);
    rejectInvalid(this.validator.check(properties, 'connector'));
    await this.dataSource.transaction(async (manager) => {
      const type = await this.entityTypes.find(manager, entitySlug);
      this.requireWebhookForTimeseries(type, properties);
      const { connector } = await this.find(manager, entitySlug, connectorSlug);
      const changed = changedProperties<ConnectorProperties>(connector, properties);
      if (changed.length === 0) return; // nothing to write, event included
      await manager.update(ConnectorEntity, { id: connector.id }, properties);
      await this.emit(manager, EventSubjects.ConnectorUpdated, entitySlug, connectorSlug, connector.contributionId, connector.isLive, changed);
    });
  }

  /** Deletes the connector and its records; its key stops working (403) everywhere. */
  async delete(entitySlug: string, connectorSlug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const { connector } = await this.find(manager, entitySlug, connectorSlug);
      await this.keys.revoke(manager, [connector.keyId], 'connector-deleted');
      await manager.delete(ConnectorEntity, { id: connector.id });
      await this.emit(manager, EventSubjects.ConnectorDeleted, entitySlug, connectorSlug, connector.contributionId, connector.isLive);
    });
  }

  /** Promote (live) or demote (staging); idempotent, and only a real change emits an event. */
  async setLive(entitySlug: string, connectorSlug: string, isLive: boolean): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const { connector } = await this.find(manager, entitySlug, connectorSlug);
      if (connector.isLive === isLive) return;
      await manager.update(ConnectorEntity, { id: connector.id }, { isLive });
      const subject = isLive ? EventSubjects.ConnectorPromoted : EventSubjects.ConnectorDemoted;
      await this.emit(manager, subject, entitySlug, connectorSlug, connector.contributionId, isLive);
    });
  }

  /** Beyond BitBroker: a new contributor token; the old one answers 403 at once. */
  async rotateToken(entitySlug: string, connectorSlug: string): Promise<{ id: string; token: string }> {
    return this.dataSource.transaction(async (manager) => {
      const { connector } = await this.find(manager, entitySlug, connectorSlug);
      const key = await this.keys.issue(manager, 'contributor', connector.contributionId);
      await manager.update(ConnectorEntity, { id: connector.id }, { keyId: key.keyId });
      await this.keys.revoke(manager, [connector.keyId], 'connector-token-rotated');
      await this.emit(manager, EventSubjects.ConnectorTokenRotated, entitySlug, connectorSlug, connector.contributionId, connector.isLive);
      return { id: connector.contributionId, token: key.token };
    });
  }

  private async find(manager: EntityManager, entitySlug: string, connectorSlug: string): Promise<ConnectorWithType> {
    const entityType = await this.entityTypes.find(manager, entitySlug);
    const connector = await manager.findOneBy(ConnectorEntity, { entityTypeId: entityType.id, slug: connectorSlug });
    if (!connector) throw ApiError.notFound();
    return { connector, entityType };
  }

  private requireWebhookForTimeseries(type: EntityTypeEntity, properties: ConnectorProperties): void {
    if (Object.keys(type.timeseries ?? {}).length > 0 && !properties.webhook) {
      throw ApiError.field('webhook', 'You must supply a webhook when entity types contain timeseries');
    }
  }

  private emit(
    manager: EntityManager,
    subject: EventSubject,
    entityTypeId: string,
    connectorId: string,
    contributionId: string,
    isLive: boolean,
    changed?: string[],
  ) {
    const payload: ConnectorChanged = { entityTypeId, connectorId, contributionId, isLive, ...(changed ? { changed } : {}) };
    return this.outbox.append(manager, subject as typeof EventSubjects.ConnectorCreated, payload);
  }
}
