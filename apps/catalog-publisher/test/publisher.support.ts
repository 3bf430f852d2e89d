import { Client } from 'pg';
import { ApiClient, FakeCkan, FakeUdata, InProcessService, TestEnvironment, startInProcess, waitFor } from '@odb/testing';
import { CoordinatorConfig } from '../../coordinator/src/config';
import { startCoordinator } from '../../coordinator/test/coordinator.support';
import { CatalogPublisherConfig } from '../src/config';
import { catalogPublisherService } from '../src/service';

export const CONSUMER_URL = 'https://data.example.org/consumer/v1';
export const UDATA_KEY = 'udata-secret-key-4f7c2a9e81d3';
export const CKAN_KEY = 'ckan-secret-token-9b1e5d27c6a0';

/** Publisher settings for tests: short debounce, backoff and lease so that retries and recoveries take seconds. */
export function publisherEnv(fakes: { udata?: FakeUdata; ckan?: FakeCkan }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REMOTE_ALLOWED_HOSTS: [fakes.udata?.host, fakes.ckan?.host].filter(Boolean).join(','),
    PUBLIC_CONSUMER_URL: CONSUMER_URL,
    PUBLISH_DEBOUNCE_MS: '100',
    PUBLISH_BACKOFF_MS: '100',
    PUBLISH_ATTEMPTS: '3',
    PUBLISH_HTTP_RETRIES: '1',
    PUBLISH_LEASE_MS: '3000',
    PUBLISH_REQUESTS_PER_SECOND: '0',
    REMOTE_TIMEOUT_MS: '2000',
    ...extra,
  };
}

export interface PublishingPlatform {
  env: TestEnvironment;
  udata: FakeUdata;
  ckan: FakeCkan;
  coordinator: InProcessService<CoordinatorConfig>;
  publisher?: InProcessService<CatalogPublisherConfig>;
  /** The coordinator API with the bootstrap coordinator token. */
  api: ApiClient;
  sql<T = any>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** Fake udata and CKAN, a coordinator and (unless told otherwise) a catalog publisher, in-process, on one test environment. */
export async function startPublishingPlatform(
  options: { publisher?: boolean; publisherEnv?: Record<string, string> } = {},
): Promise<PublishingPlatform> {
  const env = await TestEnvironment.create();
  const udata = await new FakeUdata({ apiKey: UDATA_KEY, organizations: ['Ville de Test'] }).start();
  const ckan = await new FakeCkan({ apiTokens: [CKAN_KEY] }).start();
  ckan.addOrganization('town', 'Town of Test');
  const { service: coordinator, api } = await startCoordinator(env);
  const publisher =
    options.publisher === false
      ? undefined
      : await startInProcess(catalogPublisherService, env.serviceEnv(publisherEnv({ udata, ckan }, options.publisherEnv)));
  const sql = async <T>(text: string, params: unknown[] = []): Promise<T[]> => {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  };
  return {
    env,
    udata,
    ckan,
    coordinator,
    publisher,
    api,
    sql,
    close: async () => {
      await publisher?.close();
      await coordinator.close();
      await udata.stop();
      await ckan.stop();
      await env.dispose();
    },
  };
}

/** The udata organization the fake knows, by name. */
export function udataOrganization(udata: FakeUdata, name = 'Ville de Test'): string {
  return [...udata.organizations.values()].find((org) => org.name === name)!.id;
}

export async function addUdataCatalog(platform: PublishingPlatform, slug = 'datagouv'): Promise<void> {
  const { status, text } = await platform.api.post(`/remote-catalog/${slug}`, {
    type: 'udata',
    url: platform.udata.url,
    name: 'Fake data.gouv.fr',
    organization: udataOrganization(platform.udata),
    api_key: UDATA_KEY,
  });
  if (status !== 201) throw new Error(`remote catalog not created: ${status} ${text}`);
}

export async function addCkanCatalog(platform: PublishingPlatform, slug = 'town-ckan'): Promise<void> {
  const { status, text } = await platform.api.post(`/remote-catalog/${slug}`, {
    type: 'ckan',
    url: platform.ckan.url,
    name: 'Fake CKAN',
    organization: 'town',
    api_key: CKAN_KEY,
  });
  if (status !== 201) throw new Error(`remote catalog not created: ${status} ${text}`);
}

export async function createEntityType(platform: PublishingPlatform, slug: string, body: Record<string, unknown> = {}): Promise<void> {
  const { status, text } = await platform.api.post(`/entity/${slug}`, {
    name: `Type ${slug}`,
    description: `All about ${slug}`,
    tags: ['test'],
    ...body,
  });
  if (status !== 201) throw new Error(`entity type not created: ${status} ${text}`);
}

export async function putMetadata(platform: PublishingPlatform, slug: string, metadata: Record<string, unknown>): Promise<void> {
  const { status, text } = await platform.api.put(`/entity/${slug}/metadata`, metadata);
  if (status !== 204) throw new Error(`metadata not saved: ${status} ${text}`);
}

export async function publish(platform: PublishingPlatform, slug: string, catalog: string, body: Record<string, unknown> = {}): Promise<number> {
  const { status, text } = await platform.api.put(`/entity/${slug}/publication/${catalog}`, body);
  if (status !== 201 && status !== 204) throw new Error(`publication not saved: ${status} ${text}`);
  return status;
}

export async function getPublication(platform: PublishingPlatform, slug: string, catalog: string) {
  return platform.api.get(`/entity/${slug}/publication/${catalog}`);
}

/** Waits until the publication answers `predicate` (e.g. `error`) and returns it. */
export async function waitForPublication(
  platform: PublishingPlatform,
  slug: string,
  catalog: string,
  predicate: (publication: any) => boolean,
  timeoutMs = 15_000,
): Promise<any> {
  let last: unknown;
  try {
    return await waitFor(
      async () => {
        const { status, body } = await getPublication(platform, slug, catalog);
        last = status === 200 ? body : status;
        return status === 200 && predicate(body) ? body : undefined;
      },
      { timeoutMs, intervalMs: 50, what: `publication ${slug} → ${catalog}` },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

export interface PublicationState {
  status: string;
  requested_version: number;
  pushed_version: number | null;
}

export async function publicationState(platform: PublishingPlatform, slug: string, catalog: string): Promise<PublicationState | undefined> {
  const [row] = await platform.sql<PublicationState>(
    `SELECT p.status, p.requested_version, p.pushed_version FROM publication p JOIN remote_catalog c ON c.id = p.remote_catalog_id
      WHERE p.entity_type_slug = $1 AND c.slug = $2`,
    [slug, catalog],
  );
  return row;
}

/**
 * Waits until the publication is `done` with nothing pending and a push
 * beyond `after` (the pushed version seen before the change under test;
 * omit it for a first publication), then returns what the API shows.
 */
export async function waitUntilPublished(
  platform: PublishingPlatform,
  slug: string,
  catalog: string,
  after: number | null = null,
  timeoutMs = 15_000,
): Promise<any> {
  let last: PublicationState | undefined;
  try {
    await waitFor(
      async () => {
        last = await publicationState(platform, slug, catalog);
        return (
          last !== undefined &&
          last.status === 'done' &&
          last.pushed_version === last.requested_version &&
          (after === null || (last.pushed_version ?? 0) > after)
        );
      },
      { timeoutMs, intervalMs: 50, what: `${slug} published to ${catalog}` },
    );
  } catch (error) {
    const shown = await getPublication(platform, slug, catalog);
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}; API: ${shown.text}`);
  }
  return (await getPublication(platform, slug, catalog)).body;
}

/** The version the last push carried (to wait for the next one). */
export async function pushedVersion(platform: PublishingPlatform, slug: string, catalog: string): Promise<number> {
  return (await publicationState(platform, slug, catalog))?.pushed_version ?? 0;
}
