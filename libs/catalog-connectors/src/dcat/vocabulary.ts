import { DataFactory, NamedNode } from 'n3';

function namespace(base: string) {
  return (local: string): NamedNode => DataFactory.namedNode(`${base}${local}`);
}

const rdf = namespace('http://www.w3.org/1999/02/22-rdf-syntax-ns#');
const rdfs = namespace('http://www.w3.org/2000/01/rdf-schema#');
const dcat = namespace('http://www.w3.org/ns/dcat#');
const dct = namespace('http://purl.org/dc/terms/');
const foaf = namespace('http://xmlns.com/foaf/0.1/');
const vcard = namespace('http://www.w3.org/2006/vcard/ns#');
const skos = namespace('http://www.w3.org/2004/02/skos/core#');
const schema = namespace('http://schema.org/');
const locn = namespace('http://www.w3.org/ns/locn#');
const hydra = namespace('http://www.w3.org/ns/hydra/core#');

/** The terms DCAT extraction reads. */
export const T = {
  type: rdf('type'),
  value: rdf('value'),
  label: rdfs('label'),
  Catalog: dcat('Catalog'),
  Dataset: dcat('Dataset'),
  DatasetSeries: dcat('DatasetSeries'),
  distribution: dcat('distribution'),
  keyword: dcat('keyword'),
  landingPage: dcat('landingPage'),
  accessURL: dcat('accessURL'),
  downloadURL: dcat('downloadURL'),
  mediaType: dcat('mediaType'),
  byteSize: dcat('byteSize'),
  startDate: dcat('startDate'),
  endDate: dcat('endDate'),
  bbox: dcat('bbox'),
  dcatIdentifier: dcat('identifier'),
  identifier: dct('identifier'),
  title: dct('title'),
  description: dct('description'),
  abstract: dct('abstract'),
  license: dct('license'),
  rights: dct('rights'),
  publisher: dct('publisher'),
  modified: dct('modified'),
  issued: dct('issued'),
  accrualPeriodicity: dct('accrualPeriodicity'),
  temporal: dct('temporal'),
  spatial: dct('spatial'),
  format: dct('format'),
  foafName: foaf('name'),
  vcardFn: vcard('fn'),
  vcardOrganizationName: vcard('organization-name'),
  prefLabel: skos('prefLabel'),
  schemaStartDate: schema('startDate'),
  schemaEndDate: schema('endDate'),
  geometry: locn('geometry'),
  geographicName: locn('geographicName'),
  hydraNext: hydra('next'),
  hydraNextPage: hydra('nextPage'),
  hydraTotalItems: hydra('totalItems'),
};
