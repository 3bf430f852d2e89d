import type { HarvestedDataset } from '../adapter';
import { readFixture } from '../testing/test-helpers';
import { CkanPackage, normalizeCkanPackage, unwrapPackage } from './ckan-normalize';

/** Real CKAN/DKAN package dictionaries recorded by other projects (see shared/fixtures/README.md). */
describe('CKAN normalizer on recorded packages', () => {
  function normalized(file: string, portalUrl?: string): HarvestedDataset {
    const parsed = JSON.parse(readFixture('real', 'ckan', file)) as { result?: unknown } & CkanPackage;
    const pkg = 'success' in parsed ? unwrapPackage(parsed.result) : parsed;
    const result = normalizeCkanPackage(pkg!, { portalUrl });
    if (!('dataset' in result)) throw new Error(`skipped: ${result.skipped.reason}`);
    return result.dataset;
  }

  it('ckan_dataset.json: core fields, tags, dcat_* extras, a resource whose format is a media type', () => {
    const dataset = normalized('ckan_dataset.json', 'https://demo.ckan.org');
    expect(dataset).toMatchObject({
      remoteId: '2988a6aa-2802-4f32-b846-d4520c79c4b7',
      title: 'Zimbabwe Regional Geochemical Survey.',
      description: expect.stringMatching(/^During the period 1982-86/),
      landingPage: 'http://some.source.url.com/',
      publisher: { name: 'Geological Society' },
      issued: '2012-05-10T00:00:00.000Z',
      modified: '2012-05-10T21:04:00.000Z',
      keywords: ['exploration', 'geochemical-exploration', 'geochemical-maps', 'geochemistry', 'geology', 'nercddc', 'regional-geology'],
    });
    expect(dataset.remoteUrl).toBe('https://demo.ckan.org/dataset/2988a6aa-2802-4f32-b846-d4520c79c4b7');
    expect(dataset.distributions).toEqual([
      {
        remoteId: 'b1e0b666-b7f4-44c1-9b16-56c78e86b66a',
        title: 'Resource locator',
        format: 'HTML',
        mediaType: 'text/html',
        url: 'http://www.bgs.ac.uk/gbase/geochemcd/home.html',
      },
    ]);
  });

  it('full_ckan_dataset_legacy.json: metadata dates, legacy spatial-harvester extras, ISO frequency code', () => {
    const dataset = normalized('full_ckan_dataset_legacy.json');
    expect(dataset).toMatchObject({
      remoteId: '756d6426-d52d-492a-a263-599ad1caa123',
      title: 'Zimbabwe Regional Geochemical Survey.',
      modified: '2012-03-15T18:16:21.035Z',
      frequency: 'notPlanned',
      temporal: { start: '1982-01-01T00:00:00.000Z', end: '1986-01-01T00:00:00.000Z' },
      publisher: { name: 'Geological Society' },
    });
    expect(dataset.license).toBeUndefined();
    expect(dataset.spatial?.geometry).toMatchObject({ type: 'Polygon' });
    expect(dataset.distributions).toEqual([
      expect.objectContaining({ remoteId: '95b07708-afde-4d24-a35c-1da8ddfd7d42', url: 'http://www.bgs.ac.uk/gbase/geochemcd/home.html' }),
    ]);
  });

  it('ckan_full_dataset_dcat_ap.json: DCAT-AP profile fields (no id: the name identifies it)', () => {
    const dataset = normalized('ckan_full_dataset_dcat_ap.json');
    expect(dataset).toMatchObject({
      remoteId: 'test-dataset-shacl',
      title: 'Test DCAT dataset',
      description: 'Lorem ipsum',
      keywords: ['Tag 1', 'Tag 2'],
      issued: '2024-05-01T00:00:00.000Z',
      frequency: 'monthly',
      publisher: { name: 'Test Publisher', id: 'http://example.org/publisher-id' },
      // the envelope of the two periods
      temporal: { start: '1905-03-01T00:00:00.000Z', end: '2024-05-29T00:00:00.000Z' },
      spatial: { text: 'Tarragona', uris: ['https://sws.geonames.org/6361390/'], geometry: expect.objectContaining({ type: 'Polygon' }) },
    });
    expect(dataset.distributions).toEqual([
      expect.objectContaining({ title: 'Resource 1', format: 'CSV', url: 'https://example.com/data.csv', size: 12323 }),
    ]);
    expect(dataset.distributions[0].remoteId).toMatch(/^derived:/);
  });

  it('dkan-french-w-license.json: list-shaped result, French dates, license given as a URL title', () => {
    const dataset = normalized('dkan-french-w-license.json');
    expect(dataset).toMatchObject({
      remoteId: '04be6288-696d-4331-850d-a144871a7e3a',
      title: 'Antennes régionales de la Région Hauts-de-France (au 01/10/2019)',
      // "2019-09-30 22:00:00" is readable; "mar, 10/12/2019 - 09:23" is not and is dropped.
      modified: '2019-09-30T22:00:00.000Z',
      license: { id: 'etalab-1.0' },
      keywords: expect.arrayContaining(['ADMINISTRATION', 'HAUTS-DE-FRANCE', 'Services d utilité publique et services publics']),
      spatial: { geometry: expect.objectContaining({ type: 'Polygon' }) },
    });
    expect(dataset.issued).toBeUndefined();
    expect(dataset.keywords).toHaveLength(13);
    expect(dataset.distributions).toEqual([
      expect.objectContaining({ remoteId: '33f30271-cd5c-49ae-b44b-595caae16126', title: 'coordonnees_antennes.xlsx', format: 'XLSX', size: 42 }),
      expect.objectContaining({ remoteId: 'ab5948b1-95be-4806-ad8d-efaa9ffe43dc', title: 'Visionneuse mviewer' }),
    ]);
  });
});
