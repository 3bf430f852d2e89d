import { RunningService, describeWithInfrastructure, startServiceProcess, waitFor } from '@odb/testing';
import {
  PublishingPlatform,
  UDATA_KEY,
  addUdataCatalog,
  createEntityType,
  publish,
  publisherEnv,
  putMetadata,
  startPublishingPlatform,
} from './publisher.support';

const TYPES = Array.from({ length: 12 }, (_, i) => `sensor-${String(i + 1).padStart(2, '0')}`);

/** The publisher as a real process, killed (SIGKILL) with pushes pending and in flight, then started again. */
describeWithInfrastructure('catalog publisher: crash and restart', () => {
  let platform: PublishingPlatform;
  const processes: RunningService[] = [];

  const startPublisher = async () => {
    const service = await startServiceProcess(
      'catalog-publisher',
      platform.env.serviceEnv(
        publisherEnv(platform, { PUBLISH_DEBOUNCE_MS: '1000', PUBLISH_LEASE_MS: '2000', PUBLISH_CONCURRENCY: '4', LOG_LEVEL: 'info' }),
      ),
      { waitFor: 'ready' },
    );
    processes.push(service);
    return service;
  };

  const rows = () =>
    platform.sql<{ slug: string; status: string; requested_version: number; pushed_version: number | null; remote_id: string }>(
      `SELECT entity_type_slug AS slug, status, requested_version, pushed_version, remote_id FROM publication ORDER BY entity_type_slug`,
    );

  const allPushed = async () => {
    const current = await rows();
    return current.length === TYPES.length && current.every((row) => row.status === 'done' && row.pushed_version === row.requested_version);
  };

  beforeAll(async () => {
    platform = await startPublishingPlatform({ publisher: false });
    await addUdataCatalog(platform);
  });

  afterAll(async () => {
    await Promise.all(processes.map((service) => service.kill()));
    await platform?.close();
  });

  it('loses no pending push when killed, whether the push was waiting or under way', async () => {
    const first = await startPublisher();
    for (const slug of TYPES) {
      await createEntityType(platform, slug);
      await publish(platform, slug, 'datagouv');
    }
    await waitFor(allPushed, { timeoutMs: 20_000, what: 'first publications' });

    // Every type changes; the remote is slow, so pushes are under way when the publisher dies.
    platform.udata.setLatency(1500);
    for (const slug of TYPES) await putMetadata(platform, slug, { keywords: ['before-crash'] });
    await waitFor(async () => (await rows()).some((row) => row.status === 'running'), { timeoutMs: 10_000, what: 'a push under way' });
    await first.kill();
    const atCrash = await rows();
    expect(atCrash.filter((row) => row.pushed_version !== row.requested_version).length).toBeGreaterThan(0);

    // Changes keep coming while no publisher runs: they wait in JetStream.
    platform.udata.setLatency(0);
    for (const slug of TYPES.slice(0, 3)) await putMetadata(platform, slug, { keywords: ['while-down'] });

    const second = await startPublisher();
    await waitFor(allPushed, { timeoutMs: 30_000, intervalMs: 100, what: 'every change pushed after the restart' });

    const remote = [...platform.udata.datasets.values()];
    expect(remote).toHaveLength(TYPES.length); // no duplicate dataset
    for (const dataset of remote) {
      const slug = dataset.extras.odb_local_id as string;
      expect([slug, dataset.deleted, dataset.tags]).toEqual([slug, null, expect.arrayContaining([TYPES.indexOf(slug) < 3 ? 'while-down' : 'before-crash'])]);
    }
    for (const service of [first, second]) expect(service.output()).not.toContain(UDATA_KEY);
    expect(second.output()).toContain('pending at start-up');
  }, 90_000);

  it('logs no API key, even when the remote quotes it back in its errors', async () => {
    const publisher = processes.at(-1)!;
    platform.udata.answerNext(1000, { status: 500, body: { message: `upstream rejected key ${UDATA_KEY}` } });
    await putMetadata(platform, TYPES[0], { keywords: ['quoted-key'] });
    await waitFor(async () => (await rows()).find((row) => row.slug === TYPES[0])?.status === 'error', { timeoutMs: 15_000, what: 'the push given up' });
    platform.udata.resetFaults();
    await waitFor(() => publisher.output().includes('upstream rejected key ***'), { timeoutMs: 5000, what: 'the failure logged' });
    expect(publisher.output()).not.toContain(UDATA_KEY);
  });
});
