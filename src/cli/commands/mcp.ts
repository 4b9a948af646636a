import { mcpScope } from '../../core/agents/agent-scope.js';
import { out } from '../output/print.js';

interface Options {
  project?: string;
  allProjects?: boolean;
  allowDestroy?: boolean;
  printConfig?: boolean;
}

/** The lines that register this server with Claude Code, Cursor and any client reading `.mcp.json`. */
function printConfig(args: string[]): void {
  const entry = { mcpServers: { cilo: { command: 'cilo', args } } };
  out('# Claude Code (add --scope project to share it through .mcp.json):');
  out(`claude mcp add cilo -- cilo ${args.join(' ')}`);
  out('');
  out('# Cursor: .cursor/mcp.json in the project (or ~/.cursor/mcp.json):');
  out(JSON.stringify(entry, null, 2));
  out('');
  out('# Any client that reads .mcp.json (project root):');
  out(JSON.stringify({ mcpServers: { cilo: { type: 'stdio', command: 'cilo', args } } }, null, 2));
}

export default async function mcp(opts: Options): Promise<void> {
  const scope = await mcpScope({ project: opts.project, allProjects: opts.allProjects === true, cwd: process.cwd() });
  if (opts.printConfig) {
    // A client may start the server in another directory: name the project explicitly.
    const args = ['mcp', ...(scope.allProjects ? ['--all-projects'] : ['--project', scope.project ?? '']), ...(opts.allowDestroy ? ['--allow-destroy'] : [])];
    printConfig(args);
    return;
  }
  const { serveStdio } = await import('../mcp/server.js');
  await serveStdio({ ...scope, allowDestroy: opts.allowDestroy === true, cwd: process.cwd() });
}
