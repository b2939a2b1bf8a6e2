// Charts (uPlot) over the station's metric series: GET /api/metrics?window=W&scope=S&metric=M gives bucketed points.
// Scope is the fleet, one policy version, or 'versions': one line per policy version (up to four) on each chart.
// Messages per second come from the fleet's window summary, sampled here.
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api } from './api.js';

const LAYERS = ['sanity', 'box', 'barrier', 'shield', 'monitor'];
const COLORS = ['#4aa3ff', '#e0a030', '#3fb37f', '#c678dd', '#e05252'];

const CHARTS = [
  {
    id: 'success',
    title: 'Success rate (%)',
    yRange: [0, 100],
    series: [{ metric: 'success_rate', label: 'success', scale: 100 }],
  },
  { id: 'return', title: 'Episode return (mean)', series: [{ metric: 'mean_return', label: 'return' }] },
  {
    id: 'interventions',
    title: 'Safety interventions by layer (per window)',
    series: LAYERS.map((l) => ({ metric: `interventions_${l}`, label: l })),
    // Compared across versions as the total.
    versus: { metric: 'interventions', label: 'all layers' },
  },
  { id: 'violations', title: 'Safety violations', series: [{ metric: 'violations', label: 'violations' }] },
  {
    id: 'latency',
    title: 'Policy latency p99 (ms)',
    series: [{ metric: 'inference_latency_p99_us', label: 'p99 ms', scale: 0.001 }],
  },
  { id: 'messages', title: 'Messages per second (fleet)', series: [{ summary: 'messagesPerS', label: 'msg/s' }] },
];

export const VERSIONS_SCOPE = 'versions';
const MAX_VERSIONS = 4;

function plotOptions(def, labels) {
  return {
    width: 380,
    height: 160,
    axes: [
      { stroke: '#8a9aab', grid: { stroke: '#2a3644' } },
      { stroke: '#8a9aab', grid: { stroke: '#2a3644' } },
    ],
    series: [{}, ...labels.map((label, k) => ({ label, stroke: COLORS[k % COLORS.length], width: 1.5 }))],
    legend: { show: labels.length > 1 },
    scales: {
      // A lone point still gets a readable minute either side.
      x: { time: true, range: (_u, min, max) => (min !== null && min === max ? [min - 60, max + 60] : [min, max]) },
      y: def.yRange ? { range: () => def.yRange } : {},
    },
  };
}

export class Charts {
  constructor(container) {
    this.container = container;
    this.plots = new Map();
    this.messages = [];
    for (const def of CHARTS) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = def.id;
      box.dataset.points = '0';
      const title = document.createElement('h3');
      title.textContent = def.title;
      box.appendChild(title);
      container.appendChild(box);
      const entry = { def, box, plot: null, labels: null };
      this.draw(
        entry,
        def.series.map((s) => s.label),
        [[]].concat(def.series.map(() => [])),
      );
      this.plots.set(def.id, entry);
    }
  }

  /** setData, or a new plot when the lines changed (another scope). */
  draw(entry, labels, data) {
    if (entry.plot === null || entry.labels.join('|') !== labels.join('|')) {
      entry.plot?.destroy();
      entry.plot = new uPlot(plotOptions(entry.def, labels), data, entry.box);
      entry.labels = labels;
    } else {
      entry.plot.setData(data);
    }
  }

  /**
   * Fetch the lines of every chart and redraw (a few requests every few seconds, never per frame). `versions` are
   * the policy versions seen in the fleet, for the 'versions' scope.
   */
  async refresh(scope, window, versions = []) {
    let summary = null;
    try {
      summary = await api('/api/metrics?window=1m&scope=fleet');
    } catch {
      summary = null;
    }
    if (summary?.summary) {
      this.messages.push([Date.now() / 1000, summary.summary.messagesPerS ?? null]);
      if (this.messages.length > 720) this.messages.shift();
    }
    for (const entry of this.plots.values()) {
      const def = entry.def;
      if (def.series[0].summary) {
        // A line needs two samples (the first comes 10 s after the page opens).
        if (this.messages.length >= 2) {
          this.draw(entry, [def.series[0].label], [this.messages.map((m) => m[0]), this.messages.map((m) => m[1])]);
        }
        entry.box.dataset.points = String(this.messages.length >= 2 ? this.messages.length : 0);
        continue;
      }
      const lines =
        scope === VERSIONS_SCOPE
          ? versions.slice(0, MAX_VERSIONS).map((v) => {
              const s = def.versus ?? def.series[0];
              return { ...s, scope: `policy:${v}`, label: v.replace(/^sha256:/, '').slice(0, 10) };
            })
          : def.series.map((s) => ({ ...s, scope }));
      const got = await Promise.all(
        lines.map((l) =>
          api(`/api/metrics?window=${window}&scope=${encodeURIComponent(l.scope)}&metric=${l.metric}`).catch(
            () => null,
          ),
        ),
      );
      // Every line's buckets on one time axis.
      const times = [...new Set(got.flatMap((g) => (g?.points ?? []).map((p) => p.timeMs / 1000)))].sort(
        (a, b) => a - b,
      );
      const data = [times];
      let points = 0;
      lines.forEach((l, k) => {
        const byTime = new Map((got[k]?.points ?? []).map((p) => [p.timeMs / 1000, p.value]));
        data.push(
          times.map((t) => {
            const v = byTime.get(t);
            if (v === null || v === undefined) return null;
            points++;
            return v * (l.scale ?? 1);
          }),
        );
      });
      this.draw(
        entry,
        lines.map((l) => l.label),
        data,
      );
      entry.box.dataset.points = String(points);
    }
  }
}
