import { existsSync, readFileSync } from 'fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import type { DatasetPage } from '../adapter';
import type { SafeHttpClientOptions } from '../http/safe-http-client';

/** Repository root, from this file's place in libs/catalog-connectors/src/testing. */
const REPOSITORY_ROOT = join(__dirname, '../../../..');

/**
 * The recorded real-world payloads shared beside the repository
 * (`../shared/fixtures`). Always present in CI: a missing folder is a failure,
 * not a reason to skip.
 */
export function fixturePath(...parts: string[]): string {
  const root = join(REPOSITORY_ROOT, '../shared/fixtures');
  if (!existsSync(root)) throw new Error(`fixture folder ${root} is missing (expected ../shared/fixtures beside the repository)`);
  const path = join(root, ...parts);
  if (!existsSync(path)) throw new Error(`fixture ${path} is missing`);
  return path;
}

export function readFixture(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}

/** Client settings for tests: the given fake hosts allowed, retries fast. */
export function testHttpOptions(allowedHosts: string[], extra: SafeHttpClientOptions = {}): SafeHttpClientOptions {
  return { allowedHosts, retryBaseDelayMs: 5, maxRetryDelayMs: 2_000, maxRetries: 3, timeoutMs: 5_000, ...extra };
}

export async function collectPages(pages: AsyncIterable<DatasetPage>): Promise<DatasetPage[]> {
  const collected: DatasetPage[] = [];
  for await (const page of pages) collected.push(page);
  return collected;
}

/** A bare HTTP server for cases the fake catalogs do not model (redirects, bombs). */
export async function startRawServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; host: string; hits: string[]; stop(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    hits,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
