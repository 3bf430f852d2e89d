import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { DomainEvent, EventSubjects } from '@odb/contracts';
import { OnDomainEvent, processOnce } from '@odb/messaging';
import { PublicationSelector, PublicationStore } from './publication-store';
import { PushQueue } from './push-queue';

/** Entity type properties that published datasets show. */
const PUBLISHED_PROPERTIES = new Set(['name', 'description', 'tags', 'metadata']);

/** Durable consumer names, also the keys under which the events are recorded as processed. */
const CONSUMERS = {
  entityTypeUpdated: 'catalog-publisher.entity-type-updated',
  entityTypeDeleted: 'catalog-publisher.entity-type-deleted',
  connectorPromoted: 'catalog-publisher.connector-promoted',
  connectorDemoted: 'catalog-publisher.connector-demoted',
  connectorUpdated: 'catalog-publisher.connector-updated',
  connectorDeleted: 'catalog-publisher.connector-deleted',
  remoteCatalogUpdated: 'catalog-publisher.remote-catalog-updated',
  publicationUpdated: 'catalog-publisher.publication-updated',
  pushRequested: 'catalog-publisher.publication-push-requested',
  publicationDeleted: 'catalog-publisher.publication-deleted',
} as const;

/**
 * Changes that concern publications, from JetStream (durable consumers, at
 * least once). Each handler marks the publications it concerns in a
 * transaction that also records the event as processed (`processOnce`: a
 * redelivery changes nothing twice), then schedules their push jobs once
 * that transaction committed: a job that ran earlier would not see the
 * change. If scheduling fails, the handler throws, the event comes again,
 * finds itself processed, and schedules the publications still pending.
 * (This is why the handlers record events themselves rather than through
 * `@OnDomainEvent`'s `idempotent` option, whose transaction ends after the
 * handler returns.)
 */
@Injectable()
export class PublicationChangeHandlers {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PublicationStore,
    private readonly queue: PushQueue,
  ) {}

  @OnDomainEvent(EventSubjects.EntityTypeUpdated, { consumer: CONSUMERS.entityTypeUpdated })
  async onEntityTypeUpdated(event: DomainEvent<'entity-type.updated'>): Promise<void> {
    const { entityTypeId, changed } = event.payload;
    if (changed && !changed.some((property) => PUBLISHED_PROPERTIES.has(property))) return;
    await this.changed(CONSUMERS.entityTypeUpdated, event, { entityType: entityTypeId });
  }

  @OnDomainEvent(EventSubjects.EntityTypeDeleted, { consumer: CONSUMERS.entityTypeDeleted })
  async onEntityTypeDeleted(event: DomainEvent<'entity-type.deleted'>): Promise<void> {
    const selector = { entityType: event.payload.entityTypeId };
    await this.apply(CONSUMERS.entityTypeDeleted, event, selector, (manager) => this.store.markDeleting(manager, selector.entityType), 0);
  }

  /** The live sources of the type changed (published as an extra). */
  @OnDomainEvent(EventSubjects.ConnectorPromoted, { consumer: CONSUMERS.connectorPromoted })
  async onConnectorPromoted(event: DomainEvent<'connector.promoted'>): Promise<void> {
    await this.changed(CONSUMERS.connectorPromoted, event, { entityType: event.payload.entityTypeId });
  }

  @OnDomainEvent(EventSubjects.ConnectorDemoted, { consumer: CONSUMERS.connectorDemoted })
  async onConnectorDemoted(event: DomainEvent<'connector.demoted'>): Promise<void> {
    await this.changed(CONSUMERS.connectorDemoted, event, { entityType: event.payload.entityTypeId });
  }

  @OnDomainEvent(EventSubjects.ConnectorUpdated, { consumer: CONSUMERS.connectorUpdated })
  async onConnectorUpdated(event: DomainEvent<'connector.updated'>): Promise<void> {
    const { entityTypeId, isLive, changed } = event.payload;
    if (!isLive || (changed && !changed.includes('name'))) return;
    await this.changed(CONSUMERS.connectorUpdated, event, { entityType: entityTypeId });
  }

  @OnDomainEvent(EventSubjects.ConnectorDeleted, { consumer: CONSUMERS.connectorDeleted })
  async onConnectorDeleted(event: DomainEvent<'connector.deleted'>): Promise<void> {
    if (!event.payload.isLive) return;
    await this.changed(CONSUMERS.connectorDeleted, event, { entityType: event.payload.entityTypeId });
  }

  /** New URL, key or organization: push everything again (this also retries what failed for want of a good key). */
  @OnDomainEvent(EventSubjects.RemoteCatalogUpdated, { consumer: CONSUMERS.remoteCatalogUpdated })
  async onRemoteCatalogUpdated(event: DomainEvent<'remote-catalog.updated'>): Promise<void> {
    await this.changed(CONSUMERS.remoteCatalogUpdated, event, { catalog: event.payload.remoteCatalogId });
  }

  @OnDomainEvent(EventSubjects.PublicationUpdated, { consumer: CONSUMERS.publicationUpdated })
  async onPublicationUpdated(event: DomainEvent<'publication.updated'>): Promise<void> {
    const { entityTypeId, remoteCatalogId } = event.payload;
    await this.changed(CONSUMERS.publicationUpdated, event, { entityType: entityTypeId, catalog: remoteCatalogId });
  }

  /** Asked for by hand: pushed at once, not after the debounce window. */
  @OnDomainEvent(EventSubjects.PublicationPushRequested, { consumer: CONSUMERS.pushRequested })
  async onPushRequested(event: DomainEvent<'publication.push-requested'>): Promise<void> {
    const { entityTypeId, remoteCatalogId } = event.payload;
    await this.changed(CONSUMERS.pushRequested, event, { entityType: entityTypeId, catalog: remoteCatalogId }, 0);
  }

  /** The coordinator marked it `deleting` (in the transaction of this event): delete the remote dataset now. */
  @OnDomainEvent(EventSubjects.PublicationDeleted, { consumer: CONSUMERS.publicationDeleted })
  async onPublicationDeleted(event: DomainEvent<'publication.deleted'>): Promise<void> {
    const { entityTypeId, remoteCatalogId } = event.payload;
    await this.queue.enqueue(await this.store.pendingIds({ entityType: entityTypeId, catalog: remoteCatalogId }), 0);
  }

  private changed(consumer: string, event: DomainEvent, selector: PublicationSelector, delayMs?: number): Promise<void> {
    return this.apply(consumer, event, selector, (manager) => this.store.markChanged(manager, selector), delayMs);
  }

  private async apply(
    consumer: string,
    event: DomainEvent,
    selector: PublicationSelector,
    mark: (manager: EntityManager) => Promise<number[]>,
    delayMs?: number,
  ): Promise<void> {
    let marked: number[] = [];
    const fresh = await processOnce(this.dataSource, consumer, event, async (manager) => {
      marked = await mark(manager);
    });
    // Seen before: its changes are in, but maybe not its jobs (the previous delivery failed after the commit).
    await this.queue.enqueue(fresh ? marked : await this.store.pendingIds(selector), delayMs);
  }
}
