/**
 * Licenses across vocabularies. Catalogs name the same license by an id of
 * their own (udata `lov2`, CKAN `odc-odbl`), by a URL (several per license:
 * Creative Commons, opendefinition.org, EU NAL, dcat-ap.de) or by a title in
 * some language. The platform identifies a license by its SPDX id where SPDX
 * has one; each entry knows its names elsewhere.
 */
export interface LicenseDefinition {
  /** Platform id (SPDX where it exists). */
  id: string;
  title: string;
  url?: string;
  /** udata license id (`/api/1/datasets/licenses/`). */
  udata?: string;
  /** CKAN default license list id. */
  ckan?: string;
  /** Other URLs that denote this license (compared without scheme, `www.` and trailing slash). */
  urls?: string[];
  /** Other titles and ids (compared case- and accent-insensitively). */
  aliases?: string[];
}

const EU_LICENCE = 'publications.europa.eu/resource/authority/licence/';

export const LICENSES: readonly LicenseDefinition[] = [
  {
    id: 'etalab-2.0',
    title: 'Licence Ouverte / Open Licence version 2.0',
    url: 'https://www.etalab.gouv.fr/licence-ouverte-open-licence/',
    udata: 'lov2',
    ckan: 'other-open',
    urls: ['etalab.gouv.fr/licence-ouverte-open-licence', 'etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf', `${EU_LICENCE}ETALAB_2_0`],
    aliases: ['Licence Ouverte Version 2.0', 'Licence Ouverte 2.0', 'Open Licence 2.0', 'Licence Etalab', 'Licence Etalab 2.0', 'lov2', 'etalab-2.0'],
  },
  {
    id: 'etalab-1.0',
    title: 'Licence Ouverte / Open Licence version 1.0',
    url: 'https://www.etalab.gouv.fr/wp-content/uploads/2014/05/Licence_Ouverte.pdf',
    udata: 'fr-lo',
    ckan: 'other-open',
    urls: ['etalab.gouv.fr/pages/Licence_ouverte_Open_licence-5899923.html', 'data.gouv.fr/Licence-Ouverte-Open-Licence', `${EU_LICENCE}ETALAB_1_0`],
    aliases: ['Licence Ouverte Version 1.0', 'Licence Ouverte 1.0', 'Licence Ouverte', 'Open Licence', 'fr-lo'],
  },
  {
    id: 'ODbL-1.0',
    title: 'Open Data Commons Open Database License (ODbL)',
    url: 'https://opendatacommons.org/licenses/odbl/1-0/',
    udata: 'odc-odbl',
    ckan: 'odc-odbl',
    urls: ['opendatacommons.org/licenses/odbl', 'opendefinition.org/licenses/odc-odbl', `${EU_LICENCE}ODBL`, `${EU_LICENCE}ODC_BL`],
    aliases: ['ODbL', 'odc-odbl', 'Open Database License', 'ODC-ODbL'],
  },
  {
    id: 'ODC-By-1.0',
    title: 'Open Data Commons Attribution License',
    url: 'https://opendatacommons.org/licenses/by/1-0/',
    udata: 'odc-by',
    ckan: 'odc-by',
    urls: ['opendatacommons.org/licenses/by', 'opendefinition.org/licenses/odc-by', `${EU_LICENCE}ODC_BY`],
    aliases: ['odc-by', 'ODC-BY'],
  },
  {
    id: 'PDDL-1.0',
    title: 'Open Data Commons Public Domain Dedication and License (PDDL)',
    url: 'https://opendatacommons.org/licenses/pddl/1-0/',
    udata: 'odc-pddl',
    ckan: 'odc-pddl',
    urls: ['opendatacommons.org/licenses/pddl', 'opendefinition.org/licenses/odc-pddl', `${EU_LICENCE}ODC_PDDL`],
    aliases: ['odc-pddl', 'PDDL'],
  },
  {
    id: 'CC0-1.0',
    title: 'Creative Commons CC0 1.0 Universal',
    url: 'https://creativecommons.org/publicdomain/zero/1.0/',
    udata: 'cc-zero',
    ckan: 'cc-zero',
    urls: [
      'creativecommons.org/publicdomain/zero/1.0',
      'opendefinition.org/licenses/cc-zero',
      'dcat-ap.de/def/licenses/cc-zero',
      `${EU_LICENCE}CC0`,
    ],
    aliases: ['cc-zero', 'CC0', 'Creative Commons Zero', 'Creative Commons CCZero'],
  },
  {
    id: 'CC-BY-4.0',
    title: 'Creative Commons Attribution 4.0',
    url: 'https://creativecommons.org/licenses/by/4.0/',
    udata: 'cc-by',
    ckan: 'cc-by',
    urls: ['creativecommons.org/licenses/by/4.0', 'dcat-ap.de/def/licenses/cc-by/4.0', 'dcat-ap.de/def/licenses/cc-by-4.0', `${EU_LICENCE}CC_BY_4_0`],
    aliases: ['cc-by', 'CC BY 4.0', 'Creative Commons Attribution', 'cc-by-4.0'],
  },
  {
    id: 'CC-BY-3.0',
    title: 'Creative Commons Attribution 3.0',
    url: 'https://creativecommons.org/licenses/by/3.0/',
    udata: 'cc-by',
    ckan: 'cc-by',
    urls: ['creativecommons.org/licenses/by/3.0', 'opendefinition.org/licenses/cc-by', `${EU_LICENCE}CC_BY_3_0`],
    aliases: ['CC BY 3.0', 'cc-by-3.0'],
  },
  {
    id: 'CC-BY-SA-4.0',
    title: 'Creative Commons Attribution Share-Alike 4.0',
    url: 'https://creativecommons.org/licenses/by-sa/4.0/',
    udata: 'cc-by-sa',
    ckan: 'cc-by-sa',
    urls: ['creativecommons.org/licenses/by-sa/4.0', 'creativecommons.org/licenses/by-sa/3.0', 'opendefinition.org/licenses/cc-by-sa', `${EU_LICENCE}CC_BYSA_4_0`],
    aliases: ['cc-by-sa', 'CC BY-SA 4.0', 'Creative Commons Attribution Share-Alike'],
  },
  {
    id: 'CC-BY-NC-4.0',
    title: 'Creative Commons Non-Commercial 4.0',
    url: 'https://creativecommons.org/licenses/by-nc/4.0/',
    ckan: 'cc-nc',
    urls: ['creativecommons.org/licenses/by-nc/4.0', 'creativecommons.org/licenses/by-nc/3.0', `${EU_LICENCE}CC_BYNC_4_0`],
    aliases: ['cc-nc', 'CC BY-NC 4.0', 'Creative Commons Non-Commercial (Any)'],
  },
  {
    id: 'CC-BY-NC-ND-3.0',
    title: 'Creative Commons Attribution-NonCommercial-NoDerivs 3.0',
    url: 'https://creativecommons.org/licenses/by-nc-nd/3.0/',
    urls: ['creativecommons.org/licenses/by-nc-nd/3.0', `${EU_LICENCE}CC_BYNCND_3_0`],
    aliases: ['CC BY-NC-ND 3.0'],
  },
  {
    id: 'OGL-UK-3.0',
    title: 'Open Government Licence v3.0',
    url: 'https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/',
    ckan: 'uk-ogl',
    urls: ['nationalarchives.gov.uk/doc/open-government-licence', 'reference.data.gov.uk/id/open-government-licence'],
    aliases: ['uk-ogl', 'OGL', 'UK Open Government Licence (OGL)', 'Open Government Licence'],
  },
  {
    id: 'DL-DE-BY-2.0',
    title: 'Datenlizenz Deutschland – Namensnennung – Version 2.0',
    url: 'https://www.govdata.de/dl-de/by-2-0',
    ckan: 'other-at',
    urls: ['govdata.de/dl-de/by-2-0', 'dcat-ap.de/def/licenses/dl-by-de/2.0'],
    aliases: ['dl-by-de/2.0', 'dl-de-by-2.0'],
  },
  {
    id: 'notspecified',
    title: 'License not specified',
    udata: 'notspecified',
    ckan: 'notspecified',
    aliases: ['notspecified', 'not specified', 'License Not Specified'],
  },
];

export interface LicenseRef {
  id?: string;
  title?: string;
  url?: string;
}

const byUrl = new Map<string, LicenseDefinition>();
const byName = new Map<string, LicenseDefinition>();
for (const license of LICENSES) {
  for (const url of [license.url, ...(license.urls ?? [])]) if (url) byUrl.set(urlKey(url), license);
  for (const name of [license.id, license.title, ...(license.aliases ?? [])]) byName.set(nameKey(name), license);
}
// Catalog-specific ids resolve too, unless another license already owns the name.
for (const license of LICENSES) {
  for (const name of [license.udata, license.ckan]) {
    if (name && !byName.has(nameKey(name)) && !name.startsWith('other-')) byName.set(nameKey(name), license);
  }
}

/**
 * Finds the platform license a remote reference denotes, trying its URL, then
 * its id, then its title, then any URL written inside a free-text statement
 * ("Soumis à la licence Etalab : https://…"). Unknown licenses keep the remote
 * title and URL with no id.
 */
export function resolveLicense(ref: LicenseRef | undefined): LicenseRef | undefined {
  if (!ref || (!ref.id && !ref.title && !ref.url)) return undefined;
  const candidatesUrls = [ref.url, ref.id, ref.title].filter((value): value is string => !!value && isUrl(value));
  for (const url of candidatesUrls) {
    const found = findByUrl(url);
    if (found) return describe(found);
  }
  for (const name of [ref.id, ref.title]) {
    const found = name ? byName.get(nameKey(name)) : undefined;
    if (found) return describe(found);
  }
  for (const text of [ref.title, ref.id]) {
    for (const url of text?.match(/https?:\/\/[^\s"'<>]+/g) ?? []) {
      const found = findByUrl(url);
      if (found) return describe(found);
    }
  }
  const title = ref.title ? stripHtml(ref.title) : ref.id;
  const url = ref.url ?? candidatesUrls[0];
  return { ...(title ? { title } : {}), ...(url ? { url } : {}) };
}

export function findLicense(id: string | undefined): LicenseDefinition | undefined {
  return id ? LICENSES.find((license) => license.id === id) ?? byName.get(nameKey(id)) : undefined;
}

/** udata license id for a platform license ('notspecified' when udata has none). */
export function toUdataLicense(ref: LicenseRef | undefined): string | undefined {
  if (!ref) return undefined;
  return platformLicense(ref)?.udata ?? 'notspecified';
}

/** CKAN license_id for a platform license ('other-open'/'notspecified' fall-backs as CKAN's default list has them). */
export function toCkanLicense(ref: LicenseRef | undefined): string | undefined {
  if (!ref) return undefined;
  return platformLicense(ref)?.ckan ?? 'notspecified';
}

function platformLicense(ref: LicenseRef): LicenseDefinition | undefined {
  return findLicense(ref.id) ?? findLicense(resolveLicense(ref)?.id);
}

function describe(license: LicenseDefinition): LicenseRef {
  return { id: license.id, title: license.title, url: license.url };
}

function findByUrl(url: string): LicenseDefinition | undefined {
  let key = urlKey(url);
  // Longest known prefix wins: ".../by/4.0/legalcode" is still CC-BY-4.0.
  while (key) {
    const found = byUrl.get(key);
    if (found) return found;
    const cut = key.lastIndexOf('/');
    if (cut <= 0) return undefined;
    key = key.slice(0, cut);
  }
  return undefined;
}

function urlKey(url: string): string {
  return url
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[#?].*$/, '')
    .replace(/\/+$/, '');
}

function nameKey(name: string): string {
  return stripHtml(name)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, ' ')
    .trim();
}

function isUrl(value: string): boolean {
  return /^https?:\/\//i.test(value.trim());
}

function stripHtml(text: string): string {
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
}
