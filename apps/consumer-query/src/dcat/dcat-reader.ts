import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface DcatTypeRow {
  slug: string;
  name: string;
  description: string;
  tags: string[];
  dataset_metadata: unknown;
  created_at: Date;
  updated_at: Date;
}

/** Entity types with at least one record of a live connector: what the feed lists as datasets. */
const LISTED = `EXISTS (SELECT 1 FROM record r JOIN connector c ON c.id = r.connector_id WHERE r.entity_type_id = t.id AND c.is_live)`;
const COLUMNS = `t.slug, t.name, t.description, t.tags, t.dataset_metadata, t.created_at, t.updated_at`;

/**
 * What the DCAT feed reads: entity types that consumers can see data of
 * (at least one record of a live connector), by slug. Metadata only: no
 * record leaves through the feed, so no policy applies to it.
 */
@Injectable()
export class DcatReader {
  constructor(private readonly dataSource: DataSource) {}

  async count(): Promise<number> {
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM entity_type t WHERE ${LISTED}`);
    return total;
  }

  page(limit: number, offset: number): Promise<DcatTypeRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM entity_type t WHERE ${LISTED} ORDER BY t.slug LIMIT $1 OFFSET $2`, [limit, offset]);
  }

  async one(slug: string): Promise<DcatTypeRow | undefined> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM entity_type t WHERE t.slug = $1 AND ${LISTED}`, [slug]);
    return row;
  }
}
