import Ajv, { ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ApiSchemas, BbkValidator, FieldError } from '@odb/validation';

export interface EntitySchemaSource {
  /** Changes whenever the schema may have changed (entity type id + version). */
  cacheKey: string;
  schema: Record<string, unknown>;
}

/**
 * Validates record batches fast and reports like BitBroker. Every batch goes
 * through compiled ajv validators; only a batch they reject is checked again
 * with jsonschema, whose messages and paths are the API's error reasons
 * (`records.entity.<path>` + index). Entity validators are compiled once per
 * entity type version. A schema ajv cannot compile (BitBroker accepted any
 * schema jsonschema could use, e.g. `{"type":"foobar"}`) is checked by
 * jsonschema alone.
 */
export class RecordBatchValidator {
  private readonly messages = new BbkValidator();
  private readonly ajv = addFormats(new Ajv({ strict: false, allowUnionTypes: true }));
  private readonly ajv2020 = addFormats(new Ajv2020({ strict: false, allowUnionTypes: true }));
  private readonly upsertSchema: object;
  private readonly deleteSchema: object;
  private readonly upsertStructure: ValidateFunction;
  private readonly deleteStructure: ValidateFunction;
  private readonly entityValidators = new Map<string, ValidateFunction | 'jsonschema'>();

  constructor(readonly maxBatch: number) {
    this.upsertSchema = { ...ApiSchemas.upsertRecords, maxItems: maxBatch };
    this.deleteSchema = { ...ApiSchemas.deleteRecords, maxItems: maxBatch };
    this.upsertStructure = this.ajv.compile(this.upsertSchema);
    this.deleteStructure = this.ajv.compile(this.deleteSchema);
  }

  /** Problems with the batch's shape: an array of at most maxBatch records `{id, name, entity, instance?}` or ids. */
  structureErrors(action: 'upsert' | 'delete', records: unknown): FieldError[] {
    const fast = action === 'upsert' ? this.upsertStructure : this.deleteStructure;
    if (fast(records)) return [];
    return this.messages.check(records, action === 'upsert' ? this.upsertSchema : this.deleteSchema, 'records');
  }

  /** Problems of each record's `entity` against the entity type's JSON Schema (none when the schema is empty). */
  entityErrors(source: EntitySchemaSource, records: Array<{ entity: unknown }>): FieldError[] {
    if (Object.keys(source.schema).length === 0) return [];
    const validate = this.entityValidator(source);
    if (validate !== 'jsonschema' && records.every((record) => validate(record.entity))) return [];
    return this.messages.recordEntities(records, source.schema);
  }

  private entityValidator(source: EntitySchemaSource): ValidateFunction | 'jsonschema' {
    let validator = this.entityValidators.get(source.cacheKey);
    if (!validator) {
      try {
        const draft2020 = String(source.schema.$schema ?? '').includes('2020-12');
        validator = (draft2020 ? this.ajv2020 : this.ajv).compile(withoutId(source.schema));
      } catch {
        validator = 'jsonschema';
      }
      this.entityValidators.set(source.cacheKey, validator);
    }
    return validator;
  }
}

/** ajv registers schemas by `$id`: two entity types with the same `$id` must not collide. */
function withoutId(schema: Record<string, unknown>): Record<string, unknown> {
  if (!('$id' in schema)) return schema;
  const { $id: _ignored, ...rest } = schema;
  return rest;
}
