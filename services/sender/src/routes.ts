import { z } from 'zod';
import { EntityId } from '@payam/contracts';
import { reply, route, type RouteDef } from '@payam/http';
import type { SenderContext } from './context';
import { contactView } from './contacts/service';
import { ContactCreate, ContactIdParams, ContactListQuery, ContactPatch, ContactUpsert } from './contacts/schemas';
import { ImportQuery } from './contacts/import';
import { ListCreate, ListIdParams, ListMembers, ListRename } from './lists/service';
import { SuppressionCreate, SuppressionListQuery, SuppressionParams } from './suppression/schemas';
import {
  LayoutCreate,
  LayoutIdParams,
  LayoutPatch,
  PartialParams,
  PartialPut,
  PreviewRequest,
  TemplateCreate,
  TemplateIdParams,
  TemplatePatch,
} from './templates/schemas';
import { templateView } from './templates/service';
import { campaignRoutes } from './campaigns/routes';
import { PageQuery } from './paging';
import { experimentRoutes } from './experiments/routes';

const Name = z.string().trim().min(1).max(100);

/** Every route of the sender with its permission beside it. */
export function senderRoutes(ctx: SenderContext): RouteDef[] {
  const ws = (principal: { workspaceId: string } | null): string => principal!.workspaceId;
  return [
    // --- workspaces & keys (operator) ---
    route({
      method: 'post',
      path: '/admin/workspaces',
      summary: 'Create a workspace and its first API key (token shown only here); publishes the key to api-keys.v1',
      permission: 'admin',
      body: z.strictObject({ name: Name, keyName: Name.default('default') }),
      handler: async ({ body }) => reply(201, await ctx.workspaces.createWorkspace(body.name, body.keyName)),
    }),
    route({
      method: 'get',
      path: '/admin/workspaces/:workspaceId',
      summary: 'Get a workspace (404 if unknown)',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      handler: ({ params }) => ctx.workspaces.getWorkspace(params.workspaceId),
    }),
    route({
      method: 'post',
      path: '/admin/workspaces/:workspaceId/keys',
      summary: 'Issue an API key for a workspace (token shown only here); publishes it to api-keys.v1',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      body: z.strictObject({ name: Name }),
      handler: async ({ params, body }) => reply(201, await ctx.workspaces.issueKey(params.workspaceId, body.name)),
    }),
    route({
      method: 'get',
      path: '/admin/workspaces/:workspaceId/keys',
      summary: "List a workspace's API keys, revoked ones included (no secrets)",
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      handler: async ({ params }) => ({ items: await ctx.workspaces.listKeys(params.workspaceId) }),
    }),
    route({
      method: 'delete',
      path: '/admin/workspaces/:workspaceId/keys/:keyId',
      summary: 'Revoke an API key (idempotent; answers the key); publishes the revocation to api-keys.v1',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId, keyId: EntityId }),
      handler: ({ params }) => ctx.workspaces.revokeKey(params.workspaceId, params.keyId),
      responses: { 200: { description: 'The revoked key, without its secret.' } },
    }),
    route({
      method: 'get',
      path: '/workspace',
      summary: 'Get the workspace of the calling API key',
      permission: 'workspace',
      handler: ({ principal }) => ctx.workspaces.getWorkspace(ws(principal)),
    }),

    // --- contacts ---
    route({
      method: 'post',
      path: '/contacts',
      summary: 'Create a contact (400 if invalid or a list is unknown; 409 if the email exists); publishes to contacts.v1',
      permission: 'workspace',
      body: ContactCreate,
      handler: async ({ principal, body }) => reply(201, contactView(await ctx.contacts.create(ws(principal), body))),
    }),
    route({
      method: 'put',
      path: '/contacts',
      summary: 'Create or update a contact by email (201/200; attributes merge); publishes to contacts.v1',
      permission: 'workspace',
      body: ContactUpsert,
      handler: async ({ principal, body }) => {
        const { contact, created } = await ctx.contacts.upsertByEmail(ws(principal), body);
        return reply(created ? 201 : 200, contactView(contact));
      },
    }),
    route({
      method: 'get',
      path: '/contacts',
      summary: 'List contacts by cursor; filter by status, listId, emailPrefix or attr.<name>=<value>',
      permission: 'workspace',
      query: ContactListQuery,
      handler: ({ principal, query }) => ctx.contacts.list(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/contacts/:contactId',
      summary: 'Get a contact (404 if unknown or erased)',
      permission: 'workspace',
      params: ContactIdParams,
      handler: async ({ principal, params }) => contactView(await ctx.contacts.get(ws(principal), params.contactId)),
    }),
    route({
      method: 'patch',
      path: '/contacts/:contactId',
      summary: 'Update a contact (attributes merge, null removes; 409 if the email is taken); publishes to contacts.v1',
      permission: 'workspace',
      params: ContactIdParams,
      body: ContactPatch,
      handler: async ({ principal, params, body }) => contactView(await ctx.contacts.update(ws(principal), params.contactId, body)),
    }),
    route({
      method: 'delete',
      path: '/contacts/:contactId',
      summary: 'Erase a contact: wipes its email, attributes and lists; publishes a tombstone to contacts.v1',
      permission: 'workspace',
      params: ContactIdParams,
      handler: async ({ principal, params }) => {
        await ctx.contacts.erase(ws(principal), params.contactId);
      },
    }),

    // --- contact imports ---
    route({
      // No body schema: the upload is streamed to disk by the handler, never parsed in memory.
      method: 'post',
      path: '/imports',
      summary: 'Import contacts from CSV, JSON or NDJSON, upsert by email (202; runs in the background, never re-subscribes)',
      permission: 'workspace',
      query: ImportQuery,
      handler: async ({ principal, query, req }) => reply(202, await ctx.imports.start(ws(principal), req, query)),
    }),
    route({
      method: 'get',
      path: '/imports',
      summary: "List the workspace's contact imports newest first, by cursor (limit up to 500 a page)",
      permission: 'workspace',
      query: PageQuery,
      handler: ({ principal, query }) => ctx.imports.list(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/imports/:importId',
      summary: 'Get a contact import: state, counts and the first 100 row errors',
      permission: 'workspace',
      params: z.object({ importId: EntityId }),
      handler: ({ principal, params }) => ctx.imports.get(ws(principal), params.importId),
    }),

    // --- lists ---
    route({
      method: 'post',
      path: '/lists',
      summary: 'Create a static list',
      permission: 'workspace',
      body: ListCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.lists.create(ws(principal), body.name)),
    }),
    route({
      method: 'get',
      path: '/lists',
      summary: "List the workspace's static lists oldest first, by cursor (limit up to 500 a page; counts are on GET /lists/:listId)",
      permission: 'workspace',
      query: PageQuery,
      handler: ({ principal, query }) => ctx.lists.list(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/lists/:listId',
      summary: 'Get a list with its member counts: all, subscribed, and by status (one pass over the contacts on FerretDB)',
      permission: 'workspace',
      params: ListIdParams,
      handler: ({ principal, params }) => ctx.lists.get(ws(principal), params.listId),
    }),
    route({
      method: 'patch',
      path: '/lists/:listId',
      summary: 'Rename a list',
      permission: 'workspace',
      params: ListIdParams,
      body: ListRename,
      handler: ({ principal, params, body }) => ctx.lists.rename(ws(principal), params.listId, body.name),
    }),
    route({
      method: 'delete',
      path: '/lists/:listId',
      summary: 'Delete a list and take it off every member (each is republished to contacts.v1)',
      permission: 'workspace',
      params: ListIdParams,
      handler: async ({ principal, params }) => {
        await ctx.lists.delete(ws(principal), params.listId);
      },
    }),
    route({
      method: 'post',
      path: '/lists/:listId/members',
      summary: 'Add contacts to a list by id or email (up to 1000); publishes changed contacts to contacts.v1',
      permission: 'workspace',
      params: ListIdParams,
      body: ListMembers,
      handler: ({ principal, params, body }) => ctx.lists.addMembers(ws(principal), params.listId, body),
    }),
    route({
      method: 'delete',
      path: '/lists/:listId/members',
      summary: 'Remove contacts from a list by id or email (up to 1000); publishes changed contacts to contacts.v1',
      permission: 'workspace',
      params: ListIdParams,
      body: ListMembers,
      handler: ({ principal, params, body }) => ctx.lists.removeMembers(ws(principal), params.listId, body),
      responses: { 200: { description: 'How many of the given contacts were matched, taken off the list, and unknown.' } },
    }),

    // --- templates, layouts, partials ---
    route({
      method: 'post',
      path: '/templates',
      summary: 'Create a template (400 on a template syntax error or an unknown layout)',
      permission: 'workspace',
      body: TemplateCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.templates.create(ws(principal), body)),
    }),
    route({
      method: 'get',
      path: '/templates',
      summary: "List the workspace's templates oldest first, by cursor (limit up to 500 a page)",
      permission: 'workspace',
      query: PageQuery,
      handler: ({ principal, query }) => ctx.templates.list(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/templates/:templateId',
      summary: 'Get a template',
      permission: 'workspace',
      params: TemplateIdParams,
      handler: async ({ principal, params }) => templateView(await ctx.templates.get(ws(principal), params.templateId)),
    }),
    route({
      method: 'patch',
      path: '/templates/:templateId',
      summary: 'Update a template (400 on a syntax error or unknown layout); campaigns using it send the new version',
      permission: 'workspace',
      params: TemplateIdParams,
      body: TemplatePatch,
      handler: ({ principal, params, body }) => ctx.templates.update(ws(principal), params.templateId, body),
    }),
    route({
      method: 'delete',
      path: '/templates/:templateId',
      summary: 'Delete a template (409 while a draft, scheduled, running or paused campaign uses it)',
      permission: 'workspace',
      params: TemplateIdParams,
      handler: async ({ principal, params }) => {
        await ctx.templates.delete(ws(principal), params.templateId);
      },
    }),
    route({
      method: 'post',
      path: '/templates/:templateId/preview',
      summary: 'Render a template with its layout and partials for a contact or sample data (nothing is sent)',
      permission: 'workspace',
      params: TemplateIdParams,
      body: PreviewRequest,
      handler: ({ principal, params, body }) => ctx.templates.preview(ws(principal), params.templateId, body),
    }),
    route({
      method: 'post',
      path: '/layouts',
      summary: 'Create a layout (its html must contain {{{body}}})',
      permission: 'workspace',
      body: LayoutCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.templates.createLayout(ws(principal), body)),
    }),
    route({
      method: 'get',
      path: '/layouts',
      summary: "List the workspace's layouts oldest first, by cursor (limit up to 500 a page)",
      permission: 'workspace',
      query: PageQuery,
      handler: ({ principal, query }) => ctx.templates.listLayouts(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/layouts/:layoutId',
      summary: 'Get a layout',
      permission: 'workspace',
      params: LayoutIdParams,
      handler: ({ principal, params }) => ctx.templates.getLayout(ws(principal), params.layoutId),
    }),
    route({
      method: 'patch',
      path: '/layouts/:layoutId',
      summary: 'Update a layout (its html must keep {{{body}}})',
      permission: 'workspace',
      params: LayoutIdParams,
      body: LayoutPatch,
      handler: ({ principal, params, body }) => ctx.templates.updateLayout(ws(principal), params.layoutId, body),
    }),
    route({
      method: 'delete',
      path: '/layouts/:layoutId',
      summary: 'Delete a layout (409 if a template uses it)',
      permission: 'workspace',
      params: LayoutIdParams,
      handler: async ({ principal, params }) => {
        await ctx.templates.deleteLayout(ws(principal), params.layoutId);
      },
    }),
    route({
      method: 'put',
      path: '/partials/:name',
      summary: 'Create or replace a partial by name (201 created, 200 replaced)',
      permission: 'workspace',
      params: PartialParams,
      body: PartialPut,
      handler: async ({ principal, params, body }) => {
        const { partial, created } = await ctx.templates.putPartial(ws(principal), params.name, body.content);
        return reply(created ? 201 : 200, partial);
      },
    }),
    route({
      method: 'get',
      path: '/partials',
      summary: "List the workspace's partials by name, by cursor (limit up to 500 a page)",
      permission: 'workspace',
      query: PageQuery,
      handler: ({ principal, query }) => ctx.templates.listPartials(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/partials/:name',
      summary: 'Get a partial',
      permission: 'workspace',
      params: PartialParams,
      handler: ({ principal, params }) => ctx.templates.getPartial(ws(principal), params.name),
    }),
    route({
      method: 'delete',
      path: '/partials/:name',
      summary: 'Delete a partial (409 while a template, layout or other partial includes it)',
      permission: 'workspace',
      params: PartialParams,
      handler: async ({ principal, params }) => {
        await ctx.templates.deletePartial(ws(principal), params.name);
      },
    }),

    // --- suppressions ---
    route({
      method: 'get',
      path: '/suppressions',
      summary: 'List suppressed addresses by cursor; filter by emailPrefix or reason',
      permission: 'workspace',
      query: SuppressionListQuery,
      handler: ({ principal, query }) => ctx.suppressions.list(ws(principal), query),
    }),
    route({
      method: 'post',
      path: '/suppressions',
      summary: 'Suppress an address (201 new; 200 if already suppressed, first reason kept); contact status unchanged',
      permission: 'workspace',
      body: SuppressionCreate,
      handler: async ({ principal, body }) => {
        const { suppression, created } = await ctx.suppressions.add(ws(principal), body.email, body.reason);
        return reply(created ? 201 : 200, suppression);
      },
    }),
    route({
      method: 'get',
      path: '/suppressions/:email',
      summary: "Get an address's suppression (404 if it is not suppressed)",
      permission: 'workspace',
      params: SuppressionParams,
      handler: ({ principal, params }) => ctx.suppressions.get(ws(principal), params.email),
    }),
    route({
      method: 'delete',
      path: '/suppressions/:email',
      summary: "Lift an address's suppression (404 if none); the contact's status is not changed",
      permission: 'workspace',
      params: SuppressionParams,
      handler: async ({ principal, params }) => {
        await ctx.suppressions.remove(ws(principal), params.email);
      },
    }),

    // --- campaigns & delivery (part B) ---
    ...campaignRoutes(ctx),
    ...experimentRoutes(ctx),
  ];
}
