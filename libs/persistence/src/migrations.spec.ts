import { Client } from 'pg';
import { randomBytes } from 'crypto';
import { currentInfrastructure, describeWithInfrastructure } from '@odb/testing';
import { MIGRATIONS } from './registry';
import { quoteIdentifier, runMigrations } from './data-source';

describeWithInfrastructure('migrations', () => {
  const infrastructure = currentInfrastructure();
  const serverUrl = 'missing' in infrastructure ? '' : infrastructure.databaseUrl;
  const database = `odb_migrations_${randomBytes(4).toString('hex')}`;
  const url = (() => {
    if (!serverUrl) return '';
    const parsed = new URL(serverUrl);
    parsed.pathname = `/${database}`;
    return parsed.toString();
  })();

  async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  afterAll(async () => {
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)} WITH (FORCE)`);
    await admin.end();
  });

  it('creates the database and applies every migration to it when it does not exist', async () => {
    const applied = await runMigrations({ url });
    expect(applied).toEqual(MIGRATIONS.map((migration) => new migration().name));
    const tables = await query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    expect(tables.map((table) => table.table_name)).toEqual(expect.arrayContaining(['outbox_event', 'processed_event']));
    const [postgis] = await query<{ version: string }>(`SELECT extversion AS version FROM pg_extension WHERE extname = 'postgis'`);
    expect(postgis?.version).toBeTruthy();
  });

  it('compresses outbox payloads with lz4 where the server has it', async () => {
    const [{ lz4 }] = await query<{ lz4: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_config WHERE name = 'CONFIGURE' AND setting LIKE '%--with-lz4%') AS lz4`);
    const [{ method }] = await query<{ method: string }>(
      `SELECT attcompression AS method FROM pg_attribute WHERE attrelid = 'outbox_event'::regclass AND attname = 'payload'`,
    );
    expect(method).toBe(lz4 ? 'l' : '');
  });

  it('is idempotent: running again applies nothing and changes nothing', async () => {
    const before = await query<{ name: string }>('SELECT name FROM schema_migration ORDER BY id');
    expect(await runMigrations({ url })).toEqual([]);
    expect(await query('SELECT name FROM schema_migration ORDER BY id')).toEqual(before);
  });

  it('lets replicas migrate concurrently without failing', async () => {
    const results = await Promise.all([runMigrations({ url }), runMigrations({ url }), runMigrations({ url })]);
    expect(results).toEqual([[], [], []]);
  });
});
