// The layering of src/ (README, Development, "Layers"): cli -> core -> adapters -> domain.
//
// Every relative import specifier of a file under src/ (import, import type, export ... from,
// export * from, import('literal'), import x = require(...), and type-level import('...')) is
// resolved to the file it names, and both files are placed in a layer by their path under src/,
// so a file at any depth is judged the same way. Node's built-in modules are checked by name for
// the layers that must do no I/O (domain) or open no socket or process (core). An import() whose
// argument is not a literal is reported in src/: nobody could tell which layer it reaches.
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Adapter folders: the outside world, each behind a port of core/ports.ts. */
export const ADAPTERS = ['compose', 'docker', 'dns', 'state', 'workspace', 'git', 'proc', 'config', 'host', 'ui', 'files', 'datasets', 'tls'];
/** Adapters whose code core may call directly: files under CILO_HOME and the project's config. */
const CORE_MAY_CALL = new Set(['state', 'config', 'files']);
/** Where the CLI builds its core context, the only cli files that may import the composition root. */
const CONTEXT_BUILDERS = new Set(['cli/output/context', 'cli/mcp/server']);

const FS = ['fs', 'fs/promises'];
const SOCKETS_AND_PROCESSES = ['child_process', 'dgram', 'net', 'http', 'https', 'http2', 'tls', 'cluster', 'worker_threads'];
const builtin = (spec) => spec.replace(/^node:/, '');

/**
 * The layer of a path under src/ (without extension, '/'-separated), or undefined outside src/.
 * `unknown` is a file or folder of src/ that no layer claims: add it here and to the README.
 */
function layerOf(rel) {
  const [top, ...rest] = rel.split('/');
  if (rest.length === 0) {
    if (top === 'cli') return { layer: 'cli', name: rel };
    if (top === 'default-context' || top === 'lib') return { layer: 'root', name: rel };
    if (top === 'errors') return { layer: 'errors', name: rel };
    return { layer: 'unknown', name: rel };
  }
  if (top === 'cli') return { layer: 'cli', name: rel };
  if (top === 'core') return { layer: 'core', name: rel };
  if (top === 'domain') return { layer: 'domain', name: rel };
  if (ADAPTERS.includes(top)) return { layer: 'adapter', adapter: top, name: rel };
  return { layer: 'unknown', name: rel };
}

function underSrc(absPath) {
  const rel = relative(SRC, absPath);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  return rel.split(sep).join('/').replace(/\.(d\.)?[cm]?[jt]sx?$|\.json$/, '');
}

const WHY = 'imports flow cli -> core -> adapters -> domain (README, Development, "Layers")';

/**
 * Why `from` may not import `to` (undefined when it may). `typeOnly`: the import is erased at
 * build time (import type, or every name marked `type` in an `export type`).
 */
function refusal(from, to, typeOnly) {
  if (to.layer === 'unknown') return `src/${to.name} belongs to no layer: add its folder to eslint-rules/layers.js and to the README's "Layers".`;
  if (to.layer === 'errors') return undefined; // usable by all
  switch (from.layer) {
    case 'domain':
      return to.layer === 'domain' ? undefined : `domain/ imports only domain/ and errors.ts, not src/${to.name}: it is the ground floor; ${WHY}.`;
    case 'errors':
      return to.layer === 'domain' ? undefined : `errors.ts imports only domain/, not src/${to.name}: every layer imports it.`;
    case 'adapter':
      if (to.layer === 'domain' || to.layer === 'adapter') return undefined;
      return `An adapter (src/${from.adapter}) may not import src/${to.name}: ${WHY}.`;
    case 'core':
      if (to.layer === 'core' || to.layer === 'domain') return undefined;
      if (to.layer === 'adapter') {
        if (typeOnly || CORE_MAY_CALL.has(to.adapter)) return undefined;
        return `core/ may import src/${to.adapter} only as types (\`import type\`): it reaches Docker, compose, DNS, git, processes, workspaces, routes and the dashboard server only through ctx (core/ports.ts, wired in default-context.ts); state, config and files it may call.`;
      }
      return `core/ may not import src/${to.name}: neither the CLI nor the composition root (default-context.ts, lib.ts); ${WHY}.`;
    case 'root':
      return to.layer === 'cli' ? `src/${from.name}.ts may not import the CLI (src/${to.name}): ${WHY}.` : undefined;
    case 'cli':
      if (to.layer === 'cli' || to.layer === 'core' || to.layer === 'domain' || typeOnly) return undefined;
      if (to.layer === 'root') {
        if (to.name === 'default-context' && CONTEXT_BUILDERS.has(from.name)) return undefined;
        return `cli/ builds its core context only in cli/output/context.ts (and the MCP server): import cliContext from there, not src/${to.name}.`;
      }
      return `A cli/ file may not call src/${to.adapter ?? to.name} itself (types are fine): commands call core, which reads state, starts daemons and reaches the outside through ctx; add a core function.`;
    default:
      return undefined;
  }
}

function builtinRefusal(from, spec) {
  const name = builtin(spec);
  if (from.layer === 'domain' && (FS.includes(name) || SOCKETS_AND_PROCESSES.includes(name))) {
    return `domain/ does no I/O (${spec}): do it in an adapter and pass the data in.`;
  }
  if (from.layer === 'core' && SOCKETS_AND_PROCESSES.includes(name)) {
    return `core/ spawns no process and opens no socket (${spec}): add a port to core/ports.ts.`;
  }
  return undefined;
}

const isTypeSpecifier = (s) => s.importKind === 'type' || s.exportKind === 'type';

const layers = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports flow cli -> core -> adapters -> domain, at any depth, dynamic ones too.' },
    schema: [],
    messages: { layer: '{{why}}', dynamic: '{{why}}' },
  },
  create(context) {
    const self = underSrc(context.filename);
    if (self === undefined) return {};
    const from = layerOf(self);

    function check(node, source, typeOnly) {
      if (typeof source !== 'string') return;
      if (!source.startsWith('.')) {
        if (typeOnly) return;
        const why = builtinRefusal(from, source);
        if (why) context.report({ node, messageId: 'layer', data: { why } });
        return;
      }
      const target = underSrc(resolve(dirname(context.filename), source));
      if (target === undefined) return; // outside src/ (a test helper, package.json)
      const why = refusal(from, layerOf(target), typeOnly);
      if (why) context.report({ node, messageId: 'layer', data: { why } });
    }

    /** `import { type A, type B } from` is still a runtime import under verbatimModuleSyntax (it becomes `import {} from`). */
    const importTypeOnly = (node) => node.importKind === 'type';
    const exportTypeOnly = (node) => node.exportKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every(isTypeSpecifier));

    return {
      ImportDeclaration: (node) => check(node.source, node.source.value, importTypeOnly(node)),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value, exportTypeOnly(node)),
      ExportAllDeclaration: (node) => check(node.source, node.source.value, node.exportKind === 'type'),
      TSImportEqualsDeclaration: (node) => {
        const ref = node.moduleReference;
        if (ref.type === 'TSExternalModuleReference' && ref.expression.type === 'Literal') check(ref.expression, ref.expression.value, node.importKind === 'type');
      },
      // `typeof import('../x.js')` in a type: erased, like `import type`.
      TSImportType: (node) => {
        const arg = node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.source ?? node.argument;
        if (arg?.type === 'Literal') check(arg, arg.value, true);
      },
      ImportExpression: (node) => {
        const arg = node.source;
        if (arg.type === 'Literal') return check(arg, arg.value, false);
        if (arg.type === 'TemplateLiteral' && arg.expressions.length === 0) return check(arg, arg.quasis[0].value.cooked, false);
        context.report({
          node: arg,
          messageId: 'dynamic',
          data: { why: 'import() takes a string literal in src/: the layering check (and the bundler) must see which file it loads.' },
        });
      },
    };
  },
};

export default { meta: { name: 'cilo-layers' }, rules: { layers } };
