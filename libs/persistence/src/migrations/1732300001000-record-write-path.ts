import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lighter write path for `record` (owned by contributor-ingest): every index
 * entry and per-row check is paid on each of millions of writes.
 *
 * - `entity_type_id` is the connector's type, copied for the consumer's
 *   indexes; its foreign key checked again what the connector's already
 *   guarantees (a connector never changes type; deleting a type deletes its
 *   connectors, and their records with them).
 * - The foreign key to `connector` made PostgreSQL look up and share-lock the
 *   connector once per row. Writers now lock it once per statement (the
 *   session check in SessionStore, which also keeps a stale write out of a
 *   closed session), and deleting a connector deletes its records through a
 *   trigger, as the cascade did.
 * - Nothing looks records up by (connector, vendor id): public ids encode
 *   both. Replace commits and connector deletions select by connector alone.
 */
export class RecordWritePath1732300001000 implements MigrationInterface {
  name = 'RecordWritePath1732300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE record DROP CONSTRAINT IF EXISTS record_entity_type_id_fkey`);
    await q.query(`ALTER TABLE record DROP CONSTRAINT IF EXISTS record_connector_id_fkey`);
    await q.query(`CREATE INDEX IF NOT EXISTS record_connector_idx ON record (connector_id)`);
    await q.query(`DROP INDEX IF EXISTS record_connector_vendor_idx`);
    await q.query(`
      CREATE FUNCTION connector_records_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM record WHERE connector_id = OLD.id;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE TRIGGER connector_records_delete AFTER DELETE ON connector FOR EACH ROW EXECUTE FUNCTION connector_records_deleted()`,
    );
    // Records a connector deleted before this migration left behind (none: the cascade deleted them).
    await q.query(`DELETE FROM record r WHERE NOT EXISTS (SELECT 1 FROM connector c WHERE c.id = r.connector_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER connector_records_delete ON connector`);
    await q.query(`DROP FUNCTION connector_records_deleted()`);
    await q.query(`CREATE INDEX IF NOT EXISTS record_connector_vendor_idx ON record (connector_id, vendor_id)`);
    await q.query(`DROP INDEX IF EXISTS record_connector_idx`);
    await q.query(`ALTER TABLE record ADD CONSTRAINT record_connector_id_fkey FOREIGN KEY (connector_id) REFERENCES connector (id) ON DELETE CASCADE`);
    await q.query(
      `ALTER TABLE record ADD CONSTRAINT record_entity_type_id_fkey FOREIGN KEY (entity_type_id) REFERENCES entity_type (id) ON DELETE CASCADE`,
    );
  }
}
