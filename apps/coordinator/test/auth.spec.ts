import { Controller, DynamicModule, Get, Module, Req } from '@nestjs/common';
import { IsIn } from 'class-validator';
import { AuthModule, AuthenticatedRequest, RequireRole, mintToken } from '@odb/auth';
import { RestServiceConfig, ServiceCoreModule, StartServiceOptions, loadConfig } from '@odb/platform';
import { ApiClient, InProcessService, TestEnvironment, describeWithInfrastructure, startInProcess, waitFor } from '@odb/testing';
import { openPolicy, startContributorIngest, startCoordinator, startCoordinatorReplica, userBody } from './coordinator.support';

/**
 * A stand-in for the consumer API: a service built the same way (ServiceCoreModule
 * + AuthModule, its own verifier cache and NATS connection), whose one route
 * needs a consumer token and answers with what the guard made of it.
 */
class ConsumerProbeConfig extends RestServiceConfig {
  @IsIn(['enforced', 'local'])
  AUTH_MODE: 'enforced' | 'local' = 'enforced';
}

@RequireRole('consumer')
@Controller('probe')
class ConsumerProbeController {
  @Get()
  whoAmI(@Req() request: AuthenticatedRequest) {
    return request.auth;
  }
}

@Module({})
class ConsumerProbeModule {
  static forRoot(config: ConsumerProbeConfig): DynamicModule {
    return {
      module: ConsumerProbeModule,
      imports: [ServiceCoreModule.forRoot({ serviceName: 'consumer-probe', config }), AuthModule.forRoot({ mode: config.AUTH_MODE })],
      controllers: [ConsumerProbeController],
    };
  }
}

const consumerProbeService: StartServiceOptions<ConsumerProbeConfig> = {
  name: 'consumer-probe',
  loadConfig: (env) => loadConfig(ConsumerProbeConfig, env),
  module: (config) => ConsumerProbeModule.forRoot(config),
  restApi: { title: 'consumer probe', description: 'test stand-in for a consumer-role service' },
};

async function startConsumerProbe(env: TestEnvironment, extra: Record<string, string> = {}) {
  const service: InProcessService<ConsumerProbeConfig> = await startInProcess(consumerProbeService, env.serviceEnv(extra));
  return { service, api: new ApiClient(service.api) };
}

const auth = (token: string) => ({ 'x-bbk-auth-token': token });
const plainType = { name: 'Plain', description: 'An entity type without timeseries' };
const connector = { name: 'Connector', description: 'A data connector' };

/** How long revocation may take to reach every service. */
const REVOCATION_BUDGET_MS = 1000;

type Service = 'coordinator' | 'ingest' | 'probe';

/** A revoked token, and where it was seen answering 403. */
interface Revoked {
  what: string;
  service: Service;
  path: string;
  token: string;
}

/**
 * Uses `token` on `client` once (so that service has the key in its cache),
 * runs `revoke`, then polls until the token answers 403. Returns the time from
 * the revoking request to the first 403, and every status seen meanwhile.
 */
async function timeToForbidden(
  client: ApiClient,
  path: string,
  token: string,
  revoke: () => Promise<{ status: number }>,
): Promise<{ elapsedMs: number; seen: number[] }> {
  expect((await client.get(path, auth(token))).status).toBe(200);
  const seen: number[] = [];
  const started = Date.now();
  const revoked = await revoke();
  expect([200, 204]).toContain(revoked.status);
  await waitFor(
    async () => {
      const { status } = await client.get(path, auth(token));
      seen.push(status);
      return status === 403;
    },
    { timeoutMs: 5000, intervalMs: 20, what: `403 from ${client.base}${path}` },
  );
  return { elapsedMs: Date.now() - started, seen: [...new Set(seen)] };
}

describeWithInfrastructure('auth: tokens on the coordinator and across services', () => {
  describe('enforced mode (the default)', () => {
    let env: TestEnvironment;
    let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
    let ingest: Awaited<ReturnType<typeof startContributorIngest>>;
    let probe: Awaited<ReturnType<typeof startConsumerProbe>>;
    let api: ApiClient;
    let anonymous: ApiClient;
    const connectors: Record<string, { id: string; token: string }> = {};
    let consumerToken: string;
    const revoked: Revoked[] = [];
    const timings: string[] = [];

    /** timeToForbidden on one of the services; asserts the budget and keeps the token for the later checks. */
    async function expectRevokedWithinBudget(
      what: string,
      service: Service,
      path: string,
      token: string,
      revoke: () => Promise<{ status: number }>,
    ): Promise<void> {
      const client = { coordinator: anonymous, ingest: ingest.api, probe: probe.api }[service];
      const { elapsedMs, seen } = await timeToForbidden(client, path, token, revoke);
      expect(elapsedMs).toBeLessThan(REVOCATION_BUDGET_MS);
      // Until the revocation arrives the old key still passes, so a deleted connector can answer 404
      // for that short while; but never 401 (the key stays known) nor a server error.
      expect(seen.filter((status) => ![200, 403, 404].includes(status))).toEqual([]);
      timings.push(`${what}: ${elapsedMs} ms`);
      revoked.push({ what, service, path, token });
    }

    const openPath = (contributionId: string) => `/connector/${contributionId}/session/open/stream`;

    beforeAll(async () => {
      env = await TestEnvironment.create();
      coordinator = await startCoordinator(env);
      [ingest, probe] = await Promise.all([startContributorIngest(env), startConsumerProbe(env)]);
      api = coordinator.api;
      anonymous = new ApiClient(coordinator.service.api);

      expect((await api.post('/entity/plain', plainType)).status).toBe(201);
      expect((await api.post('/entity/doomed-type', plainType)).status).toBe(201);
      for (const [entity, slug] of [
        ['plain', 'first'],
        ['plain', 'second'],
        ['plain', 'rotating'],
        ['plain', 'deleted'],
        ['doomed-type', 'orphan'],
      ]) {
        const created = await api.post(`/entity/${entity}/connector/${slug}`, connector);
        expect(created.status).toBe(201);
        connectors[slug] = created.body;
      }
      expect((await api.post('/policy/open', openPolicy)).status).toBe(201);
      expect((await api.post('/user', userBody('Consumer', 'consumer@example.org'))).status).toBe(201);
      consumerToken = (await api.post('/user/2/access/open')).text;
    });

    afterAll(async () => {
      if (process.env.ODB_TEST_TIMINGS) process.stderr.write(`revocation timings:\n  ${timings.join('\n  ')}\n`);
      await Promise.all([coordinator?.service.close(), ingest?.service.close(), probe?.service.close()]);
      await env?.dispose();
    });

    describe('the coordinator', () => {
      it('answers 401 without a token, with the usual envelope, on every kind of route', async () => {
        const calls = [
          anonymous.get('/entity'),
          anonymous.get('/entity/plain/connector'),
          anonymous.post('/entity/new-type', plainType),
          anonymous.get('/policy'),
          anonymous.get('/user'),
          anonymous.get('/user/1'),
          anonymous.post('/user/1/coordinator'),
          anonymous.get('/user/2/access'),
          anonymous.get('/search/user/organization?q=a'),
        ];
        for (const response of await Promise.all(calls)) {
          expect(response).toMatchObject({ status: 401, body: { error: { code: 401, status: 'Unauthorized', message: '' } } });
        }
        expect((await api.get('/entity/new-type')).status).toBe(404);
      });

      it('leaves the announce document and health open', async () => {
        expect((await anonymous.get('/')).status).toBe(200);
        expect((await fetch(`${coordinator.service.url}/health`)).status).toBe(200);
      });

      it('answers 401 to malformed and unknown tokens', async () => {
        const bootstrap = coordinator.token;
        const lastChar = bootstrap.slice(-1) === 'A' ? 'B' : 'A';
        const tokens = [
          'garbage',
          'a.b.c',
          `${bootstrap}x`,
          bootstrap.replace(/^odb1\./, 'odb2.'),
          `${bootstrap.slice(0, -1)}${lastChar}`, // right key id, wrong secret
          mintToken().token, // well-formed, never stored
        ];
        for (const token of tokens) {
          expect([token, (await anonymous.get('/entity', auth(token))).status]).toEqual([token, 401]);
        }
      });

      it("answers 401 to a contributor's or a consumer's token", async () => {
        expect((await anonymous.get('/entity', auth(connectors.first.token))).status).toBe(401);
        expect((await anonymous.get('/entity', auth(consumerToken))).status).toBe(401);
      });

      it('lets the bootstrap token through', async () => {
        expect((await anonymous.get('/entity', auth(coordinator.token))).status).toBe(200);
        expect((await anonymous.get('/user/1', auth(` ${coordinator.token} `))).status).toBe(200);
      });

      it("answers 403, within a second, to a demoted coordinator's token", async () => {
        expect((await api.post('/user', userBody('Coord', 'coord@example.org'))).status).toBe(201);
        const token = (await api.post('/user/3/coordinator')).text;
        await expectRevokedWithinBudget('coordinator demoted', 'coordinator', '/entity', token, () => api.delete('/user/3/coordinator'));
      });

      it("answers 403, within a second, to a deleted user's coordinator token", async () => {
        expect((await api.post('/user', userBody('Leaving', 'leaving@example.org'))).status).toBe(201);
        const token = (await api.post('/user/4/coordinator')).text;
        await expectRevokedWithinBudget('coordinator deleted', 'coordinator', '/user/1', token, () => api.delete('/user/4'));
      });
    });

    describe('the contributor-ingest service', () => {
      it('answers 401 without a token and to tokens of other roles', async () => {
        const path = openPath(connectors.first.id);
        expect(await ingest.api.get(path)).toMatchObject({ status: 401, body: { error: { code: 401, message: '' } } });
        expect((await ingest.api.get(path, auth('garbage'))).status).toBe(401);
        expect((await ingest.api.get(path, auth(coordinator.token))).status).toBe(401);
        expect((await ingest.api.get(path, auth(consumerToken))).status).toBe(401);
      });

      it("takes a connector's token for that connector only (403 for another's)", async () => {
        const own = await ingest.api.get(openPath(connectors.first.id), auth(connectors.first.token));
        expect(own.status).toBe(200);
        expect(own.body).toMatch(/^[0-9a-f-]{36}$/);
        expect(await ingest.api.get(openPath(connectors.second.id), auth(connectors.first.token))).toMatchObject({
          status: 403,
          body: { error: { code: 403, status: 'Forbidden', message: '' } },
        });
        expect((await ingest.api.get(openPath(connectors.second.id), auth(connectors.second.token))).status).toBe(200);
      });

      it('answers 403, within a second, once the connector is deleted', async () => {
        await expectRevokedWithinBudget('connector deleted', 'ingest', openPath(connectors.deleted.id), connectors.deleted.token, () =>
          api.delete('/entity/plain/connector/deleted'),
        );
      });

      it("answers 403, within a second, to the old token once the connector's token is rotated; the new one works", async () => {
        let rotated: { id: string; token: string } | undefined;
        const { id, token } = connectors.rotating;
        await expectRevokedWithinBudget('connector token rotated', 'ingest', openPath(id), token, async () => {
          const response = await api.post('/entity/plain/connector/rotating/token');
          rotated = response.body;
          return response;
        });
        expect(rotated!.id).toBe(connectors.rotating.id);
        expect((await ingest.api.get(openPath(rotated!.id), auth(rotated!.token))).status).toBe(200);
      });

      it("answers 403, within a second, to a connector's token once its entity type is deleted", async () => {
        await expectRevokedWithinBudget('entity type deleted', 'ingest', openPath(connectors.orphan.id), connectors.orphan.token, () =>
          api.delete('/entity/doomed-type'),
        );
      });
    });

    describe('a consumer-role service', () => {
      it('answers 401 without a token and to tokens of other roles; takes a consumer token', async () => {
        expect((await probe.api.get('/probe')).status).toBe(401);
        expect((await probe.api.get('/probe', auth(coordinator.token))).status).toBe(401);
        expect((await probe.api.get('/probe', auth(connectors.first.token))).status).toBe(401);
        const { status, body } = await probe.api.get('/probe', auth(consumerToken));
        expect(status).toBe(200);
        expect(body).toEqual({ role: 'consumer', context: 'open', keyId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      });

      it('answers 403, within a second, to a reissued key; the new one works', async () => {
        let reissued = '';
        await expectRevokedWithinBudget('access reissued', 'probe', '/probe', consumerToken, async () => {
          const response = await api.put('/user/2/access/open');
          reissued = response.text;
          return response;
        });
        expect((await probe.api.get('/probe', auth(reissued))).status).toBe(200);
        consumerToken = reissued;
      });

      it('answers 403, within a second, once the access is deleted', async () => {
        await expectRevokedWithinBudget('access deleted', 'probe', '/probe', consumerToken, () => api.delete('/user/2/access/open'));
      });

      it('answers 403, within a second, once the policy is deleted', async () => {
        expect((await api.post('/policy/short-lived', openPolicy)).status).toBe(201);
        const token = (await api.post('/user/2/access/short-lived')).text;
        await expectRevokedWithinBudget('policy deleted', 'probe', '/probe', token, () => api.delete('/policy/short-lived'));
      });

      it('answers 403, within a second, once the user is deleted', async () => {
        const token = (await api.post('/user/2/access/open')).text;
        await expectRevokedWithinBudget('user deleted', 'probe', '/probe', token, () => api.delete('/user/2'));
      });
    });

    describe('later', () => {
      it('revoked keys stay 403 (not 401), also on replicas started afterwards with empty caches', async () => {
        expect(revoked.map((entry) => entry.what).sort()).toEqual(
          [
            'access deleted',
            'access reissued',
            'connector deleted',
            'connector token rotated',
            'coordinator demoted',
            'coordinator deleted',
            'entity type deleted',
            'policy deleted',
            'user deleted',
          ].sort(),
        );
        const [freshCoordinator, freshIngest, freshProbe] = await Promise.all([
          startCoordinatorReplica(env),
          startContributorIngest(env),
          startConsumerProbe(env),
        ]);
        const replicas: Record<Service, ApiClient[]> = {
          coordinator: [anonymous, freshCoordinator.api],
          ingest: [ingest.api, freshIngest.api],
          probe: [probe.api, freshProbe.api],
        };
        try {
          for (const { what, service, path, token } of revoked) {
            for (const client of replicas[service]) {
              const { status } = await client.get(path, auth(token));
              expect([what, client.base, status]).toEqual([what, client.base, 403]);
            }
          }
          // The role is checked first: a revoked key of another role is still a 401.
          const connectorToken = revoked.find((entry) => entry.what === 'connector deleted')!.token;
          expect((await freshCoordinator.api.get('/entity', auth(connectorToken))).status).toBe(401);
        } finally {
          await Promise.all([freshCoordinator.service.close(), freshIngest.service.close(), freshProbe.service.close()]);
        }
      });
    });
  });

  describe('local mode (AUTH_MODE=local)', () => {
    let env: TestEnvironment;
    let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
    let ingest: Awaited<ReturnType<typeof startContributorIngest>>;
    let probe: Awaited<ReturnType<typeof startConsumerProbe>>;
    let anonymous: ApiClient;

    beforeAll(async () => {
      env = await TestEnvironment.create();
      coordinator = await startCoordinator(env, { AUTH_MODE: 'local' });
      [ingest, probe] = await Promise.all([
        startContributorIngest(env, { AUTH_MODE: 'local' }),
        startConsumerProbe(env, { AUTH_MODE: 'local' }),
      ]);
      anonymous = new ApiClient(coordinator.service.api);
    });

    afterAll(async () => {
      await Promise.all([coordinator?.service.close(), ingest?.service.close(), probe?.service.close()]);
      await env?.dispose();
    });

    it('needs no token on the coordinator, and ignores one that would be refused', async () => {
      expect((await anonymous.get('/user/1')).status).toBe(200);
      expect((await anonymous.post('/entity/plain', plainType)).status).toBe(201);
      expect((await anonymous.get('/entity', auth('garbage'))).status).toBe(200);
    });

    it('needs no token on the contributor-ingest service', async () => {
      const created = await anonymous.post('/entity/plain/connector/local', connector);
      expect(created.status).toBe(201);
      const opened = await ingest.api.get(`/connector/${created.body.id}/session/open/stream`);
      expect(opened.status).toBe(200);
      expect(opened.body).toMatch(/^[0-9a-f-]{36}$/);
      // No key, so no "own connector only" check either: any token is ignored.
      expect((await ingest.api.get(`/connector/${created.body.id}/session/open/stream`, auth(coordinator.token))).status).toBe(200);
    });

    it("takes a consumer's policy from x-bbk-audience", async () => {
      const { status, body } = await probe.api.get('/probe', { 'x-bbk-audience': 'some-policy' });
      expect(status).toBe(200);
      expect(body).toEqual({ role: 'consumer', context: 'some-policy', keyId: null });
    });
  });
});
