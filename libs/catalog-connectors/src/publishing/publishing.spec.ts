import { FakeUdata } from '@odb/testing';
import { SafeHttpClient } from '../http/safe-http-client';
import { testHttpOptions } from '../testing/test-helpers';
import { UdataAdapter } from '../udata/udata.adapter';
import { checkDatasetMetadata, normalizeDatasetMetadata, readDatasetMetadata } from './dataset-metadata';
import { PublishableEntityType, buildPublishedDataset } from './published-dataset';

const bikes: PublishableEntityType = {
  slug: 'bike-stations',
  name: 'Bike stations',
  description: 'Self-service bike stations',
  tags: ['mobility'],
  metadata: {
    license: { id: 'etalab-2.0' },
    frequency: 'daily',
    keywords: ['bikes', 'mobility'],
    temporal: { start: '2020-01-01' },
    spatial: { type: 'Point', coordinates: [4.83, 45.76] },
    publisher: { name: 'Mobility department', email: 'mobility@example.org', url: 'https://example.org' },
    landing_page: 'https://example.org/bikes',
  },
  liveSources: ['Operator feed', 'Counting sensors'],
};

describe('buildPublishedDataset', () => {
  it('describes the entity type and links back to the Consumer API (the data stays here)', () => {
    const dataset = buildPublishedDataset(bikes, { visibility: 'public', consumerApiUrl: 'https://data.example.org/v1/' });
    expect(dataset).toMatchObject({
      localId: 'bike-stations',
      title: 'Bike stations',
      description: 'Self-service bike stations',
      keywords: ['mobility', 'bikes'],
      license: { id: 'etalab-2.0', url: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/' },
      frequency: 'daily',
      temporal: { start: '2020-01-01' },
      landingPage: 'https://example.org/bikes',
      private: false,
      extras: {
        odb_live_sources: 'Operator feed, Counting sensors',
        publisher_name: 'Mobility department',
        publisher_url: 'https://example.org',
        contact_name: 'Mobility department',
        contact_email: 'mobility@example.org',
        spatial: '{"type":"Point","coordinates":[4.83,45.76]}',
      },
    });
    expect(dataset.resources.map((resource) => [resource.key, resource.url, resource.type])).toEqual([
      ['api', 'https://data.example.org/v1/entity/bike-stations', 'api'],
      ['csv', 'https://data.example.org/v1/entity/bike-stations?format=csv', 'main'],
      ['openapi', 'https://data.example.org/v1/openapi.json', 'documentation'],
    ]);
  });

  it('publishes a private dataset privately, and a license known only by its URL as such', () => {
    const dataset = buildPublishedDataset(
      { ...bikes, metadata: { license: { url: 'https://example.org/licence', title: 'Our licence' } }, liveSources: [] },
      { visibility: 'private', consumerApiUrl: 'https://data.example.org/v1' },
    );
    expect(dataset).toMatchObject({ private: true, license: { url: 'https://example.org/licence', title: 'Our licence' }, extras: {} });
    expect(dataset.frequency).toBeUndefined();
  });
});

describe('dataset metadata', () => {
  it('refuses what the schema cannot: unknown licenses, reversed periods, bad geometries', () => {
    expect(checkDatasetMetadata(bikes.metadata)).toEqual([]);
    expect(
      checkDatasetMetadata({
        license: { id: 'home-made' },
        temporal: { start: '2024-01-01', end: '2023-01-01' },
        spatial: { type: 'Polygon', coordinates: [[1, 2]] },
      }).map((problem) => problem.name),
    ).toEqual(['license.id', 'temporal.end', 'spatial']);
    expect(checkDatasetMetadata({ license: { title: 'No id, no URL' } })).toEqual([{ name: 'license', reason: 'needs an id or a url' }]);
  });

  it('stores license ids canonically and keywords trimmed; reads stored values defensively', () => {
    expect(normalizeDatasetMetadata({ license: { id: 'Etalab-2.0' }, keywords: [' a ', 'a', 'b'] })).toEqual({
      license: { id: 'etalab-2.0' },
      keywords: ['a', 'b'],
    });
    expect(readDatasetMetadata({ frequency: 'every blue moon', keywords: ['x', 3], colour: 'blue' })).toEqual({ keywords: ['x'] });
    expect(readDatasetMetadata(null)).toEqual({});
  });
});

describe('bulk reads for updates (udata)', () => {
  let udata: FakeUdata;
  let organization: string;
  const apiKey = 'udata-key-bulk-0123456789';

  beforeEach(async () => {
    udata = await new FakeUdata({ apiKey, organizations: ['city'] }).start();
    organization = udata.addOrganization('city').id;
  });

  afterEach(() => udata.stop());

  const adapter = () => new UdataAdapter({ url: udata.url, apiKey, organization }, { httpOptions: testHttpOptions([udata.host]) });

  it('reads the datasets asked for from the organization listing, within a request budget', async () => {
    const mine = udata.generate(450, { organizations: ['city'] }).map((dataset) => dataset.id);
    udata.generate(5, { organizations: ['elsewhere'] });
    udata.clearRequests();
    const wanted = [mine[0], mine[250], mine[449], 'not-listed'];
    const found = await adapter().readForUpdate(wanted, 10);
    expect([...found.keys()].sort()).toEqual([mine[0], mine[250], mine[449]].sort());
    expect(udata.requests.map((request) => [request.path, request.query.get('page'), request.query.get('organization')])).toEqual([
      ['/api/1/datasets/', '1', organization],
      ['/api/1/datasets/', '2', organization],
      ['/api/1/datasets/', '3', organization],
    ]);
    udata.clearRequests();
    expect((await adapter().readForUpdate(wanted, 1)).size).toBe(1);
    expect(udata.requests).toHaveLength(1);
  });

  it('updates onto a snapshot with one request, keeping what others changed before it was read', async () => {
    const dataset = buildPublishedDataset(bikes, { visibility: 'public', consumerApiUrl: 'https://data.example.org/v1' });
    const first = await adapter().publishDataset(dataset);
    udata.editRemotely(first.remoteId, { acronym: 'VLS' });
    const snapshot = (await adapter().readForUpdate([first.remoteId], 5)).get(first.remoteId)!;
    udata.clearRequests();
    const second = await adapter().publishDataset({ ...dataset, title: 'Bike stations v2' }, { ...first, snapshot });
    expect(second).toEqual(first);
    expect(udata.requests.map((request) => request.method)).toEqual(['PUT']);
    expect(udata.getDataset(first.remoteId)).toMatchObject({ title: 'Bike stations v2', acronym: 'VLS' });
  });
});

describe('SafeHttpClient pacing', () => {
  it('keeps requests apart even when the event loop was too busy to wake them on time', async () => {
    const udata = await new FakeUdata().start();
    try {
      // Departures are timed where a request leaves the pacing queue (its host lookup, the next step),
      // not where the fake server reads it: arrival jitter on a loaded CI machine is not the client's doing.
      const departures: number[] = [];
      const client = new SafeHttpClient(
        testHttpOptions(['paced.test'], {
          maxRequestsPerSecond: 20,
          resolveHost: async () => {
            departures.push(Date.now());
            return ['127.0.0.1'];
          },
        }),
      );
      const url = `http://paced.test:${new URL(udata.url).port}/api/1/site/`;
      await client.request({ url }); // warms the request path, whose first run is slower than the rest
      departures.length = 0;
      const requests = Array.from({ length: 6 }, () => client.request({ url }));
      const blockedUntil = Date.now() + 200;
      while (Date.now() < blockedUntil) {
        // a busy event loop: every pacing timer fires late, at once
      }
      await Promise.all(requests);
      expect(udata.requests).toHaveLength(7);
      expect(departures).toHaveLength(6);
      // 50 ms apart when they leave the queue; up to 10 ms of that may go to a GC pause on the way to the
      // lookup on a loaded machine. Bunched ones would be ~0 apart, and the sequence spans five intervals.
      for (let i = 1; i < departures.length; i += 1) expect(departures[i] - departures[i - 1]).toBeGreaterThanOrEqual(40);
      expect(departures[5] - departures[0]).toBeGreaterThanOrEqual(5 * 50 - 10);
      client.close();
    } finally {
      await udata.stop();
    }
  });
});
