// Labels that never collide: the footprint a device and its label need
// (measured from the label text, the same on every page and window size,
// so the layout gives `/` and `/wall` the same positions), and which link
// labels (each direction's utilisation at its end, a LAG's size or
// "stale" in the middle) the map has room for: one that would touch a
// device, a device's label or a label already shown is left out and shown
// on hover (the link panel always has the figures).

// Node label font and wrapping (cyStyle uses the same figures).
export const NODE_FONT = 10;
export const NODE_LABEL_MAX_W = 140;
const LINE_H = NODE_FONT * 1.3;
const FONT = NODE_FONT + 'px "Helvetica Neue", Helvetica, sans-serif';
const SHAPES = { switch: [34, 20], host: [18, 18], poller: [30, 30], stub: [24, 14] };

let ctx = null;
const widths = new Map(); // text → its width (names recur: a redraw, /wall)
function textWidth(text) {
  const known = widths.get(text);
  if (known !== undefined) return known;
  if (!ctx) {
    ctx = document.createElement('canvas').getContext('2d');
    ctx.font = FONT;
  }
  const w = ctx.measureText(text).width;
  if (widths.size > 20000) widths.clear();
  widths.set(text, w);
  return w;
}

// {w, h, top}: the box of a device (cytoscape node data: kind, name) and
// its label below it, centred on the device; `top` is how far the
// device's centre is below the box's top. Room is kept for the RTT line
// whether or not there is one now.
export function footprint(data) {
  const [nw, nh] = SHAPES[data.kind] || [26, 26];
  const name = data.shortName || data.name || '';
  // A stub's label is its count over its reason (stubs.js): the wider.
  const w = Math.max(textWidth(name), data.kind === 'stub' ? textWidth(data.name || '') : 0) + 4;
  const lines = w > NODE_LABEL_MAX_W ? Math.ceil(w / NODE_LABEL_MAX_W) + 1 : 1;
  const labelW = Math.min(w, NODE_LABEL_MAX_W);
  const rttW = textWidth('000.0 ms') + 4;
  return {
    w: Math.max(nw, labelW, rttW) + 2,
    h: nh + 4 + (lines + 1) * LINE_H,
    top: nh / 2,
  };
}

// A grid of boxes for overlap questions in about constant time each.
class Grid {
  constructor(cell) {
    this.cell = cell;
    this.cells = new Map();
  }
  keys(b) {
    const out = [];
    const c = this.cell;
    for (let i = Math.floor(b.x1 / c); i <= Math.floor(b.x2 / c); i++) {
      for (let j = Math.floor(b.y1 / c); j <= Math.floor(b.y2 / c); j++) out.push(i + ',' + j);
    }
    return out;
  }
  add(b) {
    for (const k of this.keys(b)) {
      if (!this.cells.has(k)) this.cells.set(k, []);
      this.cells.get(k).push(b);
    }
  }
  hits(b) {
    for (const k of this.keys(b)) {
      for (const o of this.cells.get(k) || []) {
        if (b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2) return true;
      }
    }
    return false;
  }
}

const PAD = 2;
function padded(b) {
  return { x1: b.x1 - PAD, y1: b.y1 - PAD, x2: b.x2 + PAD, y2: b.y2 + PAD };
}

// The box of one of an element's labels ('source', 'target' or 'main'),
// in model coordinates, or null when it has none.
function labelBox(e, which) {
  const b = e.boundingBox({
    includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false, includeUnderlays: false,
    includeMainLabels: which === 'main', includeSourceLabels: which === 'source', includeTargetLabels: which === 'target',
  });
  return b && Number.isFinite(b.x1) && b.w > 0 ? b : null;
}

// Each label of a link: cytoscape's name for it, the class that hides
// it, the data field of its text.
const SLOTS = [['source', 'no-ab', 'abLabel'], ['target', 'no-ba', 'baLabel'], ['main', 'no-mid', 'label']];
const HIDING = SLOTS.map((s) => s[1]).join(' ');

// Shows every link label that has room and hides the others. `cy`: the
// map; only visible elements count. Returns how many were shown and hidden.
export function placeLinkLabels(cy) {
  // Cytoscape measures labels and works out where links run lazily, for
  // what it draws (what is on screen, at a zoom its font is drawn at):
  // everything is measured afresh first, or the boxes read below could be
  // those of an earlier stylesheet or text.
  const edges = cy.edges(':visible').sort((a, b) => (a.id() < b.id() ? -1 : 1));
  // Every label shown first, to be measured where cytoscape puts it.
  edges.removeClass(HIDING);
  const r = cy.renderer && cy.renderer();
  if (r && r.recalculateRenderedStyle) r.recalculateRenderedStyle(cy.elements(), false);
  const grid = new Grid(60);
  // A site's box holds its devices: they, not the box, are obstacles.
  cy.nodes(':visible[kind != "site-box"]').forEach((n) => {
    grid.add(padded(n.boundingBox({ includeLabels: false, includeOverlays: false })));
    const l = labelBox(n, 'main');
    if (l) grid.add(padded(l));
  });
  const hide = new Map();
  let shown = 0;
  let hidden = 0;
  edges.forEach((e) => {
    for (const [which, cls, text] of SLOTS) {
      if (!e.data(text)) continue;
      const b = labelBox(e, which);
      if (b && !grid.hits(padded(b))) {
        grid.add(padded(b));
        shown++;
      } else {
        hide.set(e, (hide.get(e) || []).concat(cls));
        hidden++;
      }
    }
  });
  cy.batch(() => hide.forEach((cls, e) => e.addClass(cls.join(' '))));
  return { shown, hidden };
}

// Runs placeLinkLabels again after the map changed, once cytoscape has
// drawn every change (it works out where a link and its labels run only
// when it draws them), at most once a frame; `settleMs` holds it off for
// a while (a new stylesheet). Counts its runs in `state` (labels,
// labelRuns, labelsPending) for tests.
export class LabelPlacer {
  constructor(getCy, state, enabled) {
    this.getCy = getCy;
    this.state = state;
    this.enabled = enabled;
    this.queued = false;
    this.stale = false; // changed since the last drawing waited for
    this.notBefore = 0;
  }

  again(settleMs = 0) {
    this.notBefore = Math.max(this.notBefore, performance.now() + settleMs);
    this.stale = true;
    this.state.labelsPending = true;
    if (this.queued) return;
    this.queued = true;
    this.awaitDrawing();
  }

  awaitDrawing() {
    const wait = Math.max(0, this.notBefore - performance.now());
    setTimeout(() => {
      this.getCy().one('render', () => {
        this.stale = false;
        requestAnimationFrame(() => this.run(false));
      });
      // Nothing drawn (nothing visible changed): placed all the same.
      setTimeout(() => this.run(true), 500);
    }, wait);
  }

  run(anyway) {
    if (!this.queued) return;
    if (!anyway && (this.stale || performance.now() < this.notBefore)) {
      this.awaitDrawing();
      return;
    }
    this.queued = false;
    this.stale = false;
    this.state.labelsPending = false;
    if (!this.enabled()) return;
    const t0 = performance.now();
    const done = placeLinkLabels(this.getCy());
    done.ms = performance.now() - t0;
    this.state.labels = done;
    this.state.labelRuns = (this.state.labelRuns || 0) + 1;
  }
}
