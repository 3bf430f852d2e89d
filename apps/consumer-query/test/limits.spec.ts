import { ApiClient, ApiResponse, TestEnvironment, describeWithInfrastructure, sleep, waitFor } from '@odb/testing';
import {
  ConsumerPlatform,
  Connector,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  expectStatus,
  publicId,
  startConsumerPlatform,
  upsert,
} from './consumer.support';

jest.setTimeout(120_000);

/**
 * Enforced auth (the default): a consumer key names its policy, whose segment
 * applies and whose rate (per second) and quota (per day or month) are
 * counted in Redis, shared by every replica: two consumer-query instances on
 * the same Redis prefix here, requests alternating between them.
 */
describeWithInfrastructure('consumer-query: consumer keys, rate limits and quotas', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let replicas: ApiClient[];
  let wikipedia: Connector;
  let users = 1;

  async function keyFor(policy: string): Promise<string> {
    users += 1;
    await expectStatus(platform.admin.post('/user', { name: `User ${users}`, email: `user${users}@example.org`, organization: 'Acme' }), 201, 'creating a user');
    const { text } = await expectStatus(platform.admin.post(`/user/${users}/access/${policy}`), 201, `giving access to ${policy}`);
    return text;
  }

  const as = (client: ApiClient, token: string) => client.withHeaders({ 'x-bbk-auth-token': token });

  beforeAll(async () => {
    env = await TestEnvironment.create();
    platform = await startConsumerPlatform(env, { consumer: { AUTH_MODE: 'enforced' } });
    const replica = await platform.startReplica();
    replicas = [platform.api, new ApiClient(replica.api)];
    await createType(platform.admin, 'country');
    wikipedia = await createConnector(platform.admin, 'country', 'wikipedia');
    await upsert(platform.contributor, wikipedia, [
      { id: 'GB', name: 'United Kingdom', entity: { continent: 'Europe' } },
      { id: 'JP', name: 'Japan', entity: { continent: 'Asia' } },
    ]);
    await createPolicy(platform.admin, 'all');
    await createPolicy(platform.admin, 'europe', { segment: { 'entity.continent': 'Europe' } });
    await createPolicy(platform.admin, 'per-second', { rate: 3, quota: { max_number: 0, interval_type: 'day' } });
    await createPolicy(platform.admin, 'per-day', { quota: { max_number: 5, interval_type: 'day' } });
    await createPolicy(platform.admin, 'per-month', { quota: { max_number: 2, interval_type: 'month' } });
    await createPolicy(platform.admin, 'switched-off', { enabled: false });
  });

  afterAll(async () => {
    await platform?.close();
    await env?.dispose();
  });

  describe('consumer keys', () => {
    it('answers 401 without a token, with a malformed or unknown one, or with a key of another role', async () => {
      const coordinatorToken = platform.coordinatorToken;
      for (const client of replicas) {
        expect((await client.get('/entity')).status).toBe(401);
        expect((await client.get('/catalog?q={}', { 'x-bbk-audience': 'all' })).status).toBe(401);
        expect((await as(client, 'not-a-token').get('/entity')).status).toBe(401);
        expect((await as(client, `odb1.${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}.secret`).get('/entity')).status).toBe(401);
        expect((await as(client, coordinatorToken).get('/entity')).status).toBe(401);
      }
    });

    it("runs every request under the key's own policy (x-bbk-audience is ignored)", async () => {
      const europe = await keyFor('europe');
      const all = await keyFor('all');
      for (const client of replicas) {
        expect((await as(client, europe).get('/entity/country', { 'x-bbk-audience': 'all' })).body.map((item: { name: string }) => item.name)).toEqual([
          'United Kingdom',
        ]);
        expect((await as(client, all).get('/entity/country')).body).toHaveLength(2);
        expect((await as(client, europe).get(`/entity/country/${publicId(wikipedia.id, 'JP')}`)).status).toBe(404);
      }
    });

    it('answers 403 once the key is revoked (access deleted or reissued) or its policy deleted', async () => {
      const revoked = await keyFor('all');
      expect((await as(replicas[1], revoked).get('/entity')).status).toBe(200);
      await expectStatus(platform.admin.delete(`/user/${users}/access/all`), 204, 'deleting the access');
      for (const client of replicas) await waitFor(async () => (await as(client, revoked).get('/entity')).status === 403, { what: 'revoked key refused' });

      const old = await keyFor('all');
      const { text: fresh } = await expectStatus(platform.admin.put(`/user/${users}/access/all`), 200, 'reissuing');
      for (const client of replicas) {
        await waitFor(async () => (await as(client, old).get('/entity')).status === 403, { what: 'reissued key refused' });
        expect((await as(client, fresh).get('/entity')).status).toBe(200);
      }

      await createPolicy(platform.admin, 'short-lived');
      const orphan = await keyFor('short-lived');
      expect((await as(replicas[0], orphan).get('/entity')).status).toBe(200);
      await expectStatus(platform.admin.delete('/policy/short-lived'), 204, 'deleting the policy');
      for (const client of replicas) await waitFor(async () => (await as(client, orphan).get('/entity')).status === 403, { what: 'orphan key refused' });
    });
  });

  describe('rate and quota, shared by the replicas', () => {
    /** Fires `count` requests at once, alternating replicas, early in a wall-clock second (retried if the burst straddles one). */
    async function burst(token: string, count: number): Promise<ApiResponse[]> {
      for (let attempt = 0; attempt < 5; attempt++) {
        await sleep(1000 - (Date.now() % 1000) + 20);
        const second = Math.floor(Date.now() / 1000);
        const answers = await Promise.all(Array.from({ length: count }, (_, i) => as(replicas[i % 2], token).get('/entity/country')));
        if (Math.floor(Date.now() / 1000) === second) return answers;
      }
      throw new Error('could not fit a burst into one second');
    }

    it('allows `rate` requests per second across replicas, then 429 with RateLimit-* and Retry-After', async () => {
      const token = await keyFor('per-second');
      const answers = await burst(token, 8);
      const ok = answers.filter((answer) => answer.status === 200);
      const refused = answers.filter((answer) => answer.status === 429);
      expect([ok.length, refused.length]).toEqual([3, 5]);
      for (const answer of ok) {
        expect(answer.headers.get('ratelimit-limit')).toBe('3');
        expect(answer.headers.get('ratelimit-reset')).toBe('1');
        expect(Number(answer.headers.get('ratelimit-remaining'))).toBeLessThanOrEqual(2);
      }
      expect(ok.map((answer) => answer.headers.get('ratelimit-remaining')).sort()).toEqual(['0', '1', '2']);
      for (const answer of refused) {
        expect(answer.body).toEqual({ error: { code: 429, status: 'Too Many Requests', message: '' } });
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(answer.headers.get('ratelimit-limit')).toBe('3');
        expect(answer.headers.get('ratelimit-remaining')).toBe('0');
      }
      // A new second, a new allowance.
      expect((await burst(token, 2)).map((answer) => answer.status)).toEqual([200, 200]);
    });

    it('allows `quota.max_number` requests per UTC day across replicas, then 429 until midnight', async () => {
      const token = await keyFor('per-day');
      const remaining: Array<string | null> = [];
      for (let i = 0; i < 5; i++) {
        const answer = await as(replicas[i % 2], token).get('/entity/country');
        expect(answer.status).toBe(200);
        remaining.push(answer.headers.get('x-quota-remaining'));
      }
      expect(remaining).toEqual(['4', '3', '2', '1', '0']);
      for (const client of replicas) {
        const refused = await as(client, token).get('/entity/country');
        expect(refused.status).toBe(429);
        const now = new Date();
        const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
        expect(Math.abs(Number(refused.headers.get('retry-after')) - Math.ceil((midnight - now.getTime()) / 1000))).toBeLessThanOrEqual(2);
      }
      // The count is per policy: another key of the same policy is refused too.
      const another = await keyFor('per-day');
      expect((await as(replicas[1], another).get('/entity')).status).toBe(429);
    });

    it('counts monthly quotas until the first of next month (UTC)', async () => {
      const token = await keyFor('per-month');
      expect((await as(replicas[0], token).get('/entity')).status).toBe(200);
      expect((await as(replicas[1], token).get('/entity')).status).toBe(200);
      const refused = await as(replicas[0], token).get('/entity');
      expect(refused.status).toBe(429);
      const now = new Date();
      const nextMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      expect(Math.abs(Number(refused.headers.get('retry-after')) - Math.ceil((nextMonth - now.getTime()) / 1000))).toBeLessThanOrEqual(2);
    });

    it('refuses everything when access control is disabled', async () => {
      const token = await keyFor('switched-off');
      for (const client of replicas) expect((await as(client, token).get('/entity')).status).toBe(429);
    });

    it('counts nothing in local mode (there is no authenticated consumer)', async () => {
      const local = await platform.startReplica({ AUTH_MODE: 'local' });
      const client = consumerAs(new ApiClient(local.api), 'per-second');
      const answers = await Promise.all(Array.from({ length: 8 }, () => client.get('/entity/country')));
      expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(200));
      expect(answers[0].headers.get('ratelimit-limit')).toBeNull();
    });
  });
});
