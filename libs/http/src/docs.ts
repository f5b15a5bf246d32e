import type { Express } from 'express';
import { renderEventJsonSchemas, Topics } from '@payam/contracts';
import { docsPage } from './docs-page';
import { sendError } from './error-response';
import { buildOpenApiDocument, type OpenApiInfo } from './openapi';
import type { RouteDef } from './route';

/**
 * Public documentation endpoints, mounted beside /healthz:
 * - /openapi.json: the service's OpenAPI 3.1 document, generated once from its route list;
 * - /docs: a self-contained page rendering it;
 * - /events/schemas and /events/schemas/<topic>.schema.json: the JSON Schemas of every topic's
 *   record value, the same text as docs/events/.
 */
export function mountDocs(app: Express, info: OpenApiInfo, routes: RouteDef[]): void {
  const document = JSON.stringify(buildOpenApiDocument({ ...info, routes }));
  const page = docsPage();

  app.get('/openapi.json', (_req, res) => {
    res.locals.routePattern = '/openapi.json';
    res.type('application/json').send(document);
  });

  app.get('/docs', (_req, res) => {
    res.locals.routePattern = '/docs';
    res.set('Content-Security-Policy', page.contentSecurityPolicy).type('html').send(page.html);
  });

  mountEventSchemas(app);
}

function mountEventSchemas(app: Express): void {
  // Served from memory: the name in the URL is a key of this map, never a file path.
  const files = new Map(Object.entries(renderEventJsonSchemas()));
  const schemas: Record<string, string> = {};
  for (const spec of Object.values(Topics)) {
    const file = `${spec.name}.schema.json`;
    if (files.has(file)) schemas[spec.name] = `/events/schemas/${file}`;
  }
  const index = JSON.stringify({ schemas });

  app.get('/events/schemas', (_req, res) => {
    res.locals.routePattern = '/events/schemas';
    res.type('application/json').send(index);
  });

  app.get('/events/schemas/:file', (req, res) => {
    res.locals.routePattern = '/events/schemas/:file';
    const text = files.get(req.params.file);
    if (text === undefined) {
      sendError(res, 404, 'not_found', 'no such event schema');
      return;
    }
    res.type('application/json').send(text);
  });
}
