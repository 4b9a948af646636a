/**
 * `cilo mcp`: a stdio MCP server (the official SDK) whose tools are cilo's use-cases, scoped to
 * one project unless --all-projects. Loaded only by `cilo mcp`, so other commands never pay for
 * the SDK and zod.
 *
 * stdout carries JSON-RPC and nothing else: the transport gets its own handle on stdout, and
 * anything else that writes there (a stray log) is sent to stderr. Core's progress goes into
 * MCP progress notifications when the client asked for them (a progressToken), else to stderr.
 * A failure is a tool result with isError and cilo's JSON failure document, never a crash:
 * arguments too. The SDK's McpServer lists the tools (their JSON Schemas come from the zod
 * shapes below), but it answers a call whose arguments fail its own check with bare text
 * ("MCP error -32602: Input validation error: ..."), so cilo answers tools/call itself: it
 * checks the arguments against the same shapes and turns a bad one into a USAGE document that
 * names it (see invalidArguments).
 */
import { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, type CallToolResult, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { captureLogs, execCaptured } from '../../core/agents/agent-ops.js';
import type { CoreContext } from '../../core/context.js';
import { destroyLocked } from '../../core/environments/destroy.js';
import { downEnvironment } from '../../core/environments/down.js';
import { listEnvironments } from '../../core/environments/list.js';
import { findEnvironment } from '../../core/environments/find.js';
import { environmentManifest, manifestOfEnvironment } from '../../core/agents/manifest.js';
import { upEnvironment } from '../../core/environments/up.js';
import { noteUse } from '../../core/environments/idle.js';
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

/** A tool as cilo answers a call of it: its arguments checked, then its work. */
type ToolCall = (args: Record<string, unknown>, extra: Extra) => Promise<CallToolResult>;

/** `argv[0]`, `env`: where in the arguments an issue is. */
function argumentPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/**
 * Arguments a tool's shape refuses, as cilo's USAGE failure: one sentence naming the first bad
 * argument (and the others, if any), and a hint that says what the argument takes.
 */
export function invalidArguments(tool: string, shape: z.ZodRawShape, error: z.ZodError, args: Record<string, unknown>): CiloError {
  const issues = error.issues;
  const first = issues[0];
  const names = (i: z.core.$ZodIssue): string[] => (i.code === 'unrecognized_keys' ? i.keys : [argumentPath(i.path)]);
  const field = first ? String(first.path[0] ?? '') : '';
  const accepted = Object.keys(shape);
  const about = (name: string): string => {
    const schema = shape[name];
    const description = schema ? z.globalRegistry.get(schema)?.description : undefined;
    return description ? `${name}: ${description}` : `${name}: see the ${tool} tool's inputSchema (tools/list)`;
  };
  let message: string;
  let hint: string;
  if (!first) {
    message = `The arguments of the ${tool} tool are invalid.`;
    hint = `Its arguments: ${accepted.join(', ') || 'none'}.`;
  } else if (first.code === 'unrecognized_keys') {
    message = `The ${tool} tool has no argument ${first.keys.map((k) => `"${k}"`).join(', ')}.`;
    hint = accepted.length > 0 ? `Its arguments: ${accepted.join(', ')}.` : 'It takes no arguments: call it with {}.';
  } else if (first.path.length === 1 && args[field] === undefined) {
    message = `The ${tool} tool needs the argument "${field}".`;
    hint = `${about(field)}.`;
  } else {
    message = `The argument "${argumentPath(first.path)}" of the ${tool} tool is invalid: ${first.message.replace(/\.$/, '')}.`;
    hint = `${about(field)}.`;
  }
  const named = first ? names(first) : [];
  const others = [...new Set(issues.slice(1).flatMap(names))].filter((n) => !named.includes(n));
  if (others.length > 0) message += ` Also invalid: ${others.map((n) => `"${n}"`).join(', ')}.`;
  return new CiloError('USAGE', message, { hint: `${hint} Call ${tool} again with the arguments corrected.` });
}

const env = z.string().min(1).max(63).describe('environment name, e.g. "agent-1"');
const maxBytes = z.number().int().min(1024).max(MAX_BYTES_LIMIT).optional().describe(`keep at most this many bytes of output, the end (default ${MAX_BYTES_DEFAULT})`);

/** Tools whose call is no use of the environment they name (they stop or remove it, or start it anyway). */
const NOT_A_USE = new Set(['up', 'down', 'destroy']);

export function buildServer(opts: McpOptions): McpServer {
  const server = new McpServer({ name: 'cilo', version: VERSION });
  const tools = new Map<string, ToolCall>();
  /**
   * Lists the tool through the SDK and keeps it for cilo's own tools/call (below). Unknown
   * arguments are refused, as a misspelt optional one (timeout for timeout_seconds) would
   * otherwise be dropped without a word.
   */
  const define = <S extends z.ZodRawShape>(
    name: string,
    config: { description: string; inputSchema: S; annotations?: ToolAnnotations },
    work: (args: z.output<z.ZodObject<S>>, ctx: CoreContext) => Promise<Record<string, unknown>>,
  ): void => {
    const schema = z.strictObject(config.inputSchema);
    const run = async (args: z.output<z.ZodObject<S>>, extra: Extra): Promise<CallToolResult> => {
      try {
        const ctx = contextFor(extra);
        // A call about an environment is a use of it (issue #26's idle pause); exec wakes it in core.
        const named = (args as { env?: unknown }).env;
        if (typeof named === 'string' && !NOT_A_USE.has(name)) noteUse(ctx, named);
        return success(await work(args, ctx));
      } catch (e) {
        return failure(e);
      }
    };
    server.registerTool<z.ZodObject, typeof schema>(name, { description: config.description, inputSchema: schema, ...(config.annotations ? { annotations: config.annotations } : {}) }, run);
    tools.set(name, async (args, extra) => {
      const parsed = schema.safeParse(args);
      return parsed.success ? run(parsed.data, extra) : failure(invalidArguments(name, config.inputSchema, parsed.error, args));
    });
  };
  const scope = opts.allProjects ? 'every project' : `project "${opts.project}"`;
  const project = opts.allProjects ? undefined : opts.project;

  define(
    'list_environments',
    { description: `List the environments of ${scope}: name, status, subnet, workspace, URL and services with live state.`, inputSchema: {}, annotations: { readOnlyHint: true } },
    async (_args: Record<string, never>, ctx) => ({ environments: await listEnvironments(ctx, project === undefined ? { all: true } : { project }) }),
  );

  define(
    'up',
    {
      description: `Create (if needed) and start an environment of ${scope}, wait until its services are ready, and return its manifest (cilo.manifest/1: URLs, IPs, DNS, what each service was given, timings). Reports progress when the call carries a progressToken.`,
      inputSchema: {
        env,
        auto_name: z.boolean().optional().describe('treat env as a prefix: create the first free <env>-N'),
        from: z.string().optional().describe(`project directory of a new environment (default: ${opts.cwd})`),
        shared: z.array(z.string()).optional().describe('services to share between environments'),
        isolate: z.array(z.string()).optional().describe('services to keep isolated even if labelled shared'),
        build: z.boolean().optional(),
        recreate: z.boolean().optional(),
        timeout_seconds: z.number().int().min(1).max(3600).optional().describe('how long to wait for the services (default 180)'),
        show_secrets: z.boolean().optional().describe('show passwords and tokens in the manifest instead of "***"'),
        workspace: z.enum(['in-place', 'copy']).optional().describe('a new environment runs on the project directory itself (in-place: edits there are live) or on a copy; default: in place inside a linked git worktree, else a copy'),
      },
    },
    async (a: { env: string; auto_name?: boolean | undefined; workspace?: 'in-place' | 'copy' | undefined; from?: string | undefined; shared?: string[] | undefined; isolate?: string[] | undefined; build?: boolean | undefined; recreate?: boolean | undefined; timeout_seconds?: number | undefined; show_secrets?: boolean | undefined }, ctx) => {
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
        workspace: a.workspace,
      });
      return { ...(await manifestOfEnvironment(ctx, r.env, { timings: r.timings, showSecrets: a.show_secrets })) };
    },
  );

  define(
    'status',
    { description: 'The manifest (cilo.manifest/1) of an environment with live container states.', inputSchema: { env, show_secrets: z.boolean().optional() }, annotations: { readOnlyHint: true } },
    async (a: { env: string; show_secrets?: boolean | undefined }, ctx) => ({ ...(await environmentManifest(ctx, { env: a.env, project, showSecrets: a.show_secrets })) }),
  );

  define(
    'urls',
    { description: "An environment's URLs: its base URL and each service's URL by DNS name (http and https through the router in router mode) and by IP (the IP works without any resolver set up, in direct mode).", inputSchema: { env }, annotations: { readOnlyHint: true } },
    async (a: { env: string }, ctx) => {
      const m = await environmentManifest(ctx, { env: a.env, project });
      return { env: m.env, base_url: m.base_url, url: m.url, urls: m.urls, routing: m.routing, system_resolver: m.dns.system_resolver, services: m.services.map((s) => ({ name: s.name, url: s.url, urls: s.urls, ip_url: s.ip_url, state: s.state })) };
    },
  );

  define(
    'logs',
    {
      description: "The last log lines of an environment's services (or one service), capped in size (the end is kept).",
      inputSchema: { env, service: z.string().min(1).optional(), tail: z.number().int().min(1).max(10000).optional().describe(`lines per container (default ${LOG_TAIL_DEFAULT})`), max_bytes: maxBytes },
      annotations: { readOnlyHint: true },
    },
    async (a: { env: string; service?: string | undefined; tail?: number | undefined; max_bytes?: number | undefined }, ctx) => ({
      ...(await captureLogs(ctx, { env: a.env, project, service: a.service, tail: a.tail ?? LOG_TAIL_DEFAULT, maxBytes: a.max_bytes ?? MAX_BYTES_DEFAULT, timeoutMs: 30_000 })),
    }),
  );

  define(
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
    async (a: { env: string; service: string; argv: string[]; timeout_seconds?: number | undefined; max_bytes?: number | undefined }, ctx) => ({
      ...(await execCaptured(ctx, { env: a.env, project, service: a.service, argv: a.argv, timeoutMs: (a.timeout_seconds ?? 60) * 1000, maxBytes: a.max_bytes ?? MAX_BYTES_DEFAULT })),
    }),
  );

  define(
    'down',
    {
      description: 'Stop an environment and keep everything (the next up is a quick start); pause: true freezes it in memory instead.',
      inputSchema: { env, pause: z.boolean().optional() },
    },
    async (a: { env: string; pause?: boolean | undefined }, ctx) => {
      const r = await downEnvironment(ctx, { env: a.env, project, pause: a.pause });
      return { env: r.name, status: r.status };
    },
  );

  if (opts.allowDestroy) {
    define(
      'destroy',
      {
        description: 'Remove an environment for good: containers, volumes, network, DNS names, workspace (uncommitted work in it is lost) and its private datasets in shared engines (dropped); shared services are released, not removed. confirm must repeat the environment name.',
        inputSchema: { env, confirm: z.string().describe('the environment name again') },
        annotations: { destructiveHint: true },
      },
      async (a: { env: string; confirm: string }, ctx) => {
        if (a.confirm !== a.env) {
          throw new CiloError('NOT_CONFIRMED', `Nothing was destroyed: confirm ("${a.confirm}") does not repeat the environment name "${a.env}".`, { hint: `Call destroy again with confirm: "${a.env}".` });
        }
        // Refused when it belongs to another project than the server's.
        const rec = findEnvironment(a.env, project, ctx.paths);
        await destroyLocked(ctx, rec);
        return { env: rec.name, destroyed: true };
      },
    );
  }

  // cilo answers tools/call itself, so that bad arguments and unknown tools come back as its
  // failure document too. This replaces the handler McpServer installed with the first tool (the
  // SDK: setRequestHandler "will replace any previous request handler for the same method");
  // tools/list stays McpServer's.
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const call = tools.get(name);
    if (!call) {
      const offered = `Tools: ${[...tools.keys()].join(', ')}.`;
      const hint = name === 'destroy' ? `destroy is offered only by \`cilo mcp --allow-destroy\`. ${offered}` : offered;
      return failure(new CiloError('USAGE', `This server has no tool "${name}".`, { hint }));
    }
    return call(request.params.arguments ?? {}, extra);
  });
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
