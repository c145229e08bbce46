// Where devices go on the map: a layered layout by role (core at the top,
// then distribution, access, hosts), computed here in model coordinates
// that do not depend on the size of the window, and the placement of a
// device that arrives later next to its neighbours. Pure: values in,
// positions out; no DOM, no cytoscape, no randomness (the same topology
// gives the same positions on every page, `/` and `/wall` alike).

// The row of each role, top to bottom.
export const ROLE_ROWS = { core: 0, distribution: 1, access: 2, host: 3 };
const LAYER_GAP = 110; // between the footprints of two layers
const SUBROW_GAP = 24; // between the rows a wide layer is wrapped into
const MIN_GAP = 40; // between two footprints side by side
const SMALL_GAP = 200; // ... on a row with room to spare
const SMALL_WIDTH = 900; // rows narrower than this get the larger gaps

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

// Least-squares positions in `order` as near `want` as the separations
// `sep[i]` (between i and i+1) allow: pool-adjacent-violators on the
// positions less their cumulative separations. Linear.
function packNear(want, sep) {
  const n = want.length;
  const cum = new Array(n);
  cum[0] = 0;
  for (let i = 1; i < n; i++) cum[i] = cum[i - 1] + sep[i - 1];
  const blocks = []; // [sum, count]
  for (let i = 0; i < n; i++) {
    blocks.push([want[i] - cum[i], 1]);
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1];
      const a = blocks[blocks.length - 2];
      if (a[0] / a[1] <= b[0] / b[1]) break;
      a[0] += b[0];
      a[1] += b[1];
      blocks.pop();
    }
  }
  const out = [];
  for (const [sum, count] of blocks) {
    for (let k = 0; k < count; k++) out.push(sum / count + cum[out.length]);
  }
  return out;
}

// nodes: [{id, role, w, h}] (w, h: the footprint of the device and its
// label, centred on x; the device's centre is h0 below the footprint's
// top, given as `top`), edges: [[a, b]] → Map id → {x, y}.
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
  const row = rowsOf(nodes, adj);
  const used = [...new Set(row.values())].sort((a, b) => a - b);
  const rows = used.map(() => []);
  // First order: depth-first from the top rows, so a device's neighbours
  // start near it.
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
  // Barycenter sweeps: each row ordered by the mean place of its
  // neighbours in the other rows (places as fractions of their row).
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
    r.sort((a, b) => key.get(a) - key.get(b) || place.get(a) - place.get(b));
    setPlaces(r);
  };
  for (let s = 0; s < 4; s++) {
    for (let i = 1; i < rows.length; i++) sweep(i, 1);
    for (let i = rows.length - 2; i >= 0; i--) sweep(i, -1);
  }
  // A wide row wraps into k rows, each at most `maxW` wide, staggered: the
  // i-th device goes on row i mod k, so every row keeps the order across
  // the whole width (hosts stay under their switch, and a link to a lower
  // row passes between the devices of the rows above).
  const widthOf = (r, gap) => r.reduce((s, id) => s + byId.get(id).w + gap, 0);
  const area = nodes.reduce((s, n) => s + (n.w + MIN_GAP) * (n.h + SUBROW_GAP), 0);
  const maxW = Math.max(SMALL_WIDTH * 1.5, Math.sqrt(area * 2));
  const lines = []; // {ids, layer}
  rows.forEach((r, layer) => {
    const k = Math.max(1, Math.ceil(widthOf(r, MIN_GAP) / maxW));
    for (let j = 0; j < k; j++) lines.push({ ids: r.filter((_, i) => i % k === j), layer });
  });
  // x: packed, then moved towards the mean x of their neighbours, a few
  // times down and up; y: lines stacked by their tallest footprint.
  const x = new Map();
  const gapOf = (line) => {
    const free = SMALL_WIDTH - widthOf(line.ids, 0);
    return Math.max(MIN_GAP, Math.min(SMALL_GAP, free / Math.max(1, line.ids.length)));
  };
  const sepsOf = (line) => {
    const g = gapOf(line);
    return line.ids.slice(1).map((id, k) => (byId.get(line.ids[k]).w + byId.get(id).w) / 2 + g);
  };
  for (const line of lines) {
    const seps = sepsOf(line);
    const packed = packNear(line.ids.map(() => 0), seps);
    line.ids.forEach((id, k) => x.set(id, packed[k]));
    line.seps = seps;
  }
  const lineOf = new Map();
  lines.forEach((l, i) => l.ids.forEach((id) => lineOf.set(id, i)));
  const align = (i) => {
    const line = lines[i];
    const want = line.ids.map((id) => {
      const nb = adj.get(id).filter((o) => lineOf.get(o) !== i);
      return nb.length ? nb.reduce((s, o) => s + x.get(o), 0) / nb.length : x.get(id);
    });
    const got = packNear(want, line.seps);
    line.ids.forEach((id, k) => x.set(id, got[k]));
  };
  for (let s = 0; s < 3; s++) {
    for (let i = 1; i < lines.length; i++) align(i);
    for (let i = lines.length - 2; i >= 0; i--) align(i);
  }
  const pos = new Map();
  let y = 0;
  lines.forEach((line, i) => {
    if (i > 0) y += line.layer === lines[i - 1].layer ? SUBROW_GAP : LAYER_GAP;
    const h = Math.max(...line.ids.map((id) => byId.get(id).h));
    for (const id of line.ids) pos.set(id, { x: x.get(id), y: y + byId.get(id).top });
    y += h;
  });
  return pos;
}

// Where a device that arrives after the first layout goes: on a row of its
// role (or below its neighbours when it is the first of its role), at the
// free spot nearest the mean x of its placed neighbours, where its
// footprint overlaps no placed footprint. Nothing placed moves.
// `placed`: [{id, role, x, y, w, h, top}], `node`: {id, role, w, h, top}.
export function placeBeside(node, neighbours, placed) {
  const near = placed.filter((p) => neighbours.includes(p.id));
  const ny = near.length ? near.reduce((s, p) => s + p.y, 0) / near.length : 0;
  const below = (list) => Math.max(...list.map((p) => p.y - p.top + p.h)) + LAYER_GAP + node.top;
  const same = placed.filter((p) => p.role === node.role);
  // Its role's rows, and a new row below them when they are full.
  let ys = [...new Set(same.map((p) => p.y))];
  if (ys.length) ys.push(Math.max(...same.map((p) => p.y)) + node.h + SUBROW_GAP);
  else ys = [near.length ? below(near) : placed.length ? below(placed) : 0];
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
  const step = Math.max(10, node.w / 4);
  // Nearest rows first; a row is searched only while it could still beat
  // the best spot found (the new row below the others is nearly always
  // free straight under the neighbours, which bounds the search).
  ys.sort((a, b) => Math.abs(a - ny) - Math.abs(b - ny));
  let best = null;
  for (const y of ys) {
    const near = band(y);
    const dy = Math.abs(y - ny) / 2;
    for (let k = 0; k < 4000; k++) {
      const dx = Math.ceil(k / 2) * step;
      if (best && dx + dy >= best.score) break;
      const cx = x0 + (k % 2 ? -dx : dx);
      if (clash(cx, near)) continue;
      best = { x: cx, y, score: dx + dy };
      break;
    }
  }
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
  for (const n of fresh) {
    const p = placeBeside(n, adj.get(n.id), placed);
    pos.set(n.id, p);
    placed.push(Object.assign({}, n, p));
  }
  return { pos, fresh: fresh.map((n) => n.id) };
}
