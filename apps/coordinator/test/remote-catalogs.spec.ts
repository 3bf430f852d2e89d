import { Client } from 'pg';
import { ApiClient, FakeCkan, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { startCoordinator } from './coordinator.support';

describeWithInfrastructure('coordinator: remote catalogs', () => {
  let env: TestEnvironment;
  let ckan: FakeCkan;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  let api: ApiClient;
  const apiKey = 'ckan-test-token';

  beforeAll(async () => {
    env = await TestEnvironment.create();
    ckan = await new FakeCkan({ siteTitle: 'Open Data Town' }).start();
    for (let i = 0; i < 3; i += 1) ckan.addDataset();
    coordinator = await startCoordinator(env, { REMOTE_ALLOWED_HOSTS: ckan.host });
    api = coordinator.api;
  });

  afterAll(async () => {
    await coordinator?.service.close();
    await ckan?.stop();
    await env?.dispose();
  });

  async function sql<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: env.databaseUrl });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('adds a catalog whose API key is sealed at rest and never returned', async () => {
    const created = await api.post('/remote-catalog/Town-Portal', {
      type: 'ckan',
      url: `${ckan.url}/`,
      name: 'Town portal',
      description: 'The town CKAN',
      organization: 'town',
      api_key: apiKey,
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${coordinator.service.api}/remote-catalog/Town-Portal`);

    const { body, text } = await api.get('/remote-catalog/town-portal');
    expect(body).toEqual({
      id: 'town-portal',
      url: `${coordinator.service.api}/remote-catalog/town-portal`,
      name: 'Town portal',
      description: 'The town CKAN',
      type: 'ckan',
      remote_url: ckan.url,
      organization: 'town',
      has_api_key: true,
    });
    expect(text).not.toContain(apiKey);
    const [{ api_key_sealed: sealed }] = await sql<{ api_key_sealed: string }>(`SELECT api_key_sealed FROM remote_catalog`);
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain(apiKey);
  });

  it('checks reachability and credentials and says what the remote is', async () => {
    const { status, body } = await api.post('/remote-catalog/town-portal/check');
    expect(status).toBe(200);
    expect(body).toMatchObject({ reachable: true, title: 'Open Data Town', dataset_count: 3, authenticated: true });
  });

  it('reports a refused address instead of calling it (SSRF guard)', async () => {
    await api.post('/remote-catalog/metadata-service', { type: 'ckan', url: 'http://169.254.169.254/latest', name: 'Not a portal' });
    const { status, body } = await api.post('/remote-catalog/metadata-service/check');
    expect(status).toBe(200);
    expect(body.reachable).toBe(false);
    expect(body.error).toBeTruthy();
  });

  it('keeps the key when an update omits it, and removes it with null', async () => {
    const base = { type: 'ckan', url: ckan.url, name: 'Town portal' };
    expect((await api.put('/remote-catalog/town-portal', base)).status).toBe(204);
    expect((await api.get('/remote-catalog/town-portal')).body.has_api_key).toBe(true);
    expect((await api.put('/remote-catalog/town-portal', { ...base, api_key: null })).status).toBe(204);
    expect((await api.get('/remote-catalog/town-portal')).body.has_api_key).toBe(false);
    expect((await api.put('/remote-catalog/town-portal', { ...base, api_key: apiKey })).status).toBe(204);
  });

  it('validates type, url and name before anything else', async () => {
    const { status, body } = await api.post('/remote-catalog/bad-one', { type: 'ftp', url: 'file:///etc/passwd', name: '' });
    expect(status).toBe(400);
    expect(body.error.message.map((error: { name: string }) => error.name)).toEqual(expect.arrayContaining(['type', 'url', 'name']));
    expect((await api.put('/remote-catalog/missing-one', { type: 'x' })).status).toBe(400);
    expect((await api.put('/remote-catalog/missing-one', { type: 'dcat', url: 'https://example.org/catalog.ttl', name: 'x' })).status).toBe(404);
    expect((await api.post('/remote-catalog/town-portal', { type: 'ckan', url: ckan.url, name: 'again' })).status).toBe(409);
  });

  it('lists catalogs by id, and refuses to delete one that a harvest source uses', async () => {
    expect((await api.get('/remote-catalog')).body.map((catalog: { id: string }) => catalog.id)).toEqual(['metadata-service', 'town-portal']);
    await sql(`INSERT INTO harvest_source (slug, remote_catalog_id, name, mode) SELECT 'town-harvest', id, 'Town', 'metadata' FROM remote_catalog WHERE slug = 'town-portal'`);
    expect((await api.delete('/remote-catalog/town-portal')).status).toBe(409);
    await sql(`DELETE FROM harvest_source`);
    expect((await api.delete('/remote-catalog/town-portal')).status).toBe(204);
    expect((await api.get('/remote-catalog/town-portal')).status).toBe(404);
  });
});
