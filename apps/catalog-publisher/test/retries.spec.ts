import Redis from 'ioredis';
import { describeWithInfrastructure } from '@odb/testing';
import {
  PublishingPlatform,
  UDATA_KEY,
  addUdataCatalog,
  createEntityType,
  publish,
  pushedVersion,
  putMetadata,
  startPublishingPlatform,
  waitForPublication,
  waitUntilPublished,
} from './publisher.support';

/** What the remote does wrong (429, 5xx, timeouts, 4xx) and what the publication shows of it. */
describeWithInfrastructure('catalog publisher: remote failures', () => {
  let platform: PublishingPlatform;
  let remoteId: string;
  let change = 0;

  beforeAll(async () => {
    platform = await startPublishingPlatform({ publisherEnv: { REMOTE_TIMEOUT_MS: '500' } });
    await addUdataCatalog(platform);
    await createEntityType(platform, 'traffic');
    await publish(platform, 'traffic', 'datagouv');
    remoteId = (await waitUntilPublished(platform, 'traffic', 'datagouv')).remote_id;
  });

  afterAll(async () => {
    await platform?.close();
  });

  /** A change of the published metadata; resolves with the pushed version before it. */
  async function changeMetadata(): Promise<number> {
    const before = await pushedVersion(platform, 'traffic', 'datagouv');
    change += 1;
    await putMetadata(platform, 'traffic', { keywords: [`change-${change}`] });
    return before;
  }

  const log = (publication: { log: Array<{ level: string; message: string }> }) =>
    publication.log.map((entry) => `${entry.level}: ${entry.message}`).join('\n');

  it('waits as long as a 429 Retry-After says, then pushes', async () => {
    platform.udata.clearRequests();
    platform.udata.throttleNext(1, '1');
    const before = await changeMetadata();
    await waitUntilPublished(platform, 'traffic', 'datagouv', before);
    const [throttled, retried] = platform.udata.requests;
    expect(retried.at - throttled.at).toBeGreaterThanOrEqual(1000);
    expect(platform.udata.getDataset(remoteId)!.tags).toContain(`change-${change}`);
  });

  it('honours a Retry-After longer than a request may wait by scheduling the next attempt after it', async () => {
    platform.udata.clearRequests();
    platform.udata.throttleNext(1, '6'); // longer than a request waits (5 s): the attempt fails at once
    const before = await changeMetadata();
    const waiting = await waitForPublication(platform, 'traffic', 'datagouv', (publication) => publication.last_error !== null);
    expect(waiting.status).toBe('waiting');
    expect(waiting.last_error).toContain('HTTP 429');
    expect(log(waiting)).toContain('attempt 2 of 3 in 6.0 s');
    const published = await waitUntilPublished(platform, 'traffic', 'datagouv', before);
    expect(published.last_error).toBeNull();
    const [throttled, next] = platform.udata.requests;
    expect(next.at - throttled.at).toBeGreaterThanOrEqual(6000);
  }, 20_000);

  it('retries server errors with backoff until one attempt gets through', async () => {
    platform.udata.clearRequests();
    platform.udata.failNext(3, 503);
    const before = await changeMetadata();
    const published = await waitUntilPublished(platform, 'traffic', 'datagouv', before);
    expect(published.last_error).toBeNull();
    expect(platform.udata.requests.map((request) => request.method)).toEqual(['GET', 'GET', 'GET', 'GET', 'PUT']);
  });

  it('after the last attempt shows error with the reason; the next change retries it', async () => {
    platform.udata.clearRequests();
    platform.udata.failNext(1000, 500);
    await changeMetadata();
    const failed = await waitForPublication(platform, 'traffic', 'datagouv', (publication) => publication.status === 'error');
    expect(failed.last_error).toContain('answered HTTP 500');
    expect(failed.log.at(-1)).toMatchObject({ level: 'error', message: expect.stringContaining('gave up after 3 attempt(s)') });
    expect(platform.udata.requests).toHaveLength(3 * 2); // 3 attempts of a request and its one quick retry
    expect(Date.parse(failed.last_success)).toBeLessThan(Date.now());

    platform.udata.resetFaults();
    const before = await changeMetadata();
    const published = await waitUntilPublished(platform, 'traffic', 'datagouv', before);
    expect(published).toMatchObject({ status: 'done', last_error: null });
    expect(platform.udata.getDataset(remoteId)!.tags).toContain(`change-${change}`);
  });

  it('reports a remote that does not answer in time, and a manual publish retries it', async () => {
    platform.udata.setLatency(800);
    await changeMetadata();
    const failed = await waitForPublication(platform, 'traffic', 'datagouv', (publication) => publication.status === 'error');
    expect(failed.last_error).toContain('no complete response within 500 ms');
    platform.udata.setLatency(0);
    const before = await pushedVersion(platform, 'traffic', 'datagouv');
    expect((await platform.api.post('/entity/traffic/publication/datagouv/publish')).status).toBe(202);
    expect((await waitUntilPublished(platform, 'traffic', 'datagouv', before)).last_error).toBeNull();
  });

  it('does not retry what a retry cannot cure (a 4xx)', async () => {
    platform.udata.clearRequests();
    platform.udata.answerNext(1, { status: 403, body: { message: 'Forbidden', status: 403 } });
    await changeMetadata();
    const failed = await waitForPublication(platform, 'traffic', 'datagouv', (publication) => publication.status === 'error');
    expect(failed.last_error).toContain('answered HTTP 403');
    expect(platform.udata.requests).toHaveLength(1);
    const before = await pushedVersion(platform, 'traffic', 'datagouv');
    await platform.api.post('/entity/traffic/publication/datagouv/publish');
    await waitUntilPublished(platform, 'traffic', 'datagouv', before);
  });

  it('never shows the API key: not in the API, the stored state, the queue, nor in errors that quote it', async () => {
    platform.udata.answerNext(1000, { status: 500, body: { message: `upstream rejected key ${UDATA_KEY}` } });
    await changeMetadata();
    const failed = await waitForPublication(platform, 'traffic', 'datagouv', (publication) => publication.status === 'error');
    expect(failed.last_error).toContain('upstream rejected key ***');
    platform.udata.resetFaults();

    const answers = await Promise.all([
      platform.api.get('/entity/traffic/publication/datagouv'),
      platform.api.get('/entity/traffic/publication'),
      platform.api.get('/remote-catalog/datagouv/publication'),
      platform.api.get('/remote-catalog/datagouv'),
      platform.api.get('/remote-catalog'),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain(UDATA_KEY);
    }
    const rows = await platform.sql(`SELECT row_to_json(p)::text AS row FROM publication p`);
    expect(rows.map((row) => row.row).join('\n')).not.toContain(UDATA_KEY);
    const sealed = await platform.sql(`SELECT api_key_sealed FROM remote_catalog`);
    expect(sealed[0].api_key_sealed).not.toContain(UDATA_KEY);

    const redis = new Redis(platform.env.redisUrl);
    try {
      const keys = await redis.keys(`${platform.env.redisPrefix}:*`);
      expect(keys.length).toBeGreaterThan(0);
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'string' ? await redis.get(key) : type === 'stream' ? JSON.stringify(await redis.xrange(key, '-', '+')) : '';
        expect([key, value?.includes(UDATA_KEY)]).toEqual([key, false]);
      }
    } finally {
      redis.disconnect();
    }
  });
});
