import { unparsable } from './errors';
import { Sql } from './sql';

/**
 * Path segments that may be written into SQL text as part of a literal text array.
 * Such a segment holds no quote, backslash, brace, comma, whitespace or `$`, so
 * inside `'{"a","b"}'` it can neither end the string literal nor the array element
 * (see README, "Safety").
 */
export const LITERAL_SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/** A column reference given by the calling code (never by users): `document` or `r.document`. */
const COLUMN = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

export const MAX_PATH_SEGMENTS = 32;

export function checkColumn(column: string): string {
  if (typeof column !== 'string' || !COLUMN.test(column)) {
    throw new Error(`@odb/query: column must be a lower-case identifier such as "document" or "r.document", got ${JSON.stringify(column)}`);
  }
  return column;
}

/** Splits a dotted query key (`entity.population`) into segments, rejecting empty and `$` segments. */
export function splitPath(key: string): string[] {
  const segments = key.split('.');
  if (segments.length > MAX_PATH_SEGMENTS) throw unparsable(`path "${key}" has more than ${MAX_PATH_SEGMENTS} segments`);
  for (const segment of segments) {
    if (segment === '') throw unparsable(`path "${key}" has an empty segment`);
    if (segment.startsWith('$')) throw unparsable(`path "${key}" has an operator inside it`);
  }
  return segments;
}

/** Whether every segment may be inlined (index-matchable literal path). */
export function isLiteralPath(segments: readonly string[]): boolean {
  return segments.every((segment) => LITERAL_SEGMENT.test(segment));
}

/** `'{"entity","population"}'::text[]`; only for paths that passed `isLiteralPath`. */
function literalPath(segments: readonly string[]): string {
  if (!isLiteralPath(segments)) throw new Error('@odb/query: internal error, path is not literal-safe');
  return `'{${segments.map((segment) => `"${segment}"`).join(',')}}'::text[]`;
}

/** The path as SQL: an inlined literal when every segment is whitelisted, otherwise a bound text[] parameter. */
function pathSql(segments: readonly string[]): Sql {
  return isLiteralPath(segments) ? Sql.text(literalPath(segments)) : Sql.param([...segments], 'text[]');
}

/** `(document #> path)`: the JSON value at the path, or NULL. */
export function jsonAt(column: string, segments: readonly string[]): Sql {
  return Sql.of`(${Sql.text(column)} #> ${pathSql(segments)})`;
}

/** `(document #>> path)`: the value at the path as text (strings unquoted), or NULL (also for JSON null). */
export function textAt(column: string, segments: readonly string[]): Sql {
  return Sql.of`(${Sql.text(column)} #>> ${pathSql(segments)})`;
}

/** A JSON object with `value` nested at `segments`, for containment (`document @> …`). */
export function nestAt(segments: readonly string[], value: unknown): unknown {
  let nested = value;
  for (let i = segments.length - 1; i >= 0; i--) {
    // A prototype-less object, so that a key such as "__proto__" is an ordinary key.
    const level = Object.create(null) as Record<string, unknown>;
    level[segments[i]] = nested;
    nested = level;
  }
  return nested;
}

/** Whether a segment addresses an array element (`languages.0`); containment cannot express that. */
export function hasIndexSegment(segments: readonly string[]): boolean {
  return segments.some((segment) => /^\d+$/.test(segment));
}
