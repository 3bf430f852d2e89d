import {
  CompiledQuery,
  QueryError,
  QueryErrorReason,
  and,
  compileQuery,
  fieldIndexExpressions,
  parseQuery,
  validateQuery,
} from './index';

const D = { column: 'document' };
const compile = (query: unknown, options: Partial<Parameters<typeof compileQuery>[1]> = {}) => compileQuery(query, { ...D, ...options });

const POINT = { type: 'Point', coordinates: [-3.435973, 55.378051] };
const SQUARE = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] };

function reasonOf(run: () => unknown): QueryErrorReason | 'ok' {
  try {
    run();
    return 'ok';
  } catch (error) {
    if (!(error instanceof QueryError)) throw error;
    return error.reason;
  }
}
const fromText = (text: string) => reasonOf(() => compile(parseQuery(text)));
const fromValue = (value: unknown) => reasonOf(() => compile(value));

describe('catalog query compiler', () => {
  describe('SQL produced', () => {
    it('implicit equality is containment, one per key, dotted paths nested', () => {
      const q = compile({ type: 'country', 'entity.population': 66040229 });
      expect(q.sql).toBe('(document @> $1::jsonb AND document @> $2::jsonb)');
      expect(q.params).toEqual(['{"type":"country"}', '{"entity":{"population":66040229}}']);
    });

    it('$eq is containment too, also for arrays and objects; $ne is its negation', () => {
      expect(compile({ name: { $eq: 'India' } }).params).toEqual(['{"name":"India"}']);
      expect(compile({ 'entity.languages': ['English'] }).params).toEqual(['{"entity":{"languages":["English"]}}']);
      const ne = compile({ name: { $ne: 'India' } });
      expect(ne.sql).toBe('(NOT document @> $1::jsonb)');
    });

    it('an embedded document without operators is exact equality', () => {
      const q = compile({ 'entity.currency': { code: 'GBP', name: 'Sterling' } });
      expect(q.sql).toBe(`(document #> '{"entity","currency"}'::text[]) = $1::jsonb`);
      expect(JSON.parse(q.params[0] as string)).toEqual({ code: 'GBP', name: 'Sterling' });
    });

    it('null matches missing or null: #>> IS NULL', () => {
      expect(compile({ 'entity.x': null }).sql).toBe(`(document #>> '{"entity","x"}'::text[]) IS NULL`);
    });

    it('ranges: numbers as jsonb (#>), strings as text (#>>), literal whitelisted paths', () => {
      expect(compile({ 'entity.population': { $gt: 1000 } })).toMatchObject({
        sql: `(document #> '{"entity","population"}'::text[]) > $1::jsonb`,
        params: ['1000'],
      });
      expect(compile({ name: { $lte: 'Argentina' } })).toMatchObject({
        sql: `(document #>> '{"name"}'::text[]) <= $1::text`,
        params: ['Argentina'],
      });
      expect(compile({ 'entity.x': { $gte: 1, $lt: 5 } }).sql).toBe(
        `((document #> '{"entity","x"}'::text[]) >= $1::jsonb AND (document #> '{"entity","x"}'::text[]) < $2::jsonb)`,
      );
    });

    it('$in / $nin: strings as text, others as jsonb, null as IS NULL; empty lists', () => {
      expect(compile({ name: { $in: ['A', 'B', 'A'] } })).toMatchObject({
        sql: `(document #>> '{"name"}'::text[]) = ANY($1::text[])`,
        params: [['A', 'B']],
      });
      expect(compile({ 'entity.calling_code': { $nin: [1, 44] } })).toMatchObject({
        sql: `(NOT (document #> '{"entity","calling_code"}'::text[]) = ANY($1::jsonb[]))`,
        params: [['1', '44']],
      });
      expect(compile({ 'entity.x': { $in: ['a', 1, null] } }).sql).toBe(
        `((document #>> '{"entity","x"}'::text[]) = ANY($1::text[]) OR (document #> '{"entity","x"}'::text[]) = ANY($2::jsonb[]) OR (document #>> '{"entity","x"}'::text[]) IS NULL)`,
      );
      expect(compile({ name: { $in: [] } }).sql).toBe('FALSE');
      expect(compile({ name: { $nin: [] } }).sql).toBe('TRUE');
    });

    it('$contains is containment of the value (subset for arrays)', () => {
      expect(compile({ 'entity.languages': { $contains: ['Japanese', 'English'] } })).toMatchObject({
        sql: 'document @> $1::jsonb',
        params: ['{"entity":{"languages":["Japanese","English"]}}'],
      });
    });

    it('$regex binds the checked pattern; $options i gives ~*', () => {
      expect(compile({ name: { $regex: 'United .*', $options: 'i' } })).toMatchObject({
        sql: `(document #>> '{"name"}'::text[]) ~* $1::text`,
        params: ['(?p)United .*'],
      });
      expect(compile({ name: { $options: 's', $regex: 'a.b' } })).toMatchObject({ sql: `(document #>> '{"name"}'::text[]) ~ $1::text`, params: ['a.b'] });
    });

    it('$and, $or, $nor, $not', () => {
      expect(compile({ $or: [{ a: 1 }, { b: 2 }] }).sql).toBe('(document @> $1::jsonb OR document @> $2::jsonb)');
      expect(compile({ $nor: [{ a: 1 }, { b: 2 }] }).sql).toBe('((NOT document @> $1::jsonb) AND (NOT document @> $2::jsonb))');
      expect(compile({ $not: { a: 1 } }).sql).toBe('(NOT document @> $1::jsonb)');
      expect(compile({ $and: [{ a: 1 }] }).sql).toBe('document @> $1::jsonb');
      expect(compile({ name: { $or: [{ $regex: '^I' }, { $eq: 'China' }] } }).sql).toBe(
        `((document #>> '{"name"}'::text[]) ~ $1::text OR document @> $2::jsonb)`,
      );
    });

    it('array index segments compare the extracted value', () => {
      expect(compile({ 'entity.languages.0': 'English' }).sql).toBe(`(document #>> '{"entity","languages","0"}'::text[]) = $1::text`);
      expect(compile({ 'entity.languages.0': { $ne: 5 } }).sql).toBe(
        `(document #> '{"entity","languages","0"}'::text[]) IS DISTINCT FROM $1::jsonb`,
      );
    });

    it('geo: $near and $within over the guarded point expression the indexes use', () => {
      const location = fieldIndexExpressions('document', 'entity.location');
      const both = compile({ 'entity.location': { $near: { $geometry: POINT, $min: 0, $max: 750000 } } });
      expect(both.sql).toBe(
        `(${location.point} && ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326) AND ` +
          `ST_Distance(${location.point}::geography, ST_GeomFromGeoJSON($5::text)::geography, false) BETWEEN $6::float8 AND $7::float8)`,
      );
      expect(both.params.slice(4)).toEqual([JSON.stringify(POINT), 0, 750000]);
      const maxOnly = compile({ 'entity.location': { $near: { $max: 500000, $geometry: POINT } } });
      expect(maxOnly.sql).toContain(`ST_Distance(${location.point}::geography, ST_GeomFromGeoJSON($5::text)::geography, false) < $6::float8)`);
      const minOnly = compile({ 'entity.location': { $near: { $geometry: POINT, $min: 750000 } } });
      expect(minOnly.sql).toBe(`ST_Distance(${location.point}::geography, ST_GeomFromGeoJSON($1::text)::geography, false) > $2::float8`);
      // A quarter of the globe or more: no box, the exact test alone.
      const far = compile({ 'entity.location': { $near: { $geometry: POINT, $max: 10_100_000 } } });
      expect(far.sql).toBe(`ST_Distance(${location.point}::geography, ST_GeomFromGeoJSON($1::text)::geography, false) < $2::float8`);
      const within = compile({ 'entity.location': { $within: { $geometry: SQUARE } } });
      expect(within.sql).toBe(`ST_Within(${location.point}, ST_GeomFromGeoJSON($1::text))`);
      expect(within.params).toEqual([JSON.stringify(SQUARE)]);
    });

    it('query geometry is re-serialised with type and coordinates only', () => {
      const q = compile({ loc: { $within: { $geometry: { coordinates: SQUARE.coordinates, type: 'Polygon' } } } });
      expect(q.params).toEqual([JSON.stringify(SQUARE)]);
    });

    it('key order does not change the conditions', () => {
      const a = compile({ type: 'country', loc: { $near: { $geometry: POINT, $max: 1, $min: 0 } } });
      const b = compile({ loc: { $near: { $min: 0, $max: 1, $geometry: POINT } }, type: 'country' });
      expect(new Set(b.params.map((p) => JSON.stringify(p)))).toEqual(new Set(a.params.map((p) => JSON.stringify(p))));
      expect(b.sql.length).toBe(a.sql.length);
    });

    it('{} is TRUE, or FALSE with whenEmpty none; {"field": {}} is TRUE', () => {
      expect(compile({})).toMatchObject({ sql: 'TRUE', params: [], empty: true });
      const none = compile({}, { whenEmpty: 'none' });
      expect(none).toMatchObject({ sql: 'FALSE', empty: true, matchesNothing: true });
      expect(compile({ name: {} }).sql).toBe('TRUE');
    });
  });

  describe('paths and column', () => {
    it('paths with other characters are bound as parameters, never written into SQL', () => {
      const q = compile({ "na'me.x y": { $gt: 1 }, 'entité.nom': 'a' });
      expect(q.sql).toBe('((document #> $1::text[]) > $2::jsonb AND document @> $3::jsonb)');
      expect(q.params).toEqual([["na'me", 'x y'], '1', '{"entité":{"nom":"a"}}']);
    });

    it('"__proto__" is an ordinary key', () => {
      expect(compile({ '__proto__.x': 1 }).params).toEqual(['{"__proto__":{"x":1}}']);
      expect(compile(JSON.parse('{"__proto__": "a"}')).params).toEqual(['{"__proto__":"a"}']);
    });

    it('whitelisted segments are double-quoted inside the array literal (NULL stays a key)', () => {
      expect(compile({ NULL: { $gt: 1 } }).sql).toBe(`(document #> '{"NULL"}'::text[]) > $1::jsonb`);
    });

    it('long segments and many segments', () => {
      const long = 'a'.repeat(129);
      expect(compile({ [long]: { $gt: 1 } }).sql).toBe('(document #> $1::text[]) > $2::jsonb');
      expect(fromValue({ [Array(33).fill('a').join('.')]: 1 })).toBe(QueryErrorReason.Unparsable);
    });

    it('takes only a plain column reference', () => {
      expect(compile({ a: 1 }, { column: 'r.document' }).sql).toBe('r.document @> $1::jsonb');
      for (const column of ['Document', 'document; DROP TABLE x', '"document"', 'a.b.c', '', 'document--']) {
        expect(() => compile({ a: 1 }, { column })).toThrow(/column/);
      }
    });

    it('fieldIndexExpressions refuses paths that are bound as parameters', () => {
      expect(() => fieldIndexExpressions('document', "entity.it's")).toThrow();
      expect(fieldIndexExpressions('document', 'entity.population')).toMatchObject({
        json: `(document #> '{"entity","population"}'::text[])`,
        text: `(document #>> '{"entity","population"}'::text[])`,
      });
    });
  });

  describe('numbering and combining', () => {
    it('numbers from firstParam', () => {
      expect(compile({ a: 1, b: { $gt: 2 } }, { firstParam: 4 }).sql).toBe(`(document @> $4::jsonb AND (document #> '{"b"}'::text[]) > $5::jsonb)`);
    });

    it('and() renumbers the second fragment and drops TRUE', () => {
      const segment = compile({ type: 'country' });
      const user = compile({ name: { $in: ['India', 'China'] } });
      const both = and(segment, user);
      expect(both.sql).toBe(`(document @> $1::jsonb AND (document #>> '{"name"}'::text[]) = ANY($2::text[]))`);
      expect(both.params).toEqual(['{"type":"country"}', ['India', 'China']]);
      expect(both.withFirstParam(3).sql).toBe(`(document @> $3::jsonb AND (document #>> '{"name"}'::text[]) = ANY($4::text[]))`);
      expect(and(compile({}), user).sql).toBe(`(document #>> '{"name"}'::text[]) = ANY($1::text[])`);
      expect(and(compile({}), compile({}, { whenEmpty: 'none' })).sql).toBe('FALSE');
      expect(and(segment, user)).toBeInstanceOf(CompiledQuery);
    });
  });

  describe('errors (BitBroker reasons)', () => {
    it.each(['', '{', "{'a': 1}", '{"a": 1,}', 'undefined', '{"a": NaN}', '{"a": 01}'])('not valid json: %p', (text) => {
      expect(fromText(text)).toBe(QueryErrorReason.NotJson);
    });

    it.each([
      '{"$foo": 1}',
      '{"name": {"$exists": true}}',
      '{"name": {"$elemMatch": {"a": 1}}}',
      '{"$where": "1 = 1"}',
      '{"$text": {"$search": "x"}}',
      '{"$and": [{"name": {"$size": 1}}]}',
      '{"loc": {"$near": {"$geometry": {"type": "Point", "coordinates": [0, 0]}, "$maxDistance": 1}}}',
      '{"name": {"$all": ["a"]}}',
      '{"name": {"$type": "string"}, "x": {"$foo": 1}}',
      '{"$": 1}',
      '{"$and": [], "$bad": 1}',
    ])('unrecognised operations: %s', (text) => {
      expect(fromText(text)).toBe(QueryErrorReason.Unrecognised);
    });

    it.each([
      ['true', true],
      ['a string', 'slug'],
      ['a number', 5],
      ['null', null],
      ['an array', [{ a: 1 }]],
      ['$and: []', { $and: [] }],
      ['$or: true', { $or: true }],
      ['$or: {}', { $or: {} }],
      ['$and of scalars', { $and: [1] }],
      ['$and of arrays', { $and: [[{ a: 1 }]] }],
      ['$nor not an array', { $nor: { a: 1 } }],
      ['$not of a scalar', { $not: 'x' }],
      ['a field operator at the top', { $eq: 1 }],
      ['$regex at the top', { $regex: 'x' }],
      ['$contains at the top', { $contains: { a: 1 } }],
      ['$geometry at the top', { $geometry: POINT }],
      ['$in of a string', { name: { $in: 'abc' } }],
      ['$nin of an object', { name: { $nin: { a: 1 } } }],
      ['$regex of a number', { name: { $regex: 5 } }],
      ['$options without $regex', { name: { $options: 'i' } }],
      ['unknown $options letter', { name: { $regex: 'a', $options: 'g' } }],
      ['an invalid regex', { name: { $regex: 'a{1' } }],
      ['operators and fields mixed', { name: { $gt: 1, x: 2 } }],
      ['an operator nested in a value', { entity: { population: { $gt: 1 } } }],
      ['an operator inside $eq', { name: { $eq: { $gt: 1 } } }],
      ['an operator inside $in', { name: { $in: [{ $gt: 1 }] } }],
      ['an empty path segment', { 'a..b': 1 }],
      ['a leading dot', { '.a': 1 }],
      ['an empty key', { '': 1 }],
      ['an operator inside a path', { 'a.$eq': 1 }],
      ['$min alone', { loc: { $min: 1 } }],
      ['$geometry alone', { loc: { $geometry: POINT } }],
      ['$near without $geometry', { loc: { $near: { $max: 1 } } }],
      ['$near without $min or $max', { loc: { $near: { $geometry: POINT } } }],
      ['$near with a string $max', { loc: { $near: { $geometry: POINT, $max: '1' } } }],
      ['$near with a negative $min', { loc: { $near: { $geometry: POINT, $min: -1 } } }],
      ['$near with another operator inside', { loc: { $near: { $geometry: POINT, $max: 1, $within: {} } } }],
      ['$near of a scalar', { loc: { $near: 5 } }],
      ['$within of a Point', { loc: { $within: { $geometry: POINT } } }],
      ['$within with $max', { loc: { $within: { $geometry: SQUARE, $max: 1 } } }],
      ['an unclosed ring', { loc: { $within: { $geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } } } }],
      ['a short ring', { loc: { $within: { $geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [0, 0]]] } } } }],
      ['latitude out of range', { loc: { $near: { $geometry: { type: 'Point', coordinates: [0, 91] }, $max: 1 } } }],
      ['longitude out of range', { loc: { $near: { $geometry: { type: 'Point', coordinates: [181, 0] }, $max: 1 } } }],
      ['a text ordinate', { loc: { $near: { $geometry: { type: 'Point', coordinates: ['0', 0] }, $max: 1 } } }],
      ['one ordinate', { loc: { $near: { $geometry: { type: 'Point', coordinates: [0] }, $max: 1 } } }],
      ['an empty Point', { loc: { $near: { $geometry: { type: 'Point', coordinates: [] }, $max: 1 } } }],
      ['a Feature', { loc: { $near: { $geometry: { type: 'Feature', geometry: POINT }, $max: 1 } } }],
      ['a crs member', { loc: { $near: { $geometry: { ...POINT, crs: { type: 'name' } }, $max: 1 } } }],
      ['a GeometryCollection', { loc: { $near: { $geometry: { type: 'GeometryCollection', geometries: [] }, $max: 1 } } }],
      ['a NUL in a value', { name: 'a\u0000b' }],
      ['a NUL in a key', { 'na\u0000me': 1 }],
      ['a lone surrogate', { name: '\ud800' }],
      ['an infinite number', { 'entity.population': Infinity }],
      ['NaN', { 'entity.population': { $gt: NaN } }],
      ['undefined', { name: undefined }],
      ['a Date', { name: new Date() }],
      ['a function', { name: () => 1 }],
      ['a Map', new Map()],
      ['a class instance', { name: new (class X {})() }],
    ])('cannot be parsed: %s', (_, value) => {
      expect(fromValue(value)).toBe(QueryErrorReason.Unparsable);
    });

    it('nesting: 32 levels pass, 33 do not; huge texts and deep arrays do not blow the stack', () => {
      let ok: Record<string, unknown> = {};
      for (let i = 1; i < 32; i++) ok = { $not: ok };
      expect(fromValue(ok)).toBe('ok');
      expect(fromValue({ $not: ok })).toBe(QueryErrorReason.Unparsable);
      expect(fromText(`${'['.repeat(30000)}${']'.repeat(30000)}`)).toBe(QueryErrorReason.Unparsable);
      expect(fromText(`{"a": ${'['.repeat(100000)}${']'.repeat(100000)}}`)).toBe(QueryErrorReason.Unparsable);
      expect(fromText(`{"a": "${'x'.repeat(70000)}"}`)).toBe(QueryErrorReason.Unparsable);
      expect(reasonOf(() => parseQuery(`{"a": "${'x'.repeat(70000)}"}`, { maxLength: 100000 }))).toBe('ok');
    });

    it('too many values', () => {
      expect(fromValue({ name: { $in: Array.from({ length: 9000 }, (_, i) => `n${i}`) } })).toBe('ok');
      expect(fromValue({ name: { $in: Array.from({ length: 10001 }, (_, i) => `n${i}`) } })).toBe(QueryErrorReason.Unparsable);
      expect(reasonOf(() => compile({ a: [1, 2, 3] }, { limits: { maxNodes: 3 } }))).toBe(QueryErrorReason.Unparsable);
    });

    it('unrecognised operations win over other problems, as in BitBroker', () => {
      expect(fromValue({ $and: [], x: { $foo: 1 } })).toBe(QueryErrorReason.Unrecognised);
      expect(fromValue({ name: 'a\u0000', x: { $foo: 1 } })).toBe(QueryErrorReason.Unrecognised);
    });

    it('values that look like operators are just values (BitBroker refused them)', () => {
      expect(compile({ currency: '$foo' }).params).toEqual(['{"currency":"$foo"}']);
    });

    it('QueryError carries the BitBroker error name and a detail', () => {
      try {
        compile({ name: { $regex: 'x{256}' } });
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(QueryError);
        expect(QueryError.ERROR_NAME).toBe('policy.data_segment.segment_query');
        expect((error as QueryError).detail).toContain('x{256}');
      }
    });
  });

  describe('validateQuery (policy data_segment.segment_query)', () => {
    it.each([
      [true, QueryErrorReason.Unparsable],
      ['some-slug', QueryErrorReason.Unparsable],
      [{ $foo: 'some-slug' }, QueryErrorReason.Unrecognised],
      [{ $or: true }, QueryErrorReason.Unparsable],
      [{ $and: [] }, QueryErrorReason.Unparsable],
      [[], QueryErrorReason.Unparsable],
    ])('%p → %s', (segment, reason) => {
      expect(validateQuery(segment)?.reason).toBe(reason);
    });

    it.each([
      {},
      { type: 'country' },
      { type: 'country', 'entity.population': { $gt: 1000000000 } },
      { type: 'country', 'entity.code': { $in: ['AT', 'BE', 'BG'] } },
      { 'entity.location': { $within: { $geometry: SQUARE } } },
      undefined,
      null,
      false,
      0,
      '',
    ])('accepts %p (falsy counts as {}, as BitBroker)', (segment) => {
      expect(validateQuery(segment)).toBeNull();
    });
  });
});
