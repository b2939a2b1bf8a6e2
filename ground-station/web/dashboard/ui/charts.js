// Charts (uPlot) over the station's metric series: GET /api/metrics?window=W&scope=S&metric=M gives bucketed points.
// Scope is the fleet or one policy version. Messages per second come from the window summary, sampled here.
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
  },
  { id: 'violations', title: 'Safety violations', series: [{ metric: 'violations', label: 'violations' }] },
  {
    id: 'latency',
    title: 'Policy latency p99 (ms)',
    series: [{ metric: 'inference_latency_p99_us', label: 'p99 ms', scale: 0.001 }],
  },
  { id: 'messages', title: 'Messages per second (fleet)', series: [{ summary: 'messagesPerS', label: 'msg/s' }] },
];

export class Charts {
  constructor(container) {
    this.container = container;
    this.plots = new Map();
    this.messages = [];
    for (const c of CHARTS) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = c.id;
      box.dataset.points = '0';
      const title = document.createElement('h3');
      title.textContent = c.title;
      box.appendChild(title);
      container.appendChild(box);
      const opts = {
        width: 380,
        height: 160,
        axes: [
          { stroke: '#8a9aab', grid: { stroke: '#2a3644' } },
          { stroke: '#8a9aab', grid: { stroke: '#2a3644' } },
        ],
        series: [{}, ...c.series.map((s, k) => ({ label: s.label, stroke: COLORS[k % COLORS.length], width: 1.5 }))],
        legend: { show: c.series.length > 1 },
        scales: {
          // A lone point still gets a readable minute either side.
          x: { time: true, range: (_u, min, max) => (min !== null && min === max ? [min - 60, max + 60] : [min, max]) },
          y: c.yRange ? { range: () => c.yRange } : {},
        },
      };
      const plot = new uPlot(opts, [[], ...c.series.map(() => [])], box);
      this.plots.set(c.id, { def: c, plot, box });
    }
  }

  /** Fetch every series of the scope and redraw (a few requests every few seconds, never per frame). */
  async refresh(scope, window) {
    let summary = null;
    try {
      summary = await api(`/api/metrics?window=1m&scope=fleet`);
    } catch {
      summary = null;
    }
    if (summary?.summary) {
      this.messages.push([Date.now() / 1000, summary.summary.messagesPerS ?? null]);
      if (this.messages.length > 720) this.messages.shift();
    }
    for (const { def, plot, box } of this.plots.values()) {
      if (def.series[0].summary) {
        // A line needs two samples (the first comes 10 s after the page opens).
        if (this.messages.length >= 2) plot.setData([this.messages.map((m) => m[0]), this.messages.map((m) => m[1])]);
        box.dataset.points = String(this.messages.length >= 2 ? this.messages.length : 0);
        continue;
      }
      const got = await Promise.all(
        def.series.map((s) =>
          api(`/api/metrics?window=${window}&scope=${encodeURIComponent(scope)}&metric=${s.metric}`).catch(() => null),
        ),
      );
      const times = (got.find((g) => g?.points?.length) ?? { points: [] }).points.map((p) => p.timeMs / 1000);
      const data = [times];
      let points = 0;
      def.series.forEach((s, k) => {
        const pts = got[k]?.points ?? [];
        const byTime = new Map(pts.map((p) => [p.timeMs / 1000, p.value]));
        data.push(
          times.map((t) => {
            const v = byTime.get(t);
            if (v === null || v === undefined) return null;
            points++;
            return v * (s.scale ?? 1);
          }),
        );
      });
      plot.setData(data);
      box.dataset.points = String(points);
    }
  }
}
