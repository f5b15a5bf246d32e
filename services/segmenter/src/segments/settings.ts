import { Schema, type Connection, type Model } from 'mongoose';
import { DEFAULT_SETTINGS, ModelSettings } from '../rules/figures';

/** Per-workspace model settings (tuning of the built-in models) and statistics. */
export interface WorkspaceDoc {
  _id: string;
  settings: unknown;
  /** "top N%" lifetime-spend thresholds by percent, refreshed by full recompute. */
  topThresholds: Record<string, number>;
  statsAt: Date | null;
  updatedAt: Date;
}

export type WorkspaceModel = Model<WorkspaceDoc>;

const workspaceSchema = new Schema<WorkspaceDoc>(
  {
    _id: { type: String, required: true },
    settings: { type: Schema.Types.Mixed, default: {} },
    topThresholds: { type: Schema.Types.Mixed, default: {} },
    statsAt: { type: Date, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'workspaces', versionKey: false, timestamps: false, minimize: false },
);

export function workspaceModel(conn: Connection): WorkspaceModel {
  return (conn.models.SegWorkspace as WorkspaceModel | undefined) ?? conn.model<WorkspaceDoc>('SegWorkspace', workspaceSchema);
}

export interface WorkspaceState {
  settings: ModelSettings;
  topThresholds: Record<string, number>;
}

const parsedSettings = new Map<string, { raw: string; settings: ModelSettings }>();

function settingsOf(ws: string, raw: unknown): ModelSettings {
  const key = JSON.stringify(raw ?? {});
  const hit = parsedSettings.get(ws);
  // The same object while unchanged keeps figureRules' cache warm.
  if (hit && hit.raw === key) return hit.settings;
  const settings = ModelSettings.parse(raw ?? {});
  parsedSettings.set(ws, { raw: key, settings });
  return settings;
}

export async function loadWorkspaceStates(model: WorkspaceModel, ids: string[]): Promise<Map<string, WorkspaceState>> {
  const docs = ids.length === 0 ? [] : await model.find(ids.length === 1 ? { _id: ids[0] } : { _id: { $in: ids } }).lean();
  const out = new Map<string, WorkspaceState>();
  for (const id of ids) out.set(id, { settings: DEFAULT_SETTINGS, topThresholds: {} });
  for (const d of docs) out.set(d._id, { settings: settingsOf(d._id, d.settings), topThresholds: d.topThresholds ?? {} });
  return out;
}
