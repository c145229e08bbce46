// Exporting the map as it is drawn: PNG through cytoscape's own renderer,
// SVG built here from the element positions and styles (labels as SVG text
// nodes, so device strings stay text).
import { svgEl, download } from './dom.js';

export function exportPng(cy, dark) {
  const blob = cy.png({ output: 'blob', full: true, scale: 2, bg: dark ? '#10141a' : '#ffffff' });
  download(blob, 'nocmap-map.png');
}

function shapeFor(n, p, w, h, fill) {
  const shape = n.style('shape');
  if (shape === 'ellipse') return svgEl('ellipse', { cx: p.x, cy: p.y, rx: w / 2, ry: h / 2, fill });
  if (shape === 'diamond') {
    const pts = [[p.x, p.y - h / 2], [p.x + w / 2, p.y], [p.x, p.y + h / 2], [p.x - w / 2, p.y]];
    return svgEl('polygon', { points: pts.map((q) => q.join(',')).join(' '), fill });
  }
  return svgEl('rect', { x: p.x - w / 2, y: p.y - h / 2, width: w, height: h, rx: shape === 'round-rectangle' ? 5 : 0, fill });
}

export function buildSvg(cy, dark) {
  const els = cy.elements(':visible');
  const bb = els.boundingBox({ includeLabels: true });
  const m = 20;
  const svg = svgEl('svg', {
    viewBox: [bb.x1 - m, bb.y1 - m, bb.w + 2 * m, bb.h + 2 * m].join(' '),
    width: Math.ceil(bb.w + 2 * m),
    height: Math.ceil(bb.h + 2 * m),
  });
  svg.appendChild(svgEl('rect', {
    x: bb.x1 - m, y: bb.y1 - m, width: bb.w + 2 * m, height: bb.h + 2 * m,
    fill: dark ? '#10141a' : '#ffffff',
  }));
  const text = dark ? '#e8eaed' : '#1b1f24';
  for (const e of cy.edges(':visible')) {
    const s = e.source().position();
    const t = e.target().position();
    const mx = (s.x + t.x) / 2;
    const my = (s.y + t.y) / 2;
    const d = e.data();
    const width = d.width;
    const dash = e.style('line-style') === 'dashed' ? '8 5' : null;
    const solid = d.state !== 'ok';
    const ca = solid ? e.style('line-color') : d.abColour;
    const cb = solid ? e.style('line-color') : d.baColour;
    svg.appendChild(svgEl('line', { x1: s.x, y1: s.y, x2: mx, y2: my, stroke: ca, 'stroke-width': width, 'stroke-dasharray': dash }));
    svg.appendChild(svgEl('line', { x1: mx, y1: my, x2: t.x, y2: t.y, stroke: cb, 'stroke-width': width, 'stroke-dasharray': dash }));
    if (d.label) svg.appendChild(svgEl('text', { x: mx, y: my - 4, 'font-size': 9, fill: text, 'text-anchor': 'middle' }, d.label));
  }
  // Sites' boxes before their devices (a box is a node added after them).
  const nodes = cy.nodes(':visible');
  for (const n of [...nodes.filter('[kind="site-box"]'), ...nodes.filter('[kind!="site-box"]')]) {
    const p = n.position();
    const w = n.width();
    const h = n.height();
    svg.appendChild(shapeFor(n, p, w, h, n.data('colour')));
    const lines = String(n.data('label')).split('\n');
    lines.forEach((line, i) => {
      svg.appendChild(svgEl('text', {
        x: p.x, y: p.y + h / 2 + 11 + i * 11, 'font-size': 10, fill: text,
        'text-anchor': 'middle', 'font-family': 'sans-serif',
      }, line));
    });
  }
  return svg;
}

export function exportSvg(cy, dark) {
  const text = new XMLSerializer().serializeToString(buildSvg(cy, dark));
  download(new Blob([text], { type: 'image/svg+xml' }), 'nocmap-map.svg');
}
