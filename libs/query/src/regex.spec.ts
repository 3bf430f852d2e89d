import { QueryError, QueryErrorReason } from './errors';
import { MAX_REGEX_WEIGHT, parseRegexOptions, toPostgresRegex } from './regex';

const plain = parseRegexOptions(undefined);
const translate = (pattern: string, options?: string) => toPostgresRegex(pattern, parseRegexOptions(options));

function rejected(pattern: unknown, options?: unknown): QueryError {
  try {
    toPostgresRegex(pattern, parseRegexOptions(options));
  } catch (error) {
    expect(error).toBeInstanceOf(QueryError);
    expect((error as QueryError).reason).toBe(QueryErrorReason.Unparsable);
    return error as QueryError;
  }
  throw new Error(`accepted ${JSON.stringify(pattern)}`);
}

describe('$regex → PostgreSQL ARE', () => {
  describe('$options', () => {
    it.each([
      [undefined, false, 'p'],
      ['', false, 'p'],
      ['i', true, 'p'],
      ['s', false, 's'],
      ['m', false, 'n'],
      ['ms', false, 'w'],
      ['sim', true, 'w'],
    ])('%p → case-insensitive %p, newline mode %p', (options, caseInsensitive, newlineMode) => {
      expect(parseRegexOptions(options)).toEqual({ caseInsensitive, newlineMode });
    });

    it('refuses other letters and non-strings', () => {
      for (const options of ['g', 'x', 'u', 'I', 5, null, ['i']]) rejected('a', options);
    });

    it('embeds the newline mode in front as BitBroker did ((?p) unless s)', () => {
      expect(translate('United .*')).toBe('(?p)United .*');
      expect(translate('United .*', 'i')).toBe('(?p)United .*');
      expect(translate('a.b', 's')).toBe('a.b');
      expect(translate('^b', 'm')).toBe('(?n)^b');
      expect(translate('^b', 'ms')).toBe('(?w)^b');
    });
  });

  describe('accepted patterns', () => {
    it.each([
      ['^.*stan$', '^.*stan$'],
      ['^San\\s', '^San\\s'],
      ['United .*', 'United .*'],
      ['', ''],
      ['a|b|', 'a|b|'],
      ['(a|b)+c', '(?:a|b)+c'],
      ['(?:ab){2,3}', '(?:ab){2,3}'],
      ['x{255}', 'x{255}'],
      ['x{0}', 'x{0}'],
      ['a{2,}', 'a{2,}'],
      ['a*?b+?c??d{1,2}?', 'a*b+c?d{1,2}'],
      ['\\bword\\B', '\\yword\\Y'],
      ['\\y\\Y\\m\\M\\A\\Z', '\\y\\Y\\m\\M\\A\\Z'],
      ['\\d\\D\\w\\W\\s\\S\\t\\n\\r\\f\\v', '\\d\\D\\w\\W\\s\\S\\t\\n\\r\\f\\v'],
      ['\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-\\ \\#\\_', '\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-\\ \\#\\_'],
      ['[a-z]', '[a-z]'],
      ['[^a-zA-Z0-9_-]', '[^a-zA-Z0-9_-]'],
      ['[-a]', '[-a]'],
      ['[a-]', '[a-]'],
      ['[\\]\\[\\-\\\\]', '[\\]\\[\\-\\\\]'],
      ['[\\d\\s\\w]', '[\\d\\s\\w]'],
      ['[[:alpha:][:digit:]]', '[[:alpha:][:digit:]]'],
      ['[é-ë]', '[é-ë]'],
      ['🎉+', '🎉+'],
      ["O'Brien \"x\"", "O'Brien \"x\""],
      ['a#b c', 'a#b c'],
    ])('%p', (pattern, body) => {
      expect(toPostgresRegex(pattern, plain)).toBe(`(?p)${body}`);
    });
  });

  describe('refused patterns', () => {
    it.each([
      // valid for JavaScript, errors in PostgreSQL
      'x{256}',
      '(x{255}){255}',
      '[a-c-e]',
      'a{1',
      '[\\w-z]',
      '[a-\\d]',
      '\\y*',
      '^*',
      '$?',
      '[]',
      '[^]',
      '[[:foo:]]',
      // no equivalent, or a different meaning, in PostgreSQL
      '(?i)a',
      '(?<name>a)',
      '(a)\\1',
      '\\x41',
      '\\u00e9',
      '\\cA',
      '\\0',
      '\\é',
      '[\\b]',
      '[\\D]',
      '[[.a.]]',
      '[[=a=]]',
      // lookaround (quadratic in PostgreSQL)
      '(?=a)b',
      '(?!a)b',
      '(?<=a)b',
      '(?<!a)b',
      // plain syntax errors
      '(',
      ')',
      'a)',
      '(a',
      '[a',
      '*a',
      '+',
      '?',
      'a**',
      'a{2}{3}',
      'a{3,2}',
      'a{,3}',
      '{',
      '}',
      ']',
      'a\\',
      '[z-a]',
    ])('%p', (pattern) => {
      rejected(pattern);
    });

    it('refuses non-strings', () => {
      for (const pattern of [5, null, true, {}, ['a'], undefined]) rejected(pattern);
    });

    it('refuses patterns too large or too complex', () => {
      rejected('a'.repeat(1001));
      rejected('a'.repeat(MAX_REGEX_WEIGHT + 1));
      expect(() => translate('a'.repeat(MAX_REGEX_WEIGHT))).not.toThrow();
      rejected('(.*){255}x');
      rejected('(\\w{1,255}){2}');
      expect(() => translate('.{0,255}x')).not.toThrow();
      expect(() => translate('\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}')).not.toThrow();
      rejected(`${'('.repeat(40)}a${')'.repeat(40)}`);
    });

    it('says what is wrong', () => {
      expect(rejected('x{256}').detail).toContain('invalid repetition count');
      expect(rejected('(?=a)').detail).toContain('lookahead');
    });
  });
});
