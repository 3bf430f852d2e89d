import * as jsonld from 'jsonld';
import { DataFactory, Parser as TurtleParser, Quad, Store, Term } from 'n3';
import { RdfXmlParser } from 'rdfxml-streaming-parser';
import { CatalogError, CatalogPayloadError } from '../errors';

export type RdfFormat = 'jsonld' | 'turtle' | 'rdfxml';

/** Loads a remote JSON-LD context; the adapter passes one that goes through the SafeHttpClient. */
export type ContextLoader = (url: string) => Promise<unknown>;

const CONTENT_TYPES: Array<[RegExp, RdfFormat]> = [
  [/application\/(ld\+)?json/i, 'jsonld'],
  [/text\/turtle|application\/x-turtle|text\/n3|application\/n-triples|application\/trig/i, 'turtle'],
  [/application\/rdf\+xml|application\/xml|text\/xml/i, 'rdfxml'],
];

const EXTENSIONS: Array<[RegExp, RdfFormat]> = [
  [/\.(jsonld|json)$/i, 'jsonld'],
  [/\.(ttl|n3|nt|trig)$/i, 'turtle'],
  [/\.(rdf|xml|owl)$/i, 'rdfxml'],
];

/** Serialization of a body: declared content type, else the URL's extension, else its first character. */
export function detectRdfFormat(contentType: string | undefined, url: string, body: string): RdfFormat {
  for (const [pattern, format] of CONTENT_TYPES) if (contentType && pattern.test(contentType)) return format;
  const path = safePathname(url);
  for (const [pattern, format] of EXTENSIONS) if (pattern.test(path)) return format;
  const first = body.trimStart()[0];
  if (first === '{' || first === '[') return 'jsonld';
  if (first === '<' && /^\s*<(\?xml|rdf:RDF|!--|!DOCTYPE)/i.test(body)) return 'rdfxml';
  return 'turtle';
}

/**
 * Parses a document into an RDF graph with the format's own parser. Named
 * graphs are merged into one: DCAT extraction does not depend on them.
 * Relative IRIs resolve against `baseIri` (the URL the page came from).
 */
export async function parseRdf(
  body: string,
  format: RdfFormat,
  baseIri: string,
  loadContext: ContextLoader = refuseRemoteContext,
): Promise<Store> {
  try {
    if (format === 'turtle') return toStore(new TurtleParser({ baseIRI: baseIri }).parse(body));
    if (format === 'rdfxml') return toStore(await parseRdfXml(body, baseIri));
    return toStore(await parseJsonLd(JSON.parse(body), baseIri, loadContext));
  } catch (error) {
    if (error instanceof CatalogError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CatalogPayloadError(baseIri, `invalid ${FORMAT_NAMES[format]}: ${message.slice(0, 300)}`, error);
  }
}

const FORMAT_NAMES: Record<RdfFormat, string> = { jsonld: 'JSON-LD', turtle: 'Turtle', rdfxml: 'RDF/XML' };

async function parseJsonLd(document: unknown, baseIri: string, loadContext: ContextLoader): Promise<Quad[]> {
  let contextFailure: unknown;
  const documentLoader = async (url: string) => {
    try {
      return { contextUrl: undefined, documentUrl: url, document: await loadContext(url) };
    } catch (error) {
      contextFailure = error;
      throw error;
    }
  };
  let quads: JsonLdQuad[];
  try {
    quads = (await jsonld.toRDF(document as jsonld.JsonLdDocument, { base: baseIri, documentLoader } as jsonld.Options.ToRdf)) as unknown as JsonLdQuad[];
  } catch (error) {
    // jsonld wraps loader failures in a generic message: the context's own error says more (SSRF refusal, 404…).
    if (contextFailure instanceof CatalogError) throw contextFailure;
    if (contextFailure instanceof Error) throw new CatalogPayloadError(baseIri, `cannot load JSON-LD context: ${contextFailure.message}`, error);
    throw error;
  }
  return quads.map((quad) =>
    DataFactory.quad(
      toTerm(quad.subject) as Quad['subject'],
      toTerm(quad.predicate) as Quad['predicate'],
      toTerm(quad.object) as Quad['object'],
    ),
  );
}

interface JsonLdTerm {
  termType: 'NamedNode' | 'BlankNode' | 'Literal' | 'DefaultGraph';
  value: string;
  language?: string;
  datatype?: { value: string };
}

interface JsonLdQuad {
  subject: JsonLdTerm;
  predicate: JsonLdTerm;
  object: JsonLdTerm;
}

function toTerm(term: JsonLdTerm): Term {
  switch (term.termType) {
    case 'NamedNode':
      return DataFactory.namedNode(term.value);
    case 'BlankNode':
      return DataFactory.blankNode(term.value.replace(/^_:/, ''));
    case 'Literal':
      return DataFactory.literal(
        term.value,
        term.language ? term.language : term.datatype ? DataFactory.namedNode(term.datatype.value) : undefined,
      );
    default:
      return DataFactory.defaultGraph();
  }
}

/**
 * RDF/XML through a SAX parser that never fetches anything: external
 * entities (`<!ENTITY x SYSTEM "file:…">`) are not resolved, so a reference
 * to one is an "undefined entity" parse error rather than a file read.
 */
function parseRdfXml(body: string, baseIri: string): Promise<Quad[]> {
  return new Promise<Quad[]>((resolve, reject) => {
    const quads: Quad[] = [];
    const parser = new RdfXmlParser({ baseIRI: baseIri, dataFactory: DataFactory as never });
    parser.on('data', (quad: Quad) => quads.push(quad));
    parser.on('error', reject);
    parser.on('end', () => resolve(quads));
    parser.write(body);
    parser.end();
  });
}

function toStore(quads: Quad[]): Store {
  const store = new Store();
  for (const quad of quads) store.addQuad(quad.subject, quad.predicate, quad.object);
  return store;
}

async function refuseRemoteContext(url: string): Promise<unknown> {
  throw new Error(`remote JSON-LD context ${url} not loaded`);
}

function safePathname(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}
