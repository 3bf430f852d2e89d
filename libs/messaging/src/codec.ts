import { JSONCodec } from 'nats';

/** One JSON codec for every message the platform puts on NATS. */
export const json = JSONCodec<unknown>();

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
