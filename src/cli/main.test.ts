/**
 * The command line as cilo reads it, without running any command: the program is built with a
 * runner that records what the command's code would have been called with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Option } from 'commander';
import { COMMANDS } from './command-table.js';
import { buildProgram, commandOf } from './main.js';
import { parsePassThrough } from './pass-through.js';

interface Call {
  name: string;
  values: unknown[];
  opts: Record<string, unknown>;
}

async function parse(argv: string[]): Promise<Call> {
  let call: Call | undefined;
  const program = buildProgram(async (def, values, opts) => {
    call = { name: def.name, values, opts };
  });
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(argv, { from: 'user' });
  assert.ok(call, `no command ran for ${argv.join(' ')}`);
  return call;
}

test('--shared and --isolate take one value each, so they may stand before the environment (#13 item 7)', async () => {
  const c = await parse(['up', '--shared', 'cache', 'agent-3']);
  assert.deepEqual(c.values, ['agent-3']);
  assert.deepEqual(c.opts.shared, ['cache']);
  const d = await parse(['up', '--shared', 'db,cache', '--isolate', 'web', 'agent-3', '--shared', 'queue']);
  assert.deepEqual(d.values, ['agent-3']);
  assert.deepEqual(d.opts.shared, ['db,cache', 'queue'], 'core splits the comma-separated lists');
  assert.deepEqual(d.opts.isolate, ['web']);
});

test("run: cilo's options right after <env>, up to the first other word or --, which is dropped (#13 item 8)", async () => {
  const c = await parse(['run', 'sh', 'agent-1', '--from', '/src', '--project', 'shop', '--no-up', '--', '-c', 'echo "$@"', '--', '--from']);
  assert.deepEqual(c.values, ['sh', 'agent-1', ['-c', 'echo "$@"', '--', '--from']]);
  assert.equal(c.opts.from, '/src');
  assert.equal(c.opts.project, 'shop');
  assert.equal(c.opts.up, false);
  assert.equal(c.opts.create, true);

  const before = await parse(['run', '--no-create', '--project=shop', 'npm', 'e1', 'test', '--project', 'x']);
  assert.deepEqual(before.values, ['npm', 'e1', ['test', '--project', 'x']], 'after the first other word, everything is the command\'s');
  assert.equal(before.opts.project, 'shop');
  assert.equal(before.opts.create, false);

  const untouched = await parse(['run', 'sh', 'e1', '-c', 'exit 3']);
  assert.deepEqual(untouched.values, ['sh', 'e1', ['-c', 'exit 3']]);
});

test('run: an option between <command> and <env> is a usage error that says where options go', async () => {
  await assert.rejects(parse(['run', 'true', '--no-up', 'absent']), (e: Error & { code?: string; exitCode?: number }) => {
    assert.equal(e.code, 'USAGE');
    assert.equal(e.exitCode, 2);
    assert.match(e.message, /"--no-up" is not the <env> argument: cilo's options go before <command> or right after <env>/);
    return true;
  });
  await assert.rejects(parse(['run', '--bogus', 'sh', 'e1']), /Unknown option --bogus for `cilo run`/);
  await assert.rejects(parse(['run', 'sh']), /Missing the <env> argument/);
});

test('compose: --project before or right after <env> is cilo\'s, later it is compose\'s (#13 item 10)', async () => {
  const a = await parse(['compose', '--project', 'shop', 'agent-1', 'ps']);
  assert.deepEqual(a.values, ['agent-1', ['ps']]);
  assert.equal(a.opts.project, 'shop');
  const b = await parse(['compose', 'agent-1', '--project', 'shop', 'logs', '-f']);
  assert.deepEqual(b.values, ['agent-1', ['logs', '-f']]);
  assert.equal(b.opts.project, 'shop');
  const c = await parse(['compose', 'agent-1', 'run', 'app', '--project', 'x']);
  assert.deepEqual(c.values, ['agent-1', ['run', 'app', '--project', 'x']]);
  assert.equal(c.opts.project, undefined);
});

test('exec: cobra-style -t=false, --tty=false, --interactive=false, -it (#13 item 14)', async () => {
  const a = await parse(['exec', '-t=false', '--interactive=false', 'e1', 'app', 'ls', '-la']);
  assert.deepEqual(a.values, ['e1', 'app', ['ls', '-la']]);
  assert.equal(a.opts.tty, false);
  assert.equal(a.opts.interactive, false);
  const b = await parse(['exec', 'e1', 'app', '--tty=false', '-i=0', '--', 'sh', '-c', 'x']);
  assert.deepEqual(b.values, ['e1', 'app', ['sh', '-c', 'x']]);
  assert.equal(b.opts.tty, false);
  assert.equal(b.opts.interactive, false);
  const c = await parse(['exec', '-it', 'e1', 'app']);
  assert.deepEqual([c.opts.tty, c.opts.interactive], [true, true]);
  await assert.rejects(parse(['exec', '--tty=maybe', 'e1', 'app']), /--tty takes true or false, not "maybe"/);
});

test('hostnames: lists reach the command as typed (it splits commas); rm is remove', async () => {
  const c = await parse(['hostnames', 'add', 'e1', 'a,b', 'c']);
  assert.deepEqual(c.values, ['e1', ['a,b', 'c']]);
  const rm = await parse(['hostnames', 'rm', 'e1', 'a,b']);
  assert.equal(rm.name, 'hostnames remove');
});

test('each shared option is declared once per command, and every command module is loaded lazily', () => {
  for (const def of COMMANDS) {
    const longs = (def.options ?? []).map((o) => o.long);
    assert.equal(new Set(longs).size, longs.length, `${def.name} declares an option twice`);
    assert.ok(def.load === undefined || def.load.toString().includes('import('), `${def.name} imports its module lazily`);
  }
});

test('commandOf finds the declaration a command line names, aliases included', () => {
  assert.equal(commandOf(['status', 'x', '--json'])?.name, 'status');
  assert.equal(commandOf(['dns', 'logs', '--tail', '3'])?.name, 'dns logs');
  assert.equal(commandOf(['hostnames', 'rm', 'e', 'a'])?.name, 'hostnames remove');
  assert.equal(commandOf(['ls', '--json'])?.name, 'list');
  assert.equal(commandOf(['nosuch']), undefined);
});

test('pass-through parsing: values, choices and help', () => {
  const spec = {
    name: 'x',
    args: [],
    options: [new Option('--mode <m>', '').choices(['a', 'b']), new Option('--list <v>', '').argParser((v: string, p: string[] = []) => [...p, v])],
  };
  const r = parsePassThrough(spec, ['--mode=a', '--list', '1', '--list=2', 'rest', '--mode', 'b']);
  assert.deepEqual(r.opts, { mode: 'a', list: ['1', '2'] });
  assert.deepEqual(r.rest, ['rest', '--mode', 'b']);
  assert.throws(() => parsePassThrough(spec, ['--mode', 'c']), /--mode "c" is not one of a, b/);
  assert.throws(() => parsePassThrough(spec, ['--mode']), /needs a value/);
  assert.equal(parsePassThrough(spec, ['--help']).help, true);
});

test("the root's help, built from the top level alone, is the whole tree's root help", () => {
  const top = buildProgram(undefined, 'top').helpInformation();
  const all = buildProgram(undefined, 'all').helpInformation();
  assert.match(all, /\n {2}dns {2,}the DNS server/);
  assert.match(all, /\n {2}exec <env> <service> \[command\.\.\.\] {2,}run a command/);
  assert.equal(top, all);
});
