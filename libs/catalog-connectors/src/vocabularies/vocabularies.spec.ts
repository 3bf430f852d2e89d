import { toEuFrequencyUri, toFrequency } from './frequencies';
import { resolveLicense, toCkanLicense, toUdataLicense } from './licenses';

describe('frequency vocabularies', () => {
  it.each([
    ['http://purl.org/cld/freq/daily', 'daily'],
    ['http://purl.org/cld/freq/threeTimesAWeek', 'threeTimesAWeek'],
    ['http://purl.org/cld/freq/completelyIrregular', 'irregular'],
    ['http://publications.europa.eu/resource/authority/frequency/ANNUAL_2', 'semiannual'],
    ['http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT', 'continuous'],
    ['http://publications.europa.eu/resource/authority/frequency/10MIN', 'tenMinutes'],
    ['MONTHLY', 'monthly'],
    ['R/P1Y', 'annual'],
    ['R/P0.5M', 'semimonthly'],
    ['monthly', 'monthly'],
    ['notPlanned', 'notPlanned'],
    ['fortnighly', 'biweekly'],
    ['realtime', 'continuous'],
    ['asNeeded', 'punctual'],
    ['Three times a week', 'threeTimesAWeek'],
  ])('%s → %s', (value, expected) => {
    expect(toFrequency(value)).toBe(expected);
  });

  it('leaves unknown terms unmapped', () => {
    expect(toFrequency('http://purl.org/cld/freq/ThisTermDoesNotExist')).toBeUndefined();
    expect(toFrequency('whenever')).toBeUndefined();
    expect(toFrequency(undefined)).toBeUndefined();
  });

  it('writes EU NAL URIs for DCAT-AP and CKAN', () => {
    expect(toEuFrequencyUri('semiannual')).toBe('http://publications.europa.eu/resource/authority/frequency/ANNUAL_2');
    expect(toEuFrequencyUri('continuous')).toBe('http://publications.europa.eu/resource/authority/frequency/CONT');
    expect(toEuFrequencyUri('severalTimesADay')).toBeUndefined();
  });
});

describe('license vocabularies', () => {
  it.each([
    [{ id: 'lov2' }, 'etalab-2.0'],
    [{ id: 'fr-lo' }, 'etalab-1.0'],
    [{ id: 'odc-odbl' }, 'ODbL-1.0'],
    [{ id: 'cc-by', title: 'Creative Commons Attribution' }, 'CC-BY-4.0'],
    [{ url: 'http://creativecommons.org/licenses/by/4.0/legalcode' }, 'CC-BY-4.0'],
    [{ url: 'https://creativecommons.org/publicdomain/zero/1.0/deed.fr' }, 'CC0-1.0'],
    [{ url: 'http://www.opendefinition.org/licenses/cc-zero' }, 'CC0-1.0'],
    [{ url: 'http://dcat-ap.de/def/licenses/cc-zero' }, 'CC0-1.0'],
    [{ url: 'http://publications.europa.eu/resource/authority/licence/CC_BY_4_0' }, 'CC-BY-4.0'],
    [{ title: 'Licence Ouverte Version 2.0' }, 'etalab-2.0'],
    [{ title: 'licence ouverte / open licence version 2.0' }, 'etalab-2.0'],
    [{ title: '<p>Soumis à la licence Etalab : https://www.etalab.gouv.fr/licence-ouverte-open-licence/</p>' }, 'etalab-2.0'],
    [{ id: 'uk-ogl' }, 'OGL-UK-3.0'],
  ])('%j → %s', (ref, expected) => {
    expect(resolveLicense(ref)?.id).toBe(expected);
  });

  it('keeps what it cannot recognise, without an id', () => {
    expect(resolveLicense({ title: 'Proprietary terms of the agency', url: 'https://agency.example/terms' })).toEqual({
      id: undefined,
      title: 'Proprietary terms of the agency',
      url: 'https://agency.example/terms',
    });
    expect(resolveLicense({})).toBeUndefined();
  });

  it('maps platform licenses to udata and CKAN ids', () => {
    expect(toUdataLicense({ id: 'etalab-2.0' })).toBe('lov2');
    expect(toUdataLicense({ id: 'CC0-1.0' })).toBe('cc-zero');
    expect(toUdataLicense({ url: 'https://opendatacommons.org/licenses/odbl/' })).toBe('odc-odbl');
    expect(toUdataLicense({ id: 'OGL-UK-3.0' })).toBe('notspecified');
    expect(toCkanLicense({ id: 'etalab-2.0' })).toBe('other-open');
    expect(toCkanLicense({ id: 'CC-BY-4.0' })).toBe('cc-by');
    expect(toCkanLicense({ title: 'something else' })).toBe('notspecified');
  });
});
