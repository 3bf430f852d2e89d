import { IsBoolean, IsIn, IsInt, IsNumber, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { AsBoolean, AsInteger, RestServiceConfig, WithRedis } from '@odb/platform';

export class ConsumerQueryConfig extends WithRedis(RestServiceConfig) {
  override PORT = 8003;

  /**
   * `enforced`: a consumer key is required, its policy applies, and the policy's
   * rate and quota are counted. `local`: BitBroker's local/dev mode, where the
   * policy is named by `x-bbk-audience` and nothing is counted.
   */
  @IsIn(['enforced', 'local'])
  AUTH_MODE: 'enforced' | 'local' = 'enforced';

  /** Timeout of calls to connector webhooks (instance details and timeseries). */
  @AsInteger()
  @IsInt()
  @Min(1)
  WEBHOOK_TIMEOUT_MS = 2000;

  /** How long a policy read from the database is used before reading it again (updates also arrive as events). */
  @AsInteger()
  @IsInt()
  @Min(0)
  POLICY_CACHE_MS = 10_000;

  /** Connections of the catalog read pool (0: DATABASE_POOL_SIZE). */
  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(200)
  CATALOG_POOL_SIZE = 0;

  /**
   * Page reads (lists, catalog queries, CSV batches) running at once; the
   * others wait their turn (0: this machine's cores + 1). Set it to the
   * database server's cores + 1 when it runs elsewhere. Reads by id are not
   * counted.
   */
  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(200)
  CATALOG_READ_CONCURRENCY = 0;

  /**
   * Longest a catalog read may run before PostgreSQL cancels it; the consumer
   * gets 503 with Retry-After. Queries on unindexed paths, regexes and geo
   * conditions are evaluated row by row, so this bounds what one request costs.
   */
  @AsInteger()
  @IsInt()
  @Min(100)
  CATALOG_STATEMENT_TIMEOUT_MS = 10_000;

  /**
   * `random_page_cost` of the catalog read sessions. The catalog is read far
   * more than written and is mostly cached, so random reads cost little more
   * than sequential ones; PostgreSQL's default (4) makes the planner walk the
   * id order with a filter where an index on the condition is much faster.
   */
  @Transform(({ value }) => (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value))
  @IsNumber()
  @Min(0.1)
  CATALOG_RANDOM_PAGE_COST = 1.1;

  /**
   * From this offset on, `GET /entity/:type` finds its page through the record
   * counts per block of ids (`record_bucket`) instead of skipping rows one by one.
   */
  @AsInteger()
  @IsInt()
  @Min(0)
  DEEP_PAGING_FROM = 2000;

  /** Records read per database round trip while streaming a CSV export. */
  @AsInteger()
  @IsInt()
  @Min(1)
  @Max(10_000)
  CSV_BATCH_SIZE = 1000;

  /** Build and maintain expression indexes for the properties each entity type's schema declares. */
  @AsBoolean()
  @IsBoolean()
  TYPE_INDEXES = true;

  /** At most this many declared properties of one entity type get indexes (more would slow every write). */
  @AsInteger()
  @IsInt()
  @Min(0)
  @Max(64)
  TYPE_INDEXES_MAX_PROPERTIES = 16;

  /** How often the per-block record counts are merged (0: never). */
  @AsInteger()
  @IsInt()
  @Min(0)
  BUCKET_COMPACT_INTERVAL_MS = 60_000;
}
