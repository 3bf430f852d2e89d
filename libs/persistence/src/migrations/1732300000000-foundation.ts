import { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1732300000000 implements MigrationInterface {
  name = 'Foundation1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS postgis`);
    await q.query(`
      CREATE TABLE outbox_event (
        id          bigserial PRIMARY KEY,
        subject     text        NOT NULL,
        payload     jsonb       NOT NULL,
        source      text        NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One notification per statement wakes the relays; polling is only the fallback.
    await q.query(`
      CREATE FUNCTION outbox_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('outbox_event', '');
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER outbox_event_inserted AFTER INSERT ON outbox_event
      FOR EACH STATEMENT EXECUTE FUNCTION outbox_event_notify()`);
    await q.query(`
      CREATE TABLE processed_event (
        consumer     text        NOT NULL,
        event_id     text        NOT NULL,
        processed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE processed_event`);
    await q.query(`DROP TRIGGER outbox_event_inserted ON outbox_event`);
    await q.query(`DROP FUNCTION outbox_event_notify()`);
    await q.query(`DROP TABLE outbox_event`);
  }
}
