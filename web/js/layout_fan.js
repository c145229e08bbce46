// A wide row of leaves (devices with neighbours above them and none below,
// such as the access switches of a campus) wrapped into a few rows as one
// fan under each parent: the children nearest the parent go to the
// deepest row, the outer ones to the rows above, each row's children
// outside the lines to the deeper ones, so no line from the parent runs
// through a sibling or its label. Pure: sizes in, offsets out; no DOM.

const LINE_PAD = 8; // between a line and a box it passes (half a thick link and some air)

// Which of `k` rows each of `g` children (in order) goes to: the middle
// ones to the deepest row (k - 1), the outer ones to row 0.
export function fanRows(g, k) {
  // Symmetric: the middle child (g odd) or pair, then pairs the same
  // distance from the middle, spread evenly over the rows (k is at most
  // the number of pairs).
  const units = Math.ceil(g / 2);
  const row = new Array(g);
  for (let j = 0; j < units; j++) {
    const r = k - 1 - Math.floor((j * k) / units);
    const lo = Math.ceil(g / 2) - 1 - j;
    row[lo] = r;
    row[g - 1 - lo] = r;
  }
  return row;
}

// The fan of `list` ([{id, w, h, top}], in order) under a parent at
// (0, 0): `levels[s]` is how far the top of row s is below the parent's
// centre; `gap` between two boxes side by side. Returns {off: Map id →
// {dx, row}, x1, x2} (x1, x2: the block's extent, boxes included).
// `spread`: how far either side of (0, 0) the parents may stand (a
// child with two parents, each line from either).
export function fanBlock(list, k, levels, gap, spread = 0) {
  k = Math.max(1, Math.min(k, Math.ceil(list.length / 2)));
  const rows = k > 1 ? fanRows(list.length, k) : list.map(() => 0);
  const off = new Map();
  const lines = []; // [x, centre depth] of every child placed (deeper rows first)
  const sep = (a, b) => (a.w + b.w) / 2 + gap;
  // The least |x| a box on row s can have on one side (sign) so that no
  // line to a deeper child passes it (its box spans levels[s] .. + h),
  // from any parent: they stand within `spread` either side of (0, 0).
  const clear = (n, s, sign) => {
    let x = 0;
    for (const [lx, ly] of lines) {
      for (const px of spread ? [-spread, spread] : [0]) {
        for (const depth of [levels[s], levels[s] + n.h]) {
          const t = Math.min(1, depth / ly);
          x = Math.max(x, sign * (px + (lx - px) * t) + LINE_PAD + n.w / 2);
        }
      }
    }
    return x;
  };
  for (let s = k - 1; s >= 0; s--) {
    const idx = list.map((_, i) => i).filter((i) => rows[i] === s);
    if (!idx.length) continue;
    const placed = [];
    if (s === k - 1 || !lines.length) {
      // The deepest row: side by side, centred under the parent.
      let x = 0;
      idx.forEach((i, j) => { if (j) x += sep(list[idx[j - 1]], list[i]); placed.push([i, x]); });
      const mid = x / 2;
      placed.forEach((p) => { p[1] -= mid; });
    } else {
      // Outside the deeper rows' lines: the left part leftwards from its
      // innermost child, the right part rightwards.
      // (the deeper rows hold the middle children, this row the ones
      // either side of them).
      const deeper = list.map((_, i) => i).filter((i) => rows[i] > s);
      const left = idx.filter((i) => i < deeper[0]).reverse();
      const right = idx.filter((i) => i > deeper[deeper.length - 1]);
      for (const [part, sign] of [[left, -1], [right, 1]]) {
        let x = null;
        part.forEach((i, j) => {
          const n = list[i];
          x = j ? x + sign * sep(list[part[j - 1]], n) : sign * clear(n, s, sign);
          placed.push([i, x]);
        });
      }
    }
    for (const [i, x] of placed) {
      off.set(list[i].id, { dx: x, row: s });
      lines.push([x, levels[s] + list[i].top]);
    }
  }
  let x1 = Infinity, x2 = -Infinity;
  for (const n of list) {
    const o = off.get(n.id);
    x1 = Math.min(x1, o.dx - n.w / 2);
    x2 = Math.max(x2, o.dx + n.w / 2);
  }
  return { off, x1, x2 };
}

// A family hung on the right of its parent at (0, 0) (a comb's tooth):
// `list` in order from the innermost, the innermost children deepest
// (`levels` as in fanBlock), each row right of the lines to the deeper
// ones, and no child nearer the vertical under the parent than a line's
// pad. Returns {off: Map id → {dx, row}, x1, x2}.
export function sideBlock(list, k, levels, gap) {
  k = Math.max(1, Math.min(k, list.length));
  const g = list.length;
  const off = new Map();
  const lines = [];
  for (let s = k - 1; s >= 0; s--) {
    const idx = list.map((_, i) => i).filter((i) => k - 1 - Math.floor((i * k) / g) === s);
    let x = 0;
    idx.forEach((i, j) => {
      const n = list[i];
      if (j) {
        x += (list[idx[j - 1]].w + n.w) / 2 + gap;
      } else {
        x = n.w / 2 + LINE_PAD;
        for (const [lx, ly] of lines) {
          for (const depth of [levels[s], levels[s] + n.h]) x = Math.max(x, lx * Math.min(1, depth / ly) + LINE_PAD + n.w / 2);
        }
      }
      off.set(n.id, { dx: x, row: s });
    });
    for (const i of idx) lines.push([off.get(list[i].id).dx, levels[s] + list[i].top]);
  }
  let x1 = Infinity, x2 = -Infinity;
  for (const n of list) {
    const o = off.get(n.id);
    x1 = Math.min(x1, o.dx - n.w / 2);
    x2 = Math.max(x2, o.dx + n.w / 2);
  }
  return { off, x1, x2 };
}
