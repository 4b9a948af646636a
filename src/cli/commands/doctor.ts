import { runDoctor } from '../../core/doctor/doctor.js';
import { cliContext } from '../output/context.js';
import { out, printResult } from '../output/print.js';

interface Options {
  fix?: boolean;
  force?: boolean;
  json?: boolean;
}

export default async function doctor(opts: Options): Promise<number> {
  const report = await runDoctor(cliContext(), { fix: opts.fix, force: opts.force });
  if (opts.json) {
    printResult(report);
    return report.ok ? 0 : 1;
  }
  out(`Docker engine: ${report.engine.reachable ? `reachable (${report.engine.version ?? '?'})` : 'NOT reachable'}; Compose: ${report.engine.compose ?? 'missing'}`);
  out(`DNS server:    ${report.dns.running ? (report.dns.answering ? 'running' : 'running, not answering') : 'not running'}${report.dns.port_unknown ? ' (its port is in the unreadable state file)' : ` on 127.0.0.1:${report.dns.port}`}`);
  if (report.findings.length === 0) {
    out('No problems found.');
    return 0;
  }
  out('');
  for (const f of report.findings) {
    const status = f.fixed ? 'fixed' : f.fix_error ? 'fix failed' : f.needs_force ? 'needs --force' : f.fix ? (opts.fix ? 'not fixed' : 'fixable') : 'manual';
    out(`[${f.severity}] ${f.kind} ${f.subject}: ${f.message}`);
    if (f.fix) out(`    ${status}: ${f.fix}${f.fix_error ? ` (${f.fix_error})` : ''}`);
  }
  const open = report.findings.filter((f) => !f.fixed);
  out('');
  if (open.length === 0) out(`All ${report.findings.length} problem(s) fixed.`);
  else if (!opts.fix && open.some((f) => f.fix)) out(`${open.length} problem(s). Run \`cilo doctor --fix\` to repair what can be repaired${open.some((f) => f.needs_force) ? ' (and --force for what deletes data)' : ''}.`);
  else out(`${open.length} problem(s) left.`);
  return report.ok ? 0 : 1;
}
