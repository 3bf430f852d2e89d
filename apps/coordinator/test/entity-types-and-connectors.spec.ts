import { ApiClient, describeWithInfrastructure } from '@odb/testing';
import { connectorBody, countries, sites, useCoordinator } from './coordinator.support';

describeWithInfrastructure('coordinator: entity types and connectors', () => {
  let api: ApiClient;
  let base: string;
  useCoordinator((coordinator) => {
    api = coordinator.api;
    base = coordinator.service.api;
  });

  describe('the API shell', () => {
    it('announces itself at the base with an absolute base URL', async () => {
      const { status, body } = await api.get('/');
      expect(status).toBe(200);
      expect(body).toMatchObject({ name: 'bit-broker coordinator service', base, status: 'development' });
      expect(new Date(body.now).toISOString()).toBe(body.now);
    });

    it('answers unknown routes with the 404 envelope and /error/test with a 500', async () => {
      expect(await api.get('/no/such/thing')).toMatchObject({ status: 404, body: { error: { code: 404, status: 'Not Found', message: '' } } });
      expect(await api.get('/error/test')).toMatchObject({
        status: 500,
        body: { error: { code: 500, status: 'Internal Server Error', message: 'test error message - please ignore' } },
      });
    });

    it('rejects malformed JSON with a syntax error and writes nothing', async () => {
      const { status, body } = await api.post('/entity/broken', '{"name": ');
      expect(status).toBe(400);
      expect(body.error.message[0]).toMatchObject({ name: 'syntax', index: null });
      expect(body.error.message[0].reason.toLowerCase()).toContain('unexpected');
      expect((await api.get('/entity/broken')).status).toBe(404);
    });

    it('allows cross-origin calls', async () => {
      const { headers } = await api.get('/entity', { origin: 'https://portal.example.org' });
      expect(headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  describe('entity types', () => {
    it('creates one (201 + absolute Location from X-Forwarded-Host and -Proto) and reads it back', async () => {
      const created = await api.post('/entity/Country', countries, { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'broker.example.org' });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('https://broker.example.org/v1/entity/Country');
      expect(created.text).toBe('');

      const { status, body } = await api.get('/entity/COUNTRY');
      expect(status).toBe(200);
      expect(body).toEqual({ id: 'country', url: `${base}/entity/country`, ...countries });
    });

    it('lists entity types sorted by id, without schema and timeseries', async () => {
      await api.post('/entity/heritage-site', sites);
      const { body } = await api.get('/entity');
      expect(body.map((type: { id: string }) => type.id)).toEqual(['country', 'heritage-site']);
      expect(body[1]).toEqual({
        id: 'heritage-site',
        url: `${base}/entity/heritage-site`,
        name: sites.name,
        description: sites.description,
        icon: '',
        tags: sites.tags,
      });
    });

    it('refuses a duplicate with 409', async () => {
      expect((await api.post('/entity/country', countries)).status).toBe(409);
    });

    it('validates the slug and the body, reporting every problem', async () => {
      const { status, body } = await api.post('/entity/1x', { name: '', schema: 'x', timeseries: { TS: { period: 'yearly' } }, tags: ['a', 'a'] });
      expect(status).toBe(400);
      const reasons = body.error.message.map((error: { name: string; reason: string }) => `${error.name}: ${error.reason}`);
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^slug: does not match pattern/),
          'name: does not meet minimum length of 1',
          'description: does not meet minimum length of 1',
          'schema: is not of a type(s) object',
          'schema: is not valid JSON schema',
          expect.stringMatching(/^timeseries: does not match pattern/),
          'timeseries.TS: requires property "value"',
          expect.stringMatching(/^timeseries.TS.period: does not match pattern/),
          'tags: contains duplicate item',
        ]),
      );
    });

    it('validates before checking existence: a bad update of a missing type is a 400', async () => {
      expect((await api.put('/entity/missing-type', { name: '' })).status).toBe(400);
      expect((await api.put('/entity/missing-type', sites)).status).toBe(404);
    });

    it('updates a type (204) and reads the change', async () => {
      expect((await api.put('/entity/heritage-site', { ...sites, icon: 'castle' })).status).toBe(204);
      expect((await api.get('/entity/heritage-site')).body.icon).toBe('castle');
    });
  });

  describe('connectors', () => {
    let first: { id: string; token: string };

    it('creates one: 201, Location, and {id: contribution id, token}', async () => {
      const created = await api.post('/entity/country/connector/Wikipedia', connectorBody);
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe(`${base}/entity/country/connector/Wikipedia`);
      first = created.body;
      expect(first.id).toMatch(/^[0-9a-f]{40}$/);
      expect(first.token).toMatch(/^[A-Za-z0-9-_=]+\.[A-Za-z0-9-_=]+\.?[A-Za-z0-9-_.+/=]+$/);
    });

    it('reads it back as staging, with the webhook stored without its trailing slash', async () => {
      const { body } = await api.get('/entity/country/connector/wikipedia');
      expect(body).toEqual({
        id: 'wikipedia',
        url: `${base}/entity/country/connector/wikipedia`,
        name: connectorBody.name,
        description: connectorBody.description,
        entity: { id: 'country', url: `${base}/entity/country` },
        contribution_id: first.id,
        webhook: 'http://webhook.example.org',
        cache: 0,
        is_live: false,
        in_session: false,
      });
    });

    it('requires a webhook when the entity type has timeseries', async () => {
      const { status, body } = await api.post('/entity/country/connector/no-hook', { name: 'x', description: 'y' });
      expect(status).toBe(400);
      expect(body.error.message).toEqual([
        { name: 'webhook', index: null, reason: 'You must supply a webhook when entity types contain timeseries' },
      ]);
    });

    it('validates webhook and cache', async () => {
      const { body } = await api.post('/entity/heritage-site/connector/bad', { name: 'x', description: 'y', webhook: 'ftp://x', cache: -1 });
      const names = body.error.message.map((error: { name: string }) => error.name);
      expect(names).toEqual(expect.arrayContaining(['webhook', 'cache']));
    });

    it('answers 404 for a connector of an unknown type and 409 for a duplicate', async () => {
      expect((await api.post('/entity/nothing-here/connector/abc', connectorBody)).status).toBe(404);
      expect((await api.post('/entity/country/connector/wikipedia', connectorBody)).status).toBe(409);
      expect((await api.get('/entity/nothing-here/connector')).status).toBe(404);
    });

    it('promotes and demotes idempotently', async () => {
      for (const [method, live] of [
        ['post', true],
        ['post', true],
        ['delete', false],
        ['delete', false],
      ] as const) {
        const response = method === 'post' ? await api.post('/entity/country/connector/wikipedia/live') : await api.delete('/entity/country/connector/wikipedia/live');
        expect(response.status).toBe(204);
        expect((await api.get('/entity/country/connector/wikipedia')).body.is_live).toBe(live);
      }
      expect((await api.post('/entity/country/connector/nobody/live')).status).toBe(404);
    });

    it('gives the same contribution id when a connector is deleted and re-created', async () => {
      expect((await api.delete('/entity/country/connector/wikipedia')).status).toBe(204);
      expect((await api.get('/entity/country/connector/wikipedia')).status).toBe(404);
      const again = await api.post('/entity/country/connector/wikipedia', connectorBody);
      expect(again.body.id).toBe(first.id);
      expect(again.body.token).not.toBe(first.token);
    });

    it('lists connectors sorted by id', async () => {
      await api.post('/entity/country/connector/atlas', connectorBody);
      const { body } = await api.get('/entity/country/connector');
      expect(body.map((connector: { id: string }) => connector.id)).toEqual(['atlas', 'wikipedia']);
      expect(Object.keys(body[0])).toEqual(['id', 'url', 'name', 'description']);
    });

    it('rotates a token: 200 with a new token for the same contribution id', async () => {
      const rotated = await api.post('/entity/country/connector/atlas/token');
      expect(rotated.status).toBe(200);
      expect(rotated.body.id).toMatch(/^[0-9a-f]{40}$/);
      expect(rotated.body.token).toMatch(/^odb1\./);
    });

    it('deletes an entity type with its connectors', async () => {
      expect((await api.delete('/entity/country')).status).toBe(204);
      expect((await api.get('/entity/country')).status).toBe(404);
      expect((await api.get('/entity/country/connector/atlas')).status).toBe(404);
      expect((await api.delete('/entity/country')).status).toBe(404);
    });
  });
});
