import { addHostnames, listHostnames, removeHostnames, setHostnames, type HostnamesResult } from '../../core/project/hostnames.js';
import { cliContext } from '../output/context.js';
import { out, printJson, printResult, printTable, warn } from '../output/print.js';

interface Options {
  project?: string;
  json?: boolean;
  file?: string;
}

/** `what`: the sentence of a change (add, remove, set), whose document carries its warnings. */
function show(r: HostnamesResult, opts: Options, what?: string): void {
  if (opts.json) {
    if (what === undefined) printJson(r);
    else printResult(r);
    return;
  }
  if (what) out(what);
  if (r.hostnames.length === 0) {
    out(`Environment ${r.env} has no hostnames. Add one with \`cilo hostnames add ${r.env} <hostname>\`.`);
    return;
  }
  printTable(['HOSTNAME', 'NAME', 'SOURCE'], r.hostnames.map((h) => [h.fqdn, h.name, h.source]));
}

function noIngressWarning(r: HostnamesResult): void {
  if (r.ingress === null) warn(`environment ${r.env} has no ingress service yet; its hostnames resolve once \`cilo up\` finds one (a service labelled cilo.ingress, or nginx/web/app/frontend).`);
}

/** `a,b` `c` -> `a`, `b`, `c`: the original took comma-separated lists. */
function splitNames(names: string[]): string[] {
  return names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter((n) => n !== '');
}

export async function list(env: string, opts: Options): Promise<void> {
  show(listHostnames(cliContext(), env, opts.project), opts);
}

export async function add(env: string, given: string[], opts: Options): Promise<void> {
  const names = splitNames(given);
  const r = await addHostnames(cliContext(), env, names, opts.project);
  noIngressWarning(r);
  show(r, opts, r.added.length > 0 ? `Added ${r.added.join(', ')} to ${r.env}.` : `Nothing to add: ${r.env} already has ${names.length === 1 ? 'this hostname' : 'these hostnames'}.`);
}

export async function remove(env: string, names: string[], opts: Options): Promise<void> {
  const r = await removeHostnames(cliContext(), env, splitNames(names), opts.project);
  show(r, opts, `Removed ${r.removed.join(', ')} from ${r.env}.`);
}

export async function set(env: string, names: string[], opts: Options): Promise<void> {
  const r = await setHostnames(cliContext(), env, { names: splitNames(names), file: opts.file }, opts.project);
  noIngressWarning(r);
  show(r, opts, `Custom hostnames of ${r.env} set (${r.added.length} added, ${r.removed.length} removed).`);
}
