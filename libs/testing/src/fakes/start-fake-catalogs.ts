import { FakeCkan } from './fake-ckan';
import { FakeDcat } from './fake-dcat';
import { FakeUdata } from './fake-udata';

export interface FakeCatalogsOptions {
  host?: string;
  /** Fixed ports (0 or absent = any free port). */
  ports?: { ckan?: number; udata?: number; dcat?: number };
  /** Datasets generated in each fake (default 25). */
  datasets?: number;
  /** Remote rate limit, answered with 429 (e.g. 20 for "20 requests/s"); 0 = none. */
  requestsPerSecond?: number;
}

export interface RunningFakeCatalogs {
  ckan: FakeCkan;
  udata: FakeUdata;
  dcat: FakeDcat;
  /** What to configure in the platform (catalog URLs and credentials). */
  describe(): Record<'ckan' | 'udata' | 'dcat', { url: string; apiKey?: string; organization?: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the three fake catalogs, seeded with a few datasets, for a local demo
 * or a benchmark (a command-line wrapper only has to call this and print
 * `describe()`).
 */
export async function startFakeCatalogs(options: FakeCatalogsOptions = {}): Promise<RunningFakeCatalogs> {
  const count = options.datasets ?? 25;
  const ckan = new FakeCkan();
  const ckanOrganization = ckan.addOrganization('demo-org', 'Demo organization');
  ckan.generate(count, { organizations: ['demo-org', 'other-org'], tags: ['demo'], formats: ['CSV', 'JSON'] });
  const udata = new FakeUdata({ organizations: ['demo-org'] });
  udata.generate(count, { organizations: ['demo-org'], tags: ['demo'], formats: ['csv', 'json'] });
  const dcat = new FakeDcat();
  dcat.generate(count, { keywords: ['demo'] });
  dcat.pageSize = 10;

  const started: Array<FakeCkan | FakeUdata | FakeDcat> = [];
  try {
    started.push(await ckan.start(options.ports?.ckan ?? 0, options.host));
    started.push(await udata.start(options.ports?.udata ?? 0, options.host));
    started.push(await dcat.start(options.ports?.dcat ?? 0, options.host));
  } catch (error) {
    await Promise.all(started.map((server) => server.stop()));
    throw error;
  }
  for (const server of started) server.limitRate(options.requestsPerSecond ?? 0);
  const udataOrganization = [...udata.organizations.values()][0];
  return {
    ckan,
    udata,
    dcat,
    describe: () => ({
      ckan: { url: ckan.url, apiKey: ckan.options.apiTokens[0], organization: ckanOrganization.name },
      udata: { url: udata.url, apiKey: udata.users[0].apiKey, organization: udataOrganization.id },
      dcat: { url: dcat.catalogUrl('jsonld') },
    }),
    stop: async () => {
      await Promise.all(started.map((server) => server.stop()));
    },
  };
}
