import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Publishing: a lease so that one push per publication runs at a time, whatever
 * the number of publisher replicas (an expired lease is a crashed push), the
 * earliest time a failed push may be retried (Retry-After), when the last run
 * started, and the indexes of the publisher's sweeps and of listings by catalog.
 */
export class Publishing1732300000500 implements MigrationInterface {
  name = 'Publishing1732300000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE publication ADD COLUMN lease_until timestamptz, ADD COLUMN retry_at timestamptz, ADD COLUMN last_run_at timestamptz`);
    await q.query(`CREATE INDEX publication_remote_catalog_idx ON publication (remote_catalog_id, entity_type_slug)`);
    await q.query(`CREATE INDEX publication_pending_idx ON publication (updated_at) WHERE status IN ('waiting', 'running', 'deleting')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX publication_pending_idx`);
    await q.query(`DROP INDEX publication_remote_catalog_idx`);
    await q.query(`ALTER TABLE publication DROP COLUMN last_run_at, DROP COLUMN retry_at, DROP COLUMN lease_until`);
  }
}
