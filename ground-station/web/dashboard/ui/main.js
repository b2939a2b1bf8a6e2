// The operator dashboard: login, then the live fleet (stream), orders, alerts, rollouts and charts. Stream batches
// are applied to a state map and drawn at most a few times a second (one frame per batch, none while hidden).
import { api, openStream, token } from './api.js';
import { Charts } from './charts.js';
import { ago, el, fmt } from './dom.js';
import { FleetMap, geoToNe } from './map.js';
import { RolloutsPanel } from './rollouts.js';

const $ = (id) => document.getElementById(id);
const MIN_FRAME_MS = 250;

const state = {
  drones: new Map(),
  changed: new Set(),
  removed: new Set(),
  rowsDirty: new Set(),
  rowsRemoved: new Set(),
  rowsAt: 0,
  rowsTimer: null,
  tableVisible: true,
  origin: null,
  selected: null,
  policies: new Set(),
  eventsCursor: new Map(),
  interventions: new Map(),
  timers: [],
  closeStream: null,
};

// Counters the browser tests and the benchmark read.
window.aerieDashboard = { frames: 0, batches: 0, lastBatchAtMs: 0, estops: 0 };

function showLogin(message = '') {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('login-token').focus();
}

async function verify(candidate) {
  try {
    await api('/api/station', { tokenOverride: candidate });
    return null;
  } catch (err) {
    return err.status === 401
      ? 'That token is not this station’s operator token.'
      : `Station unreachable: ${err.message}`;
  }
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const candidate = $('login-token').value.trim();
  const problem = await verify(candidate);
  if (problem) return showLogin(problem);
  token.set(candidate);
  $('login-token').value = '';
  startApp();
});

$('logout').addEventListener('click', () => {
  token.clear();
  stopApp();
  showLogin();
});

window.addEventListener('aerie:unauthorized', () => {
  token.clear();
  stopApp();
  showLogin('The station refused the token; log in again.');
});

let map = null;
let charts = null;
let rollouts = null;

function flash(message) {
  $('order-result').textContent = message;
}

function startApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  map ??= new FleetMap($('map'), {
    onDroneClick: (id) => selectDrone(id),
    onMapClick: (p) => {
      $('order-north').value = String(p.northM);
      $('order-east').value = String(p.eastM);
      map.setPendingDrop(p);
      flash(`drop point ${p.northM} m N, ${p.eastM} m E - fill in and create the order`);
    },
  });
  charts ??= new Charts($('charts'));
  rollouts ??= new RolloutsPanel($('rollouts'), { onError: flash });
  state.closeStream = openStream(
    {
      setup: (s) => {
        state.origin = s.origin;
        map.setOrigin(s.origin, s.depots);
        refreshAirspace();
      },
      fleet: applyFleet,
      alerts: renderAlerts,
      rollout: (r) => rollouts.update(r),
      estop: (e) => {
        window.aerieDashboard.estops++;
        flash(`Emergency stop sent (${e.commandId}): ${e.reason}`);
      },
    },
    (s) => {
      const pill = $('stream-state');
      pill.textContent = s;
      pill.className = `pill ${s}`;
    },
  );
  const every = (ms, f) => {
    f();
    state.timers.push(setInterval(f, ms));
  };
  every(2000, refreshOrders);
  every(5000, () => rollouts.refresh());
  every(10_000, refreshCharts);
  every(30_000, refreshAirspace);
  every(3000, refreshDronePanel);
}

function stopApp() {
  state.closeStream?.();
  state.closeStream = null;
  for (const t of state.timers) clearInterval(t);
  state.timers = [];
  state.drones.clear();
  map?.clear();
}

// ---- fleet ----

function applyFleet(delta) {
  window.aerieDashboard.batches++;
  window.aerieDashboard.lastBatchAtMs = Date.now();
  if (delta.full) {
    const kept = new Set(delta.upsert.map((f) => f.id));
    for (const id of state.drones.keys()) if (!kept.has(id)) state.removed.add(id);
    state.drones.clear();
  }
  for (const f of delta.upsert) {
    state.drones.set(f.id, f);
    state.changed.add(f.id);
    if (f.policyVersion) state.policies.add(f.policyVersion);
  }
  for (const id of delta.remove) {
    state.drones.delete(id);
    state.removed.add(id);
  }
  scheduleFrame();
}

let frameQueued = false;
let lastFrameAt = 0;
function scheduleFrame() {
  if (frameQueued) return;
  frameQueued = true;
  const wait = Math.max(0, MIN_FRAME_MS - (performance.now() - lastFrameAt));
  setTimeout(() => requestAnimationFrame(drawFrame), wait);
}

function drawFrame() {
  frameQueued = false;
  lastFrameAt = performance.now();
  window.aerieDashboard.frames++;
  const changed = [...state.changed].map((id) => state.drones.get(id)).filter(Boolean);
  state.changed.clear();
  map.update(changed);
  map.remove([...state.removed]);
  for (const f of changed) state.rowsDirty.add(f.id);
  for (const id of state.removed) state.rowsRemoved.add(id);
  state.removed.clear();
  renderDroneRowsIfDue();
  renderSummary();
  renderScopes();
  if (state.selected && changed.some((f) => f.id === state.selected)) renderDronePanel();
}

// The table is the page's most expensive part to lay out: updated once a second at most while on screen, every
// 5 s while scrolled away (and at once when it comes back).
const ROWS_EVERY_MS = 1000;
const ROWS_OFFSCREEN_EVERY_MS = 5000;
new IntersectionObserver((entries) => {
  state.tableVisible = entries.some((e) => e.isIntersecting);
  if (state.tableVisible) renderDroneRowsIfDue(true);
}).observe(document.getElementById('drones'));

function renderDroneRowsIfDue(force = false) {
  const now = performance.now();
  const every = state.tableVisible ? ROWS_EVERY_MS : ROWS_OFFSCREEN_EVERY_MS;
  if (!force && now - state.rowsAt < every) {
    // The last changes must show even if no batch follows: one timer for when the table is due.
    state.rowsTimer ??= setTimeout(
      () => {
        state.rowsTimer = null;
        renderDroneRowsIfDue();
      },
      every - (now - state.rowsAt),
    );
    return;
  }
  clearTimeout(state.rowsTimer);
  state.rowsTimer = null;
  state.rowsAt = now;
  const changed = [...state.rowsDirty].map((id) => state.drones.get(id)).filter(Boolean);
  renderDroneRows(changed, [...state.rowsRemoved]);
  state.rowsDirty.clear();
  state.rowsRemoved.clear();
}

const rows = new Map();
function renderDroneRows(changed, removed) {
  const body = $('drones');
  for (const id of removed) {
    rows.get(id)?.remove();
    rows.delete(id);
  }
  for (const f of changed) {
    let row = rows.get(f.id);
    if (!row) {
      row = el('tr', { 'data-drone-id': f.id, onclick: () => selectDrone(f.id) });
      for (let k = 0; k < 9; k++) row.append(el('td'));
      rows.set(f.id, row);
      const after = [...rows.keys()].sort().find((k) => k > f.id);
      body.insertBefore(row, after ? rows.get(after) : null);
    }
    const cells = [
      f.id,
      f.online ? f.health : 'offline',
      f.mode ?? '-',
      f.phase ?? '-',
      f.batteryPct === null ? '-' : `${f.batteryPct} %`,
      fmt(f.altM),
      fmt(f.speedMps),
      f.policyVersion ?? '-',
      f.task ?? '',
    ];
    cells.forEach((text, k) => {
      if (row.children[k].textContent !== text) row.children[k].textContent = text;
    });
  }
}

function renderSummary() {
  let online = 0;
  let flying = 0;
  for (const f of state.drones.values()) {
    if (f.online) online++;
    if (f.armed && !f.landed) flying++;
  }
  $('fleet-summary').textContent = `${state.drones.size} drones, ${online} online, ${flying} flying`;
  $('fleet-summary').dataset.flying = String(flying);
}

function renderScopes() {
  const select = $('chart-scope');
  const have = new Set([...select.options].map((o) => o.value));
  for (const v of state.policies) {
    if (!have.has(`policy:${v}`)) select.append(el('option', { value: `policy:${v}` }, `policy ${v}`));
  }
}

// ---- drone panel ----

function selectDrone(id) {
  state.selected = id;
  map.select(id);
  for (const [rid, row] of rows) row.classList.toggle('selected', rid === id);
  $('drone-panel').hidden = false;
  renderDronePanel();
  refreshDronePanel();
}

$('dp-close').addEventListener('click', () => {
  state.selected = null;
  map.select(null);
  $('drone-panel').hidden = true;
});

function renderDronePanel() {
  const f = state.drones.get(state.selected);
  if (!f) return;
  $('dp-id').textContent = f.id;
  const link = f.link
    ? `${f.link.up ? 'up' : 'DOWN'}, heartbeat ${f.link.heartbeatAgeMs ?? '-'} ms, ${f.link.downs} losses; telemetry ${fmt(f.telemetryAgeS)} s old`
    : 'no telemetry';
  const fields = [
    ['online', f.online ? 'yes' : 'no'],
    ['health', f.health],
    ['mode', `${f.mode ?? '-'}${f.armed ? ', armed' : ''}${f.landed ? ', landed' : ''}`],
    ['phase', f.phase ?? '-'],
    ['battery', f.batteryPct === null ? '-' : `${f.batteryPct} %`],
    ['position', `${fmt(f.northM)} m N, ${fmt(f.eastM)} m E, ${fmt(f.altM)} m up`],
    ['heading', f.headingDeg === null ? '-' : `${f.headingDeg}°`],
    ['speed', `${fmt(f.speedMps)} m/s`],
    ['policy', f.policyVersion ?? '-'],
    ['task', f.task ?? 'none'],
    ['link', link],
  ];
  $('dp-fields').replaceChildren(...fields.flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k }, v)]));
  const list = state.interventions.get(f.id) ?? [];
  $('dp-interventions').replaceChildren(
    ...(list.length === 0
      ? [el('li', { class: 'muted' }, 'none this session')]
      : list
          .slice()
          .reverse()
          .map((e) => {
            const layers = Object.entries(e.byLayer ?? {})
              .filter(([, n]) => n > 0)
              .map(([l, n]) => `${l} ${n}`)
              .join(', ');
            return el('li', {}, `${ago(e.timeMs)}: ${e.interventionTicks}/${e.ticks} ticks (${layers})`);
          })),
  );
}

/** New intervention events of the selected drone's session, paged on from the last row seen. */
async function refreshDronePanel() {
  const id = state.selected;
  if (!id) return;
  try {
    const drone = await api(`/api/fleet/${encodeURIComponent(id)}`);
    const cursor = state.eventsCursor.get(id);
    if (!cursor || cursor.session !== drone.sessionId) {
      state.eventsCursor.set(id, { session: drone.sessionId, after: 0 });
      state.interventions.set(id, []);
    }
    const c = state.eventsCursor.get(id);
    const list = state.interventions.get(id);
    for (let page = 0; page < 20; page++) {
      const q = `session=${encodeURIComponent(c.session ?? '')}&after=${c.after}&limit=500`;
      const { events } = await api(`/api/fleet/${encodeURIComponent(id)}/events?${q}`);
      for (const e of events) {
        c.after = Math.max(c.after, e.rowId);
        if (e.kind === 'intervention') list.push(e.event);
      }
      if (list.length > 10) list.splice(0, list.length - 10);
      if (events.length < 500) break;
    }
    if (state.selected === id) renderDronePanel();
  } catch (err) {
    if (err.status !== 404) flash(`drone ${id}: ${err.message}`);
  }
}

// ---- alerts ----

function renderAlerts(view) {
  const all = [...(view.firing ?? []), ...(view.pending ?? []), ...(view.resolved ?? []).slice(0, 10)];
  const list = $('alerts');
  if (all.length === 0) {
    list.replaceChildren(el('li', { class: 'muted' }, 'no alerts'));
    return;
  }
  list.replaceChildren(
    ...all.map((a) =>
      el(
        'li',
        { class: `sev-${a.severity} state-${a.state}`, 'data-alert-id': a.id, 'data-state': a.state },
        `${a.state.toUpperCase()} ${a.severity} ${a.rule} on ${a.scopeKey}`,
        a.value === null ? '' : ` (${fmt(a.value, 3)})`,
        ` since ${ago(a.firedAtMs ?? a.activeAtMs)}`,
        a.acknowledgedBy
          ? el('span', { class: 'muted' }, ` - acknowledged by ${a.acknowledgedBy}`)
          : a.state === 'resolved'
            ? ''
            : el('button', { type: 'button', class: 'small', onclick: () => ackAlert(a.id) }, 'acknowledge'),
      ),
    ),
  );
}

async function ackAlert(id) {
  try {
    await api(`/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', body: { by: 'dashboard' } });
    renderAlerts(await api('/api/alerts'));
  } catch (err) {
    flash(`acknowledge: ${err.message}`);
  }
}

// ---- deliveries ----

$('order-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = {
    drop: { northM: Number($('order-north').value), eastM: Number($('order-east').value) },
    weightKg: Number($('order-weight').value),
    priority: Number($('order-priority').value || 3),
  };
  const reference = $('order-reference').value.trim();
  if (reference) body.reference = reference;
  try {
    const order = await api('/api/deliveries', { method: 'POST', body });
    flash(`order ${order.id} queued`);
    $('order-result').dataset.orderId = order.id;
    map.setPendingDrop(null);
    refreshOrders();
  } catch (err) {
    flash(`refused: ${err.message}`);
  }
});

async function refreshOrders() {
  try {
    const [open, done] = await Promise.all([
      api('/api/deliveries?status=queued,assigned,in-flight&limit=200'),
      api('/api/deliveries?status=delivered,failed,cancelled&limit=30'),
    ]);
    const dropNe = (o) => (state.origin ? geoToNe(state.origin, o.drop) : { n: o.drop.northM, e: o.drop.eastM });
    map?.setDrops(
      open.orders.map((o) => {
        const ne = dropNe(o);
        return { id: o.id, status: o.status, northM: ne.n, eastM: ne.e };
      }),
    );
    $('queue').replaceChildren(
      ...open.orders.map((o) => {
        const ne = dropNe(o);
        return el(
          'tr',
          { 'data-order-id': o.id, 'data-status': o.status },
          el('td', {}, o.reference ? `${o.id} (${o.reference})` : o.id),
          el('td', {}, o.status),
          el('td', {}, o.droneId ?? '-'),
          el('td', {}, `${Math.round(ne.n)} / ${Math.round(ne.e)}`),
          el('td', {}, o.priority),
          el('td', {}, el('button', { type: 'button', class: 'small', onclick: () => cancelOrder(o.id) }, 'cancel')),
        );
      }),
    );
    $('history').replaceChildren(
      ...done.orders.map((o) =>
        el(
          'tr',
          { 'data-order-id': o.id, 'data-status': o.status },
          el('td', {}, o.id),
          el('td', {}, o.status),
          el('td', {}, o.droneId ?? '-'),
          el('td', {}, o.reason ?? ''),
          el('td', {}, ago(o.updatedAtMs)),
        ),
      ),
    );
  } catch (err) {
    if (err.status !== 401) flash(`orders: ${err.message}`);
  }
}

async function cancelOrder(id) {
  try {
    await api(`/api/deliveries/${encodeURIComponent(id)}/cancel`, { method: 'POST', body: {} });
  } catch (err) {
    flash(`cancel ${id}: ${err.message}`);
  }
  refreshOrders();
}

// ---- airspace ----

async function refreshAirspace() {
  if (!state.origin) return;
  try {
    map.setAirspace(await api('/api/airspace'));
  } catch {
    map.setAirspace(null); // none set yet, or a station without the airspace API
  }
}

// ---- emergency stop ----

$('estop').addEventListener('click', () => $('estop-dialog').showModal());
$('estop-dialog').addEventListener('close', async () => {
  if ($('estop-dialog').returnValue !== 'confirm') return;
  try {
    const r = await api('/api/fleet/estop', {
      method: 'POST',
      body: { confirm: true, reason: $('estop-reason').value || 'operator emergency stop' },
    });
    flash(`Emergency stop sent (${r.commandId})`);
  } catch (err) {
    flash(`EMERGENCY STOP NOT SENT: ${err.message}`);
  }
});

function refreshCharts() {
  // Versions to compare: those the fleet flies, and those of the rollouts (candidate against baseline).
  const versions = new Set(state.policies);
  for (const r of rollouts.rollouts.values()) for (const v of [r.candidate, r.baseline]) if (v) versions.add(v);
  return charts.refresh($('chart-scope').value, $('chart-window').value, [...versions].sort());
}
$('chart-scope').addEventListener('change', refreshCharts);
$('chart-window').addEventListener('change', refreshCharts);

// ---- start ----

(async () => {
  const saved = token.get();
  if (!saved) return showLogin();
  const problem = await verify(saved);
  if (problem) {
    token.clear();
    return showLogin(problem);
  }
  startApp();
})();
