import { describeWithInfrastructure, waitFor } from '@odb/testing';
import {
  CKAN_KEY,
  CONSUMER_URL,
  PublishingPlatform,
  addCkanCatalog,
  createEntityType,
  publish,
  pushedVersion,
  putMetadata,
  startPublishingPlatform,
  waitUntilPublished,
} from './publisher.support';

/** Pushing entity types to a CKAN portal (Action API v3), against the fake. */
describeWithInfrastructure('catalog publisher: CKAN', () => {
  let platform: PublishingPlatform;
  let packageId: string;

  beforeAll(async () => {
    platform = await startPublishingPlatform();
    await addCkanCatalog(platform);
    await createEntityType(platform, 'water-quality', { name: 'Water quality', description: 'Measurements of the river', tags: ['environment'] });
    await putMetadata(platform, 'water-quality', {
      license: { id: 'CC-BY-4.0' },
      frequency: 'weekly',
      keywords: ['water', 'river'],
      temporal: { start: '2021-03-01', end: '2025-02-28' },
      spatial: { type: 'Point', coordinates: [4.83, 45.76] },
      publisher: { name: 'Water agency', email: 'water@example.org' },
      landing_page: 'https://example.org/water',
    });
  });

  afterAll(async () => {
    await platform?.close();
  });

  const actions = () => platform.ckan.requests.filter((request) => request.path.startsWith('/api/3/action/')).map((request) => request.path.slice('/api/3/action/'.length));

  it('creates the package on first publication: a valid name, notes, {name} tags, extras, the organization', async () => {
    expect(await publish(platform, 'water-quality', 'town-ckan')).toBe(201);
    const publication = await waitUntilPublished(platform, 'water-quality', 'town-ckan');
    packageId = publication.remote_id;
    expect(publication.remote_url).toBe(`${platform.ckan.url}/dataset/water-quality`);
    const pkg = platform.ckan.getDataset(packageId)!;
    expect(pkg).toMatchObject({
      name: 'water-quality',
      title: 'Water quality',
      notes: 'Measurements of the river',
      url: 'https://example.org/water',
      license_id: 'cc-by',
      private: false,
      state: 'active',
      organization: { name: 'town' },
    });
    expect(pkg.tags.map((tag) => tag.name).sort()).toEqual(['environment', 'river', 'water']);
    expect(Object.fromEntries(pkg.extras.map((extra) => [extra.key, extra.value]))).toMatchObject({
      odb_local_id: 'water-quality',
      frequency: 'http://publications.europa.eu/resource/authority/frequency/WEEKLY',
      temporal_start: '2021-03-01',
      temporal_end: '2025-02-28',
      contact_email: 'water@example.org',
      spatial: JSON.stringify({ type: 'Point', coordinates: [4.83, 45.76] }),
    });
    expect(pkg.resources.map((resource) => resource.url)).toEqual([
      `${CONSUMER_URL}/entity/water-quality`,
      `${CONSUMER_URL}/entity/water-quality?format=csv`,
      `${CONSUMER_URL}/openapi.json`,
    ]);
    const create = platform.ckan.requests.find((request) => request.path.endsWith('/package_create'));
    expect(create?.headers.authorization).toBe(CKAN_KEY);
  });

  it('updates with package_patch after reading the package: remote fields and resource ids stay', async () => {
    const before = structuredClone(platform.ckan.getDataset(packageId)!);
    platform.ckan.touch(packageId, {
      author: 'Portal editor',
      extras: [...before.extras, { key: 'curated', value: 'yes' }],
      resources: [...before.resources, { id: 'their-resource', package_id: packageId, name: 'River map', url: 'https://maps.example.org/river', format: 'HTML', description: '', mimetype: null, size: null }],
    });
    platform.ckan.clearRequests();
    const after = await pushedVersion(platform, 'water-quality', 'town-ckan');
    await putMetadata(platform, 'water-quality', { license: { id: 'ODbL-1.0' }, frequency: 'monthly', keywords: ['water'] });
    await waitUntilPublished(platform, 'water-quality', 'town-ckan', after);

    const pkg = platform.ckan.getDataset(packageId)!;
    expect(pkg).toMatchObject({ author: 'Portal editor', license_id: 'odc-odbl' });
    const extras = Object.fromEntries(pkg.extras.map((extra) => [extra.key, extra.value]));
    expect(extras).toMatchObject({ curated: 'yes', frequency: 'http://publications.europa.eu/resource/authority/frequency/MONTHLY' });
    expect(pkg.resources.map((resource) => resource.id)).toEqual([...before.resources.map((resource) => resource.id), 'their-resource']);
    expect(actions()).toEqual(['package_show', 'package_patch']);
  });

  it('checks success even on HTTP 200: a {success: false} answer is retried like a server error', async () => {
    platform.ckan.answerSuccessFalseNext(1);
    const after = await pushedVersion(platform, 'water-quality', 'town-ckan');
    expect((await platform.api.post('/entity/water-quality/publication/town-ckan/publish')).status).toBe(202);
    const publication = await waitUntilPublished(platform, 'water-quality', 'town-ckan', after);
    expect(publication.last_error).toBeNull();
  });

  it('restores a package deleted remotely when it is published again', async () => {
    platform.ckan.touch(packageId, { state: 'deleted' });
    const after = await pushedVersion(platform, 'water-quality', 'town-ckan');
    expect((await platform.api.post('/entity/water-quality/publication/town-ckan/publish')).status).toBe(202);
    const publication = await waitUntilPublished(platform, 'water-quality', 'town-ckan', after);
    expect(publication.remote_id).toBe(packageId);
    expect(platform.ckan.getDataset(packageId)!.state).toBe('active');
    expect(platform.ckan.packages.size).toBe(1);
  });

  it('deletes the package (package_delete) when the publication is deleted', async () => {
    platform.ckan.clearRequests();
    expect((await platform.api.delete('/entity/water-quality/publication/town-ckan')).status).toBe(202);
    await waitFor(async () => (await platform.api.get('/entity/water-quality/publication/town-ckan')).status === 404, {
      timeoutMs: 10_000,
      what: 'publication gone',
    });
    expect(platform.ckan.getDataset(packageId)!.state).toBe('deleted');
    expect(actions()).toEqual(['package_delete']);
  });
});
