import { describeWithInfrastructure, sleep, waitFor } from '@odb/testing';
import {
  CONSUMER_URL,
  PublishingPlatform,
  UDATA_KEY,
  addUdataCatalog,
  createEntityType,
  publish,
  pushedVersion,
  putMetadata,
  startPublishingPlatform,
  udataOrganization,
  waitUntilPublished,
} from './publisher.support';

/** Pushing entity types to a udata portal (data.gouv.fr API v1), against the fake. */
describeWithInfrastructure('catalog publisher: udata', () => {
  let platform: PublishingPlatform;
  let remoteId: string;

  beforeAll(async () => {
    // A debounce window wide enough for a burst of API calls (the subject of one test).
    platform = await startPublishingPlatform({ publisherEnv: { PUBLISH_DEBOUNCE_MS: '600' } });
    await addUdataCatalog(platform);
    await createEntityType(platform, 'bike-stations', { name: 'Bike stations', description: 'Self-service bike stations', tags: ['mobility'] });
    await putMetadata(platform, 'bike-stations', {
      license: { id: 'Etalab-2.0' },
      frequency: 'daily',
      keywords: ['bikes', 'mobility'],
      temporal: { start: '2020-01-01', end: '2024-12-31' },
      spatial: 'Lyon',
      publisher: { name: 'Mobility department', email: 'mobility@example.org', url: 'https://example.org/mobility' },
      landing_page: 'https://example.org/bikes',
    });
  });

  afterAll(async () => {
    await platform?.close();
  });

  const datasetRequests = () => platform.udata.requestsTo(`/api/1/datasets/${remoteId}`);

  it('creates the remote dataset on first publication, with resources that link back to the platform', async () => {
    expect(await publish(platform, 'bike-stations', 'datagouv')).toBe(201);
    const publication = await waitUntilPublished(platform, 'bike-stations', 'datagouv');
    remoteId = publication.remote_id;
    const remote = platform.udata.getDataset(remoteId)!;
    expect(publication).toMatchObject({
      id: 'datagouv',
      status: 'done',
      remote_url: `${platform.udata.url}/datasets/${remote.slug}/`,
      last_error: null,
      visibility: 'public',
    });
    expect(Date.parse(publication.last_success)).toBeGreaterThan(Date.now() - 60_000);
    expect(publication.log.map((entry: { message: string }) => entry.message).join('\n')).toContain(`created remote dataset ${remoteId}`);

    expect(remote).toMatchObject({
      title: 'Bike stations',
      description: 'Self-service bike stations',
      license: 'lov2',
      frequency: 'daily',
      private: false,
      temporal_coverage: { start: '2020-01-01', end: '2024-12-31' },
      organization: { id: udataOrganization(platform.udata) },
      deleted: null,
    });
    expect(remote.tags.sort()).toEqual(['bikes', 'mobility']);
    expect(remote.extras).toMatchObject({
      odb_local_id: 'bike-stations',
      publisher_name: 'Mobility department',
      contact_email: 'mobility@example.org',
      spatial_text: 'Lyon',
    });
    expect(remote.resources.map((resource) => [resource.title, resource.url, resource.type])).toEqual([
      ['Bike stations (Consumer API, JSON)', `${CONSUMER_URL}/entity/bike-stations`, 'api'],
      ['Bike stations (CSV export)', `${CONSUMER_URL}/entity/bike-stations?format=csv`, 'main'],
      ['Consumer API (OpenAPI document)', `${CONSUMER_URL}/openapi.json`, 'documentation'],
    ]);
    const create = platform.udata.requests.find((request) => request.method === 'POST');
    expect(create?.headers['x-api-key']).toBe(UDATA_KEY);
  });

  it('updates by read-merge-write: what others set remotely stays, and so do the resource ids', async () => {
    const before = platform.udata.getDataset(remoteId)!;
    const resourceIds = before.resources.map((resource) => resource.id);
    platform.udata.editRemotely(remoteId, {
      acronym: 'VLS',
      extras: { ...before.extras, curated_by: 'portal team' },
      resources: [
        ...before.resources,
        { ...before.resources[0], id: 'their-resource', title: 'Map of the stations', url: 'https://maps.example.org/bikes', extras: {} },
      ],
    });
    platform.udata.clearRequests();
    const after = await pushedVersion(platform, 'bike-stations', 'datagouv');
    expect((await platform.api.put('/entity/bike-stations', { name: 'Bike stations', description: 'Self-service bike stations of the metropolis', tags: ['mobility', 'open-data'] })).status).toBe(204);
    await waitUntilPublished(platform, 'bike-stations', 'datagouv', after);

    const remote = platform.udata.getDataset(remoteId)!;
    expect(remote.description).toBe('Self-service bike stations of the metropolis');
    expect(remote.tags.sort()).toEqual(['bikes', 'mobility', 'open-data']);
    expect(remote.acronym).toBe('VLS');
    expect(remote.extras).toMatchObject({ curated_by: 'portal team', odb_local_id: 'bike-stations' });
    expect(remote.resources.map((resource) => resource.id)).toEqual([...resourceIds, 'their-resource']);
    expect(datasetRequests().map((request) => request.method)).toEqual(['GET', 'PUT']);
    expect(platform.udata.requests.filter((request) => request.method === 'POST')).toEqual([]);
  });

  it('collapses a burst of changes within the debounce window into one push of the latest state', async () => {
    platform.udata.clearRequests();
    const after = await pushedVersion(platform, 'bike-stations', 'datagouv');
    const started = Date.now();
    for (const keyword of ['one', 'two', 'three', 'four', 'five']) {
      await putMetadata(platform, 'bike-stations', { frequency: 'hourly', keywords: ['bikes', keyword], license: { id: 'ODbL-1.0' } });
    }
    expect(Date.now() - started).toBeLessThan(600);
    await waitUntilPublished(platform, 'bike-stations', 'datagouv', after);
    await sleep(800); // nothing else follows
    expect(datasetRequests().filter((request) => request.method === 'PUT')).toHaveLength(1);
    const remote = platform.udata.getDataset(remoteId)!;
    expect(remote.tags.sort()).toEqual(['bikes', 'five', 'mobility', 'open-data']);
    expect(remote).toMatchObject({ frequency: 'hourly', license: 'odc-odbl' });
  });

  it('restores a dataset soft-deleted remotely when it is published again', async () => {
    platform.udata.editRemotely(remoteId, { deleted: new Date().toISOString() });
    const after = await pushedVersion(platform, 'bike-stations', 'datagouv');
    expect((await platform.api.post('/entity/bike-stations/publication/datagouv/publish')).status).toBe(202);
    const publication = await waitUntilPublished(platform, 'bike-stations', 'datagouv', after);
    expect(publication.remote_id).toBe(remoteId);
    expect(platform.udata.getDataset(remoteId)!.deleted).toBeNull();
    expect([...platform.udata.datasets.values()].filter((dataset) => dataset.extras.odb_local_id === 'bike-stations')).toHaveLength(1);
  });

  it('deletes the remote dataset when the publication is deleted', async () => {
    const response = await platform.api.delete('/entity/bike-stations/publication/datagouv');
    expect(response.status).toBe(202);
    await waitFor(async () => (await platform.api.get('/entity/bike-stations/publication/datagouv')).status === 404, {
      timeoutMs: 10_000,
      what: 'publication gone',
    });
    expect(platform.udata.getDataset(remoteId)!.deleted).not.toBeNull();
    const deletion = platform.udata.requests.find((request) => request.method === 'DELETE');
    expect(deletion?.headers['x-api-key']).toBe(UDATA_KEY);
  });

  it('deletes the remote dataset when the entity type is deleted', async () => {
    await createEntityType(platform, 'air-quality');
    await publish(platform, 'air-quality', 'datagouv', { visibility: 'private' });
    const { remote_id: airId } = await waitUntilPublished(platform, 'air-quality', 'datagouv');
    expect(platform.udata.getDataset(airId)!.private).toBe(true);
    expect((await platform.api.delete('/entity/air-quality')).status).toBe(204);
    await waitFor(async () => (await platform.api.get('/remote-catalog/datagouv/publication')).body.length === 0, {
      timeoutMs: 10_000,
      what: 'publication removed',
    });
    expect(platform.udata.getDataset(airId)!.deleted).not.toBeNull();
    const [{ count }] = await platform.sql<{ count: string }>(`SELECT count(*) FROM publication`);
    expect(Number(count)).toBe(0);
  });
});
