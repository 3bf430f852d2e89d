import { unparsable } from './errors';

/**
 * `$regex` patterns run in PostgreSQL as AREs (`~`, `~*`). An invalid or too complex
 * ARE makes PostgreSQL raise an error at execution time, i.e. a 500, so every
 * pattern is checked here, before any SQL exists, against a grammar that is a
 * strict subset of what PostgreSQL accepts (tested by running accepted patterns
 * through PostgreSQL). A JavaScript RegExp check would not do: `x{256}`, `[a-c-e]`,
 * `a{1`, `[\w-z]` and `\y*` are valid JavaScript but PostgreSQL errors.
 *
 * Grammar (anything else is "Query cannot be parsed"):
 *   alternation := sequence ('|' sequence)*
 *   sequence    := (atom quantifier? | constraint)*
 *   atom        := literal | '.' | class-escape | escaped-punct | '[' bracket ']'
 *                | '(' alternation ')' | '(?:' alternation ')'
 *   constraint  := '^' | '$' | '\A' | '\Z' | '\m' | '\M' | '\y' | '\Y' | '\b' | '\B'
 *   quantifier  := ('*' | '+' | '?' | '{m}' | '{m,}' | '{m,n}') '?'?   with m <= n <= 255
 *   class-escape:= '\d' '\D' '\s' '\S' '\w' '\W' '\t' '\n' '\r' '\f' '\v'
 *   escaped-punct := '\' followed by an ASCII punctuation character or space
 *   bracket     := '^'? '-'? item+ '-'?   item := char | char '-' char (ascending)
 *                | '\d' | '\s' | '\w' | '\t' … | '\' punct | '[:class:]'
 * Not accepted: lookahead/lookbehind (PostgreSQL runs them in quadratic time, a CPU
 * denial of service), back-references (exponential), `\x`/`\u`/`\c` escapes, embedded
 * options `(?i)`, collating elements, unescaped `]`, `{`, `}` outside their constructs.
 * Rewrites, none changing whether a value matches: `\b` and `\B` (Mongo/PCRE word
 * boundaries) become ARE's `\y` and `\Y` (in an ARE `\b` means backspace); groups
 * become non-capturing; non-greedy quantifiers become greedy.
 */

export const MAX_REGEX_LENGTH = 1000;
/**
 * Rough size of the automaton: atoms count 1, `*` `+` `?` double their operand, bounded
 * repeats multiply it by the bound. PostgreSQL refuses ("too complex") from about
 * 30,000, but it also rebuilds its DFA for every value it tests, so the cost per row
 * grows with the size. Measured on PostgreSQL 15 over 100,000 short values: a plain
 * `x` takes ~1 µs a row; the slowest patterns found under 300 (`(.*){60}x`,
 * `.* {0,255}a`, a 300-character literal) 30–40 µs; at 5,000, `(.*){255}x` takes 670 µs.
 */
export const MAX_REGEX_WEIGHT = 300;
const MAX_REPEAT = 255;

const POSIX_CLASSES = new Set(['alnum', 'alpha', 'blank', 'cntrl', 'digit', 'graph', 'lower', 'print', 'punct', 'space', 'upper', 'xdigit']);
const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W']);
const BRACKET_CLASS_ESCAPES = new Set(['d', 's', 'w']);
const ENTRY_ESCAPES = new Set(['t', 'n', 'r', 'f', 'v']);
const CONSTRAINT_ESCAPES: Record<string, string> = { A: '\\A', Z: '\\Z', m: '\\m', M: '\\M', y: '\\y', Y: '\\Y', b: '\\y', B: '\\Y' };
const PUNCT = /^[\x20-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]$/;

export interface RegexOptions {
  caseInsensitive: boolean;
  /** ARE embedded option letter putting newline handling the Mongo way (`p`, `s`, `n` or `w`). */
  newlineMode: 'p' | 's' | 'n' | 'w';
}

/** Mongo `$options` → ARE. `i` case-insensitive, `s` dot matches newline, `m` `^`/`$` at line breaks. */
export function parseRegexOptions(options: unknown): RegexOptions {
  if (options === undefined) return { caseInsensitive: false, newlineMode: 'p' };
  if (typeof options !== 'string') throw unparsable('$options must be a string');
  let i = false;
  let s = false;
  let m = false;
  for (const letter of options) {
    if (letter === 'i') i = true;
    else if (letter === 's') s = true;
    else if (letter === 'm') m = true;
    else throw unparsable(`$options "${options}": only i, m and s are supported`);
  }
  // Mongo default: '.' excludes newline, ^/$ only at the ends = ARE partial newline-sensitive (p),
  // which is what BitBroker sent. s: '.' takes newlines (ARE default s). m: ^/$ at lines (n, or w with s).
  const newlineMode = m ? (s ? 'w' : 'n') : s ? 's' : 'p';
  return { caseInsensitive: i, newlineMode };
}

/** Checks a `$regex` pattern and returns the ARE to bind, with its newline option embedded in front. */
export function toPostgresRegex(pattern: unknown, options: RegexOptions): string {
  if (typeof pattern !== 'string') throw unparsable('$regex must be a string');
  if (pattern.length > MAX_REGEX_LENGTH) throw unparsable(`$regex is longer than ${MAX_REGEX_LENGTH} characters`);
  const body = new RegexChecker(pattern).check();
  return options.newlineMode === 's' ? body : `(?${options.newlineMode})${body}`;
}

class RegexChecker {
  private readonly chars: string[];
  private pos = 0;
  private out = '';

  constructor(private readonly pattern: string) {
    this.chars = Array.from(pattern); // code points
  }

  check(): string {
    const weight = this.alternation(0);
    if (this.pos < this.chars.length) this.fail(`unexpected "${this.chars[this.pos]}"`);
    if (weight > MAX_REGEX_WEIGHT) this.fail('too complex');
    return this.out;
  }

  private fail(why: string): never {
    throw unparsable(`$regex "${this.pattern}" is not supported (${why} at ${this.pos})`);
  }

  private peek(offset = 0): string | undefined {
    return this.chars[this.pos + offset];
  }

  private take(): string {
    const c = this.chars[this.pos++];
    this.out += c;
    return c;
  }

  private emit(text: string, length: number): void {
    this.pos += length;
    this.out += text;
  }

  private alternation(depth: number): number {
    if (depth > 32) this.fail('groups nested too deeply');
    let weight = this.sequence(depth);
    while (this.peek() === '|') {
      this.take();
      weight += this.sequence(depth) + 1;
    }
    return weight;
  }

  private sequence(depth: number): number {
    let weight = 0;
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === '|' || c === ')') return weight;
      const atom = this.atomOrConstraint(depth);
      if (atom.quantifiable) {
        weight += this.quantifier(atom.weight);
      } else {
        if (this.isQuantifierStart()) this.fail('quantifier without operand');
        weight += atom.weight;
      }
      if (weight > MAX_REGEX_WEIGHT) this.fail('too complex');
    }
  }

  private isQuantifierStart(): boolean {
    const c = this.peek();
    return c === '*' || c === '+' || c === '?' || c === '{';
  }

  private quantifier(weight: number): number {
    const c = this.peek();
    let factor = 1;
    if (c === '*' || c === '+' || c === '?') {
      this.take();
      factor = 2;
    } else if (c === '{') {
      const match = /^\{(\d{1,3})(,(\d{1,3})?)?\}/.exec(this.chars.slice(this.pos, this.pos + 9).join(''));
      if (!match) this.fail('"{" must start a bound {m}, {m,} or {m,n}; write \\{ for a brace');
      const min = Number(match[1]);
      const max = match[3] !== undefined ? Number(match[3]) : undefined;
      if (min > MAX_REPEAT || (max !== undefined && (max > MAX_REPEAT || max < min))) this.fail('invalid repetition count');
      this.emit(match[0], match[0].length);
      // the automaton holds about one copy of the operand per possible repetition
      factor = Math.max(max ?? (match[2] !== undefined ? min + 1 : min), 1);
    } else {
      return weight;
    }
    // Non-greedy makes no difference to whether a match exists, and mixing greediness
    // sends PostgreSQL down a slower path: accepted and dropped.
    if (this.peek() === '?') this.pos++;
    if (this.isQuantifierStart()) this.fail('quantifier after quantifier');
    return weight * factor + 1;
  }

  private atomOrConstraint(depth: number): { weight: number; quantifiable: boolean } {
    const c = this.peek()!;
    switch (c) {
      case '^':
      case '$':
        this.take();
        return { weight: 1, quantifiable: false };
      case '.':
        this.take();
        return { weight: 1, quantifiable: true };
      case '(':
        return this.group(depth);
      case '[':
        this.bracket();
        return { weight: 1, quantifiable: true };
      case '\\':
        return this.escape();
      case '*':
      case '+':
      case '?':
        return this.fail('quantifier without operand');
      case '{':
      case '}':
      case ']':
        return this.fail(`unescaped "${c}"`);
      default:
        this.take();
        return { weight: 1, quantifiable: true };
    }
  }

  private group(depth: number): { weight: number; quantifiable: boolean } {
    const ahead = this.chars.slice(this.pos, this.pos + 3).join('');
    if (ahead === '(?:') this.emit('(?:', 3);
    else if (ahead === '(?=' || ahead === '(?!' || ahead === '(?<') {
      // PostgreSQL evaluates lookaround constraints by rescanning the text at each
      // position: `(?=.*a)(?=.*b)` takes seconds on a 20 kB value. Not offered.
      this.fail('lookahead and lookbehind are not supported');
    } else if (ahead.startsWith('(?')) this.fail('unsupported group "(?"');
    else this.emit('(?:', 1); // nothing uses captures (no back-references): non-capturing is cheaper
    const weight = this.alternation(depth + 1);
    if (this.peek() !== ')') this.fail('unbalanced parentheses');
    this.take();
    return { weight: weight + 1, quantifiable: true };
  }

  private escape(): { weight: number; quantifiable: boolean } {
    const next = this.peek(1);
    if (next === undefined) this.fail('trailing backslash');
    if (CLASS_ESCAPES.has(next) || ENTRY_ESCAPES.has(next) || PUNCT.test(next)) {
      this.emit(`\\${next}`, 2);
      return { weight: 1, quantifiable: true };
    }
    const constraint = CONSTRAINT_ESCAPES[next];
    if (constraint) {
      this.emit(constraint, 2);
      return { weight: 1, quantifiable: false };
    }
    return this.fail(`unsupported escape "\\${next}"`);
  }

  private bracket(): void {
    this.take(); // [
    if (this.peek() === '^') this.take();
    if (this.peek() === ']') this.fail('"]" first in a bracket expression: write \\]');
    let items = 0;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('unbalanced brackets');
      if (c === ']') break;
      if (c === '-') {
        const last = this.peek(1) === ']';
        if (items > 0 && !last) this.fail('"-" must be first, last or escaped in a bracket expression');
        this.take();
        items++;
        continue;
      }
      const start = this.bracketItem();
      items++;
      if (start.single !== undefined && this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.take(); // -
        if (this.peek() === '[') this.fail('invalid range endpoint');
        const end = this.bracketItem();
        if (end.single === undefined) this.fail('invalid range endpoint');
        if (end.single.codePointAt(0)! < start.single.codePointAt(0)!) this.fail('invalid character range');
      }
    }
    if (items === 0) this.fail('empty bracket expression');
    this.take(); // ]
  }

  /** One bracket item; `single` is the character when it may be a range endpoint. */
  private bracketItem(): { single?: string } {
    const c = this.peek()!;
    if (c === '[') {
      const match = /^\[:([a-z]+):\]/.exec(this.chars.slice(this.pos, this.pos + 12).join(''));
      if (!match || !POSIX_CLASSES.has(match[1])) this.fail('"[" inside a bracket expression: write \\[');
      this.emit(match[0], match[0].length);
      return {};
    }
    if (c === '\\') {
      const next = this.peek(1);
      if (next === undefined) this.fail('trailing backslash');
      if (BRACKET_CLASS_ESCAPES.has(next)) {
        this.emit(`\\${next}`, 2);
        return {};
      }
      if (ENTRY_ESCAPES.has(next)) {
        this.emit(`\\${next}`, 2);
        return { single: { t: '\t', n: '\n', r: '\r', f: '\f', v: '\v' }[next] };
      }
      if (PUNCT.test(next)) {
        this.emit(`\\${next}`, 2);
        return { single: next };
      }
      return this.fail(`unsupported escape "\\${next}" in a bracket expression`);
    }
    this.take();
    return { single: c };
  }
}
