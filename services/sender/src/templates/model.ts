import { Schema, type Connection, type Model } from 'mongoose';

export interface TemplateDoc {
  _id: string;
  workspaceId: string;
  name: string;
  subject: string;
  preheader: string;
  html: string;
  /** null: derived from the rendered HTML. */
  text: string | null;
  layoutId: string | null;
  /** Grows with every change; part of the compiled-template cache key. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A layout wraps a template's HTML: it must contain `{{{body}}}`. */
export interface LayoutDoc {
  _id: string;
  workspaceId: string;
  name: string;
  html: string;
  /** Optional text wrapper with `{{body}}`; null: the text part is not wrapped. */
  text: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A named partial (`{{> footer}}`), per workspace. */
export interface PartialDoc {
  /** `<workspaceId>:<name>` */
  _id: string;
  workspaceId: string;
  name: string;
  content: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type TemplateModel = Model<TemplateDoc>;
export type LayoutModel = Model<LayoutDoc>;
export type PartialModel = Model<PartialDoc>;

const common = { versionKey: false as const, timestamps: false, minimize: false };

const templateSchema = new Schema<TemplateDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    subject: { type: String, required: true },
    preheader: { type: String, default: '' },
    html: { type: String, required: true },
    text: { type: String, default: null },
    layoutId: { type: String, default: null },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'templates', ...common },
);
templateSchema.index({ workspaceId: 1, _id: 1 });

const layoutSchema = new Schema<LayoutDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    html: { type: String, required: true },
    text: { type: String, default: null },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'layouts', ...common },
);
layoutSchema.index({ workspaceId: 1, _id: 1 });

const partialSchema = new Schema<PartialDoc>(
  {
    _id: { type: String, required: true },
    workspaceId: { type: String, required: true },
    name: { type: String, required: true },
    content: { type: String, default: '' },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'partials', ...common },
);
partialSchema.index({ workspaceId: 1, name: 1 }, { unique: true });

export function templateModel(conn: Connection): TemplateModel {
  return (conn.models.Template as TemplateModel | undefined) ?? conn.model<TemplateDoc>('Template', templateSchema);
}

export function layoutModel(conn: Connection): LayoutModel {
  return (conn.models.Layout as LayoutModel | undefined) ?? conn.model<LayoutDoc>('Layout', layoutSchema);
}

export function partialModel(conn: Connection): PartialModel {
  return (conn.models.Partial as PartialModel | undefined) ?? conn.model<PartialDoc>('Partial', partialSchema);
}
