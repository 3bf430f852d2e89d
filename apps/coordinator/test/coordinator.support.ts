import { mkdtempSync, readFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { NatsConnection, connect } from 'nats';
import { wireSubject } from '@odb/contracts';
import { ApiClient, ApiResponse, InProcessService, TestEnvironment, startInProcess, waitFor } from '@odb/testing';
import { ContributorIngestConfig } from '../../contributor-ingest/src/config';
import { contributorIngestService } from '../../contributor-ingest/src/service';
import { CoordinatorConfig } from '../src/config';
import { coordinatorService } from '../src/service';

export const BOOTSTRAP = { name: 'Test Admin', email: 'Admin@Example.org', organization: 'Test Org' };

/** A coordinator on this test file's database, in enforced auth mode unless told otherwise. */
export async function startCoordinator(env: TestEnvironment, extra: Record<string, string> = {}) {
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'odb-coordinator-')), 'bootstrap.token');
  const service: InProcessService<CoordinatorConfig> = await startInProcess(
    coordinatorService,
    env.serviceEnv({
      BOOTSTRAP_USER_NAME: BOOTSTRAP.name,
      BOOTSTRAP_USER_EMAIL: BOOTSTRAP.email,
      BOOTSTRAP_USER_ORG: BOOTSTRAP.organization,
      BOOTSTRAP_TOKEN_FILE: tokenFile,
      ...extra,
    }),
  );
  const token = readFileSync(tokenFile, 'utf8').trim();
  return { service, token, tokenFile, api: new ApiClient(service.api, { 'x-bbk-auth-token': token }) };
}

export type StartedCoordinator = Awaited<ReturnType<typeof startCoordinator>>;

/**
 * A coordinator on its own database for the enclosing describe block: started
 * before its tests (then `started` runs, e.g. to keep its API client), closed
 * and dropped after them.
 */
export function useCoordinator(started: (coordinator: StartedCoordinator) => void | Promise<void>): void {
  let env: TestEnvironment | undefined;
  let coordinator: StartedCoordinator | undefined;
  beforeAll(async () => {
    env = await TestEnvironment.create();
    coordinator = await startCoordinator(env);
    await started(coordinator);
  });
  afterAll(async () => {
    await coordinator?.service.close();
    await env?.dispose();
  });
}

export const countries = {
  name: 'Countries',
  description: 'All the countries in the world',
  schema: { type: 'object', properties: { population: { type: 'integer', minimum: 0 } } },
  timeseries: { population: { period: 'P1Y', value: 'people', unit: 'x1000' } },
  tags: ['geo', 'world'],
  icon: '',
};

export const sites = { name: 'Heritage sites', description: 'World heritage sites', tags: ['heritage'] };

export const connectorBody = { name: 'Wikipedia', description: 'Scraped from Wikipedia', webhook: 'http://webhook.example.org/', cache: 0 };

export const openPolicy = {
  name: 'Everything',
  description: 'All records',
  tags: ['open'],
  policy: {
    access_control: { enabled: true, quota: { max_number: 86400, interval_type: 'day' }, rate: 250 },
    data_segment: { segment_query: { type: 'country' }, field_masks: ['country.entity.population'] },
    legal_context: [{ type: 'attribution', text: 'Data from Wikipedia', link: 'https://en.wikipedia.org/' }],
  },
};

/** BitBroker's test regex for any token (tests/lib/data.js). */
export const TOKEN_PATTERN = /^[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]+$/;

/** The `{name, index, reason}` items of a 400 answer. */
export function fieldErrors(response: ApiResponse): Array<{ name: string; index: number | null; reason: string }> {
  return (response.body as { error?: { message?: unknown } })?.error?.message as Array<{ name: string; index: number | null; reason: string }>;
}

/** The items of a 400 answer as `name: reason` lines, for readable assertions. */
export function errorLines(response: ApiResponse): string[] {
  return (fieldErrors(response) ?? []).map((error) => `${error.name}: ${error.reason}`);
}

/** The contributor-ingest service on the same test resources (its own verifier cache, its own NATS connection). */
export async function startContributorIngest(env: TestEnvironment, extra: Record<string, string> = {}) {
  const service: InProcessService<ContributorIngestConfig> = await startInProcess(contributorIngestService, env.serviceEnv(extra));
  return { service, api: new ApiClient(service.api) };
}

export function userBody(name: string, email: string, organization = 'Acme Corp', addendum?: Record<string, unknown>) {
  return { name, email, organization, ...(addendum ? { addendum } : {}) };
}

export interface RecordedEvent {
  /** The logical subject from the envelope, e.g. `user.created`. */
  subject: string;
  /** The NATS subject it arrived on. */
  wireSubject: string;
  id: string;
  occurredAt: string;
  source: string;
  payload: any;
}

/**
 * Every domain event of a namespace, as any subscriber sees it: a core NATS
 * subscription on `<namespace>.events.v1.>` (no JetStream consumer).
 */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  private nc?: NatsConnection;

  static async start(env: TestEnvironment): Promise<EventRecorder> {
    const recorder = new EventRecorder();
    const nc = await connect({ servers: env.natsUrl });
    recorder.nc = nc;
    nc.subscribe(wireSubject(env.namespace, '>'), {
      callback: (error, message) => {
        if (error) return;
        const event = JSON.parse(new TextDecoder().decode(message.data)) as Omit<RecordedEvent, 'wireSubject'>;
        recorder.events.push({ ...event, wireSubject: message.subject });
      },
    });
    await nc.flush(); // the subscription is known to the server before anything is published
    return recorder;
  }

  /** Runs `action` and returns the events that arrived after it until `count` of them are there. */
  async during(count: number, action: () => Promise<unknown>, timeoutMs = 5000): Promise<RecordedEvent[]> {
    const start = this.events.length;
    await action();
    await waitFor(() => this.events.length >= start + count, { timeoutMs, intervalMs: 10, what: `${count} event(s)` });
    return this.events.slice(start);
  }

  async close(): Promise<void> {
    await this.nc?.close();
  }
}

/**
 * Another coordinator replica on a database that is already bootstrapped (so
 * no token file is written): its client sends no token.
 */
export async function startCoordinatorReplica(env: TestEnvironment, extra: Record<string, string> = {}) {
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'odb-coordinator-')), 'bootstrap.token');
  const service: InProcessService<CoordinatorConfig> = await startInProcess(
    coordinatorService,
    env.serviceEnv({ BOOTSTRAP_TOKEN_FILE: tokenFile, ...extra }),
  );
  return { service, api: new ApiClient(service.api) };
}
