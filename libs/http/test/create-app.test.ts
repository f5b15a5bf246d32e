import request from 'supertest';
import { z } from 'zod';
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError, RateLimitedError } from '@payam/errors';
import { createMetrics } from '@payam/observability';
import { createApp, reply, route, type RouteDef } from '../src';
import { ADMIN_SECRET, apiKeys, buildApp, captureLogs } from './helpers';

const Contact = z.object({ email: z.email(), name: z.string().max(5).optional() });

const routes: RouteDef[] = [
  route({
    method: 'post',
    path: '/contacts',
    permission: 'workspace',
    body: Contact,
    handler: ({ body, principal }) => reply(201, { ...body, workspaceId: principal!.workspaceId }),
  }),
  route({
    method: 'get',
    path: '/contacts/:contactId',
    permission: 'workspace',
    params: z.object({ contactId: z.string().regex(/^c\d+$/) }),
    query: z.object({ limit: z.coerce.number().int().max(100).default(10) }),
    handler: ({ params, query, principal }) => {
      const limit: number = query.limit; // inferred from the schema (checked by tsc)
      // @ts-expect-error params are typed by their schema, not `any`
      void params.nope;
      return { id: params.contactId, limit, principal };
    },
  }),
  route({ method: 'delete', path: '/contacts/:contactId', permission: 'workspace', handler: () => undefined }),
  route({ method: 'get', path: '/public', permission: 'public', handler: ({ principal }) => ({ principal }) }),
  route({ method: 'get', path: '/admin/stats', permission: 'admin', handler: () => ({ ok: true }) }),
  route({
    method: 'get',
    path: '/boom',
    permission: 'public',
    handler: () => {
      throw new Error('secret internal detail');
    },
  }),
  route({
    method: 'get',
    path: '/fail/:kind',
    permission: 'public',
    handler: ({ params }) => {
      switch (params.kind) {
        case 'missing':
          throw new NotFoundError('campaign', 'c9');
        case 'conflict':
          throw new ConflictError('campaign is paused', { currentState: 'paused' });
        case 'invalid':
          throw new InvalidInputError([{ path: 'subject', message: 'must not be empty' }]);
        case 'forbidden':
          throw new ForbiddenError();
        case 'slow-down':
          throw new RateLimitedError(30);
        default:
          return Promise.reject(new TypeError('async bug'));
      }
    },
  }),
  route({
    method: 'get',
    path: '/redirect',
    permission: 'public',
    handler: ({ res }) => {
      res.redirect(302, 'https://example.com/');
      return { ignored: true };
    },
  }),
  route({ method: 'post', path: '/sns', permission: 'public', body: z.string().min(1), handler: ({ body }) => ({ length: body.length }) }),
];

const ctx = () => buildApp({ routes, bodyLimit: '1kb', rawBodyTypes: ['text/plain'] });
const auth = { Authorization: 'Bearer pk_good' };

describe('createApp: routing and answers', () => {
  it('answers a JSON 404 for an unknown route', async () => {
    const res = await request(ctx().app).get('/nowhere').expect(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no such route' } });
  });

  it('turns a handler result into 200, reply() into its status and undefined into 204', async () => {
    const { app } = ctx();
    await request(app).get('/public').expect(200, { principal: null });
    const created = await request(app).post('/contacts').set(auth).send({ email: 'a@b.co' }).expect(201);
    expect(created.body).toEqual({ email: 'a@b.co', workspaceId: 'w1' });
    const gone = await request(app).delete('/contacts/c1').set(auth).expect(204);
    expect(gone.text).toBe('');
  });

  it('leaves the answer alone when the handler sent one itself', async () => {
    const res = await request(ctx().app).get('/redirect').expect(302);
    expect(res.headers.location).toBe('https://example.com/');
  });

  it('passes parsed params and query (with defaults and coercion) to the handler', async () => {
    const res = await request(ctx().app).get('/contacts/c7?limit=25').set(auth).expect(200);
    expect(res.body).toEqual({ id: 'c7', limit: 25, principal: { workspaceId: 'w1', keyId: 'k1' } });
    const dflt = await request(ctx().app).get('/contacts/c7').set(auth).expect(200);
    expect(dflt.body.limit).toBe(10);
  });

  it('turns off x-powered-by and sets nosniff', async () => {
    const res = await request(ctx().app).get('/public');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('refuses to build an app whose route permissions cannot be checked', () => {
    const base = { service: 's', logger: captureLogs().logger, metrics: createMetrics('s'), readiness: {} };
    expect(() => createApp({ ...base, routes })).toThrow(/apiKeys/);
    expect(() => createApp({ ...base, apiKeys, routes })).toThrow(/adminSecret/);
  });
});

describe('createApp: authentication', () => {
  it('401s a workspace route without a key, with an unknown key and with a revoked key', async () => {
    const { app } = ctx();
    for (const headers of [{}, { Authorization: 'Bearer pk_unknown' }, { 'X-Api-Key': 'revoked' }, { Authorization: 'Basic abc' }]) {
      const res = await request(app).get('/contacts/c1').set(headers).expect(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('accepts the key as Bearer or X-Api-Key', async () => {
    const { app } = ctx();
    await request(app).get('/contacts/c1').set('Authorization', 'bearer pk_good').expect(200);
    await request(app).get('/contacts/c1').set('X-Api-Key', 'pk_good').expect(200);
  });

  it('authenticates before validating, so an anonymous caller learns nothing about the schema', async () => {
    await request(ctx().app).post('/contacts').send({ email: 'nope' }).expect(401);
  });

  it('guards admin routes with the admin secret, and a workspace key is not enough', async () => {
    const { app } = ctx();
    await request(app).get('/admin/stats').expect(401);
    await request(app).get('/admin/stats').set(auth).expect(401);
    await request(app).get('/admin/stats').set('Authorization', `Bearer ${ADMIN_SECRET}x`).expect(401);
    await request(app).get('/admin/stats').set('Authorization', `Bearer ${ADMIN_SECRET}`).expect(200, { ok: true });
  });
});

describe('createApp: request bodies and validation', () => {
  it('reports every validation problem with its field path', async () => {
    const res = await request(ctx().app).post('/contacts').set(auth).send({ email: 'not-an-email', name: 'far too long' }).expect(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['body.email', 'body.name']);
    expect(res.body.error.message).toMatch(/^body\.email: .+; body\.name: .+/);
  });

  it('prefixes params and query problems too, in one answer', async () => {
    const res = await request(ctx().app).get('/contacts/x1?limit=500').set(auth).expect(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(['params.contactId', 'query.limit']);
  });

  it('answers 400 invalid_json for malformed JSON', async () => {
    const res = await request(ctx().app).post('/contacts').set(auth).set('Content-Type', 'application/json').send('{"email":').expect(400);
    expect(res.body.error.code).toBe('invalid_json');
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await request(ctx().app)
      .post('/contacts')
      .set(auth)
      .send({ email: 'a@b.co', padding: 'x'.repeat(2048) })
      .expect(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('answers 415 for a body of the wrong content type', async () => {
    const res = await request(ctx().app).post('/contacts').set(auth).set('Content-Type', 'application/xml').send('<a/>').expect(415);
    expect(res.body.error.code).toBe('unsupported_media_type');
  });

  it('validates a missing body as a body problem', async () => {
    const res = await request(ctx().app).post('/contacts').set(auth).expect(400);
    expect(res.body.error.details[0].path).toBe('body');
  });

  it('parses the raw body types as text', async () => {
    const res = await request(ctx().app).post('/sns').set('Content-Type', 'text/plain; charset=UTF-8').send('{"Type":"Notification"}');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ length: 23 });
  });
});

describe('createApp: errors', () => {
  it('answers 500 with the request id and no detail for a plain Error, and logs the stack', async () => {
    const { app, logs } = ctx();
    const res = await request(app).get('/boom').set('X-Request-Id', 'req-123').expect(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: 'internal error', requestId: 'req-123' } });
    expect(res.text).not.toContain('secret internal detail');
    expect(res.text).not.toContain('at ');
    const logged = logs.lines.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId: 'req-123', level: 'error' });
    expect((logged!.err as { stack: string }).stack).toContain('secret internal detail');
  });

  it('maps a rejected promise the same way', async () => {
    const res = await request(ctx().app).get('/fail/async').expect(500);
    expect(res.body.error.code).toBe('internal');
  });

  it('maps domain errors to their statuses in one place', async () => {
    const { app } = ctx();
    const missing = await request(app).get('/fail/missing').expect(404);
    expect(missing.body.error).toEqual({ code: 'not_found', message: 'campaign c9 not found' });

    const conflict = await request(app).get('/fail/conflict').expect(409);
    expect(conflict.body.error).toEqual({ code: 'conflict', message: 'campaign is paused', details: { currentState: 'paused' } });

    const invalid = await request(app).get('/fail/invalid').expect(400);
    expect(invalid.body.error).toMatchObject({ code: 'validation_failed', details: [{ path: 'subject', message: 'must not be empty' }] });

    await request(app).get('/fail/forbidden').expect(403);

    const limited = await request(app).get('/fail/slow-down').expect(429);
    expect(limited.headers['retry-after']).toBe('30');
    expect(limited.body.error.code).toBe('rate_limited');
  });
});

describe('createApp: request id, access log and metrics', () => {
  it('honours a sane X-Request-Id and replaces an insane one', async () => {
    const { app } = ctx();
    const kept = await request(app).get('/public').set('X-Request-Id', 'abc-123');
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await request(app).get('/public').set('X-Request-Id', 'bad id\twith spaces');
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const generated = await request(app).get('/public');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.headers['x-request-id']).not.toBe(replaced.headers['x-request-id']);
  });

  it('writes one access line per request, with the route pattern, never the raw path of a matched route nor the query', async () => {
    const { app, logs } = ctx();
    await request(app).get('/contacts/c42?limit=3&token=secret').set(auth).set('X-Request-Id', 'r-1').expect(200);
    const access = logs.lines.filter((l) => l.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ requestId: 'r-1', method: 'GET', route: '/contacts/:contactId', status: 200 });
    // A matched path may carry a token or ids (/c/<signed token>): the pattern says enough.
    expect(access[0]).not.toHaveProperty('path');
    expect(JSON.stringify(logs.lines)).not.toContain('secret');
    expect(JSON.stringify(logs.lines)).not.toContain('c42');
  });

  it('logs the raw path of an unmatched request, to debug 404s', async () => {
    const { app, logs } = ctx();
    await request(app).get('/no/such/thing?x=secret').expect(404);
    const access = logs.lines.filter((l) => l.msg === 'request');
    expect(access[0]).toMatchObject({ route: 'unmatched', path: '/no/such/thing', status: 404 });
    expect(JSON.stringify(logs.lines)).not.toContain('secret');
  });

  it('observes the http histogram with the route pattern, not the raw path', async () => {
    const { app, metrics } = ctx();
    await request(app).get('/contacts/c1').set(auth).expect(200);
    await request(app).get('/contacts/c2').set(auth).expect(200);
    await request(app).get('/no/such/path').expect(404);
    const res = await request(app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('payam_http_request_duration_seconds_bucket');
    expect(res.text).toMatch(/payam_http_request_duration_seconds_count\{[^}]*route="\/contacts\/:contactId"[^}]*status="200"[^}]*\} 2/);
    expect(res.text).toMatch(/payam_http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*\} 1/);
    expect(res.text).not.toContain('/contacts/c1');
    expect(metrics.registry).toBeDefined();
  });

  it('mounts mountBefore routes ahead of the list, still with request id and metrics', async () => {
    const { app } = buildApp({
      routes,
      mountBefore: (a) =>
        a.get('/o/:token.gif', (_req, res) => {
          res.set('Cache-Control', 'no-store').type('gif').send(Buffer.from('GIF89a'));
        }),
    });
    const res = await request(app).get('/o/abc.gif').expect(200);
    expect(res.headers['x-request-id']).toBeDefined();
    const text = (await request(app).get('/metrics')).text;
    expect(text).toMatch(/route="\/o\/:token\.gif"/);
  });
});

describe('createApp: health', () => {
  it('/healthz answers 200 while the process is up, even when a dependency is down', async () => {
    const { app } = buildApp({ readiness: { mongo: () => Promise.reject(new Error('down')) } });
    await request(app).get('/healthz').expect(200, { status: 'ok' });
  });

  it('/readyz answers 200 when every check passes', async () => {
    const { app } = buildApp({ readiness: { mongo: async () => {}, kafka: async () => {} } });
    await request(app)
      .get('/readyz')
      .expect(200, { status: 'ready', checks: { mongo: 'ok', kafka: 'ok' } });
  });

  it('/readyz answers 503 naming the failed and the hung check, without their error text', async () => {
    const { app, logs } = buildApp({
      readiness: {
        mongo: async () => {},
        kafka: () => Promise.reject(new Error('broker 10.0.0.7 unreachable')),
        ses: () => new Promise<void>(() => {}),
      },
      readinessTimeoutMs: 50,
    });
    const res = await request(app).get('/readyz').expect(503);
    expect(res.body).toEqual({ status: 'not_ready', checks: { mongo: 'ok', kafka: 'failed', ses: 'timeout' } });
    expect(res.text).not.toContain('10.0.0.7');
    expect(JSON.stringify(logs.lines)).toContain('10.0.0.7');
  });
});

describe('malformed URL encoding', () => {
  test('a broken percent-encoded path parameter is a 400, not a 500', async () => {
    const { createApp, route } = await import('../src');
    const { createLogger, createMetrics } = await import('@payam/observability');
    const { z } = await import('zod');
    const request = (await import('supertest')).default;
    const app = createApp({
      service: 'enc',
      logger: createLogger({ service: 'enc', level: 'silent' }),
      metrics: createMetrics('enc'),
      readiness: {},
      routes: [route({ method: 'get', path: '/c/:token', permission: 'public', params: z.object({ token: z.string() }), handler: ({ params }) => params })],
    });
    const res = await request(app).get('/c/%E0%A4%A');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'bad_request', message: 'malformed URL encoding' } });
    expect(JSON.stringify(res.body)).not.toMatch(/URIError|at /);
  });
});

describe('an unavailable database', () => {
  test('a driver timeout answers 503 with Retry-After, not a 500', async () => {
    const { createApp, route } = await import('../src');
    const { createLogger, createMetrics } = await import('@payam/observability');
    const request = (await import('supertest')).default;
    class MongoNetworkTimeoutError extends Error {
      override name = 'MongoNetworkTimeoutError';
    }
    const app = createApp({
      service: 'db',
      logger: createLogger({ service: 'db', level: 'silent' }),
      metrics: createMetrics('db'),
      readiness: {},
      routes: [route({ method: 'get', path: '/slow', permission: 'public', handler: () => Promise.reject(new MongoNetworkTimeoutError('connection 3 timed out')) })],
    });
    const res = await request(app).get('/slow');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.error.code).toBe('unavailable');
    expect(JSON.stringify(res.body)).not.toMatch(/connection 3|at /);
  });
});
