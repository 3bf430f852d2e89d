import { randomBytes, randomUUID } from 'crypto';
import { FakeHttpServer, FakeRequest, FakeResponse, jsonResponse } from './fake-http-server';

export interface FakeUdataResource {
  id: string;
  title: string;
  description: string;
  url: string;
  type: string;
  filetype: string;
  format: string;
  mime: string | null;
  filesize: number | null;
  extras: Record<string, unknown>;
  created_at: string;
  last_modified: string;
  [field: string]: unknown;
}

export interface FakeUdataDataset {
  id: string;
  slug: string;
  title: string;
  acronym: string | null;
  description: string;
  tags: string[];
  license: string;
  frequency: string;
  temporal_coverage: { start: string | null; end: string | null } | null;
  spatial: { zones: string[]; granularity: string | null; geom: unknown } | null;
  organization: { id: string; name: string; slug: string } | null;
  owner: { id: string; first_name: string; last_name: string } | null;
  private: boolean;
  deleted: string | null;
  archived: string | null;
  created_at: string;
  last_modified: string;
  last_update: string;
  /** Set on the way out: they depend on the port the server got. */
  page?: string;
  uri?: string;
  extras: Record<string, unknown>;
  resources: FakeUdataResource[];
}

/** What a test gives to `addDataset`: any dataset field; the organization may be given by name. */
export type FakeUdataSeed = Omit<Partial<FakeUdataDataset>, 'organization' | 'resources'> & {
  organization?: FakeUdataDataset['organization'] | string;
  resources?: Array<Partial<FakeUdataResource>>;
};

export interface FakeUdataUser {
  id: string;
  apiKey: string;
  first_name: string;
  last_name: string;
  organizations: string[];
}

/** Fields a PUT replaces: those not sent are reset to these defaults (udata's form semantics). */
const EDITABLE_DEFAULTS: Record<string, () => unknown> = {
  acronym: () => null,
  tags: () => [],
  license: () => 'notspecified',
  frequency: () => 'unknown',
  temporal_coverage: () => null,
  spatial: () => null,
  private: () => false,
  extras: () => ({}),
  resources: () => [],
};

/**
 * An in-memory udata API v1 (data.gouv.fr), from its documented behaviour:
 * paginated lists `{data, page, page_size, total, next_page, previous_page}`
 * without private/deleted datasets, `X-API-KEY` auth, PUT that resets fields
 * it is not sent, DELETE as a soft delete (`deleted` date, then 410 for
 * others and visible to the owner), restore with `"deleted": null`, stable
 * resource ids.
 */
export class FakeUdata extends FakeHttpServer {
  readonly datasets = new Map<string, FakeUdataDataset>();
  readonly organizations = new Map<string, { id: string; name: string; slug: string }>();
  readonly users: FakeUdataUser[] = [];
  private clock = Date.parse('2024-01-01T00:00:00Z');

  constructor(options: { apiKey?: string; organizations?: string[] } = {}) {
    super();
    const organizations = (options.organizations ?? ['fake-org']).map((name) => this.addOrganization(name));
    this.addUser(options.apiKey ?? 'udata-test-key', organizations.map((org) => org.id));
  }

  // ---- seeding -----------------------------------------------------------

  addOrganization(name: string): { id: string; name: string; slug: string } {
    const existing = [...this.organizations.values()].find((org) => org.name === name || org.slug === name);
    if (existing) return existing;
    const organization = { id: objectId(), name, slug: slugify(name) };
    this.organizations.set(organization.id, organization);
    return organization;
  }

  addUser(apiKey: string, organizationIds: string[] = []): FakeUdataUser {
    const user = { id: objectId(), apiKey, first_name: 'Test', last_name: 'User', organizations: organizationIds };
    this.users.push(user);
    return user;
  }

  addDataset(partial: FakeUdataSeed = {}): FakeUdataDataset {
    const id = partial.id ?? objectId();
    const title = partial.title ?? `Dataset ${id.slice(-6)}`;
    const slug = partial.slug ?? this.uniqueSlug(title);
    const organization = typeof partial.organization === 'string' ? this.addOrganization(partial.organization) : partial.organization ?? null;
    const now = this.tick();
    const dataset: FakeUdataDataset = {
      acronym: null,
      description: `Description of ${title}`,
      tags: [],
      license: 'lov2',
      frequency: 'unknown',
      temporal_coverage: null,
      spatial: null,
      owner: null,
      private: false,
      deleted: null,
      archived: null,
      created_at: now,
      last_modified: now,
      last_update: now,
      extras: {},
      ...partial,
      id,
      slug,
      title,
      organization,
      resources: (partial.resources ?? []).map((resource) => this.resource(resource)),
    };
    this.datasets.set(id, dataset);
    return dataset;
  }

  /** `count` datasets titled `Generated dataset 0001…`, spread over the organizations given. */
  generate(count: number, options: { organizations?: string[]; tags?: string[]; formats?: string[] } = {}): FakeUdataDataset[] {
    const created: FakeUdataDataset[] = [];
    for (let i = 1; i <= count; i += 1) {
      const number = String(i).padStart(4, '0');
      const organizations = options.organizations ?? [];
      const format = options.formats?.[i % (options.formats.length || 1)] ?? 'csv';
      created.push(
        this.addDataset({
          title: `Generated dataset ${number}`,
          organization: organizations.length ? organizations[i % organizations.length] : undefined,
          tags: options.tags ?? ['generated'],
          resources: [{ title: `data ${number}`, url: `https://files.example.org/${number}.${format}`, format }],
        }),
      );
    }
    return created;
  }

  getDataset(idOrSlug: string): FakeUdataDataset | undefined {
    return this.datasets.get(idOrSlug) ?? [...this.datasets.values()].find((dataset) => dataset.slug === idOrSlug);
  }

  /** Changes a dataset as someone else would, on the remote side. */
  editRemotely(idOrSlug: string, changes: Partial<FakeUdataDataset>): FakeUdataDataset {
    const dataset = this.getDataset(idOrSlug);
    if (!dataset) throw new Error(`no dataset ${idOrSlug}`);
    Object.assign(dataset, changes, { last_modified: this.tick(), last_update: this.clockIso() });
    return dataset;
  }

  // ---- HTTP ----------------------------------------------------------------

  protected handle(request: FakeRequest): FakeResponse {
    const path = request.path.replace(/\/?$/, '/');
    if (path === '/api/1/site/') return this.site();
    if (path === '/api/1/me/') return this.me(request);
    if (path === '/api/1/datasets/') {
      if (request.method === 'GET') return this.list(request);
      if (request.method === 'POST') return this.create(request);
    }
    const one = /^\/api\/1\/datasets\/([^/]+)\/$/.exec(path);
    if (one) {
      const id = decodeURIComponent(one[1]);
      if (request.method === 'GET') return this.show(id, request);
      if (request.method === 'PUT') return this.update(id, request);
      if (request.method === 'DELETE') return this.remove(id, request);
    }
    return jsonResponse(404, { message: 'The requested URL was not found on the server.', status: 404 });
  }

  private site(): FakeResponse {
    const visible = [...this.datasets.values()].filter(isListed).length;
    return jsonResponse(200, { id: 'fake-udata', title: 'Fake udata', metrics: { datasets: visible, organizations: this.organizations.size } });
  }

  private me(request: FakeRequest): FakeResponse {
    const user = this.userOf(request);
    if (!user) return jsonResponse(401, { message: 'Unauthorized', status: 401 });
    return jsonResponse(200, {
      id: user.id,
      first_name: user.first_name,
      last_name: user.last_name,
      organizations: user.organizations.map((id) => this.organizations.get(id)),
    });
  }

  private list(request: FakeRequest): FakeResponse {
    const page = Number(request.query.get('page') ?? '1');
    const pageSize = Number(request.query.get('page_size') ?? '20');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1) {
      return jsonResponse(400, { message: 'Invalid page or page_size', status: 400 });
    }
    const organization = request.query.get('organization');
    const tags = request.query.getAll('tag');
    const q = request.query.get('q')?.toLowerCase();
    let matches = [...this.datasets.values()].filter(isListed);
    if (organization) matches = matches.filter((dataset) => dataset.organization?.id === organization || dataset.organization?.slug === organization);
    if (tags.length) matches = matches.filter((dataset) => tags.every((tag) => dataset.tags.includes(tag)));
    if (q) {
      matches = matches.filter((dataset) =>
        q.split(/\s+/).every((word) => `${dataset.title} ${dataset.description} ${dataset.tags.join(' ')}`.toLowerCase().includes(word)),
      );
    }
    matches.sort(sorter(request.query.get('sort') ?? '-created'));
    const total = matches.length;
    const data = matches.slice((page - 1) * pageSize, page * pageSize);
    const pageUrl = (number: number) => {
      const url = new URL(`${this.url}/api/1/datasets/`);
      request.query.forEach((value, key) => url.searchParams.append(key, value));
      url.searchParams.set('page', String(number));
      return url.toString();
    };
    return jsonResponse(200, {
      data: data.map((dataset) => this.present(dataset)),
      page,
      page_size: pageSize,
      total,
      next_page: page * pageSize < total ? pageUrl(page + 1) : null,
      previous_page: page > 1 ? pageUrl(page - 1) : null,
    });
  }

  private show(id: string, request: FakeRequest): FakeResponse {
    const dataset = this.getDataset(id);
    if (!dataset) return jsonResponse(404, { message: 'Dataset not found', status: 404 });
    if (dataset.deleted && !this.mayEdit(request, dataset)) return jsonResponse(410, { message: 'Dataset has been deleted', status: 410 });
    if (dataset.private && !this.mayEdit(request, dataset)) return jsonResponse(404, { message: 'Dataset not found', status: 404 });
    return jsonResponse(200, this.present(dataset));
  }

  private create(request: FakeRequest): FakeResponse {
    const user = this.userOf(request);
    if (!user) return jsonResponse(401, { message: 'Unauthorized', status: 401 });
    const body = (request.body ?? {}) as Record<string, unknown>;
    const errors = validateDataset(body);
    if (errors) return jsonResponse(400, { errors, message: 'Validation error' });
    const organizationId = idOf(body.organization);
    if (organizationId && !user.organizations.includes(organizationId)) {
      return jsonResponse(403, { message: 'You cannot publish on behalf of this organization', status: 403 });
    }
    const { id: _ignoredId, organization: _org, ...fields } = body;
    const dataset = this.addDataset({
      ...(fields as Partial<FakeUdataDataset>),
      organization: organizationId ? this.organizations.get(organizationId) ?? null : null,
      owner: organizationId ? null : { id: user.id, first_name: user.first_name, last_name: user.last_name },
      deleted: null,
    });
    return jsonResponse(201, this.present(dataset));
  }

  private update(id: string, request: FakeRequest): FakeResponse {
    const dataset = this.getDataset(id);
    if (!dataset) return jsonResponse(404, { message: 'Dataset not found', status: 404 });
    if (!this.userOf(request)) return jsonResponse(401, { message: 'Unauthorized', status: 401 });
    if (!this.mayEdit(request, dataset)) return jsonResponse(403, { message: 'Forbidden', status: 403 });
    const body = (request.body ?? {}) as Record<string, unknown>;
    // Restoring is the only write allowed on a deleted dataset.
    if (dataset.deleted && !('deleted' in body && body.deleted === null)) {
      return jsonResponse(410, { message: 'Dataset has been deleted', status: 410 });
    }
    const errors = validateDataset(body);
    if (errors) return jsonResponse(400, { errors, message: 'Validation error' });
    // PUT resets the editable fields it is not sent (what makes read-merge-write necessary).
    delete body.page;
    delete body.uri;
    for (const [field, reset] of Object.entries(EDITABLE_DEFAULTS)) {
      (dataset as unknown as Record<string, unknown>)[field] = field in body ? body[field] : reset();
    }
    dataset.title = String(body.title);
    dataset.description = String(body.description);
    dataset.resources = ((body.resources as Partial<FakeUdataResource>[] | undefined) ?? []).map((resource) =>
      this.resource(resource, dataset),
    );
    if ('deleted' in body) dataset.deleted = null;
    dataset.last_modified = this.tick();
    dataset.last_update = dataset.last_modified;
    return jsonResponse(200, this.present(dataset));
  }

  private remove(id: string, request: FakeRequest): FakeResponse {
    const dataset = this.getDataset(id);
    if (!dataset) return jsonResponse(404, { message: 'Dataset not found', status: 404 });
    if (!this.userOf(request)) return jsonResponse(401, { message: 'Unauthorized', status: 401 });
    if (!this.mayEdit(request, dataset)) return jsonResponse(403, { message: 'Forbidden', status: 403 });
    if (dataset.deleted) return jsonResponse(410, { message: 'Dataset has been deleted', status: 410 });
    dataset.deleted = this.tick();
    return { status: 204 };
  }

  private present(dataset: FakeUdataDataset): FakeUdataDataset {
    return { ...dataset, page: `${this.url}/datasets/${dataset.slug}/`, uri: `${this.url}/api/1/datasets/${dataset.slug}/` };
  }

  private userOf(request: FakeRequest): FakeUdataUser | undefined {
    const key = request.headers['x-api-key'];
    return key ? this.users.find((user) => user.apiKey === key) : undefined;
  }

  private mayEdit(request: FakeRequest, dataset: FakeUdataDataset): boolean {
    const user = this.userOf(request);
    if (!user) return false;
    if (dataset.organization) return user.organizations.includes(dataset.organization.id);
    return dataset.owner?.id === user.id || !dataset.owner;
  }

  private resource(resource: Partial<FakeUdataResource>, dataset?: FakeUdataDataset): FakeUdataResource {
    const known = resource.id ? dataset?.resources.find((existing) => existing.id === resource.id) : undefined;
    const now = this.clockIso();
    return {
      description: '',
      type: 'main',
      filetype: 'remote',
      format: '',
      mime: null,
      filesize: null,
      extras: {},
      created_at: now,
      ...known,
      ...resource,
      title: String(resource.title ?? known?.title ?? ''),
      url: String(resource.url ?? known?.url ?? ''),
      // Ids are the server's: kept when the client sends a known one, new otherwise.
      id: known?.id ?? randomUUID(),
      last_modified: now,
    } as FakeUdataResource;
  }

  private uniqueSlug(title: string): string {
    const base = slugify(title) || 'dataset';
    let slug = base;
    for (let i = 1; [...this.datasets.values()].some((dataset) => dataset.slug === slug); i += 1) slug = `${base}-${i}`;
    return slug;
  }

  private tick(): string {
    this.clock += 1000;
    return this.clockIso();
  }

  private clockIso(): string {
    return new Date(this.clock).toISOString().replace('Z', '+00:00');
  }
}

function isListed(dataset: FakeUdataDataset): boolean {
  return !dataset.private && !dataset.deleted && !dataset.archived;
}

function validateDataset(body: Record<string, unknown>): Record<string, string[]> | undefined {
  const errors: Record<string, string[]> = {};
  if (typeof body.title !== 'string' || !body.title.trim()) errors.title = ['This field is required.'];
  if (typeof body.description !== 'string' || !body.description.trim()) errors.description = ['This field is required.'];
  const resources = (body.resources as Array<Record<string, unknown>> | undefined) ?? [];
  resources.forEach((resource, index) => {
    for (const field of ['title', 'url', 'type', 'filetype']) {
      if (typeof resource?.[field] !== 'string' || !resource[field]) (errors[`resources-${index}-${field}`] = ['This field is required.']);
    }
  });
  return Object.keys(errors).length ? errors : undefined;
}

function sorter(sort: string): (a: FakeUdataDataset, b: FakeUdataDataset) => number {
  const descending = sort.startsWith('-');
  const field = sort.replace(/^-/, '');
  const key = field === 'created' ? 'created_at' : field;
  return (a, b) => {
    const left = String((a as unknown as Record<string, unknown>)[key] ?? '');
    const right = String((b as unknown as Record<string, unknown>)[key] ?? '');
    const order = left < right ? -1 : left > right ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return descending ? -order : order;
  };
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return (value as { id: string }).id;
  return undefined;
}

function objectId(): string {
  return randomBytes(12).toString('hex');
}

function slugify(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
