import { unparsable } from './errors';
import { isLiteralPath, jsonAt, textAt } from './paths';
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
 * The record-side geometry (SRID 4326) of the JSON value at `segments` of
 * `column`, or NULL when it is not a usable GeoJSON Point. Expression indexes
 * must use exactly this text. A literal path reaches each member it tests in
 * one step (`document #> '{entity,location,coordinates,0}'`) rather than
 * taking the location out first for every test: a quarter cheaper, and every
 * candidate of a geo query evaluates it twice (index recheck, then the exact
 * test).
 */
export function pointGeometry(column: string, segments: readonly string[]): Sql {
  const literal = isLiteralPath(segments);
  const below = (sub: string[]) => Sql.text(`'{${sub.join(',')}}'::text[]`);
  const at = (...sub: string[]) => (literal ? jsonAt(column, [...segments, ...sub]) : Sql.of`(${jsonAt(column, segments)} #> ${below(sub)})`);
  const textOf = (...sub: string[]) => (literal ? textAt(column, [...segments, ...sub]) : Sql.of`(${jsonAt(column, segments)} #>> ${below(sub)})`);
  const [lon, lat, alt] = [at('coordinates', '0'), at('coordinates', '1'), at('coordinates', '2')];
  // An array has no "type" member, so the first test also refuses anything but an object.
  const guard = Sql.join(
    [
      Sql.of`${textOf('type')} = 'Point'`,
      Sql.of`jsonb_typeof(${at('coordinates')}) = 'array'`,
      Sql.of`jsonb_typeof(${lon}) = 'number'`,
      Sql.of`jsonb_typeof(${lat}) = 'number'`,
      Sql.of`${lon} BETWEEN '-180'::jsonb AND '180'::jsonb`,
      Sql.of`${lat} BETWEEN '-90'::jsonb AND '90'::jsonb`,
      Sql.of`(${alt} IS NULL OR jsonb_typeof(${alt}) = 'number')`,
      Sql.of`${at('coordinates', '3')} IS NULL`,
      Sql.of`${at('crs')} IS NULL`, // another CRS would make the numbers something else than lon/lat
    ],
    ' AND ',
  );
  return Sql.of`(CASE WHEN ${guard} THEN ST_SetSRID(ST_MakePoint(${textOf('coordinates', '0')}::float8, ${textOf('coordinates', '1')}::float8), 4326) END)`;
}

/** No sphere PostGIS measures distances on is smaller (the WGS 84 semi-minor axis, in metres): angles from it never fall short. */
const SMALLEST_EARTH_RADIUS = 6_356_752;
/** Degrees added on every side of a box, far above floating-point error (about a centimetre). */
const BOX_MARGIN = 1e-7;

/** A lon/lat box `[west, south, east, north]` (degrees). */
export type LonLatBox = [number, number, number, number];

/**
 * A lon/lat box holding every point closer than `metres` (great-circle
 * distance) to the Point or MultiPoint `text` (validated GeoJSON, see
 * `geometryText`), or null when there is no useful one: another geometry
 * (its edges are great-circle arcs, which leave the box of its vertices), or
 * a distance spanning a quarter of the globe. A point at latitude φ has every
 * point within angular distance d between latitudes φ ± d and within
 * asin(sin d / cos φ) of its longitude, while the circle does not reach a
 * pole. Near a pole every longitude is in; across the antimeridian too (rare:
 * the box then only bounds latitude). The exact distance test follows, so a
 * box too large only costs candidates.
 */
export function nearBox(text: string, metres: number): LonLatBox | null {
  const geometry = JSON.parse(text) as { type: string; coordinates: unknown };
  const d = metres / SMALLEST_EARTH_RADIUS;
  if ((geometry.type !== 'Point' && geometry.type !== 'MultiPoint') || !(d < Math.PI / 2)) return null;
  const positions = (geometry.type === 'Point' ? [geometry.coordinates] : geometry.coordinates) as number[][];
  const lons = positions.map((p) => p[0]);
  const lats = positions.map((p) => p[1]);
  const degrees = (radians: number) => (radians * 180) / Math.PI;
  const south = Math.min(...lats) - degrees(d) - BOX_MARGIN;
  const north = Math.max(...lats) + degrees(d) + BOX_MARGIN;
  if (south <= -90 || north >= 90) return [-180, Math.max(-90, south), 180, Math.min(90, north)];
  // The latitude farthest from the equator (below 90° - d, or a pole would be within reach).
  const widest = Math.max(...lats.map(Math.abs));
  const spread = degrees(Math.asin(Math.sin(d) / Math.cos((widest * Math.PI) / 180)));
  const west = Math.min(...lons) - spread - BOX_MARGIN;
  const east = Math.max(...lons) + spread + BOX_MARGIN;
  if (west < -180 || east > 180) return [-180, south, 180, north];
  return [west, south, east, north];
}
