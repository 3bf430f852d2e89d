import { availableParallelism } from 'os';
import { HttpStatus, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Pool, PoolClient, QueryResultRow } from 'pg';
import { ApiError, SERVICE_CONFIG } from '@odb/platform';
import { ConsumerQueryConfig } from '../config';

/** SQLSTATE of a statement cancelled by `statement_timeout`. */
const QUERY_CANCELED = '57014';

/**
 * The connections every catalog read goes through: node-postgres directly
 * (no ORM on the hot path), with session settings chosen for short reads
 * under concurrency on a cached catalog:
 *
 * - `statement_timeout`: a consumer query can never run for long (503);
 * - `jit = off`: JIT compilation costs tens of milliseconds on plans whose
 *   estimated cost is high, which is exactly the queries that must stay fast;
 * - `max_parallel_workers_per_gather = 0`: with many concurrent requests,
 *   starting workers costs more than it saves;
 * - `random_page_cost`: see `CATALOG_RANDOM_PAGE_COST`.
 *
 * Statements are unnamed (planned with their actual parameters, so partial
 * indexes per entity type apply) unless the caller names one: GET by id uses
 * a prepared statement, planned once per connection.
 *
 * Page reads (lists, catalog queries, CSV batches) spend milliseconds of
 * PostgreSQL CPU each: at most `CATALOG_READ_CONCURRENCY` run at once, the
 * others wait their turn here, first come first served. More at once than the
 * database has cores only adds switching between them (pgbench, `$near` on a
 * million records, 2 cores: 575 queries/s from 2 clients, 417 from 10) and
 * spreads every answer's latency; waiting in line keeps the tail close to the
 * median. Reads by id do not queue behind pages.
 */
@Injectable()
export class CatalogDatabase implements OnApplicationShutdown {
  readonly pool: Pool;
  private readonly pages: ConcurrencyLimit;

  constructor(@Inject(SERVICE_CONFIG) config: ConsumerQueryConfig) {
    this.pages = new ConcurrencyLimit(config.CATALOG_READ_CONCURRENCY || availableParallelism() + 1);
    const settings = {
      statement_timeout: String(config.CATALOG_STATEMENT_TIMEOUT_MS),
      jit: 'off',
      max_parallel_workers_per_gather: '0',
      random_page_cost: String(config.CATALOG_RANDOM_PAGE_COST),
    };
    this.pool = new Pool({
      connectionString: config.DATABASE_URL,
      max: config.CATALOG_POOL_SIZE || config.DATABASE_POOL_SIZE,
      application_name: 'consumer-query.catalog',
      options: Object.entries(settings)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(' '),
      idleTimeoutMillis: 60_000,
    });
    // An idle connection that breaks (database restart) must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
  }

  async query<T extends QueryResultRow>(text: string, values: unknown[], name?: string): Promise<T[]> {
    try {
      const result = await this.pool.query<T>(name ? { name, text, values } : { text, values });
      return result.rows;
    } catch (error) {
      throw translate(error);
    }
  }

  /** A page read: waits for one of the `CATALOG_READ_CONCURRENCY` slots. */
  queryPage<T extends QueryResultRow>(text: string, values: unknown[], name?: string): Promise<T[]> {
    return this.pages.run(() => this.query<T>(text, values, name));
  }

  /** A connection for a sequence of reads (a CSV export); release it with `release()`. */
  async connect(): Promise<PoolClient> {
    return this.pool.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}

/** A cancelled (too long) catalog read is the service's limit, not a fault: 503 with Retry-After. */
export function translate(error: unknown): unknown {
  if ((error as { code?: string })?.code === QUERY_CANCELED) {
    const unavailable = new ApiError('the query took too long; narrow it down', HttpStatus.SERVICE_UNAVAILABLE);
    unavailable.headers = { 'Retry-After': '5' };
    return unavailable;
  }
  return error;
}

/** At most `limit` calls of `run` at once; the others wait, first come first served. */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot goes straight to the next in line, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
