import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'crypto';
import { parseExpression } from 'cron-parser';
import { DataSource, EntityManager } from 'typeorm';
import { EventSubject, EventSubjects, HARVEST_SCHEDULE_PRESETS, HarvestMode, harvestCronPattern } from '@odb/contracts';
import { AuthKeyStore } from '@odb/auth';
import { EventOutbox } from '@odb/messaging';
import { ConnectorEntity, EntityTypeEntity } from '@odb/persistence';
import { ApiError, SERVICE_CONFIG } from '@odb/platform';
import { ApiSchemas, BbkValidator, FieldError } from '@odb/validation';
import { CoordinatorConfig } from '../config';
import { Body, changedProperties, isUniqueViolation, rejectInvalid } from '../common/bbk-request';
import { ConnectorsService } from '../connectors/connectors.service';

export interface HarvestFiltersBody {
  organization?: string;
  tags?: string[];
  query?: string;
  resource_formats?: string[];
}

/** The settings of a harvest source, as the API takes them (snake_case, BitBroker style). */
export interface HarvestSourceProperties {
  name: string;
  description: string;
  catalog: string;
  mode: HarvestMode;
  entity_type: string | null;
  filters: HarvestFiltersBody;
  schedule: string | null;
  timezone: string;
  on_removed: 'delete' | 'keep';
  go_live: boolean;
  max_items: number | null;
  row_key: string | null;
}

/** A stored harvest source with what it refers to, by slug. */
export interface HarvestSourceRow extends HarvestSourceProperties {
  id: number;
  slug: string;
  remote_catalog_id: number;
  entity_type_id: number | null;
  connector_slug: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface HarvestRunRow {
  id: string;
  status: string;
  trigger: string;
  dry_run: boolean;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  counts: Record<string, number>;
  progress: Record<string, unknown>;
  listing_complete: boolean;
  error: string | null;
}

export interface HarvestRunItemRow {
  remote_id: string | null;
  title: string | null;
  outcome: string;
  message: string | null;
  details: Record<string, unknown> | null;
}

const slugOrNull = { type: ['string', 'null'], pattern: '^[a-z][a-z0-9-]+$', minLength: 3, maxLength: 32 };

const harvestSourceSchema = {
  type: 'object',
  properties: {
    name: ApiSchemas.name,
    description: { type: 'string', maxLength: 2048 },
    catalog: ApiSchemas.slug,
    mode: { type: 'string', enum: ['metadata', 'data'] },
    entity_type: slugOrNull,
    filters: {
      type: 'object',
      additionalProperties: false,
      properties: {
        organization: { type: 'string', minLength: 1, maxLength: 256 },
        tags: { type: 'array', maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
        query: { type: 'string', minLength: 1, maxLength: 512 },
        resource_formats: { type: 'array', maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 32 } },
      },
    },
    schedule: { type: ['string', 'null'], minLength: 1, maxLength: 128 },
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
    on_removed: { type: 'string', enum: ['delete', 'keep'] },
    go_live: { type: 'boolean' },
    max_items: { type: ['integer', 'null'], minimum: 1, maximum: 10_000_000 },
    row_key: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
  },
  required: ['name', 'catalog', 'mode'],
};

/** Settings that decide what the source's records are; changing them means a new source. */
const IMMUTABLE: Array<keyof HarvestSourceProperties> = ['mode', 'entity_type'];

const SOURCE_COLUMNS = `
  s.id, s.slug, s.remote_catalog_id, c.slug AS catalog, s.name, s.description, s.mode, t.slug AS entity_type, s.entity_type_id,
  k.slug AS connector_slug, s.filters, s.schedule, s.timezone, s.on_removed, s.go_live, s.max_items, s.row_key, s.created_at, s.updated_at`;
const SOURCE_FROM = `
  harvest_source s JOIN remote_catalog c ON c.id = s.remote_catalog_id
  LEFT JOIN entity_type t ON t.id = s.entity_type_id LEFT JOIN connector k ON k.id = s.connector_id`;

/**
 * Harvest sources: what to pull from a remote catalog, how and when. The
 * coordinator owns the connectors (and, in data mode, the entity types) a
 * source writes under: it creates them, and deletes them with the source.
 * Runs are requested here and carried out by the harvester (events).
 */
@Injectable()
export class HarvestSourcesService {
  private readonly validator = new BbkValidator();

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: EventOutbox,
    private readonly keys: AuthKeyStore,
    private readonly connectors: ConnectorsService,
    @Inject(SERVICE_CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  static properties(body: Body): HarvestSourceProperties {
    const filters = body.filters ?? {};
    return {
      name: body.name || '',
      description: body.description ?? '',
      catalog: typeof body.catalog === 'string' ? body.catalog.toLowerCase() : body.catalog,
      mode: body.mode,
      entity_type: typeof body.entity_type === 'string' ? body.entity_type.toLowerCase() : (body.entity_type ?? null),
      filters,
      schedule: body.schedule ?? null,
      timezone: body.timezone ?? 'UTC',
      on_removed: body.on_removed ?? 'delete',
      go_live: body.go_live ?? false,
      max_items: body.max_items ?? null,
      row_key: body.row_key ?? null,
    };
  }

  /** Problems of the body, all at once: schema, then the rules between fields (cron, time zone, mode). */
  validate(properties: HarvestSourceProperties): FieldError[] {
    const errors = this.validator.check(properties, harvestSourceSchema);
    if (properties.mode === 'metadata' && !properties.entity_type) {
      errors.push({ name: 'entity_type', index: null, reason: 'is required in metadata mode' });
    }
    if (properties.mode === 'data' && properties.entity_type) {
      errors.push({ name: 'entity_type', index: null, reason: 'is not used in data mode (each remote resource gets an entity type of its own)' });
    }
    if (typeof properties.timezone === 'string' && !isTimeZone(properties.timezone)) {
      errors.push({ name: 'timezone', index: null, reason: 'is not an IANA time zone (e.g. Europe/Paris)' });
    }
    if (typeof properties.schedule === 'string') {
      const reason = cronProblem(properties.schedule, isTimeZone(properties.timezone) ? properties.timezone : 'UTC');
      if (reason) errors.push({ name: 'schedule', index: null, reason });
    }
    return errors;
  }

  async list(): Promise<HarvestSourceRow[]> {
    return this.dataSource.query(`SELECT ${SOURCE_COLUMNS} FROM ${SOURCE_FROM} ORDER BY s.slug`);
  }

  async get(slug: string, manager: EntityManager = this.dataSource.manager, lock = false): Promise<HarvestSourceRow> {
    const [found] = await manager.query(`SELECT ${SOURCE_COLUMNS} FROM ${SOURCE_FROM} WHERE s.slug = $1 ${lock ? 'FOR UPDATE OF s' : ''}`, [slug]);
    if (!found) throw ApiError.notFound();
    return found;
  }

  async create(slug: string, body: Body): Promise<void> {
    const properties = HarvestSourcesService.properties(body);
    rejectInvalid([...this.validator.check(slug, 'slug', 'slug'), ...this.validate(properties)]);
    try {
      await this.dataSource.transaction(async (manager) => {
        const catalogId = await this.catalogId(manager, properties.catalog);
        const entityType = properties.entity_type ? await this.entityType(manager, properties.entity_type) : null;
        if ((await manager.query(`SELECT 1 FROM harvest_source WHERE slug = $1`, [slug])).length > 0) throw ApiError.conflict();
        const [{ id }] = await manager.query(
          `INSERT INTO harvest_source (slug, remote_catalog_id, name, description, mode, entity_type_id, filters, schedule, timezone, on_removed, go_live, max_items, row_key)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
          [
            slug,
            catalogId,
            properties.name,
            properties.description,
            properties.mode,
            entityType?.id ?? null,
            JSON.stringify(properties.filters),
            properties.schedule,
            properties.timezone,
            properties.on_removed,
            properties.go_live,
            properties.max_items,
            properties.row_key,
          ],
        );
        // Metadata mode: the connector exists from the start, so a coordinator can review (and promote) it before or after the first run.
        if (entityType) {
          const connectorId = await this.createConnector(manager, id, slug, entityType, properties.go_live);
          await manager.query(`UPDATE harvest_source SET connector_id = $2 WHERE id = $1`, [id, connectorId]);
        }
        await this.outbox.append(manager, EventSubjects.HarvestSourceCreated, { harvestSourceId: slug, remoteCatalogId: properties.catalog });
      });
    } catch (error) {
      throw isUniqueViolation(error) ? ApiError.conflict() : error;
    }
  }

  async update(slug: string, body: Body): Promise<void> {
    const properties = HarvestSourcesService.properties(body);
    rejectInvalid(this.validate(properties));
    await this.dataSource.transaction(async (manager) => {
      const current = await this.get(slug, manager, true);
      const frozen = IMMUTABLE.filter((key) => current[key] !== properties[key]);
      rejectInvalid(frozen.map((name) => ({ name, index: null, reason: 'cannot be changed: create another harvest source' })));
      const catalogId = await this.catalogId(manager, properties.catalog);
      const changed = changedProperties<HarvestSourceProperties>(
        { ...current, max_items: current.max_items === null ? null : Number(current.max_items) },
        properties,
      );
      await manager.query(
        `UPDATE harvest_source SET remote_catalog_id = $2, name = $3, description = $4, filters = $5, schedule = $6, timezone = $7,
                on_removed = $8, go_live = $9, max_items = $10, row_key = $11, updated_at = now() WHERE id = $1`,
        [
          current.id,
          catalogId,
          properties.name,
          properties.description,
          JSON.stringify(properties.filters),
          properties.schedule,
          properties.timezone,
          properties.on_removed,
          properties.go_live,
          properties.max_items,
          properties.row_key,
        ],
      );
      await this.outbox.append(manager, EventSubjects.HarvestSourceUpdated, {
        harvestSourceId: slug,
        remoteCatalogId: properties.catalog,
        changed,
      });
    });
  }

  /** Deletes the source, its runs, and what it owns: connectors, data-mode entity types, their records. */
  async delete(slug: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.get(slug, manager, true);
      const types: Array<{ id: number; slug: string }> = await manager.query(
        `SELECT id, slug FROM entity_type WHERE harvest_source_id = $1 ORDER BY id`,
        [current.id],
      );
      const owned: Array<{ id: number; slug: string; key_id: string; contribution_id: string; is_live: boolean; entity_slug: string; entity_type_id: number }> =
        await manager.query(
          `SELECT k.id, k.slug, k.key_id, k.contribution_id, k.is_live, t.slug AS entity_slug, t.id AS entity_type_id
             FROM connector k JOIN entity_type t ON t.id = k.entity_type_id WHERE k.harvest_source_id = $1 ORDER BY k.id`,
          [current.id],
        );
      await this.keys.revoke(manager, owned.map((connector) => connector.key_id), 'connector-deleted');
      await this.outbox.appendMany(
        manager,
        owned.map((connector) => ({
          subject: EventSubjects.ConnectorDeleted,
          payload: { entityTypeId: connector.entity_slug, connectorId: connector.slug, contributionId: connector.contribution_id, isLive: connector.is_live },
        })),
      );
      if (owned.length > 0) await manager.query(`DELETE FROM connector WHERE id = ANY($1::int[])`, [owned.map((connector) => connector.id)]);
      if (types.length > 0) {
        await manager.query(`DELETE FROM entity_type WHERE id = ANY($1::int[])`, [types.map((type) => type.id)]);
        await this.outbox.appendMany(
          manager,
          types.map((type) => ({ subject: EventSubjects.EntityTypeDeleted, payload: { entityTypeId: type.slug } })),
        );
      }
      await manager.query(`DELETE FROM harvest_source WHERE id = $1`, [current.id]);
      await this.outbox.append(manager, EventSubjects.HarvestSourceDeleted, { harvestSourceId: slug, remoteCatalogId: current.catalog });
    });
  }

  /** A run (or, with `dryRun`, a preview) is queued; the harvester picks it up from the event. */
  async requestRun(slug: string, dryRun: boolean): Promise<HarvestRunRow> {
    return this.dataSource.transaction(async (manager) => {
      const source = await this.get(slug, manager);
      const runId = randomUUID();
      const [run] = await manager.query(
        `INSERT INTO harvest_run (id, harvest_source_id, status, trigger, dry_run) VALUES ($1, $2, 'queued', 'manual', $3) RETURNING *`,
        [runId, source.id, dryRun],
      );
      await this.outbox.append(manager, EventSubjects.HarvestRunRequested, { harvestSourceId: slug, runId, dryRun });
      return run;
    });
  }

  async listRuns(slug: string, limit: number): Promise<HarvestRunRow[]> {
    const source = await this.get(slug);
    return this.dataSource.query(
      `SELECT * FROM harvest_run WHERE harvest_source_id = $1 ORDER BY requested_at DESC, id LIMIT $2`,
      [source.id, limit],
    );
  }

  async getRun(slug: string, runId: string): Promise<{ run: HarvestRunRow; items: HarvestRunItemRow[] }> {
    const source = await this.get(slug);
    if (!/^[0-9a-f-]{36}$/i.test(runId)) throw ApiError.notFound();
    const [run] = await this.dataSource.query(`SELECT * FROM harvest_run WHERE id = $1 AND harvest_source_id = $2`, [runId, source.id]);
    if (!run) throw ApiError.notFound();
    const items = await this.dataSource.query(
      `SELECT remote_id, title, outcome, message, details FROM harvest_run_item WHERE run_id = $1 ORDER BY seq`,
      [runId],
    );
    return { run, items };
  }

  /** The connector of a source under an entity type: slug = the source's slug, a key nobody is given (the harvester writes over NATS). */
  async createConnector(manager: EntityManager, sourceId: number, sourceSlug: string, entityType: EntityTypeEntity, isLive: boolean): Promise<number> {
    if (await manager.existsBy(ConnectorEntity, { entityTypeId: entityType.id, slug: sourceSlug })) throw ApiError.conflict();
    const contributionId = this.connectors.contributionId(entityType.slug, sourceSlug);
    const key = await this.keys.issue(manager, 'contributor', contributionId);
    const [{ id }] = await manager.query(
      `INSERT INTO connector (entity_type_id, slug, name, description, contribution_id, key_id, is_live, harvest_source_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
      [entityType.id, sourceSlug, `Harvest ${sourceSlug}`.slice(0, 64), `Records harvested by the harvest source ${sourceSlug}`, contributionId, key.keyId, isLive, sourceId],
    );
    await this.emitConnector(manager, EventSubjects.ConnectorCreated, entityType.slug, sourceSlug, contributionId, isLive);
    return id;
  }

  /** The source's connector under an entity type, created when missing; returns its contribution id. */
  async ensureConnector(manager: EntityManager, sourceId: number, sourceSlug: string, entityType: EntityTypeEntity, isLive: boolean): Promise<string> {
    const [connector] = await manager.query(`SELECT contribution_id FROM connector WHERE entity_type_id = $1 AND harvest_source_id = $2`, [
      entityType.id,
      sourceId,
    ]);
    if (connector) return connector.contribution_id;
    await this.createConnector(manager, sourceId, sourceSlug, entityType, isLive);
    return this.connectors.contributionId(entityType.slug, sourceSlug);
  }

  private emitConnector(manager: EntityManager, subject: EventSubject, entityTypeId: string, connectorId: string, contributionId: string, isLive: boolean) {
    return this.outbox.append(manager, subject as typeof EventSubjects.ConnectorCreated, { entityTypeId, connectorId, contributionId, isLive });
  }

  private async catalogId(manager: EntityManager, catalog: string): Promise<number> {
    const [found] = await manager.query(`SELECT id FROM remote_catalog WHERE slug = $1`, [catalog]);
    if (!found) throw ApiError.field('catalog', 'is not a remote catalog');
    return found.id;
  }

  private async entityType(manager: EntityManager, slug: string): Promise<EntityTypeEntity> {
    const found = await manager.findOneBy(EntityTypeEntity, { slug });
    if (!found) throw ApiError.field('entity_type', 'is not an entity type');
    return found;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Why a schedule is not usable (a preset name, or a cron expression of five fields or six with seconds), or undefined. */
export function cronProblem(schedule: string, timezone: string): string | undefined {
  const presets = Object.keys(HARVEST_SCHEDULE_PRESETS).join(', ');
  const pattern = harvestCronPattern(schedule)!;
  const fields = pattern.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) return `must be one of ${presets}, or a cron expression of five fields (six with seconds first)`;
  try {
    parseExpression(pattern, { tz: timezone }).next();
    return undefined;
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message}`;
  }
}
