import { z } from 'zod';
import { NotFoundError } from '@payam/errors';
import { reply, route, type RouteDef } from '@payam/http';
import { contactProfile, contactSegments } from './contacts/read';
import { ingestEvents, IngestBody } from './ingest/events';
import { ModelSettings } from './rules/figures';
import { RuleInput } from './rules/validate';
import {
  createFromTemplate,
  createSegment,
  deleteSegment,
  getSegment,
  listMembers,
  listSegments,
  previewRule,
  startRecompute,
  updateSegment,
  type ServiceDeps,
} from './segments/service';
import { TEMPLATES } from './segments/templates';

const SegmentId = z.object({ segmentId: z.string().min(1).max(64) });
const ContactId = z.object({ contactId: z.string().min(1).max(64) });
const Name = z.string().trim().min(1).max(200);

/** Every route of the segmenter with its permission (all workspace-scoped: a workspace API key). */
export function segmenterRoutes(deps: ServiceDeps): RouteDef[] {
  const ws = (p: { workspaceId: string } | null) => p!.workspaceId;
  return [
    route({
      method: 'post',
      path: '/events',
      summary: 'Ingest a business event or a batch of up to 1000 (202); publishes them to contact-events.v1',
      permission: 'workspace',
      body: IngestBody,
      handler: async ({ body, principal }) => {
        const events = await ingestEvents(deps.publisher, deps.clock, ws(principal), body);
        return reply(202, { accepted: events.length, ids: events.map((e) => e.id) });
      },
    }),
    route({
      method: 'get',
      path: '/segments',
      summary: "List the workspace's segments",
      permission: 'workspace',
      handler: async ({ principal }) => ({ segments: await listSegments(deps, ws(principal)) }),
    }),
    route({
      method: 'post',
      path: '/segments',
      summary: 'Create a segment from a rule (400 on a bad rule, unknown segment or cycle); starts a recompute',
      permission: 'workspace',
      body: z.strictObject({ name: Name, description: z.string().max(2000).optional(), rule: RuleInput }),
      handler: async ({ body, principal }) => reply(201, await createSegment(deps, ws(principal), body)),
    }),
    route({
      method: 'get',
      path: '/templates',
      summary: 'List the built-in segment templates',
      permission: 'workspace',
      handler: () => ({ templates: TEMPLATES }),
    }),
    route({
      method: 'post',
      path: '/segments/from-template',
      summary: 'Create a segment from a built-in template (400 if unknown); starts a recompute',
      permission: 'workspace',
      body: z.strictObject({ template: z.string().min(1).max(100), name: Name.optional() }),
      handler: async ({ body, principal }) => reply(201, await createFromTemplate(deps, ws(principal), body.template, body.name)),
    }),
    route({
      method: 'post',
      path: '/segments/preview',
      summary: 'Count the contacts a draft rule matches, with a sample of ids (nothing is saved)',
      permission: 'workspace',
      body: z.strictObject({ rule: RuleInput, sampleSize: z.number().int().min(0).max(100).default(10) }),
      handler: async ({ body, principal }) => previewRule(deps, ws(principal), body.rule, body.sampleSize),
    }),
    route({
      method: 'get',
      path: '/segments/:segmentId',
      summary: 'Get a segment',
      permission: 'workspace',
      params: SegmentId,
      handler: async ({ params, principal }) => getSegment(deps, ws(principal), params.segmentId),
    }),
    route({
      method: 'patch',
      path: '/segments/:segmentId',
      summary: 'Update a segment (409 on a concurrent change); a changed rule starts a recompute of it and its dependents',
      permission: 'workspace',
      params: SegmentId,
      body: z.strictObject({ name: Name.optional(), description: z.string().max(2000).optional(), rule: RuleInput.optional() }),
      handler: async ({ params, body, principal }) => updateSegment(deps, ws(principal), params.segmentId, body),
    }),
    route({
      method: 'delete',
      path: '/segments/:segmentId',
      summary: 'Delete a segment (409 if others refer to it); starts a recompute that exits every member',
      permission: 'workspace',
      params: SegmentId,
      handler: async ({ params, principal }) => {
        await deleteSegment(deps, ws(principal), params.segmentId);
      },
    }),
    route({
      method: 'get',
      path: '/segments/:segmentId/members',
      summary: "List a segment's member contact ids by cursor",
      permission: 'workspace',
      params: SegmentId,
      query: z.object({ cursor: z.string().max(64).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      handler: async ({ params, query, principal }) => listMembers(deps, ws(principal), params.segmentId, query.cursor, query.limit),
    }),
    route({
      method: 'get',
      path: '/contacts/:contactId/segments',
      summary: 'List the segments a contact is in (404 if the segmenter has no profile for it)',
      permission: 'workspace',
      params: ContactId,
      handler: async ({ params, principal }) => contactSegments(deps, ws(principal), params.contactId),
    }),
    route({
      method: 'get',
      path: '/contacts/:contactId/profile',
      summary: "Get a contact's profile with derived figures: lifecycle stage, loyalty tier and points, RFM",
      permission: 'workspace',
      params: ContactId,
      handler: async ({ params, principal }) => contactProfile(deps, ws(principal), params.contactId),
    }),
    route({
      method: 'get',
      path: '/models/settings',
      summary: "Get the workspace's model settings (lifecycle, loyalty, RFM) and top-spend thresholds",
      permission: 'workspace',
      handler: async ({ principal }) => {
        const d = await deps.workspaces.findById(ws(principal)).lean();
        return { settings: ModelSettings.parse(d?.settings ?? {}), topThresholds: d?.topThresholds ?? {}, statsAt: d?.statsAt ?? null };
      },
    }),
    route({
      method: 'put',
      path: '/models/settings',
      summary: 'Replace the model settings (lifecycle, loyalty, RFM); starts a recompute of every segment',
      permission: 'workspace',
      body: ModelSettings,
      handler: async ({ body, principal }) => {
        const now = new Date(deps.clock.now());
        await deps.workspaces.updateOne(
          { _id: ws(principal) },
          { $set: { settings: body, updatedAt: now }, $setOnInsert: { topThresholds: {}, statsAt: null } },
          { upsert: true },
        );
        // Figures changed meaning: re-evaluate every segment of the workspace.
        const job = await startRecompute(deps, ws(principal), null);
        return { settings: body, recomputeJobId: job._id };
      },
    }),
    route({
      method: 'post',
      path: '/recompute',
      summary: 'Recompute every segment of the workspace in the background (202 with the job id)',
      permission: 'workspace',
      handler: async ({ principal }) => {
        const job = await startRecompute(deps, ws(principal), null);
        return reply(202, { jobId: job._id, status: job.status, total: job.total });
      },
    }),
    route({
      method: 'get',
      path: '/recompute/:jobId',
      summary: "Get a recompute job's status and progress",
      permission: 'workspace',
      params: z.object({ jobId: z.string().min(1).max(64) }),
      handler: async ({ params, principal }) => {
        const job = await deps.jobs.findOne({ _id: params.jobId, workspaceId: ws(principal) }).lean();
        if (!job) throw new NotFoundError('recompute job', params.jobId);
        return {
          jobId: job._id,
          status: job.status,
          processed: job.processed,
          total: job.total,
          changes: job.changes,
          error: job.error,
          startedAt: job.startedAt,
          begunAt: job.begunAt ?? null,
          finishedAt: job.finishedAt,
        };
      },
    }),
  ];
}
