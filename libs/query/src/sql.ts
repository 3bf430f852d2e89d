/**
 * A piece of SQL whose values are kept apart from its text until it is rendered
 * with numbered placeholders. Text comes only from this library's own constants
 * and from path literals built by `paths.ts`; every value is a bound parameter.
 */
export class Sql {
  private constructor(
    /** `chunks.length === values.length + 1`; value i sits between chunk i and chunk i + 1. */
    private readonly chunks: readonly string[],
    private readonly values: readonly unknown[],
  ) {}

  static readonly TRUE = Sql.text('TRUE');
  static readonly FALSE = Sql.text('FALSE');

  /** Library-owned SQL text. Never pass user input here. */
  static text(text: string): Sql {
    return new Sql([text], []);
  }

  /** A bound parameter, optionally with a cast (`$n::jsonb`). */
  static param(value: unknown, cast?: 'jsonb' | 'text' | 'text[]' | 'jsonb[]' | 'float8'): Sql {
    return new Sql(['', cast ? `::${cast}` : ''], [value]);
  }

  /** Tagged template: `Sql.of\`(${a}) AND (${b})\`` where each interpolation is an Sql. */
  static of(strings: TemplateStringsArray, ...parts: Sql[]): Sql {
    let result = Sql.text(strings[0]);
    parts.forEach((part, i) => {
      result = result.append(part).append(Sql.text(strings[i + 1]));
    });
    return result;
  }

  static join(parts: readonly Sql[], separator: string): Sql {
    let result: Sql | undefined;
    for (const part of parts) result = result ? result.append(Sql.text(separator)).append(part) : part;
    return result ?? Sql.text('');
  }

  get isTrue(): boolean {
    return this.values.length === 0 && this.chunks[0] === 'TRUE';
  }

  get isFalse(): boolean {
    return this.values.length === 0 && this.chunks[0] === 'FALSE';
  }

  get parameterCount(): number {
    return this.values.length;
  }

  append(other: Sql): Sql {
    const chunks = [...this.chunks];
    chunks[chunks.length - 1] += other.chunks[0];
    chunks.push(...other.chunks.slice(1));
    return new Sql(chunks, [...this.values, ...other.values]);
  }

  /** Renders with placeholders `$firstParam`, `$firstParam + 1`, … */
  render(firstParam = 1): { sql: string; params: unknown[] } {
    let sql = this.chunks[0];
    for (let i = 0; i < this.values.length; i++) sql += `$${firstParam + i}${this.chunks[i + 1]}`;
    return { sql, params: [...this.values] };
  }
}

export function sqlAnd(parts: readonly Sql[]): Sql {
  const useful = parts.filter((part) => !part.isTrue);
  if (useful.some((part) => part.isFalse)) return Sql.FALSE;
  if (useful.length === 0) return Sql.TRUE;
  if (useful.length === 1) return useful[0];
  return Sql.of`(${Sql.join(useful, ' AND ')})`;
}

export function sqlOr(parts: readonly Sql[]): Sql {
  if (parts.length === 1) return parts[0];
  return Sql.of`(${Sql.join(parts, ' OR ')})`;
}

export function sqlNot(part: Sql): Sql {
  return Sql.of`(NOT ${part})`;
}
