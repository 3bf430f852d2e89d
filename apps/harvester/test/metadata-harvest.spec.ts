import { ApiClient, FakeCkan, FakeDcat, FakeHttpServer, FakeRequest, FakeResponse, FakeUdata, describeWithInfrastructure, startInProcess, waitFor } from '@odb/testing';
import { consumerQueryService } from '../../consumer-query/src/service';
import { HarvestPlatform, addCatalog, addSource, records, runHarvest, sql, startHarvestPlatform } from './harvest.support';

type Kind = 'ckan' | 'udata' | 'dcat';

/** What differs between the three fakes: seeding, remote edits, removal, and what a "later page" request is. */
interface Remote {
  kind: Kind;
  server: FakeHttpServer;
  url(): string;
  ids(): string[];
  add(title: string): string;
  edit(id: string, title: string): void;
  remove(id: string): void;
  isLaterPage(request: FakeRequest): boolean;
}

function fakeCkan(): Remote {
  const ckan = new FakeCkan();
  return {
    kind: 'ckan',
    server: ckan,
    url: () => ckan.url,
    ids: () => [...ckan.packages.values()].filter((pkg) => pkg.state === 'active').map((pkg) => pkg.id),
    // No title and no name: CKAN falls back from one to the other.
    add: (title) => ckan.addDataset({ title, ...(title ? {} : { name: '' }), notes: `About ${title}`, tags: [{ name: 'town' }], resources: [{ url: 'https://files.example.org/a.csv', format: 'CSV' }] }).id,
    edit: (id, title) => void ckan.touch(id, { title }),
    remove: (id) => void (ckan.getDataset(id)!.state = 'deleted'),
    isLaterPage: (request) => request.path.endsWith('/package_search') && Number(request.query.get('start') ?? 0) > 0,
  };
}

function fakeUdata(): Remote {
  const udata = new FakeUdata();
  return {
    kind: 'udata',
    server: udata,
    url: () => udata.url,
    ids: () => [...udata.datasets.values()].filter((dataset) => !dataset.deleted).map((dataset) => dataset.id),
    add: (title) => udata.addDataset({ title, tags: ['town'], resources: [{ url: 'https://files.example.org/a.csv', format: 'csv' }] }).id,
    edit: (id, title) => void udata.editRemotely(id, { title }),
    remove: (id) => void udata.datasets.delete(id),
    isLaterPage: (request) => request.path.startsWith('/api/1/datasets') && Number(request.query.get('page') ?? 1) > 1,
  };
}

function fakeDcat(): Remote {
  const dcat = new FakeDcat();
  dcat.pageSize = 2;
  let counter = 0;
  return {
    kind: 'dcat',
    server: dcat,
    url: () => dcat.catalogUrl('jsonld'),
    ids: () => dcat.datasets.map((dataset) => dataset.identifier),
    add: (title) => {
      counter += 1;
      const identifier = `town-${counter}`;
      dcat.addDataset({ identifier, uri: `https://data.example.org/${identifier}`, title, keywords: ['town'], distributions: [{ url: 'https://files.example.org/a.csv', format: 'CSV' }] });
      return identifier;
    },
    edit: (id, title) => void (dcat.datasets.find((dataset) => dataset.identifier === id)!.title = title),
    remove: (id) => void dcat.datasets.splice(dcat.datasets.findIndex((dataset) => dataset.identifier === id), 1),
    isLaterPage: (request) => Number(request.query.get('page') ?? 1) > 1,
  };
}

/** Makes every request for a page after the first answer `response` until the returned function is called. */
function interceptLaterPages(remote: Remote, response: FakeResponse | ((request: FakeRequest) => FakeResponse | undefined)): () => void {
  const server = remote.server as unknown as { handle: (request: FakeRequest) => FakeResponse | Promise<FakeResponse> };
  const original = server.handle.bind(server);
  server.handle = (request) => {
    if (!remote.isLaterPage(request)) return original(request);
    const answer = typeof response === 'function' ? response(request) : response;
    return answer ?? original(request);
  };
  return () => {
    server.handle = original;
  };
}

const remotes: Array<() => Remote> = [fakeCkan, fakeUdata, fakeDcat];

describeWithInfrastructure('harvester: metadata mode', () => {
  describe.each(remotes.map((make) => [make().kind, make] as const))('%s', (kind, make) => {
    const remote = make();
    const entityType = `datasets-${kind}`;
    const source = `town-${kind}`;
    let platform: HarvestPlatform;
    let api: ApiClient;

    beforeAll(async () => {
      await remote.server.start();
      for (let i = 1; i <= 5; i += 1) remote.add(`Town dataset ${i}`);
      platform = await startHarvestPlatform([remote.server.host], { env: { HARVEST_PAGE_SIZE: '2' } });
      api = platform.api;
      await addCatalog(api, `${kind}-portal`, { type: kind, url: remote.url() });
      expect((await api.post(`/entity/${entityType}`, { name: 'Datasets', description: 'Harvested datasets' })).status).toBe(201);
      await addSource(api, source, { catalog: `${kind}-portal`, mode: 'metadata', entity_type: entityType });
    });

    afterAll(async () => {
      await platform?.close();
      await remote.server.stop();
    });

    it('first harvest: one record per remote dataset, with normalized metadata, under the source connector', async () => {
      const run = await runHarvest(api, source);
      expect(run).toMatchObject({ status: 'done', listing_complete: true, counts: { added: 5, updated: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 } });
      expect(run.items.filter((item: any) => item.outcome === 'added')).toHaveLength(5);
      const harvested = await records(platform.env, entityType, source);
      expect([...harvested.keys()].sort()).toEqual(remote.ids().sort());
      const first = harvested.get(remote.ids()[0])!;
      expect(first.entity).toMatchObject({ title: expect.stringMatching(/^Town dataset/), keywords: ['town'], remote_id: remote.ids()[0], catalog: `${kind}-portal` });
      expect(first.entity.distributions[0]).toMatchObject({ url: 'https://files.example.org/a.csv', format: 'CSV' });
    });

    it('re-harvest: changed datasets are updated in place, unchanged ones cause no write and no event', async () => {
      const before = await records(platform.env, entityType, source);
      const [changed] = remote.ids();
      remote.edit(changed, 'Town dataset renamed');
      const [{ max: lastEvent }] = await sql(platform.env, `SELECT coalesce(max(id), 0) AS max FROM outbox_event`);
      const run = await runHarvest(api, source);
      expect(run).toMatchObject({ status: 'done', counts: { added: 0, updated: 1, unchanged: 4, deleted: 0 } });
      const after = await records(platform.env, entityType, source);
      expect(after.size).toBe(5);
      expect(after.get(changed).name).toBe('Town dataset renamed');
      for (const [id, record] of after) if (id !== changed) expect(record.updated_at).toEqual(before.get(id).updated_at);
      const upserts = await sql(platform.env, `SELECT payload FROM outbox_event WHERE id > $1 AND subject = 'record.upserted'`, [lastEvent]);
      const published = await sql(platform.env, `SELECT count(*)::int AS n FROM outbox_event WHERE id > $1`, [lastEvent]);
      // Events may already be relayed (and deleted from the outbox): count records written instead when so.
      if (published[0].n > 0 && upserts.length > 0) expect(upserts.flatMap((row) => row.payload.records.map((r: any) => r.vendorId))).toEqual([changed]);
    });

    it('a run whose listing fails midway is failed and deletes nothing', async () => {
      const [gone] = remote.ids().slice(-1);
      remote.remove(gone);
      const restore = interceptLaterPages(remote, { status: 200, headers: { 'content-type': 'text/html' }, body: '<html>maintenance</html>' });
      try {
        const run = await runHarvest(api, source);
        expect(run.status).toBe('failed');
        expect(run.error).toMatch(/HTML|JSON|parse|payload|RDF|expected/i);
        expect(run.counts.deleted).toBe(0);
        expect(run.listing_complete).toBe(false);
      } finally {
        restore();
      }
      expect((await records(platform.env, entityType, source)).has(gone)).toBe(true);
      // Complete and error-free again: now the removal is applied.
      const run = await runHarvest(api, source);
      expect(run).toMatchObject({ status: 'done', listing_complete: true, counts: { deleted: 1 } });
      expect(run.items).toEqual(expect.arrayContaining([expect.objectContaining({ remote_id: gone, outcome: 'deleted' })]));
      expect((await records(platform.env, entityType, source)).has(gone)).toBe(false);
    });

    it('HTTP errors are retried, and malformed datasets are reported per item without stopping the run', async () => {
      remote.server.failNext(1, 503);
      const broken = remote.add('');
      const run = await runHarvest(api, source);
      expect(run.status).toBe('done-with-errors');
      expect(run.counts).toMatchObject({ skipped: 1, failed: 0, unchanged: 4 });
      expect(run.items).toEqual([expect.objectContaining({ remote_id: broken, outcome: 'skipped', message: expect.stringMatching(/title/) })]);
      remote.remove(broken);
    });

    it('records are refused per item by the entity schema, the others are written', async () => {
      expect(
        (await api.put(`/entity/${entityType}`, { name: 'Datasets', description: 'Harvested datasets', schema: { type: 'object', properties: { title: { type: 'string', maxLength: 22 } } } })).status,
      ).toBe(204);
      const long = remote.add('A title far too long for the schema');
      const run = await runHarvest(api, source);
      expect(run.status).toBe('done-with-errors');
      expect(run.counts).toMatchObject({ added: 0, failed: 1 });
      expect(run.items).toEqual([expect.objectContaining({ remote_id: long, outcome: 'failed', message: expect.stringMatching(/title/) })]);
      expect(run.progress.deletions).toMatch(/not computed/);
      remote.remove(long);
      expect((await api.put(`/entity/${entityType}`, { name: 'Datasets', description: 'Harvested datasets', schema: {} })).status).toBe(204);
    });

    if (kind === 'dcat') {
      it('duplicate remote ids: the first dataset is kept, the second reported', async () => {
        const dcat = remote.server as FakeDcat;
        const [id] = remote.ids();
        dcat.addDataset({ identifier: id, uri: 'https://data.example.org/other-node', title: 'Same identifier, other dataset' });
        const run = await runHarvest(api, source);
        expect(run.status).toBe('done-with-errors');
        expect(run.items).toEqual([expect.objectContaining({ remote_id: id, outcome: 'skipped', message: expect.stringMatching(/identifier already used/) })]);
        const harvested = await records(platform.env, entityType, source);
        expect(harvested.size).toBe(remote.ids().length - 1);
        expect(harvested.get(id).name).not.toBe('Same identifier, other dataset');
        dcat.datasets.pop();
      });
    } else {
      it('duplicate remote ids while the remote changes under the listing: one record each, and no deletion from that run', async () => {
        const inserted: string[] = [];
        const restore = interceptLaterPages(remote, () => {
          // A dataset appears before the others between page 1 and page 2: offsets shift, an item is listed twice.
          if (inserted.length === 0) {
            if (kind === 'ckan') inserted.push((remote.server as FakeCkan).addDataset({ id: '00000000-0000-4000-8000-000000000000', title: 'Inserted' }).id);
            else inserted.push((remote.server as FakeUdata).addDataset({ title: 'Inserted', created_at: '2000-01-01T00:00:00+00:00' }).id);
          }
          return undefined;
        });
        let run;
        try {
          run = await runHarvest(api, source);
        } finally {
          restore();
        }
        expect(run.status).toBe('done');
        expect(run.listing_complete).toBe(false);
        expect(run.counts.deleted).toBe(0);
        expect(run.progress.deletions).toMatch(/not computed: the listing was incomplete/);
        const [{ count, distinct }] = await sql(
          platform.env,
          `SELECT count(*)::int AS count, count(DISTINCT vendor_id)::int AS distinct FROM record r JOIN connector c ON c.id = r.connector_id WHERE c.slug = $1`,
          [source],
        );
        expect(count).toBe(distinct);
        const next = await runHarvest(api, source);
        expect(next).toMatchObject({ status: 'done', listing_complete: true });
        expect((await records(platform.env, entityType, source)).size).toBe(remote.ids().length);
      });
    }

    it('a preview lists what would change and writes nothing', async () => {
      const added = remote.add('Town dataset preview');
      const before = await records(platform.env, entityType, source);
      const run = await runHarvest(api, source, { preview: true });
      expect(run).toMatchObject({ status: 'done', dry_run: true, counts: { added: 1 } });
      expect(run.items).toEqual([expect.objectContaining({ remote_id: added, outcome: 'added' })]);
      expect((await records(platform.env, entityType, source)).size).toBe(before.size);
      const real = await runHarvest(api, source);
      expect(real.counts.added).toBe(1);
    });

    if (kind === 'ckan') {
      it('harvested records are visible through the consumer API once the source connector is live', async () => {
        const consumer = await startInProcess(consumerQueryService, platform.env.serviceEnv({ AUTH_MODE: 'local' }));
        try {
          const policy = {
            name: 'Open',
            description: 'Harvested datasets',
            policy: {
              access_control: { enabled: false },
              data_segment: { segment_query: { type: entityType } },
              legal_context: [{ type: 'attribution', text: 'Town', link: null }],
            },
          };
          expect((await api.post('/policy/open-data', policy)).status).toBe(201);
          const reader = new ApiClient(consumer.api, { 'x-bbk-audience': 'open-data' });
          expect((await reader.get(`/entity/${entityType}`)).body).toEqual([]);
          expect((await api.post(`/entity/${entityType}/connector/${source}/live`)).status).toBe(204);
          const listed = await waitFor(
            async () => {
              const { body } = await reader.get(`/entity/${entityType}`);
              return Array.isArray(body) && body.length === remote.ids().length ? body : undefined;
            },
            { what: 'harvested records in the consumer API' },
          );
          expect(listed.map((record: any) => record.name)).toEqual(expect.arrayContaining(['Town dataset renamed']));
        } finally {
          await consumer.close();
        }
      });
    }
  });
});
