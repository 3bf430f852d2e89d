import { createHash } from 'crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CompiledQuery, Sql, and, compileQuery } from '@odb/query';
import { SERVICE_CONFIG } from '@odb/platform';
import { ConsumerQueryConfig } from '../config';
import { CatalogDatabase } from './catalog-database';
import { EntityTypeDirectory, EntityTypeInfo } from './entity-types';
import { segmentScope, takeEqualities, takeType } from './query-shape';

/** What an instance brief needs (lists and catalog answers): no document, so little to read, send and parse. */
export interface BriefRow {
  /** record.id (bigint as text): the insertion order. */
  id: string;
  public_id: string;
  name: string;
  type: string;
}

/** A whole record (full instances, CSV exports). */
export interface RecordRow extends BriefRow {
  vendor_id: string;
  document: { id: string; name: string; type: string; entity: Record<string, unknown>; instance?: Record<string, unknown>; timeseries?: Record<string, Record<string, unknown>> };
  webhook: string | null;
}

export type View = 'brief' | 'full';

interface Statement {
  text: string;
  params: unknown[];
  /**
   * Run as a named (prepared) statement: parsed and planned once per
   * connection. Only for texts whose plan does not depend on the values
   * (no partial per-type index to prove from a parameter).
   */
  prepared?: boolean;
}

/** The name of a prepared statement: the same text always gets the same name. */
function statementName(text: string): string {
  return `cq_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
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
  /** Keyset continuation (CSV exports): only records inserted after this `record.id`; `offset` must then be 0. */
  after?: string;
}

/** `record_bucket` counts records per block of 2^10 ids (level 0) and of 2^16 ids (level 1); see its migration. */
const BLOCK_BITS = 10;
const SUPER_BLOCK_BITS = 16;

/**
 * Most entity types a catalog query that names none is split into (one branch
 * each, see `perTypeStatement`); with more, it runs as one query.
 */
const MAX_TYPE_BRANCHES = 32;
/** Each branch reads up to `offset + limit` matches: past this window (deep pages, CSV offsets) the split is not worth it. */
const MAX_SPLIT_WINDOW = 10_000;

const COLUMNS: Record<View, string> = {
  brief: `r.id, r.public_id, r.name`,
  full: `r.id, r.public_id, r.name, r.vendor_id, r.document, (SELECT webhook FROM connector WHERE id = r.connector_id) AS webhook`,
};

/**
 * Every read of the catalog. The policy segment is ANDed to whatever else is
 * asked, never ORed, and every value is a bound parameter (the query compiler
 * never puts user text into SQL). Visible means: matching the segment, and of
 * a live connector or of a staged one named in `x-bbk-connectors`.
 *
 * Records come in insertion order (`record.id`), paged by `limit`/`offset`
 * exactly as BitBroker did; deep offsets of a type's list use the per-block
 * counts of `record_bucket` instead of skipping rows one by one.
 */
@Injectable()
export class CatalogReader {
  private readonly findStatements = new Map<string, { text: string; name: string; params: unknown[] }>();

  constructor(
    private readonly db: CatalogDatabase,
    private readonly types: EntityTypeDirectory,
    @Inject(SERVICE_CONFIG) private readonly config: ConsumerQueryConfig,
  ) {}

  /** Entity types with at least one visible record, by slug. */
  async typesVisible(visibility: Visibility, page: Page): Promise<TypeRow[]> {
    const where = this.segment(visibility.segment).withFirstParam(4);
    return this.db.queryPage<TypeRow>(
      `SELECT t.slug, t.name, t.description FROM entity_type t
        WHERE EXISTS (SELECT 1 FROM record r JOIN connector c ON c.id = r.connector_id
                       WHERE r.entity_type_id = t.id AND (c.is_live OR c.contribution_id = ANY($1::text[])) AND ${where.sql})
        ORDER BY t.slug LIMIT $2 OFFSET $3`,
      [visibility.stagedConnectors, page.limit, page.offset, ...where.params],
    );
  }

  /** Visible records of one type, in insertion order: briefs. */
  list(visibility: Visibility, type: string, page: Page): Promise<BriefRow[]> {
    return this.rows(this.listStatement(visibility, type, page, 'brief'));
  }

  /** The same as whole records. */
  listRecords(visibility: Visibility, type: string, page: Page): Promise<RecordRow[]> {
    return this.rows(this.listStatement(visibility, type, page, 'full')) as Promise<RecordRow[]>;
  }

  private listStatement(visibility: Visibility, type: string, page: Page, view: View): Statement {
    const scope = segmentScope(visibility.segment);
    const wholeType = scope !== null && ('all' in scope || scope.type === type);
    if (wholeType && page.after === undefined && page.offset >= this.config.DEEP_PAGING_FROM && page.offset > 0) {
      return this.deepPageStatement(visibility, type, page, view);
    }
    const where = and(
      compiled(Sql.of`r.entity_type_id = (SELECT id FROM entity_type WHERE slug = ${Sql.param(type, 'text')})`),
      visibleConnector(visibility),
      wholeType ? compiled(Sql.TRUE) : this.segment(visibility.segment),
      after(page),
    );
    const { sql, params } = recordPage(view, Sql.param(type, 'text'), where.fragment, page).render();
    return { text: sql, params };
  }

  /**
   * Visible records matching a catalog query, in insertion order. An empty
   * query matches nothing (BitBroker's convention). A query (or segment) that
   * names one entity type is run as a query on that type, so that the type's
   * partial indexes apply (see `query-shape.ts`); one that names none but
   * asks about an indexed property is run as one such query per type.
   */
  query(visibility: Visibility, query: Record<string, unknown>, page: Page): Promise<BriefRow[]> {
    return this.queryOf(visibility, query, page, 'brief', (statement) => this.rows(statement), (rows) => rows.length === 0);
  }

  /** The same as whole records. */
  queryRecords(visibility: Visibility, query: Record<string, unknown>, page: Page): Promise<RecordRow[]> {
    return this.queryOf(visibility, query, page, 'full', (statement) => this.rows(statement) as Promise<RecordRow[]>, (rows) => rows.length === 0);
  }

  private async queryOf<T>(
    visibility: Visibility,
    query: Record<string, unknown>,
    page: Page,
    view: View,
    run: (statement: Statement | null) => Promise<T>,
    isEmpty: (result: T) => boolean,
  ): Promise<T> {
    if (Object.keys(query).length === 0) return run(null);
    const asked = takeType(query);
    const allowed = takeType(visibility.segment);
    if (asked.type !== undefined && allowed.type !== undefined && asked.type !== allowed.type) return run(null);
    const slug = asked.type ?? allowed.type;
    if (slug === undefined) {
      const perType = await this.perTypeStatement(visibility, query, page, view);
      return run(perType !== undefined ? perType : this.queryStatement(visibility, null, query, visibility.segment, page, view));
    }

    let type = await this.types.bySlug(slug);
    let fresh = false;
    if (!type) {
      type = await this.types.bySlug(slug, { fresh: true });
      fresh = true;
    }
    // No such type: no record has it (records go with their type).
    if (!type) return run(null);
    let result = await run(this.queryStatement(visibility, type, asked.rest, allowed.rest, page, view));
    if (isEmpty(result) && !fresh) {
      // A cached id names a type that no longer exists only when the type was deleted (ids are never reused): look again.
      const current = await this.types.bySlug(slug, { fresh: true });
      if (!current) return run(null);
      if (current.id !== type.id) result = await run(this.queryStatement(visibility, current, asked.rest, allowed.rest, page, view));
    }
    return result;
  }

  /** One visible record of a type, by public id (a prepared statement: this is the hottest read). */
  async find(visibility: Visibility, type: string, publicId: string): Promise<RecordRow | null> {
    const scope = segmentScope(visibility.segment);
    const wholeType = scope !== null && ('all' in scope || scope.type === type);
    const statement = this.findStatement(wholeType ? {} : visibility.segment);
    const rows = await this.db.query<RecordRow>(statement.text, [publicId, type, visibility.stagedConnectors, ...statement.params], statement.name);
    return rows[0] ? { ...rows[0], type } : null;
  }

  /** The find statement of a segment, built once per segment (policies are few and change rarely). */
  private findStatement(segment: Record<string, unknown>): { text: string; name: string; params: unknown[] } {
    const key = JSON.stringify(segment);
    let statement = this.findStatements.get(key);
    if (!statement) {
      const where = this.segment(segment).withFirstParam(4);
      const text = `SELECT r.id, r.public_id, r.name, r.vendor_id, r.document, c.webhook FROM record r
         JOIN connector c ON c.id = r.connector_id
        WHERE r.public_id = $1 AND r.entity_type_id = (SELECT id FROM entity_type WHERE slug = $2::text)
          AND (c.is_live OR c.contribution_id = ANY($3::text[])) AND ${where.sql}`;
      statement = { text, name: statementName(text), params: where.params };
      if (this.findStatements.size >= 1000) this.findStatements.clear();
      this.findStatements.set(key, statement);
    }
    return statement;
  }

  private queryStatement(
    visibility: Visibility,
    type: EntityTypeInfo | null,
    query: Record<string, unknown>,
    segment: Record<string, unknown>,
    page: Page,
    view: View,
  ): Statement | null {
    const where = this.queryConditions(visibility, type, query, this.segment(segment), page);
    if (!where) return null;
    const { sql, params } = recordPage(view, type ? Sql.param(type.slug, 'text') : TYPE_OF_RECORD, where.fragment, page).render();
    return { text: sql, params };
  }

  /** What a record must meet to be in a catalog answer, on one type or on all; null when nothing can. */
  private queryConditions(
    visibility: Visibility,
    type: EntityTypeInfo | null,
    query: Record<string, unknown>,
    segment: CompiledQuery,
    page: Page,
  ): CompiledQuery | null {
    const parts: CompiledQuery[] = [visibleConnector(visibility)];
    let rest = query;
    if (type) {
      parts.push(compiled(Sql.of`r.entity_type_id = ${Sql.param(type.id)}`));
      const equalities = takeEqualities(query, type);
      parts.push(...equalities.conditions.map(compiled));
      rest = equalities.rest;
    }
    parts.push(segment);
    // With the type (and equalities) taken out, what is left of `q` may be {}: every record of the type.
    const asked = compileQuery(rest, { column: 'r.document', whenEmpty: type ? 'all' : 'none' });
    if (asked.matchesNothing) return null;
    parts.push(asked, after(page));
    const where = and(...parts);
    return where.matchesNothing ? null : where;
  }

  /**
   * A catalog query that names no type, as the union of the same query on
   * each type, so that each branch can use its type's partial indexes (one
   * query over every record can use none of them, and walks the whole id
   * order). Each branch yields its first `offset + limit` matches in id
   * order; the union is ordered and paged again. Records of types created
   * after the type list was read have larger type ids, and a last branch
   * finds them. `undefined` when splitting cannot help: no top-level
   * condition on a property some type indexes, no types or too many, or a
   * page too deep.
   */
  private async perTypeStatement(
    visibility: Visibility,
    query: Record<string, unknown>,
    page: Page,
    view: View,
  ): Promise<Statement | null | undefined> {
    if (!this.config.TYPE_INDEXES || page.offset + page.limit > MAX_SPLIT_WINDOW) return undefined;
    const asked = Object.keys(query).filter((key) => key.startsWith('entity.')).map((key) => key.slice('entity.'.length));
    if (asked.length === 0) return undefined;
    const types = await this.types.all();
    if (types.length === 0 || types.length > MAX_TYPE_BRANCHES) return undefined;
    if (!types.some((type) => asked.some((property) => type.indexed.has(property)))) return undefined;

    const window: Page = { limit: page.offset + page.limit, offset: 0, after: page.after };
    const segment = this.segment(visibility.segment);
    const branches: Sql[] = [];
    for (const type of types) {
      const where = this.queryConditions(visibility, type, query, segment, window);
      if (where) branches.push(Sql.of`(${recordPage(view, Sql.param(type.slug, 'text'), where.fragment, window)})`);
    }
    const newer = this.queryConditions(visibility, null, query, segment, window);
    if (newer) {
      const maxId = types[types.length - 1].id;
      branches.push(Sql.of`(${recordPage(view, TYPE_OF_RECORD, Sql.of`r.entity_type_id > ${Sql.param(maxId)} AND ${newer.fragment}`, window)})`);
    }
    if (branches.length === 0) return null;
    const { sql, params } = Sql.of`SELECT * FROM (${Sql.join(branches, ' UNION ALL ')}) matched
      ORDER BY matched.id LIMIT ${Sql.param(page.limit)} OFFSET ${Sql.param(page.offset)}`.render();
    return { text: sql, params };
  }

  /**
   * `OFFSET n` without walking n rows: sums the visible connectors' record
   * counts per block of 2^16 ids up to the block holding the n-th record,
   * then per block of 2^10 ids inside it, then skips only inside that small
   * block (about n / 65,536 + 64 count rows and at most 1,023 records read).
   * One statement, so the counts and the records come from the same snapshot.
   * Only for segments that let the whole type through (the counts know
   * nothing of documents).
   */
  private deepPageStatement(visibility: Visibility, type: string, page: Page, view: View): Statement {
    const ratio = SUPER_BLOCK_BITS - BLOCK_BITS;
    return {
      text: `WITH ty AS (SELECT id FROM entity_type WHERE slug = $1),
       visible AS MATERIALIZED (
         SELECT c.id FROM connector c
          WHERE c.entity_type_id = (SELECT id FROM ty) AND (c.is_live OR c.contribution_id = ANY($2::text[]))
       ), supers AS (
         SELECT b.bucket, sum(b.n) AS n FROM record_bucket b
          WHERE b.entity_type_id = (SELECT id FROM ty) AND b.level = 1 AND b.connector_id IN (SELECT id FROM visible)
          GROUP BY b.bucket
       ), super AS MATERIALIZED (
         SELECT bucket, before FROM (SELECT bucket, n, sum(n) OVER (ORDER BY bucket) - n AS before FROM supers) s
          WHERE n > 0 AND before <= $3::bigint ORDER BY bucket DESC LIMIT 1
       ), blocks AS (
         SELECT b.bucket, sum(b.n) AS n FROM record_bucket b
          WHERE b.entity_type_id = (SELECT id FROM ty) AND b.level = 0 AND b.connector_id IN (SELECT id FROM visible)
            AND b.bucket >= (SELECT bucket << ${ratio} FROM super) AND b.bucket < ((SELECT bucket FROM super) + 1) << ${ratio}
          GROUP BY b.bucket
       ), start AS MATERIALIZED (
         SELECT bucket, before FROM (SELECT bucket, n, (SELECT before FROM super) + sum(n) OVER (ORDER BY bucket) - n AS before FROM blocks) s
          WHERE n > 0 AND before <= $3::bigint ORDER BY bucket DESC LIMIT 1
       )
       SELECT ${COLUMNS[view]}, $1::text AS type
         FROM record r
        WHERE r.entity_type_id = (SELECT id FROM ty) AND r.connector_id = ANY(ARRAY(SELECT id FROM visible))
          AND r.id >= (SELECT bucket << ${BLOCK_BITS} FROM start)
        ORDER BY r.id
       OFFSET (SELECT ($3::bigint - before)::bigint FROM start) LIMIT $4`,
      params: [type, visibility.stagedConnectors, page.offset, page.limit],
      // Planning this text took longer than running it (2.3 against 1.5 ms on a million records).
      prepared: true,
    };
  }

  private rows(statement: Statement | null): Promise<BriefRow[]> {
    return statement ? this.db.queryPage<BriefRow>(statement.text, statement.params, statement.prepared ? statementName(statement.text) : undefined) : Promise.resolve([]);
  }

  private segment(segment: Record<string, unknown>): CompiledQuery {
    return compileQuery(segment, { column: 'r.document', whenEmpty: 'all' });
  }
}

/** The slug of a record's type, when the statement does not know it. */
const TYPE_OF_RECORD = Sql.text('(SELECT slug FROM entity_type WHERE id = r.entity_type_id)');

/** A page of records meeting `where`, with their type's slug, in insertion order. */
function recordPage(view: View, type: Sql, where: Sql, page: Page): Sql {
  return Sql.of`SELECT ${Sql.text(COLUMNS[view])}, ${type} AS type FROM record r
        WHERE ${where}
        ORDER BY r.id LIMIT ${Sql.param(page.limit)} OFFSET ${Sql.param(page.offset)}`;
}

function compiled(sql: Sql): CompiledQuery {
  return new CompiledQuery(sql, false);
}

/** The record's connector is live or named in x-bbk-connectors (the connector ids are found once per statement). */
function visibleConnector(visibility: Visibility): CompiledQuery {
  return compiled(
    Sql.of`r.connector_id = ANY(ARRAY(SELECT id FROM connector WHERE is_live OR contribution_id = ANY(${Sql.param(visibility.stagedConnectors, 'text[]')})))`,
  );
}

function after(page: Page): CompiledQuery {
  return page.after === undefined ? compiled(Sql.TRUE) : compiled(Sql.of`r.id > ${Sql.param(page.after)}::bigint`);
}
