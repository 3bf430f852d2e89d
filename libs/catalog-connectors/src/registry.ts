import Ajv, { ValidateFunction } from 'ajv';
import type { CatalogAdapter, CatalogAdapterConfig, CatalogAdapterOptions, CatalogCapability } from './adapter';
import { CkanAdapter } from './ckan/ckan.adapter';
import { DcatAdapter, DcatAdapterConfig } from './dcat/dcat.adapter';
import { CatalogConfigError } from './errors';
import { UdataAdapter } from './udata/udata.adapter';

/** JSON Schema of an adapter's configuration (what the coordinator API accepts and validates). */
export type ConfigSchema = Record<string, unknown>;

/** Everything the platform needs to know about one kind of remote catalog. */
export interface CatalogAdapterDefinition<Config extends CatalogAdapterConfig = CatalogAdapterConfig> {
  title: string;
  capabilities: readonly CatalogCapability[];
  configSchema: ConfigSchema;
  create(config: Config, options?: CatalogAdapterOptions): CatalogAdapter;
}

export function defineCatalogAdapter<Config extends CatalogAdapterConfig>(
  definition: CatalogAdapterDefinition<Config>,
): CatalogAdapterDefinition<Config> {
  return definition;
}

const urlProperty = { type: 'string', format: 'uri', pattern: '^https?://', description: 'Base URL of the portal' };
const apiKeyProperty = { type: 'string', minLength: 1, description: 'API key (stored encrypted, never returned)' };

/** The fields every adapter accepts; an adapter's schema extends it. */
export function baseConfigSchema(extra: Record<string, unknown> = {}): ConfigSchema {
  return {
    type: 'object',
    required: ['url'],
    additionalProperties: false,
    properties: {
      url: urlProperty,
      apiKey: apiKeyProperty,
      organization: { type: 'string', minLength: 1, description: 'Remote organization to publish as' },
      ...extra,
    },
  };
}

export const ckanCatalog = defineCatalogAdapter({
  title: 'CKAN (Action API v3)',
  capabilities: ['harvest', 'publish'],
  configSchema: baseConfigSchema(),
  create: (config, options) => new CkanAdapter(config, options),
});

export const udataCatalog = defineCatalogAdapter({
  title: 'udata (data.gouv.fr API v1)',
  capabilities: ['harvest', 'publish'],
  configSchema: baseConfigSchema(),
  create: (config, options) => new UdataAdapter(config, options),
});

export const dcatCatalog = defineCatalogAdapter<DcatAdapterConfig>({
  title: 'DCAT / DCAT-AP feed (JSON-LD, Turtle, RDF/XML, data.json)',
  capabilities: ['harvest'],
  configSchema: baseConfigSchema({
    url: { ...urlProperty, description: 'URL of the catalog document (first page)' },
    format: { enum: ['jsonld', 'turtle', 'rdfxml'], description: 'Override the Content-Type of the feed' },
    preferredLanguages: { type: 'array', items: { type: 'string' } },
  }),
  create: (config, options) => new DcatAdapter(config, options),
});

/** Every catalog kind the platform can talk to. Adding one is one line here. */
export const CATALOG_ADAPTERS = {
  ckan: ckanCatalog,
  udata: udataCatalog,
  dcat: dcatCatalog,
} satisfies Record<string, CatalogAdapterDefinition<never>>;

export type CatalogKind = keyof typeof CATALOG_ADAPTERS;

export function isCatalogKind(kind: string): kind is CatalogKind {
  return Object.prototype.hasOwnProperty.call(CATALOG_ADAPTERS, kind);
}

const ajv = new Ajv({ allErrors: true, strict: false });
ajv.addFormat('uri', { type: 'string', validate: (value: string) => URL.canParse(value) });
const validators = new Map<string, ValidateFunction>();

/** Checks a configuration against its kind's schema; lists every problem in one error. */
export function validateCatalogConfig(kind: string, config: unknown): asserts config is CatalogAdapterConfig {
  if (!isCatalogKind(kind)) throw new CatalogConfigError(`unknown catalog kind ${JSON.stringify(kind)}`);
  let validate = validators.get(kind);
  if (!validate) {
    validate = ajv.compile(CATALOG_ADAPTERS[kind].configSchema);
    validators.set(kind, validate);
  }
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message}`);
    throw new CatalogConfigError(`invalid ${kind} catalog configuration: ${problems.join('; ')}`);
  }
}

/** A ready adapter for a stored catalog configuration. */
export function createCatalogAdapter(kind: string, config: unknown, options?: CatalogAdapterOptions): CatalogAdapter {
  validateCatalogConfig(kind, config);
  const definition = CATALOG_ADAPTERS[kind as CatalogKind] as CatalogAdapterDefinition<CatalogAdapterConfig>;
  return definition.create(config, options);
}
