// Sites: devices grouped by the site the server gives them (`site`: a
// configured `site:` tag, else the sysLocation), each site a box that
// collapses into one summary node coloured by the worst state inside, and
// expands on a click. The box is a plain node drawn under everything and
// sized to enclose what is drawn in it (not a cytoscape compound node:
// with compounds on the map, cytoscape restyles a node's parents,
// children and their links for every style property it applies, the
// larger part of an expand's time); dragging it takes its devices along.
// The layered layout runs inside each site; the sites sit on a grid whose
// columns and rows are as wide and tall as their largest member, so an
// expanded box pushes the others aside. Links with an end in a collapsed site are drawn as
// one summary link per pair of sites (or site and device).
//
// The pure parts (ids, worst state, the arrangement) are exported for
// tests; `SiteGroups` drives cytoscape.
import { REACH_COLOURS } from './elements.js';
import { layoutKeeping } from './layout.js';
import { footprint } from './labels.js';

export const NO_SITE = '';
const BOX = 'site\u0000'; // box node ids
const SUMMARY = 'site-summary\u0000'; // summary node ids
const META = 'site-link\u0000'; // summary link ids
const GAP = 80; // between two sites' cells
const PAD = 30; // inside a box, around its devices (their footprints)
const SUMMARY_SIZE = { w: 180, h: 90 };
// A site is laid out ahead only in an idle period with this much time
// left (ms): one site a slice, so frames stay smooth.
const AHEAD_MIN_MS = 8;
// What the common edge style maps, for the edges that are not links.
export const EDGE_DEFAULTS = { width: 2, grad: '#6b7280 #6b7280 #6b7280 #6b7280', maxColour: '#6b7280', abLabel: '', baLabel: '', label: '' };

export const boxId = (site) => BOX + site;
export const summaryId = (site) => SUMMARY + site;
export const siteName = (site) => (site === NO_SITE ? '(no site)' : site);

// The site a device of the API belongs to.
export function siteOf(d) {
  return typeof d.site === 'string' ? d.site : NO_SITE;
}

// The worst reachability among `reaches` ('down' over 'unknown' over 'up').
const RANK = { up: 0, unknown: 1, down: 2 };
export function worstReach(reaches) {
  let worst = 'up';
  for (const r of reaches) {
    const k = r in RANK ? r : 'unknown';
    if (RANK[k] > RANK[worst]) worst = k;
  }
  return worst;
}

// Centres of cells on a grid, sites in name order: `sizes` Map site →
// {w, h}. Columns as wide as their widest site, rows as tall as their
// tallest. Pure.
export function arrangeSites(sizes) {
  const names = [...sizes.keys()].sort();
  const cols = Math.max(1, Math.ceil(Math.sqrt(names.length)));
  const colW = new Array(cols).fill(0);
  const rowH = new Array(Math.ceil(names.length / cols)).fill(0);
  names.forEach((s, i) => {
    const z = sizes.get(s);
    colW[i % cols] = Math.max(colW[i % cols], z.w);
    rowH[Math.floor(i / cols)] = Math.max(rowH[Math.floor(i / cols)], z.h);
  });
  const at = new Map();
  const x0 = [0];
  for (let c = 1; c < cols; c++) x0.push(x0[c - 1] + colW[c - 1] + GAP);
  const y0 = [0];
  for (let r = 1; r < rowH.length; r++) y0.push(y0[r - 1] + rowH[r - 1] + GAP);
  names.forEach((s, i) => {
    const c = i % cols, r = Math.floor(i / cols);
    at.set(s, { x: x0[c] + colW[c] / 2, y: y0[r] + rowH[r] / 2 });
  });
  return at;
}

// The box around `list`'s footprints at `pos` (Map id → {x, y}).
function bounds(list, pos) {
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const n of list) {
    const p = pos.get(n.id);
    x1 = Math.min(x1, p.x - n.w / 2); x2 = Math.max(x2, p.x + n.w / 2);
    y1 = Math.min(y1, p.y - n.top); y2 = Math.max(y2, p.y - n.top + n.h);
  }
  return { x1, y1, x2, y2 };
}

// The frame a site's positions are saved in is the flat map's: a site
// none of whose devices had a saved position is moved (in x, rows kept)
// to the right of every site laid out before it, so the flat view, which
// keeps the saved positions, does not draw the sites on top of each
// other. `laid`: [{list, pos, fresh, bounds}], sites in name order; a
// site's place in its box does not change. Pure (moves `pos`).
export function sideBySide(laid) {
  const isFresh = (s) => s.fresh.length === s.list.length;
  let right = -Infinity;
  for (const s of laid) if (!isFresh(s)) right = Math.max(right, s.bounds.x2);
  for (const s of laid) {
    if (!isFresh(s)) continue;
    const dx = right === -Infinity ? 0 : right + GAP - s.bounds.x1;
    for (const p of s.pos.values()) p.x += dx;
    right = s.bounds.x2 + dx;
  }
}

// Moves a node to `p` unless it is there: cytoscape redoes a moved node's
// bounds and its links' paths, and the elements just drawn are there.
function moveTo(n, p) {
  const at = n.position();
  if (at.x !== p.x || at.y !== p.y) n.position({ x: p.x, y: p.y });
}

// The reachability a device is drawn with (as nodeData has it).
const reachOf = (d) => (d.health && d.health.reachability) || 'unknown';

// Sites drawn as boxes. Only the devices of expanded sites are elements of
// cytoscape: a collapsed site is its summary node alone, so a large map
// costs what it shows. Works from the page's model (`model.devices`,
// `model.links`); the page draws the devices it is told to show.
export class SiteGroups {
  // cy: cytoscape; model: the page's model; footprintOf(device) → {w, h,
  // top}; redraw(ids): the page draws (adds or removes) those devices and
  // their links again; collapsed: whether a site starts collapsed; saved:
  // the saved positions (positions.js), kept in each site's own frame.
  constructor(cy, model, footprintOf, redraw, collapsed, saved) {
    this.saved = saved;
    this.cy = cy;
    this.model = model;
    this.footprintOf = footprintOf;
    this.redraw = redraw;
    this.startCollapsed = collapsed;
    this.flipped = new Set(); // sites not in their starting state
    this.inner = new Map(); // site → Map device id → {x, y} relative to the box's centre
    this.centre = new Map(); // site → the box's centre in the site's saved frame
    this.size = new Map(); // site → {w, h} of the expanded box
    this.at = new Map(); // site → its cell's centre
    this.sites = new Set(); // every site on the map (laid out or not)
    this.right = -Infinity; // the right edge of the sites laid out, in the saved frame
    this.ahead = new Map(); // site → {sig, pos, fresh}: collapsed sites laid out in idle time
    this.boxAt = new Map(); // site → where its box was last put (a dragged box moves its nodes by the difference)
    this.aheadTask = null; // the idle callback pending, if any
    this.toggling = false; // a toggle draws (refresh() waits for its apply())
    // toggles: each toggle's JS (ms); phases: its layout / draw / apply
    // (ms, `ahead`: the layout laid out ahead was used); ahead: sites laid
    // out ahead and their layouts' times (ms); aheadDone: when every
    // collapsed site was laid out (performance.now()).
    this.stats = { toggles: [], phases: [], ahead: 0, aheadMs: [] };
  }

  isCollapsed(site) {
    return this.startCollapsed !== this.flipped.has(site);
  }

  // Whether the device with this id is drawn (its site expanded).
  showsId(id) {
    const d = this.model.devices.get(id);
    return !!d && !this.isCollapsed(siteOf(d));
  }

  // The site a node drawn in a box belongs to (a device, or a stub by
  // its device), or null (a box, a summary, a ghost).
  siteOfNode(n) {
    const d = this.model.devices.get(n.data('stub') ? n.data('device') : n.id());
    return d ? siteOf(d) : null;
  }

  // Each site's box around the nodes drawn in it (`only`: that site's
  // alone): the smallest box holding their footprints (label included,
  // labels.js), PAD wider on every side. A site none of whose nodes is
  // drawn (collapsed) keeps its box hidden; the box of a site that is no
  // longer on the map, with nothing drawn in it, goes.
  fitBoxes(only) {
    const cy = this.cy;
    const ext = new Map(); // site → {x1, y1, x2, y2}
    cy.nodes().forEach((n) => {
      const kind = n.data('kind');
      if (kind === 'site-box' || kind === 'site-summary' || kind === 'ghost') return;
      const site = this.siteOfNode(n);
      if (site === null || (only !== undefined && site !== only)) return;
      const p = n.position();
      const f = footprint(n.data());
      const e = ext.get(site) || { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
      e.x1 = Math.min(e.x1, p.x - f.w / 2); e.x2 = Math.max(e.x2, p.x + f.w / 2);
      e.y1 = Math.min(e.y1, p.y - f.top); e.y2 = Math.max(e.y2, p.y - f.top + f.h);
      ext.set(site, e);
    });
    const sites = only !== undefined ? [only] : new Set([...this.sites, ...ext.keys()]);
    cy.batch(() => {
      if (only === undefined) {
        cy.nodes('[kind="site-box"]').forEach((b) => { if (!sites.has(b.data('site'))) cy.remove(b); });
      }
      for (const site of sites) {
        const e = ext.get(site);
        let box = cy.getElementById(boxId(site));
        if (!e) {
          if (box.nonempty()) box.addClass('site-collapsed');
          continue;
        }
        const w = e.x2 - e.x1 + 2 * PAD, h = e.y2 - e.y1 + 2 * PAD;
        const at = { x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2 };
        if (box.empty()) {
          box = cy.add({ group: 'nodes', position: at,
            data: { id: boxId(site), site, label: siteName(site), kind: 'site-box', colour: '#f3f5f8', role: 'core', w, h } });
        }
        else {
          if (box.data('w') !== w || box.data('h') !== h) box.data({ w, h });
          moveTo(box, at);
        }
        box.removeClass('site-collapsed');
        this.boxAt.set(site, Object.assign({}, at));
      }
    });
  }

  // The nodes drawn in a site's box.
  members(site) {
    return this.cy.nodes().filter((n) => {
      const kind = n.data('kind');
      return kind !== 'site-box' && kind !== 'site-summary' && kind !== 'ghost' && this.siteOfNode(n) === site;
    });
  }

  // While a node is dragged: a box takes the nodes drawn in it along; a
  // device's box follows the device.
  dragging(node) {
    if (node.data('kind') === 'site-box') {
      const site = node.data('site');
      const was = this.boxAt.get(site);
      const p = node.position();
      if (!was) return;
      const dx = p.x - was.x, dy = p.y - was.y;
      this.boxAt.set(site, { x: p.x, y: p.y });
      if (dx || dy) this.members(site).shift({ x: dx, y: dy });
      return;
    }
    const site = this.siteOfNode(node);
    if (site !== null) this.fitBoxes(site);
  }

  // Each expanded site's devices laid out in layers (from the model),
  // keeping the saved positions, then the sites arranged; called at the
  // first layout (and by "auto layout"). A collapsed site is laid out
  // when it is first expanded (`layoutSite`): a large map that opens with
  // every site collapsed lays out none. The positions of a site's
  // devices are saved in the site's own frame (only where they sit in
  // the box matters: the box moves with the arrangement of the sites),
  // so a reload finds them where they were.
  layout() {
    this.sites = new Set([...this.model.devices.values()].map(siteOf));
    this.inner.clear();
    this.centre.clear();
    this.size.clear();
    this.right = -Infinity;
    this.ahead.clear();
    const open = [...this.sites].filter((s) => !this.isCollapsed(s)).sort();
    const laidOut = open.map((site) => this.laySite(site));
    sideBySide(laidOut);
    this.keep(laidOut);
    this.arrange();
    this.apply();
  }

  // Lays the collapsed sites not laid out yet out in idle time, one site
  // an idle period (in name order), so that expanding one only draws it;
  // called once the map is drawn (and after "auto layout"). Only the
  // layout is done ahead (`ahead`): it is used at the expand if
  // its inputs (the site's devices, their footprints, their links and
  // saved positions) are still the same, else the site is laid out then;
  // where the site goes in the saved frame, and keeping its positions,
  // happen at the expand as before. The positions are the same either way.
  layAhead() {
    const idle = globalThis.requestIdleCallback;
    if (!idle || this.aheadTask !== null) return;
    const slice = (deadline) => {
      this.aheadTask = null;
      const next = [...this.sites].sort().find((s) => this.isCollapsed(s) && !this.inner.has(s) && !this.ahead.has(s));
      if (next === undefined) {
        if (this.stats.aheadDone === undefined) this.stats.aheadDone = performance.now();
        return;
      }
      if (deadline.timeRemaining() >= AHEAD_MIN_MS) {
        const t0 = performance.now();
        const laid = this.laySite(next);
        this.ahead.set(next, { sig: laid.sig, pos: laid.pos, fresh: laid.fresh });
        this.stats.ahead++;
        this.stats.aheadMs.push(performance.now() - t0);
      }
      this.aheadTask = idle(slice);
    };
    this.aheadTask = idle(slice);
  }

  // Lays out one site not laid out yet, to the right of those laid out
  // before it in the saved frame when none of its devices had a saved
  // position (see sideBySide). Returns whether the layout laid out ahead
  // was used.
  layoutSite(site) {
    const one = [this.laySite(site)];
    if (one[0].fresh.length === one[0].list.length) {
      let right = this.right;
      // Saved sites not laid out yet: their devices' saved places.
      for (const p of this.keepMap().values()) right = Math.max(right, p.x + 100);
      const dx = right === -Infinity ? 0 : right + GAP - one[0].bounds.x1;
      for (const p of one[0].pos.values()) p.x += dx;
    }
    this.keep(one);
    return one[0].ahead;
  }

  keepMap() {
    return this.saved ? this.saved.asMap() : new Map();
  }

  // One site's devices and the links among them, laid out (keeping the
  // saved positions): {site, list, pos, fresh, bounds, sig, ahead}; the
  // layout laid out ahead (`layAhead`) when its inputs are the same.
  laySite(site) {
    const list = [];
    const mine = new Set();
    for (const d of this.model.devices.values()) {
      if (siteOf(d) !== site) continue;
      mine.add(d.id);
      list.push(Object.assign({ id: d.id, role: d.role }, this.footprintOf(d)));
    }
    const edges = [];
    for (const l of this.model.links.values()) {
      if (mine.has(l.a.device) && mine.has(l.b.device)) edges.push([l.a.device, l.b.device]);
    }
    const keep = this.keepMap();
    const sig = JSON.stringify([list, edges, list.map((n) => keep.get(n.id) || null)]);
    const have = this.ahead.get(site);
    this.ahead.delete(site);
    let laid;
    if (have && have.sig === sig) {
      // A copy: the caller moves it.
      const pos = new Map();
      for (const [id, p] of have.pos) pos.set(id, { x: p.x, y: p.y });
      laid = { pos, fresh: have.fresh.slice() };
    }
    else laid = layoutKeeping(list, edges, keep);
    return { site, list, pos: laid.pos, fresh: laid.fresh, bounds: bounds(list, laid.pos), sig, ahead: !!(have && have.sig === sig) };
  }

  // The sites laid out: their devices' places relative to their box's
  // centre, the box's size, and the positions the layout gave saved.
  keep(laidOut) {
    const fresh = [];
    for (const { site, list, pos, fresh: mine } of laidOut) {
      for (const id of mine) fresh.push([id, pos.get(id)]);
      const { x1, y1, x2, y2 } = bounds(list, pos);
      this.right = Math.max(this.right, x2);
      const cx = (x1 + x2) / 2, cyy = (y1 + y2) / 2;
      const rel = new Map();
      for (const [id, p] of pos) rel.set(id, { x: p.x - cx, y: p.y - cyy });
      this.inner.set(site, rel);
      this.centre.set(site, { x: cx, y: cyy });
      this.size.set(site, { w: x2 - x1 + 2 * PAD, h: y2 - y1 + 2 * PAD + 20 });
    }
    if (this.saved && fresh.length) this.saved.keepLayout(fresh);
  }

  // What a drag that ended moved, to be saved: [[node, where it is saved
  // (in its site's frame)]] for a device of an expanded site (its place
  // in the box updated), or for every device in a dragged box; its box
  // fitted around it again.
  dragged(node) {
    if (node.data('kind') === 'site-box') {
      this.dragging(node);
      return this.members(node.data('site')).map((n) => this.draggedDevice(n)).filter(Boolean);
    }
    const out = this.draggedDevice(node);
    const site = this.siteOfNode(node);
    if (site !== null) this.fitBoxes(site);
    return out ? [out] : [];
  }

  // [node, where it is saved] for a device of an expanded site, its place
  // in the box updated; null for anything else.
  draggedDevice(node) {
    const d = this.model.devices.get(node.id());
    const s = d && siteOf(d);
    const c = d && this.at.get(s);
    const o = d && this.centre.get(s);
    if (!c || !o || !this.inner.has(s)) return null;
    const p = node.position();
    this.inner.get(s).set(d.id, { x: p.x - c.x, y: p.y - c.y });
    return [node, { x: p.x - c.x + o.x, y: p.y - c.y + o.y }];
  }

  arrange() {
    const sizes = new Map();
    for (const s of this.sites) sizes.set(s, this.isCollapsed(s) || !this.size.has(s) ? SUMMARY_SIZE : this.size.get(s));
    this.at = arrangeSites(sizes);
  }

  // Where a device of an expanded site goes (null: not laid out yet).
  positionOf(id) {
    const d = this.model.devices.get(id);
    if (!d) return null;
    const s = siteOf(d);
    const c = this.at.get(s);
    const p = this.inner.has(s) && this.inner.get(s).get(id);
    return c && p ? { x: c.x + p.x, y: c.y + p.y } : null;
  }

  // Shows each site collapsed or expanded at its place, and the summaries.
  apply() {
    const cy = this.cy;
    cy.batch(() => {
      for (const site of this.sites) {
        const c = this.at.get(site);
        const shut = this.isCollapsed(site);
        let sum = cy.getElementById(summaryId(site));
        if (sum.empty()) {
          sum = cy.add({ group: 'nodes', position: Object.assign({}, c),
            data: { id: summaryId(site), site, kind: 'site-summary', label: siteName(site), colour: REACH_COLOURS.unknown, role: 'core' } });
        }
        sum.toggleClass('site-expanded', !shut);
        moveTo(sum, c);
      }
      cy.nodes('[kind!="site-box"][kind!="site-summary"]').forEach((n) => {
        // A stub hangs below its device.
        const p = this.positionOf(n.data('stub') ? n.data('device') : n.id());
        if (p) moveTo(n, n.data('stub') ? { x: p.x, y: p.y + 60 } : p);
      });
      this.fitBoxes();
      this.summaries();
      this.metaLinks();
    });
  }

  // After a draw: a site left without devices taken off the map (its box
  // and summary; the other sites stay where they are), the summaries'
  // colours and the summary links again.
  refresh() {
    // A toggle's own draw: apply() follows with the summaries.
    if (this.toggling) return;
    const used = new Set();
    for (const d of this.model.devices.values()) used.add(siteOf(d));
    this.cy.batch(() => {
      for (const site of [...this.sites]) {
        if (used.has(site)) continue;
        this.sites.delete(site);
        this.cy.remove(this.cy.getElementById(boxId(site)));
        this.cy.remove(this.cy.getElementById(summaryId(site)));
        this.inner.delete(site);
        this.size.delete(site);
        this.centre.delete(site);
      }
      // The boxes around what is drawn now (a box made for a device that
      // has since moved on goes).
      this.fitBoxes();
      this.summaries();
      this.metaLinks();
    });
  }

  // Every summary node's label (name and count) and colour (the worst
  // state inside).
  summaries() {
    const reach = new Map();
    for (const d of this.model.devices.values()) {
      const s = siteOf(d);
      if (!reach.has(s)) reach.set(s, []);
      reach.get(s).push(reachOf(d));
    }
    for (const [s, list] of reach) {
      const sum = this.cy.getElementById(summaryId(s));
      if (sum.empty()) continue;
      const worst = worstReach(list);
      const label = siteName(s) + '\n' + list.length + (list.length === 1 ? ' device' : ' devices');
      if (sum.data('label') !== label || sum.data('worst') !== worst) {
        sum.data({ label, worst, colour: REACH_COLOURS[worst], count: list.length });
      }
    }
  }

  // One summary link per pair of ends when a link has an end in a
  // collapsed site (that end drawn as its site's summary node).
  metaLinks() {
    const cy = this.cy;
    const devices = this.model.devices;
    const end = (id) => {
      const s = siteOf(devices.get(id));
      return this.isCollapsed(s) ? summaryId(s) : id;
    };
    const want = new Map();
    for (const l of this.model.links.values()) {
      if (!devices.has(l.a.device) || !devices.has(l.b.device)) continue;
      const a = end(l.a.device), b = end(l.b.device);
      if (a === b || (a === l.a.device && b === l.b.device)) continue;
      const [x, y] = a < b ? [a, b] : [b, a];
      const id = META + x + '\u0000' + y;
      const w = want.get(id) || { id, source: x, target: y, meta: true, count: 0, down: false };
      w.count++;
      w.down = w.down || l.state === 'down';
      want.set(id, w);
    }
    cy.edges('[?meta]').forEach((e) => { if (!want.has(e.id())) cy.remove(e); });
    const add = [];
    for (const [id, w] of want) {
      const data = Object.assign(w, EDGE_DEFAULTS, { label: w.count > 1 ? '×' + w.count : '', state: w.down ? 'down' : 'ok',
        width: Math.min(8, 1.5 + Math.log2(w.count)) });
      const e = cy.getElementById(id);
      if (e.empty()) {
        if (cy.getElementById(w.source).nonempty() && cy.getElementById(w.target).nonempty()) add.push({ group: 'edges', data });
      }
      else if (e.data('count') !== w.count || e.data('state') !== data.state) e.data(data);
    }
    if (add.length) cy.add(add);
  }

  // Expands a collapsed site or collapses an expanded one: its devices are
  // drawn or taken off the map, the sites move to make room.
  toggle(site) {
    const t0 = performance.now();
    if (this.flipped.has(site)) this.flipped.delete(site);
    else this.flipped.add(site);
    let ahead = false;
    if (!this.isCollapsed(site) && !this.inner.has(site)) ahead = this.layoutSite(site);
    this.arrange();
    const t1 = performance.now();
    const ids = new Set();
    for (const d of this.model.devices.values()) if (siteOf(d) === site) ids.add(d.id);
    this.toggling = true;
    try {
      this.redraw(ids);
    } finally {
      this.toggling = false;
    }
    const t2 = performance.now();
    this.apply();
    const t3 = performance.now();
    this.stats.toggles.push(t3 - t0);
    this.stats.phases.push({ layout: t1 - t0, draw: t2 - t1, apply: t3 - t2, ahead });
  }
}
