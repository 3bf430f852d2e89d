import { Sql, fieldIndexExpressions } from '@odb/query';
import { EntityTypeInfo } from './entity-types';

/**
 * Rewrites that let PostgreSQL use the per-type indexes without changing any
 * result (pure functions, used by `CatalogReader`).
 *
 * 1. A top-level `"type": "<slug>"` (or `{"$eq": "<slug>"}`) becomes
 *    `r.entity_type_id = <id>`. Every record's document carries the slug of
 *    its entity type (contributor-ingest writes it) and slugs never change,
 *    so the two conditions select the same records; the id condition is
 *    what makes the partial indexes `WHERE entity_type_id = <id>` usable.
 * 2. A top-level equality with a string or a number on an indexed property
 *    of that type (`"entity.code": "FR"`) is compiled by the query library to
 *    JSONB containment, served by the GIN index on the whole document, for
 *    which PostgreSQL has no statistics (it guesses): it may then walk the
 *    whole id order, or AND a GIN scan to an index that already says it all.
 *    For such a scalar, containment is plain equality of the value at the
 *    path (containment never looks into arrays below the top level), so it is
 *    replaced by that equality on the indexed expression:
 *    `(document #>> '{entity,code}') = 'FR' AND jsonb_typeof(document #> '{entity,code}') = 'string'`,
 *    or `(document #> '{entity,population}') = '5'::jsonb` (numbers compare
 *    numerically in both, 5 = 5.0). Same records, with statistics and a btree.
 */
export function takeType(query: Record<string, unknown>): { type?: string; rest: Record<string, unknown> } {
  if (!Object.prototype.hasOwnProperty.call(query, 'type')) return { rest: query };
  const value = query.type;
  const slug = typeof value === 'string' ? value : isEq(value) && typeof value.$eq === 'string' ? value.$eq : undefined;
  if (slug === undefined) return { rest: query };
  const rest = { ...query };
  delete rest.type;
  return { type: slug, rest };
}

/** Takes the top-level scalar equalities on indexed properties out of a query, as SQL on the indexed expressions. */
export function takeEqualities(query: Record<string, unknown>, type: EntityTypeInfo, column = 'r.document'): { conditions: Sql[]; rest: Record<string, unknown> } {
  const conditions: Sql[] = [];
  const rest: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(query)) {
    const property = key.startsWith('entity.') ? type.indexed.get(key.slice('entity.'.length)) : undefined;
    const value = isEq(raw) ? raw.$eq : raw;
    const expressions = property ? fieldIndexExpressions(column, property.path) : undefined;
    if (property && expressions && typeof value === 'string' && property.kinds.includes('text')) {
      conditions.push(Sql.of`(${Sql.text(expressions.text)} = ${Sql.param(value, 'text')} AND jsonb_typeof(${Sql.text(expressions.json)}) = 'string')`);
    } else if (property && expressions && typeof value === 'number' && Number.isFinite(value) && property.kinds.includes('json')) {
      conditions.push(Sql.of`${Sql.text(expressions.json)} = ${Sql.param(JSON.stringify(value), 'jsonb')}`);
    } else {
      rest[key] = raw;
    }
  }
  return { conditions, rest };
}

/** What a segment allows, when it is simple enough to say: everything, or every record of one type. */
export function segmentScope(segment: Record<string, unknown>): { all: true } | { type: string } | null {
  const keys = Object.keys(segment);
  if (keys.length === 0) return { all: true };
  const { type, rest } = takeType(segment);
  return type !== undefined && Object.keys(rest).length === 0 ? { type } : null;
}

function isEq(value: unknown): value is { $eq: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && '$eq' in value;
}
