import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deep paging of the Consumer API (owned by consumer-query). BitBroker pages a
 * type's records by `limit`/`offset` in insertion order (`record.id`);
 * `OFFSET 900000` would walk 900,000 rows. `record_bucket` counts records per
 * (entity type, connector, block of ids) at two levels: blocks of 2^16 ids
 * (level 1) and of 2^10 ids (level 0). The consumer finds the level-1 block
 * holding the n-th visible record by summing about n / 65,536 rows, the level-0
 * block inside it by summing at most 64 more, then skips at most one level-0
 * block's records.
 *
 * The counts are kept by statement-level triggers with transition tables (one
 * extra INSERT per statement, not per record), in the writer's transaction, so
 * they always agree with `record` in any snapshot. Rows are append-only deltas
 * (+n on insert, -n on delete): writers never update a shared counter row, so
 * they never wait for each other; consumer-query merges the deltas from time
 * to time. Sums are what count, so any number of rows per key is correct.
 */
export class RecordBuckets1732300000900 implements MigrationInterface {
  name = 'RecordBuckets1732300000900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE record_bucket (
        entity_type_id integer  NOT NULL,
        connector_id   integer  NOT NULL,
        level          smallint NOT NULL CHECK (level IN (0, 1)),
        bucket         bigint   NOT NULL,
        n              integer  NOT NULL
      )`);
    await q.query(`CREATE INDEX record_bucket_key_idx ON record_bucket (entity_type_id, level, connector_id, bucket) INCLUDE (n)`);
    await q.query(`
      CREATE FUNCTION record_bucket_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO record_bucket (entity_type_id, connector_id, level, bucket, n)
        SELECT entity_type_id, connector_id, l.level, id >> l.bits, count(*)
          FROM inserted, (VALUES (0::smallint, 10), (1::smallint, 16)) AS l (level, bits) GROUP BY 1, 2, 3, 4;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION record_bucket_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO record_bucket (entity_type_id, connector_id, level, bucket, n)
        SELECT entity_type_id, connector_id, l.level, id >> l.bits, -count(*)
          FROM deleted, (VALUES (0::smallint, 10), (1::smallint, 16)) AS l (level, bits) GROUP BY 1, 2, 3, 4;
        RETURN NULL;
      END $$`);
    // Records never move between connectors or types, and their id never changes; if one ever did, the counts follow.
    await q.query(`
      CREATE FUNCTION record_bucket_moved() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO record_bucket (entity_type_id, connector_id, level, bucket, n)
        VALUES (OLD.entity_type_id, OLD.connector_id, 0, OLD.id >> 10, -1), (NEW.entity_type_id, NEW.connector_id, 0, NEW.id >> 10, 1),
               (OLD.entity_type_id, OLD.connector_id, 1, OLD.id >> 16, -1), (NEW.entity_type_id, NEW.connector_id, 1, NEW.id >> 16, 1);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE FUNCTION record_bucket_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM record_bucket;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER record_bucket_insert AFTER INSERT ON record
      REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION record_bucket_inserted()`);
    await q.query(`
      CREATE TRIGGER record_bucket_delete AFTER DELETE ON record
      REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION record_bucket_deleted()`);
    await q.query(`
      CREATE TRIGGER record_bucket_move AFTER UPDATE OF id, connector_id, entity_type_id ON record FOR EACH ROW
      WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.connector_id IS DISTINCT FROM NEW.connector_id OR OLD.entity_type_id IS DISTINCT FROM NEW.entity_type_id)
      EXECUTE FUNCTION record_bucket_moved()`);
    await q.query(`CREATE TRIGGER record_bucket_truncate AFTER TRUNCATE ON record FOR EACH STATEMENT EXECUTE FUNCTION record_bucket_truncated()`);
    await q.query(`
      INSERT INTO record_bucket (entity_type_id, connector_id, level, bucket, n)
      SELECT entity_type_id, connector_id, l.level, id >> l.bits, count(*)
        FROM record, (VALUES (0::smallint, 10), (1::smallint, 16)) AS l (level, bits) GROUP BY 1, 2, 3, 4`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const trigger of ['record_bucket_insert', 'record_bucket_delete', 'record_bucket_move', 'record_bucket_truncate']) {
      await q.query(`DROP TRIGGER ${trigger} ON record`);
    }
    for (const fn of ['record_bucket_inserted', 'record_bucket_deleted', 'record_bucket_moved', 'record_bucket_truncated']) {
      await q.query(`DROP FUNCTION ${fn}()`);
    }
    await q.query(`DROP TABLE record_bucket`);
  }
}
