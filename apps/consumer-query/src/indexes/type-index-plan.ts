import { createHash } from 'crypto';
import { LITERAL_SEGMENT, fieldIndexExpressions } from '@odb/query';

/**
 * Which expression indexes an entity type gets, from its JSON Schema (pure
 * functions; `TypeIndexManager` applies the plan).
 *
 * For each top-level property of `entity` the schema declares (at most
 * `maxProperties`, in alphabetical order, names made of `[A-Za-z0-9_-]`):
 *
 * | declared as | index (partial, `WHERE entity_type_id = <id>`) | serves |
 * |---|---|---|
 * | `number` / `integer` | btree on `document #> '{entity,p}'`, then `id` | `$gt $gte $lt $lte`, `$in` of numbers, and equality (with the hint the reader adds), in id order |
 * | `string` | btree on `document #>> '{entity,p}'`, then `id` | the same for strings |
 * | a GeoJSON Point (`properties.type` and `properties.coordinates`, or a `$ref` naming GeoJSON or Point) | gist on the point geometry | `$within`, `$near` with `$max` |
 *
 * The expressions are exactly those the query compiler generates
 * (`fieldIndexExpressions`), or the planner would not match them. Equality and
 * containment on any path are served by the GIN index on `document` that every
 * record has. Booleans, objects and arrays get nothing more.
 */
export type IndexKind = 'json' | 'text' | 'point';

export interface IndexedProperty {
  name: string;
  /** Dotted path in the record document, e.g. `entity.population`. */
  path: string;
  kinds: IndexKind[];
}

export interface PlannedIndex {
  /** Deterministic: `record_et_<type id>_<kind>_<hash of method, expression and predicate>`. */
  name: string;
  typeId: number;
  property: string;
  kind: IndexKind;
  /** The CREATE INDEX statement (CONCURRENTLY, IF NOT EXISTS). */
  create: string;
}

/** Prefix of every index this service manages; anything else on `record` is left alone. */
export const MANAGED_INDEX_PREFIX = 'record_et_';

export function indexedProperties(schema: unknown, maxProperties = 16): IndexedProperty[] {
  const properties = isObject(schema) && isObject(schema.properties) ? schema.properties : {};
  const result: IndexedProperty[] = [];
  for (const name of Object.keys(properties).sort()) {
    const definition = properties[name];
    if (result.length >= maxProperties) break;
    if (!LITERAL_SEGMENT.test(name) || !isObject(definition)) continue;
    const kinds = kindsOf(definition);
    if (kinds.length > 0) result.push({ name, path: `entity.${name}`, kinds });
  }
  return result;
}

export function planIndexes(type: { id: number; schema: unknown }, maxProperties = 16): PlannedIndex[] {
  const predicate = `entity_type_id = ${Number(type.id)}`;
  return indexedProperties(type.schema, maxProperties).flatMap((property) => {
    const expressions = fieldIndexExpressions('document', property.path);
    return property.kinds.map((kind) => {
      const method = kind === 'json' || kind === 'text' ? 'btree' : 'gist';
      const expression = expressions[kind];
      const hash = createHash('sha1').update(`${method}|${expression}${method === 'btree' ? ',id' : ''}|${predicate}`).digest('hex').slice(0, 12);
      const name = `${MANAGED_INDEX_PREFIX}${type.id}_${kind}_${hash}`;
      return {
        name,
        typeId: type.id,
        property: property.name,
        kind,
        // btree keys end with the record id: an equality then reads its matches already in BitBroker's order
        // (insertion, `ORDER BY r.id`), so a page of 250 is 250 index entries, not every match sorted.
        create: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ON record USING ${method} ((${expression})${method === 'btree' ? ', id' : ''}) WHERE ${predicate}`,
      };
    });
  });
}

/** A statistics object the planner needs beside a type's indexes. */
export interface PlannedStatistics {
  /** Deterministic: `record_et_<type id>_stat_<hash of its definition>`. */
  name: string;
  typeId: number;
  property: string;
  /** The CREATE STATISTICS statement (IF NOT EXISTS). */
  create: string;
}

/**
 * Per string property: functional dependency statistics between the type and
 * the JSON type of the property. A rewritten equality (`query-shape.ts`) checks
 * `jsonb_typeof(…) = 'string'` to stay exact; without these statistics
 * PostgreSQL guesses that check keeps 0.5% of the rows, underestimates the
 * matches 200-fold and sorts them all instead of reading a page in order from
 * the `(expression, id)` index (7.4 ms against 0.7 ms for a page of 250 out of
 * 1,000 matches, measured).
 */
export function planStatistics(type: { id: number; schema: unknown }, maxProperties = 16): PlannedStatistics[] {
  return indexedProperties(type.schema, maxProperties)
    .filter((property) => property.kinds.includes('text'))
    .map((property) => {
      const definition = `entity_type_id, (jsonb_typeof(${fieldIndexExpressions('document', property.path).json}))`;
      const hash = createHash('sha1').update(definition).digest('hex').slice(0, 12);
      const name = `${MANAGED_INDEX_PREFIX}${type.id}_stat_${hash}`;
      return { name, typeId: type.id, property: property.name, create: `CREATE STATISTICS IF NOT EXISTS ${name} (dependencies) ON ${definition} FROM record` };
    });
}

function kindsOf(definition: Record<string, unknown>): IndexKind[] {
  if (isGeoPoint(definition)) return ['point'];
  const types = new Set<string>();
  const declared = definition.type;
  for (const type of Array.isArray(declared) ? declared : [declared]) if (typeof type === 'string') types.add(type);
  if (types.size === 0) {
    // An enum or const without a type: its values say what it is.
    const values = Array.isArray(definition.enum) ? definition.enum : 'const' in definition ? [definition.const] : [];
    if (values.length > 0 && values.every((value) => typeof value === 'string')) types.add('string');
    if (values.length > 0 && values.every((value) => typeof value === 'number')) types.add('number');
  }
  const kinds: IndexKind[] = [];
  if (types.has('number') || types.has('integer')) kinds.push('json');
  if (types.has('string')) kinds.push('text');
  return kinds;
}

function isGeoPoint(definition: Record<string, unknown>): boolean {
  if (typeof definition.$ref === 'string' && /geojson|point/i.test(definition.$ref)) return true;
  const properties = definition.properties;
  return isObject(properties) && 'coordinates' in properties && 'type' in properties;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
