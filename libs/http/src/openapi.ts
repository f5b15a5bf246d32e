import { z, type ZodType } from 'zod';
import type { HttpMethod, Permission, RouteDef } from './route';

/** A JSON Schema (2020-12) object, as embedded in an OpenAPI 3.1 document. */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
  /**
   * Operations served outside the route list, written as OpenAPI path items (the tracker's pixel
   * and click, answered ahead of express): documented beside the code that serves them.
   */
  extraPaths?: Record<string, Record<string, JsonSchema>>;
}

export interface BuildOpenApiOptions extends OpenApiInfo {
  servers?: Array<{ url: string; description?: string }>;
  routes: RouteDef[];
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** The body sendError writes (error-response.ts); every error answer of every service has it. */
const FieldProblemSchema: JsonSchema = {
  type: 'object',
  description: 'One invalid field.',
  properties: {
    path: { type: 'string', description: 'Dotted path prefixed with where the field was found, e.g. "body.email", "query.limit".' },
    message: { type: 'string' },
  },
  required: ['path', 'message'],
};

const ErrorSchema: JsonSchema = {
  type: 'object',
  description: 'Every error answer of every service has this shape.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', description: 'Stable machine-readable code, e.g. "validation_failed", "not_found", "conflict".' },
        message: { type: 'string', description: 'Human-readable explanation; do not parse it.' },
        details: {
          description: 'Field problems (validation_failed) or facts about the conflict (conflict).',
          anyOf: [
            { type: 'array', items: ref('FieldProblem') },
            { type: 'object', additionalProperties: true },
          ],
        },
        requestId: { type: 'string', description: 'On 500 answers: the id to quote when reporting the problem.' },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

const ValidationErrorSchema: JsonSchema = {
  type: 'object',
  description: 'A 400 answer. With code "validation_failed", details lists every invalid field of params, query and body at once.',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string', examples: ['validation_failed', 'invalid_json'] },
        message: { type: 'string' },
        details: { type: 'array', items: ref('FieldProblem') },
      },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
  examples: [
    {
      error: {
        code: 'validation_failed',
        message: 'body.email: Invalid email address',
        details: [{ path: 'body.email', message: 'Invalid email address' }],
      },
    },
  ],
};

const errorResponse = (description: string, schema = 'Error', headers?: JsonSchema) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema: ref(schema) } },
});

const STANDARD_RESPONSES = {
  ValidationFailed: errorResponse(
    'The request is invalid: "validation_failed" (details lists each field), "invalid_json", or a business rule\'s own code.',
    'ValidationError',
  ),
  Unauthorized: errorResponse('Missing or invalid credentials ("unauthorized").', 'Error', {
    'WWW-Authenticate': { description: 'Always "Bearer".', schema: { type: 'string' } },
  }),
  NotFound: errorResponse('No such resource ("not_found").'),
  Conflict: errorResponse('The request conflicts with the current state ("conflict"); details says how.'),
  PayloadTooLarge: errorResponse('The body is larger than the service accepts ("payload_too_large").'),
  UnsupportedMediaType: errorResponse('The body has a content type the route does not accept ("unsupported_media_type").'),
  InternalError: errorResponse('A bug ("internal"); requestId identifies it in the service log.'),
};

const SECURITY_SCHEMES = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'Workspace API key: `Authorization: Bearer <key>`.',
  },
  apiKeyHeader: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'Workspace API key in the X-Api-Key header (alternative to the bearer form).',
  },
  adminSecret: {
    type: 'http',
    scheme: 'bearer',
    description: 'Operator secret (ADMIN_SECRET): `Authorization: Bearer <secret>`.',
  },
};

/** Alternatives are separate entries: a workspace key may come either way. */
const SECURITY: Record<Permission, Array<Record<string, string[]>>> = {
  public: [],
  workspace: [{ apiKey: [] }, { apiKeyHeader: [] }],
  admin: [{ adminSecret: [] }],
};

/** Express 5 path → OpenAPI path, with the parameter names in order: "/a/:id/*rest" → "/a/{id}/{rest}". */
export function toOpenApiPath(expressPath: string): { path: string; names: string[] } {
  const names: string[] = [];
  const path = expressPath.replace(/[:*]([A-Za-z_$][\w$]*)/g, (_m, name: string) => {
    names.push(name);
    return `{${name}}`;
  });
  return { path, names };
}

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep copy with every `$ref` passed through `map` (undefined keeps it). */
function mapRefs(value: unknown, map: (r: string) => string | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => mapRefs(v, map));
  if (!isObject(value)) return value;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' ? (map(v) ?? v) : mapRefs(v, map);
  }
  return out;
}

function hasRootRef(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasRootRef);
  if (!isObject(value)) return false;
  return Object.entries(value).some(([k, v]) => (k === '$ref' ? v === '#' : hasRootRef(v)));
}

const componentName = (raw: string): string => raw.replace(/[^A-Za-z0-9._-]/g, '_') || 'Schema';

/**
 * Turns zod schemas into JSON Schemas that are valid inside one OpenAPI document. zod puts
 * shared (`.meta({ id })`) and recursive schemas in `$defs` with "#/$defs/…" and "#" refs; inside
 * an OpenAPI document "#" is the document itself, so those are moved to components.schemas and
 * their refs rewritten, keeping names unique across every schema of the document.
 */
class SchemaCollector {
  readonly schemas: Record<string, JsonSchema> = {};

  constructor(initial: Record<string, JsonSchema>) {
    Object.assign(this.schemas, initial);
  }

  convert(schema: ZodType, io: 'input' | 'output', hint: string): JsonSchema {
    let raw: JsonSchema;
    try {
      raw = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    } catch {
      // Something zod cannot describe even as "any" (e.g. a cycle it does not detect): the
      // document still builds; this one schema says nothing.
      return {};
    }
    const { $schema: _dialect, $defs, ...root } = raw;
    const defs: Record<string, unknown> = isObject($defs) ? { ...$defs } : {};
    // A recursive root refers to itself as "#": it becomes a component like the others.
    const rootKey = '\u0000root';
    if (hasRootRef(root)) defs[rootKey] = root;

    const bases = new Map<string, string>();
    for (const key of Object.keys(defs)) {
      const anonymous = key === rootKey || /^__schema\d+$/.test(key);
      bases.set(key, componentName(anonymous ? `${hint}${key === rootKey ? '' : key.replace('__schema', '_')}` : key));
    }
    // Pick names until every def lands in a free slot or one holding exactly the same schema
    // (a shared schema used by many routes becomes one component).
    const suffix = new Map<string, number>([...bases.keys()].map((k) => [k, 1]));
    const nameOf = (key: string) => {
      const n = suffix.get(key)!;
      return n === 1 ? bases.get(key)! : `${bases.get(key)!}_${n}`;
    };
    const rewrite = (value: unknown) =>
      mapRefs(value, (r) => {
        if (r === '#') return `#/components/schemas/${nameOf(rootKey)}`;
        const m = /^#\/\$defs\/(.+)$/.exec(r);
        const key = m ? m[1]!.replace(/~1/g, '/').replace(/~0/g, '~') : undefined;
        return key !== undefined && Object.hasOwn(defs, key) ? `#/components/schemas/${nameOf(key)}` : undefined;
      }) as JsonSchema;
    const clash = (key: string, taken: Set<string>) => {
      const name = nameOf(key);
      if (taken.has(name)) return true;
      const existing = this.schemas[name];
      return existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rewrite(defs[key]));
    };
    for (;;) {
      const taken = new Set<string>();
      let changed = false;
      for (const key of Object.keys(defs)) {
        while (clash(key, taken)) {
          suffix.set(key, suffix.get(key)! + 1);
          changed = true;
        }
        taken.add(nameOf(key));
      }
      if (!changed) break;
    }
    for (const key of Object.keys(defs)) this.schemas[nameOf(key)] = rewrite(defs[key]);
    return Object.hasOwn(defs, rootKey) ? ref(nameOf(rootKey)) : rewrite(root);
  }
}

function operationIdFor(method: HttpMethod, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method + words.join('');
}

function defaultTag(path: string): string {
  const first = path.split('/').find((s) => s !== '' && !s.startsWith(':') && !s.startsWith('*'));
  return first ?? 'default';
}

/** The body a route requires: one that rejects undefined (a request without a body). */
function bodyRequired(schema: ZodType): boolean {
  try {
    return !schema.safeParse(undefined).success;
  } catch {
    // A transform threw on undefined: the schema let it through, but the route cannot use it.
    return true;
  }
}

function objectMembers(schema: JsonSchema): { properties: Record<string, JsonSchema>; required: Set<string> } | null {
  if (!isObject(schema.properties)) return null;
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  return { properties: schema.properties as Record<string, JsonSchema>, required };
}

function parameter(name: string, location: 'path' | 'query', required: boolean, schema: JsonSchema): JsonSchema {
  return {
    name,
    in: location,
    required,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    schema,
  };
}

function operation(def: RouteDef, schemas: SchemaCollector, operationId: string, pathNames: string[]): JsonSchema {
  const parameters: JsonSchema[] = [];

  const paramsSchema = def.params ? schemas.convert(def.params, 'input', `${operationId}Params`) : {};
  const declared = objectMembers(paramsSchema)?.properties ?? {};
  for (const name of pathNames) parameters.push(parameter(name, 'path', true, declared[name] ?? { type: 'string' }));

  if (def.query) {
    const querySchema = schemas.convert(def.query, 'input', `${operationId}Query`);
    const members = objectMembers(querySchema);
    if (members) {
      for (const [name, schema] of Object.entries(members.properties)) {
        parameters.push(parameter(name, 'query', members.required.has(name), schema));
      }
    } else if (Object.keys(querySchema).length > 0) {
      // A query that is not a fixed set of keys (a record, a union): one free-form parameter.
      parameters.push({ name: 'query', in: 'query', style: 'form', explode: true, schema: querySchema });
    }
  }

  let requestBody: JsonSchema | undefined;
  if (def.body) {
    const schema = schemas.convert(def.body, 'input', `${operationId}Body`);
    const mediaType = schema.type === 'string' ? 'text/plain' : 'application/json';
    requestBody = { required: bodyRequired(def.body), content: { [mediaType]: { schema } } };
  }

  const hasSchema = Boolean(def.params ?? def.query ?? def.body);
  const responses: Record<string, unknown> = {};
  const declaredResponses = Object.entries(def.responses ?? {});
  if (!declaredResponses.some(([status]) => status.startsWith('2'))) {
    // What createApp answers without a declared response: a value → 200 JSON, undefined → 204.
    if (def.method === 'delete') responses['204'] = { description: 'Done; no content.' };
    else responses['200'] = { description: 'Success.', content: { 'application/json': { schema: {} } } };
  }
  if (hasSchema || def.method !== 'get') responses['400'] = responseRef('ValidationFailed');
  if (def.permission !== 'public') responses['401'] = responseRef('Unauthorized');
  if (pathNames.length > 0) responses['404'] = responseRef('NotFound');
  if (def.method !== 'get') responses['409'] = responseRef('Conflict');
  if (def.body) {
    responses['413'] = responseRef('PayloadTooLarge');
    responses['415'] = responseRef('UnsupportedMediaType');
  }
  responses['500'] = responseRef('InternalError');
  for (const [status, r] of declaredResponses) {
    responses[status] = {
      description: r.description,
      ...(r.schema
        ? { content: { 'application/json': { schema: schemas.convert(r.schema, 'output', `${operationId}Response${status}`) } } }
        : {}),
    };
  }

  return {
    operationId,
    ...(def.summary ? { summary: def.summary } : {}),
    ...(def.description ? { description: def.description } : {}),
    tags: def.tags && def.tags.length > 0 ? def.tags : [defaultTag(def.path)],
    'x-permission': def.permission,
    security: SECURITY[def.permission],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

/**
 * An OpenAPI 3.1 document for a service, generated from its route list: the same zod schemas
 * that validate the requests describe them (as their input, before defaults and transforms),
 * so the document cannot drift from the code.
 */
export function buildOpenApiDocument(opts: BuildOpenApiOptions): JsonSchema {
  const schemas = new SchemaCollector({ Error: ErrorSchema, ValidationError: ValidationErrorSchema, FieldProblem: FieldProblemSchema });
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const tags = new Set<string>();
  const operationIds = new Set<string>();

  for (const def of opts.routes) {
    const { path, names } = toOpenApiPath(def.path);
    let operationId = operationIdFor(def.method, def.path);
    for (let n = 2; operationIds.has(operationId); n++) operationId = `${operationIdFor(def.method, def.path)}${n}`;
    operationIds.add(operationId);
    const op = operation(def, schemas, operationId, names);
    for (const tag of op.tags as string[]) tags.add(tag);
    (paths[path] ??= {})[def.method] = op;
  }
  for (const [path, ops] of Object.entries(opts.extraPaths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      if (paths[path]?.[method]) throw new Error(`extraPaths: ${method.toUpperCase()} ${path} is already in the route list`);
      for (const tag of (op.tags as string[] | undefined) ?? []) tags.add(tag);
      (paths[path] ??= {})[method] = op;
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: opts.title,
      version: opts.version,
      ...(opts.description ? { description: opts.description } : {}),
    },
    ...(opts.servers && opts.servers.length > 0 ? { servers: opts.servers } : {}),
    tags: [...tags].map((name) => ({ name })),
    paths,
    components: {
      schemas: schemas.schemas,
      responses: STANDARD_RESPONSES,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
