import { QueryError, QueryErrorReason, unparsable } from './errors';
import { geometryText, nearBox, pointGeometry } from './geo';
import { checkColumn, hasIndexSegment, jsonAt, nestAt, splitPath, textAt } from './paths';
import { parseRegexOptions, toPostgresRegex } from './regex';
import { Sql, sqlAnd, sqlNot as not, sqlOr as or } from './sql';

/** The `$` keys BitBroker accepts; any other `$` key is "Query contains unrecognised operations". */
export const OPERATORS = [
  '$and', '$contains', '$eq', '$geometry', '$gt', '$gte', '$in', '$lt', '$lte', '$max', '$min',
  '$ne', '$near', '$nin', '$nor', '$not', '$options', '$or', '$regex', '$within',
] as const;
const OPERATOR_SET: ReadonlySet<string> = new Set(OPERATORS);

export interface QueryLimits {
  /** Longest query text `parseQuery` takes (characters). */
  maxLength: number;
  /** Deepest nesting of objects and arrays (the query object itself is depth 1). */
  maxDepth: number;
  /** Most JSON values (objects, arrays, scalars) in one query. */
  maxNodes: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxLength: 64 * 1024, maxDepth: 32, maxNodes: 10_000 };

/** A catalog query that passed validation: a JSON object in BitBroker's Mongo-like syntax. */
export type CatalogQuery = { readonly [key: string]: unknown };

export interface CompileOptions {
  /** The jsonb column (or `alias.column`) holding the record document `{id, name, type, entity, instance, timeseries}`. */
  column: string;
  /** Number of the first placeholder (`$1` by default), for fragments placed after other parameters. */
  firstParam?: number;
  /**
   * What the empty query `{}` selects. `all` (default) is right for policy segments
   * (`access-all-areas` has `{}`); `none` is BitBroker's convention for the catalog
   * `q`, where a missing or empty query returns `[]`.
   */
  whenEmpty?: 'all' | 'none';
  limits?: Partial<QueryLimits>;
}

/** A compiled WHERE fragment. `sql` uses `$firstParam…`; `params` are in placeholder order. */
export class CompiledQuery {
  readonly sql: string;
  readonly params: unknown[];

  constructor(
    /** The fragment before numbering, for combining (see `and`). */
    readonly fragment: Sql,
    /** Whether the query was `{}`. */
    readonly empty: boolean,
    readonly firstParam = 1,
  ) {
    if (!Number.isInteger(firstParam) || firstParam < 1) throw new Error(`@odb/query: firstParam must be a positive integer, got ${firstParam}`);
    const rendered = fragment.render(firstParam);
    this.sql = rendered.sql;
    this.params = rendered.params;
  }

  /** True when the fragment is the constant FALSE, so a caller may skip the database. */
  get matchesNothing(): boolean {
    return this.fragment.isFalse;
  }

  /** The same fragment numbered from another first placeholder. */
  withFirstParam(firstParam: number): CompiledQuery {
    return new CompiledQuery(this.fragment, this.empty, firstParam);
  }
}

function limitsOf(limits?: Partial<QueryLimits>): QueryLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings PostgreSQL cannot take as text or jsonb: NUL, and unpaired surrogates (`"\ud800"`). */
function checkString(value: string, what: string): void {
  if (value.includes('\u0000')) throw unparsable(`${what} contains a NUL character`);
  if (LONE_SURROGATE.test(value)) throw unparsable(`${what} contains an unpaired surrogate`);
}

/**
 * Walks the whole value without recursion: size and depth limits, JSON-only types,
 * text PostgreSQL accepts, finite numbers; then `$` keys outside the allowed list
 * (BitBroker checks those before anything else, so they win over other problems).
 */
function inspect(query: unknown, limits: QueryLimits): void {
  const stack: Array<[unknown, number]> = [[query, 1]];
  let nodes = 0;
  let unrecognised: string | undefined;
  let problem: QueryError | undefined;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++nodes > limits.maxNodes) throw unparsable(`more than ${limits.maxNodes} values`);
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) problem ??= unparsable('numbers must be finite');
      continue;
    }
    if (typeof value === 'string') {
      try {
        checkString(value, 'a string');
      } catch (error) {
        problem ??= error as QueryError;
      }
      continue;
    }
    if (depth > limits.maxDepth) throw unparsable(`nested deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    if (!isPlainObject(value)) {
      problem ??= unparsable('only JSON values are allowed');
      continue;
    }
    for (const key of Object.keys(value)) {
      if (key.startsWith('$') && !OPERATOR_SET.has(key)) unrecognised ??= key;
      try {
        checkString(key, 'a key');
      } catch (error) {
        problem ??= error as QueryError;
      }
      stack.push([value[key], depth + 1]);
    }
  }
  if (unrecognised !== undefined) throw new QueryError(QueryErrorReason.Unrecognised, `unknown operator ${unrecognised}`);
  if (problem) throw problem;
}

/** Whether a literal value (compared as data) hides an operator key, which BitBroker rejected. */
function hasOperatorKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasOperatorKey);
  if (isPlainObject(value)) return Object.keys(value).some((key) => key.startsWith('$') || hasOperatorKey(value[key]));
  return false;
}

function literal(value: unknown, where: string): unknown {
  if (hasOperatorKey(value)) throw unparsable(`${where}: operators are not allowed inside a value`);
  return value;
}

function listOfObjects(value: unknown, op: string): Record<string, unknown>[] {
  if (!Array.isArray(value) || value.length === 0) throw unparsable(`${op} needs a non-empty array`);
  if (!value.every(isPlainObject)) throw unparsable(`${op} entries must be objects`);
  return value as Record<string, unknown>[];
}

function nonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw unparsable(`${what} must be a number of metres >= 0`);
  return value;
}

class Compiler {
  constructor(private readonly column: string) {}

  /** A document-level query: field conditions and `$and`/`$or`/`$nor`/`$not` of document-level queries. */
  query(query: Record<string, unknown>): Sql {
    const terms: Sql[] = [];
    for (const key of Object.keys(query)) {
      const value = query[key];
      switch (key) {
        case '$and':
          terms.push(sqlAnd(listOfObjects(value, key).map((q) => this.query(q))));
          break;
        case '$or':
          terms.push(or(listOfObjects(value, key).map((q) => this.query(q))));
          break;
        case '$nor':
          terms.push(sqlAnd(listOfObjects(value, key).map((q) => not(this.query(q)))));
          break;
        case '$not':
          if (!isPlainObject(value)) throw unparsable('$not needs an object');
          terms.push(not(this.query(value)));
          break;
        default:
          if (key.startsWith('$')) throw unparsable(`${key} needs a field`);
          terms.push(this.field(splitPath(key), value));
      }
    }
    return sqlAnd(terms);
  }

  /** The condition `value` on the field at `path`: a value to match, or an object of operators. */
  private field(path: string[], value: unknown): Sql {
    if (value === null) return Sql.of`${textAt(this.column, path)} IS NULL`; // missing or JSON null
    if (!isPlainObject(value)) return this.equals(path, value);
    const keys = Object.keys(value);
    if (keys.length === 0) return Sql.TRUE; // as BitBroker: {"field": {}} restricts nothing
    const operators = keys.filter((key) => key.startsWith('$'));
    if (operators.length === 0) {
      // An embedded document without operators: exact equality, as Mongo and BitBroker.
      return Sql.of`${jsonAt(this.column, path)} = ${Sql.param(json(literal(value, path.join('.'))), 'jsonb')}`;
    }
    if (operators.length !== keys.length) throw unparsable(`${path.join('.')}: operators and fields are mixed`);
    if ('$options' in value && !('$regex' in value)) throw unparsable('$options needs $regex');
    return sqlAnd(operators.filter((op) => op !== '$options').map((op) => this.operator(path, op, value[op], value)));
  }

  private operator(path: string[], op: string, value: unknown, parent: Record<string, unknown>): Sql {
    const where = `${path.join('.')} ${op}`;
    switch (op) {
      case '$eq':
        return this.equals(path, value);
      case '$ne':
        return this.notEquals(path, value);
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        return this.compare(path, op, literal(value, where));
      case '$in':
      case '$nin': {
        if (!Array.isArray(value)) throw unparsable(`${where} needs an array`);
        const anyOf = this.anyOf(path, value.map((item) => literal(item, where)));
        return op === '$in' ? anyOf : anyOf.isFalse ? Sql.TRUE : not(anyOf);
      }
      case '$contains':
        // BitBroker turned $contains into $elemMatch, which its library treated as the
        // plain value: an array is matched by containment, i.e. as a subset.
        return this.field(path, value);
      case '$regex': {
        const options = parseRegexOptions(parent.$options);
        const pattern = toPostgresRegex(value, options);
        return Sql.of`${textAt(this.column, path)} ${Sql.text(options.caseInsensitive ? '~*' : '~')} ${Sql.param(pattern, 'text')}`;
      }
      case '$not':
        return not(this.field(path, value));
      case '$and':
        return sqlAnd(listOfObjects(value, op).map((item) => this.field(path, item)));
      case '$or':
        return or(listOfObjects(value, op).map((item) => this.field(path, item)));
      case '$nor':
        return sqlAnd(listOfObjects(value, op).map((item) => not(this.field(path, item))));
      case '$near':
        return this.near(path, value);
      case '$within':
        return this.within(path, value);
      default: // $geometry, $min, $max (only inside $near / $within); $options is taken by $regex
        throw unparsable(`${where} is not allowed here`);
    }
  }

  /** Implicit equality and $eq: JSONB containment (GIN-indexable), as BitBroker. */
  private equals(path: string[], value: unknown): Sql {
    literal(value, path.join('.'));
    if (hasIndexSegment(path)) {
      // `languages.0`: containment cannot address an array element; compare the extracted value.
      return typeof value === 'string'
        ? Sql.of`${textAt(this.column, path)} = ${Sql.param(value, 'text')}`
        : Sql.of`${jsonAt(this.column, path)} = ${Sql.param(json(value), 'jsonb')}`;
    }
    return Sql.of`${Sql.text(this.column)} @> ${Sql.param(json(nestAt(path, value)), 'jsonb')}`;
  }

  /** $ne: the negation of $eq, so records without the field match too (as BitBroker). */
  private notEquals(path: string[], value: unknown): Sql {
    literal(value, path.join('.'));
    if (hasIndexSegment(path)) {
      return typeof value === 'string'
        ? Sql.of`${textAt(this.column, path)} IS DISTINCT FROM ${Sql.param(value, 'text')}`
        : Sql.of`${jsonAt(this.column, path)} IS DISTINCT FROM ${Sql.param(json(value), 'jsonb')}`;
    }
    return not(this.equals(path, value));
  }

  /** Strings compare as text (`#>>`); anything else as jsonb (numbers numerically). */
  private compare(path: string[], op: '$gt' | '$gte' | '$lt' | '$lte', value: unknown): Sql {
    const sqlOp = Sql.text({ $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[op]);
    return typeof value === 'string'
      ? Sql.of`${textAt(this.column, path)} ${sqlOp} ${Sql.param(value, 'text')}`
      : Sql.of`${jsonAt(this.column, path)} ${sqlOp} ${Sql.param(json(value), 'jsonb')}`;
  }

  /**
   * $in: strings compare with the field as text (as BitBroker), other values as jsonb
   * (numbers numerically), `null` matches a missing or null field. Empty list: FALSE.
   */
  private anyOf(path: string[], values: unknown[]): Sql {
    const strings = values.filter((v): v is string => typeof v === 'string');
    const others = values.filter((v) => typeof v !== 'string' && v !== null);
    const terms: Sql[] = [];
    if (strings.length > 0) terms.push(Sql.of`${textAt(this.column, path)} = ANY(${Sql.param(unique(strings), 'text[]')})`);
    if (others.length > 0) terms.push(Sql.of`${jsonAt(this.column, path)} = ANY(${Sql.param(unique(others.map(json)), 'jsonb[]')})`);
    if (values.includes(null)) terms.push(Sql.of`${textAt(this.column, path)} IS NULL`);
    return terms.length === 0 ? Sql.FALSE : or(terms);
  }

  /** $near: spherical distance in metres between the record's Point and the query geometry (as BitBroker). */
  private near(path: string[], value: unknown): Sql {
    const where = `${path.join('.')} $near`;
    if (!isPlainObject(value)) throw unparsable(`${where} needs an object`);
    for (const key of Object.keys(value)) {
      if (key !== '$geometry' && key !== '$min' && key !== '$max') throw unparsable(`${where}: ${key} is not allowed`);
    }
    if (!('$geometry' in value)) throw unparsable(`${where} needs $geometry`);
    const geometry = geometryText(value.$geometry, ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'], where);
    const min = '$min' in value ? nonNegative(value.$min, `${where} $min`) : undefined;
    const max = '$max' in value ? nonNegative(value.$max, `${where} $max`) : undefined;
    if (min === undefined && max === undefined) throw unparsable(`${where} needs $min or $max`);
    const point = pointGeometry(this.column, path);
    const target = () => Sql.of`ST_GeomFromGeoJSON(${Sql.param(geometry, 'text')})::geography`;
    const distance = Sql.of`ST_Distance(${point}::geography, ${target()}, false)`;
    const metres = (n: number) => Sql.param(n, 'float8');
    if (max === undefined) return Sql.of`${distance} > ${metres(min!)}`;
    const exact = min !== undefined ? Sql.of`${distance} BETWEEN ${metres(min)} AND ${metres(max)}` : Sql.of`${distance} < ${metres(max)}`;
    // The candidates: records whose point lies in a lon/lat box around the target that holds
    // every point within $max (a box test the GiST index on the point answers, no distance);
    // then BitBroker's exact comparison, computed for them only. Around a point, the box takes
    // a third fewer candidates than the geocentric box of ST_DWithin's geography index. Lines
    // and polygons get no box: like BitBroker, the exact comparison alone.
    const box = nearBox(geometry, max);
    if (box === null) return exact;
    const [west, south, east, north] = box.map((degrees) => Sql.param(degrees, 'float8'));
    return Sql.of`(${point} && ST_MakeEnvelope(${west}, ${south}, ${east}, ${north}, 4326) AND ${exact})`;
  }

  /** $within: the record's Point lies inside the polygon (planar, as BitBroker). */
  private within(path: string[], value: unknown): Sql {
    const where = `${path.join('.')} $within`;
    if (!isPlainObject(value)) throw unparsable(`${where} needs an object`);
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== '$geometry') throw unparsable(`${where} needs exactly $geometry`);
    const geometry = geometryText(value.$geometry, ['Polygon', 'MultiPolygon'], where);
    return Sql.of`ST_Within(${pointGeometry(this.column, path)}, ST_GeomFromGeoJSON(${Sql.param(geometry, 'text')}))`;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** Validates `query` completely and returns its WHERE fragment (unnumbered). Throws QueryError. */
export function compileFragment(query: unknown, column: string, limits?: Partial<QueryLimits>): { fragment: Sql; empty: boolean } {
  checkColumn(column);
  inspect(query, limitsOf(limits));
  if (!isPlainObject(query)) throw unparsable('a query must be a JSON object');
  return { fragment: new Compiler(column).query(query), empty: Object.keys(query).length === 0 };
}

/**
 * Compiles a catalog query (already parsed JSON) into a parameterised WHERE fragment
 * over the jsonb column `options.column`. Throws QueryError for anything BitBroker
 * would have refused, and for anything PostgreSQL would fail on.
 */
export function compileQuery(query: unknown, options: CompileOptions): CompiledQuery {
  const { fragment, empty } = compileFragment(query, options.column, options.limits);
  const firstParam = options.firstParam ?? 1;
  if (empty && options.whenEmpty === 'none') return new CompiledQuery(Sql.FALSE, true, firstParam);
  return new CompiledQuery(fragment, empty, firstParam);
}

/** Parses `?q=` text: "Query is not valid json" when it is not JSON, then validates it like `compileQuery`. */
export function parseQuery(text: string, limits?: Partial<QueryLimits>): CatalogQuery {
  const effective = limitsOf(limits);
  if (typeof text !== 'string') throw new QueryError(QueryErrorReason.NotJson, 'the query must be text');
  if (text.length > effective.maxLength) throw unparsable(`longer than ${effective.maxLength} characters`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new QueryError(QueryErrorReason.NotJson, (error as Error).message);
  }
  compileFragment(value, 'document', effective);
  return value as CatalogQuery;
}

/**
 * For the coordinator's policy validation (`policy.data_segment.segment_query`):
 * the QueryError BitBroker would report for this segment, or null when it is fine.
 * As in BitBroker, a falsy segment counts as `{}` (its JSON Schema check reports a
 * missing or non-object segment separately); `true`, strings, numbers and arrays
 * cannot be parsed, `{"$and": []}` and `{"$or": true}` cannot be parsed, `{"$foo": 1}`
 * contains unrecognised operations.
 */
export function validateQuery(value: unknown, limits?: Partial<QueryLimits>): QueryError | null {
  try {
    compileFragment(value || {}, 'document', limits);
    return null;
  } catch (error) {
    if (error instanceof QueryError) return error;
    throw error;
  }
}

/**
 * ANDs compiled fragments, typically the policy segment and the user's query, into
 * one numbered from the first fragment's `firstParam` (renumber with
 * `withFirstParam`). Use it instead of concatenating `sql` strings, whose
 * placeholders would collide. TRUE parts drop out; any FALSE part makes it FALSE.
 */
export function and(...queries: CompiledQuery[]): CompiledQuery {
  return new CompiledQuery(
    sqlAnd(queries.map((query) => query.fragment)),
    queries.every((query) => query.empty),
    queries[0]?.firstParam ?? 1,
  );
}
