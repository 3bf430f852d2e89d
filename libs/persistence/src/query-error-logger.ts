import { Logger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

const MAX_QUERY_LENGTH = 500;

/**
 * TypeORM's report of a failed query, through the service's JSON logger: the
 * SQL (shortened) and PostgreSQL's error code and message, never the
 * parameters, which hold records, e-mail addresses, key hashes and encrypted
 * API keys (TypeORM's console logger prints them, as plain text). A warning:
 * the error still reaches the caller, which knows whether it is one (a
 * refused batch is the client's; the exception filter logs real 500s).
 */
export class QueryErrorLogger implements TypeOrmLogger {
  private readonly logger = new Logger('Database');

  logQueryError(error: string | Error, query: string): void {
    const { code, message } = typeof error === 'string' ? { code: undefined, message: error } : (error as Error & { code?: string });
    const sql = query.replace(/\s+/g, ' ').trim();
    this.logger.warn({ code, error: message, query: sql.length > MAX_QUERY_LENGTH ? `${sql.slice(0, MAX_QUERY_LENGTH)}…` : sql }, 'query failed');
  }

  logQuery(): void {}

  logQuerySlow(): void {}

  logSchemaBuild(): void {}

  logMigration(): void {}

  log(): void {}
}
