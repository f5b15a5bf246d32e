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
      permission: 'admin',
      body: z.strictObject({ name: Name, keyName: Name.default('default') }),
      handler: async ({ body }) => reply(201, await ctx.workspaces.createWorkspace(body.name, body.keyName)),
    }),
    route({
      method: 'get',
      path: '/admin/workspaces/:workspaceId',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      handler: ({ params }) => ctx.workspaces.getWorkspace(params.workspaceId),
    }),
    route({
      method: 'post',
      path: '/admin/workspaces/:workspaceId/keys',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      body: z.strictObject({ name: Name }),
      handler: async ({ params, body }) => reply(201, await ctx.workspaces.issueKey(params.workspaceId, body.name)),
    }),
    route({
      method: 'get',
      path: '/admin/workspaces/:workspaceId/keys',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId }),
      handler: async ({ params }) => ({ items: await ctx.workspaces.listKeys(params.workspaceId) }),
    }),
    route({
      method: 'delete',
      path: '/admin/workspaces/:workspaceId/keys/:keyId',
      permission: 'admin',
      params: z.object({ workspaceId: EntityId, keyId: EntityId }),
      handler: ({ params }) => ctx.workspaces.revokeKey(params.workspaceId, params.keyId),
    }),
    route({
      method: 'get',
      path: '/workspace',
      permission: 'workspace',
      handler: ({ principal }) => ctx.workspaces.getWorkspace(ws(principal)),
    }),

    // --- contacts ---
    route({
      method: 'post',
      path: '/contacts',
      permission: 'workspace',
      body: ContactCreate,
      handler: async ({ principal, body }) => reply(201, contactView(await ctx.contacts.create(ws(principal), body))),
    }),
    route({
      method: 'put',
      path: '/contacts',
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
      permission: 'workspace',
      query: ContactListQuery,
      handler: ({ principal, query }) => ctx.contacts.list(ws(principal), query),
    }),
    route({
      method: 'get',
      path: '/contacts/:contactId',
      permission: 'workspace',
      params: ContactIdParams,
      handler: async ({ principal, params }) => contactView(await ctx.contacts.get(ws(principal), params.contactId)),
    }),
    route({
      method: 'patch',
      path: '/contacts/:contactId',
      permission: 'workspace',
      params: ContactIdParams,
      body: ContactPatch,
      handler: async ({ principal, params, body }) => contactView(await ctx.contacts.update(ws(principal), params.contactId, body)),
    }),
    route({
      method: 'delete',
      path: '/contacts/:contactId',
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
      permission: 'workspace',
      query: ImportQuery,
      handler: async ({ principal, query, req }) => reply(202, await ctx.imports.start(ws(principal), req, query)),
    }),
    route({
      method: 'get',
      path: '/imports',
      permission: 'workspace',
      handler: async ({ principal }) => ({ items: await ctx.imports.list(ws(principal)) }),
    }),
    route({
      method: 'get',
      path: '/imports/:importId',
      permission: 'workspace',
      params: z.object({ importId: EntityId }),
      handler: ({ principal, params }) => ctx.imports.get(ws(principal), params.importId),
    }),

    // --- lists ---
    route({
      method: 'post',
      path: '/lists',
      permission: 'workspace',
      body: ListCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.lists.create(ws(principal), body.name)),
    }),
    route({
      method: 'get',
      path: '/lists',
      permission: 'workspace',
      handler: async ({ principal }) => ({ items: await ctx.lists.list(ws(principal)) }),
    }),
    route({
      method: 'get',
      path: '/lists/:listId',
      permission: 'workspace',
      params: ListIdParams,
      handler: ({ principal, params }) => ctx.lists.get(ws(principal), params.listId),
    }),
    route({
      method: 'patch',
      path: '/lists/:listId',
      permission: 'workspace',
      params: ListIdParams,
      body: ListRename,
      handler: ({ principal, params, body }) => ctx.lists.rename(ws(principal), params.listId, body.name),
    }),
    route({
      method: 'delete',
      path: '/lists/:listId',
      permission: 'workspace',
      params: ListIdParams,
      handler: async ({ principal, params }) => {
        await ctx.lists.delete(ws(principal), params.listId);
      },
    }),
    route({
      method: 'post',
      path: '/lists/:listId/members',
      permission: 'workspace',
      params: ListIdParams,
      body: ListMembers,
      handler: ({ principal, params, body }) => ctx.lists.addMembers(ws(principal), params.listId, body),
    }),
    route({
      method: 'delete',
      path: '/lists/:listId/members',
      permission: 'workspace',
      params: ListIdParams,
      body: ListMembers,
      handler: ({ principal, params, body }) => ctx.lists.removeMembers(ws(principal), params.listId, body),
    }),

    // --- templates, layouts, partials ---
    route({
      method: 'post',
      path: '/templates',
      permission: 'workspace',
      body: TemplateCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.templates.create(ws(principal), body)),
    }),
    route({
      method: 'get',
      path: '/templates',
      permission: 'workspace',
      handler: async ({ principal }) => ({ items: await ctx.templates.list(ws(principal)) }),
    }),
    route({
      method: 'get',
      path: '/templates/:templateId',
      permission: 'workspace',
      params: TemplateIdParams,
      handler: async ({ principal, params }) => templateView(await ctx.templates.get(ws(principal), params.templateId)),
    }),
    route({
      method: 'patch',
      path: '/templates/:templateId',
      permission: 'workspace',
      params: TemplateIdParams,
      body: TemplatePatch,
      handler: ({ principal, params, body }) => ctx.templates.update(ws(principal), params.templateId, body),
    }),
    route({
      method: 'delete',
      path: '/templates/:templateId',
      permission: 'workspace',
      params: TemplateIdParams,
      handler: async ({ principal, params }) => {
        await ctx.templates.delete(ws(principal), params.templateId);
      },
    }),
    route({
      method: 'post',
      path: '/templates/:templateId/preview',
      permission: 'workspace',
      params: TemplateIdParams,
      body: PreviewRequest,
      handler: ({ principal, params, body }) => ctx.templates.preview(ws(principal), params.templateId, body),
    }),
    route({
      method: 'post',
      path: '/layouts',
      permission: 'workspace',
      body: LayoutCreate,
      handler: async ({ principal, body }) => reply(201, await ctx.templates.createLayout(ws(principal), body)),
    }),
    route({
      method: 'get',
      path: '/layouts',
      permission: 'workspace',
      handler: async ({ principal }) => ({ items: await ctx.templates.listLayouts(ws(principal)) }),
    }),
    route({
      method: 'get',
      path: '/layouts/:layoutId',
      permission: 'workspace',
      params: LayoutIdParams,
      handler: ({ principal, params }) => ctx.templates.getLayout(ws(principal), params.layoutId),
    }),
    route({
      method: 'patch',
      path: '/layouts/:layoutId',
      permission: 'workspace',
      params: LayoutIdParams,
      body: LayoutPatch,
      handler: ({ principal, params, body }) => ctx.templates.updateLayout(ws(principal), params.layoutId, body),
    }),
    route({
      method: 'delete',
      path: '/layouts/:layoutId',
      permission: 'workspace',
      params: LayoutIdParams,
      handler: async ({ principal, params }) => {
        await ctx.templates.deleteLayout(ws(principal), params.layoutId);
      },
    }),
    route({
      method: 'put',
      path: '/partials/:name',
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
      permission: 'workspace',
      handler: async ({ principal }) => ({ items: await ctx.templates.listPartials(ws(principal)) }),
    }),
    route({
      method: 'get',
      path: '/partials/:name',
      permission: 'workspace',
      params: PartialParams,
      handler: ({ principal, params }) => ctx.templates.getPartial(ws(principal), params.name),
    }),
    route({
      method: 'delete',
      path: '/partials/:name',
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
      permission: 'workspace',
      query: SuppressionListQuery,
      handler: ({ principal, query }) => ctx.suppressions.list(ws(principal), query),
    }),
    route({
      method: 'post',
      path: '/suppressions',
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
      permission: 'workspace',
      params: SuppressionParams,
      handler: ({ principal, params }) => ctx.suppressions.get(ws(principal), params.email),
    }),
    route({
      method: 'delete',
      path: '/suppressions/:email',
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
