// Families on the map: a device of a row with the leaves that hang from
// it alone (hosts on their switch) as one item, its leaves fanned under
// it or on one side of it (layout_fan.js); a comb of such items one under
// another beneath their parents; and how much further down a row must go
// for its links from the row above to pass their neighbours. Pure: sizes
// and positions in, offsets out; no DOM.
import { fanBlock, sideBlock } from './layout_fan.js';

const LINK_PAD = 6; // between a link and a footprint it passes
const MAX_STEEPER = 1200; // the most a row goes down so its links pass its neighbours

// A device as an item of its row: itself alone.
export function plainItem(n) {
  return { ids: [n.id], dx: new Map([[n.id, 0]]), dy: new Map([[n.id, 0]]), x1: -n.w / 2, x2: n.w / 2, top: n.top, h: n.h };
}

// The items of the rows whose next row is all leaves of a host's role
// (`hostRow(role)`; a row of access switches is fanned on its own), each
// hanging from one device of the row (hosts on their switches): Map head id → {ids,
// dx, dy (offsets of each member's centre from the head's), x1, x2
// (extent about the head's centre), top (the head's centre below the
// item's top), h}, and `absorbed`, the rows of leaves so hung. Each
// family is fanned under its head (fanBlock) in as many rows as make it
// narrowest (one row where the leaves have room to spare). `gaps`:
// {layer (between a head and its family), subrow (between a family's
// rows), min (between two leaves side by side, at least), of(width, n)
// (between two leaves of a row of n leaves as wide as `width`)}.
export function familyItems(rows, byId, parents, children, gaps, hostRow) {
  const items = new Map();
  items.absorbed = new Set();
  items.side = new Map(); // the same with the family on the right (sideBlock)
  for (let i = 1; i < rows.length; i++) {
    const above = new Set(rows[i - 1]);
    const hung = rows[i].length && rows[i].every((id) => hostRow(byId.get(id).role) && parents(id).length === 1 && above.has(parents(id)[0]) && !children(id).length);
    if (!hung || items.absorbed.has(i - 1)) continue;
    items.absorbed.add(i);
    // Side by side as far apart as on a row of their own.
    const gap = gaps.of(rows[i].reduce((s, id) => s + byId.get(id).w, 0), rows[i].length);
    const order = new Map(rows[i].map((id, k) => [id, k])); // siblings by name
    for (const head of rows[i - 1]) {
      const fam = children(head).slice().sort((a, b) => order.get(a) - order.get(b)).map((c) => byId.get(c));
      if (!fam.length) continue;
      const h = byId.get(head);
      const pitch = Math.max(...fam.map((n) => n.h)) + gaps.subrow;
      const levelsOf = (k) => [...Array(k).keys()].map((s) => h.h - h.top + gaps.layer + s * pitch);
      let best = null;
      // On a row with room to spare (a small map) side by side.
      for (let k = 1; k <= (gap > gaps.min ? 1 : Math.ceil(fam.length / 2)); k++) {
        const b = fanBlock(fam, k, levelsOf(k), gap);
        if (!best || b.x2 - b.x1 < best.x2 - best.x1) best = b;
      }
      const k = Math.ceil(fam.length / 2);
      items.set(head, familyItem(h, fam, best, levelsOf(Math.max(...[...best.off.values()].map((o) => o.row)) + 1)));
      items.side.set(head, familyItem(h, fam, sideBlock(fam, k, levelsOf(k), gap), levelsOf(k)));
    }
  }
  return items;
}

// The item of head `h` with its family `fam` at `b.off` (dx and row,
// the rows' tops `levels` below the head's centre); `inner`: the least
// x of the family's boxes, `famTop`: the top of its first row.
function familyItem(h, fam, b, levels) {
  const it = { ids: [h.id], dx: new Map([[h.id, 0]]), dy: new Map([[h.id, 0]]), top: h.top };
  let bottom = h.h - h.top;
  for (const n of fam) {
    const o = b.off.get(n.id);
    it.ids.push(n.id);
    it.dx.set(n.id, o.dx);
    it.dy.set(n.id, levels[o.row] + n.top);
    bottom = Math.max(bottom, levels[o.row] + n.h);
  }
  it.x1 = Math.min(-h.w / 2, b.x1);
  it.x2 = Math.max(h.w / 2, b.x2);
  it.h = h.top + bottom;
  it.inner = b.x1;
  it.famTop = levels[0];
  return it;
}

// A comb's items placed (`list`: [{id, it: the item (its family on the
// right), sign: 1 right of the parents or -1 left (mirrored), depth: its
// head's centre below the parents' mean}]), the deepest first, each so
// far out that no line from a parent (within `spread` either side of
// their mean) to a deeper head passes its head or its family; with
// `gap` (two-sided) each at least half of it off the middle. Returns
// the unit: {ids, dx: Map id → x off the parents' mean, pull (where a
// parent wants to stand over each head: the mean), x1, x2}.
export function combUnit(list, spread, gap, byId) {
  const placed = [];
  for (const b of list.slice().sort((p, q) => q.depth - p.depth)) {
    const hd = byId.get(b.id);
    // Its inner edges (on its side, as if on the right): the head's box,
    // then its family's.
    const parts = [[-hd.w / 2, b.depth - hd.top, b.depth - hd.top + hd.h]];
    if (b.it.famTop !== undefined) parts.push([b.it.inner, b.depth + b.it.famTop, b.depth - b.it.top + b.it.h]);
    let x = gap === null ? 0 : hd.w / 2 + gap / 2;
    for (const o of placed) {
      for (const px of spread ? [-spread, spread] : [0]) {
        for (const [edge, d1, d2] of parts) {
          for (const d of [d1, d2]) {
            const t = Math.min(1, Math.max(0, d / o.depth));
            x = Math.max(x, b.sign * (px + (o.x - px) * t) + LINK_PAD + 2 - edge);
          }
        }
      }
    }
    b.x = b.sign * x;
    placed.push(b);
  }
  const dx = new Map();
  const pull = new Map();
  let x1 = Infinity, x2 = -Infinity;
  for (const b of list) {
    for (const [m, d] of b.it.dx) dx.set(m, b.x + b.sign * d);
    pull.set(b.id, 0);
    x1 = Math.min(x1, b.sign > 0 ? b.x + b.it.x1 : b.x - b.it.x2);
    x2 = Math.max(x2, b.sign > 0 ? b.x + b.it.x2 : b.x - b.it.x1);
  }
  return { ids: [...dx.keys()], dx, pull, x1, x2 };
}

// How far the row `lower` (ids) and all below it must go down so that no
// link from a device of `upper` to one of `lower` passes the footprint of
// another device of either row (a shallow line across a wide row runs
// through its neighbours): 0 when none does, at most MAX_STEEPER.
// `x`, `y`: Map id → the centre; `byId`: id → {w, h, top}.
export function steeperGap(upper, lower, children, x, y, byId) {
  const box = (id) => { const n = byId.get(id); return { x1: x.get(id) - n.w / 2, x2: x.get(id) + n.w / 2, y1: y.get(id) - n.top, y2: y.get(id) - n.top + n.h }; };
  const below = new Set(lower);
  let need = 0;
  for (const u of upper) {
    for (const v of children(u)) {
      if (!below.has(v)) continue;
      const xu = x.get(u), yu = y.get(u), dx = x.get(v) - xu, dy = y.get(v) - yu;
      if (Math.abs(dx) < 1) continue;
      for (const [w, up] of [...upper.map((o) => [o, true]), ...lower.map((o) => [o, false])]) {
        if (w === u || w === v) continue;
        const b = box(w);
        // The edge of its box the line reaches first (row above) or last.
        const ex = (dx > 0) === up ? b.x1 : b.x2;
        const f = (ex - xu) / dx;
        if (f <= 0 || f >= 1) continue;
        need = Math.max(need, up ? (b.y2 + LINK_PAD - yu) / f - dy : (yu + dy * f - b.y1 + LINK_PAD) / (1 - f));
      }
    }
  }
  return Math.min(MAX_STEEPER, Math.max(0, need));
}
