import { unparsable } from './errors';
import { Sql } from './sql';

/**
 * Geo support.
 *
 * Query side: the `$geometry` of `$near` / `$within` is checked here completely
 * (type, nesting, finite numbers, lon/lat ranges, closed rings), then bound as
 * GeoJSON text to `ST_GeomFromGeoJSON($n)`, which therefore cannot fail.
 *
 * Record side: record documents hold arbitrary JSON, and `ST_GeomFromGeoJSON` raises
 * an error on anything that is not GeoJSON it likes (a string, `{"type":"Point"}`,
 * `[1]`, a `crs` with another SRID…). One bad record would turn every geo query into
 * a 500. The field is therefore turned into a geometry only when it is a GeoJSON
 * Point with numeric lon/lat in range, and is NULL (no match) otherwise. Every test in
 * the guard is error-free on any jsonb on its own, so the result does not depend on
 * evaluation order, and the point is built only in the CASE branch that PostgreSQL
 * evaluates after the guard held. Non-Point record geometries, and Points declaring a
 * `crs`, do not match (BitBroker's data only has plain Points).
 */

const GEOMETRY_TYPES = ['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'] as const;
type GeometryType = (typeof GEOMETRY_TYPES)[number];

export const MAX_GEOMETRY_POSITIONS = 1_000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a query-side GeoJSON geometry and returns its canonical text (type and coordinates only). */
export function geometryText(value: unknown, allowed: readonly GeometryType[], where: string): string {
  if (!isPlainObject(value)) throw unparsable(`${where}: $geometry must be a GeoJSON geometry object`);
  const type = value.type;
  if (typeof type !== 'string' || !(GEOMETRY_TYPES as readonly string[]).includes(type)) {
    throw unparsable(`${where}: $geometry type must be one of ${allowed.join(', ')}`);
  }
  if (!allowed.includes(type as GeometryType)) throw unparsable(`${where}: $geometry type must be one of ${allowed.join(', ')}`);
  for (const key of Object.keys(value)) {
    if (key !== 'type' && key !== 'coordinates') throw unparsable(`${where}: $geometry member "${key}" is not supported`);
  }
  const counter = { positions: 0 };
  const coordinates = value.coordinates;
  const fail = (why: string): never => {
    throw unparsable(`${where}: ${why}`);
  };
  switch (type as GeometryType) {
    case 'Point':
      position(coordinates, counter, fail);
      break;
    case 'MultiPoint':
      list(coordinates, 1, fail).forEach((p) => position(p, counter, fail));
      break;
    case 'LineString':
      line(coordinates, counter, fail);
      break;
    case 'MultiLineString':
      list(coordinates, 1, fail).forEach((l) => line(l, counter, fail));
      break;
    case 'Polygon':
      polygon(coordinates, counter, fail);
      break;
    case 'MultiPolygon':
      list(coordinates, 1, fail).forEach((p) => polygon(p, counter, fail));
      break;
  }
  return JSON.stringify({ type, coordinates });
}

function list(value: unknown, min: number, fail: (why: string) => never): unknown[] {
  if (!Array.isArray(value) || value.length < min) fail(`coordinates must be an array of at least ${min}`);
  return value as unknown[];
}

function position(value: unknown, counter: { positions: number }, fail: (why: string) => never): number[] {
  if (!Array.isArray(value) || value.length < 2 || value.length > 3) fail('a position must be [longitude, latitude] (or with altitude)');
  const numbers = value as unknown[];
  if (!numbers.every((n) => typeof n === 'number' && Number.isFinite(n))) fail('a position must hold finite numbers');
  const [lon, lat] = numbers as number[];
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) fail('longitude must be within [-180, 180] and latitude within [-90, 90]');
  if (++counter.positions > MAX_GEOMETRY_POSITIONS) fail(`more than ${MAX_GEOMETRY_POSITIONS} positions`);
  return numbers as number[];
}

function line(value: unknown, counter: { positions: number }, fail: (why: string) => never): number[][] {
  return list(value, 2, fail).map((p) => position(p, counter, fail));
}

function polygon(value: unknown, counter: { positions: number }, fail: (why: string) => never): void {
  for (const ring of list(value, 1, fail)) {
    const positions = list(ring, 4, fail).map((p) => position(p, counter, fail));
    const first = positions[0];
    const last = positions[positions.length - 1];
    if (first[0] !== last[0] || first[1] !== last[1]) fail('a polygon ring must be closed (first position = last position)');
  }
}

/**
 * The record-side geometry (SRID 4326) of the JSON value `json` (an SQL expression
 * such as `(document #> '{"entity","location"}'::text[])`), or NULL when it is not a
 * usable GeoJSON Point. Expression indexes must use exactly this text.
 */
export function pointGeometry(json: Sql): Sql {
  const at = (path: string) => Sql.of`(${json} #> ${Sql.text(`'${path}'::text[]`)})`;
  const lon = at('{coordinates,0}');
  const lat = at('{coordinates,1}');
  const alt = at('{coordinates,2}');
  const guard = Sql.join(
    [
      Sql.of`jsonb_typeof(${json}) = 'object'`,
      Sql.of`(${json} ->> 'type') = 'Point'`,
      Sql.of`jsonb_typeof(${json} -> 'coordinates') = 'array'`,
      Sql.of`jsonb_typeof(${lon}) = 'number'`,
      Sql.of`jsonb_typeof(${lat}) = 'number'`,
      Sql.of`${lon} BETWEEN '-180'::jsonb AND '180'::jsonb`,
      Sql.of`${lat} BETWEEN '-90'::jsonb AND '90'::jsonb`,
      Sql.of`(${alt} IS NULL OR jsonb_typeof(${alt}) = 'number')`,
      Sql.of`(${json} #> '{coordinates,3}'::text[]) IS NULL`,
      Sql.of`(${json} -> 'crs') IS NULL`, // another CRS would make the numbers something else than lon/lat
    ],
    ' AND ',
  );
  return Sql.of`(CASE WHEN ${guard} THEN ST_SetSRID(ST_MakePoint((${json} #>> '{coordinates,0}'::text[])::float8, (${json} #>> '{coordinates,1}'::text[])::float8), 4326) END)`;
}
