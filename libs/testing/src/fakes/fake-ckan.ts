import { randomUUID } from 'crypto';
import { FakeHttpServer, FakeRequest, FakeResponse } from './fake-http-server';

export interface FakeCkanResource {
  id: string;
  package_id: string;
  name: string;
  url: string;
  format: string;
  description: string;
  mimetype: string | null;
  size: number | null;
  [field: string]: unknown;
}

export interface FakeCkanPackage {
  id: string;
  name: string;
  title: string;
  notes: string;
  url: string;
  type: 'dataset';
  state: 'active' | 'deleted' | 'draft';
  private: boolean;
  license_id: string | null;
  license_title: string | null;
  owner_org: string | null;
  organization: FakeCkanOrganization | null;
  metadata_created: string;
  metadata_modified: string;
  tags: Array<{ name: string }>;
  extras: Array<{ key: string; value: string }>;
  resources: FakeCkanResource[];
  version?: string;
  author?: string;
  maintainer?: string;
}

/** What a test gives to `addDataset`: any package field; the organization may be given by name. */
export type FakeCkanSeed = Omit<Partial<FakeCkanPackage>, 'organization' | 'resources'> & {
  organization?: FakeCkanOrganization | string | null;
  resources?: Array<Partial<FakeCkanResource>>;
};

export interface FakeCkanOrganization {
  id: string;
  name: string;
  title: string;
}

export interface FakeCkanOptions {
  /** Valid API tokens (the `Authorization` header). Default: `ckan-test-token`. */
  apiTokens?: string[];
  siteTitle?: string;
  /** Like old CKANs and some proxies: errors come back as HTTP 200 with `success: false`. */
  errorsWithHttp200?: boolean;
  /** `ckan.search.rows_max`; larger `rows` are silently capped. Default 1000. */
  rowsMax?: number;
}

const NAME_PATTERN = /^[a-z0-9_-]{2,100}$/;
const TAG_PATTERN = /^[\p{L}\p{N} _.-]{2,100}$/u;
const LICENSE_TITLES: Record<string, string> = {
  'cc-by': 'Creative Commons Attribution',
  'cc-by-sa': 'Creative Commons Attribution Share-Alike',
  'cc-zero': 'Creative Commons CCZero',
  'odc-odbl': 'Open Data Commons Open Database License (ODbL)',
  'odc-by': 'Open Data Commons Attribution License',
  'other-open': 'Other (Open)',
  notspecified: 'License not specified',
  'uk-ogl': 'UK Open Government Licence (OGL)',
};

class CkanActionError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly fields: Record<string, string[]> = {},
  ) {
    super(message);
  }
}

/**
 * An in-memory CKAN Action API v3 (`/api/3/action/*`), written from CKAN's
 * documented behaviour: envelopes `{help, success, result|error}`, error
 * types with their HTTP statuses (409 validation, 403 authorization, 404 not
 * found), `package_search` with q/fq/rows (capped)/start/sort, soft delete,
 * `package_patch` merging and `package_update` replacing.
 */
export class FakeCkan extends FakeHttpServer {
  readonly packages = new Map<string, FakeCkanPackage>();
  readonly organizations = new Map<string, FakeCkanOrganization>();
  readonly options: Required<FakeCkanOptions>;
  /** A broken server that ignores `start` and always answers the first page. */
  ignoreSearchOffset = false;
  /** The next N action calls answer HTTP 200 with `success: false` (an "Internal Server Error" envelope). */
  private successFalseRemaining = 0;
  private clock = Date.parse('2024-01-01T00:00:00Z');

  constructor(options: FakeCkanOptions = {}) {
    super();
    this.options = {
      apiTokens: ['ckan-test-token'],
      siteTitle: 'Fake CKAN',
      errorsWithHttp200: false,
      rowsMax: 1000,
      ...options,
    };
  }

  // ---- seeding -----------------------------------------------------------

  addOrganization(name: string, title = name): FakeCkanOrganization {
    const existing = [...this.organizations.values()].find((org) => org.name === name);
    if (existing) return existing;
    const organization = { id: randomUUID(), name, title };
    this.organizations.set(organization.id, organization);
    return organization;
  }

  addDataset(partial: FakeCkanSeed = {}): FakeCkanPackage {
    const id = partial.id ?? randomUUID();
    const organization =
      typeof partial.organization === 'string' ? this.addOrganization(partial.organization) : partial.organization ?? null;
    const now = this.tick();
    const pkg: FakeCkanPackage = {
      name: partial.name ?? `dataset-${id.slice(0, 8)}`,
      title: partial.title ?? `Dataset ${id.slice(0, 8)}`,
      notes: '',
      url: '',
      type: 'dataset',
      state: 'active',
      private: false,
      license_id: 'cc-by',
      license_title: LICENSE_TITLES['cc-by'],
      metadata_created: now,
      metadata_modified: now,
      tags: [],
      extras: [],
      ...partial,
      id,
      owner_org: organization?.id ?? partial.owner_org ?? null,
      organization,
      resources: (partial.resources ?? []).map((resource) => this.resource(id, resource)),
    };
    this.packages.set(id, pkg);
    return pkg;
  }

  /** `count` packages named `generated-0001…`, spread over the organizations given (if any). */
  generate(count: number, options: { organizations?: string[]; tags?: string[]; formats?: string[] } = {}): FakeCkanPackage[] {
    const created: FakeCkanPackage[] = [];
    for (let i = 1; i <= count; i += 1) {
      const number = String(i).padStart(4, '0');
      const organizations = options.organizations ?? [];
      const format = options.formats?.[i % (options.formats.length || 1)] ?? 'CSV';
      created.push(
        this.addDataset({
          name: `generated-${number}-${randomUUID().slice(0, 4)}`,
          title: `Generated dataset ${number}`,
          notes: `Description of generated dataset ${number}`,
          organization: organizations.length ? organizations[i % organizations.length] : null,
          tags: (options.tags ?? ['generated']).map((name) => ({ name })),
          resources: [{ name: `data ${number}`, url: `https://files.example.org/${number}.${format.toLowerCase()}`, format }],
        }),
      );
    }
    return created;
  }

  getDataset(idOrName: string): FakeCkanPackage | undefined {
    return this.packages.get(idOrName) ?? [...this.packages.values()].find((pkg) => pkg.name === idOrName);
  }

  /** Marks a package as modified now (moves it in `metadata_modified` order). */
  touch(idOrName: string, changes: Partial<FakeCkanPackage> = {}): FakeCkanPackage {
    const pkg = this.getDataset(idOrName);
    if (!pkg) throw new Error(`no package ${idOrName}`);
    Object.assign(pkg, changes, { metadata_modified: this.tick() });
    return pkg;
  }

  /** Sets the fake's clock (ISO) used for metadata_created/modified of later changes. */
  setClock(iso: string): void {
    this.clock = Date.parse(iso);
  }

  /** The next `count` calls answer `{success: false}` with HTTP 200, as CKAN behind some proxies does. */
  answerSuccessFalseNext(count: number): this {
    this.successFalseRemaining = count;
    return this;
  }

  // ---- HTTP ----------------------------------------------------------------

  protected override faultResponse(status: number, headers: Record<string, string> = {}): FakeResponse {
    return {
      status,
      headers,
      body: {
        help: this.help('unknown'),
        success: false,
        error: { __type: status === 429 ? 'Rate Limit Error' : 'Internal Server Error', message: `HTTP ${status}` },
      },
    };
  }

  protected handle(request: FakeRequest): FakeResponse {
    const match = /^\/api\/(?:3\/)?action\/([a-z_]+)$/.exec(request.path);
    if (!match) return { status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>Not Found</body></html>' };
    const action = match[1];
    if (this.successFalseRemaining > 0) {
      this.successFalseRemaining -= 1;
      return this.envelope(action, 200, { success: false, error: { __type: 'Internal Server Error', message: 'Search index unavailable' } });
    }
    const params: Record<string, unknown> =
      request.method === 'POST' && request.body && typeof request.body === 'object'
        ? (request.body as Record<string, unknown>)
        : Object.fromEntries(request.query.entries());
    try {
      const result = this.run(action, params, request);
      return this.envelope(action, 200, { success: true, result });
    } catch (error) {
      if (!(error instanceof CkanActionError)) throw error;
      return this.envelope(action, this.options.errorsWithHttp200 ? 200 : error.status, {
        success: false,
        error: { __type: error.type, message: error.message, ...error.fields },
      });
    }
  }

  private envelope(action: string, status: number, body: Record<string, unknown>): FakeResponse {
    return { status, body: { help: this.help(action), ...body } };
  }

  private help(action: string): string {
    return `${this.url}/api/3/action/help_show?name=${action}`;
  }

  private run(action: string, params: Record<string, unknown>, request: FakeRequest): unknown {
    switch (action) {
      case 'status_show':
        return { site_title: this.options.siteTitle, site_url: this.url, ckan_version: '2.10.4', extensions: [] };
      case 'package_search':
        return this.search(params, request);
      case 'package_show':
        return this.show(params, request);
      case 'package_list':
        return this.activePackages().map((pkg) => pkg.name);
      case 'organization_list':
        return params.all_fields === 'true' || params.all_fields === true
          ? [...this.organizations.values()]
          : [...this.organizations.values()].map((org) => org.name);
      case 'organization_list_for_user':
        this.requireAuth(request);
        return [...this.organizations.values()];
      case 'package_create':
        this.requireWrite(request);
        return this.create(params);
      case 'package_patch':
        this.requireWrite(request);
        return this.patch(params, false);
      case 'package_update':
        this.requireWrite(request);
        return this.patch(params, true);
      case 'package_delete':
        this.requireWrite(request);
        return this.softDelete(params);
      default:
        throw new CkanActionError(400, 'Bad request', `Action name not known: ${action}`);
    }
  }

  private requireAuth(request: FakeRequest): void {
    const token = request.headers.authorization;
    if (!token || !this.options.apiTokens.includes(String(token))) {
      throw new CkanActionError(403, 'Authorization Error', 'Access denied: not authorized');
    }
  }

  private requireWrite(request: FakeRequest): void {
    if (request.method !== 'POST') throw new CkanActionError(400, 'Bad request', 'Only POST is allowed for this action');
    this.requireAuth(request);
  }

  private isAuthorized(request: FakeRequest): boolean {
    const token = request.headers.authorization;
    return !!token && this.options.apiTokens.includes(String(token));
  }

  private activePackages(): FakeCkanPackage[] {
    return [...this.packages.values()].filter((pkg) => pkg.state === 'active');
  }

  private search(params: Record<string, unknown>, request: FakeRequest): unknown {
    const rows = Math.min(Number(params.rows ?? 10), this.options.rowsMax);
    const start = this.ignoreSearchOffset ? 0 : Number(params.start ?? 0);
    if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(start) || start < 0) {
      throw new CkanActionError(409, 'Validation Error', 'Invalid input', { rows: ['Must be a natural number'] });
    }
    const includePrivate = (params.include_private === 'true' || params.include_private === true) && this.isAuthorized(request);
    let matches = this.activePackages().filter((pkg) => includePrivate || !pkg.private);
    matches = matches.filter((pkg) => matchesQuery(pkg, String(params.q ?? '*:*')));
    for (const clause of splitClauses(String(params.fq ?? ''))) matches = matches.filter((pkg) => matchesClause(pkg, clause));
    matches.sort(comparator(String(params.sort ?? 'score desc, metadata_modified desc')));
    return {
      count: matches.length,
      sort: params.sort ?? 'score desc, metadata_modified desc',
      results: matches.slice(start, start + rows).map((pkg) => structuredClone(pkg)),
      facets: {},
      search_facets: {},
    };
  }

  private show(params: Record<string, unknown>, request: FakeRequest): FakeCkanPackage {
    const pkg = this.getDataset(String(params.id ?? ''));
    if (!pkg || (pkg.state !== 'active' && !this.isAuthorized(request)) || (pkg.private && !this.isAuthorized(request))) {
      throw new CkanActionError(404, 'Not Found Error', 'Not found');
    }
    return structuredClone(pkg);
  }

  private create(params: Record<string, unknown>): FakeCkanPackage {
    const errors = this.validate(params, true);
    if (Object.keys(errors).length) throw new CkanActionError(409, 'Validation Error', 'Invalid input', errors);
    const organization = params.owner_org ? this.findOrganization(String(params.owner_org)) : null;
    return structuredClone(
      this.addDataset({
        ...this.editable(params),
        name: String(params.name),
        title: String(params.title ?? params.name),
        organization,
        resources: (params.resources as Array<Partial<FakeCkanResource>> | undefined) ?? [],
      }),
    );
  }

  private patch(params: Record<string, unknown>, replace: boolean): FakeCkanPackage {
    const pkg = this.getDataset(String(params.id ?? ''));
    if (!pkg) throw new CkanActionError(404, 'Not Found Error', 'Not found');
    const errors = this.validate({ ...(replace ? {} : pkg), ...params, name: params.name ?? pkg.name }, false, pkg.id);
    if (Object.keys(errors).length) throw new CkanActionError(409, 'Validation Error', 'Invalid input', errors);
    if (replace) {
      // package_update: what is not sent is reset (resources excepted, as CKAN keeps them when omitted).
      Object.assign(pkg, { notes: '', url: '', tags: [], extras: [], license_id: null, license_title: null });
    }
    Object.assign(pkg, this.editable(params));
    if (params.resources) pkg.resources = (params.resources as FakeCkanResource[]).map((resource) => this.resource(pkg.id, resource, pkg));
    if (params.owner_org) {
      const organization = this.findOrganization(String(params.owner_org));
      pkg.owner_org = organization.id;
      pkg.organization = organization;
    }
    pkg.metadata_modified = this.tick();
    return structuredClone(pkg);
  }

  private softDelete(params: Record<string, unknown>): null {
    const pkg = this.getDataset(String(params.id ?? ''));
    if (!pkg) throw new CkanActionError(404, 'Not Found Error', 'Not found');
    pkg.state = 'deleted';
    pkg.metadata_modified = this.tick();
    return null;
  }

  private editable(params: Record<string, unknown>): Partial<FakeCkanPackage> {
    const fields: Partial<FakeCkanPackage> = {};
    for (const key of ['name', 'title', 'notes', 'url', 'private', 'license_id', 'state', 'version', 'author', 'maintainer']) {
      if (params[key] !== undefined) (fields as Record<string, unknown>)[key] = params[key];
    }
    if (params.license_id !== undefined) fields.license_title = LICENSE_TITLES[String(params.license_id)] ?? String(params.license_id);
    if (params.tags) fields.tags = (params.tags as Array<{ name: string }>).map((tag) => ({ name: tag.name }));
    if (params.extras) fields.extras = (params.extras as Array<{ key: string; value: unknown }>).map((extra) => ({ key: extra.key, value: String(extra.value) }));
    return fields;
  }

  private validate(params: Record<string, unknown>, creating: boolean, selfId?: string): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    const name = params.name;
    if (typeof name !== 'string' || !name) errors.name = ['Missing value'];
    else if (!NAME_PATTERN.test(name)) {
      errors.name = ['Must be purely lowercase alphanumeric (ascii) characters and these symbols: -_'];
    } else {
      // A soft-deleted package keeps its name reserved.
      const holder = [...this.packages.values()].find((pkg) => pkg.name === name);
      if (holder && holder.id !== selfId) errors.name = ['That URL is already in use.'];
    }
    if (creating && !params.owner_org) errors.owner_org = ['An organization must be provided'];
    else if (params.owner_org && !this.tryOrganization(String(params.owner_org))) errors.owner_org = ['Organization does not exist'];
    const badTags = ((params.tags as Array<{ name?: unknown }> | undefined) ?? []).filter(
      (tag) => typeof tag?.name !== 'string' || !TAG_PATTERN.test(tag.name),
    );
    if (badTags.length) errors.tags = badTags.map((tag) => `Tag "${String(tag?.name)}" must be alphanumeric characters or symbols: -_.`);
    for (const resource of (params.resources as Array<{ url?: unknown }> | undefined) ?? []) {
      if (typeof resource?.url !== 'string') (errors.resources ??= []).push('url: Missing value');
    }
    return errors;
  }

  private findOrganization(idOrName: string): FakeCkanOrganization {
    const organization = this.tryOrganization(idOrName);
    if (!organization) throw new CkanActionError(409, 'Validation Error', 'Invalid input', { owner_org: ['Organization does not exist'] });
    return organization;
  }

  private tryOrganization(idOrName: string): FakeCkanOrganization | undefined {
    return this.organizations.get(idOrName) ?? [...this.organizations.values()].find((org) => org.name === idOrName);
  }

  private resource(packageId: string, resource: Partial<FakeCkanResource>, pkg?: FakeCkanPackage): FakeCkanResource {
    const known = resource.id && pkg?.resources.find((existing) => existing.id === resource.id);
    return {
      description: '',
      format: '',
      mimetype: null,
      size: null,
      name: '',
      ...(known || {}),
      ...resource,
      url: String(resource.url ?? ''),
      id: known ? String(resource.id) : resource.id ?? randomUUID(),
      package_id: packageId,
    };
  }

  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace('Z', '');
  }
}

/** `*:*`, `field:value` pairs, or words matched in title/notes/name/tags. */
function matchesQuery(pkg: FakeCkanPackage, q: string): boolean {
  const query = q.trim();
  if (!query || query === '*:*') return true;
  if (/^\w+:/.test(query)) return splitClauses(query).every((clause) => matchesClause(pkg, clause));
  const haystack = [pkg.title, pkg.notes, pkg.name, ...pkg.tags.map((tag) => tag.name)].join(' ').toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .every((word) => haystack.includes(word));
}

/** `+field:"value"`, `field:value`, `field:(a OR b)`, `field:[from TO to]` separated by spaces or AND. */
function splitClauses(fq: string): string[] {
  return fq.match(/[+-]?\w+:(\([^)]*\)|\[[^\]]*\]|\{[^}]*\}|"(?:[^"\\]|\\.)*"|\S+)/g) ?? [];
}

function matchesClause(pkg: FakeCkanPackage, rawClause: string): boolean {
  const negate = rawClause.startsWith('-');
  const clause = rawClause.replace(/^[+-]/, '');
  const colon = clause.indexOf(':');
  const field = clause.slice(0, colon);
  const expression = clause.slice(colon + 1);
  const values = fieldValues(pkg, field);
  let result: boolean;
  const range = /^[[{](\S+) TO (\S+)[\]}]$/.exec(expression);
  if (range) {
    const [from, to] = [range[1], range[2]];
    result = values.some((value) => (from === '*' || value >= normalizeDate(from)) && (to === '*' || value <= normalizeDate(to)));
  } else {
    const alternatives = expression.startsWith('(')
      ? expression.slice(1, -1).split(/\s+OR\s+/)
      : [expression];
    const wanted = alternatives.map(unquote);
    result = values.some((value) => wanted.includes(value));
  }
  return negate ? !result : result;
}

function fieldValues(pkg: FakeCkanPackage, field: string): string[] {
  switch (field) {
    case 'organization':
      return pkg.organization ? [pkg.organization.name] : [];
    case 'owner_org':
      return pkg.owner_org ? [pkg.owner_org] : [];
    case 'tags':
      return pkg.tags.map((tag) => tag.name);
    case 'res_format':
      return pkg.resources.map((resource) => resource.format);
    case 'metadata_modified':
    case 'metadata_created':
      return [normalizeDate(String(pkg[field]))];
    default: {
      const value = (pkg as unknown as Record<string, unknown>)[field];
      return value === undefined ? [] : [String(value)];
    }
  }
}

function unquote(value: string): string {
  return value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

/** Comparable form of a Solr/CKAN date (CKAN stores naive UTC timestamps). */
function normalizeDate(value: string): string {
  const time = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

function comparator(sort: string): (a: FakeCkanPackage, b: FakeCkanPackage) => number {
  const [field, direction] = sort.split(',')[0].trim().split(/\s+/);
  const key = field === 'score' ? 'metadata_modified' : field;
  const sign = (direction ?? 'asc').toLowerCase() === 'desc' || field === 'score' ? -1 : 1;
  return (a, b) => {
    const left = String((a as unknown as Record<string, unknown>)[key] ?? '');
    const right = String((b as unknown as Record<string, unknown>)[key] ?? '');
    return left < right ? -sign : left > right ? sign : 0;
  };
}
