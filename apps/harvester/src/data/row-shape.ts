type ValueType = 'integer' | 'number' | 'boolean' | 'string' | 'object' | 'array';

const INTEGER = /^-?(0|[1-9]\d{0,14})$/;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const BOOLEAN = /^(true|false)$/i;

/**
 * The JSON Schema of a data resource, inferred from a sample of its rows:
 * each column's type (integer, number, boolean, string; objects and arrays
 * for JSON), always nullable since a later row may leave it empty. CSV values
 * are text: "42" is an integer, "007" stays a string (leading zeros matter in
 * codes), "" is null. Rows after the sample are converted by the same rules
 * and checked against them; a row that does not fit is refused on its own.
 */
export class RowShape {
  private constructor(
    private readonly types: Map<string, ValueType | 'any'>,
    private readonly fromText: boolean,
  ) {}

  static infer(sample: Array<Record<string, unknown>>, fromText: boolean): RowShape {
    const types = new Map<string, ValueType | 'any'>();
    for (const row of sample) {
      for (const [column, value] of Object.entries(row)) {
        const type = fromText ? textType(value) : jsonType(value);
        if (type === null) {
          if (!types.has(column)) types.set(column, 'any');
          continue;
        }
        const current = types.get(column);
        types.set(column, current === undefined || current === 'any' ? type : unify(current, type, fromText));
      }
    }
    // Columns only ever empty in the sample are text (CSV) or anything (JSON).
    for (const [column, type] of types) if (type === 'any' && fromText) types.set(column, 'string');
    return new RowShape(types, fromText);
  }

  schema(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const properties: Record<string, unknown> = {};
    for (const [column, type] of this.types) properties[column] = type === 'any' ? {} : { type: [type, 'null'] };
    return { type: 'object', properties: { ...properties, ...extra } };
  }

  /** The row with typed values, or why it does not fit the shape. */
  convert(row: Record<string, unknown>): { values: Record<string, unknown> } | { error: string } {
    const values: Record<string, unknown> = {};
    for (const [column, raw] of Object.entries(row)) {
      const type = this.types.get(column);
      if (this.fromText) {
        const text = raw === undefined || raw === null ? '' : String(raw);
        if (text === '') values[column] = null;
        else if (type === 'integer' || type === 'number') {
          if (!(type === 'integer' ? INTEGER : NUMBER).test(text)) return { error: `column ${column}: ${JSON.stringify(cut(text))} is not ${type === 'integer' ? 'an integer' : 'a number'}` };
          values[column] = Number(text);
        } else if (type === 'boolean') {
          if (!BOOLEAN.test(text)) return { error: `column ${column}: ${JSON.stringify(cut(text))} is not true or false` };
          values[column] = text.toLowerCase() === 'true';
        } else values[column] = text;
      } else {
        const actual = jsonType(raw);
        if (actual !== null && type && type !== 'any' && actual !== type && !(type === 'number' && actual === 'integer')) {
          return { error: `property ${column}: ${actual} where the data has ${type}` };
        }
        values[column] = raw;
      }
    }
    return { values };
  }
}

function textType(value: unknown): ValueType | null {
  const text = value === undefined || value === null ? '' : String(value);
  if (text === '') return null;
  if (INTEGER.test(text)) return 'integer';
  if (NUMBER.test(text) && Number.isFinite(Number(text))) return 'number';
  if (BOOLEAN.test(text)) return 'boolean';
  return 'string';
}

function jsonType(value: unknown): ValueType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return Array.isArray(value) ? 'array' : 'object';
}

function unify(a: ValueType | 'any', b: ValueType, fromText: boolean): ValueType | 'any' {
  if (a === b) return a;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  // Text that is sometimes a number and sometimes not is text; JSON of mixed types is left unconstrained.
  return fromText ? 'string' : 'any';
}

function cut(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
