export { QueryError, QueryErrorReason } from './errors';
export type { CatalogQuery, CompileOptions, QueryLimits } from './compiler';
export { CompiledQuery, DEFAULT_LIMITS, OPERATORS, and, compileQuery, parseQuery, validateQuery } from './compiler';
export type { FieldIndexExpressions } from './indexes';
export { fieldIndexExpressions } from './indexes';
export { LITERAL_SEGMENT } from './paths';
export { Sql } from './sql';
