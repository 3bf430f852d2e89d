import { pointGeometry } from './geo';
import { checkColumn, isLiteralPath, jsonAt, splitPath, textAt } from './paths';
import { Sql } from './sql';

/**
 * The exact expressions the compiler generates for a field, for building expression
 * indexes that the planner will match (it matches index expressions structurally, so
 * the index must be created on the same expression). Only for paths whose segments
 * all match `LITERAL_SEGMENT`; other paths are compiled with a bound path parameter
 * and cannot be served by an expression index.
 *
 *   json      btree: $gt/$gte/$lt/$lte on numbers, $in/$nin on non-strings
 *   text      btree: $gt/$gte/$lt/$lte on strings, $in/$nin on strings
 *             (gin with gin_trgm_ops from pg_trgm: $regex)
 *   point     gist:  $within, $near with $max (a lon/lat box around the circle)
 *
 * Implicit equality, $eq, $ne and $contains are containment on the whole column:
 * one GIN index on the column (`jsonb_path_ops`) serves them for every path.
 */
export interface FieldIndexExpressions {
  json: string;
  text: string;
  point: string;
}

export function fieldIndexExpressions(column: string, dottedPath: string): FieldIndexExpressions {
  checkColumn(column);
  const segments = splitPath(dottedPath);
  if (!isLiteralPath(segments)) {
    throw new Error(`@odb/query: "${dottedPath}" has segments outside [A-Za-z0-9_-]; such paths are bound as parameters and cannot be indexed`);
  }
  const text = (sql: Sql) => sql.render().sql;
  return {
    json: text(jsonAt(column, segments)),
    text: text(textAt(column, segments)),
    point: text(pointGeometry(column, segments)),
  };
}
