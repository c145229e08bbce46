// The discovery panel: when the last discovery run could not read some
// agents (a dead seed, a wrong community, a neighbour's address nothing
// answers on), read some devices only in part, or could not use a
// neighbour row a device gave, say which and why. The
// addresses and reasons come from /api/discovery and reach the page only
// as text (dom.js).
import { el, fill, byId, show } from './dom.js';
import { getJson, HttpError } from './api.js';

const EVERY_MS = 30000;

function when(ms) {
  if (typeof ms !== 'number') return '';
  return new Date(ms).toLocaleString();
}

// The list items for one discovery status (pure, for the page and tests).
export function discoveryItems(status) {
  const run = status && status.last;
  if (!run) return [];
  const items = (run.unreachable || []).map((p) =>
    el('li', { class: 'alarm-warn', 'data-addr': String(p.addr) }, 'not reached: ' + p.addr + ' — ' + p.reason));
  if (run.partial_devices > 0) {
    items.push(el('li', { class: 'alarm-warn' },
      run.partial_devices + (run.partial_devices === 1 ? ' device' : ' devices') + ' read only in part (see its panel)'));
  }
  if (run.out_of_scope_count > 0) {
    items.push(el('li', { class: 'muted' },
      run.out_of_scope_count + ' advertised neighbour address(es) outside the allowed prefixes, left out'));
  }
  // Neighbour rows a device gave that could not be used in full: each with
  // its reason, so nothing a device said goes unseen.
  for (const u of run.unresolved || []) {
    const where = u.local_if ? ' on ' + u.local_if : '';
    const who = u.neighbor ? ' (' + u.neighbor + ')' : '';
    items.push(el('li', { class: 'muted', 'data-device': String(u.device) },
      'neighbour not used: ' + u.device + ' ' + u.table + ' row ' + u.row + where + who + ': ' + u.reason));
  }
  if ((run.unresolved_count || 0) > (run.unresolved || []).length) {
    items.push(el('li', { class: 'muted' },
      run.unresolved_count + ' neighbour rows not used in all (the first are listed)'));
  }
  return items;
}

export async function discoveryLoop() {
  for (;;) {
    try {
      const status = await getJson('/api/discovery');
      const items = discoveryItems(status);
      const run = status && status.last;
      byId('discovery-when').textContent = run
        ? 'last run ' + when(run.finished_ms) + ': ' + run.devices + ' devices, ' + run.links + ' links'
        : '';
      fill(byId('discovery-list'), items);
      show(byId('discovery'), items.length > 0);
    } catch (e) {
      show(byId('discovery'), false);
      if (e instanceof HttpError && e.status === 404) return; // an older server
    }
    await new Promise((res) => setTimeout(res, EVERY_MS));
  }
}
