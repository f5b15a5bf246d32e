import request from 'supertest';
import { z } from 'zod';
import { Topics } from '@payam/contracts';
import { validateOpenApi } from '@payam/testkit';
import { buildOpenApiDocument, reply, route, toOpenApiPath, type RouteDef } from '../src';
import { buildApp } from './helpers';

const Campaign = z.object({
  name: z.string().min(1).max(200).describe('Shown in reports'),
  subject: z.string().max(998),
  sendAt: z.iso.datetime().optional(),
  tags: z.array(z.string()).default([]),
});

const Shared = z.object({ street: z.string() }).meta({ id: 'Address' });

interface TreeNode {
  name: string;
  children: TreeNode[];
}
const TreeNode: z.ZodType<TreeNode> = z.lazy(() => z.object({ name: z.string(), children: z.array(TreeNode) }));

const routes: RouteDef[] = [
  route({
    method: 'put',
    path: '/campaigns/:campaignId',
    permission: 'workspace',
    summary: 'Replace a campaign',
    description: 'Replaces every field.',
    tags: ['campaigns'],
    params: z.object({ campaignId: z.string().regex(/^[a-z0-9]+$/) }),
    query: z.object({ dryRun: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().max(100).default(10), q: z.string() }),
    body: Campaign,
    responses: { 200: { description: 'The campaign', schema: Campaign.extend({ id: z.string() }) } },
    handler: ({ body }) => body,
  }),
  route({ method: 'get', path: '/campaigns/:campaignId/stats', permission: 'workspace', handler: () => ({}) }),
  route({ method: 'delete', path: '/campaigns/:campaignId', permission: 'workspace', handler: () => undefined }),
  route({ method: 'get', path: '/admin/workspaces', permission: 'admin', handler: () => [] }),
  route({ method: 'get', path: '/t/:token/open.gif', permission: 'public', handler: () => reply(200, {}) }),
  route({ method: 'post', path: '/sns', permission: 'public', body: z.string().min(1), handler: () => undefined }),
  route({
    method: 'post',
    path: '/odd',
    permission: 'admin',
    // Unrepresentable and transformed schemas must not break the document.
    body: z.object({
      when: z.date(),
      big: z.bigint(),
      custom: z.custom<string>(),
      length: z.string().transform((s) => s.length),
      num: z.string().pipe(z.coerce.number()),
      home: Shared,
      work: Shared,
      tree: TreeNode,
    }),
    handler: () => undefined,
  }),
  route({ method: 'post', path: '/tree', permission: 'admin', body: TreeNode, handler: () => undefined }),
];

const info = { title: 'Test service', version: '1.2.3', description: 'For tests' };
type Doc = {
  openapi: string;
  info: Record<string, unknown>;
  paths: Record<string, Record<string, Record<string, any>>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any>; responses: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const doc = buildOpenApiDocument({ ...info, servers: [{ url: '/' }], routes }) as Doc;

/** Every "$ref" in the document, to check that each one resolves. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

function resolvePointer(ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((cur, key) => (cur as Record<string, unknown> | undefined)?.[key], doc);
}

describe('buildOpenApiDocument', () => {
  it('is an OpenAPI 3.1.0 document with the info given', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toEqual(info);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/admin/workspaces',
        '/campaigns/{campaignId}',
        '/campaigns/{campaignId}/stats',
        '/odd',
        '/sns',
        '/t/{token}/open.gif',
        '/tree',
      ].sort(),
    );
  });

  it.each([
    ['/campaigns/:id', '/campaigns/{id}', ['id']],
    ['/a/:x/b/:y', '/a/{x}/b/{y}', ['x', 'y']],
    ['/files/*rest', '/files/{rest}', ['rest']],
    ['/plain', '/plain', []],
  ])('turns the Express path %s into %s', (express, openapi, names) => {
    expect(toOpenApiPath(express)).toEqual({ path: openapi, names });
  });

  it('describes path and query parameters from the zod schemas, required unless optional or defaulted', () => {
    const op = doc.paths['/campaigns/{campaignId}']!.put!;
    const byName = Object.fromEntries(op.parameters.map((p: { name: string }) => [p.name, p]));
    expect(byName.campaignId).toEqual({
      name: 'campaignId',
      in: 'path',
      required: true,
      schema: { type: 'string', pattern: '^[a-z0-9]+$' },
    });
    expect(byName.dryRun).toMatchObject({ in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } });
    expect(byName.limit).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', maximum: 100, default: 10 } });
    expect(byName.q).toMatchObject({ in: 'query', required: true, schema: { type: 'string' } });
    // A path parameter without a schema is still declared, as a string.
    expect(doc.paths['/campaigns/{campaignId}/stats']!.get!.parameters).toEqual([
      { name: 'campaignId', in: 'path', required: true, schema: { type: 'string' } },
    ]);
  });

  it('describes a JSON body by its zod fields, without $schema', () => {
    const op = doc.paths['/campaigns/{campaignId}']!.put!;
    expect(op.requestBody.required).toBe(true);
    const schema = op.requestBody.content['application/json'].schema;
    expect(schema.$schema).toBeUndefined();
    expect(Object.keys(schema.properties)).toEqual(['name', 'subject', 'sendAt', 'tags']);
    expect(schema.required).toEqual(['name', 'subject']);
    expect(schema.properties.name).toMatchObject({ type: 'string', minLength: 1, maxLength: 200, description: 'Shown in reports' });
    expect(JSON.stringify(doc)).not.toContain('"$schema"');
  });

  it('describes a string body as text/plain', () => {
    const body = doc.paths['/sns']!.post!.requestBody;
    expect(Object.keys(body.content)).toEqual(['text/plain']);
    expect(body.content['text/plain'].schema).toEqual({ type: 'string', minLength: 1 });
  });

  it('carries summary, description, tags and the permission; tags default to the first path segment', () => {
    const op = doc.paths['/campaigns/{campaignId}']!.put!;
    expect(op).toMatchObject({
      summary: 'Replace a campaign',
      description: 'Replaces every field.',
      tags: ['campaigns'],
      'x-permission': 'workspace',
    });
    expect(doc.paths['/admin/workspaces']!.get!.tags).toEqual(['admin']);
    expect(doc.paths['/t/{token}/open.gif']!.get!.tags).toEqual(['t']);
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('maps permissions to security requirements', () => {
    expect(doc.paths['/campaigns/{campaignId}']!.put!.security).toEqual([{ apiKey: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths['/admin/workspaces']!.get!.security).toEqual([{ adminSecret: [] }]);
    expect(doc.paths['/sns']!.post!.security).toEqual([]);
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.adminSecret).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.apiKeyHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Api-Key' });
  });

  it('lists the success and the relevant standard error answers', () => {
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path]![method]!.responses);
    expect(statuses('/campaigns/{campaignId}', 'put')).toEqual(['200', '400', '401', '404', '409', '413', '415', '500']);
    expect(statuses('/campaigns/{campaignId}', 'delete')).toEqual(['204', '400', '401', '404', '409', '500']);
    expect(statuses('/admin/workspaces', 'get')).toEqual(['200', '401', '500']);
    expect(statuses('/t/{token}/open.gif', 'get')).toEqual(['200', '404', '500']);
    expect(statuses('/sns', 'post')).toEqual(['200', '400', '409', '413', '415', '500']);
    const declared = doc.paths['/campaigns/{campaignId}']!.put!.responses['200'];
    expect(declared.description).toBe('The campaign');
    // A response is described as zod's output: defaulted fields are always present.
    expect(declared.content['application/json'].schema.required).toEqual(['name', 'subject', 'tags', 'id']);
  });

  it('defines the Error component as sendError writes it, and 400 with field problems', () => {
    const { Error: ErrorSchema, ValidationError, FieldProblem } = doc.components.schemas;
    expect(ErrorSchema.required).toEqual(['error']);
    expect(ErrorSchema.properties.error.required).toEqual(['code', 'message']);
    expect(Object.keys(ErrorSchema.properties.error.properties)).toEqual(['code', 'message', 'details', 'requestId']);
    expect(ValidationError.properties.error.properties.details).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/FieldProblem' },
    });
    expect(FieldProblem.required).toEqual(['path', 'message']);
    expect(doc.components.responses.ValidationFailed.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/ValidationError',
    });
    expect(doc.components.responses.InternalError.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('survives unrepresentable schemas and describes transforms and pipes by their input', () => {
    const props = doc.paths['/odd']!.post!.requestBody.content['application/json'].schema.properties;
    expect(props.when).toEqual({});
    expect(props.big).toEqual({});
    expect(props.custom).toEqual({});
    expect(props.length).toEqual({ type: 'string' });
    expect(props.num).toEqual({ type: 'string' });
  });

  it('moves shared and recursive schemas to components, so every $ref resolves inside the document', () => {
    const props = doc.paths['/odd']!.post!.requestBody.content['application/json'].schema.properties;
    expect(props.home).toEqual({ $ref: '#/components/schemas/Address' });
    expect(props.work).toEqual({ $ref: '#/components/schemas/Address' });
    expect(doc.components.schemas.Address).toEqual({ type: 'object', properties: { street: { type: 'string' } }, required: ['street'] });
    // A recursive root refers to itself as "#" in zod's output: it must become a component too.
    const treeBody = doc.paths['/tree']!.post!.requestBody.content['application/json'].schema;
    expect(treeBody.$ref).toMatch(/^#\/components\/schemas\//);
    const refs = refsIn(doc);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) {
      expect(r).toMatch(/^#\/components\/(schemas|responses)\//);
      expect(resolvePointer(r)).toBeDefined();
    }
  });

  it('does not crash on an empty route list', () => {
    const empty = buildOpenApiDocument({ title: 'x', version: '0', routes: [] }) as Doc;
    expect(empty.paths).toEqual({});
    expect(empty.components.schemas.Error).toBeDefined();
  });

  it('passes the OpenAPI 3.1 schema validator (@seriousme/openapi-schema-validator)', () => {
    expect(validateOpenApi(doc)).toEqual({ valid: true });
  });

  it('adds the operations served outside the route list (extraPaths), and refuses one that is in it', () => {
    const pixel = { get: { operationId: 'pixel', tags: ['tracking'], responses: { '200': { description: 'A GIF.' } } } };
    const withExtra = buildOpenApiDocument({ ...info, routes, extraPaths: { '/o/{token}.gif': pixel } }) as Doc;
    expect(withExtra.paths['/o/{token}.gif']).toEqual(pixel);
    expect((withExtra as unknown as { tags: Array<{ name: string }> }).tags.map((t) => t.name)).toContain('tracking');
    expect(Object.keys(withExtra.paths).length).toBe(Object.keys(doc.paths).length + 1);
    expect(validateOpenApi(withExtra)).toEqual({ valid: true });
    const taken = { post: { responses: { '200': { description: 'x' } } } };
    expect(() => buildOpenApiDocument({ ...info, routes, extraPaths: { '/tree': taken } })).toThrow('POST /tree is already in the route list');
  });
});

describe('createApp({ openapi }): documentation endpoints', () => {
  const ctx = () => buildApp({ routes, rawBodyTypes: ['text/plain'], openapi: info });

  it('serves /openapi.json without credentials: the document built from the route list', async () => {
    const res = await request(ctx().app)
      .get('/openapi.json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument({ ...info, routes }))));
  });

  it('serves /docs: a self-contained page without any external URL, under a strict CSP', async () => {
    const res = await request(ctx().app)
      .get('/docs')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(res.text).toContain('openapi.json');
    expect(res.text).not.toMatch(/https?:\/\//i);
    expect(res.text).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(res.text).not.toContain('innerHTML');
    const csp = res.headers['content-security-policy'] as string;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('lists the JSON Schema of every topic at /events/schemas, and serves each one', async () => {
    const app = ctx().app;
    const index = await request(app).get('/events/schemas').expect(200);
    const names = Object.values(Topics).map((t) => t.name);
    expect(Object.keys(index.body.schemas).sort()).toEqual([...names].sort());
    for (const name of names) {
      const url = index.body.schemas[name] as string;
      const res = await request(app)
        .get(url)
        .expect(200)
        .expect('Content-Type', /application\/json/);
      expect(res.body.title).toBe(name);
      expect(res.body.$id).toContain(name);
    }
  });

  it.each(['nope.schema.json', '..%2F..%2Fpackage.json', '..%2Fcontracts%2Fsrc%2Ftopics.ts', '__proto__', 'constructor'])(
    'answers 404 for the unknown schema file %s',
    async (file) => {
      const res = await request(ctx().app).get(`/events/schemas/${file}`).expect(404);
      expect(res.body.error.code).toBe('not_found');
    },
  );

  it('answers 404 for a dot-dot path under /events/schemas', async () => {
    await request(ctx().app).get('/events/schemas/../../package.json').expect(404);
    await request(ctx().app).get('/events/schemas/..').expect(404);
  });

  it('mounts nothing without the option', async () => {
    const app = buildApp({ routes }).app;
    await request(app).get('/openapi.json').expect(404);
    await request(app).get('/docs').expect(404);
    await request(app).get('/events/schemas').expect(404);
  });
});
