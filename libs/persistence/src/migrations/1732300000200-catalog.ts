import { MigrationInterface, QueryRunner } from 'typeorm';

/** The catalog of records and the operations buffered by open sessions (owned by contributor-ingest). */
export class Catalog1732300000200 implements MigrationInterface {
  name = 'Catalog1732300000200';

  async up(q: QueryRunner): Promise<void> {
    // `id` gives BitBroker's stable insertion order; `document` is what consumer queries run against:
    // {id: vendor id, name, type, entity, instance?, timeseries}. public_id = sha1(contribution id:vendor id)
    // is the one unique key: upserts arbitrate on it, so concurrent writers of one record never fail on a
    // second unique index (which ON CONFLICT would not cover).
    await q.query(`
      CREATE TABLE record (
        id             bigserial PRIMARY KEY,
        public_id      char(40)     NOT NULL UNIQUE,
        connector_id   integer      NOT NULL REFERENCES connector (id) ON DELETE CASCADE,
        entity_type_id integer      NOT NULL REFERENCES entity_type (id) ON DELETE CASCADE,
        vendor_id      varchar(256) NOT NULL,
        name           varchar(256) NOT NULL,
        document       jsonb        NOT NULL,
        created_at     timestamptz  NOT NULL DEFAULT now(),
        updated_at     timestamptz  NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX record_connector_vendor_idx ON record (connector_id, vendor_id)`);
    await q.query(`CREATE INDEX record_entity_type_order_idx ON record (entity_type_id, id)`);
    await q.query(`CREATE INDEX record_document_idx ON record USING gin (document jsonb_path_ops)`);
    // Operations of accrue and replace sessions, applied in `seq` order on commit.
    await q.query(`
      CREATE TABLE session_operation (
        session_id uuid         NOT NULL REFERENCES connector (session_id) ON DELETE CASCADE,
        seq        bigserial,
        action     text         NOT NULL CHECK (action IN ('upsert', 'delete')),
        vendor_id  varchar(256) NOT NULL,
        public_id  char(40)     NOT NULL,
        name       varchar(256),
        document   jsonb,
        PRIMARY KEY (session_id, seq)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE session_operation`);
    await q.query(`DROP TABLE record`);
  }
}
