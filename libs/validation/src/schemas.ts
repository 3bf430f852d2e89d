/**
 * The validation rules of the BitBroker-compatible APIs, as JSON Schemas
 * checked by the `jsonschema` library: its messages ("does not meet minimum
 * length of 1", "is not of a type(s) string", …) are the error reasons clients
 * of BitBroker already match on.
 */

const ISO_DURATION = '^P(?=\\d|T\\d)(?:(\\d+)Y)?(?:(\\d+)M)?(?:(\\d+)([DW]))?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+(?:\\.\\d+)?)S)?)?$';
const ISO_DATE = '^\\d{4}(-\\d\\d(-\\d\\d(T\\d\\d:\\d\\d(:\\d\\d)?(\\.\\d+)?(([+-]\\d\\d:\\d\\d)|Z)?)?)?)?$';
const HTTP_URL = { type: ['string', 'null'], maxLength: 1024, format: 'uri', pattern: '^https?://.*$' };

export const slug = { type: 'string', pattern: '^[a-z][a-z0-9-]+$', minLength: 3, maxLength: 32 };
export const name = { type: 'string', minLength: 1, maxLength: 64 };
export const description = { type: 'string', minLength: 1, maxLength: 2048 };
export const shortText = { type: 'string', minLength: 1, maxLength: 256 };
export const tags = { type: 'array', uniqueItems: true, maxItems: 16, items: name };
export const contributionId = { type: 'string', pattern: '^[a-z0-9]+$', minLength: 40, maxLength: 40 };
export const sessionId = { type: 'string', pattern: '^[a-z0-9][a-z0-9-]+$', minLength: 36, maxLength: 36 };
export const userId = { type: 'string', pattern: '^[0-9]+$', minLength: 1, maxLength: 8 };
export const searchTerm = { type: 'string', minLength: 1, maxLength: 16 };

export const entityType = {
  type: 'object',
  properties: {
    name,
    description,
    schema: { type: 'object' },
    tags,
    icon: { type: 'string', maxLength: 256 },
    timeseries: {
      type: 'object',
      propertyNames: slug,
      patternProperties: {
        '.*': {
          type: 'object',
          properties: {
            period: { type: 'string', pattern: ISO_DURATION },
            value: shortText,
            unit: shortText,
          },
          required: ['period', 'value', 'unit'],
          additionalProperties: false,
        },
      },
    },
  },
  required: ['name', 'description'],
};

export const connector = {
  type: 'object',
  properties: {
    name,
    description,
    cache: { type: 'integer', minimum: 0, maximum: 31_536_000 },
    webhook: HTTP_URL,
  },
  required: ['name', 'description'],
};

export const policy = {
  type: 'object',
  properties: {
    name,
    description,
    tags,
    policy: {
      type: 'object',
      properties: {
        access_control: {
          type: 'object',
          properties: {
            enabled: { type: 'boolean' },
            quota: {
              type: 'object',
              properties: {
                max_number: { type: 'integer', minimum: 0 },
                interval_type: { enum: ['day', 'month'] },
              },
            },
            rate: { type: 'integer', minimum: 0 },
          },
          required: ['enabled'],
        },
        data_segment: {
          type: 'object',
          properties: {
            segment_query: { type: 'object' },
            field_masks: { type: 'array', items: { type: 'string' } },
          },
          required: ['segment_query'],
        },
        legal_context: {
          type: 'array',
          minItems: 0,
          maxItems: 100,
          items: {
            type: 'object',
            properties: {
              type: { enum: ['attribution', 'contact', 'license', 'note', 'source', 'terms'] },
              text: shortText,
              link: HTTP_URL,
            },
            required: ['type', 'text', 'link'],
          },
        },
      },
      required: ['access_control', 'data_segment', 'legal_context'],
    },
  },
  required: ['name', 'description', 'policy'],
};

export const user = {
  type: 'object',
  properties: {
    name,
    email: { type: 'string', format: 'email', minLength: 1, maxLength: 256 },
    organization: name,
  },
  required: ['name', 'email', 'organization'],
};

export const userUpdate = {
  type: 'object',
  properties: { name, organization: name },
  required: ['name', 'organization'],
};

export const addendum = { type: 'object' };

export const paging = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 250 },
    offset: { type: 'integer', minimum: 0 },
  },
  required: ['limit', 'offset'],
};

export const timeseriesPaging = {
  type: 'object',
  properties: {
    start: { type: 'string', pattern: ISO_DATE },
    end: { type: 'string', pattern: ISO_DATE },
    duration: { type: 'integer', minimum: 1 },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
  },
};

const record = {
  type: 'object',
  properties: { id: shortText, name: shortText, entity: { type: 'object' }, instance: { type: 'object' } },
  required: ['id', 'name', 'entity'],
  additionalProperties: false,
};

export const MAX_RECORDS_PER_BATCH = 250;

export const upsertRecords = { type: 'array', items: record, minItems: 0, maxItems: MAX_RECORDS_PER_BATCH };
export const deleteRecords = { type: 'array', items: { type: 'string' }, minItems: 0, maxItems: MAX_RECORDS_PER_BATCH };

export const sessionMode = { type: 'string', enum: ['accrue', 'stream', 'replace'] };
export const sessionAction = { type: 'string', enum: ['upsert', 'delete'] };
export const sessionCommit = { type: 'string', enum: ['true', 'false'] };
