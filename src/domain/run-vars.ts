/**
 * The variables `cilo run` gives a command (SPEC, "Variables set by `cilo run`"), and the tokens
 * env-file rendering replaces. Pure.
 */
import type { EnvironmentState } from './state.js';
import { serviceUrl } from './env-model.js';
import { portVarSuffix } from './host-ports.js';

export interface TokenContext {
  project: string;
  env: string;
  /** With its leading dot: `.test`. */
  suffix: string;
}

export function baseUrl(ctx: TokenContext): string {
  return `http://${ctx.project}.${ctx.env}${ctx.suffix}`;
}

/** `CILO_SERVICE_<NAME>`: upper case, every character outside [A-Z0-9] (`-`, `.`) becomes `_`. */
export function serviceVarPrefix(service: string): string {
  return `CILO_SERVICE_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function runVariables(env: EnvironmentState): Record<string, string> {
  const ctx = { project: env.project, env: env.name, suffix: env.dns_suffix };
  const vars: Record<string, string> = {
    CILO_ENV: env.name,
    CILO_PROJECT: env.project,
    CILO_WORKSPACE: env.workspace,
    CILO_BASE_URL: baseUrl(ctx),
    CILO_DNS_SUFFIX: env.dns_suffix,
  };
  for (const name of Object.keys(env.services).sort()) {
    const s = env.services[name];
    if (!s) continue;
    const prefix = serviceVarPrefix(name);
    vars[`${prefix}_URL`] = serviceUrl(name, env.name, env.dns_suffix, s.port);
    vars[`${prefix}_IP`] = s.ip;
    // Its ports published on the host's 127.0.0.1 (issue #25): `_PORT_5432`, `_PORT_53_UDP`.
    for (const [key, port] of Object.entries(s.host_ports ?? {})) vars[`${prefix}_PORT_${portVarSuffix(key)}`] = String(port);
  }
  return vars;
}

/** The four tokens of `render` rules: `${CILO_PROJECT}`, `${CILO_ENV}`, `${CILO_DNS_SUFFIX}`, `${CILO_BASE_URL}`. */
export function expandTokens(text: string, ctx: TokenContext): string {
  const values: Record<string, string> = {
    CILO_PROJECT: ctx.project,
    CILO_ENV: ctx.env,
    CILO_DNS_SUFFIX: ctx.suffix,
    CILO_BASE_URL: baseUrl(ctx),
  };
  return text.replace(/\$\{(CILO_PROJECT|CILO_ENV|CILO_DNS_SUFFIX|CILO_BASE_URL)\}/g, (_, k: string) => values[k] ?? '');
}

/** The variables that replace a program's trusted roots (OpenSSL, Python's requests, curl): pointed at the system's roots plus cilo's CA. */
export const CA_BUNDLE_VARIABLES = ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'] as const;

/**
 * What `cilo run` adds so a command trusts cilo's CA: NODE_EXTRA_CA_CERTS (Node adds it to its
 * own roots) and the bundle variables; none that the user set already (`given`, non-empty).
 */
export function trustVariables(files: { caFile: string; bundleFile?: string | undefined }, given: Record<string, string | undefined>): Record<string, string> {
  const vars: Record<string, string> = {};
  const unset = (k: string) => (given[k] ?? '') === '';
  if (unset('NODE_EXTRA_CA_CERTS')) vars.NODE_EXTRA_CA_CERTS = files.caFile;
  if (files.bundleFile !== undefined) {
    for (const k of CA_BUNDLE_VARIABLES) if (unset(k)) vars[k] = files.bundleFile;
  }
  return vars;
}
