import { parseToken } from '@odb/auth';
import { DataSource } from 'typeorm';
import { ApiClient, TestEnvironment, describeWithInfrastructure, sleep } from '@odb/testing';
import { EventRecorder, RecordedEvent, connectorBody, countries, openPolicy, sites, startCoordinator, userBody } from './coordinator.support';

/** `[subject, payload]` of each event, for exact comparison. */
const summary = (events: RecordedEvent[]) => events.map((event) => [event.subject, event.payload]);
const keyIdOf = (token: string) => parseToken(token)!.keyId;

describeWithInfrastructure('coordinator: domain events', () => {
  let env: TestEnvironment;
  let recorder: EventRecorder;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  let api: ApiClient;
  /** Events seen before the coordinator started (its bootstrap). */
  let bootstrapEvents: RecordedEvent[];

  beforeAll(async () => {
    env = await TestEnvironment.create();
    recorder = await EventRecorder.start(env);
    bootstrapEvents = await recorder.during(2, async () => {
      coordinator = await startCoordinator(env);
    });
    api = coordinator.api;
  });

  afterAll(async () => {
    await coordinator?.service.close();
    await recorder?.close();
    await env?.dispose();
  });

  /** Runs `action`, which causes `count` events that are not under test, and waits for them. */
  async function settle<T>(count: number, action: () => Promise<T>): Promise<T> {
    let result: T;
    await recorder.during(count, async () => {
      result = await action();
    });
    return result!;
  }

  /** Runs the requests (each must answer `status`) and expects exactly `expected` events after them. */
  async function expectEvents(expected: unknown[][], ...requests: Array<[() => Promise<{ status: number }>, number]>) {
    const events = await recorder.during(expected.length, async () => {
      for (const [request, status] of requests) expect((await request()).status).toBe(status);
    });
    expect(summary(events)).toEqual(expected);
    return events;
  }

  it('announces the bootstrap user: created, then promoted', () => {
    expect(summary(bootstrapEvents)).toEqual([
      ['user.created', { userId: 1 }],
      ['user.promoted', { userId: 1 }],
    ]);
  });

  it('wraps every payload in an envelope: outbox id, subject, time and source, on <namespace>.events.v1.<subject>', () => {
    for (const event of bootstrapEvents) {
      expect(event.wireSubject).toBe(`${env.namespace}.events.v1.${event.subject}`);
      expect(event.id).toMatch(/^\d+$/);
      expect(event.source).toBe('coordinator');
      expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
    }
  });

  describe('entity types and connectors', () => {
    let contributionId: string;

    it('entity-type.created and .updated, with the properties that changed', async () => {
      await expectEvents([['entity-type.created', { entityTypeId: 'heritage-site' }]], [() => api.post('/entity/Heritage-Site', sites), 201]);
      await expectEvents(
        [['entity-type.updated', { entityTypeId: 'heritage-site', changed: ['description', 'tags'] }]],
        [() => api.put('/entity/heritage-site', { ...sites, description: 'UNESCO sites', tags: ['unesco'] }), 204],
      );
    });

    it('lists only what really changed, whatever order PostgreSQL keeps the keys of JSON properties in', async () => {
      // jsonb stores {period, value, unit} as {unit, value, period}: the same value all the same.
      await expectEvents([['entity-type.created', { entityTypeId: 'country' }]], [() => api.post('/entity/country', countries), 201]);
      await expectEvents(
        [['entity-type.updated', { entityTypeId: 'country', changed: ['name'] }]],
        [() => api.put('/entity/country', { ...countries, name: 'All countries' }), 204],
      );
      await expectEvents(
        [['entity-type.updated', { entityTypeId: 'country', changed: ['schema', 'timeseries'] }]],
        [() => api.put('/entity/country', { ...countries, name: 'All countries', schema: {}, timeseries: {} }), 204],
      );
      // A PUT that changes nothing raises no event: the one seen next is the real change's.
      await expectEvents(
        [['entity-type.updated', { entityTypeId: 'country', changed: ['description'] }]],
        [() => api.put('/entity/country', { ...countries, name: 'All countries', schema: {}, timeseries: {} }), 204],
        [() => api.put('/entity/country', { ...countries, name: 'All countries', schema: {}, timeseries: {}, description: 'Every country' }), 204],
      );
      await expectEvents([['entity-type.deleted', { entityTypeId: 'country' }]], [() => api.delete('/entity/country'), 204]);
    });

    it('connector.created, .updated, .promoted, .demoted, with the contribution id and live state', async () => {
      const [created] = await expectEvents(
        [['connector.created', { entityTypeId: 'heritage-site', connectorId: 'wikipedia', contributionId: expect.stringMatching(/^[0-9a-f]{40}$/), isLive: false }]],
        [() => api.post('/entity/heritage-site/connector/wikipedia', connectorBody), 201],
      );
      contributionId = created.payload.contributionId;
      const ids = { entityTypeId: 'heritage-site', connectorId: 'wikipedia', contributionId };
      await expectEvents(
        [['connector.updated', { ...ids, isLive: false, changed: ['description', 'cache'] }]],
        [() => api.put('/entity/heritage-site/connector/wikipedia', { ...connectorBody, description: 'Changed', cache: 60 }), 204],
      );
      await expectEvents([['connector.promoted', { ...ids, isLive: true }]], [() => api.post('/entity/heritage-site/connector/wikipedia/live'), 204]);
      await expectEvents([['connector.demoted', { ...ids, isLive: false }]], [() => api.delete('/entity/heritage-site/connector/wikipedia/live'), 204]);
    });

    it('connector.token-rotated after keys.revoked for the old key', async () => {
      const { token } = await settle(1, async () => (await api.post('/entity/heritage-site/connector/rotated', connectorBody)).body);
      const ids = { entityTypeId: 'heritage-site', connectorId: 'rotated', isLive: false };
      const [, rotated] = await expectEvents(
        [
          ['keys.revoked', { keyIds: [keyIdOf(token)], reason: 'connector-token-rotated' }],
          ['connector.token-rotated', { ...ids, contributionId: expect.stringMatching(/^[0-9a-f]{40}$/) }],
        ],
        [() => api.post('/entity/heritage-site/connector/rotated/token'), 200],
      );
      expect(rotated.payload.contributionId).not.toBe(contributionId);
    });

    it('connector.deleted after keys.revoked for its key', async () => {
      const { token } = await settle(1, async () => (await api.post('/entity/heritage-site/connector/short-lived', connectorBody)).body);
      const [, deleted] = await expectEvents(
        [
          ['keys.revoked', { keyIds: [keyIdOf(token)], reason: 'connector-deleted' }],
          ['connector.deleted', { entityTypeId: 'heritage-site', connectorId: 'short-lived', contributionId: expect.any(String), isLive: false }],
        ],
        [() => api.delete('/entity/heritage-site/connector/short-lived'), 204],
      );
      expect(deleted.payload.contributionId).toMatch(/^[0-9a-f]{40}$/);
    });
  });

  describe('policies, users and accesses', () => {
    let aliceCoordinatorToken = '';
    let accessToken = '';

    it('policy.created and .updated', async () => {
      await expectEvents([['policy.created', { policyId: 'everything' }]], [() => api.post('/policy/Everything', openPolicy), 201]);
      await expectEvents(
        [['policy.updated', { policyId: 'everything', changed: ['name'] }]],
        [() => api.put('/policy/everything', { ...openPolicy, name: 'All of it' }), 204],
      );
      await expectEvents(
        [['policy.updated', { policyId: 'everything', changed: ['policy'] }]],
        [() => api.put('/policy/everything', { ...openPolicy, name: 'All of it', policy: { ...openPolicy.policy, legal_context: [] } }), 204],
      );
    });

    it('user.created, .updated, .promoted, and .demoted after keys.revoked', async () => {
      await expectEvents([['user.created', { userId: 2 }]], [() => api.post('/user', userBody('Alice', 'alice@example.org')), 201]);
      await expectEvents(
        [['user.updated', { userId: 2, changed: ['organization', 'addendum'] }]],
        [() => api.put('/user/2', { name: 'Alice', organization: 'Beta', addendum: { a: 1 } }), 204],
      );
      await expectEvents([['user.promoted', { userId: 2 }]], [
        async () => {
          const response = await api.post('/user/2/coordinator');
          aliceCoordinatorToken = response.text;
          return response;
        },
        200,
      ]);
      await expectEvents(
        [
          ['keys.revoked', { keyIds: [keyIdOf(aliceCoordinatorToken)], reason: 'coordinator-demoted' }],
          ['user.demoted', { userId: 2 }],
        ],
        [() => api.delete('/user/2/coordinator'), 204],
      );
    });

    it('access.created, .reissued after keys.revoked, .deleted after keys.revoked', async () => {
      await expectEvents([['access.created', { userId: 2, policyId: 'everything' }]], [
        async () => {
          const response = await api.post('/user/2/access/everything');
          accessToken = response.text;
          return response;
        },
        201,
      ]);
      const first = accessToken;
      await expectEvents(
        [
          ['keys.revoked', { keyIds: [keyIdOf(first)], reason: 'reissued' }],
          ['access.reissued', { userId: 2, policyId: 'everything' }],
        ],
        [
          async () => {
            const response = await api.put('/user/2/access/everything');
            accessToken = response.text;
            return response;
          },
          200,
        ],
      );
      await expectEvents(
        [
          ['keys.revoked', { keyIds: [keyIdOf(accessToken)], reason: 'access-deleted' }],
          ['access.deleted', { userId: 2, policyId: 'everything' }],
        ],
        [() => api.delete('/user/2/access/everything'), 204],
      );
    });
  });

  describe('cascades', () => {
    it('a policy deleted with accesses: keys.revoked, access.deleted for each, policy.deleted', async () => {
      const tokens = await settle(3, async () => {
        expect((await api.post('/user', userBody('Bob', 'bob@example.org'))).status).toBe(201);
        return [(await api.post('/user/2/access/everything')).text, (await api.post('/user/3/access/everything')).text];
      });
      await expectEvents(
        [
          ['keys.revoked', { keyIds: tokens.map(keyIdOf), reason: 'policy-deleted' }],
          ['access.deleted', { userId: 2, policyId: 'everything' }],
          ['access.deleted', { userId: 3, policyId: 'everything' }],
          ['policy.deleted', { policyId: 'everything' }],
        ],
        [() => api.delete('/policy/everything'), 204],
      );
    });

    it('a user deleted with a coordinator key and accesses: keys.revoked for all, access.deleted for each, user.deleted', async () => {
      const [coordinatorToken, ...accessTokens] = await settle(5, async () => {
        expect((await api.post('/policy/first', openPolicy)).status).toBe(201);
        expect((await api.post('/policy/second', openPolicy)).status).toBe(201);
        return [
          (await api.post('/user/3/coordinator')).text,
          (await api.post('/user/3/access/first')).text,
          (await api.post('/user/3/access/second')).text,
        ];
      });
      await expectEvents(
        [
          ['keys.revoked', { keyIds: [coordinatorToken, ...accessTokens].map(keyIdOf), reason: 'user-deleted' }],
          ['access.deleted', { userId: 3, policyId: 'first' }],
          ['access.deleted', { userId: 3, policyId: 'second' }],
          ['user.deleted', { userId: 3 }],
        ],
        [() => api.delete('/user/3'), 204],
      );
    });

    it('a user without keys deleted: user.deleted only', async () => {
      await expectEvents([['user.deleted', { userId: 2 }]], [() => api.delete('/user/2'), 204]);
    });

    it('an entity type deleted with connectors: keys.revoked, connector.deleted for each, entity-type.deleted', async () => {
      // wikipedia and rotated (with its rotated key) are still there
      const { token } = await settle(1, async () => (await api.post('/entity/heritage-site/connector/another', connectorBody)).body);
      const events = await recorder.during(5, () => api.delete('/entity/heritage-site'));
      expect(events.map((event) => event.subject)).toEqual([
        'keys.revoked',
        'connector.deleted',
        'connector.deleted',
        'connector.deleted',
        'entity-type.deleted',
      ]);
      expect(events[0].payload).toEqual({ keyIds: expect.arrayContaining([keyIdOf(token)]), reason: 'entity-type-deleted' });
      expect(events[0].payload.keyIds).toHaveLength(3);
      expect(
        events
          .slice(1, 4)
          .map((event) => event.payload)
          .sort((a, b) => a.connectorId.localeCompare(b.connectorId)),
      ).toEqual(
        ['another', 'rotated', 'wikipedia'].map((connectorId) => ({
          entityTypeId: 'heritage-site',
          connectorId,
          contributionId: expect.stringMatching(/^[0-9a-f]{40}$/),
          isLive: false,
        })),
      );
      expect(events[4].payload).toEqual({ entityTypeId: 'heritage-site' });
    });
  });

  describe('refused requests', () => {
    it('emit nothing: 400, 404, 409 and no-op promotions leave no event before the next real change', async () => {
      await settle(6, async () => {
        expect((await api.post('/entity/country', sites)).status).toBe(201);
        expect((await api.post('/entity/country/connector/atlas', connectorBody)).status).toBe(201);
        expect((await api.post('/entity/country/connector/atlas/live')).status).toBe(204);
        expect((await api.post('/policy/kept', openPolicy)).status).toBe(201);
        expect((await api.post('/user', userBody('Carol', 'carol@example.org'))).status).toBe(201);
        expect((await api.post('/user/4/access/kept')).status).toBe(201);
      });

      await expectEvents(
        [['user.created', { userId: 5 }]],
        // 400s
        [() => api.post('/entity/bad-type', { name: '' }), 400],
        [() => api.put('/entity/country', { name: '' }), 400],
        [() => api.post('/entity/country/connector/bad', { name: 'x', description: 'y', webhook: 'ftp://x' }), 400],
        [() => api.post('/policy/bad-policy', { ...openPolicy, policy: { data_segment: { segment_query: { $or: true } } } }), 400],
        [() => api.post('/user', { name: '', email: 'x', organization: '' }), 400],
        [() => api.put('/user/4', { name: '' }), 400],
        [() => api.post('/entity/broken', '{"name": '), 400],
        // 404s
        [() => api.put('/entity/missing', sites), 404],
        [() => api.delete('/entity/missing'), 404],
        [() => api.put('/entity/country/connector/missing', connectorBody), 404],
        [() => api.post('/entity/country/connector/missing/token'), 404],
        [() => api.post('/entity/country/connector/missing/live'), 404],
        [() => api.put('/policy/missing', openPolicy), 404],
        [() => api.delete('/policy/missing'), 404],
        [() => api.delete('/user/999'), 404],
        [() => api.post('/user/999/coordinator'), 404],
        [() => api.post('/user/4/access/missing'), 404],
        [() => api.put('/user/4/access/missing'), 404],
        [() => api.delete('/user/4/access/missing'), 404],
        // 409s
        [() => api.post('/entity/country', sites), 409],
        [() => api.post('/entity/country/connector/atlas', connectorBody), 409],
        [() => api.post('/policy/kept', openPolicy), 409],
        [() => api.post('/user', userBody('Carol', 'CAROL@example.org')), 409],
        [() => api.post('/user/1/coordinator'), 409],
        [() => api.delete('/user/4/coordinator'), 409],
        [() => api.post('/user/4/access/kept'), 409],
        // idempotent no-ops
        [() => api.post('/entity/country/connector/atlas/live'), 204],
        // the marker
        [() => api.post('/user', userBody('Dave', 'dave@example.org')), 201],
      );
    });

    it('published every event once, in outbox order', async () => {
      await sleep(200);
      const ids = recorder.events.map((event) => BigInt(event.id));
      expect(ids.every((id, i) => i === 0 || id > ids[i - 1])).toBe(true);
      const [{ count }] = await coordinator.service.app.get(DataSource).query(`SELECT count(*)::int AS count FROM outbox_event`);
      expect(count).toBe(0);
    });
  });
});
