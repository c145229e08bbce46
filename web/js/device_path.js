// A selected device's path from the poller (GET /api/devices/ID/path, traced
// every [poll] path_interval_s): the devices its hops map to and the links
// between consecutive ones are marked `on-path` on the map, and the panel
// lists the hops — TTL, address, device, loss, RTT — with a hop no device
// owns shown as outside the topology and the last route change with the
// hops before and after. Addresses and names reach the page only as text.
import { el } from './dom.js';
import { getJson } from './api.js';
import { fmtMs } from './elements.js';

const MARK = 'on-path';

// The device ids along the path, in hop order, starting from the poller
// node when the map has one; consecutive repeats dropped.
export function pathDevices(path, pollerId) {
  const ids = pollerId ? [pollerId] : [];
  for (const h of (path && path.hops) || []) {
    if (h.device && ids[ids.length - 1] !== h.device) ids.push(h.device);
  }
  return ids;
}

export function clearPath(cy) {
  cy.elements('.' + MARK).removeClass(MARK);
}

// Marks the devices and, between each consecutive pair, the links joining
// them. Returns how many nodes and edges were marked.
export function markPath(cy, ids) {
  clearPath(cy);
  let nodes = 0;
  let edges = 0;
  ids.forEach((id, i) => {
    const n = cy.getElementById(id);
    if (n.length) {
      n.addClass(MARK);
      nodes += 1;
    }
    if (i === 0) return;
    const prev = cy.getElementById(ids[i - 1]);
    if (!prev.length || !n.length) return;
    const between = prev.edgesWith(n);
    between.addClass(MARK);
    edges += between.length;
  });
  return { nodes, edges };
}

function hopText(h) {
  return h.addr == null ? '*' : String(h.addr);
}

function hopRow(h, names) {
  const where = h.addr == null ? 'no answer'
    : h.device ? (names(h.device) || h.device)
      : 'outside the topology';
  return el('tr', { class: h.addr != null && !h.device ? 'hop-outside' : '' }, [
    el('td', {}, String(h.ttl)),
    el('td', {}, hopText(h)),
    el('td', {}, where),
    el('td', {}, (h.loss_pct ?? 0).toFixed(0) + '%'),
    el('td', {}, h.rtt_avg_ms == null ? '–' : fmtMs(h.rtt_avg_ms)),
  ]);
}

// The panel block for device `id`; marks the path on `cy` as a side effect.
// `names(id)` gives a device's display name.
export async function devicePath(cy, id, names) {
  const block = el('div', { class: 'chart-block device-path' }, el('h4', {}, 'path from the poller'));
  let page = null;
  try {
    page = await getJson('/api/devices/' + encodeURIComponent(id) + '/path');
  } catch (e) {
    block.appendChild(el('p', { class: 'muted' }, 'path not available'));
    return block;
  }
  const path = page && page.path;
  if (!path || path.traced_ms == null) {
    block.appendChild(el('p', { class: 'muted' }, 'not traced (set [poll] path_interval_s)'));
    return block;
  }
  const poller = cy.nodes('[kind="poller"]');
  const marked = markPath(cy, pathDevices(path, poller.length ? poller[0].id() : null));
  block.dataset.marked = marked.nodes + '/' + marked.edges;
  if (path.error) block.appendChild(el('p', { class: 'muted' }, 'last trace failed: ' + path.error));
  block.appendChild(el('p', { class: 'muted' }, (path.reached ? 'reached' : 'not reached') +
    ' · ' + path.hops.length + ' hops · ' + (path.changes || 0) + ' route changes'));
  block.appendChild(el('table', { class: 'ifs hops' }, [
    el('tr', {}, ['ttl', 'address', 'device', 'loss', 'rtt'].map((t) => el('th', {}, t))),
    ...path.hops.map((h) => hopRow(h, names)),
  ]));
  const change = path.last_change;
  if (change) {
    const line = (hops) => hops.map(hopText).join(' → ');
    block.appendChild(el('p', { class: 'path-change' }, [
      'changed ' + new Date(change.at_ms).toLocaleString() + ': ',
      el('span', { class: 'before' }, line(change.before)),
      ' ⇒ ',
      el('span', { class: 'after' }, line(change.after)),
    ]));
  }
  return block;
}
