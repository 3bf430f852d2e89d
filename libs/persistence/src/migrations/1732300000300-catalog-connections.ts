import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Remote catalogs (configured on the coordinator), harvest sources and their
 * runs (the harvester's), and publications (configured on the coordinator,
 * state kept by the catalog publisher).
 */
export class CatalogConnections1732300000300 implements MigrationInterface {
  name = 'CatalogConnections1732300000300';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE remote_catalog (
        id             serial PRIMARY KEY,
        slug           varchar(32)   NOT NULL UNIQUE,
        type           text          NOT NULL,
        url            varchar(2048) NOT NULL,
        name           varchar(64)   NOT NULL,
        description    varchar(2048) NOT NULL DEFAULT '',
        organization   varchar(256),
        api_key_sealed text,
        created_at     timestamptz   NOT NULL DEFAULT now(),
        updated_at     timestamptz   NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE harvest_source (
        id                serial PRIMARY KEY,
        slug              varchar(32)   NOT NULL UNIQUE,
        remote_catalog_id integer       NOT NULL REFERENCES remote_catalog (id) ON DELETE RESTRICT,
        name              varchar(64)   NOT NULL,
        description       varchar(2048) NOT NULL DEFAULT '',
        mode              text          NOT NULL CHECK (mode IN ('metadata', 'data')),
        entity_type_id    integer REFERENCES entity_type (id) ON DELETE SET NULL,
        connector_id      integer REFERENCES connector (id) ON DELETE SET NULL,
        filters           jsonb         NOT NULL DEFAULT '{}',
        schedule          text,
        timezone          text          NOT NULL DEFAULT 'UTC',
        on_removed        text          NOT NULL DEFAULT 'delete' CHECK (on_removed IN ('delete', 'keep')),
        go_live           boolean       NOT NULL DEFAULT false,
        max_items         integer CHECK (max_items > 0),
        row_key           text,
        created_at        timestamptz   NOT NULL DEFAULT now(),
        updated_at        timestamptz   NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE harvest_run (
        id                uuid PRIMARY KEY,
        harvest_source_id integer     NOT NULL REFERENCES harvest_source (id) ON DELETE CASCADE,
        status            text        NOT NULL CHECK (status IN ('queued', 'running', 'done', 'done-with-errors', 'failed')),
        trigger           text        NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        dry_run           boolean     NOT NULL DEFAULT false,
        requested_at      timestamptz NOT NULL DEFAULT now(),
        started_at        timestamptz,
        finished_at       timestamptz,
        counts            jsonb       NOT NULL DEFAULT '{}',
        progress          jsonb       NOT NULL DEFAULT '{}',
        listing_complete  boolean     NOT NULL DEFAULT false,
        cursor            jsonb,
        error             text
      )`);
    await q.query(`CREATE INDEX harvest_run_source_idx ON harvest_run (harvest_source_id, requested_at DESC)`);
    // Every per-item outcome of a run is kept, not a sample.
    await q.query(`
      CREATE TABLE harvest_run_item (
        run_id    uuid      NOT NULL REFERENCES harvest_run (id) ON DELETE CASCADE,
        seq       bigserial,
        remote_id text,
        outcome   text      NOT NULL,
        message   text,
        PRIMARY KEY (run_id, seq)
      )`);
    // What a source brought in: re-harvests update in place, removals are computed from it.
    await q.query(`
      CREATE TABLE harvested_item (
        harvest_source_id integer     NOT NULL REFERENCES harvest_source (id) ON DELETE CASCADE,
        remote_id         text        NOT NULL,
        entity_type_id    integer REFERENCES entity_type (id) ON DELETE SET NULL,
        connector_id      integer REFERENCES connector (id) ON DELETE SET NULL,
        content_hash      text        NOT NULL,
        last_run_id       uuid,
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (harvest_source_id, remote_id)
      )`);
    // The entity type is named, not referenced: the publication outlives the type until the remote dataset is gone.
    await q.query(`
      CREATE TABLE publication (
        id                serial PRIMARY KEY,
        entity_type_slug  varchar(32) NOT NULL,
        remote_catalog_id integer     NOT NULL REFERENCES remote_catalog (id) ON DELETE RESTRICT,
        organization      varchar(256),
        visibility        text        NOT NULL DEFAULT 'public' CHECK (visibility IN ('public', 'private')),
        status            text        NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'running', 'done', 'error', 'deleting')),
        remote_id         text,
        remote_url        text,
        resource_ids      jsonb       NOT NULL DEFAULT '{}',
        requested_version integer     NOT NULL DEFAULT 1,
        pushed_version    integer,
        last_success_at   timestamptz,
        last_error        text,
        last_log          jsonb       NOT NULL DEFAULT '[]',
        created_at        timestamptz NOT NULL DEFAULT now(),
        updated_at        timestamptz NOT NULL DEFAULT now(),
        UNIQUE (entity_type_slug, remote_catalog_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['publication', 'harvested_item', 'harvest_run_item', 'harvest_run', 'harvest_source', 'remote_catalog']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
