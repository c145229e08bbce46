// Small SVG charts drawn by hand: a sparkline and a line chart with several
// series, gaps shown as breaks. Series values come from the API's series
// JSON ({points: [{t, avg, max}], gaps: [{from_ms, to_ms}]}).
import { svgEl, el } from './dom.js';

const W = 320;
const H = 90;
const PAD = { l: 44, r: 6, t: 6, b: 16 };

function pathFor(points, x, y, gaps) {
  let d = '';
  let pen = false;
  let prevT = null;
  for (const p of points) {
    const broken = prevT !== null && gaps.some((g) => g.from_ms >= prevT && g.from_ms < p.t);
    d += (pen && !broken ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.avg).toFixed(1);
    pen = true;
    prevT = p.t;
  }
  return d;
}

// series: [{name, colour, data: seriesJson}], fmt: value → text
export function lineChart(series, fmt, opts) {
  const o = Object.assign({ width: W, height: H }, opts || {});
  const all = series.flatMap((s) => (s.data ? s.data.points : []));
  const svg = svgEl('svg', {
    viewBox: '0 0 ' + o.width + ' ' + o.height,
    width: o.width,
    height: o.height,
    class: 'chart',
  });
  if (!all.length) {
    svg.appendChild(svgEl('text', { x: 8, y: o.height / 2, class: 'chart-empty' }, 'no data in this range'));
    return svg;
  }
  const first = series.find((s) => s.data)?.data;
  const t0 = first.since_ms ?? Math.min(...all.map((p) => p.t));
  const t1 = first.until_ms ?? Math.max(...all.map((p) => p.t));
  const vmax = Math.max(1e-9, ...all.map((p) => p.avg));
  const x = (t) => PAD.l + ((t - t0) / Math.max(1, t1 - t0)) * (o.width - PAD.l - PAD.r);
  const y = (v) => o.height - PAD.b - (v / vmax) * (o.height - PAD.t - PAD.b);
  svg.appendChild(svgEl('line', {
    x1: PAD.l, y1: o.height - PAD.b, x2: o.width - PAD.r, y2: o.height - PAD.b, class: 'axis',
  }));
  svg.appendChild(svgEl('text', { x: 2, y: PAD.t + 8, class: 'chart-label' }, fmt(vmax)));
  svg.appendChild(svgEl('text', { x: 2, y: o.height - PAD.b, class: 'chart-label' }, fmt(0)));
  svg.appendChild(svgEl('text', { x: PAD.l, y: o.height - 3, class: 'chart-label' },
    new Date(t0).toLocaleString()));
  for (const s of series) {
    if (!s.data || !s.data.points.length) continue;
    svg.appendChild(svgEl('path', {
      d: pathFor(s.data.points, x, y, s.data.gaps || []),
      fill: 'none',
      stroke: s.colour,
      'stroke-width': 1.5,
    }));
  }
  return svg;
}

export function legend(series) {
  return el('div', { class: 'legend' }, series.map((s) => {
    const swatch = el('span', { class: 'swatch' });
    swatch.style.background = s.colour;
    return el('span', { class: 'legend-item' }, [swatch, s.name]);
  }));
}
