import type { IncomingHttpHeaders } from 'http';
import Negotiator from 'negotiator';

/**
 * The media type of `available` that the request's `Accept` header prefers
 * (q-values and specificity as RFC 9110 says; the first of `available` on a
 * tie or without `Accept`), or undefined when it accepts none of them.
 */
export function preferredMediaType(request: { headers: IncomingHttpHeaders }, available: string[]): string | undefined {
  return new Negotiator(request).mediaType(available);
}
