import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Harvesting: at most one running run per source (enforced here, whatever the
 * number of harvester replicas), heartbeats to tell a crashed run from a long
 * one, richer per-item reports, and the ownership of the connectors and
 * entity types a harvest source created.
 */
export class Harvesting1732300000400 implements MigrationInterface {
  name = 'Harvesting1732300000400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE harvest_run ADD COLUMN heartbeat_at timestamptz, ADD COLUMN worker text`);
    await q.query(`CREATE UNIQUE INDEX harvest_run_one_running_idx ON harvest_run (harvest_source_id) WHERE status = 'running'`);
    await q.query(`CREATE INDEX harvest_run_running_idx ON harvest_run (heartbeat_at) WHERE status = 'running'`);
    await q.query(`ALTER TABLE harvest_run_item ADD COLUMN title text, ADD COLUMN details jsonb`);
    await q.query(`ALTER TABLE harvested_item ADD COLUMN details jsonb NOT NULL DEFAULT '{}'`);
    // What a source owns: deleting the source deletes them (the coordinator does it, with events).
    await q.query(`ALTER TABLE connector ADD COLUMN harvest_source_id integer REFERENCES harvest_source (id) ON DELETE SET NULL`);
    await q.query(`ALTER TABLE entity_type ADD COLUMN harvest_source_id integer REFERENCES harvest_source (id) ON DELETE SET NULL`);
    await q.query(`ALTER TABLE entity_type ADD COLUMN harvest_resource_key text`);
    await q.query(`CREATE UNIQUE INDEX entity_type_harvest_resource_idx ON entity_type (harvest_source_id, harvest_resource_key) WHERE harvest_source_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX entity_type_harvest_resource_idx`);
    await q.query(`ALTER TABLE entity_type DROP COLUMN harvest_resource_key, DROP COLUMN harvest_source_id`);
    await q.query(`ALTER TABLE connector DROP COLUMN harvest_source_id`);
    await q.query(`ALTER TABLE harvested_item DROP COLUMN details`);
    await q.query(`ALTER TABLE harvest_run_item DROP COLUMN details, DROP COLUMN title`);
    await q.query(`DROP INDEX harvest_run_running_idx`);
    await q.query(`DROP INDEX harvest_run_one_running_idx`);
    await q.query(`ALTER TABLE harvest_run DROP COLUMN worker, DROP COLUMN heartbeat_at`);
  }
}
