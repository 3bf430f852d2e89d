/**
 * Keeps the event contracts in sync three ways:
 * - at compile time (`npm run typecheck`): each JSON Schema describes exactly its
 *   TypeScript type (see `PayloadMismatches` below), and every subject has a
 *   schema, a summary and a typed example;
 * - at run time: every schema compiles with Ajv (strict) and the typed examples
 *   validate against it, while broken variants of them do not;
 * - docs/asyncapi.yaml is what tools/asyncapi.ts generates from them.
 */
import { readFileSync } from 'fs';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { ASYNCAPI_PATH, buildAsyncApiDocument, renderAsyncApiYaml } from '../../../tools/asyncapi';
import {
  DomainEventSchema,
  EVENT_PAYLOAD_EXAMPLES,
  EVENT_PAYLOAD_SCHEMAS,
  EVENT_SUMMARIES,
  EventPayloadSchemas,
  JsonSchema,
  RPC_EXAMPLES,
  RPC_SCHEMAS,
  RPC_SUMMARIES,
  RpcErrorSchema,
  RpcSchemas,
  eventEnvelopeSchema,
  exampleEvent,
} from './event-schemas';
import { EventPayloads, EventSubject, EventSubjects, wireSubject } from './events';
import { RpcContracts, RpcSubject, RpcSubjects, rpcWireSubject } from './rpc';

// ---------------------------------------------------------------------------
// Compile time: the TypeScript type a schema describes must be the payload type
// ---------------------------------------------------------------------------

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type PrimitiveOf<T> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'object'
          ? Record<string, unknown>
          : never;

/** The TypeScript type of the subset of draft-07 these schemas use. */
type FromSchema<S> = S extends { readonly oneOf: readonly (infer O)[] }
  ? FromSchema<O>
  : S extends { readonly enum: readonly (infer E)[] }
  ? E
  : S extends { readonly const: infer C }
    ? C
    : S extends { readonly type: 'object'; readonly properties: infer P }
      ? ObjectFromSchema<P, S extends { readonly required: readonly (infer R)[] } ? R : never>
      : S extends { readonly type: 'object'; readonly additionalProperties: infer A }
        ? Record<string, FromSchema<A>>
        : S extends { readonly type: 'array'; readonly items: infer I }
          ? FromSchema<I>[]
          : S extends { readonly type: infer T }
            ? PrimitiveOf<T extends readonly (infer U)[] ? U : T>
            : unknown;

type ObjectFromSchema<P, R> = Mutable<
  { [K in keyof P as K extends R ? K : never]: FromSchema<P[K]> } & { [K in keyof P as K extends R ? never : K]?: FromSchema<P[K]> }
>;

// FromSchema itself: it tells required from optional, nullable from not, and enums from strings.
const fromSchemaSelfTest: [
  Equals<FromSchema<{ type: 'object'; required: ['a']; properties: { a: { type: 'string' } } }>, { a: string }>,
  Equals<FromSchema<{ type: 'object'; properties: { a: { type: 'string' } } }>, { a?: string }>,
  Equals<FromSchema<{ type: 'object'; properties: { a: { type: 'string' } } }>, { a: string }>,
  Equals<FromSchema<{ type: readonly ['string', 'null'] }>, string | null>,
  Equals<FromSchema<{ type: 'string' }>, string | null>,
  Equals<FromSchema<{ type: 'string'; enum: readonly ['x', 'y'] }>, 'x' | 'y'>,
  Equals<FromSchema<{ type: 'string'; enum: readonly ['x', 'y'] }>, string>,
] = [true, true, false, true, false, true, false];

/** Subjects whose payload schema does not describe exactly `EventPayloads[subject]`. */
type PayloadMismatches = {
  [S in EventSubject]: Equals<FromSchema<EventPayloadSchemas[S]>, EventPayloads[S]> extends true ? never : S;
}[EventSubject];
// A compile error here names the subjects whose schema and TypeScript type disagree.
const payloadSchemasMatchTypes: [PayloadMismatches] extends [never] ? true : `schema and type differ: ${PayloadMismatches}` = true;

type RpcMismatches = {
  [S in RpcSubject]: Equals<FromSchema<RpcSchemas[S]['request']>, RpcContracts[S]['request']> extends true
    ? Equals<FromSchema<RpcSchemas[S]['response']>, RpcContracts[S]['response']> extends true
      ? never
      : `${S} response`
    : `${S} request`;
}[RpcSubject];
const rpcSchemasMatchTypes: [RpcMismatches] extends [never] ? true : `schema and type differ: ${RpcMismatches}` = true;

// ---------------------------------------------------------------------------
// Run time
// ---------------------------------------------------------------------------

const subjects = Object.values(EventSubjects) as EventSubject[];
const rpcSubjects = Object.values(RpcSubjects) as RpcSubject[];

function strictAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function without(value: object, key: string): Record<string, unknown> {
  const copy = clone(value) as Record<string, unknown>;
  delete copy[key];
  return copy;
}

describe('event schemas', () => {
  const ajv = strictAjv();
  const compiled = new Map<JsonSchema, ValidateFunction>();
  const validatorOf = (schema: JsonSchema) => {
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(schema, validate);
    }
    return validate;
  };

  it('describe exactly the TypeScript types (checked by tsc)', () => {
    expect(fromSchemaSelfTest).toEqual([true, true, false, true, false, true, false]);
    expect(payloadSchemasMatchTypes).toBe(true);
    expect(rpcSchemasMatchTypes).toBe(true);
  });

  it('cover every EventSubject, with a summary and an example each', () => {
    const sorted = [...subjects].sort();
    expect(Object.keys(EVENT_PAYLOAD_SCHEMAS).sort()).toEqual(sorted);
    expect(Object.keys(EVENT_SUMMARIES).sort()).toEqual(sorted);
    expect(Object.keys(EVENT_PAYLOAD_EXAMPLES).sort()).toEqual(sorted);
    for (const subject of subjects) {
      expect(EVENT_PAYLOAD_SCHEMAS[subject]).toMatchObject({ type: 'object', title: expect.any(String) });
    }
  });

  it('lists every subject in the envelope', () => {
    expect([...DomainEventSchema.properties.subject.enum].sort()).toEqual([...subjects].sort());
  });

  describe.each(subjects)('%s', (subject) => {
    const schema = EVENT_PAYLOAD_SCHEMAS[subject];
    const example = EVENT_PAYLOAD_EXAMPLES[subject];

    it('has a payload schema that compiles', () => {
      expect(() => validatorOf(schema)).not.toThrow();
    });

    it('accepts its typed example, alone and in its envelope', () => {
      const validate = validatorOf(schema);
      expect(validate(example) ? null : validate.errors).toBeNull();
      const event = exampleEvent(subject);
      const envelope = ajv.compile(eventEnvelopeSchema(subject));
      expect(envelope(event) ? null : envelope.errors).toBeNull();
      const generic = validatorOf(DomainEventSchema);
      expect(generic(event) ? null : generic.errors).toBeNull();
    });

    it('rejects the example without a required property, or with a value outside an enum', () => {
      const validate = validatorOf(schema);
      const broken: Array<[string, unknown]> = [];
      for (const property of schema.required ?? []) {
        broken.push([`without ${property}`, without(example, property)]);
      }
      for (const [property, propertySchema] of Object.entries(schema.properties ?? {})) {
        if (propertySchema.enum) broken.push([`${property} outside its enum`, { ...clone(example), [property]: 'no-such-value' }]);
        if (propertySchema.type === 'string') broken.push([`${property} not a string`, { ...clone(example), [property]: 7 }]);
      }
      expect(broken.length).toBeGreaterThan(0);
      for (const [label, payload] of broken) expect([label, validate(payload)]).toEqual([label, false]);
    });

    it('has an envelope that refuses another subject or a payload of the wrong shape', () => {
      const envelope = ajv.compile(eventEnvelopeSchema(subject));
      const other = subjects.find((candidate) => candidate !== subject)!;
      expect(envelope({ ...exampleEvent(subject), subject: other })).toBe(false);
      expect(envelope({ ...exampleEvent(subject), payload: {} })).toBe(false);
    });
  });

  it('envelope: requires an ISO date-time, a known subject and every field', () => {
    const validate = validatorOf(DomainEventSchema);
    const event = exampleEvent('record.upserted');
    expect(validate(event)).toBe(true);
    expect(validate({ ...event, occurredAt: 'yesterday' })).toBe(false);
    expect(validate({ ...event, subject: 'record.exploded' })).toBe(false);
    for (const field of DomainEventSchema.required) {
      expect([field, validate(without(event, field))]).toEqual([field, false]);
    }
  });

  it('nullable fields accept null and optional ones may be left out', () => {
    const records = validatorOf(EVENT_PAYLOAD_SCHEMAS['record.deleted']);
    expect(records(EVENT_PAYLOAD_EXAMPLES['record.deleted'])).toBe(true);
    expect(records({ ...EVENT_PAYLOAD_EXAMPLES['record.deleted'], sessionId: undefined })).toBe(false);
    const publication = validatorOf(EVENT_PAYLOAD_SCHEMAS['publication.succeeded']);
    expect(publication({ entityTypeId: 'x', remoteCatalogId: 'y', remoteId: null })).toBe(true);
    expect(publication({ entityTypeId: 'x', remoteCatalogId: 'y' })).toBe(true);
    const run = validatorOf(EVENT_PAYLOAD_SCHEMAS['harvest.run.completed']);
    expect(run({ harvestSourceId: 'h', runId: 'r', status: 'done', counts: { added: 1.5 } })).toBe(false);
  });

  describe.each(rpcSubjects)('RPC %s', (subject) => {
    it('has request and response schemas that compile and accept the typed example', () => {
      const { request, response } = RPC_SCHEMAS[subject];
      expect(RPC_SUMMARIES[subject]).toEqual(expect.any(String));
      const validateRequest = validatorOf(request);
      const validateResponse = validatorOf(response);
      expect(validateRequest(RPC_EXAMPLES[subject].request) ? null : validateRequest.errors).toBeNull();
      expect(validateResponse(RPC_EXAMPLES[subject].response) ? null : validateResponse.errors).toBeNull();
      expect(validateRequest({})).toBe(false);
    });
  });

  it('RPC error body compiles and matches what RpcServer sends', () => {
    const validate = validatorOf(RpcErrorSchema);
    expect(validate({ code: 404, message: 'unknown caller' })).toBe(true);
    expect(validate({ code: 500, message: 'boom', details: { field: 'from' } })).toBe(true);
    expect(validate({ message: 'no code' })).toBe(false);
  });
});

describe('docs/asyncapi.yaml', () => {
  const document = buildAsyncApiDocument() as any;

  it('is up to date with tools/asyncapi.ts (run `npm run asyncapi`)', () => {
    expect(readFileSync(ASYNCAPI_PATH, 'utf8')).toBe(renderAsyncApiYaml());
  });

  it('reads back as the generated document', () => {
    expect(parse(readFileSync(ASYNCAPI_PATH, 'utf8'))).toEqual(clone(document));
  });

  it('has a channel per subject at its wire address, whose message carries the envelope with its payload schema', () => {
    expect(document.asyncapi).toBe('3.0.0');
    for (const subject of subjects) {
      const channel = document.channels[subject];
      expect(channel.address).toBe(wireSubject('{namespace}', subject));
      const messages = Object.values(channel.messages).map((message: any) => resolve(document, message.$ref));
      expect(messages).toHaveLength(1);
      const envelope = messages[0].payload;
      expect(envelope.properties.subject.const).toBe(subject);
      expect(resolve(document, envelope.properties.payload.$ref)).toBe(EVENT_PAYLOAD_SCHEMAS[subject]);
    }
    for (const subject of rpcSubjects) {
      expect(document.channels[subject].address).toBe(rpcWireSubject('{namespace}', subject));
    }
    expect(document.components.parameters.namespace.default).toBe('odb');
  });

  it('only has references that resolve, and operations use their own channel messages', () => {
    for (const pointer of collectRefs(document)) expect(() => resolve(document, pointer)).not.toThrow();
    for (const [name, operation] of Object.entries<any>(document.operations)) {
      const channel = resolve(document, operation.channel.$ref);
      for (const message of operation.messages) {
        const own = Object.keys(channel.messages).map((key) => `${operation.channel.$ref}/messages/${key}`);
        expect([name, own]).toEqual([name, expect.arrayContaining([message.$ref])]);
      }
    }
  });

  it('has examples that validate against their message payload and headers', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(clone(document), 'asyncapi');
    let examples = 0;
    for (const [name, message] of Object.entries<any>(document.components.messages)) {
      for (const example of message.examples ?? []) {
        const payload = ajv.compile({ $ref: `asyncapi#/components/messages/${name}/payload` });
        expect([name, payload(example.payload) ? null : payload.errors]).toEqual([name, null]);
        if (message.headers) {
          const headers = ajv.compile({ $ref: `asyncapi#/components/messages/${name}/headers` });
          expect([name, headers(example.headers) ? null : headers.errors]).toEqual([name, null]);
        }
        examples++;
      }
    }
    expect(examples).toBeGreaterThanOrEqual(subjects.length);
  });
});

function resolve(document: unknown, pointer: string): any {
  if (!pointer.startsWith('#/')) throw new Error(`not a local reference: ${pointer}`);
  return pointer
    .slice(2)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((node: any, key) => {
      if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`unresolved reference ${pointer}`);
      return node[key];
    }, document);
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else collectRefs(value, found);
    }
  }
  return found;
}
