// The live network map: builds the cytoscape view, keeps it in step with
// the live feed, and wires the controls, the detail panel, saved positions,
// the alarm/alert panels, exports and the NOC wall mode.
import { el, fill, byId, show, download } from './dom.js';
import { getJson, sendJson, request, setToken, token, whenUnauthorized, HttpError } from './api.js';
import {
  nodeData, edgeKey, drawnMembers, edgeData, deviceName, BAND_NAMES, BAND_COLOURS, STATE_COLOURS, REACH_COLOURS,
} from './elements.js';
import { Feed } from './feed.js';
import { parseCidr, matchesSearch, visibleDevices } from './filters.js';
import { DetailPanel } from './panels.js';
import { exportPng, exportSvg } from './export.js';
import { ringPositions } from './layout.js';
import { discoveryLoop } from './discovery.js';

const params = new URLSearchParams(location.search);
const WALL = location.pathname === '/wall' || params.get('wall') === '1';
// Above this many devices the force-directed layout is too slow to wait for.
const FORCE_LAYOUT_MAX = 150;

const model = { devices: new Map(), links: new Map() };
// The edge each link is drawn in (its own, or its LAG's) and each edge's links.
const edgeOfLink = new Map();
const edgeLinks = new Map();
// The elements the next draw brings onto the map, by id: the ones the
// server's snapshots and deltas named since the last draw.
const dirty = { nodes: new Set(), edges: new Set() };
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
let saved = {}; // device id → {x, y} from the server
let laidOut = false;
const detail = new DetailPanel(byId('detail'), model);
const filters = { search: '', prefix: null, site: '', focus: null, depth: 2 };

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
  cy.style(cyStyle());
}

function cyStyle() {
  const font = WALL ? 18 : 10;
  return [
    { selector: 'node', style: {
      label: edgeLabels ? 'data(label)' : '', 'background-color': 'data(colour)', 'text-wrap': 'wrap',
      'text-valign': 'bottom', 'text-margin-y': 3, 'font-size': font, width: 26, height: 26,
      color: WALL ? '#e8eaed' : '#1b1f24', 'min-zoomed-font-size': 6,
      'border-width': 1, 'border-color': '#444c56',
    } },
    { selector: 'node[kind="router"]', style: { shape: 'ellipse' } },
    { selector: 'node[kind="switch"]', style: { shape: 'round-rectangle', width: 34, height: 20 } },
    { selector: 'node[kind="host"]', style: { shape: 'rectangle', width: 18, height: 18 } },
    // Not 'diamond': cytoscape 3.34.4 does not register taps at a diamond's centre.
    { selector: 'node[kind="unmanaged"]', style: { shape: 'hexagon', 'border-width': 2, 'border-color': '#9aa0a6' } },
    { selector: 'node[kind="poller"]', style: { shape: 'star', width: 30, height: 30 } },
    { selector: 'node[stale="yes"]', style: { 'border-style': 'dashed', 'border-width': 2 } },
    { selector: 'node.match', style: { 'border-width': 4, 'border-color': '#ffb000' } },
    { selector: 'node:selected', style: { 'border-width': 4, 'border-color': '#3b7dd8' } },
    { selector: '.faded', style: { opacity: 0.2 } },
    { selector: '.hidden', style: { display: 'none' } },
    { selector: 'edge', style: {
      width: 'data(width)', 'curve-style': largeMap ? 'haystack' : 'bezier',
      ...(largeMap && !edgeLabels
        // zoomed-out large map: one colour (the busier direction), cheap to draw
        ? { 'line-fill': 'solid', 'line-color': 'data(maxColour)' }
        : { 'line-fill': 'linear-gradient', 'line-gradient-stop-colors': 'data(grad)', 'line-gradient-stop-positions': '0 50 50 100' }),
    } },
    ...(edgeLabels ? [{ selector: 'edge', style: {
      'source-label': 'data(abLabel)', 'target-label': 'data(baLabel)',
      'source-text-offset': 28, 'target-text-offset': 28, label: 'data(label)',
      'font-size': WALL ? 14 : 8, color: WALL ? '#c9d1d9' : '#4b5563', 'min-zoomed-font-size': 7,
      'text-background-color': WALL ? '#10141a' : '#ffffff', 'text-background-opacity': 0.7,
    } }] : []),
    { selector: 'edge[state="down"]', style: {
      'line-fill': 'solid', 'line-color': STATE_COLOURS.down, 'line-style': 'dashed', 'line-dash-pattern': [8, 5],
    } },
    { selector: 'edge[state="degraded"]', style: { 'line-fill': 'solid', 'line-color': STATE_COLOURS.degraded } },
    { selector: 'edge[state="stale"]', style: {
      'line-fill': 'solid', 'line-color': STATE_COLOURS.stale, 'line-style': 'dotted', opacity: 0.6,
    } },
    { selector: 'edge[members > 1]', style: { 'line-outline-width': 2, 'line-outline-color': '#1b1f24' } },
    { selector: 'edge:selected', style: { 'underlay-color': '#3b7dd8', 'underlay-opacity': 0.3, 'underlay-padding': 4 } },
  ];
}

function makeCy() {
  cy = cytoscape({
    container: byId('cy'),
    style: cyStyle(),
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 6,
  });
  window.__nocmap_cy = cy;
  // Cytoscape caches where its container is; keep it right when the
  // controls above it wrap or the window changes.
  new ResizeObserver(() => cy.resize()).observe(byId('cy'));
  new ResizeObserver(() => cy.resize()).observe(byId('controls'));
  cy.on('tap', 'node', (e) => {
    state.prevTap = state.lastTap;
    state.lastTap = e.target.id();
    detail.showDevice(e.target.id());
  });
  cy.on('tap', 'edge', (e) => detail.showLink(e.target.data()));
  // Cytoscape calls two quick taps a double tap even on two different
  // nodes: only a double tap on one node opens its neighbourhood.
  cy.on('dbltap', 'node', (e) => {
    if (state.prevTap === e.target.id()) setFocus(e.target.id());
  });
  cy.on('dragfree', 'node', (e) => queueSave(e.target));
  cy.on('zoom', () => {
    if (largeMap) setEdgeLabels(cy.zoom() >= EDGE_LABEL_ZOOM);
  });
}

// --- model updates -------------------------------------------------------

// The server diffs (its feed sends only what changed); the page applies
// what it is sent to the elements it names and re-diffs nothing.

function applySnapshot(msg) {
  const t0 = performance.now();
  if (!state.firstSnapshotMs) state.firstSnapshotMs = t0;
  const devices = msg.devices || [];
  const links = msg.links || [];
  // A snapshot is every item: what it does not name is gone.
  const keepDevices = new Set(devices.map((d) => d.id));
  const keepLinks = new Set(links.map((l) => l.id));
  absorb({
    devices,
    links,
    removed_devices: [...model.devices.keys()].filter((id) => !keepDevices.has(id)),
    removed_links: [...model.links.keys()].filter((id) => !keepLinks.has(id)),
  });
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
  absorb(msg);
  state.seq = msg.seq;
  state.deltas++;
  if (largeMap) scheduleDraw();
  else draw();
  timed(t0);
}

// Takes a snapshot's or a delta's items into the model and marks the
// elements they name for the next draw.
function absorb(msg) {
  for (const id of msg.removed_links || []) {
    forgetLink(id);
    model.links.delete(id);
  }
  for (const id of msg.removed_devices || []) {
    model.devices.delete(id);
    dirty.nodes.add(id);
  }
  const arrived = new Set();
  for (const d of msg.devices || []) {
    if (!model.devices.has(d.id)) arrived.add(d.id);
    model.devices.set(d.id, d);
    dirty.nodes.add(d.id);
  }
  for (const l of msg.links || []) {
    forgetLink(l.id);
    model.links.set(l.id, l);
    const key = edgeKey(l);
    edgeOfLink.set(l.id, key);
    if (!edgeLinks.has(key)) edgeLinks.set(key, new Set());
    edgeLinks.get(key).add(l.id);
    dirty.edges.add(key);
  }
  // A link whose device was missing can be drawn once the device arrives.
  if (arrived.size) {
    for (const l of model.links.values()) {
      if (arrived.has(l.a.device) || arrived.has(l.b.device)) dirty.edges.add(edgeOfLink.get(l.id));
    }
  }
}

function forgetLink(id) {
  const key = edgeOfLink.get(id);
  if (key === undefined) return;
  edgeOfLink.delete(id);
  const ids = edgeLinks.get(key);
  ids.delete(id);
  if (!ids.size) edgeLinks.delete(key);
  dirty.edges.add(key);
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
// by its id.
function draw() {
  const t0 = performance.now();
  if (!laidOut && model.devices.size > FORCE_LAYOUT_MAX) {
    largeMap = true;
    setEdgeLabels(false); // while cy is still empty
  }
  const devicesChanged = dirty.nodes.size > 0;
  const added = [];
  cy.batch(() => {
    for (const id of dirty.nodes) {
      const d = model.devices.get(id);
      const ele = cy.getElementById(id);
      if (!d) cy.remove(ele);
      else if (ele.nonempty()) ele.data(nodeData(d));
      else added.push({ group: 'nodes', data: nodeData(d), position: placeNew(id) });
    }
    for (const key of dirty.edges) {
      const ids = edgeLinks.get(key) || [];
      const members = drawnMembers([...ids].map((id) => model.links.get(id)), model.devices);
      const ele = cy.getElementById(key);
      const data = members.length ? edgeData(key, members) : null;
      if (ele.nonempty() && data && ele.data('source') === data.source && ele.data('target') === data.target) {
        ele.data(data);
        continue;
      }
      cy.remove(ele);
      if (data) added.push({ group: 'edges', data });
    }
    if (added.length) cy.add(added);
  });
  dirty.nodes.clear();
  dirty.edges.clear();
  const t1 = performance.now();
  if (!laidOut && cy.nodes().nonempty()) firstLayout();
  const t2 = performance.now();
  if (devicesChanged) refreshControls();
  applyFilters();
  alarms();
  detail.rerender(false);
  state.last = { sync: t1 - t0, layout: t2 - t1, rest: performance.now() - t2 };
}

// A device that appears after the first layout goes next to a neighbour.
function placeNew(id) {
  if (saved[id]) return Object.assign({}, saved[id]);
  if (!laidOut) return { x: 0, y: 0 };
  for (const l of model.links.values()) {
    const other = l.a.device === id ? l.b.device : l.b.device === id ? l.a.device : null;
    const n = other && cy.getElementById(other);
    if (n && n.nonempty()) {
      const p = n.position();
      return { x: p.x + 40 + Math.random() * 40, y: p.y + 40 + Math.random() * 40 };
    }
  }
  const e = cy.extent();
  return { x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2 };
}

// Lays `nodes` out (force-directed when small, rings when large) inside
// `box` when given.
function layoutNodes(nodes, box) {
  if (nodes.length <= FORCE_LAYOUT_MAX) {
    // Strong repulsion and stiff edges of one length: links come out of
    // similar length and devices keep apart (measured on chains, trees,
    // rings, stars and meshes: no two devices closer than half a link;
    // the weak repulsion used before let leaves sit on their neighbour).
    const opts = {
      name: 'cose', animate: false, randomize: true, fit: false,
      nodeRepulsion: () => 400000, idealEdgeLength: () => 100, edgeElasticity: () => 100,
      gravity: 80, nodeOverlap: 20, numIter: 1000, initialTemp: 200, coolingFactor: 0.95,
    };
    if (box) opts.boundingBox = box;
    // The links between them go in too: a layout of nodes alone sees no
    // edges and tiles every device as a component of its own (a grid that
    // can put a device on top of a link it is not on).
    nodes.union(nodes.edgesWith(nodes)).layout(opts).run();
    return;
  }
  // Large maps: rings by degree, computed here in linear time; no label
  // measuring, one batch.
  const pos = ringPositions(nodes.map((n) => ({ id: n.id(), degree: n.degree() })));
  const dx = box ? box.x1 : 0;
  const dy = box ? box.y1 : 0;
  cy.batch(() => nodes.positions((n) => {
    const p = pos.get(n.id());
    return { x: p.x + dx, y: p.y + dy };
  }));
}

// Fits the view to the nodes' centres (cheaper than cy.fit, which measures
// every label on a large map).
function fitTo(nodes, pad) {
  if (nodes.empty()) return;
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  nodes.forEach((n) => {
    const p = n.position();
    x1 = Math.min(x1, p.x); y1 = Math.min(y1, p.y);
    x2 = Math.max(x2, p.x); y2 = Math.max(y2, p.y);
  });
  const m = 40; // room for the node and its label
  const w = cy.width() - 2 * pad;
  const h = cy.height() - 2 * pad;
  const zoom = Math.max(cy.minZoom(), Math.min(2, w / (x2 - x1 + 2 * m), h / (y2 - y1 + 2 * m)));
  cy.viewport({ zoom, pan: { x: cy.width() / 2 - zoom * (x1 + x2) / 2, y: cy.height() / 2 - zoom * (y1 + y2) / 2 } });
}

function firstLayout() {
  laidOut = true;
  // The map may have been hidden behind the token prompt when cytoscape
  // measured its container: measure again, or the layout squeezes every
  // device into a box of the stale (zero) size.
  cy.resize();
  const all = cy.nodes();
  const have = all.filter((n) => saved[n.id()]);
  const unsaved = all.difference(have);
  if (have.empty()) {
    layoutNodes(all);
  } else {
    cy.batch(() => have.forEach((n) => { n.position(saved[n.id()]); }));
    if (unsaved.nonempty()) {
      // Saved nodes stay; the others are laid out beside them.
      let x2 = -Infinity, y1 = Infinity;
      have.forEach((n) => { x2 = Math.max(x2, n.position().x); y1 = Math.min(y1, n.position().y); });
      layoutNodes(unsaved, { x1: x2 + 120, y1, w: 400, h: 400 });
    }
  }
  fitTo(all, 30);
  cy.one('render', () => requestAnimationFrame(() => {
    state.ready = true;
    state.renderedMs = performance.now();
    document.body.dataset.ready = '1';
  }));
  cy.forceRender();
}

function relayout() {
  const shown = cy.nodes(':visible');
  layoutNodes(shown);
  fitTo(shown, 30);
  if (state.canSave) {
    sendJson('DELETE', '/api/map/positions').catch(() => {});
    saved = {};
  }
}

// --- saved positions -----------------------------------------------------

let pending = {};
let saveTimer = null;

function queueSave(node) {
  if (!state.canSave) return;
  const p = node.position();
  pending[node.id()] = { x: p.x, y: p.y };
  saved[node.id()] = pending[node.id()];
  clearTimeout(saveTimer);
  saveTimer = setTimeout(flushSave, 250);
}

async function flushSave() {
  const positions = pending;
  pending = {};
  try {
    await sendJson('PUT', '/api/map/positions', { positions });
    state.saved += Object.keys(positions).length;
  } catch (e) {
    byId('role-note').textContent = 'could not save positions';
  }
}

async function loadPositions() {
  try {
    const r = await getJson('/api/map/positions');
    saved = (r && r.positions) || {};
  } catch (e) {
    saved = {};
  }
}

async function whoami() {
  try {
    const w = await getJson('/api/whoami');
    state.role = w.role;
    state.canSave = w.role === 'admin';
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) throw e;
    state.role = 'unknown';
    state.canSave = true; // an older server without roles: try, report failures
  }
  byId('role-note').textContent = state.canSave ? '' : 'read-only: moved nodes are not saved';
  byId('relayout').title = state.canSave ? 'forget saved positions and lay the map out again' : 'lay the map out again (not saved)';
}

// --- filters and controls ------------------------------------------------

let knownSites = '';
let knownDevices = '';

function refreshControls() {
  const sites = [...new Set([...model.devices.values()].map((d) => d.sys_location).filter(Boolean))].sort();
  if (sites.join('\u0000') !== knownSites) {
    knownSites = sites.join('\u0000');
    const sel = byId('site');
    const cur = sel.value;
    fill(sel, [el('option', { value: '' }, 'all sites'), ...sites.map((s) => el('option', { value: s, selected: s === cur }, s))]);
  }
  const devs = [...model.devices.values()].map((d) => [d.id, deviceName(d)]).sort((a, b) => a[1].localeCompare(b[1]));
  const key = devs.map((d) => d.join('\u0001')).join('\u0000');
  if (key !== knownDevices) {
    knownDevices = key;
    const sel = byId('focus');
    fill(sel, [el('option', { value: '' }, 'whole map'), ...devs.map(([id, name]) => el('option', { value: id, selected: id === filters.focus }, name))]);
  }
}

function setFocus(id) {
  filters.focus = id || null;
  byId('focus').value = id || '';
  applyFilters();
  const shown = cy.nodes(':visible');
  if (shown.nonempty()) fitTo(shown, 40);
}

function applyFilters() {
  const visible = visibleDevices(model.devices, model.links, filters);
  const search = filters.search;
  const matches = cy.collection();
  cy.batch(() => {
    cy.nodes().forEach((n) => {
      const d = model.devices.get(n.id());
      n.toggleClass('hidden', visible !== null && !visible.has(n.id()));
      const hit = !!search && !!d && matchesSearch(d, search);
      n.toggleClass('match', hit);
      n.toggleClass('faded', !!search && !hit);
      if (hit) matches.merge(n);
    });
  });
  return matches;
}

function wireControls() {
  const search = byId('search');
  search.addEventListener('input', () => {
    filters.search = search.value;
    const m = applyFilters();
    if (m.nonempty() && m.length <= 20) fitTo(m, 120);
  });
  const prefix = byId('prefix');
  prefix.addEventListener('change', () => {
    const text = prefix.value.trim();
    filters.prefix = text ? parseCidr(text) : null;
    prefix.classList.toggle('invalid', !!text && !filters.prefix);
    applyFilters();
  });
  byId('site').addEventListener('change', (e) => { filters.site = e.target.value; applyFilters(); });
  byId('focus').addEventListener('change', (e) => setFocus(e.target.value));
  byId('depth').addEventListener('change', (e) => { filters.depth = Number(e.target.value); setFocus(filters.focus); });
  byId('fit').addEventListener('click', () => fitTo(cy.nodes(':visible'), 30));
  byId('relayout').addEventListener('click', relayout);
  byId('export-png').addEventListener('click', () => exportPng(cy, WALL));
  byId('export-svg').addEventListener('click', () => exportSvg(cy, WALL));
}

function legendPanel() {
  const sw = (colour, text) => {
    const s = el('span', { class: 'swatch' });
    s.style.background = colour;
    return el('span', { class: 'legend-item' }, [s, text]);
  };
  fill(byId('legend-body'), [
    el('div', { class: 'legend' }, BAND_NAMES.map((n, i) => sw(BAND_COLOURS[i], n + ' %'))),
    el('div', { class: 'legend' }, [
      sw(STATE_COLOURS.down, 'down (dashed)'), sw(STATE_COLOURS.degraded, 'errors/discards'),
      sw(STATE_COLOURS.stale, 'stale (dotted)'),
    ]),
    el('div', { class: 'legend' }, [
      sw(REACH_COLOURS.up, 'reachable'), sw(REACH_COLOURS.down, 'unreachable'), sw(REACH_COLOURS.unknown, 'unknown or stale (dashed)'),
    ]),
    el('p', { class: 'muted' }, 'Each link is coloured half by half: the half at a device shows what that device sends. ' +
      'Width grows with speed. Double-click a device for its neighbourhood; drag to place it.'),
  ]);
}

// --- alarms, alerts, reports ----------------------------------------------

function alarms() {
  const down = [...model.devices.values()].filter((d) => d.health && d.health.reachability === 'down');
  const name = (id) => {
    const d = model.devices.get(id);
    return d ? deviceName(d) : id;
  };
  const links = [...model.links.values()].filter((l) => l.state === 'down');
  const items = [
    ...down.map((d) => el('li', { class: 'alarm-down' }, 'device down: ' + deviceName(d))),
    ...links.map((l) => el('li', { class: 'alarm-down' },
      'link down: ' + name(l.a.device) + ' ' + (l.a.if_name || '') + ' ↔ ' + name(l.b.device) + ' ' + (l.b.if_name || ''))),
  ];
  if (WALL && !items.length) items.push(el('li', {}, 'no device or link down'));
  fill(byId('alarm-list'), items);
  show(byId('alarms'), WALL || items.length > 0);
}

async function alertsLoop() {
  for (;;) {
    try {
      const r = await getJson('/api/alerts');
      const list = Array.isArray(r) ? r : (r && (r.alerts || r.active)) || [];
      const text = (a) => {
        if (typeof a !== 'object' || a === null) return String(a);
        const dev = a.device && typeof a.device === 'object'
          ? a.device.name || a.device.sys_name || a.device.id
          : a.device || a.target || a.subject;
        const parts = [a.severity, a.status || a.state, a.rule || a.name || a.kind, dev, a.interface,
          a.message || a.summary, a.since && 'since ' + a.since, a.flapping && 'flapping'];
        return parts.filter((p) => p !== undefined && p !== null && p !== '' && p !== false).map(String).join(' · ');
      };
      fill(byId('alert-list'), list.length ? list.map((a) => el('li', {}, text(a))) : el('li', { class: 'muted' }, 'no active alerts'));
      show(byId('alerts'), true);
    } catch (e) {
      show(byId('alerts'), false);
      if (e instanceof HttpError && e.status === 404) return; // this server has no alerting
    }
    await new Promise((res) => setTimeout(res, 15000));
  }
}

const REPORTS = ['reachability', 'bandwidth'];
const FORMATS = ['html', 'csv', 'json'];

// The buttons are always shown: a report is computed only when asked for,
// and a server without a store says so on the click.
async function reportsPanel() {
  const links = [];
  for (const rep of REPORTS) {
    for (const fmt of FORMATS) {
      const path = '/api/reports/' + rep + '?since=-7d&format=' + fmt;
      const b = el('button', { type: 'button', 'data-report': rep + '.' + fmt }, rep + ' ' + fmt);
      b.addEventListener('click', async () => {
        try {
          const r = await request(path);
          download(await r.blob(), 'nocmap-' + rep + '.' + fmt);
        } catch (e) {
          b.textContent = rep + ' ' + fmt + ' (failed)';
        }
      });
      links.push(b);
    }
  }
  fill(byId('report-links'), links);
  show(byId('reports'), true);
}

// --- start -----------------------------------------------------------------

function feedState(s) {
  state.feed = s;
  show(byId('feed-banner'), s === 'lost');
  byId('feed-state').textContent = s === 'live' ? 'live' : s === 'poll' ? 'polling' : s === 'lost' ? 'feed lost' : '';
  document.body.dataset.feed = s;
}

function askToken() {
  const form = byId('token-form');
  if (!form.hidden) return;
  // A token was sent and got 401: say so, or the prompt looks unchanged.
  show(byId('token-refused'), token() !== '');
  show(form, true);
  byId('token-input').focus();
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
  wireControls();
  legendPanel();
  try {
    await Promise.all([whoami(), loadPositions()]);
  } catch (e) {
    return; // 401: the token prompt is up
  }
  const feed = new Feed({
    snapshot: applySnapshot,
    delta: applyDelta,
    state: feedState,
    unauthorized: askToken,
  });
  feed.start();
  alertsLoop();
  if (!WALL) discoveryLoop();
  reportsPanel();
  if (WALL) {
    setInterval(() => fitTo(cy.nodes(':visible'), 30), 60000);
    setTimeout(() => location.reload(), 30 * 60000); // a fresh page now and then
  }
}

start();
