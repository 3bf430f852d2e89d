/**
 * `npm run migrate`: creates the database if needed and applies pending
 * migrations (idempotent). Reads DATABASE_URL like the services do.
 */
import { loadConfig, ServiceConfig } from '@odb/platform';
import { redactUrl, runMigrations } from '@odb/persistence';

async function main(): Promise<void> {
  const config = loadConfig(ServiceConfig);
  const applied = await runMigrations({ url: config.DATABASE_URL, applicationName: 'odb-migrate' });
  process.stdout.write(
    applied.length > 0
      ? `applied ${applied.length} migration(s) to ${redactUrl(config.DATABASE_URL)}: ${applied.join(', ')}\n`
      : `${redactUrl(config.DATABASE_URL)} is up to date\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`migration failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
