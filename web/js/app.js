// The live network map: builds the cytoscape view, keeps it in step with
// the live feed, and wires the controls, the detail panel, saved positions,
// the alarm/alert panels, exports and the NOC wall mode.
import { byId, show } from './dom.js';
import { setToken, whenUnauthorized } from './api.js';
import { nodeData, drawnMembers, edgeData, deviceName } from './elements.js';
import { Feed } from './feed.js';
import { DetailPanel } from './panels.js';
import { layoutKeeping, placeBeside } from './layout.js';
import { footprint, placeLinkLabels, LabelPlacer } from './labels.js';
import { cyStyle, LINK_FONT, LINK_MIN_FONT } from './style.js';
import { discoveryLoop } from './discovery.js';
import { legendPanel, alertsLoop, reportsPanel, alarmsPanel, askToken } from './side.js';
import { stubElements, showStub } from './stubs.js';
import { SiteGroups, siteOf } from './sites.js';
import { ChangeView } from './changes.js';
import { SavedPositions, whoami } from './positions.js';
import { MapModel } from './model.js';
import { Controls } from './controls.js';

const params = new URLSearchParams(location.search);
const WALL = location.pathname === '/wall' || params.get('wall') === '1';
// Above this many devices the map starts zoomed out without labels.
const LARGE_MAP_MIN = 150;

const model = new MapModel();
const dirty = model.dirty;
const state = {
  ready: false,
  renderedMs: null,
  feed: 'connecting',
  seq: null,
  deltas: 0,
  applyMs: [],
  saved: 0,
  canSave: false,
  role: null,
};
window.__nocmap = state;
state.model = model; // for tests: what the map was drawn from

let cy = null;
const saved = new SavedPositions(state); // where dragged devices were saved
let laidOut = false;
const detail = new DetailPanel(byId('detail'), model, () => cy);
// What the controls (controls.js) see of the map.
const view = {
  cy: null,
  model,
  wall: WALL,
  autoFit: true, // the page fits the view (until the user zooms or pans)
  laidOut: () => laidOut,
  fit: (nodes, pad) => fitTo(nodes, pad),
  relayout: () => relayout(),
};
const controls = new Controls(view);
// Sites as boxes (sites.js): on a large map with two sites or more, or as
// `?sites=1` / `?sites=0` say; decided once, before the first draw.
let sites = null;
let siteMode = null;
let changes = null;

// Labels (device names, each direction's %, LAG size, "stale") and curved
// parallel edges cost a lot on a large map, where labels are too small to
// read anyway: a large map starts with straight edges and no labels, and
// shows labels once the user zooms in.
let edgeLabels = true;
let largeMap = false;
const EDGE_LABEL_ZOOM = 0.7;

function setEdgeLabels(on) {
  if (on === edgeLabels) return;
  edgeLabels = on;
  cy.style(cyStyle({ wall: WALL, edgeLabels, largeMap }));
}

function makeCy() {
  cy = cytoscape({
    container: byId('cy'),
    style: cyStyle({ wall: WALL, edgeLabels, largeMap }),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 6,
  });
  window.__nocmap_cy = cy;
  view.cy = cy;
  // Cytoscape caches where its container is; keep it right when the
  // controls above it wrap or the window changes. Positions do not depend
  // on the container's size (layout.js), only the view does: a map fitted
  // by the page (not zoomed or panned by the user since) is fitted again
  // to the new size, so a map first drawn in a hidden or tiny container
  // fills the container once it has its real size.
  new ResizeObserver(containerResized).observe(byId('cy'));
  new ResizeObserver(() => cy.resize()).observe(byId('controls'));
  cy.on('scrollzoom pinchzoom dragpan', () => { view.autoFit = false; });
  cy.on('mouseover', 'edge', (e) => e.target.addClass('hover'));
  cy.on('mouseout', 'edge', (e) => e.target.removeClass('hover'));
  cy.on('tap', 'node', (e) => {
    state.prevTap = state.lastTap;
    state.lastTap = e.target.id();
    const kind = e.target.data('kind');
    if (kind === 'site-summary' || kind === 'site-box' || kind === 'ghost') {
      // A summary expands its site, a tap on a box (not on a device in
      // it) collapses it.
      if (kind !== 'ghost' && sites) sites.toggle(e.target.data('site'));
      return;
    }
    if (e.target.data('stub')) {
      detail.close();
      const t = e.target.data();
      showStub(byId('detail'), model.devices.get(t.device), t.reason, () => detail.close());
      return;
    }
    detail.showDevice(e.target.id());
  });
  cy.on('tap', 'edge', (e) => {
    if (!e.target.data('stub')) detail.showLink(e.target.data());
  });
  // Cytoscape calls two quick taps a double tap even on two different
  // nodes: only a double tap on one node opens its neighbourhood.
  cy.on('dbltap', 'node', (e) => {
    // Devices only (not stubs, sites or ghosts).
    if (state.prevTap === e.target.id() && model.devices.has(e.target.id())) controls.setFocus(e.target.id());
  });
  // A dragged box takes its devices along, a device's box follows it
  // (sites.js).
  cy.on('drag', 'node', (e) => { if (sites) sites.dragging(e.target); });
  cy.on('dragfree', 'node', (e) => {
    // In a site's box, saved in the site's own frame (sites.js).
    if (!sites) saved.queue(e.target);
    else for (const [n, at] of sites.dragged(e.target)) saved.queue(n, at);
    labelsAgain();
  });
  cy.on('zoom', () => {
    // Cytoscape works out where a label goes only while it draws it: once
    // the link labels are drawn again, their room is worked out again.
    const drawn = LINK_FONT * cy.zoom() >= LINK_MIN_FONT;
    if (drawn && !linkLabelsDrawn) labelsAgain();
    linkLabelsDrawn = drawn;
    if (largeMap && cy.zoom() >= EDGE_LABEL_ZOOM !== edgeLabels) {
      setEdgeLabels(cy.zoom() >= EDGE_LABEL_ZOOM);
      // A new stylesheet: cytoscape takes a few frames to draw it all.
      labelsAgain(250);
    }
  });
}

state.placeLabels = () => placeLinkLabels(cy); // for tests

let linkLabelsDrawn = true;
let lastSize = { w: 0, h: 0 };

function containerResized() {
  const box = byId('cy').getBoundingClientRect();
  const was = lastSize;
  lastSize = { w: box.width, h: box.height };
  cy.resize();
  state.resizes = (state.resizes || 0) + 1;
  if (!laidOut || box.width < 1 || box.height < 1) return;
  const tiny = was.w < 200 || was.h < 150;
  if (view.autoFit || tiny) fitTo(cy.nodes(':visible'), 30);
}

// Which link labels have room, worked out again after the map changed.
const labelPlacer = new LabelPlacer(() => cy, state, () => edgeLabels);
const labelsAgain = (settleMs) => labelPlacer.again(settleMs);

// --- model updates -------------------------------------------------------

// The server diffs (its feed sends only what changed); the page applies
// what it is sent to the elements it names and re-diffs nothing.

function applySnapshot(msg) {
  const t0 = performance.now();
  if (!state.firstSnapshotMs) state.firstSnapshotMs = t0;
  model.applySnapshot(msg);
  if (!state.firstSnapshotDevices) state.firstSnapshotDevices = model.devices.size; // for tests
  detail.model = model;
  if (msg.seq !== undefined) state.seq = msg.seq;
  state.snapshots = (state.snapshots || 0) + 1;
  draw();
  timed(t0);
}

// How long applying one update took (for the benchmark and tests).
function timed(t0) {
  state.applyMs.push(performance.now() - t0);
  if (state.applyMs.length > 600) state.applyMs.shift();
}

function applyDelta(msg) {
  const t0 = performance.now();
  model.absorb(msg);
  state.seq = msg.seq;
  state.deltas++;
  if (largeMap) scheduleDraw();
  else draw();
  timed(t0);
}

// On a large map, redrawing after every one-second delta would keep the
// page busy: deltas go into the model at once, the map is redrawn at most
// every LARGE_MAP_REDRAW_MS.
const LARGE_MAP_REDRAW_MS = 2000;
let drawTimer = null;
let lastDraw = 0;

function scheduleDraw() {
  if (drawTimer) return;
  const wait = Math.max(0, lastDraw + LARGE_MAP_REDRAW_MS - performance.now());
  drawTimer = setTimeout(() => {
    drawTimer = null;
    lastDraw = performance.now();
    const t0 = lastDraw;
    draw();
    state.renderMs = state.renderMs || [];
    state.renderMs.push(performance.now() - t0);
  }, wait);
}

// Brings the marked elements onto the map: adds, updates or removes each
// by its id. `viewOnly`: the model did not change (a site expanded or
// collapsed), only what is drawn of it.
function draw(viewOnly) {
  const t0 = performance.now();
  if (siteMode === null && model.devices.size) startSites();
  if (!laidOut && model.devices.size > LARGE_MAP_MIN) {
    largeMap = true;
    setEdgeLabels(false); // while cy is still empty
  }
  const devicesChanged = dirty.nodes.size > 0 && !viewOnly;
  const added = [];
  cy.batch(() => {
    for (const id of dirty.nodes) {
      const d = model.devices.get(id);
      const ele = cy.getElementById(id);
      // A device of a collapsed site is not drawn (its site's summary is).
      if (!d || (sites && !sites.showsId(id))) {
        if (ele.nonempty()) cy.remove(ele);
      }
      else if (ele.nonempty() && !(sites && ele.data('site') !== siteOf(d))) ele.data(nodeData(d));
      else {
        // New, or moved to another site: (re)drawn in its site's box, its links too.
        if (ele.nonempty()) {
          cy.remove(ele);
          model.markLinksOf(new Set([id]));
        }
        added.push({ group: 'nodes', data: nodeData(d), position: placeNew(id) });
      }
    }
    const shown = sites ? { has: (id) => sites.showsId(id) } : model.devices;
    for (const key of dirty.edges) {
      const ids = model.edgeLinks.get(key) || [];
      const members = drawnMembers([...ids].map((id) => model.links.get(id)), shown);
      const ele = cy.getElementById(key);
      const data = members.length ? edgeData(key, members) : null;
      if (ele.nonempty() && data && ele.data('source') === data.source && ele.data('target') === data.target) {
        ele.data(data);
        continue;
      }
      if (ele.nonempty()) cy.remove(ele);
      if (data) added.push({ group: 'edges', data });
    }
    for (const id of dirty.nodes) syncStubs(id, added);
    if (added.length) cy.add(added);
  });
  if (laidOut) placeStubs(added);
  dirty.nodes.clear();
  dirty.edges.clear();
  const t1 = performance.now();
  if (!laidOut && (cy.nodes().nonempty() || sites)) firstLayout();
  const t2 = performance.now();
  if (devicesChanged) controls.refresh();
  if (sites && laidOut) sites.refresh();
  if (changes) changes.mark();
  controls.apply(viewOnly);
  // Labels change width with their figures: placed again after each draw.
  if (laidOut && edgeLabels) labelsAgain();
  if (!viewOnly) {
    alarmsPanel(model, WALL);
    detail.rerender(false);
  }
  state.last = { sync: t1 - t0, layout: t2 - t1, rest: performance.now() - t2 };
  if (!state.first && laidOut) state.first = Object.assign({ at: t0 }, state.last);
}

// Each device's stubs (stubs.js), by device id.
const stubsOf = new Map();

// Brings a device's stubs in step with its unresolved rows.
function syncStubs(id, added) {
  const d = model.devices.get(id);
  const want = d && (!sites || sites.showsId(id)) ? stubElements(d) : { nodes: [], edges: [] };
  const keep = new Set(want.nodes.map((n) => n.data.id));
  for (const sid of stubsOf.get(id) || []) if (!keep.has(sid)) cy.remove(cy.getElementById(sid));
  want.nodes.forEach((n, k) => {
    const ele = cy.getElementById(n.data.id);
    if (ele.nonempty()) {
      ele.data(n.data);
      return;
    }
    added.push(Object.assign({ position: Object.assign({}, saved.get(n.data.id) || { x: 0, y: 0 }) }, n), want.edges[k]);
  });
  if (keep.size) stubsOf.set(id, keep);
  else stubsOf.delete(id);
}

// Stubs that arrived after the first layout go below their device (and
// are kept there, as placed devices are).
function placeStubs(added) {
  const fresh = added.filter((a) => a.data.stub && a.group === 'nodes' && !saved.get(a.data.id));
  if (!fresh.length) return;
  const kept = [];
  cy.batch(() => fresh.forEach((a) => {
    const n = cy.getElementById(a.data.id);
    const others = cy.nodes().filter((o) => o.id() !== a.data.id);
    const placed = others.map((o) => Object.assign({ id: o.id(), role: o.data('role') }, o.position(), footprintOf(o)));
    // Clear of the links drawn (not its own).
    const links = cy.edges().filter((e) => e.source().id() !== a.data.id && e.target().id() !== a.data.id)
      .map((e) => ({ a: e.source().position(), b: e.target().position() }));
    n.position(placeBeside(Object.assign({ id: a.data.id, role: 'host' }, footprintOf(n)), [a.data.device], placed, links));
    kept.push([a.data.id, n.position()]);
  }));
  if (!sites) saved.keepLayout(kept);
}

// A device that appears after the first layout goes on its role's row
// next to its neighbours, where it covers no other device or label; the
// devices already placed do not move.
function placeNew(id) {
  const inSitePos = sites && sites.positionOf(id);
  if (inSitePos) return inSitePos;
  if (saved.get(id) && !sites) return Object.assign({}, saved.get(id));
  if (!laidOut) return { x: 0, y: 0 };
  const data = nodeData(model.devices.get(id));
  const placed = cy.nodes().map((n) => Object.assign({ id: n.id(), role: n.data('role') }, n.position(), footprintOf(n)));
  const links = cy.edges().map((e) => ({ a: e.source().position(), b: e.target().position() }));
  const p = placeBeside(Object.assign({ id, role: data.role }, footprint(data)), model.neighbours(id), placed, links);
  // Kept where it was placed: a reload finds it there.
  if (!sites) saved.keepLayout([[id, p]]);
  return p;
}

const footprints = new Map(); // node id → [label text, footprint]
function footprintOf(n) {
  const key = n.data('kind') + '\u0000' + n.data('shortName');
  const have = footprints.get(n.id());
  if (have && have[0] === key) return have[1];
  const f = footprint(n.data());
  footprints.set(n.id(), [key, f]);
  return f;
}

// Positions (layout.js) for `nodes` and the links among them that keep
// the saved ones (`keep`: Map id → {x, y}): {pos, fresh}.
function autoPositions(nodes, keep) {
  const list = nodes.map((n) => Object.assign({ id: n.id(), role: n.data('role'), name: n.data('name') }, footprintOf(n)));
  const edges = nodes.edgesWith(nodes).map((e) => [e.data('source'), e.data('target')]);
  return layoutKeeping(list, edges, keep);
}

// The positions `ids` were given by the layout, kept (sent to the server
// when the user may save): not ghosts of gone devices.
function keepPositions(pos, ids) {
  saved.keepLayout(ids.filter((id) => cy.getElementById(id).data('kind') !== 'ghost').map((id) => [id, pos.get(id)]));
}

// Fits the view to the nodes' centres (cheaper than cy.fit, which measures
// every label on a large map).
function fitTo(nodes, pad) {
  if (nodes.empty()) return;
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  // Each device's footprint (its label too), so no label is cut at the edge.
  nodes.forEach((n) => {
    if (n.data('kind') === 'site-box') {
      // A site's box: its own bounds (its title above it too).
      const b = n.boundingBox();
      x1 = Math.min(x1, b.x1); y1 = Math.min(y1, b.y1);
      x2 = Math.max(x2, b.x2); y2 = Math.max(y2, b.y2);
      return;
    }
    const p = n.position();
    const f = footprintOf(n);
    x1 = Math.min(x1, p.x - f.w / 2); y1 = Math.min(y1, p.y - f.top);
    x2 = Math.max(x2, p.x + f.w / 2); y2 = Math.max(y2, p.y - f.top + f.h);
  });
  const w = cy.width() - 2 * pad;
  const h = cy.height() - 2 * pad;
  const zoom = Math.max(cy.minZoom(), Math.min(2, w / (x2 - x1), h / (y2 - y1)));
  cy.viewport({ zoom, pan: { x: cy.width() / 2 - zoom * (x1 + x2) / 2, y: cy.height() / 2 - zoom * (y1 + y2) / 2 } });
}

// Sites as boxes or not, once: `?sites=1|0`, else on a large map with
// two sites or more.
function startSites() {
  const want = params.get('sites');
  const names = new Set([...model.devices.values()].map(siteOf));
  siteMode = want === '1' || (want !== '0' && model.devices.size > LARGE_MAP_MIN && names.size > 1);
  // A large map opens with every site collapsed.
  const measure = (d) => {
    const data = nodeData(d);
    return Object.assign({ name: data.name }, footprint(data));
  };
  if (siteMode) sites = new SiteGroups(cy, model, measure, redrawDevices, model.devices.size > LARGE_MAP_MIN, saved);
  state.sites = sites; // for tests
}

// Draws the devices `ids` and their links again (a site expanded or
// collapsed).
function redrawDevices(ids) {
  model.markDevices(ids);
  draw(true);
}

function firstLayout() {
  laidOut = true;
  const all = cy.nodes();
  if (sites) {
    // Each site laid out in layers (keeping the saved positions).
    sites.layout();
  } else {
    // Saved positions (dragged, or laid out before) are kept; the other
    // devices go where the layout puts them, the same on every page, and
    // are kept there.
    const { pos, fresh } = autoPositions(all, saved.asMap());
    cy.batch(() => all.positions((n) => Object.assign({}, pos.get(n.id()))));
    keepPositions(pos, fresh);
  }
  fitTo(cy.nodes(':visible'), 30);
  view.autoFit = true;
  labelsAgain();
  cy.one('render', () => requestAnimationFrame(() => {
    state.ready = true;
    state.renderedMs = performance.now();
    document.body.dataset.ready = '1';
    // The collapsed sites laid out in idle time from now on.
    if (sites) sites.layAhead();
  }));
  cy.forceRender();
}

function relayout() {
  if (sites) {
    // Every site laid out again (its saved positions forgotten first).
    saved.forget().then(() => {
      sites.layout();
      sites.layAhead();
      fitTo(cy.nodes(':visible'), 30);
      view.autoFit = true;
      labelsAgain();
    });
    return;
  }
  const shown = cy.nodes(':visible');
  const { pos, fresh } = autoPositions(shown, new Map());
  cy.batch(() => shown.positions((n) => Object.assign({}, pos.get(n.id()))));
  fitTo(shown, 30);
  view.autoFit = true;
  labelsAgain();
  // Forgotten, then the new layout kept (when the user may save).
  saved.forget().then(() => keepPositions(pos, fresh));
}

// --- start -----------------------------------------------------------------

function feedState(s) {
  state.feed = s;
  show(byId('feed-banner'), s === 'lost');
  byId('feed-state').textContent = s === 'live' ? 'live' : s === 'poll' ? 'polling' : s === 'lost' ? 'feed lost' : '';
  document.body.dataset.feed = s;
}

async function start() {
  if (WALL) document.body.classList.add('wall');
  whenUnauthorized(askToken);
  byId('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setToken(byId('token-input').value.trim());
    location.reload();
  });
  state.startMs = performance.now();
  makeCy();
  controls.wire();
  legendPanel();
  // The event stream is asked for at once (on a large map its snapshot
  // is the long wait); what it sends is applied once the user's role and
  // the saved positions are known.
  const early = [];
  let held = true;
  const hold = (apply) => (msg) => (held ? early.push(() => apply(msg)) : apply(msg));
  const feed = new Feed({
    snapshot: hold(applySnapshot),
    delta: hold(applyDelta),
    state: feedState,
    unauthorized: askToken,
  });
  state.feedTimes = feed.times; // for the benchmark
  feed.start();
  try {
    await Promise.all([whoami(state), saved.load()]);
  } catch (e) {
    feed.stop(false); // 401: the token prompt is up
    return;
  }
  held = false;
  early.splice(0).forEach((apply) => apply());
  alertsLoop();
  changes = new ChangeView(cy, (id) => model.edgeOfLink.get(id), (id) => {
    const d = model.devices.get(id);
    return d ? deviceName(d) : id;
  });
  state.changes = changes; // for tests
  changes.start(state.canSave, WALL);
  if (!WALL) discoveryLoop();
  reportsPanel();
  if (WALL) {
    setInterval(() => {
      fitTo(cy.nodes(':visible'), 30);
      view.autoFit = true;
    }, 60000);
    setTimeout(() => location.reload(), 30 * 60000); // a fresh page now and then
  }
}

start();
