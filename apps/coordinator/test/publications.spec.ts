import { ApiClient, FakeCkan, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { Client } from 'pg';
import { EventRecorder, RecordedEvent, countries, errorLines, startCoordinator } from './coordinator.support';

const summary = (events: RecordedEvent[]) => events.map((event) => [event.subject, event.payload]);

const metadata = {
  license: { id: 'etalab-2.0' },
  frequency: 'monthly',
  keywords: ['population', ' census '],
  temporal: { start: '2000-01-01', end: '2024-12-31T23:59:59Z' },
  spatial: { type: 'Polygon', coordinates: [[[-5, 41], [10, 41], [10, 51], [-5, 51], [-5, 41]]] },
  publisher: { name: 'Statistics office', email: 'stats@example.org', url: 'https://stats.example.org' },
  landing_page: 'https://stats.example.org/countries',
};

/**
 * The coordinator's side of publishing: dataset metadata of entity types
 * and publications to remote catalogs (no publisher runs here: what is
 * checked is the API and the events it emits).
 */
describeWithInfrastructure('coordinator: dataset metadata and publications', () => {
  let env: TestEnvironment;
  let ckan: FakeCkan;
  let recorder: EventRecorder;
  let coordinator: Awaited<ReturnType<typeof startCoordinator>>;
  let api: ApiClient;
  const apiKey = 'ckan-key-that-must-not-leak-5a1f';

  beforeAll(async () => {
    env = await TestEnvironment.create();
    ckan = await new FakeCkan({ apiTokens: [apiKey] }).start();
    recorder = await EventRecorder.start(env);
    coordinator = await startCoordinator(env);
    api = coordinator.api;
    await api.post('/entity/country', countries);
    await api.post('/remote-catalog/town', { type: 'ckan', url: ckan.url, name: 'Town CKAN', organization: 'town', api_key: apiKey });
    await api.post('/remote-catalog/keyless', { type: 'udata', url: 'https://www.data.gouv.fr', name: 'No key' });
    await api.post('/remote-catalog/feed', { type: 'dcat', url: 'https://example.org/catalog.ttl', name: 'A feed', api_key: 'x-key' });
  });

  afterAll(async () => {
    await coordinator?.service.close();
    await recorder?.close();
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

  describe('dataset metadata', () => {
    it('is empty until set', async () => {
      expect(await api.get('/entity/country/metadata')).toMatchObject({ status: 200, body: {} });
      expect((await api.get('/entity/nowhere/metadata')).status).toBe(404);
    });

    it('is replaced by PUT, which bumps the entity type version and says metadata changed', async () => {
      const [{ version: before }] = await sql(`SELECT version FROM entity_type WHERE slug = 'country'`);
      const events = await recorder.during(1, async () => expect((await api.put('/entity/country/metadata', metadata)).status).toBe(204));
      expect(summary(events)).toEqual([['entity-type.updated', { entityTypeId: 'country', changed: ['metadata'] }]]);
      const [{ version: after }] = await sql(`SELECT version FROM entity_type WHERE slug = 'country'`);
      expect(after).toBe(before + 1);
      const { body } = await api.get('/entity/country/metadata');
      expect(body).toEqual({ ...metadata, keywords: ['population', 'census'] });
    });

    it('writes nothing and raises no event when the same metadata is put again', async () => {
      const [{ version: before }] = await sql(`SELECT version FROM entity_type WHERE slug = 'country'`);
      // The event seen is the next real change's, not one for the repeated PUT.
      const events = await recorder.during(1, async () => {
        expect((await api.put('/entity/country/metadata', { ...metadata, license: { id: 'Etalab-2.0' } })).status).toBe(204);
        expect((await api.put('/entity/country/metadata', { ...metadata, frequency: 'weekly' })).status).toBe(204);
      });
      expect(summary(events)).toEqual([['entity-type.updated', { entityTypeId: 'country', changed: ['metadata'] }]]);
      const [{ version: after }] = await sql(`SELECT version FROM entity_type WHERE slug = 'country'`);
      expect(after).toBe(before + 1);
      expect((await api.put('/entity/country/metadata', metadata)).status).toBe(204);
    });

    it('leaves the BitBroker entity type document as it was', async () => {
      const { body } = await api.get('/entity/country');
      expect(Object.keys(body).sort()).toEqual(['description', 'icon', 'id', 'name', 'schema', 'tags', 'timeseries', 'url']);
      expect(JSON.stringify(body)).not.toContain('etalab');
      expect((await api.put('/entity/country', { ...countries, description: 'Every country' })).status).toBe(204);
      expect((await api.get('/entity/country/metadata')).body.license).toEqual({ id: 'etalab-2.0' });
    });

    it('is validated: every problem is listed, nothing is written', async () => {
      const bad = await api.put('/entity/country/metadata', {
        license: { id: 'my-own-licence' },
        frequency: 'sometimes',
        keywords: ['a', 'a'],
        temporal: { start: '2024-01-01', end: '2020-01-01' },
        publisher: { email: 'not-an-email', url: 'ftp://example.org' },
        landing_page: 'not a url',
        colour: 'blue',
      });
      expect(bad.status).toBe(400);
      expect(errorLines(bad).map((line) => line.split(':')[0]).sort()).toEqual(
        expect.arrayContaining(['frequency', 'keywords', 'landing_page', 'publisher.email', 'publisher.url']),
      );
      expect(errorLines(bad).join('\n')).toContain('colour');
      const semantic = await api.put('/entity/country/metadata', { license: { id: 'my-own-licence' }, temporal: { start: '2024-01-01', end: '2020-01-01' } });
      expect(errorLines(semantic)).toEqual([
        expect.stringMatching(/^license.id: is not a known license id \(known: etalab-2.0, /),
        'temporal.end: is before temporal.start',
      ]);
      const geometry = await api.put('/entity/country/metadata', { spatial: { type: 'Point', coordinates: [200, 95] } });
      expect(errorLines(geometry)).toEqual(['spatial: has no valid Point coordinates']);
      expect((await api.put('/entity/country/metadata', { license: { title: 'Ours' } })).status).toBe(400);
      expect((await api.get('/entity/country/metadata')).body.frequency).toBe('monthly');
      expect((await api.put('/entity/country/metadata', { spatial: 'Europe', license: { url: 'https://example.org/licence', title: 'Ours' } })).status).toBe(204);
      expect((await api.put('/entity/nowhere/metadata', {})).status).toBe(404);
    });
  });

  describe('publications', () => {
    it('are only made to catalogs that can be published to, with an API key, of types that exist', async () => {
      expect(errorLines(await api.put('/entity/country/publication/feed', {}))).toEqual(['remote_catalog: catalogs of type dcat cannot be published to']);
      expect(errorLines(await api.put('/entity/country/publication/keyless', {}))).toEqual(['remote_catalog: has no API key, which publishing needs']);
      expect((await api.put('/entity/nowhere/publication/town', {})).status).toBe(404);
      expect((await api.put('/entity/country/publication/nowhere', {})).status).toBe(404);
      expect(errorLines(await api.put('/entity/country/publication/town', { visibility: 'secret', organization: 7 })).map((line) => line.split(':')[0]).sort()).toEqual([
        'organization',
        'visibility',
      ]);
    });

    it('are created by PUT (201) and announced; the publisher then pushes them', async () => {
      let created: { status: number; headers: Headers } | undefined;
      const events = await recorder.during(1, async () => {
        created = await api.put('/entity/country/publication/town', { visibility: 'private' });
      });
      expect(created!.status).toBe(201);
      expect(created!.headers.get('location')).toBe(`${coordinator.service.api}/entity/country/publication/town`);
      expect(summary(events)).toEqual([['publication.updated', { entityTypeId: 'country', remoteCatalogId: 'town', remoteId: null }]]);
    });

    it('show their configuration and state, never the API key', async () => {
      const { status, body, text } = await api.get('/entity/country/publication/town');
      expect(status).toBe(200);
      expect(body).toEqual({
        id: 'town',
        url: `${coordinator.service.api}/entity/country/publication/town`,
        entity: { id: 'country', url: `${coordinator.service.api}/entity/country` },
        remote_catalog: { id: 'town', url: `${coordinator.service.api}/remote-catalog/town`, type: 'ckan' },
        organization: null,
        visibility: 'private',
        status: 'waiting',
        remote_id: null,
        remote_url: null,
        last_success: null,
        last_run: null,
        last_error: null,
        log: [],
      });
      expect(text).not.toContain(apiKey);
      expect((await api.get('/entity/country/publication')).body).toEqual([body]);
      expect((await api.get('/remote-catalog/town/publication')).body).toEqual([body]);
      expect((await api.get('/remote-catalog/feed/publication')).body).toEqual([]);
      expect((await api.get('/remote-catalog/nowhere/publication')).status).toBe(404);
      expect((await api.get('/entity/country/publication/feed')).status).toBe(404);
    });

    it('are updated by PUT (204), announced with their status', async () => {
      await sql(`UPDATE publication SET status = 'done', remote_id = 'remote-1', pushed_version = requested_version`);
      let updated = 0;
      const events = await recorder.during(1, async () => {
        updated = (await api.put('/entity/country/publication/town', { organization: 'other-org', visibility: 'public' })).status;
      });
      expect(updated).toBe(204);
      expect(summary(events)).toEqual([['publication.updated', { entityTypeId: 'country', remoteCatalogId: 'town', status: 'done', remoteId: 'remote-1' }]]);
      expect((await api.get('/entity/country/publication/town')).body).toMatchObject({ organization: 'other-org', visibility: 'public' });
    });

    it('are pushed on demand', async () => {
      const events = await recorder.during(1, async () => expect((await api.post('/entity/country/publication/town/publish')).status).toBe(202));
      expect(summary(events)).toEqual([['publication.push-requested', { entityTypeId: 'country', remoteCatalogId: 'town', status: 'done', remoteId: 'remote-1' }]]);
      expect((await api.post('/entity/country/publication/feed/publish')).status).toBe(404);
    });

    it('keep their remote catalog from being deleted', async () => {
      expect((await api.delete('/remote-catalog/town')).status).toBe(409);
    });

    it('are deleted in two steps: deleting (remote dataset removed by the publisher), then gone', async () => {
      const events = await recorder.during(1, async () => expect((await api.delete('/entity/country/publication/town')).status).toBe(202));
      expect(summary(events)).toEqual([['publication.deleted', { entityTypeId: 'country', remoteCatalogId: 'town', remoteId: 'remote-1' }]]);
      expect((await api.get('/entity/country/publication/town')).body.status).toBe('deleting');
      expect((await api.put('/entity/country/publication/town', {})).status).toBe(409);
      expect((await api.post('/entity/country/publication/town/publish')).status).toBe(409);
      // Asking again retries the deletion.
      expect((await api.delete('/entity/country/publication/town')).status).toBe(202);
      expect((await api.delete('/entity/country/publication/feed')).status).toBe(404);
    });
  });
});
