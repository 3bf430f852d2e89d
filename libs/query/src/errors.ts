/** The three reasons BitBroker gives for a bad catalog query or policy segment (exact texts). */
export const QueryErrorReason = {
  NotJson: 'Query is not valid json',
  Unrecognised: 'Query contains unrecognised operations',
  Unparsable: 'Query cannot be parsed',
} as const;

export type QueryErrorReason = (typeof QueryErrorReason)[keyof typeof QueryErrorReason];

/**
 * A query the client got wrong: always a 400. `reason` is BitBroker's text, to be
 * reported under the error name `policy.data_segment.segment_query` (BitBroker uses
 * that name for catalog `?q=` errors too). `detail` says what exactly was wrong, for
 * logs; it is not part of BitBroker's envelope.
 */
export class QueryError extends Error {
  /** The name BitBroker reports these errors under, for `q` as well as for policies. */
  static readonly ERROR_NAME = 'policy.data_segment.segment_query';

  constructor(
    readonly reason: QueryErrorReason,
    readonly detail?: string,
  ) {
    super(detail ? `${reason}: ${detail}` : reason);
    this.name = 'QueryError';
  }
}

export function unparsable(detail: string): QueryError {
  return new QueryError(QueryErrorReason.Unparsable, detail);
}
