import type { Connection } from 'mongoose';
import { ConflictError, InvalidInputError, NotFoundError } from '@payam/errors';
import { findOwned } from '@payam/mongo';
import { campaignModel, type CampaignState } from '../campaigns/model';
import type { ContactDoc } from '../contacts/model';
import type { ContactService } from '../contacts/service';
import { newId } from '../ids';
import { mapPage, pageById, type Page, type PageQuery } from '../paging';
import {
  layoutModel,
  partialModel,
  templateModel,
  type LayoutDoc,
  type LayoutModel,
  type PartialDoc,
  type PartialModel,
  type TemplateDoc,
  type TemplateModel,
} from './model';
import { partialsUsedBy, renderMessage, templateSourceProblem, templateVariables, type RenderableTemplate, type RenderedMessage, type TemplateProblem } from './render';
import type { LayoutCreate, LayoutPatch, PreviewRequest, TemplateCreate, TemplatePatch } from './schemas';

/** Campaign states from which a campaign may still render its template. */
const CAMPAIGN_STATES_THAT_SEND: CampaignState[] = ['draft', 'scheduled', 'running', 'paused'];

/** The stored template as the API shows it: its id named, dates as ISO text. */
export type TemplateView = Pick<TemplateDoc, 'name' | 'subject' | 'preheader' | 'html' | 'text' | 'layoutId' | 'version'> & {
  templateId: string;
  createdAt: string;
  updatedAt: string;
};

export interface LayoutView {
  layoutId: string;
  name: string;
  html: string;
  text: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface PartialView {
  name: string;
  content: string;
  version: number;
  updatedAt: string;
}

export function templateView(d: TemplateDoc): TemplateView {
  return {
    templateId: d._id,
    name: d.name,
    subject: d.subject,
    preheader: d.preheader,
    html: d.html,
    text: d.text,
    layoutId: d.layoutId,
    version: d.version,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

function layoutView(d: LayoutDoc): LayoutView {
  return { layoutId: d._id, name: d.name, html: d.html, text: d.text, version: d.version, createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString() };
}

function partialView(d: PartialDoc): PartialView {
  return { name: d.name, content: d.content, version: d.version, updatedAt: d.updatedAt.toISOString() };
}

/** What a template sees of a contact: its attributes at the top level, plus email and contact_id. */
export function contactTemplateData(contact: Pick<ContactDoc, '_id' | 'email' | 'attributes'>): Record<string, unknown> {
  return { ...(contact.attributes ?? {}), email: contact.email, contact_id: contact._id };
}

const BODY_SLOT = /\{\{\{\s*body\s*\}\}\}/;

function sourceProblems(parts: Record<string, string | null | undefined>, prefix = 'body'): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  for (const [name, source] of Object.entries(parts)) {
    if (source === undefined || source === null) continue;
    const p = templateSourceProblem(source, `${prefix}.${name}`);
    if (p) problems.push(p);
  }
  return problems;
}

export class TemplateService {
  readonly templates: TemplateModel;
  readonly layouts: LayoutModel;
  readonly partials: PartialModel;

  constructor(
    private readonly conn: Connection,
    private readonly contacts: ContactService,
  ) {
    this.templates = templateModel(conn);
    this.layouts = layoutModel(conn);
    this.partials = partialModel(conn);
  }

  // --- templates ---

  async create(workspaceId: string, input: TemplateCreate): Promise<TemplateView> {
    await this.check(workspaceId, input);
    const now = new Date();
    const doc = await this.templates.create({ _id: newId('tpl'), workspaceId, ...input, version: 1, createdAt: now, updatedAt: now });
    return templateView(doc.toObject());
  }

  async list(workspaceId: string, q: PageQuery): Promise<Page<TemplateView>> {
    return mapPage(await pageById(this.templates, { workspaceId }, q, 1), templateView);
  }

  async get(workspaceId: string, templateId: string): Promise<TemplateDoc> {
    const doc = await findOwned<TemplateDoc>(this.templates, workspaceId, templateId);
    if (!doc) throw new NotFoundError('template', templateId);
    return doc;
  }

  async update(workspaceId: string, templateId: string, patch: TemplatePatch): Promise<TemplateView> {
    const current = await this.get(workspaceId, templateId);
    await this.check(workspaceId, patch);
    const doc = await this.templates
      .findOneAndUpdate(
        { _id: templateId, workspaceId, version: current.version },
        { $set: { ...patch, updatedAt: new Date() }, $inc: { version: 1 } },
        { new: true },
      )
      .lean();
    if (!doc) throw new ConflictError('the template changed concurrently; retry');
    return templateView(doc);
  }

  /**
   * Refused (409) while a campaign that can still send uses the template: campaigns render it at
   * send time, so a scheduled or paused one would start, or resume, into failed sends. Finished
   * and cancelled campaigns keep only its id.
   */
  async delete(workspaceId: string, templateId: string): Promise<void> {
    const user = await campaignModel(this.conn)
      .findOne({ workspaceId, templateId, state: { $in: CAMPAIGN_STATES_THAT_SEND } }, { _id: 1, state: 1 })
      .lean();
    if (user) throw new ConflictError(`the template is used by a ${user.state} campaign`, { campaignId: user._id, state: user.state });
    const res = await this.templates.deleteOne({ _id: templateId, workspaceId });
    if (res.deletedCount === 0) throw new NotFoundError('template', templateId);
  }

  /** The template with its layout and the workspace's partials: what renderMessage takes (campaigns may store it). */
  async loadRenderable(workspaceId: string, templateId: string): Promise<RenderableTemplate> {
    return this.renderable(await this.get(workspaceId, templateId));
  }

  async renderable(t: TemplateDoc): Promise<RenderableTemplate> {
    const [layout, partials] = await Promise.all([
      t.layoutId ? findOwned<LayoutDoc>(this.layouts, t.workspaceId, t.layoutId) : Promise.resolve(null),
      this.partials.find({ workspaceId: t.workspaceId }).limit(1000).lean(),
    ]);
    return {
      id: t._id,
      version: t.version,
      subject: t.subject,
      preheader: t.preheader,
      html: t.html,
      text: t.text,
      layout: layout ? { id: layout._id, version: layout.version, html: layout.html, text: layout.text } : null,
      partials: Object.fromEntries(partials.map((p) => [p.name, { version: p.version, content: p.content }])),
    };
  }

  async preview(workspaceId: string, templateId: string, req: PreviewRequest): Promise<RenderedMessage & { variables: string[] }> {
    const template = await this.loadRenderable(workspaceId, templateId);
    const data = req.contactId ? contactTemplateData(await this.contacts.get(workspaceId, req.contactId)) : (req.data ?? {});
    return { ...renderMessage(template, data), variables: templateVariables(template) };
  }

  private async check(workspaceId: string, input: Partial<TemplateCreate>): Promise<void> {
    const problems = sourceProblems({ subject: input.subject, preheader: input.preheader, html: input.html, text: input.text });
    if (input.layoutId) {
      const layout = await this.layouts.exists({ _id: input.layoutId, workspaceId });
      if (!layout) problems.push({ path: 'body.layoutId', message: `no layout ${input.layoutId} in this workspace`, line: 0, column: 0 });
    }
    if (problems.length > 0) throw new InvalidInputError(problems);
  }

  // --- layouts ---

  async createLayout(workspaceId: string, input: LayoutCreate): Promise<LayoutView> {
    this.checkLayout(input);
    const now = new Date();
    const doc = await this.layouts.create({ _id: newId('lay'), workspaceId, ...input, version: 1, createdAt: now, updatedAt: now });
    return layoutView(doc.toObject());
  }

  async listLayouts(workspaceId: string, q: PageQuery): Promise<Page<LayoutView>> {
    return mapPage(await pageById(this.layouts, { workspaceId }, q, 1), layoutView);
  }

  async getLayout(workspaceId: string, layoutId: string): Promise<LayoutView> {
    const doc = await findOwned<LayoutDoc>(this.layouts, workspaceId, layoutId);
    if (!doc) throw new NotFoundError('layout', layoutId);
    return layoutView(doc);
  }

  async updateLayout(workspaceId: string, layoutId: string, patch: LayoutPatch): Promise<LayoutView> {
    await this.getLayout(workspaceId, layoutId);
    this.checkLayout(patch);
    const doc = await this.layouts
      .findOneAndUpdate({ _id: layoutId, workspaceId }, { $set: { ...patch, updatedAt: new Date() }, $inc: { version: 1 } }, { new: true })
      .lean();
    if (!doc) throw new NotFoundError('layout', layoutId);
    return layoutView(doc);
  }

  async deleteLayout(workspaceId: string, layoutId: string): Promise<void> {
    await this.getLayout(workspaceId, layoutId);
    const user = await this.templates.findOne({ workspaceId, layoutId }, { _id: 1 }).lean();
    if (user) throw new ConflictError('the layout is used by a template', { templateId: user._id });
    await this.layouts.deleteOne({ _id: layoutId, workspaceId });
  }

  private checkLayout(input: Partial<LayoutCreate>): void {
    const problems: Array<{ path: string; message: string }> = sourceProblems({ html: input.html, text: input.text });
    if (input.html !== undefined && !problems.some((p) => p.path === 'body.html') && !BODY_SLOT.test(input.html)) {
      problems.push({ path: 'body.html', message: 'a layout must contain {{{body}}} where the template goes' });
    }
    if (problems.length > 0) throw new InvalidInputError(problems);
  }

  // --- partials ---

  async putPartial(workspaceId: string, name: string, content: string): Promise<{ partial: PartialView; created: boolean }> {
    const problem = templateSourceProblem(content, 'body.content');
    if (problem) throw new InvalidInputError([problem]);
    const now = new Date();
    const before = await this.partials
      .findOneAndUpdate(
        { _id: `${workspaceId}:${name}` },
        { $set: { content, updatedAt: now }, $inc: { version: 1 }, $setOnInsert: { workspaceId, name, createdAt: now } },
        { upsert: true, new: false },
      )
      .lean();
    return { partial: await this.getPartial(workspaceId, name), created: before === null };
  }

  /** By name: a partial's id is "<workspaceId>:<name>", so id order within a workspace is name order. */
  async listPartials(workspaceId: string, q: PageQuery): Promise<Page<PartialView>> {
    return mapPage(await pageById(this.partials, { workspaceId }, q, 1), partialView);
  }

  async getPartial(workspaceId: string, name: string): Promise<PartialView> {
    const doc = await this.partials.findOne({ _id: `${workspaceId}:${name}` }).lean();
    if (!doc) throw new NotFoundError('partial', name);
    return partialView(doc);
  }

  /** Refused (409) while a template, a layout or another partial of the workspace includes it by name. */
  async deletePartial(workspaceId: string, name: string): Promise<void> {
    await this.getPartial(workspaceId, name);
    const [templates, layouts, partials] = await Promise.all([
      this.templates.find({ workspaceId }, { subject: 1, preheader: 1, html: 1, text: 1 }).lean(),
      this.layouts.find({ workspaceId }, { html: 1, text: 1 }).lean(),
      this.partials.find({ workspaceId }, { name: 1, content: 1 }).lean(),
    ]);
    const uses = (...sources: Array<string | null | undefined>) => sources.some((src) => src && partialsUsedBy(src).includes(name));
    const template = templates.find((t) => uses(t.subject, t.preheader, t.html, t.text));
    if (template) throw new ConflictError('the partial is used by a template', { templateId: template._id });
    const layout = layouts.find((l) => uses(l.html, l.text));
    if (layout) throw new ConflictError('the partial is used by a layout', { layoutId: layout._id });
    const partial = partials.find((p) => p.name !== name && uses(p.content));
    if (partial) throw new ConflictError('the partial is used by another partial', { partial: partial.name });
    const res = await this.partials.deleteOne({ _id: `${workspaceId}:${name}` });
    if (res.deletedCount === 0) throw new NotFoundError('partial', name);
  }
}
