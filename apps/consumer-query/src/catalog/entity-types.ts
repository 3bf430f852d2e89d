import { Injectable } from '@nestjs/common';
import { DomainEvent, EventSubjects } from '@odb/contracts';
import { OnDomainEventBroadcast } from '@odb/messaging';
import { CatalogDatabase } from './catalog-database';
import { IndexedProperty, indexedProperties } from '../indexes/type-index-plan';

export interface EntityTypeInfo {
  id: number;
  slug: string;
  schema: Record<string, unknown>;
  /**
   * Top-level `entity` properties its schema declares, in alphabetical order
   * (schemas are stored as jsonb, which does not keep the order they were written in).
   */
  properties: string[];
  /** Those of them that have expression indexes (by kind), for query planning. */
  indexed: Map<string, IndexedProperty>;
}

/** An `entity_type` row, as the directory reads it. */
type EntityTypeRow = { id: number; slug: string; schema: Record<string, unknown> };

const TTL_MS = 30_000;

/**
 * Entity types by slug, cached. Entity type ids come from a sequence and are
 * never reused, so a stale entry can only name a type that no longer exists:
 * a query using it finds nothing, and the caller asks again with `fresh`.
 * Creations, updates and deletions also reach every replica as events.
 */
@Injectable()
export class EntityTypeDirectory {
  private readonly cache = new Map<string, { info: EntityTypeInfo | null; at: number }>();
  private everyType?: { list: EntityTypeInfo[]; at: number };

  constructor(private readonly db: CatalogDatabase) {}

  async bySlug(slug: string, options: { fresh?: boolean } = {}): Promise<EntityTypeInfo | null> {
    const cached = this.cache.get(slug);
    if (!options.fresh && cached && Date.now() - cached.at < TTL_MS) return cached.info;
    const [row] = await this.db.query<EntityTypeRow>(
      `SELECT id, slug, schema FROM entity_type WHERE slug = $1`,
      [slug],
    );
    const info = row ? describe(row) : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(slug, { info, at: Date.now() });
    return info;
  }

  /**
   * Every entity type, in id order (for queries that name none). Ids come from
   * a sequence and are never reused: a type created after this list was read
   * has a larger id than any in it (unless two creations overlapped, one
   * committing after a list that shows the other; its creation event or the
   * expiry then refreshes the list).
   */
  async all(): Promise<EntityTypeInfo[]> {
    if (this.everyType && Date.now() - this.everyType.at < TTL_MS) return this.everyType.list;
    const rows = await this.db.query<EntityTypeRow>(
      `SELECT id, slug, schema FROM entity_type ORDER BY id`,
      [],
    );
    this.everyType = { list: rows.map(describe), at: Date.now() };
    return this.everyType.list;
  }

  forget(slug: string): void {
    this.cache.delete(slug);
    this.everyType = undefined;
  }

  @OnDomainEventBroadcast(EventSubjects.EntityTypeCreated)
  async onCreated(event: DomainEvent<'entity-type.created'>): Promise<void> {
    this.forget(event.payload.entityTypeId);
  }

  @OnDomainEventBroadcast(EventSubjects.EntityTypeUpdated)
  async onUpdated(event: DomainEvent<'entity-type.updated'>): Promise<void> {
    this.forget(event.payload.entityTypeId);
  }

  @OnDomainEventBroadcast(EventSubjects.EntityTypeDeleted)
  async onDeleted(event: DomainEvent<'entity-type.deleted'>): Promise<void> {
    this.forget(event.payload.entityTypeId);
  }
}

export function describe(row: EntityTypeRow): EntityTypeInfo {
  const schema = row.schema ?? {};
  const declared = (schema as { properties?: unknown }).properties;
  const properties = declared && typeof declared === 'object' && !Array.isArray(declared) ? Object.keys(declared).sort() : [];
  return {
    id: row.id,
    slug: row.slug,
    schema,
    properties,
    indexed: new Map(indexedProperties(schema).map((property) => [property.name, property])),
  };
}
