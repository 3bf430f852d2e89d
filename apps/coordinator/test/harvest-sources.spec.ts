import { Client } from 'pg';
import { connect } from 'nats';
import { RpcClient } from '@odb/messaging';
import { isDeepStrictEqual } from 'util';
import { ApiClient, FakeCkan, TestEnvironment, describeWithInfrastructure, waitFor } from '@odb/testing';
import { EventRecorder, errorLines, startCoordinator } from './coordinator.support';

describeWithInfrastructure('coordinator: harvest sources', () => {
  let env: TestEnvironment;
  let ckan: FakeCkan;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  let api: ApiClient;
  let recorder: EventRecorder;

  const source = {
    name: 'Town datasets',
    description: 'Everything the town publishes',
    catalog: 'town-portal',
    mode: 'metadata',
    entity_type: 'datasets',
    filters: { organization: 'town', tags: ['transport'], query: 'bus', resource_formats: ['CSV'] },
    schedule: '0 3 * * *',
    timezone: 'Europe/Paris',
    on_removed: 'keep',
    go_live: false,
    max_items: 500,
  };

  beforeAll(async () => {
    env = await TestEnvironment.create();
    ckan = await new FakeCkan().start();
    coordinator = await startCoordinator(env, { REMOTE_ALLOWED_HOSTS: ckan.host });
    api = coordinator.api;
    recorder = await EventRecorder.start(env);
    expect((await api.post('/remote-catalog/town-portal', { type: 'ckan', url: ckan.url, name: 'Town portal' })).status).toBe(201);
    expect((await api.post('/entity/datasets', { name: 'Datasets', description: 'Harvested datasets' })).status).toBe(201);
  });

  afterAll(async () => {
    await recorder?.close();
    await coordinator?.service.close();
    await ckan?.stop();
    await env?.dispose();
  });

  async function sql<T = any>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** The first event with this subject whose payload matches, waiting for the relay. */
  const eventOf = (subject: string, payload: Record<string, unknown>) =>
    waitFor(() => recorder.events.find((event) => event.subject === subject && Object.entries(payload).every(([key, value]) => isDeepStrictEqual(event.payload[key], value))), {
      what: `${subject} ${JSON.stringify(payload)}`,
    });

  it('creates a source with its staging connector, and announces it', async () => {
    const created = await api.post('/harvest/Town', source);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${coordinator.service.api}/harvest/Town`);
    expect((await eventOf('harvest-source.created', { harvestSourceId: 'town' })).payload).toEqual({ harvestSourceId: 'town', remoteCatalogId: 'town-portal' });
    expect((await eventOf('connector.created', { connectorId: 'town' })).payload).toMatchObject({ entityTypeId: 'datasets', isLive: false });
    const base = coordinator.service.api;
    expect((await api.get('/harvest/town')).body).toEqual({
      id: 'town',
      url: `${base}/harvest/town`,
      name: source.name,
      description: source.description,
      catalog: { id: 'town-portal', url: `${base}/remote-catalog/town-portal` },
      mode: 'metadata',
      entity_type: { id: 'datasets', url: `${base}/entity/datasets` },
      connector: { id: 'town', url: `${base}/entity/datasets/connector/town` },
      filters: source.filters,
      schedule: '0 3 * * *',
      timezone: 'Europe/Paris',
      on_removed: 'keep',
      go_live: false,
      max_items: 500,
      row_key: null,
    });
    const { body: connector } = await api.get('/entity/datasets/connector/town');
    expect(connector).toMatchObject({ id: 'town', is_live: false, contribution_id: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect((await api.get('/harvest')).body.map((item: { id: string }) => item.id)).toEqual(['town']);
    expect((await api.post('/harvest/town', source)).status).toBe(409);
  });

  it('validates everything at once: cron, time zone, mode rules, references', async () => {
    const bad = await api.post('/harvest/bad-one', {
      ...source,
      name: '',
      mode: 'everything',
      schedule: '61 * * * *',
      timezone: 'Mars/Olympus',
      on_removed: 'archive',
      max_items: 0,
      filters: { tags: 'transport', colour: 'blue' },
    });
    expect(bad.status).toBe(400);
    expect(errorLines(bad)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^name: /),
        expect.stringMatching(/^mode: /),
        expect.stringMatching(/^on_removed: /),
        expect.stringMatching(/^max_items: /),
        expect.stringMatching(/^filters/),
        'timezone: is not an IANA time zone (e.g. Europe/Paris)',
        expect.stringMatching(/^schedule: is not a valid cron expression/),
      ]),
    );
    expect(errorLines(await api.post('/harvest/bad-two', { ...source, schedule: 'every day' }))).toEqual([expect.stringMatching(/^schedule: must be one of hourly, daily, weekly, monthly/)]);
    expect(errorLines(await api.post('/harvest/bad-three', { ...source, entity_type: undefined }))).toEqual(['entity_type: is required in metadata mode']);
    expect(errorLines(await api.post('/harvest/bad-four', { ...source, catalog: 'nowhere' }))).toEqual(['catalog: is not a remote catalog']);
    expect(errorLines(await api.post('/harvest/bad-five', { ...source, entity_type: 'nothing' }))).toEqual(['entity_type: is not an entity type']);
    expect((await api.post('/harvest/ok-presets', { ...source, schedule: 'weekly', entity_type: undefined, mode: 'data' })).status).toBe(201);
    expect((await api.post('/harvest/ok-seconds', { ...source, schedule: '*/30 * * * * *', entity_type: undefined, mode: 'data' })).status).toBe(201);
  });

  it('updates a source (its schedule follows through the event), but not its mode nor its entity type', async () => {
    expect((await api.put('/harvest/town', { ...source, schedule: 'daily', timezone: 'UTC' })).status).toBe(204);
    await eventOf('harvest-source.updated', { harvestSourceId: 'town', changed: ['schedule', 'timezone'] });
    expect((await api.get('/harvest/town')).body).toMatchObject({ schedule: 'daily', timezone: 'UTC' });
    expect(errorLines(await api.put('/harvest/town', { ...source, mode: 'data', entity_type: null }))).toEqual([
      'mode: cannot be changed: create another harvest source',
      'entity_type: cannot be changed: create another harvest source',
    ]);
    expect((await api.put('/harvest/missing', source)).status).toBe(404);
  });

  it('queues runs and previews (202, event), and lists them', async () => {
    const queued = await api.post('/harvest/town/run');
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ status: 'queued', trigger: 'manual', dry_run: false, counts: {} });
    expect(queued.headers.get('location')).toBe(queued.body.url);
    await eventOf('harvest.run.requested', { harvestSourceId: 'town', runId: queued.body.id, dryRun: false });
    const preview = await api.post('/harvest/town/preview');
    expect(preview.body).toMatchObject({ status: 'queued', dry_run: true });
    await eventOf('harvest.run.requested', { runId: preview.body.id, dryRun: true });
    const runs = (await api.get('/harvest/town/run')).body;
    expect(runs.map((run: { id: string }) => run.id)).toEqual([preview.body.id, queued.body.id]);
    expect((await api.get(`/harvest/town/run/${preview.body.id}`)).body).toMatchObject({ id: preview.body.id, items: [] });
    expect((await api.get('/harvest/town/run/not-a-run')).status).toBe(404);
    expect((await api.post('/harvest/missing/run')).status).toBe(404);
  });

  it('provisions, over NATS, an entity type and connector per remote resource of a data-mode source, idempotently', async () => {
    const nc = await connect({ servers: env.natsUrl });
    try {
      const rpc = new RpcClient(nc, env.namespace);
      const request = {
        harvestSourceId: 'ok-presets',
        resourceKey: 'dataset-1#resource-1',
        name: 'Bus stops (CSV)',
        description: 'Where buses stop',
        keywords: ['bus', 'bus', 'transport'],
        schema: { type: 'object', properties: { code: { type: ['string', 'null'] } } },
        datasetMetadata: { title: 'Bus stops' },
      };
      const first = await rpc.call('coordinator.harvest.provision', request);
      expect(first).toMatchObject({ entityTypeId: expect.stringMatching(/^ok-presets-[0-9a-f]{10}$/), connectorId: 'ok-presets', created: true });
      const again = await rpc.call('coordinator.harvest.provision', request);
      expect(again).toEqual({ ...first, created: false });
      const [type] = await sql(`SELECT name, tags, schema FROM entity_type WHERE slug = $1`, [first.entityTypeId]);
      expect(type).toEqual({ name: 'Bus stops (CSV)', tags: ['bus', 'transport'], schema: request.schema });
      await expect(rpc.call('coordinator.harvest.provision', { ...request, harvestSourceId: 'town' })).rejects.toMatchObject({ code: 409 });
      expect(await rpc.call('coordinator.harvest.retire', { harvestSourceId: 'town', entityTypeId: first.entityTypeId })).toEqual({ deleted: false });
      expect(await rpc.call('coordinator.harvest.retire', { harvestSourceId: 'ok-presets', entityTypeId: first.entityTypeId })).toEqual({ deleted: true });
      expect(await sql(`SELECT 1 FROM entity_type WHERE slug = $1`, [first.entityTypeId])).toEqual([]);
    } finally {
      await nc.close();
    }
  });

  it('deletes a source with its runs and the connector it owns (key revoked), announced', async () => {
    expect((await api.delete('/harvest/town')).status).toBe(204);
    await eventOf('harvest-source.deleted', { harvestSourceId: 'town' });
    await eventOf('connector.deleted', { connectorId: 'town', entityTypeId: 'datasets' });
    await eventOf('keys.revoked', { reason: 'connector-deleted' });
    expect((await api.get('/harvest/town')).status).toBe(404);
    expect((await api.get('/entity/datasets/connector/town')).status).toBe(404);
    expect(await sql(`SELECT 1 FROM harvest_run r LEFT JOIN harvest_source s ON s.id = r.harvest_source_id WHERE s.id IS NULL`)).toEqual([]);
  });
});
