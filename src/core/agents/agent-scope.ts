import { toValidName } from '../../domain/names.js';
import { CiloError } from '../../errors.js';
import { cwdProject } from '../environments/list.js';

export interface AgentScope {
  project: string | undefined;
  allProjects: boolean;
}

/**
 * The project an agent-facing server works on: --project, else the current directory's (it must
 * look like a project: a compose file or .cilo/config.yml), unless --all-projects.
 */
export async function mcpScope(input: { project?: string | undefined; allProjects: boolean; cwd: string }): Promise<AgentScope> {
  if (input.allProjects) {
    if (input.project !== undefined) throw new CiloError('USAGE', 'Pass either --project or --all-projects, not both.', { exitCode: 2 });
    return { project: undefined, allProjects: true };
  }
  if (input.project !== undefined) return { project: toValidName(input.project, 'project'), allProjects: false };
  const project = await cwdProject(input.cwd);
  if (project === undefined) {
    throw new CiloError('PROJECT_NOT_FOUND', `${input.cwd} is not a compose project (no compose file, no .cilo/config.yml), so cilo mcp does not know which project to serve.`, {
      hint: 'Run it in the project directory, or pass --project NAME (or --all-projects).',
      exitCode: 2,
    });
  }
  return { project, allProjects: false };
}
