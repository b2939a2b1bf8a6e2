/**
 * The training and evaluation plot, as a self-contained SVG written by hand (no plotting dependency): the learning
 * curve (success rate, cost per tick, return, Lagrange multiplier against environment steps) and the evaluation
 * (success, breaches and interventions per safety layer as shares, time to deliver).
 */
import type { SectionReport } from './evaluate.js';
import type { IterationRecord } from './history.js';

const W = 900;
const PANEL_H = 150;
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));

function linePanel(
  top: number,
  title: string,
  xs: readonly number[],
  ys: readonly number[],
  colour: string,
  fixed?: [number, number],
): string {
  const left = 70;
  const right = W - 20;
  const bottom = top + PANEL_H - 30;
  const innerTop = top + 22;
  const pts = xs.map((x, k) => [x, ys[k]] as const).filter(([, y]) => Number.isFinite(y));
  const parts = [`<text x="${left}" y="${top + 14}" class="title">${esc(title)}</text>`];
  parts.push(`<rect x="${left}" y="${innerTop}" width="${right - left}" height="${bottom - innerTop}" class="frame"/>`);
  if (pts.length === 0) return parts.join('');
  const xMin = Math.min(...pts.map((p) => p[0]));
  const xMax = Math.max(...pts.map((p) => p[0]), xMin + 1);
  let [yMin, yMax] = fixed ?? [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (yMax - yMin < 1e-9) [yMin, yMax] = [yMin - 1, yMax + 1];
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const sy = (y: number) => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - innerTop);
  const path = pts.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
  parts.push(`<path d="${path}" stroke="${colour}" class="line"/>`);
  parts.push(`<text x="${left - 6}" y="${innerTop + 4}" class="tick" text-anchor="end">${fmt(yMax)}</text>`);
  parts.push(`<text x="${left - 6}" y="${bottom}" class="tick" text-anchor="end">${fmt(yMin)}</text>`);
  parts.push(`<text x="${right}" y="${bottom + 14}" class="tick" text-anchor="end">${fmt(xMax / 1e6)}M steps</text>`);
  parts.push(`<text x="${left}" y="${bottom + 14}" class="tick">${fmt(xMin / 1e6)}M</text>`);
  return parts.join('');
}

function barPanel(top: number, title: string, bars: readonly [string, number][], note: string): string {
  const left = 230;
  const right = W - 80;
  const rowH = 18;
  const parts = [`<text x="20" y="${top + 14}" class="title">${esc(title)}</text>`];
  bars.forEach(([label, value], k) => {
    const y = top + 24 + k * rowH;
    const width = Math.max(0, Math.min(1, value)) * (right - left);
    parts.push(`<text x="${left - 8}" y="${y + 12}" class="tick" text-anchor="end">${esc(label)}</text>`);
    parts.push(
      `<rect x="${left}" y="${y + 2}" width="${(right - left).toFixed(1)}" height="${rowH - 5}" class="track"/>`,
    );
    parts.push(`<rect x="${left}" y="${y + 2}" width="${width.toFixed(1)}" height="${rowH - 5}" class="bar"/>`);
    parts.push(
      `<text x="${right + 6}" y="${y + 12}" class="tick">${(100 * value).toFixed(value < 0.01 ? 2 : 1)}%</text>`,
    );
  });
  parts.push(`<text x="20" y="${top + 34 + bars.length * rowH}" class="tick">${esc(note)}</text>`);
  return parts.join('');
}

function isSectionList(x: SectionReport | readonly SectionReport[]): x is readonly SectionReport[] {
  return Array.isArray(x);
}

/** One SVG with the learning curve (when a history is given) and the evaluation sections (when given). */
export function trainingPlotSvg(
  history: readonly IterationRecord[] | null,
  evaluation: SectionReport | readonly SectionReport[] | null,
): string {
  const panels: string[] = [];
  let y = 10;
  if (history && history.length > 0) {
    const xs = history.map((r) => r.envSteps);
    const validated = history.filter((r) => r.validation);
    const vx = validated.map((r) => r.envSteps);
    const curves: [string, readonly number[], readonly number[], string, [number, number]?][] = [
      ['Success rate (training episodes, noisy policy)', xs, history.map((r) => r.successRate), '#1a7f37', [0, 1]],
    ];
    if (validated.length > 0) {
      curves.push(
        [
          'Success rate of the mean policy (validation, what is exported)',
          vx,
          validated.map((r) => r.validation?.successRate ?? Number.NaN),
          '#1a7f37',
          [0, 1],
        ],
        [
          'Mean policy: share of ticks rate-limited or barrier-changed (validation)',
          vx,
          validated.map((r) => r.validation?.interventionShare ?? Number.NaN),
          '#bc4c00',
        ],
      );
    }
    curves.push(
      ['Cost per tick (breach or barrier intervention)', xs, history.map((r) => r.costRate), '#cf222e'],
      ['Mean episode return', xs, history.map((r) => r.meanReturn), '#0969da'],
      ['Lagrange multiplier', xs, history.map((r) => r.lambda), '#8250df'],
    );
    for (const [title, cx, cy, colour, fixed] of curves) {
      panels.push(linePanel(y, title, cx, cy, colour, fixed));
      y += PANEL_H;
    }
  }
  const sections: readonly SectionReport[] =
    evaluation === null ? [] : isSectionList(evaluation) ? evaluation : [evaluation];
  for (const section of sections) {
    const bars: [string, number][] = [
      ['success rate', section.successRate],
      ['episodes with a breach', section.breaches.episodeShare],
      ...Object.entries(section.interventionShare).map(([k, v]): [string, number] => [`${k} interventions`, v]),
      ...Object.entries(section.breaches.tickShare).map(([k, v]): [string, number] => [`${k} breach ticks`, v]),
    ];
    const t = section.timeToDeliverS;
    const note =
      `${section.episodes} episodes; cost ${section.cost.perTick.toFixed(4)}/tick; ` +
      (t
        ? `time to deliver mean ${t.mean.toFixed(1)} s, p50 ${t.p50.toFixed(1)} s, p95 ${t.p95.toFixed(1)} s`
        : 'no delivery');
    panels.push(barPanel(y, `Evaluation: ${section.section} (shares of episodes or of ticks)`, bars, note));
    y += 50 + bars.length * 18;
  }
  const style =
    '<style>.title{font:bold 13px sans-serif}.tick{font:11px sans-serif;fill:#444}.frame{fill:#fafafa;stroke:#ccc}' +
    '.line{fill:none;stroke-width:1.8}.track{fill:#eee}.bar{fill:#0969da}</style>';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" viewBox="0 0 ${W} ${y + 10}">` +
    `<rect width="100%" height="100%" fill="white"/>${style}${panels.join('')}</svg>\n`
  );
}
