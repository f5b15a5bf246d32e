import type { SenderDeps } from './app';
import { ImportService } from './contacts/import';
import { ContactService } from './contacts/service';
import { ListService } from './lists/service';
import { SuppressionService } from './suppression/service';
import { TemplateService } from './templates/service';
import { WorkspaceService } from './workspaces/service';
import { CampaignService } from './campaigns/service';
import { createCampaignDriver } from './campaigns/components';
import type { CampaignDriver } from './campaigns/driver';
import { ExperimentService } from './experiments/service';

/** The deps plus the domain services built from them once; routes and components share it. */
export interface SenderContext extends SenderDeps {
  workspaces: WorkspaceService;
  contacts: ContactService;
  imports: ImportService;
  lists: ListService;
  templates: TemplateService;
  suppressions: SuppressionService;
  // --- campaigns & delivery (part B): services ---
  campaigns: CampaignService;
  campaignDriver: CampaignDriver;
  experiments: ExperimentService;
}

export function createSenderContext(deps: SenderDeps): SenderContext {
  const contacts = new ContactService(deps.conn, deps.publisher, deps.logger);
  return {
    ...deps,
    workspaces: new WorkspaceService(deps.conn, deps.publisher, deps.logger),
    contacts,
    imports: new ImportService(contacts, deps.logger, deps.config.IMPORT_MAX_BYTES),
    lists: new ListService(deps.conn, contacts),
    templates: new TemplateService(deps.conn, contacts),
    suppressions: new SuppressionService(deps.conn),
    // --- campaigns & delivery (part B): services ---
    ...campaignServices(deps),
  };
}

function campaignServices(deps: SenderDeps): Pick<SenderContext, 'campaigns' | 'campaignDriver' | 'experiments'> {
  let driver: CampaignDriver | null = null;
  // A start or resume kicks the driver so the work begins at once rather than at the next tick.
  const campaigns = new CampaignService(deps.conn, () => driver?.kick());
  const experiments = new ExperimentService(deps.conn, deps.publisher, deps.logger.child({ component: 'experiments' }), () => driver?.kick());
  driver = createCampaignDriver(deps as SenderContext, campaigns, experiments);
  return { campaigns, campaignDriver: driver, experiments };
}
