import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SERVICE_CONFIG } from '@odb/platform';
import { CatalogDatabase } from '../catalog/catalog-database';
import { ConsumerQueryConfig } from '../config';

/**
 * Merges the delta rows of `record_bucket` (one per write statement, see the
 * migration) into one row per (type, connector, level, block), so that
 * finding a deep page keeps reading few rows. One statement:
 * the rows it deletes are exactly the rows it sums, so concurrent writers and
 * other replicas doing the same never make a count wrong.
 */
@Injectable()
export class BucketCompactor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('BucketCompactor');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly db: CatalogDatabase,
    @Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.BUCKET_COMPACT_INTERVAL_MS <= 0) return;
    this.timer = setInterval(() => {
      if (!this.running) {
        this.running = this.compact()
          .catch((error: unknown) => {
            this.logger.warn(`record_bucket compaction failed: ${(error as Error).message}`);
            return 0;
          })
          .finally(() => (this.running = undefined));
      }
    }, this.config.BUCKET_COMPACT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Returns how many rows were merged away. */
  async compact(): Promise<number> {
    const [{ merged }] = await this.db.query<{ merged: number }>(
      `WITH keys AS (
         SELECT entity_type_id, connector_id, level, bucket FROM record_bucket
          GROUP BY 1, 2, 3, 4 HAVING count(*) > 1 OR sum(n) = 0 LIMIT 100000
       ), gone AS (
         DELETE FROM record_bucket b USING keys k
          WHERE b.entity_type_id = k.entity_type_id AND b.connector_id = k.connector_id AND b.level = k.level AND b.bucket = k.bucket
         RETURNING b.entity_type_id, b.connector_id, b.level, b.bucket, b.n
       ), merged AS (
         INSERT INTO record_bucket (entity_type_id, connector_id, level, bucket, n)
         SELECT entity_type_id, connector_id, level, bucket, sum(n) FROM gone GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0
         RETURNING 1
       )
       SELECT ((SELECT count(*) FROM gone) - (SELECT count(*) FROM merged))::int AS merged`,
      [],
    );
    return merged;
  }
}
