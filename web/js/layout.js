// Where devices go on the map: a layered layout by role (core at the top,
// then distribution, access, hosts), computed here in model coordinates
// that do not depend on the size of the window, and the placement of a
// device that arrives later next to its neighbours. Pure: values in,
// positions out; no DOM, no cytoscape, no randomness (the same topology
// gives the same positions on every page, `/` and `/wall` alike).
import { fanBlock } from './layout_fan.js';
import { combUnit, familyItems, plainItem, steeperGap } from './layout_family.js';

// The row of each role, top to bottom.
export const ROLE_ROWS = { core: 0, distribution: 1, access: 2, host: 3 };
const LAYER_GAP = 110; // between the footprints of two layers
const SUBROW_GAP = 24; // between the rows a wide layer is wrapped into
const MIN_GAP = 40; // between two footprints side by side
const SMALL_GAP = 200; // ... on a row with room to spare
const SMALL_WIDTH = 900; // rows narrower than this get the larger gaps
// A row of leaves is wrapped into fans when that makes it at most this
// much wider than the widest row; many small families take far more
// room as fans than staggered.
const FAN_SLACK = 1.3;
// Rows of families are fanned or combed to draw the map largest in a
// window this many times as wide as high.
const VIEW_ASPECT = 1.5;

function rowOfRole(role) {
  return ROLE_ROWS[role] ?? ROLE_ROWS.host;
}

// The row each node goes in: its role's, but a leaf (one neighbour) of the
// access or host role hangs just below its neighbour (a host on a core
// router sits under it, not three rows down; the poller likewise).
function rowsOf(nodes, adj) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const row = new Map();
  for (const n of nodes) row.set(n.id, rowOfRole(n.role));
  for (const n of nodes) {
    const nb = adj.get(n.id);
    const r = rowOfRole(n.role);
    if (nb.length !== 1 || r < ROLE_ROWS.access) continue;
    const p = byId.get(nb[0]);
    if (adj.get(p.id).length === 1) continue; // a pair: both keep their role's row
    row.set(n.id, Math.min(ROLE_ROWS.host, rowOfRole(p.role) + 1));
  }
  return row;
}

// Weighted least-squares positions in `order` as near `want` as the
// separations `sep[i]` (between i and i+1) allow: pool-adjacent-violators
// on the positions less their cumulative separations. `weight` (default
// 1 each) says how much each wants its place. Linear.
function packNear(want, sep, weight) {
  const n = want.length;
  const cum = new Array(n);
  cum[0] = 0;
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1] + sep[i - 1];
  const blocks = []; // [weighted sum, weight, count]
  for (let i = 0; i < n; i++) {
    const w = weight ? weight[i] : 1;
    blocks.push([w * (want[i] - cum[i]), w, 1]);
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a[0] / a[1] <= b[0] / b[1]) break;
      a[0] += b[0];
      a[1] += b[1];
      a[2] += b[2];
      blocks.pop();
    }
  }
  const out = [];
  for (const [sum, w, count] of blocks) {
    for (let k = 0; k < count; k++) out.push(sum / w + cum[out.length]);
  }
  return out;
}

// nodes: [{id, role, name, w, h, top}] (w, h: the footprint of the device
// and its label, centred on x; the device's centre is `top` below the
// footprint's top), edges: [[a, b]] → Map id → {x, y}.
export function layeredPositions(nodes, edges) {
  const ids = nodes.map((n) => n.id).sort();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const adj = new Map(ids.map((id) => [id, []]));
  for (const [a, b] of edges) {
    if (a === b || !adj.has(a) || !adj.has(b)) continue;
    adj.get(a).push(b);
    adj.get(b).push(a);
  }
  for (const l of adj.values()) {
    l.sort();
    for (let i = l.length - 1; i > 0; i--) if (l[i] === l[i - 1]) l.splice(i, 1);
  }
  const rows = orderedRows(nodes, byId, adj, ids);
  const rowIndex = new Map();
  rows.forEach((r, i) => r.forEach((id) => rowIndex.set(id, i)));
  const up = new Map(ids.map((id) => [id, adj.get(id).filter((o) => rowIndex.get(o) < rowIndex.get(id))]));
  const down = new Map(ids.map((id) => [id, adj.get(id).filter((o) => rowIndex.get(o) > rowIndex.get(id))]));
  const parents = (id) => up.get(id);
  const children = (id) => down.get(id);
  // Families: when every device of a row is a host hanging from one
  // device of the row above (hosts on their switches), each of those
  // devices and its leaves become one item, the leaves fanned under it
  // (layout_fan.js), and the row of leaves is no row of its own: a line
  // from a switch to its host runs through no other host or label, where
  // staggered rows of hosts put other families' hosts in its way.
  const items = familyItems(rows, byId, parents, children, { layer: LAYER_GAP, subrow: SUBROW_GAP, min: MIN_GAP, of: gapOf },
    (role) => rowOfRole(role) === ROLE_ROWS.host);
  const item = (id) => items.get(id) || plainItem(byId.get(id));
  // Rows stacked top to bottom. A row wider than `maxW` wraps: a row of
  // leaves (items with nothing below them but their own family) into a
  // fan under each parent (layout_fan.js) when the fans are not much
  // wider than maxW, any other row into k staggered rows (the i-th item
  // on row i mod k, so every row keeps the order across the whole width).
  // Each row becomes packers: units (an item, or a fan of items as one
  // block) packed side by side.
  const widthOf = (r, gap) => r.reduce((s, id) => s + item(id).x2 - item(id).x1 + gap, 0);
  const area = nodes.reduce((s, n) => s + (n.w + MIN_GAP) * (n.h + SUBROW_GAP), 0);
  const maxW = Math.max(SMALL_WIDTH * 1.5, Math.sqrt(area * 2));
  const yOf = new Map(); // device centre
  const sided = new Set(); // heads drawn with their family on their right
  const plain = new Set(); // the rows laid out as one line of devices
  const setY = (id, y) => { // the item's head centre at y
    const it = sided.has(id) ? items.side.get(id) : item(id);
    for (const m of it.ids) yOf.set(m, y + it.dy.get(m));
  };
  const packers = []; // {units: [{ids, dx: Map, x1, x2}], gap}
  const single = (id) => { const it = item(id); return { ids: it.ids, dx: it.dx, x1: it.x1, x2: it.x2 }; };
  const leafRow = (r) => r.every((id) => parents(id).length && item(id).ids.length === 1 + children(id).length && children(id).every((c) => item(id).dx.has(c)));
  let bottom = null;
  rows.forEach((r, layer) => {
    if (!r.length || items.absorbed.has(layer)) return; // hung in the items above
    const top = bottom === null ? 0 : bottom + LAYER_GAP;
    const height = (list) => Math.max(...list.map((id) => item(id).h));
    const wide = widthOf(r, MIN_GAP) > maxW;
    const pitch = height(r) + SUBROW_GAP;
    if (wide && leafRow(r) && r.some((id) => items.side.has(id))) {
      // Families: a fan or a comb (one- or two-sided) under each parent,
      // whichever draws the map largest in a window of VIEW_ASPECT.
      const f = fanRow(r, top, pitch);
      const cands = [{ fan: f, width: f.width, bottom: top + (f.rows.length - 1) * pitch + height(r) }];
      for (const two of [false, true]) cands.push(combRow(r, top, two));
      const size = (c) => Math.max(c.width / VIEW_ASPECT, c.bottom);
      const best = cands.reduce((a, c) => (size(c) < size(a) ? c : a));
      if (best.fan) best.fan.rows.forEach((line, s) => line.forEach((id) => setY(id, top + s * pitch + item(id).top)));
      else for (const [id, y] of best.ys) { if (items.side.has(id)) sided.add(id); setY(id, y); }
      packers.push({ units: (best.fan || best).units, gap: MIN_GAP });
      bottom = best.bottom;
      return;
    }
    const fan = wide && leafRow(r) ? fanRow(r, top, pitch) : null;
    if (fan && fan.width <= maxW * FAN_SLACK) {
      fan.rows.forEach((line, s) => line.forEach((id) => setY(id, top + s * pitch + item(id).top)));
      packers.push({ units: fan.units, gap: MIN_GAP });
      bottom = top + (fan.rows.length - 1) * pitch + height(r);
      return;
    }
    const k = wide ? Math.ceil(widthOf(r, MIN_GAP) / maxW) : 1;
    let y = top;
    for (let j = 0; j < k; j++) {
      const line = r.filter((_, i) => i % k === j);
      if (j) y += SUBROW_GAP;
      line.forEach((id) => setY(id, y + item(id).top));
      packers.push({ units: line.map(single), gap: gapOf(widthOf(line, 0), line.length) });
      y += height(line);
    }
    if (k === 1 && r.every((id) => item(id).ids.length === 1)) plain.add(layer);
    bottom = y;
  });
  // A fan of each run of items with the same parents, in the number of
  // rows that makes the row narrowest (the fewest that fit in maxW).
  function fanRow(r, top, pitch) {
    const runs = [];
    for (const id of r) {
      const key = parents(id).join('\u0000');
      if (runs.length && runs[runs.length - 1].key === key) runs[runs.length - 1].ids.push(id);
      else runs.push({ key, ids: [id] });
    }
    const most = Math.min(8, Math.max(...runs.map((u) => Math.ceil(u.ids.length / 2))));
    let best = null;
    for (let k = 1; k <= most; k++) {
      const units = runs.map((u) => {
        const ps = parents(u.ids[0]);
        const apexY = ps.reduce((s, p) => s + yOf.get(p), 0) / ps.length;
        const levels = [...Array(k).keys()].map((s) => top + s * pitch - apexY);
        const boxes = u.ids.map((id) => { const it = item(id); return { id, w: 2 * Math.max(-it.x1, it.x2), h: it.h, top: it.top }; });
        const b = fanBlock(boxes, k, levels, MIN_GAP, spreadOf(ps));
        const dx = new Map();
        for (const id of u.ids) for (const [m, d] of item(id).dx) dx.set(m, b.off.get(id).dx + d);
        return { ids: [...dx.keys()], dx, row: b.off, x1: b.x1, x2: b.x2 };
      });
      const width = units.reduce((s, u) => s + u.x2 - u.x1 + MIN_GAP, 0);
      if (!best || width < best.width) best = { width, units, k };
      if (width <= maxW) break;
    }
    const used = Math.max(...best.units.flatMap((u) => [...u.row.values()].map((o) => o.row))) + 1;
    const lines = [...Array(used)].map(() => []);
    for (const u of best.units) for (const [id, o] of u.row) lines[o.row].push(id);
    return { units: best.units, rows: lines, width: best.width };
  }
  // A comb under each run of items with the same parents: the items one
  // under another (on both sides of the parents, alternately, when
  // `two`), each family on the outer side of its head (sideBlock), each
  // item outside the lines from the parents to those below it: a
  // narrow, tall block where a fan of many families is far too wide.
  // {units, ys: [[head, y]], width, bottom}.
  function combRow(r, top, two) {
    const runs = [];
    for (const id of r) {
      const key = parents(id).join('\u0000');
      if (runs.length && runs[runs.length - 1].key === key) runs[runs.length - 1].ids.push(id);
      else runs.push({ key, ids: [id] });
    }
    const ys = [];
    let bottom = top;
    const units = runs.map((u) => {
      const ps = parents(u.ids[0]);
      const apexY = ps.reduce((s, p) => s + yOf.get(p), 0) / ps.length;
      const list = u.ids.map((id, i) => ({ id, it: items.side.get(id) || item(id), sign: two && i % 2 ? -1 : 1 }));
      const next = { 1: top, [-1]: top };
      for (const b of list) {
        ys.push([b.id, next[b.sign] + b.it.top]);
        b.depth = next[b.sign] + b.it.top - apexY; // of its head's centre below the apex
        next[b.sign] += b.it.h + SUBROW_GAP;
      }
      bottom = Math.max(bottom, next[1] - SUBROW_GAP, next[-1] - SUBROW_GAP);
      return combUnit(list, spreadOf(ps), two ? MIN_GAP : null, byId);
    });
    const width = units.reduce((s, u) => s + u.x2 - u.x1 + MIN_GAP, 0);
    return { units, ys, width, bottom };
  }
  // How far the parents of a fan will stand apart either side of its
  // apex (their mean), at most: side by side on their row.
  function spreadOf(ps) {
    if (ps.length < 2) return 0;
    const w = ps.reduce((s, p) => s + item(p).x2 - item(p).x1, 0);
    return (w + (ps.length - 1) * SMALL_GAP) / 2;
  }
  // x: every packer packed, then a few passes down and up: on the way
  // down a unit of leaves moves under the mean x of its parents, on the
  // way up a device with devices below it moves over the mean x of those
  // (a parent over its children, not its children spread to its side);
  // the others keep their place as far as the movers let them.
  const x = new Map();
  const anchor = new Map(); // unit → x
  const pullX = new Map(); // where a parent wants to be over each device
  const place = (p, xs) => p.units.forEach((u, i) => {
    anchor.set(u, xs[i]);
    for (const id of u.ids) {
      x.set(id, xs[i] + u.dx.get(id));
      pullX.set(id, xs[i] + (u.pull && u.pull.has(id) ? u.pull.get(id) : u.dx.get(id)));
    }
  });
  for (const p of packers) {
    p.seps = p.units.slice(1).map((u, i) => p.units[i].x2 - u.x1 + p.gap);
    for (const u of p.units) {
      const out = (list) => [...new Set(list)].filter((o) => !u.dx.has(o));
      u.up = u.ids.length === 1 ? parents(u.ids[0]) : out(u.ids.flatMap(parents));
      u.down = u.ids.length === 1 ? children(u.ids[0]) : out(u.ids.flatMap(children));
    }
    place(p, packNear(p.units.map(() => 0), p.seps));
  }
  const meanX = (list) => list.reduce((s, o) => s + x.get(o), 0) / list.length;
  const align = (p, down) => {
    const want = new Array(p.units.length);
    const weight = new Array(p.units.length);
    p.units.forEach((u, i) => {
      const near = down ? u.up : u.down;
      const moves = near.length > 0 && (!down || u.down.length === 0);
      want[i] = moves ? (down ? meanX(near) : near.reduce((s, o) => s + pullX.get(o), 0) / near.length) : anchor.get(u);
      // Going down, a parent holds its place; going up, a leaf gives way.
      weight[i] = moves ? 1 : down ? 1000 : 0.001;
    });
    place(p, packNear(want, p.seps, weight));
  };
  for (let s = 0; s < 3; s++) {
    for (let i = 1; i < packers.length; i++) align(packers[i], true);
    for (let i = packers.length - 2; i >= 0; i--) align(packers[i], false);
  }
  for (let i = 1; i < packers.length; i++) align(packers[i], true);
  // Between two rows of one line each, the lower one and all below it go
  // down as far as a link between them needs to pass no device of either
  // (a shallow line across a wide row runs through its neighbours).
  const shift = new Array(rows.length).fill(0);
  for (let i = 0; i + 1 < rows.length; i++) {
    const d = plain.has(i) && plain.has(i + 1) ? steeperGap(rows[i], rows[i + 1], children, x, yOf, byId) : 0;
    for (let j = i + 1; j < rows.length; j++) shift[j] += d;
  }
  const pos = new Map();
  for (const id of ids) pos.set(id, { x: x.get(id), y: yOf.get(id) + shift[rowIndex.get(id)] });
  return pos;
}

// The gap between footprints side by side on a row of `n` footprints
// `width` wide: larger on a row with room to spare.
function gapOf(width, n) {
  return Math.max(MIN_GAP, Math.min(SMALL_GAP, (SMALL_WIDTH - width) / Math.max(1, n)));
}

// Each row's devices in order, top row first: depth-first from the top
// rows at first (a device's neighbours start near it), then sweeps down
// and up ordering each row by the barycenter of its neighbours in the
// rows above (down) or below (up), as places within their rows, ties by
// name: children in the order of their parents, siblings (the same
// parents) by name. The bottom row is last ordered going down, the rows
// above it going up (by their children, which keeps a pair of parents
// that share children side by side).
function orderedRows(nodes, byId, adj, ids) {
  const row = rowsOf(nodes, adj);
  const used = [...new Set(row.values())].sort((a, b) => a - b);
  const rows = used.map(() => []);
  const seen = new Set();
  const starts = ids.slice().sort((a, b) => row.get(a) - row.get(b) || (a < b ? -1 : 1));
  for (const s of starts) {
    if (seen.has(s)) continue;
    const stack = [s];
    while (stack.length) {
      const id = stack.pop();
      if (seen.has(id)) continue;
      seen.add(id);
      rows[used.indexOf(row.get(id))].push(id);
      const nb = adj.get(id);
      for (let i = nb.length - 1; i >= 0; i--) if (!seen.has(nb[i])) stack.push(nb[i]);
    }
  }
  const rowIndex = new Map();
  rows.forEach((r, i) => r.forEach((id) => rowIndex.set(id, i)));
  const nameOf = (id) => String(byId.get(id).name || id);
  const byName = (a, b) => {
    const na = nameOf(a), nb = nameOf(b);
    return na < nb ? -1 : na > nb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  };
  const place = new Map();
  const setPlaces = (r) => r.forEach((id, k) => place.set(id, (k + 0.5) / r.length));
  rows.forEach(setPlaces);
  const sweep = (i, dir) => {
    const r = rows[i];
    const key = new Map();
    for (const id of r) {
      let sum = 0;
      let cnt = 0;
      for (const o of adj.get(id)) {
        const j = rowIndex.get(o);
        if (j === i || (dir > 0 ? j > i : j < i)) continue;
        sum += place.get(o);
        cnt++;
      }
      key.set(id, cnt ? sum / cnt : place.get(id));
    }
    r.sort((a, b) => key.get(a) - key.get(b) || byName(a, b));
    setPlaces(r);
  };
  for (let s = 0; s < 4; s++) {
    for (let i = 1; i < rows.length; i++) sweep(i, 1);
    for (let i = rows.length - 2; i >= 0; i--) sweep(i, -1);
  }
  return rows;
}

// Whether the segment p-q enters the box b ({x1, y1, x2, y2}).
export function segmentHitsBox(p, q, b) {
  let t0 = 0, t1 = 1;
  const d = [q.x - p.x, q.y - p.y];
  const lims = [[b.x1, b.x2, p.x], [b.y1, b.y2, p.y]];
  for (let i = 0; i < 2; i++) {
    const [lo, hi, v] = lims[i];
    if (d[i] === 0) {
      if (v <= lo || v >= hi) return false;
      continue;
    }
    let a = (lo - v) / d[i], c = (hi - v) / d[i];
    if (a > c) [a, c] = [c, a];
    t0 = Math.max(t0, a);
    t1 = Math.min(t1, c);
    if (t0 >= t1) return false;
  }
  return true;
}

const LINK_PAD = 6; // between a link and a footprint it passes
const NEAR_SPOT = 600; // how far a spot clear of links is looked for

// Where a device that arrives after the first layout goes: on a row of its
// role (or below its neighbours when it is the first of its role), at the
// free spot nearest the mean x of its placed neighbours, where its
// footprint overlaps no placed footprint, no link drawn (`links`:
// [{a: {x, y}, b: {x, y}}]) runs through it and its own links to its
// neighbours run through no other footprint. Nothing placed moves.
// `placed`: [{id, role, x, y, w, h, top}], `node`: {id, role, w, h, top}.
export function placeBeside(node, neighbours, placed, links = []) {
  const near = placed.filter((p) => neighbours.includes(p.id));
  const ny = near.length ? near.reduce((s, p) => s + p.y, 0) / near.length : 0;
  const below = (list) => Math.max(...list.map((p) => p.y - p.top + p.h)) + LAYER_GAP + node.top;
  const same = placed.filter((p) => p.role === node.role);
  // Its role's rows, and a new row below them when they are full.
  let ys = [...new Set(same.map((p) => p.y))];
  if (ys.length) ys.push(Math.max(...same.map((p) => p.y)) + node.h + SUBROW_GAP);
  else ys = [near.length ? below(near) : placed.length ? below(placed) : 0];
  // Below its neighbours when its role's row is below theirs (a host on
  // its switch: hosts hang in families at many depths).
  if (near.length && near.every((p) => rowOfRole(p.role) < rowOfRole(node.role))) {
    const floor = Math.max(...near.map((p) => p.y));
    ys = [...new Set([...ys.filter((y) => y > floor), below(near)])];
  }
  let x0;
  if (near.length) x0 = near.reduce((s, p) => s + p.x, 0) / near.length;
  else x0 = placed.length ? Math.max(...placed.map((p) => p.x + p.w / 2)) + MIN_GAP + node.w / 2 : 0;
  // Only the footprints in a row's band can clash with a spot on it.
  const band = (y) => {
    const ay1 = y - node.top - 4, ay2 = y - node.top + node.h + 4;
    return placed.filter((p) => ay1 < p.y - p.top + p.h && p.y - p.top < ay2);
  };
  const clash = (cx, near) => near.some((p) => {
    const ax1 = cx - node.w / 2 - MIN_GAP / 2, ax2 = cx + node.w / 2 + MIN_GAP / 2;
    return ax1 < p.x + p.w / 2 && p.x - p.w / 2 < ax2;
  });
  const boxOf = (p, pad) => ({ x1: p.x - p.w / 2 - pad, x2: p.x + p.w / 2 + pad, y1: p.y - p.top - pad, y2: p.y - p.top + p.h + pad });
  const blocked = (cx, y) => {
    const me = boxOf(Object.assign({}, node, { x: cx, y }), LINK_PAD);
    if (links.some((l) => segmentHitsBox(l.a, l.b, me))) return true;
    const c = { x: cx, y };
    return near.some((n) => placed.some((p) => p.id !== n.id && segmentHitsBox(c, n, boxOf(p, LINK_PAD))));
  };
  const step = Math.max(10, node.w / 4);
  // Nearest rows first; a row is searched only while it could still beat
  // the best spot found (the new row below the others is nearly always
  // free straight under the neighbours, which bounds the search).
  // Where the links leave no spot near (a dense map), the nearest spot
  // without the links is taken.
  ys.sort((a, b) => Math.abs(a - ny) - Math.abs(b - ny));
  const search = (withLinks, steps) => {
    let best = null;
    for (const y of ys) {
      const inBand = band(y);
      const dy = Math.abs(y - ny) / 2;
      for (let k = 0; k < steps; k++) {
        const dx = Math.ceil(k / 2) * step;
        if (best && dx + dy >= best.score) break;
        const cx = x0 + (k % 2 ? -dx : dx);
        if (clash(cx, inBand) || (withLinks && blocked(cx, y))) continue;
        best = { x: cx, y, score: dx + dy };
        break;
      }
    }
    return best;
  };
  const best = search(true, 2 * Math.ceil(NEAR_SPOT / step)) || search(false, 4000);
  return best ? { x: best.x, y: best.y } : { x: x0, y: ys[0] };
}

// Positions for `nodes` that keep the saved ones (`saved`: Map id →
// {x, y}): when most nodes have one, every saved node stays where it was
// and the others go beside their neighbours one at a time, the rows of
// the top first (a new switch before its hosts), as placeBeside puts a
// device that arrives on an open page; when few have one (devices dragged
// on a map whose layout was never saved), the layered layout with the
// saved ones where they were. Returns {pos: Map id → {x, y}, fresh: the
// ids that had no saved position}.
export function layoutKeeping(nodes, edges, saved) {
  const have = nodes.filter((n) => saved.has(n.id));
  const fresh = nodes.filter((n) => !saved.has(n.id));
  const pos = new Map();
  if (have.length * 2 < nodes.length) {
    const laid = layeredPositions(nodes, edges);
    for (const n of nodes) pos.set(n.id, Object.assign({}, saved.get(n.id) || laid.get(n.id)));
    return { pos, fresh: fresh.map((n) => n.id) };
  }
  const adj = new Map(nodes.map((n) => [n.id, []]));
  for (const [a, b] of edges) {
    if (a === b || !adj.has(a) || !adj.has(b)) continue;
    adj.get(a).push(b);
    adj.get(b).push(a);
  }
  const placed = have.map((n) => {
    const p = saved.get(n.id);
    pos.set(n.id, { x: p.x, y: p.y });
    return Object.assign({}, n, { x: p.x, y: p.y });
  });
  fresh.sort((a, b) => rowOfRole(a.role) - rowOfRole(b.role) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // The links between placed devices, which a device placed next keeps clear of.
  const links = [];
  const linkPlaced = (id) => {
    for (const o of adj.get(id)) if (pos.has(o) && (o < id || !saved.has(o) || !saved.has(id))) links.push({ a: pos.get(id), b: pos.get(o) });
  };
  for (const n of have) linkPlaced(n.id);
  for (const n of fresh) {
    const p = placeBeside(n, adj.get(n.id), placed, links);
    pos.set(n.id, p);
    placed.push(Object.assign({}, n, p));
    linkPlaced(n.id);
  }
  return { pos, fresh: fresh.map((n) => n.id) };
}
