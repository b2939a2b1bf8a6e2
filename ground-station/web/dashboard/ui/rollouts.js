// Policy rollouts: progress per step, the analysis of the candidate against the baseline, and the operator's
// buttons (promote, pause / resume, abort = roll back) over /api/rollouts. Live changes arrive on the stream.
import { api } from './api.js';
import { el, fmt } from './dom.js';

const ACTIVE = new Set(['shadow', 'canary', 'staged', 'paused']);

export class RolloutsPanel {
  constructor(container, { onError }) {
    this.container = container;
    this.onError = onError;
    this.rollouts = new Map();
    this.available = null;
  }

  async refresh() {
    try {
      const body = await api('/api/rollouts');
      const list = Array.isArray(body) ? body : (body?.rollouts ?? []);
      this.available = true;
      this.rollouts = new Map(list.map((r) => [r.id, r]));
    } catch (err) {
      if (err.status === 404) this.available = false;
      else this.onError(`rollouts: ${err.message}`);
    }
    this.render();
  }

  /** One rollout from the stream. */
  update(r) {
    this.available = true;
    this.rollouts.set(r.id, r);
    this.render();
  }

  async act(id, action) {
    try {
      const r = await api(`/api/rollouts/${encodeURIComponent(id)}/${action}`, {
        method: 'POST',
        body: { by: 'dashboard' },
      });
      if (r?.id) this.rollouts.set(r.id, r);
      await this.refresh();
    } catch (err) {
      this.onError(`${action} ${id}: ${err.message}`);
    }
  }

  render() {
    const c = this.container;
    c.replaceChildren();
    if (this.available === false) {
      c.append(el('p', { class: 'muted' }, 'This station has no rollouts API.'));
      return;
    }
    if (this.rollouts.size === 0) {
      c.append(el('p', { class: 'muted' }, 'No rollouts. Start one with aerie rollout start.'));
      return;
    }
    const list = [...this.rollouts.values()].sort(
      (a, b) => Number(ACTIVE.has(b.state)) - Number(ACTIVE.has(a.state)) || String(b.id).localeCompare(a.id),
    );
    for (const r of list) c.append(this.renderOne(r));
  }

  renderOne(r) {
    const steps = r.steps ?? [];
    const stepBar = el(
      'div',
      { class: 'steps' },
      ...steps.map((share, k) =>
        el(
          'div',
          {
            class: `step ${k < r.stepIndex || r.state === 'completed' ? 'done' : k === r.stepIndex ? 'current' : ''}`,
          },
          `${Math.round(share * 100)} %`,
        ),
      ),
    );
    const a = r.analysis ?? {};
    const row = (name, key, f) =>
      el('tr', {}, el('td', {}, name), el('td', {}, f(a.candidate?.[key])), el('td', {}, f(a.baseline?.[key])));
    const table = el(
      'table',
      { class: 'table' },
      el('thead', {}, el('tr', {}, el('th', {}, ''), el('th', {}, 'candidate'), el('th', {}, 'baseline'))),
      el(
        'tbody',
        {},
        row('episodes', 'episodes', (v) => fmt(v, 0)),
        row('success rate', 'successRate', (v) => (v == null ? '-' : `${(v * 100).toFixed(1)} %`)),
        row('mean return', 'meanReturn', (v) => fmt(v, 2)),
        row('interventions / tick', 'interventionsPerTick', (v) => fmt(v, 4)),
        row('violations', 'violations', (v) => fmt(v, 0)),
        row('policy faults', 'policyFaults', (v) => fmt(v, 0)),
      ),
    );
    const effects = (a.effects ?? []).map((e) =>
      el('li', {}, `${e.metric}: ${fmt(e.delta, 4)} (95 % CI ${fmt(e.ci95?.[0], 4)} .. ${fmt(e.ci95?.[1], 4)})`),
    );
    const live = ACTIVE.has(r.state);
    const button = (label, action, cls = '') =>
      el(
        'button',
        {
          type: 'button',
          class: cls,
          'data-action': action,
          disabled: live ? null : '',
          onclick: () => this.act(r.id, action),
        },
        label,
      );
    return el(
      'div',
      { class: 'rollout', 'data-rollout-id': r.id, 'data-state': r.state },
      el(
        'div',
        {},
        el('strong', {}, `${r.id}`),
        ` ${r.mode ?? ''}: ${r.candidate ?? '?'} over ${r.baseline ?? '?'} - `,
        el('span', { class: 'rollout-state' }, r.state),
        `, share ${fmt((r.share ?? 0) * 100, 0)} %, step ${Number(r.stepIndex ?? 0) + 1}/${steps.length}`,
      ),
      stepBar,
      table,
      el('p', {}, 'decision: ', el('span', { class: `decision-${a.decision}` }, a.decision ?? '-')),
      effects.length ? el('ul', {}, ...effects) : '',
      el(
        'div',
        { class: 'row' },
        button('Promote', 'promote'),
        r.state === 'paused' ? button('Resume', 'resume') : button('Pause', 'pause'),
        button('Abort (roll back)', 'abort', 'danger'),
      ),
    );
  }
}
