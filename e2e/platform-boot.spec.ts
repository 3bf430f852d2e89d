import { NatsServerProcess, RunningService, TestEnvironment, describeWithInfrastructure, startServiceProcess, waitFor } from '@odb/testing';

const SERVICES = ['coordinator', 'contributor-ingest', 'consumer-query', 'harvester', 'catalog-publisher'] as const;
const REST_SERVICES = new Set(['coordinator', 'contributor-ingest', 'consumer-query']);

/** The five services as real processes, on this file's database and a NATS server the test can stop. */
describeWithInfrastructure('the platform boots and reports its health', () => {
  let env: TestEnvironment;
  let nats: NatsServerProcess;
  let services: RunningService[] = [];

  beforeAll(async () => {
    env = await TestEnvironment.create();
    nats = await NatsServerProcess.start();
    services = await Promise.all(
      SERVICES.map((app) => startServiceProcess(app, env.serviceEnv({ NATS_URL: nats.url }), { waitFor: 'ready', timeoutMs: 60_000 })),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.kill()));
    await nats?.dispose();
    await env?.dispose();
  });

  const readiness = async (service: RunningService) => {
    const response = await fetch(`${service.url}/ready`);
    return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, { status: string }> } };
  };

  it('answers /ready with 200 on all five services, naming each dependency', async () => {
    for (const service of services) {
      const { status, body } = await readiness(service);
      expect({ service: service.name, status }).toEqual({ service: service.name, status: 200 });
      expect(body.checks.database.status).toBe('up');
      expect(body.checks.nats.status).toBe('up');
      if (service.name !== 'coordinator' && service.name !== 'contributor-ingest') expect(body.checks.redis.status).toBe('up');
    }
  });

  it('logs each refused request as one JSON line with its correlation id, and never the token it carried', async () => {
    // The coordinator runs on Express, consumer-query on Fastify: both log alike.
    for (const [name, path] of [['coordinator', '/v1/user'], ['consumer-query', '/v1/entity']]) {
      const service = services.find((candidate) => candidate.name === name)!;
      const token = `odb1.${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}.supersecretvalue123`;
      const correlation = `trace-4711-${name}`;
      const response = await fetch(`${service.url}${path}`, { headers: { 'x-bbk-auth-token': token, 'x-request-id': correlation } });
      expect(response.status).toBe(401);
      expect(response.headers.get('x-request-id')).toBe(correlation);
      const line = await waitFor(() => service.output().split('\n').find((candidate) => candidate.includes(correlation)), {
        timeoutMs: 5_000,
        what: `the request log line of ${name}`,
      });
      expect(JSON.parse(line)).toMatchObject({ service: name, req: { id: correlation, method: 'GET', url: path }, res: { statusCode: 401 } });
      expect(service.output()).not.toContain('supersecretvalue123');
      // Nest 11 path syntax throughout: no route converter warnings at start-up.
      expect(service.output()).not.toContain('LegacyRouteConverter');
    }
  });

  it('answers /health and exposes Prometheus metrics, requests counted by route pattern', async () => {
    for (const service of services) {
      expect((await fetch(`${service.url}/health`)).status).toBe(200);
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('process_resident_memory_bytes');
      expect(metrics).toContain(`service="${service.name}"`);
      expect(metrics).toMatch(/http_request_duration_seconds_count\{service="[a-z-]+",method="GET",route="\/health",status="200"\}/);
    }
    const consumerUrl = services.find((service) => service.name === 'consumer-query')!.url;
    expect((await fetch(`${consumerUrl}/v1/entity/some-type/some-id`)).status).toBe(401);
    const consumer = await (await fetch(`${consumerUrl}/metrics`)).text();
    expect(consumer).toMatch(/http_request_duration_seconds_count\{service="consumer-query",method="GET",route="\/v1\/entity\/:type\/:id",status="401"\}/);
    expect(consumer).not.toContain('some-id');
  });

  it('serves the OpenAPI document and Swagger UI of each REST API under its base path', async () => {
    for (const service of services.filter((s) => REST_SERVICES.has(s.name))) {
      const document = (await (await fetch(`${service.url}/v1/openapi.json`)).json()) as { openapi: string; paths: object };
      expect(document.openapi).toMatch(/^3\./);
      expect(Object.keys(document.paths)).toContain('/v1');
      expect((await fetch(`${service.url}/v1/docs`)).status).toBe(200);
      const unknown = await fetch(`${service.url}/v1/no/such/route`);
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: { code: 404, status: 'Not Found', message: '' } });
    }
  });

  it('answers 503 on /ready while NATS is down, and 200 again once it is back', async () => {
    await nats.stop();
    await Promise.all(
      services.map((service) =>
        waitFor(
          async () => {
            const { status, body } = await readiness(service);
            return status === 503 && body.checks.nats.status === 'down' && body.checks.database.status === 'up';
          },
          { timeoutMs: 15_000, what: `${service.name} not ready` },
        ),
      ),
    );
    // Liveness is not readiness: the processes stay up.
    for (const service of services) expect((await fetch(`${service.url}/health`)).status).toBe(200);

    await nats.start();
    await Promise.all(
      services.map((service) =>
        waitFor(async () => (await readiness(service)).status === 200, { timeoutMs: 20_000, what: `${service.name} ready again` }),
      ),
    );
  }, 60_000);

  it('shuts down gracefully on SIGTERM', async () => {
    const codes = await Promise.all(services.map((service) => service.stop()));
    expect(codes).toEqual(SERVICES.map(() => 0));
  }, 30_000);
});

describeWithInfrastructure('configuration is validated at start-up', () => {
  it('stops a service with a message naming the malformed variable', async () => {
    const failure = await startServiceProcess('coordinator', { NATS_URL: 'http://not-nats', DATABASE_POOL_SIZE: 'many' }).catch(
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/exited with 78/);
    expect(failure).toMatch(/NATS_URL: must be a URL starting with nats:\/\//);
    expect(failure).toMatch(/DATABASE_POOL_SIZE: .*integer/);
  });
});
