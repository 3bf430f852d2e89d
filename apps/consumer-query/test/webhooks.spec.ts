import { ApiClient, TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import {
  ConsumerPlatform,
  Connector,
  FakeWebhook,
  consumerAs,
  createConnector,
  createPolicy,
  createType,
  errorLines,
  json,
  publicId,
  startConsumerPlatform,
  upsert,
} from './consumer.support';

jest.setTimeout(120_000);

const POPULATION = { period: 'P1Y', value: 'people', unit: 'x1000' };

/**
 * Connector webhooks (BitBroker 4.6–4.7): live data merged into full records,
 * timeseries proxied with normalised paging, both with a 2 s timeout and a
 * fallback (the catalog record, or []), and timeseries paging validated with
 * BitBroker's exact reasons.
 */
describeWithInfrastructure('consumer-query: webhooks and timeseries', () => {
  let env: TestEnvironment;
  let platform: ConsumerPlatform;
  let webhook: FakeWebhook;
  let wikipedia: Connector;
  let consumer: ApiClient;
  let gb: string;
  let record: string;
  let series: string;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    webhook = await FakeWebhook.start();
    platform = await startConsumerPlatform(env);
    await createType(platform.admin, 'country', { timeseries: { population: POPULATION } });
    wikipedia = await createConnector(platform.admin, 'country', 'wikipedia', { webhook: `${webhook.url}/hook/` });
    await upsert(platform.contributor, wikipedia, [
      {
        id: 'GB',
        name: 'United Kingdom',
        entity: { capital: 'London', population: 66_000_000, area: 242_495, currency: { code: 'GBP' } },
        instance: { independence: 1066 },
      },
    ]);
    await createPolicy(platform.admin, 'masked', { masks: ['country.entity.secret', 'country.instance.hidden'] });
    consumer = consumerAs(platform.api, 'masked');
    gb = publicId(wikipedia.id, 'GB');
    record = `/entity/country/${gb}`;
    series = `${record}/timeseries/population`;
  });

  afterAll(async () => {
    await platform?.close();
    await webhook?.close();
    await env?.dispose();
  });

  beforeEach(() => {
    webhook.calls.length = 0;
  });

  describe('instance detail', () => {
    it('calls GET <webhook>/entity/<type>/<vendor id> and merges entity and instance shallowly, before masks', async () => {
      webhook.handler = (_, response) =>
        json(response, 200, {
          entity: { population: 67_000_000, secret: 'masked after the merge', currency: { name: 'Pound' }, link: `bbk://country/${wikipedia.id}/GB` },
          instance: { weather: 'rain', hidden: true },
          other: 'ignored',
        });
      const { status, body } = await consumer.get(record.toUpperCase().replace('/ENTITY/COUNTRY/', '/entity/Country/'));
      expect(status).toBe(200);
      expect(webhook.calls.map((call) => call.path)).toEqual(['/hook/entity/country/GB']);
      expect(webhook.calls[0].headers.accept).toBe('application/json, text/plain');
      expect(webhook.calls[0].headers['content-type']).toBe('application/json');
      expect(body.entity).toEqual({
        capital: 'London',
        population: 67_000_000,
        area: 242_495,
        currency: { name: 'Pound' }, // shallow: the whole value is replaced
        link: `${platform.consumer.api}${record}`,
      });
      expect(body.instance).toEqual({ independence: 1066, weather: 'rain' });
      expect(body).not.toHaveProperty('other');
      expect(body.timeseries).toEqual({ population: { ...POPULATION, url: `${platform.consumer.api}${series}` } });
    });

    it('falls back to the catalog record when the webhook fails or answers nonsense', async () => {
      const stored = { capital: 'London', population: 66_000_000, area: 242_495, currency: { code: 'GBP' } };
      for (const answer of [
        (response: import('http').ServerResponse) => json(response, 500, { entity: { capital: 'Error' } }),
        (response: import('http').ServerResponse) => json(response, 404, {}),
        (response: import('http').ServerResponse) => response.writeHead(200, { 'content-type': 'application/json' }).end('{not json'),
        (response: import('http').ServerResponse) => json(response, 200, ['an', 'array']),
        (response: import('http').ServerResponse) => json(response, 200, { entity: 'not an object', instance: [1] }),
        (response: import('http').ServerResponse) => response.destroy(),
        (response: import('http').ServerResponse) => response.writeHead(302, { location: 'http://example.org/' }).end(),
      ]) {
        webhook.handler = (_, response) => answer(response);
        const { status, body } = await consumer.get(record);
        expect(status).toBe(200);
        expect(body.entity).toEqual(stored);
        expect(body.instance).toEqual({ independence: 1066 });
      }
    });

    it('gives up after 2 s and answers the catalog record', async () => {
      webhook.handler = (_, response) => setTimeout(() => json(response, 200, { entity: { capital: 'Late' } }), 4000).unref();
      const started = Date.now();
      const { status, body } = await consumer.get(record);
      const elapsed = Date.now() - started;
      expect(status).toBe(200);
      expect(body.entity.capital).toBe('London');
      expect(elapsed).toBeGreaterThanOrEqual(1900);
      expect(elapsed).toBeLessThan(3500);
    });
  });

  describe('timeseries', () => {
    const points = [
      { from: '2021-01-01T00:00:00.000Z', value: 3 },
      { from: '2020-01-01T00:00:00.000Z', value: 2 },
    ];

    beforeEach(() => {
      webhook.handler = (_, response) => json(response, 200, points);
    });

    it('proxies to <webhook>/timeseries/<type>/<vendor id>/<tsid> with only the parameters given, limit always', async () => {
      const cases: Array<[string, Record<string, string>]> = [
        ['', { limit: '500' }],
        ['?start=2020', { start: '2020-01-01T00:00:00.000Z', limit: '500' }],
        ['?start=2020-06-15T10:30Z&end=2021-02-01', { start: '2020-06-15T10:30:00.000Z', end: '2021-02-01T00:00:00.000Z', limit: '500' }],
        ['?start=2020-01-01&duration=86400&limit=10', { start: '2020-01-01T00:00:00.000Z', end: '2020-01-02T00:00:00.000Z', limit: '10' }],
        ['?start=2020-01-01T00:00:00%2B02:00&limit=1', { start: '2019-12-31T22:00:00.000Z', limit: '1' }],
      ];
      for (const [query, expected] of cases) {
        webhook.calls.length = 0;
        const { status, body } = await consumer.get(`${series}${query}`);
        expect({ query, status, body }).toEqual({ query, status: 200, body: points });
        expect(webhook.calls).toHaveLength(1);
        expect(webhook.calls[0].path).toBe('/hook/timeseries/country/GB/population');
        expect({ query, params: Object.fromEntries(webhook.calls[0].query) }).toEqual({ query, params: expected });
      }
      expect((await consumer.get(`/entity/COUNTRY/${gb.toUpperCase()}/timeseries/POPULATION`)).body).toEqual(points);
    });

    it('answers [] when the webhook fails or is too slow', async () => {
      webhook.handler = (_, response) => json(response, 503, {});
      expect(await consumer.get(series)).toMatchObject({ status: 200, body: [] });
      webhook.handler = (_, response) => setTimeout(() => json(response, 200, points), 4000).unref();
      const started = Date.now();
      expect(await consumer.get(series)).toMatchObject({ status: 200, body: [] });
      expect(Date.now() - started).toBeLessThan(3500);
    });

    it('answers 404 for an unknown timeseries or record', async () => {
      expect((await consumer.get(`${record}/timeseries/nothing`)).status).toBe(404);
      expect((await consumer.get(`${record}/timeseries/Not A Slug!`)).status).toBe(404);
      expect((await consumer.get(`/entity/country/${'0'.repeat(40)}/timeseries/population`)).status).toBe(404);
      expect(webhook.calls).toHaveLength(0);
    });

    it('validates paging with BitBroker reasons, before looking for the record', async () => {
      // jsonschema quotes the pattern as JSON (backslashes doubled), as BitBroker answered.
      const pattern = `does not match pattern ${JSON.stringify(String.raw`^\d{4}(-\d\d(-\d\d(T\d\d:\d\d(:\d\d)?(\.\d+)?(([+-]\d\d:\d\d)|Z)?)?)?)?$`)}`;
      const cases: Array<[string, string[]]> = [
        ['end=2021', ['paging: You cannot specify an end without a start']],
        ['duration=10', ['paging: You cannot specify a duration without a start']],
        ['start=2020&end=2021&duration=10', ['paging: You cannot specify both an end and a duration']],
        ['start=2021&end=2021', ['paging: You cannot specify an end which is at or before the start']],
        ['start=2021&end=2020-06', ['paging: You cannot specify an end which is at or before the start']],
        ['start=2021-02-30', ['start: is not valid ISO-8601 date format']],
        ['start=2021-13', ['start: is not valid ISO-8601 date format']],
        ['start=yesterday', [`start: ${pattern}`, 'start: is not valid ISO-8601 date format']],
        ['start=2020&duration=0', ['duration: must be greater than or equal to 1']],
        ['start=2020&duration=1.5', ['duration: is not of a type(s) integer']],
        ['limit=0', ['limit: must be greater than or equal to 1']],
        ['limit=501', ['limit: must be less than or equal to 500']],
        ['limit=many', ['limit: is not of a type(s) integer']],
      ];
      for (const [query, reasons] of cases) {
        const response = await consumer.get(`/entity/country/${'0'.repeat(40)}/timeseries/population?${query}`);
        expect({ query, status: response.status, reasons: errorLines(response) }).toEqual({ query, status: 400, reasons });
      }
      expect(webhook.calls).toHaveLength(0);
    });
  });
});
