import { MigrationInterface, QueryRunner } from 'typeorm';

/** Users, keys, entity types, connectors, policies and accesses (owned by the coordinator). */
export class Coordinator1732300000100 implements MigrationInterface {
  name = 'Coordinator1732300000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE auth_key (
        key_id         uuid PRIMARY KEY,
        role           text        NOT NULL CHECK (role IN ('coordinator', 'contributor', 'consumer')),
        context        text        NOT NULL,
        secret_hash    text        NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        revoked_at     timestamptz,
        revoked_reason text
      )`);
    // SERIAL: ids come from users_id_seq and are never reused.
    await q.query(`
      CREATE TABLE users (
        id                 serial PRIMARY KEY,
        email              varchar(256) NOT NULL UNIQUE,
        name               varchar(64)  NOT NULL,
        organization       varchar(64)  NOT NULL,
        addendum           jsonb        NOT NULL DEFAULT '{}',
        coordinator_key_id uuid UNIQUE REFERENCES auth_key (key_id),
        created_at         timestamptz  NOT NULL DEFAULT now(),
        updated_at         timestamptz  NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE entity_type (
        id               serial PRIMARY KEY,
        slug             varchar(32)   NOT NULL UNIQUE,
        name             varchar(64)   NOT NULL,
        description      varchar(2048) NOT NULL,
        schema           jsonb         NOT NULL DEFAULT '{}',
        timeseries       jsonb         NOT NULL DEFAULT '{}',
        tags             jsonb         NOT NULL DEFAULT '[]',
        icon             varchar(256)  NOT NULL DEFAULT '',
        dataset_metadata jsonb         NOT NULL DEFAULT '{}',
        version          integer       NOT NULL DEFAULT 1,
        created_at       timestamptz   NOT NULL DEFAULT now(),
        updated_at       timestamptz   NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE connector (
        id              serial PRIMARY KEY,
        entity_type_id  integer       NOT NULL REFERENCES entity_type (id) ON DELETE CASCADE,
        slug            varchar(32)   NOT NULL,
        name            varchar(64)   NOT NULL,
        description     varchar(2048) NOT NULL,
        webhook         varchar(1024),
        cache           integer       NOT NULL DEFAULT 0,
        contribution_id char(40)      NOT NULL UNIQUE,
        key_id          uuid          NOT NULL UNIQUE REFERENCES auth_key (key_id),
        is_live         boolean       NOT NULL DEFAULT false,
        session_id      uuid UNIQUE,
        session_mode    text CHECK (session_mode IN ('stream', 'accrue', 'replace')),
        session_started timestamptz,
        created_at      timestamptz   NOT NULL DEFAULT now(),
        updated_at      timestamptz   NOT NULL DEFAULT now(),
        UNIQUE (entity_type_id, slug)
      )`);
    await q.query(`
      CREATE TABLE policy (
        id          serial PRIMARY KEY,
        slug        varchar(32)   NOT NULL UNIQUE,
        name        varchar(64)   NOT NULL,
        description varchar(2048) NOT NULL,
        tags        jsonb         NOT NULL DEFAULT '[]',
        policy      jsonb         NOT NULL,
        created_at  timestamptz   NOT NULL DEFAULT now(),
        updated_at  timestamptz   NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE access (
        id         serial PRIMARY KEY,
        user_id    integer     NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        policy_id  integer     NOT NULL REFERENCES policy (id) ON DELETE CASCADE,
        key_id     uuid        NOT NULL UNIQUE REFERENCES auth_key (key_id),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (user_id, policy_id)
      )`);
    await q.query(`CREATE INDEX access_policy_idx ON access (policy_id)`);
    await q.query(`CREATE INDEX users_organization_idx ON users (lower(organization) text_pattern_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['access', 'policy', 'connector', 'entity_type', 'users', 'auth_key']) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
