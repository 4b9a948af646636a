// The page of `cilo ui`: plain JavaScript, no framework, no build step. It signs in with the
// token of the URL's fragment, then follows the server's event stream and redraws; actions are
// plain POSTs. Everything shown is built with DOM calls (textContent), never from HTML strings.

const main = document.getElementById('main');
const live = document.getElementById('live');
const scopeLabel = document.getElementById('scope');
const toast = document.getElementById('toast');

const state = {
  snapshot: null,
  detail: null,
  busy: new Set(),
  logSource: null,
  logKey: '',
  // When a followed log ended (the containers stopped): it resumes from there once they run again.
  logEndedAt: null,
  detailTimer: null,
  // What the containers use (GET /api/usage), asked every few seconds while the home page is visible.
  usage: null,
  usageError: null,
  usageTimer: null,
  usageAsking: false,
};

// ---------- small helpers ----------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function age(iso) {
  return duration((Date.now() - Date.parse(iso)) / 1000);
}

function badge(text, level) {
  return h('span', { className: `badge ${level}` }, text);
}

const STATUS_LEVEL = { running: 'ok', degraded: 'warn', starting: 'starting', creating: 'starting', created: 'idle', stopped: 'idle', paused: 'paused', error: 'bad', destroying: 'bad' };

// `paused (idle) since 14:03` for an environment the supervisor paused (its next use wakes it).
function statusBadge(status, problems, env) {
  const why = (problems || []).map((p) => `${p.service} ${p.reason}`).join('; ');
  const idle = status === 'paused' && env && env.paused_by === 'idle';
  const since = env && env.paused_at ? ` since ${pausedSince(env.paused_at)}` : '';
  const title = idle ? `Paused for being idle${since}; a DNS query, request, exec or run wakes it.` : why || undefined;
  return h('span', { className: `badge ${STATUS_LEVEL[status] || 'idle'}`, 'data-field': 'status', title }, idle ? `paused (idle)${since}` : status);
}

// 14:03 today, else the date and time, in the browser's local time.
function pausedSince(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

// Why an environment is degraded, in words: `api exited with code 1; worker keeps restarting (5 restarts)`.
function problemsLine(problems) {
  if (!problems || problems.length === 0) return null;
  return h('div', { className: 'problems', 'data-field': 'problems' }, problems.map((p) => `${p.service} ${p.reason}`).join('; '));
}

function link(url) {
  return url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, url) : h('span', { className: 'muted' }, '—');
}

// Through the router (router mode) there is an https:// URL beside the http:// one (cilo's CA: `cilo trust`).
function links(url, urls) {
  const https = urls && urls.https;
  if (!https || !url) return link(url);
  return h('span', {}, link(url), ' ', h('a', { href: https, target: '_blank', rel: 'noopener noreferrer', 'data-scheme': 'https', title: https }, 'https'));
}

function showToast(text, kind) {
  toast.textContent = text;
  toast.dataset.kind = kind || 'info';
  toast.hidden = false;
  clearTimeout(showToast.timer);
  showToast.timer = setTimeout(() => (toast.hidden = true), kind === 'error' ? 10000 : 4000);
}

async function api(method, path, body) {
  const r = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = r.status === 204 ? null : await r.json().catch(() => null);
  if (!r.ok) {
    const e = new Error(data && data.message ? data.message : `HTTP ${r.status}`);
    e.status = r.status;
    e.hint = data && data.hint;
    throw e;
  }
  return data;
}

// ---------- routing ----------

function route() {
  const m = /^#\/env\/([^/]+)$/.exec(location.hash);
  return m ? { page: 'env', name: decodeURIComponent(m[1]) } : { page: 'home' };
}

function render() {
  const r = route();
  if (r.page !== 'env') stopLogs();
  if (r.page === 'env') renderEnvPage(r.name);
  else renderHome();
}

// ---------- actions ----------

async function act(env, action, body) {
  const key = `${env}:${action}`;
  state.busy.add(key);
  render();
  try {
    const r = await api('POST', `/api/env/${encodeURIComponent(env)}/${action}`, body || {});
    showToast(r.message, 'ok');
  } catch (e) {
    showToast(`${e.message}${e.hint ? ` ${e.hint}` : ''}`, 'error');
  } finally {
    state.busy.delete(key);
    render();
  }
}

function actionButtons(env, status) {
  const busy = (a) => state.busy.has(`${env}:${a}`);
  const anyBusy = ['up', 'down', 'pause', 'destroy'].some(busy);
  const button = (a, label, extra, pointless) =>
    h('button', { type: 'button', 'data-action': a, className: extra, disabled: anyBusy || pointless || undefined, onclick: () => (a === 'destroy' ? askDestroy(env) : act(env, a)) }, busy(a) ? `${label}…` : label);
  return h(
    'span',
    { className: 'actions' },
    button('up', status === 'paused' ? 'resume' : 'up'),
    button('down', 'down', undefined, status === 'stopped' || status === 'created'),
    button('pause', 'pause', undefined, status !== 'running' && status !== 'degraded'),
    button('destroy', 'destroy', 'danger'),
  );
}

const dialog = document.getElementById('destroy-dialog');
const destroyInput = document.getElementById('destroy-input');
const destroyConfirm = document.getElementById('destroy-confirm');

// The dialog says exactly what goes (containers, network, volumes, workspace, private datasets by
// name) and what stays (shared services are released), as the server reads it for this environment.
async function askDestroy(env) {
  const what = document.getElementById('destroy-what');
  document.getElementById('destroy-name').textContent = env;
  what.textContent = 'Reading what it removes…';
  dialog.dataset.env = env;
  destroyInput.value = '';
  destroyConfirm.disabled = true;
  dialog.showModal();
  destroyInput.focus();
  try {
    const plan = await api('GET', `/api/env/${encodeURIComponent(env)}/destroy`);
    if (dialog.dataset.env === env) what.textContent = plan.text;
  } catch (e) {
    if (dialog.dataset.env === env) what.textContent = `What it removes could not be read: ${e.message}. Destroying removes its containers, network, volumes, workspace and private datasets.`;
  }
}
destroyInput.addEventListener('input', () => (destroyConfirm.disabled = destroyInput.value !== dialog.dataset.env));
document.getElementById('destroy-cancel').addEventListener('click', () => dialog.close());
document.getElementById('destroy-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const env = dialog.dataset.env;
  const typed = destroyInput.value;
  dialog.close();
  if (typed === env) act(env, 'destroy', { confirm: typed });
});

async function runDoctor(button) {
  button.disabled = true;
  button.textContent = 'running…';
  try {
    const record = await api('POST', '/api/doctor', {});
    if (state.snapshot) state.snapshot.doctor = record;
    render();
  } catch (e) {
    showToast(e.message, 'error');
    button.disabled = false;
    button.textContent = 'Run doctor';
  }
}

// ---------- the home page ----------

// Sizes as `cilo top` prints them (decimal units).
function bytes(n) {
  const steps = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < steps.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${steps[i]}`;
}

// `12.5%`, or `<0.1%` for a little that is not nothing.
function percentOf(part, whole) {
  const p = (part / whole) * 100;
  return p > 0 && p < 0.1 ? '<0.1%' : `${p.toFixed(1)}%`;
}

const USAGE_FIELDS = ['cpu', 'memory', 'block', 'net'];
const USAGE_HEADS = ['CPU', 'Memory', 'Block I/O', 'Net I/O'];

function usageTexts(u) {
  return {
    cpu: `${u.cpu_percent.toFixed(1)}%`,
    memory: bytes(u.memory_bytes),
    block: `${bytes(u.block_read_bytes)} / ${bytes(u.block_write_bytes)}`,
    net: `${bytes(u.net_rx_bytes)} / ${bytes(u.net_tx_bytes)}`,
  };
}

// Empty cells of a row, filled in place by fillUsage (a poll never rebuilds the tables under the mouse).
function usageCells() {
  return USAGE_FIELDS.map((f) => h('td', { className: 'num usage', 'data-usage': f }, h('span', { className: 'muted' }, '…')));
}

function setUsageCells(row, u, why) {
  const texts = u ? usageTexts(u) : null;
  for (const f of USAGE_FIELDS) {
    const cell = row.querySelector(`[data-usage="${f}"]`);
    if (!cell) continue;
    if (texts) cell.replaceChildren(texts[f]);
    else cell.replaceChildren(h('span', { className: 'muted', title: why || undefined }, '—'));
  }
}

function fillUsage() {
  const u = state.usage;
  const machine = document.getElementById('machine');
  if (machine) machine.replaceChildren(...machineContent(u).filter(Boolean));
  if (!u) return;
  const memoryShare = (bytesUsed) => (u.engine && u.engine.memory_bytes ? `${percentOf(bytesUsed, u.engine.memory_bytes)} of the engine's ${bytes(u.engine.memory_bytes)}` : undefined);
  for (const row of document.querySelectorAll('#environments tr[data-env]')) {
    const e = u.environments.find((x) => x.name === row.dataset.env && x.project === row.dataset.project);
    if (!e) setUsageCells(row, null, 'not measured yet');
    else if (e.status === 'unreachable') setUsageCells(row, null, 'its host does not answer');
    else if (e.containers === 0) setUsageCells(row, null, 'nothing of it runs');
    else {
      setUsageCells(row, e.usage);
      row.querySelector('[data-usage="memory"]').title = [`${e.containers} container${e.containers === 1 ? '' : 's'}`, memoryShare(e.usage.memory_bytes), e.shared.length ? `shared services (${e.shared.join(', ')}) counted on their own rows` : null].filter(Boolean).join('; ');
    }
  }
  for (const row of document.querySelectorAll('#shared tr[data-shared]')) {
    const s = u.shared.find((x) => `${x.project}/${x.service}` === row.dataset.shared);
    if (!s || (s.state !== 'running' && s.state !== 'paused')) setUsageCells(row, null, s ? `it is ${s.state}` : 'not measured');
    else {
      setUsageCells(row, s.usage);
      row.querySelector('[data-usage="memory"]').title = [memoryShare(s.usage.memory_bytes), s.users.length ? `used by ${s.users.join(', ')}` : 'no users'].filter(Boolean).join('; ');
    }
  }
}

// The machine total: what cilo's containers use together (a shared service once), against what the engine has.
function machineContent(u) {
  const head = h('h2', {}, 'Resource use ', u ? h('span', { className: 'muted small' }, 'measured ', h('span', { 'data-since': u.at }, age(u.at)), ' ago, every few seconds while this page is visible') : null);
  if (!u) return [head, h('p', { className: 'empty' }, state.usageError ? `Could not read what the containers use: ${state.usageError}` : 'Reading the containers\' stats…')];
  const scoped = state.snapshot && state.snapshot.scope.project;
  const row = (key, label, containers, usage, memoryNote) => {
    const t = usageTexts(usage);
    return h(
      'tr',
      { 'data-total': key },
      h('th', { scope: 'row' }, label),
      h('td', { className: 'num', 'data-usage': 'containers' }, String(containers)),
      h('td', { className: 'num', 'data-usage': 'cpu' }, t.cpu),
      h('td', { className: 'num', 'data-usage': 'memory' }, t.memory, memoryNote ? h('span', { className: 'muted' }, ` (${memoryNote})`) : null),
      h('td', { className: 'num', 'data-usage': 'block' }, t.block),
      h('td', { className: 'num', 'data-usage': 'net' }, t.net),
    );
  };
  const engine = u.engine;
  const share = (n) => (engine && engine.memory_bytes ? `${percentOf(n, engine.memory_bytes)} of ${bytes(engine.memory_bytes)}` : null);
  const shownContainers = u.environments.reduce((n, e) => n + e.containers, 0) + u.shared.filter((s) => s.state === 'running' || s.state === 'paused').length;
  const rows = [
    scoped ? row('project', `Project ${scoped}`, shownContainers, u.shown, share(u.shown.memory_bytes)) : null,
    row('cilo', scoped ? 'All of cilo (every project)' : 'Total (all of cilo)', u.total.containers, u.total.usage, share(u.total.usage.memory_bytes)),
    engine
      ? h(
          'tr',
          { 'data-total': 'engine' },
          h('th', { scope: 'row' }, 'Docker engine (this machine)'),
          h('td', { className: 'muted' }, '—'),
          h('td', { className: 'num' }, engine.cpus ? `${engine.cpus} CPU${engine.cpus === 1 ? '' : 's'} (${engine.cpus * 100}%)` : '—'),
          h('td', { className: 'num', 'data-usage': 'memory' }, engine.memory_bytes ? `${bytes(engine.memory_bytes)} in all` : '—'),
          h('td', { className: 'muted' }, '—'),
          h('td', { className: 'muted' }, '—'),
        )
      : null,
  ];
  return [
    head,
    h('table', { className: 'totals' }, h('thead', {}, h('tr', {}, ['', 'Containers', 'CPU', 'Memory', 'Block I/O (read / write)', 'Net I/O (in / out)'].map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
    u.unreachable.length ? h('ul', { className: 'facts' }, u.unreachable.map((x) => h('li', { className: 'problems' }, `${x.site}: ${x.problem}`))) : null,
  ];
}

async function pollUsage() {
  clearTimeout(state.usageTimer);
  state.usageTimer = null;
  if (state.usageAsking || document.visibilityState !== 'visible' || route().page !== 'home') return;
  state.usageAsking = true;
  try {
    state.usage = await api('GET', '/api/usage');
    state.usageError = null;
  } catch (e) {
    state.usageError = e.message;
  } finally {
    state.usageAsking = false;
  }
  if (route().page === 'home') fillUsage();
  // The next one only while the page is seen: a hidden tab asks the engine for nothing.
  if (document.visibilityState === 'visible' && route().page === 'home') state.usageTimer = setTimeout(pollUsage, USAGE_EVERY_MS);
}

const USAGE_EVERY_MS = 3000;

function environmentsSection(snap) {
  const rows = snap.environments.map((e) =>
    h(
      'tr',
      { 'data-env': e.name, 'data-project': e.project },
      h('td', {}, e.project),
      h('td', {}, h('a', { href: `#/env/${encodeURIComponent(e.name)}`, className: 'env-link' }, e.name)),
      h('td', {}, statusBadge(e.status, e.problems, e), problemsLine(e.problems)),
      h('td', {}, h('span', { className: `badge ${e.health.level}`, 'data-field': 'health' }, e.health.text)),
      h('td', { className: 'url' }, links(e.url, e.urls)),
      usageCells(),
      h('td', { 'data-since': e.created_at, className: 'num' }, age(e.created_at)),
      h('td', {}, actionButtons(e.name, e.status)),
    ),
  );
  return h(
    'section',
    { id: 'environments' },
    h('h2', {}, 'Environments ', h('span', { className: 'count' }, String(snap.environments.length))),
    snap.environments.length === 0
      ? h('p', { className: 'empty' }, 'No environments. Create one with ', h('code', {}, 'cilo up <env>'), ' in your project.')
      : h('table', {}, h('thead', {}, h('tr', {}, ['Project', 'Environment', 'Status', 'Health', 'URL', ...USAGE_HEADS, 'Age', ''].map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
  );
}

function graceCell(s) {
  if (s.users.length > 0) return h('span', {}, 'in use');
  if (!s.grace_until) return h('span', { className: 'muted' }, '—');
  return h('span', { 'data-until': s.grace_until }, graceText(s.grace_until));
}

function graceText(until) {
  const left = (Date.parse(until) - Date.now()) / 1000;
  return left > 0 ? `stops in ${duration(left)}` : 'stopping now';
}

// Sizes are the server's last known ones, measured on its own clock (never while the page waits):
// each says how long ago it was measured.
function datasetsText(list) {
  if (!list || list.length === 0) return h('span', { className: 'muted' }, 'none');
  const amount = (d) => (d.unit === 'keys' ? `${d.size} keys` : `${(d.size / 1048576).toFixed(1)} MB`);
  const size = (d) => (d.size === null ? null : d.measured_at ? [` (${amount(d)}, measured `, h('span', { 'data-since': d.measured_at }, age(d.measured_at)), ' ago)'] : ` (${amount(d)})`);
  return list.flatMap((d, i) => [i > 0 ? ', ' : null, h('span', { className: 'dataset', title: d.measured_at ? `size measured at ${d.measured_at}` : d.size === null ? 'size not measured yet' : undefined }, d.name, size(d))]);
}

function sharedSection(snap) {
  const rows = snap.shared.map((s) =>
    h(
      'tr',
      { 'data-shared': `${s.project}/${s.service}` },
      h('td', {}, s.project),
      h('td', {}, s.service),
      h('td', { className: 'mono' }, s.container),
      h('td', {}, badge(s.state, s.state === 'running' ? 'ok' : s.state === 'missing' ? 'bad' : 'idle')),
      h('td', {}, s.users.length ? s.users.join(', ') : h('span', { className: 'muted' }, 'none')),
      usageCells(),
      h('td', {}, graceCell(s)),
      h('td', { className: 'mono', title: s.config_hash }, s.config_hash.slice(0, 12)),
      h('td', {}, datasetsText(s.datasets)),
    ),
  );
  return h(
    'section',
    { id: 'shared' },
    h('h2', {}, 'Shared services ', h('span', { className: 'count' }, String(snap.shared.length))),
    snap.shared.length === 0
      ? h('p', { className: 'empty' }, 'No shared services.')
      : h('table', {}, h('thead', {}, h('tr', {}, ['Project', 'Service', 'Container', 'State', 'Users', ...USAGE_HEADS, 'Grace', 'Config hash', 'Datasets'].map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
  );
}

function doctorSection(snap) {
  const d = snap.doctor;
  const button = h('button', { type: 'button', id: 'run-doctor', onclick: (ev) => runDoctor(ev.currentTarget) }, 'Run doctor');
  let body;
  if (!d) {
    body = h('p', { className: 'empty' }, 'Not run yet from this dashboard.');
  } else {
    const r = d.report;
    const open = r.findings.filter((f) => !f.fixed);
    body = h(
      'div',
      {},
      h(
        'p',
        { className: 'doctor-summary' },
        badge(r.ok ? 'no problems' : `${open.length} problem${open.length === 1 ? '' : 's'}`, r.ok ? 'ok' : 'bad'),
        ' ',
        h('span', { className: 'muted' }, 'ran ', h('span', { 'data-since': d.at }, age(d.at)), ' ago'),
      ),
      h(
        'ul',
        { className: 'facts' },
        h('li', {}, 'Docker engine: ', r.engine.reachable ? `reachable (${r.engine.version || '?'})` : 'NOT reachable'),
        h('li', {}, 'Compose: ', r.engine.compose || 'missing'),
        h('li', {}, 'DNS server: ', r.dns.running ? (r.dns.answering ? 'running' : 'running, not answering') : 'not running', ` on 127.0.0.1:${r.dns.port}`),
      ),
      r.findings.length === 0
        ? null
        : h(
            'ul',
            { className: 'findings' },
            r.findings.map((f) =>
              h('li', { className: f.severity }, badge(f.severity, f.severity === 'error' ? 'bad' : 'warn'), ' ', h('strong', {}, f.kind), ' ', f.subject, ': ', f.message, f.fix ? h('div', { className: 'muted' }, `fix: ${f.fix} (cilo doctor --fix)`) : null),
            ),
          ),
    );
  }
  return h('section', { id: 'doctor' }, h('h2', {}, 'Doctor ', button), body);
}

function renderHome() {
  const snap = state.snapshot;
  if (!snap) return;
  document.title = 'cilo';
  main.replaceChildren(h('section', { id: 'machine' }), environmentsSection(snap), sharedSection(snap), doctorSection(snap));
  fillUsage();
  if (!state.usageTimer && !state.usageAsking) pollUsage();
}

// ---------- the environment page ----------

function renderEnvPage(name) {
  document.title = `${name} · cilo`;
  if (!state.detail || state.detail.name !== name) {
    if (!main.querySelector(`[data-page="env"][data-name="${CSS.escape(name)}"]`)) {
      main.replaceChildren(h('div', { 'data-page': 'env', 'data-name': name }, h('p', { className: 'muted' }, 'Loading…')));
    }
    loadDetail(name);
    return;
  }
  const d = state.detail;
  let page = main.querySelector(`[data-page="env"][data-name="${CSS.escape(name)}"]`);
  if (!page || !page.querySelector('#logs')) {
    page = h('div', { 'data-page': 'env', 'data-name': name }, h('div', { id: 'env-top' }), h('div', { id: 'env-body' }), logsSection(d));
    main.replaceChildren(page);
  }
  page.querySelector('#env-top').replaceChildren(envHeader(d));
  page.querySelector('#env-body').replaceChildren(servicesSection(d), connectionSection(d), datasetsSection(d));
  updateServiceFilter(d);
  ensureLogs(name);
}

function envHeader(d) {
  return h(
    'div',
    { className: 'env-header' },
    h('a', { href: '#/', className: 'back' }, '← Environments'),
    h(
      'div',
      { className: 'env-card' },
    h('h1', {}, d.name, ' ', statusBadge(d.status, d.problems, d), ' ', h('span', { className: `badge ${d.health.level}`, 'data-field': 'health' }, d.health.text)),
    problemsLine(d.problems),
    h('div', { className: 'env-actions' }, actionButtons(d.name, d.status)),
    h(
      'dl',
      { className: 'facts grid' },
      h('dt', {}, 'URL'),
      h('dd', {}, links(d.url, d.urls)),
      h('dt', {}, 'Project'),
      h('dd', {}, d.project),
      h('dt', {}, 'Subnet'),
      h('dd', { className: 'mono' }, `${d.subnet} (${d.network})`),
      h('dt', {}, 'Workspace'),
      h('dd', { className: 'mono' }, d.workspace),
      h('dt', {}, 'Source'),
      h('dd', { className: 'mono' }, d.source),
      h('dt', {}, 'Age'),
      h('dd', { 'data-since': d.created_at }, age(d.created_at)),
      d.hostnames.length ? [h('dt', {}, 'Hostnames'), h('dd', {}, d.hostnames.join(', '))] : null,
    ),
    d.last_error ? h('p', { className: 'error-box' }, d.last_error) : null,
    ),
  );
}

function servicesSection(d) {
  return h(
    'section',
    { id: 'services' },
    h('h2', {}, 'Services'),
    d.services.length === 0
      ? h('p', { className: 'empty' }, 'No services yet: press up.')
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['Service', 'Type', 'IP', 'URL', 'State', 'Health'].map((t) => h('th', {}, t)))),
          h(
            'tbody',
            {},
            d.services.map((s) =>
              h(
                'tr',
                { 'data-service': s.name },
                h('td', {}, s.name),
                h('td', {}, s.type),
                h('td', { className: 'mono' }, s.ip),
                h('td', { className: 'url' }, links(s.url, s.urls)),
                h('td', {}, badge(s.state, s.state === 'running' ? 'ok' : s.state === 'missing' ? 'bad' : s.state === 'paused' ? 'paused' : 'idle')),
                h('td', {}, s.health ? badge(s.health, s.health === 'healthy' ? 'ok' : s.health === 'unhealthy' ? 'bad' : 'starting') : h('span', { className: 'muted' }, '—')),
              ),
            ),
          ),
        ),
  );
}

function connectionSection(d) {
  return h(
    'section',
    { id: 'connection' },
    h('h2', {}, 'Connection values'),
    h('p', { className: 'muted small' }, 'What ', h('code', {}, `cilo run <cmd> ${d.name}`), ' sets; secrets are masked.'),
    h(
      'table',
      { className: 'kv' },
      h('tbody', {}, d.connection.map((c) => h('tr', {}, h('td', { className: 'mono' }, c.name), h('td', { className: 'mono' }, c.value, c.masked ? h('span', { className: 'tag' }, 'masked') : null)))),
    ),
  );
}

function datasetsSection(d) {
  return h(
    'section',
    { id: 'datasets' },
    h('h2', {}, 'Datasets'),
    d.datasets.length === 0 ? h('p', { className: 'empty' }, 'No datasets: this environment has no per-environment databases.') : h('p', {}, datasetsText(d.datasets)),
  );
}

function logsSection(d) {
  const select = h('select', { id: 'log-service', onchange: () => restartLogs() }, h('option', { value: '' }, 'all services'));
  const follow = h('input', { type: 'checkbox', id: 'log-follow', checked: true, onchange: () => restartLogs() });
  return h(
    'section',
    { id: 'logs-section' },
    h(
      'h2',
      {},
      'Logs ',
      h('span', { className: 'log-controls' }, h('label', {}, 'service ', select), h('label', {}, follow, ' follow'), h('button', { type: 'button', onclick: () => document.getElementById('logs').replaceChildren() }, 'clear')),
    ),
    h('pre', { id: 'logs', className: 'logs', 'aria-live': 'off' }),
  );
  void d;
}

function updateServiceFilter(d) {
  const select = document.getElementById('log-service');
  if (!select) return;
  const wanted = ['', ...d.services.map((s) => s.name)];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join('\n') === have.join('\n')) return;
  const current = select.value;
  select.replaceChildren(...wanted.map((v) => h('option', { value: v }, v === '' ? 'all services' : v)));
  select.value = wanted.includes(current) ? current : '';
}

function stopLogs() {
  if (state.logSource) state.logSource.close();
  state.logSource = null;
  state.logKey = '';
  state.logEndedAt = null;
}

function restartLogs() {
  stopLogs();
  const r = route();
  if (r.page === 'env') {
    document.getElementById('logs').replaceChildren();
    ensureLogs(r.name);
  }
}

const MAX_LOG_LINES = 2000;

function appendLog(service, text, kind) {
  const pre = document.getElementById('logs');
  if (!pre) return;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(h('div', { className: `log-line ${kind || ''}` }, service ? h('span', { className: 'svc' }, service) : null, text));
  while (pre.childElementCount > MAX_LOG_LINES) pre.firstElementChild.remove();
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function ensureLogs(name) {
  const service = (document.getElementById('log-service') || {}).value || '';
  const follow = (document.getElementById('log-follow') || {}).checked !== false;
  const key = `${name}\n${service}\n${follow}`;
  if (state.logSource && state.logKey === key) return;
  const since = state.logEndedAt;
  if (since !== null && !(state.detail && state.detail.name === name && state.detail.status === 'running')) return;
  stopLogs();
  const q = new URLSearchParams({ follow: follow ? '1' : '0' });
  if (since !== null) q.set('since', String(since));
  else q.set('tail', '200');
  if (service) q.set('service', service);
  const src = new EventSource(`/api/env/${encodeURIComponent(name)}/logs?${q}`);
  state.logSource = src;
  state.logKey = key;
  src.addEventListener('line', (ev) => {
    const l = JSON.parse(ev.data);
    appendLog(l.service, l.line);
  });
  src.addEventListener('end', () => {
    src.close();
    appendLog('', follow ? '(the containers stopped; the log goes on when they run again)' : '(end of log)', 'note');
    if (follow && state.logSource === src) {
      state.logSource = null;
      state.logKey = '';
      state.logEndedAt = Math.floor(Date.now() / 1000);
    }
  });
  src.addEventListener('failure', (ev) => {
    src.close();
    appendLog('', JSON.parse(ev.data).message, 'note error');
  });
}

async function loadDetail(name) {
  try {
    state.detail = await api('GET', `/api/env/${encodeURIComponent(name)}`);
    if (route().page === 'env' && route().name === name) render();
  } catch (e) {
    if (route().page !== 'env' || route().name !== name) return;
    stopLogs();
    state.detail = null;
    main.replaceChildren(
      h('div', { 'data-page': 'env-missing' }, h('a', { href: '#/', className: 'back' }, '← Environments'), h('p', { className: 'empty' }, e.status === 404 ? `There is no environment named ${name} (any more).` : e.message)),
    );
  }
}

// ---------- live updates ----------

function onSnapshot(snap) {
  state.snapshot = snap;
  scopeLabel.textContent = snap.scope.project ? `project ${snap.scope.project}` : 'all projects';
  const r = route();
  if (r.page === 'env') {
    // The page's own data is fetched again, once per burst of changes.
    clearTimeout(state.detailTimer);
    state.detailTimer = setTimeout(() => loadDetail(r.name), 50);
  } else render();
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => {
    live.dataset.state = 'live';
    live.textContent = 'live';
  });
  es.addEventListener('snapshot', (ev) => onSnapshot(JSON.parse(ev.data)));
  es.addEventListener('failure', (ev) => showToast(JSON.parse(ev.data).message, 'error'));
  es.addEventListener('error', () => {
    live.dataset.state = 'down';
    live.textContent = 'reconnecting…';
  });
}

function tick() {
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = age(el.dataset.since);
  for (const el of document.querySelectorAll('[data-until]')) el.textContent = graceText(el.dataset.until);
}

// ---------- start ----------

async function signIn() {
  const m = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return;
  // The token leaves the address bar (and the history) at once; the cookie replaces it.
  history.replaceState(null, '', '/#/');
  await api('POST', '/api/session', { token: m[1] });
}

async function start() {
  try {
    await signIn();
    onSnapshot(await api('GET', '/api/snapshot'));
  } catch (e) {
    live.dataset.state = 'down';
    live.textContent = 'signed out';
    main.replaceChildren(
      h('section', { className: 'signed-out' }, h('h2', {}, 'Not signed in'), h('p', {}, e.message), h('p', { className: 'muted' }, 'Open the URL that ', h('code', {}, 'cilo ui'), ' printed (with its #token=… part).')),
    );
    return;
  }
  connect();
  window.addEventListener('hashchange', () => {
    toast.hidden = true; // a message about the page just left
    const r = route();
    if (r.page === 'env' && state.detail && state.detail.name === r.name) loadDetail(r.name);
    render();
  });
  setInterval(tick, 1000);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      pollUsage();
    } else {
      clearTimeout(state.usageTimer);
      state.usageTimer = null;
    }
  });
}

start();
