import { FREQUENCIES, Frequency } from '../vocabularies/frequencies';
import { LICENSES, findLicense } from '../vocabularies/licenses';

/** GeoJSON geometry types accepted as spatial coverage. */
export const GEOJSON_GEOMETRY_TYPES = [
  'Point',
  'MultiPoint',
  'LineString',
  'MultiLineString',
  'Polygon',
  'MultiPolygon',
  'GeometryCollection',
] as const;

export interface GeoJsonGeometry {
  type: (typeof GEOJSON_GEOMETRY_TYPES)[number];
  coordinates?: unknown;
  geometries?: GeoJsonGeometry[];
}

/**
 * Publishing metadata of an entity type (`entity_type.dataset_metadata`),
 * beyond BitBroker's entity contract: what catalogs want to know about a
 * dataset. Every field is optional; property names are the API's.
 */
export interface DatasetMetadata {
  /** `id`: a platform license id (SPDX where it exists, e.g. `etalab-2.0`, `CC-BY-4.0`); or the license's URL and title. */
  license?: { id?: string; url?: string; title?: string };
  /** Platform vocabulary (udata's, a superset of Dublin Core's). */
  frequency?: Frequency;
  /** Added to the entity type's tags. */
  keywords?: string[];
  /** ISO 8601 dates or instants. */
  temporal?: { start?: string; end?: string };
  /** A place name, or a GeoJSON geometry. */
  spatial?: string | GeoJsonGeometry;
  /** Who publishes the dataset; the email is the contact point. */
  publisher?: { name?: string; email?: string; url?: string };
  landing_page?: string;
}

const httpUrl = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 };
const isoDate = {
  type: 'string',
  pattern: '^\\d{4}-\\d\\d-\\d\\d(T\\d\\d:\\d\\d(:\\d\\d(\\.\\d+)?)?(Z|[+-]\\d\\d:\\d\\d)?)?$',
  maxLength: 40,
};
const position = { type: 'array', minItems: 2, maxItems: 3, items: { type: 'number' } };

/** JSON Schema (draft-07 subset understood by the `jsonschema` and Ajv validators) of `DatasetMetadata`. */
export const DATASET_METADATA_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    license: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 64 },
        url: httpUrl,
        title: { type: 'string', minLength: 1, maxLength: 256 },
      },
    },
    frequency: { type: 'string', enum: [...FREQUENCIES] },
    keywords: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
    temporal: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { start: isoDate, end: isoDate },
    },
    spatial: {
      oneOf: [
        { type: 'string', minLength: 1, maxLength: 2048 },
        {
          type: 'object',
          required: ['type'],
          properties: {
            type: { type: 'string', enum: [...GEOJSON_GEOMETRY_TYPES] },
            coordinates: { type: 'array' },
            geometries: { type: 'array' },
          },
        },
      ],
    },
    publisher: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 256 },
        email: { type: 'string', format: 'email', maxLength: 256 },
        url: httpUrl,
      },
    },
    landing_page: httpUrl,
  },
} as const;

/** A problem the schema cannot express; `name` is the property path (e.g. `temporal.end`). */
export interface MetadataProblem {
  name: string;
  reason: string;
}

/** Checks what the schema cannot: known license ids, start before end, GeoJSON coordinates, the size of a geometry. */
export function checkDatasetMetadata(metadata: DatasetMetadata): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const license = metadata.license;
  if (license?.id !== undefined && !findLicense(license.id)) {
    problems.push({ name: 'license.id', reason: `is not a known license id (known: ${LICENSES.map((known) => known.id).join(', ')})` });
  }
  if (license && license.id === undefined && license.url === undefined) {
    problems.push({ name: 'license', reason: 'needs an id or a url' });
  }
  const { start, end } = metadata.temporal ?? {};
  for (const [name, value] of [['temporal.start', start], ['temporal.end', end]] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) problems.push({ name, reason: 'is not a valid date' });
  }
  if (start && end && Date.parse(start) > Date.parse(end)) problems.push({ name: 'temporal.end', reason: 'is before temporal.start' });
  if (metadata.spatial && typeof metadata.spatial === 'object') {
    const reason = geometryProblem(metadata.spatial, 0);
    if (reason) problems.push({ name: 'spatial', reason });
    else if (JSON.stringify(metadata.spatial).length > 100_000) problems.push({ name: 'spatial', reason: 'is larger than 100 kB' });
  }
  return problems;
}

function geometryProblem(geometry: GeoJsonGeometry, depth: number): string | undefined {
  if (!geometry || typeof geometry !== 'object' || !GEOJSON_GEOMETRY_TYPES.includes(geometry.type)) return 'is not a GeoJSON geometry';
  if (geometry.type === 'GeometryCollection') {
    if (depth > 0 || !Array.isArray(geometry.geometries)) return 'GeometryCollection needs flat geometries';
    for (const member of geometry.geometries) {
      const reason = geometryProblem(member, depth + 1);
      if (reason) return reason;
    }
    return undefined;
  }
  const nesting = { Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 }[geometry.type];
  return isNested(geometry.coordinates, nesting) ? undefined : `has no valid ${geometry.type} coordinates`;
}

function isNested(value: unknown, depth: number): boolean {
  if (depth === 0) return isPosition(value);
  return Array.isArray(value) && value.length > 0 && value.every((item) => isNested(item, depth - 1));
}

function isPosition(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    (value.length === 2 || value.length === 3) &&
    value.every((coordinate) => typeof coordinate === 'number' && Number.isFinite(coordinate)) &&
    Math.abs(value[0] as number) <= 180 &&
    Math.abs(value[1] as number) <= 90
  );
}

/** The stored form: the license id in its canonical spelling, keywords trimmed. */
export function normalizeDatasetMetadata(metadata: DatasetMetadata): DatasetMetadata {
  const normalized: DatasetMetadata = { ...metadata };
  if (metadata.license?.id) normalized.license = { ...metadata.license, id: findLicense(metadata.license.id)?.id ?? metadata.license.id };
  if (metadata.keywords) normalized.keywords = [...new Set(metadata.keywords.map((keyword) => keyword.trim()).filter(Boolean))];
  return normalized;
}

/** Reads stored metadata defensively: a value written by an older version loses what no longer validates rather than failing a push. */
export function readDatasetMetadata(stored: unknown): DatasetMetadata {
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return {};
  const value = stored as Record<string, unknown>;
  const metadata: DatasetMetadata = {};
  if (value.license && typeof value.license === 'object') metadata.license = value.license as DatasetMetadata['license'];
  if (typeof value.frequency === 'string' && (FREQUENCIES as readonly string[]).includes(value.frequency)) metadata.frequency = value.frequency as Frequency;
  if (Array.isArray(value.keywords)) metadata.keywords = value.keywords.filter((keyword): keyword is string => typeof keyword === 'string');
  if (value.temporal && typeof value.temporal === 'object') metadata.temporal = value.temporal as DatasetMetadata['temporal'];
  if (typeof value.spatial === 'string' || (value.spatial && typeof value.spatial === 'object')) metadata.spatial = value.spatial as DatasetMetadata['spatial'];
  if (value.publisher && typeof value.publisher === 'object') metadata.publisher = value.publisher as DatasetMetadata['publisher'];
  if (typeof value.landing_page === 'string') metadata.landing_page = value.landing_page;
  return metadata;
}
