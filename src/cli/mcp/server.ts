/**
 * `cilo mcp`: a stdio MCP server (the official SDK) whose tools are cilo's use-cases, scoped to
 * one project unless --all-projects. Loaded only by `cilo mcp`, so other commands never pay for
 * the SDK and zod.
 *
 * stdout carries JSON-RPC and nothing else: the transport gets its own handle on stdout, and
 * anything else that writes there (a stray log) is sent to stderr. Core's progress goes into
 * MCP progress notifications when the client asked for them (a progressToken), else to stderr.
 * A failure is a tool result with isError and cilo's JSON failure document, never a crash.
 */
import { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { captureLogs, execCaptured } from '../../core/agents/agent-ops.js';
import type { CoreContext } from '../../core/context.js';
import { destroyLocked } from '../../core/environments/destroy.js';
import { downEnvironment } from '../../core/environments/down.js';
import { listEnvironments } from '../../core/environments/list.js';
import { findEnvironment } from '../../core/environments/find.js';
import { environmentManifest, manifestOfEnvironment } from '../../core/agents/manifest.js';
import { upEnvironment } from '../../core/environments/up.js';
import { defaultContext } from '../../default-context.js';
import { CiloError } from '../../errors.js';
import { describeFailure, errorDocument } from '../output/print.js';

declare const __CILO_VERSION__: string;
const VERSION: string = typeof __CILO_VERSION__ === 'string' ? __CILO_VERSION__ : '0.0.0-dev';

export interface McpOptions {
  /** Only this project's environments; undefined with allProjects. */
  project: string | undefined;
  allProjects: boolean;
  allowDestroy: boolean;
  /** Where new environments are copied from unless a call names `from`. */
  cwd: string;
}

const LOG_TAIL_DEFAULT = 200;
const MAX_BYTES_DEFAULT = 64 * 1024;
const MAX_BYTES_LIMIT = 1024 * 1024;

type Extra = { _meta?: { progressToken?: string | number } | undefined; sendNotification: (n: { method: 'notifications/progress'; params: { progressToken: string | number; progress: number; message?: string } }) => Promise<void> };

/** A core context whose progress goes to the caller's progress notifications, else to stderr. */
function contextFor(extra: Extra): CoreContext {
  const token = extra._meta?.progressToken;
  let step = 0;
  const report = (line: string): void => {
    if (token === undefined) {
      process.stderr.write(`${line}\n`);
      return;
    }
    step += 1;
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, message: line } }).catch(() => undefined);
  };
  return defaultContext({ log: report, warn: (line) => report(`warning: ${line}`) });
}

function success(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

function failure(e: unknown): CallToolResult {
  const doc = errorDocument(describeFailure(e));
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(doc, null, 2) }] };
}

/** Runs a tool's work; any failure becomes a tool error with cilo's sentence and hint. */
function tool<A>(work: (args: A, ctx: CoreContext) => Promise<Record<string, unknown>>) {
  return async (args: A, extra: Extra): Promise<CallToolResult> => {
    try {
      return success(await work(args, contextFor(extra)));
    } catch (e) {
      return failure(e);
    }
  };
}

const env = z.string().min(1).max(63).describe('environment name, e.g. "agent-1"');
const maxBytes = z.number().int().min(1024).max(MAX_BYTES_LIMIT).optional().describe(`keep at most this many bytes of output, the end (default ${MAX_BYTES_DEFAULT})`);

export function buildServer(opts: McpOptions): McpServer {
  const server = new McpServer({ name: 'cilo', version: VERSION });
  const scope = opts.allProjects ? 'every project' : `project "${opts.project}"`;
  const project = opts.allProjects ? undefined : opts.project;

  server.registerTool(
    'list_environments',
    { description: `List the environments of ${scope}: name, status, subnet, workspace, URL and services with live state.`, inputSchema: {}, annotations: { readOnlyHint: true } },
    tool(async (_args: Record<string, never>, ctx) => ({ environments: await listEnvironments(ctx, project === undefined ? { all: true } : { project }) })),
  );

  server.registerTool(
    'up',
    {
      description: `Create (if needed) and start an environment of ${scope}, wait until its services are ready, and return its manifest (cilo.manifest/1: URLs, IPs, DNS, what each service was given, timings). Reports progress when the call carries a progressToken.`,
      inputSchema: {
        env,
        auto_name: z.boolean().optional().describe('treat env as a prefix: create the first free <env>-N'),
        from: z.string().optional().describe(`project directory to copy when the environment is created (default: ${opts.cwd})`),
        shared: z.array(z.string()).optional().describe('services to share between environments'),
        isolate: z.array(z.string()).optional().describe('services to keep isolated even if labelled shared'),
        build: z.boolean().optional(),
        recreate: z.boolean().optional(),
        timeout_seconds: z.number().int().min(1).max(3600).optional().describe('how long to wait for the services (default 180)'),
        show_secrets: z.boolean().optional().describe('show passwords and tokens in the manifest instead of "***"'),
      },
    },
    tool(async (a: { env: string; auto_name?: boolean | undefined; from?: string | undefined; shared?: string[] | undefined; isolate?: string[] | undefined; build?: boolean | undefined; recreate?: boolean | undefined; timeout_seconds?: number | undefined; show_secrets?: boolean | undefined }, ctx) => {
      const r = await upEnvironment(ctx, {
        env: a.env,
        autoName: a.auto_name,
        from: a.from ?? opts.cwd,
        project,
        shared: a.shared,
        isolate: a.isolate,
        build: a.build,
        recreate: a.recreate,
        timeoutSeconds: a.timeout_seconds,
      });
      return { ...(await manifestOfEnvironment(ctx, r.env, { timings: r.timings, showSecrets: a.show_secrets })) };
    }),
  );

  server.registerTool(
    'status',
    { description: 'The manifest (cilo.manifest/1) of an environment with live container states.', inputSchema: { env, show_secrets: z.boolean().optional() }, annotations: { readOnlyHint: true } },
    tool(async (a: { env: string; show_secrets?: boolean | undefined }, ctx) => ({ ...(await environmentManifest(ctx, { env: a.env, project, showSecrets: a.show_secrets })) })),
  );

  server.registerTool(
    'urls',
    { description: "An environment's URLs: its base URL and each service's URL by DNS name and by IP (the IP works without any resolver set up).", inputSchema: { env }, annotations: { readOnlyHint: true } },
    tool(async (a: { env: string }, ctx) => {
      const m = await environmentManifest(ctx, { env: a.env, project });
      return { env: m.env, base_url: m.base_url, url: m.url, system_resolver: m.dns.system_resolver, services: m.services.map((s) => ({ name: s.name, url: s.url, ip_url: s.ip_url, state: s.state })) };
    }),
  );

  server.registerTool(
    'logs',
    {
      description: "The last log lines of an environment's services (or one service), capped in size (the end is kept).",
      inputSchema: { env, service: z.string().min(1).optional(), tail: z.number().int().min(1).max(10000).optional().describe(`lines per container (default ${LOG_TAIL_DEFAULT})`), max_bytes: maxBytes },
      annotations: { readOnlyHint: true },
    },
    tool(async (a: { env: string; service?: string | undefined; tail?: number | undefined; max_bytes?: number | undefined }, ctx) => ({
      ...(await captureLogs(ctx, { env: a.env, project, service: a.service, tail: a.tail ?? LOG_TAIL_DEFAULT, maxBytes: a.max_bytes ?? MAX_BYTES_DEFAULT, timeoutMs: 30_000 })),
    })),
  );

  server.registerTool(
    'exec',
    {
      description: 'Run a program in a service container (argv array, no shell unless you run one) and return its exit code and output (capped, the end kept). Killed after the timeout.',
      inputSchema: {
        env,
        service: z.string().min(1),
        argv: z.array(z.string()).min(1).describe('program and arguments, e.g. ["sh", "-c", "ls /"]'),
        timeout_seconds: z.number().int().min(1).max(3600).optional().describe('default 60'),
        max_bytes: maxBytes,
      },
    },
    tool(async (a: { env: string; service: string; argv: string[]; timeout_seconds?: number | undefined; max_bytes?: number | undefined }, ctx) => ({
      ...(await execCaptured(ctx, { env: a.env, project, service: a.service, argv: a.argv, timeoutMs: (a.timeout_seconds ?? 60) * 1000, maxBytes: a.max_bytes ?? MAX_BYTES_DEFAULT })),
    })),
  );

  server.registerTool(
    'down',
    {
      description: 'Stop an environment and keep everything (the next up is a quick start); pause: true freezes it in memory instead.',
      inputSchema: { env, pause: z.boolean().optional() },
    },
    tool(async (a: { env: string; pause?: boolean | undefined }, ctx) => {
      const r = await downEnvironment(ctx, { env: a.env, project, pause: a.pause });
      return { env: r.name, status: r.status };
    }),
  );

  if (opts.allowDestroy) {
    server.registerTool(
      'destroy',
      {
        description: 'Remove an environment for good: containers, volumes, network, DNS names, workspace (uncommitted work in it is lost) and its private datasets in shared engines (dropped); shared services are released, not removed. confirm must repeat the environment name.',
        inputSchema: { env, confirm: z.string().describe('the environment name again') },
        annotations: { destructiveHint: true },
      },
      tool(async (a: { env: string; confirm: string }, ctx) => {
        if (a.confirm !== a.env) {
          throw new CiloError('NOT_CONFIRMED', `Nothing was destroyed: confirm ("${a.confirm}") does not repeat the environment name "${a.env}".`, { hint: `Call destroy again with confirm: "${a.env}".` });
        }
        // Refused when it belongs to another project than the server's.
        const rec = findEnvironment(a.env, project, ctx.paths);
        await destroyLocked(ctx, rec);
        return { env: rec.name, destroyed: true };
      }),
    );
  }
  return server;
}

/**
 * Serves on stdin/stdout until the client closes stdin. The transport writes through its own
 * handle on stdout; everything else that writes to process.stdout goes to stderr instead.
 */
export async function serveStdio(opts: McpOptions): Promise<void> {
  const rawWrite = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, cb?: (err?: Error | null) => void) => boolean;
  const protocolOut = new Writable({
    write(chunk: Buffer, _enc, cb) {
      rawWrite(chunk, cb);
    },
  });
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => process.stderr.write(chunk, ...(rest as []))) as typeof process.stdout.write;
  const server = buildServer(opts);
  const transport = new StdioServerTransport(process.stdin, protocolOut);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  process.stderr.write(`cilo mcp: serving ${opts.allProjects ? 'every project' : `project ${opts.project}`} on stdio${opts.allowDestroy ? ' (destroy allowed)' : ''}\n`);
  await closed;
  await server.close().catch(() => undefined);
}
