import { Schema, Validator } from 'jsonschema';
import type { FieldError } from './field-error';
import * as schemas from './schemas';

export type SchemaName = Exclude<keyof typeof schemas, 'MAX_RECORDS_PER_BATCH'>;

/**
 * Checks a value against one of the API's schemas and reports the problems as
 * `{name, index, reason}`: `name` is the property path without array indices
 * (prefixed with `property`), `index` the first array index on that path.
 */
export class BbkValidator {
  private readonly validator = new Validator();

  check(instance: unknown, schema: SchemaName | Schema, property = ''): FieldError[] {
    const resolved = typeof schema === 'string' ? (schemas[schema] as Schema) : schema;
    return this.validator.validate(instance, resolved).errors.map((error) => {
      const rest = error.property.slice('instance'.length); // '', '.policy.name' or '[0].id'
      const path = property ? `${property}${rest}` : rest.replace(/^\./, '');
      const index = error.property.match(/\[(\d+)\]/);
      // Only the first index moves to `index`, as BitBroker does; deeper ones stay in the name.
      return { name: path.replace(/\[\d+\]/, ''), index: index ? Number(index[1]) : null, reason: error.message };
    });
  }

  /**
   * "Valid JSON Schema" in the lenient sense BitBroker clients know: the
   * validator can use it (an unknown `type` such as "foobar" is accepted, a
   * schema that is not an object is not).
   */
  isUsableJsonSchema(schema: unknown): boolean {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return false;
    try {
      this.validator.validate({}, schema as Schema);
      return true;
    } catch {
      return false;
    }
  }

  /** Errors of each record's `entity` against an entity type's JSON Schema: `records.entity.<path>` + index. */
  recordEntities(records: unknown[], entitySchema: object): FieldError[] {
    return this.check(records, { type: 'array', items: { type: 'object', properties: { entity: entitySchema as Schema } } }, 'records');
  }
}
