// Unresolved neighbours on the map: the neighbour-table rows a device holds
// that gave no link or a link with an end unknown (`unresolved` on each
// device, each with its reason) are drawn as what they are: one grey,
// dashed stub per device and reason, hung below the device by a dashed
// line, with the count and the reason as its label; a click lists the rows
// (textContent only, through el()). Stubs are no devices: filters show
// them with their device, and they are in no device list.
import { el, fill } from './dom.js';

// The words each reason (topology::UnresolvedReason) is shown with.
export const REASON_TEXT = {
  placeholder_chassis_id: 'placeholder chassis id',
  stale: 'stale row',
  unknown_index: 'unknown index form',
  missing_neighbor_id: 'no neighbour id',
  local_port_unknown: 'our port unknown',
  local_port_ambiguous: 'our port ambiguous',
  learned_behind_uplink: 'MACs behind an uplink',
  learned_on_several_ports: 'MACs on several ports',
};

export function reasonText(r) {
  return REASON_TEXT[r] || String(r);
}

const SEP = '\u0000';

// Pure: a device → its stubs' cytoscape elements ({nodes, edges}), one per
// reason, in reason order.
export function stubElements(d) {
  const by = new Map();
  for (const u of d.unresolved || []) {
    if (!u || typeof u !== 'object') continue;
    const r = String(u.reason);
    by.set(r, (by.get(r) || 0) + 1);
  }
  const nodes = [];
  const edges = [];
  for (const r of [...by.keys()].sort()) {
    const id = 'u:' + d.id + SEP + r;
    const n = by.get(r);
    const text = n + ' unresolved';
    nodes.push({ group: 'nodes', data: {
      id, stub: true, device: d.id, reason: r, kind: 'stub', role: 'host',
      name: text, shortName: reasonText(r), label: text + '\n' + reasonText(r),
    } });
    edges.push({ group: 'edges', data: {
      id: 'ue:' + d.id + SEP + r, source: d.id, target: id, stub: true, links: [],
      abLabel: '', baLabel: '', label: '', width: 1,
    } });
  }
  return { nodes, edges };
}

// The panel of one stub: the device, the reason, and its rows.
export function showStub(root, d, reason, onClose) {
  const rows = (d && d.unresolved ? d.unresolved : []).filter((u) => u && String(u.reason) === reason);
  const close = el('button', { type: 'button', class: 'close', 'aria-label': 'close' }, '×');
  close.addEventListener('click', onClose);
  const cell = (v) => el('td', {}, v === undefined || v === null ? '–' : String(v));
  fill(root, [
    el('div', { class: 'panel-head' }, [close]),
    el('h3', { id: 'detail-title' }, 'unresolved neighbours: ' + reasonText(reason)),
    el('p', { class: 'muted' }, [
      'Neighbour-table rows of ', el('strong', {}, d ? d.sys_name || d.id : '?'),
      ' that gave no link, or a link with an end unknown (', el('code', {}, reason), ').',
    ]),
    el('table', { class: 'ifs unresolved-rows' }, [
      el('tr', {}, ['table', 'row', 'our port', 'neighbour'].map((h) => el('th', {}, h))),
      ...rows.map((u) => el('tr', {}, [cell(u.table), cell(u.row), cell(u.local_if), cell(u.neighbor)])),
    ]),
  ]);
  root.hidden = false;
}
