import { Queue } from 'bullmq';
import { QueueNames } from '@odb/contracts';
import { ApiClient, FakeCkan, describeWithInfrastructure, sleep, waitFor } from '@odb/testing';
import { HarvestPlatform, addCatalog, addSource, runHarvest, sql, startHarvestPlatform, startHarvester, waitForRun } from './harvest.support';

describeWithInfrastructure('harvester: schedules, replicas and interrupted runs', () => {
  const ckan = new FakeCkan();
  let platform: HarvestPlatform;
  let api: ApiClient;
  let queue: Queue;

  beforeAll(async () => {
    await ckan.start();
    for (let i = 1; i <= 3; i += 1) ckan.addDataset({ title: `Dataset ${i}` });
    // Two replicas of the harvester on the same database, Redis and NATS.
    platform = await startHarvestPlatform([ckan.host], { harvesters: 2, env: { HARVEST_PAGE_SIZE: '1' } });
    api = platform.api;
    queue = new Queue(QueueNames.HarvestRuns, { connection: { url: platform.env.redisUrl } as never, prefix: `${platform.env.redisPrefix}:bull` });
    await addCatalog(api, 'portal', { type: 'ckan', url: ckan.url });
    expect((await api.post('/entity/datasets', { name: 'Datasets', description: 'Harvested' })).status).toBe(201);
  });

  afterAll(async () => {
    await queue?.close();
    await platform?.close();
    await ckan.stop();
  });

  const schedulers = async () =>
    (await queue.getJobSchedulers(0, -1)).map((scheduler) => ({ key: scheduler.key, pattern: scheduler.pattern, tz: scheduler.tz }));

  it('schedule changes take effect: the job scheduler follows creation, updates and deletion', async () => {
    const body = { name: 'Every second', catalog: 'portal', mode: 'metadata', entity_type: 'datasets', schedule: '*/1 * * * * *', timezone: 'Europe/Paris' };
    await addSource(api, 'ticking', body);
    await waitFor(async () => (await schedulers()).some((s) => s.key === 'ticking' && s.pattern === '*/1 * * * * *' && s.tz === 'Europe/Paris'), {
      what: 'the scheduler of a new source',
    });
    // The schedule fires: runs triggered by it appear and complete.
    const scheduled = await waitFor(
      async () => {
        const runs = (await api.get('/harvest/ticking/run')).body as any[];
        return runs.find((run) => run.trigger === 'schedule' && run.status === 'done');
      },
      { timeoutMs: 15_000, what: 'a scheduled run' },
    );
    expect(scheduled.counts.added + scheduled.counts.unchanged).toBe(3);

    expect((await api.put('/harvest/ticking', { ...body, schedule: 'daily', timezone: 'America/New_York' })).status).toBe(204);
    await waitFor(async () => (await schedulers()).some((s) => s.key === 'ticking' && s.pattern === '0 0 * * *' && s.tz === 'America/New_York'), {
      what: 'the rescheduled source',
    });
    // No more runs every second once the new schedule is in place.
    await sleep(1500);
    const settled = ((await api.get('/harvest/ticking/run?limit=500')).body as any[]).length;
    await sleep(2000);
    expect(((await api.get('/harvest/ticking/run?limit=500')).body as any[]).length).toBe(settled);

    expect((await api.put('/harvest/ticking', { ...body, schedule: null })).status).toBe(204);
    await waitFor(async () => !(await schedulers()).some((s) => s.key === 'ticking'), { what: 'the scheduler removed (manual only)' });
    expect((await api.put('/harvest/ticking', { ...body, schedule: 'hourly' })).status).toBe(204);
    await waitFor(async () => (await schedulers()).some((s) => s.key === 'ticking' && s.pattern === '0 * * * *'), { what: 'hourly' });
    expect((await api.delete('/harvest/ticking')).status).toBe(204);
    await waitFor(async () => !(await schedulers()).some((s) => s.key === 'ticking'), { what: 'the scheduler of a deleted source removed' });
  });

  it('reconciles schedulers at start-up (a stray scheduler goes, a missing one comes back)', async () => {
    await addSource(api, 'nightly', { catalog: 'portal', mode: 'metadata', entity_type: 'datasets', schedule: '30 2 * * *', timezone: 'UTC' });
    await waitFor(async () => (await schedulers()).some((s) => s.key === 'nightly'), { what: 'nightly scheduler' });
    await queue.removeJobScheduler('nightly');
    await queue.upsertJobScheduler('deleted-long-ago', { pattern: '0 0 * * *' }, { name: 'run-harvest', data: { harvestSourceId: 'deleted-long-ago' } });
    const third = await startHarvester(platform.env, { REMOTE_ALLOWED_HOSTS: ckan.host });
    try {
      expect((await schedulers()).map((s) => s.key).sort()).toEqual(['nightly']);
    } finally {
      await third.close();
    }
  });

  it('two replicas never run the same source at once', async () => {
    await addSource(api, 'busy', { catalog: 'portal', mode: 'metadata', entity_type: 'datasets' });
    ckan.setLatency(120);
    try {
      const requested = await Promise.all([1, 2, 3, 4].map(() => api.post('/harvest/busy/run')));
      const runs = await Promise.all(requested.map((response) => waitForRun(api, 'busy', response.body.id, 60_000)));
      expect(runs.map((run) => run.status)).toEqual(['done', 'done', 'done', 'done']);
      const intervals = runs
        .map((run) => [Date.parse(run.started_at), Date.parse(run.finished_at)])
        .sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < intervals.length; i += 1) expect(intervals[i][0]).toBeGreaterThanOrEqual(intervals[i - 1][1]);
      const workers = await sql(platform.env, `SELECT DISTINCT worker FROM harvest_run r JOIN harvest_source s ON s.id = r.harvest_source_id WHERE s.slug = 'busy'`);
      expect(workers.length).toBeGreaterThanOrEqual(1);
    } finally {
      ckan.setLatency(0);
    }
    // The database refuses a second running run of a source, whoever asks.
    const [{ id }] = await sql(platform.env, `SELECT id FROM harvest_source WHERE slug = 'busy'`);
    await sql(platform.env, `INSERT INTO harvest_run (id, harvest_source_id, status, trigger, heartbeat_at) VALUES (gen_random_uuid(), $1, 'running', 'manual', now())`, [id]);
    await expect(
      sql(platform.env, `INSERT INTO harvest_run (id, harvest_source_id, status, trigger, heartbeat_at) VALUES (gen_random_uuid(), $1, 'running', 'manual', now())`, [id]),
    ).rejects.toThrow(/harvest_run_one_running_idx/);
    await sql(platform.env, `DELETE FROM harvest_run WHERE harvest_source_id = $1 AND status = 'running'`, [id]);
  });

  it('a run interrupted by a crash is marked failed, and the next one starts cleanly', async () => {
    const [{ id }] = await sql(platform.env, `SELECT id FROM harvest_source WHERE slug = 'busy'`);
    // What a replica that died mid-run leaves: a running run whose heartbeat stopped, and an open ingest session.
    const [{ id: crashed }] = await sql(
      platform.env,
      `INSERT INTO harvest_run (id, harvest_source_id, status, trigger, started_at, heartbeat_at, worker)
       VALUES (gen_random_uuid(), $1, 'running', 'schedule', now() - interval '10 minutes', now() - interval '9 minutes', 'dead-replica') RETURNING id`,
      [id],
    );
    await sql(platform.env, `UPDATE connector SET session_id = gen_random_uuid(), session_mode = 'stream', session_started = now() WHERE slug = 'busy'`);
    ckan.addDataset({ title: 'Dataset 4' });
    const run = await runHarvest(api, 'busy');
    expect(run).toMatchObject({ status: 'done', counts: { added: 1, unchanged: 3 } });
    const { body: interrupted } = await api.get(`/harvest/busy/run/${crashed}`);
    expect(interrupted).toMatchObject({ status: 'failed', error: expect.stringMatching(/interrupted/) });
    const [{ session_id }] = await sql(platform.env, `SELECT session_id FROM connector WHERE slug = 'busy'`);
    expect(session_id).toBeNull();
  });
});
