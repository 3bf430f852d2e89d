import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CompiledQuery, and, compileQuery } from '@odb/query';

export interface RecordRow {
  id: string;
  public_id: string;
  vendor_id: string;
  name: string;
  document: { id: string; name: string; type: string; entity: Record<string, unknown>; instance?: Record<string, unknown>; timeseries?: Record<string, Record<string, unknown>> };
  type: string;
  webhook: string | null;
}

export interface TypeRow {
  slug: string;
  name: string;
  description: string;
}

/** What a consumer may see: the policy's segment, and live connectors plus the staged ones it asked for. */
export interface Visibility {
  segment: Record<string, unknown>;
  /** Contribution ids from `x-bbk-connectors` (at most 16). */
  stagedConnectors: string[];
}

export interface Page {
  limit: number;
  offset: number;
}

const RECORD_COLUMNS = `r.id, r.public_id, r.vendor_id, r.name, r.document, t.slug AS type, c.webhook`;

/**
 * Every read of the catalog goes through `visible()`: the policy segment is
 * ANDed to whatever else is asked, never ORed, and every value is a bound
 * parameter (the query compiler never puts user text into SQL).
 */
@Injectable()
export class CatalogReader {
  constructor(private readonly dataSource: DataSource) {}

  /** Entity types with at least one visible record, by slug. */
  async types(visibility: Visibility, page: Page): Promise<TypeRow[]> {
    const where = this.visible(visibility, 4);
    return this.dataSource.query(
      `SELECT t.slug, t.name, t.description FROM entity_type t
        WHERE EXISTS (SELECT 1 FROM record r JOIN connector c ON c.id = r.connector_id
                       WHERE r.entity_type_id = t.id AND (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${where.sql})
        ORDER BY t.slug LIMIT $2 OFFSET $3`,
      [visibility.stagedConnectors, page.limit, page.offset, ...where.params],
    );
  }

  /** Visible records of one type, in insertion order. */
  async list(visibility: Visibility, type: string, page: Page): Promise<RecordRow[]> {
    const where = this.visible(visibility, 5);
    return this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM record r
         JOIN entity_type t ON t.id = r.entity_type_id
         JOIN connector c ON c.id = r.connector_id
        WHERE t.slug = $4 AND (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${where.sql}
        ORDER BY r.id LIMIT $2 OFFSET $3`,
      [visibility.stagedConnectors, page.limit, page.offset, type, ...where.params],
    );
  }

  /** Visible records matching a catalog query, in insertion order. An empty query matches nothing. */
  async query(visibility: Visibility, query: Record<string, unknown>, page: Page): Promise<RecordRow[]> {
    const asked = compileQuery(query, { column: 'r.document', whenEmpty: 'none' });
    if (asked.matchesNothing) return [];
    const where = and(this.segment(visibility), asked).withFirstParam(4);
    return this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM record r
         JOIN entity_type t ON t.id = r.entity_type_id
         JOIN connector c ON c.id = r.connector_id
        WHERE (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${where.sql}
        ORDER BY r.id LIMIT $2 OFFSET $3`,
      [visibility.stagedConnectors, page.limit, page.offset, ...where.params],
    );
  }

  /** One visible record of a type, by public id. */
  async find(visibility: Visibility, type: string, publicId: string): Promise<RecordRow | null> {
    const where = this.visible(visibility, 4);
    const rows: RecordRow[] = await this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM record r
         JOIN entity_type t ON t.id = r.entity_type_id
         JOIN connector c ON c.id = r.connector_id
        WHERE r.public_id = $2 AND t.slug = $3 AND (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${where.sql}`,
      [visibility.stagedConnectors, publicId, type, ...where.params],
    );
    return rows[0] ?? null;
  }

  private segment(visibility: Visibility): CompiledQuery {
    return compileQuery(visibility.segment, { column: 'r.document', whenEmpty: 'all' });
  }

  private visible(visibility: Visibility, firstParam: number): CompiledQuery {
    return this.segment(visibility).withFirstParam(firstParam);
  }
}
