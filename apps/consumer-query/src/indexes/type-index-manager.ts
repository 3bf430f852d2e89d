import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { EventSubjects } from '@odb/contracts';
import { OnDomainEvent } from '@odb/messaging';
import { quoteIdentifier } from '@odb/persistence';
import { SERVICE_CONFIG } from '@odb/platform';
import { ConsumerQueryConfig } from '../config';
import { MANAGED_INDEX_PREFIX, PlannedIndex, PlannedStatistics, planIndexes, planStatistics } from './type-index-plan';

const LOCK = 'odb.consumer-query.type-indexes';
const RETRY_MS = 5000;

export interface ReconcileResult {
  created: string[];
  dropped: string[];
  /** Another replica held the lock; this one will try again. */
  skipped?: boolean;
}

/**
 * Keeps the per-entity-type expression indexes (`type-index-plan.ts`) in line
 * with the entity types: on start-up and whenever a type is created, updated
 * or deleted, it computes the indexes every type should have, creates the
 * missing ones and drops those no type needs any more (and any left invalid by
 * an interrupted build), does the same for the statistics objects the planner
 * needs beside them (`planStatistics`), then ANALYZEs `record` so that the
 * planner has statistics on the new expressions.
 *
 * Idempotent and safe with several replicas: index names are deterministic,
 * builds use CREATE INDEX CONCURRENTLY (writers are never blocked), and one
 * replica at a time works, under a PostgreSQL advisory lock. The event handlers
 * only schedule the work, so a long build never holds a message past its ack
 * deadline; a build lost with its process is redone at the next start.
 */
@Injectable()
export class TypeIndexManager implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TypeIndexes');
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  private client?: Client;
  private retry?: NodeJS.Timeout;

  constructor(@Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig) {}

  onApplicationBootstrap(): void {
    void this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    // Ending the connection aborts a build in progress; the invalid index it leaves is dropped next time.
    await this.client?.end().catch(() => undefined);
    await this.running?.catch(() => undefined);
  }

  @OnDomainEvent(EventSubjects.EntityTypeCreated)
  async onEntityTypeCreated(): Promise<void> {
    void this.schedule();
  }

  @OnDomainEvent(EventSubjects.EntityTypeUpdated)
  async onEntityTypeUpdated(): Promise<void> {
    void this.schedule();
  }

  @OnDomainEvent(EventSubjects.EntityTypeDeleted)
  async onEntityTypeDeleted(): Promise<void> {
    void this.schedule();
  }

  /** Starts a reconciliation, or makes the running one go round again; resolves when none is left to do. */
  schedule(): Promise<void> {
    if (!this.config.TYPE_INDEXES || this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const result = await this.reconcile();
          if (result.skipped) this.retryLater();
          else if (result.created.length + result.dropped.length > 0) {
            this.logger.log(`indexes created: ${result.created.join(', ') || 'none'}; dropped: ${result.dropped.join(', ') || 'none'}`);
          }
        } catch (error) {
          if (!this.stopped) {
            this.logger.warn(`index reconciliation failed: ${(error as Error).message}`);
            this.retryLater();
          }
        }
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no reconciliation is running or pending (for tests and benchmarks). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async reconcile(): Promise<ReconcileResult> {
    const client = new Client({ connectionString: this.config.DATABASE_URL, application_name: 'consumer-query.indexes' });
    await client.connect();
    client.on('error', () => undefined);
    this.client = client;
    try {
      const [{ locked }] = (await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [LOCK])).rows;
      if (!locked) return { created: [], dropped: [], skipped: true };
      const types = (await client.query<{ id: number; schema: unknown }>(`SELECT id, schema FROM entity_type ORDER BY id`)).rows;
      const desired = new Map<string, PlannedIndex>();
      for (const type of types) {
        for (const index of planIndexes(type, this.config.TYPE_INDEXES_MAX_PROPERTIES)) desired.set(index.name, index);
      }
      const existing = (
        await client.query<{ name: string; valid: boolean }>(
          `SELECT c.relname AS name, i.indisvalid AND i.indisready AS valid
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = 'record'::regclass AND starts_with(c.relname, $1)`,
          [MANAGED_INDEX_PREFIX],
        )
      ).rows;
      const dropped: string[] = [];
      for (const index of existing) {
        if (this.stopped) break;
        if (desired.has(index.name) && index.valid) continue;
        await client.query(`DROP INDEX CONCURRENTLY IF EXISTS ${quoteIdentifier(index.name)}`);
        dropped.push(index.name);
      }
      const present = new Set(existing.filter((index) => index.valid).map((index) => index.name));
      const created: string[] = [];
      for (const index of desired.values()) {
        if (this.stopped) break;
        if (present.has(index.name)) continue;
        await client.query(index.create);
        created.push(index.name);
      }
      const statistics = await this.reconcileStatistics(client, types);
      created.push(...statistics.created);
      dropped.push(...statistics.dropped);
      // Expression indexes and statistics objects are filled by ANALYZE only.
      if (created.length > 0 && !this.stopped) await client.query(`ANALYZE record`);
      return { created, dropped };
    } finally {
      this.client = undefined;
      await client.end().catch(() => undefined);
    }
  }

  /** The same for the statistics objects the planner needs beside the indexes. */
  private async reconcileStatistics(client: Client, types: Array<{ id: number; schema: unknown }>): Promise<{ created: string[]; dropped: string[] }> {
    const desired = new Map<string, PlannedStatistics>();
    for (const type of types) {
      for (const statistics of planStatistics(type, this.config.TYPE_INDEXES_MAX_PROPERTIES)) desired.set(statistics.name, statistics);
    }
    const existing = (
      await client.query<{ name: string }>(
        `SELECT stxname AS name FROM pg_statistic_ext WHERE stxrelid = 'record'::regclass AND starts_with(stxname, $1)`,
        [MANAGED_INDEX_PREFIX],
      )
    ).rows.map((row) => row.name);
    const dropped: string[] = [];
    for (const name of existing) {
      if (this.stopped) break;
      if (desired.has(name)) continue;
      await client.query(`DROP STATISTICS IF EXISTS ${quoteIdentifier(name)}`);
      dropped.push(name);
    }
    const created: string[] = [];
    for (const statistics of desired.values()) {
      if (this.stopped || existing.includes(statistics.name)) continue;
      await client.query(statistics.create);
      created.push(statistics.name);
    }
    return { created, dropped };
  }

  private retryLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.schedule();
    }, RETRY_MS);
    this.retry.unref();
  }
}
