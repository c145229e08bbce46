// What changed since the baseline the user saved: `GET /api/changes`
// (the server's topology diff against the baseline) marks the map — a new
// device or link green, a gone one as a dashed red ghost (a gone link
// between its ends, a gone device beside its old neighbours) — and lists
// them in the changes panel. "save baseline" (`POST /api/baseline`, admin)
// takes the current topology as the new baseline. Ghosts are not devices:
// they carry `ghost` in their data and no panel opens for them. Device
// strings become text nodes (dom.js) and canvas labels.
import { el, fill, byId, show } from './dom.js';
import { getJson, sendJson } from './api.js';
import { EDGE_DEFAULTS } from './sites.js';

const GHOST = 'ghost\u0000';
const POLL_MS = 10000;

export class ChangeView {
  // cy: cytoscape; edgeOf(linkId) → the edge id a link is drawn in;
  // nameOf(deviceId) → its name on the map.
  constructor(cy, edgeOf, nameOf) {
    this.cy = cy;
    this.edgeOf = edgeOf;
    this.nameOf = nameOf;
    this.changes = null;
    this.state = { loads: 0 };
  }

  start(canSave, wall) {
    const button = byId('save-baseline');
    show(button, canSave && !wall);
    button.addEventListener('click', () => this.save());
    const loop = async () => {
      await this.load();
      setTimeout(loop, POLL_MS);
    };
    loop();
  }

  async save() {
    try {
      await sendJson('POST', '/api/baseline');
      byId('changes-when').textContent = 'baseline saved';
    } catch (e) {
      byId('changes-when').textContent = 'could not save the baseline';
    }
    await this.load();
  }

  async load() {
    try {
      this.changes = await getJson('/api/changes');
    } catch (e) {
      this.changes = null;
    }
    this.state.loads++;
    this.mark();
    this.panel();
  }

  // Puts the marks and ghosts on the map (again after every draw: the
  // elements they name may have just arrived).
  mark() {
    const cy = this.cy;
    const c = this.changes && this.changes.baseline_ms ? this.changes : null;
    cy.batch(() => {
      cy.elements('.chg-new').removeClass('chg-new');
      const ghosts = new Map();
      if (c) {
        for (const id of c.devices_added) cy.getElementById(id).addClass('chg-new');
        for (const l of c.links_added) {
          const e = cy.getElementById(this.edgeOf(l.id) || '');
          if (e.nonempty()) e.addClass('chg-new');
        }
        this.ghostDevices(c, ghosts);
        for (const l of c.links_removed) {
          const end = (x) => (cy.getElementById(x.device).nonempty() ? x.device : GHOST + x.device);
          const [a, b] = [end(l.a), end(l.b)];
          if (a === b || !(ghosts.has(a) || cy.getElementById(a).nonempty())) continue;
          if (!(ghosts.has(b) || cy.getElementById(b).nonempty())) continue;
          ghosts.set(GHOST + 'link\u0000' + l.id, { group: 'edges', data: Object.assign({}, EDGE_DEFAULTS, { id: GHOST + 'link\u0000' + l.id, source: a, target: b, ghost: true, text: l.text }) });
        }
      }
      cy.elements('[?ghost]').forEach((g) => { if (!ghosts.has(g.id())) cy.remove(g); });
      const add = [...ghosts.values()].filter((g) => cy.getElementById(g.data.id).empty());
      add.sort((a, b) => (a.group === b.group ? 0 : a.group === 'nodes' ? -1 : 1));
      if (add.length) cy.add(add);
    });
  }

  // A gone device's ghost: beside its old neighbours still on the map,
  // else to the right of the map.
  ghostDevices(c, ghosts) {
    const cy = this.cy;
    const bb = cy.nodes(':visible').boundingBox({ includeLabels: false });
    c.devices_removed.forEach((d, k) => {
      if (cy.getElementById(d.id).nonempty()) return;
      const near = c.links_removed.flatMap((l) => [l.a.device === d.id ? l.b.device : l.b.device === d.id ? l.a.device : null])
        .map((id) => id && cy.getElementById(id)).filter((n) => n && n.nonempty() && n.visible());
      const at = near.length
        ? { x: near.reduce((s, n) => s + n.position('x'), 0) / near.length + 40 * k, y: Math.max(...near.map((n) => n.position('y'))) + 90 }
        : { x: (Number.isFinite(bb.x2) ? bb.x2 : 0) + 120, y: (Number.isFinite(bb.y1) ? bb.y1 : 0) + 80 * k };
      const id = GHOST + d.id;
      const old = cy.getElementById(id);
      if (old.nonempty()) at.x = old.position('x'), at.y = old.position('y');
      ghosts.set(id, { group: 'nodes', data: { id, ghost: true, kind: 'ghost', label: (d.sys_name || d.id) + '\n(gone)', colour: '#ffffff', role: 'host' }, position: at });
    });
  }

  panel() {
    const c = this.changes;
    const box = byId('changes');
    if (!c || !c.baseline_ms) {
      fill(byId('changes-list'), []);
      byId('changes-when').textContent = 'no baseline saved';
      show(box, byId('save-baseline').hidden === false);
      return;
    }
    byId('changes-when').textContent = 'since ' + new Date(c.baseline_ms).toLocaleString();
    const items = [
      ...c.devices_added.map((id) => el('li', { class: 'chg-new' }, 'new device: ' + this.nameOf(id))),
      ...c.devices_removed.map((d) => el('li', { class: 'chg-gone' }, 'gone device: ' + (d.sys_name || d.id))),
      ...c.links_added.map((l) => el('li', { class: 'chg-new' }, 'new link: ' + l.text)),
      ...c.links_removed.map((l) => el('li', { class: 'chg-gone' }, 'gone link: ' + l.text)),
    ];
    if (!items.length) items.push(el('li', {}, 'no change'));
    fill(byId('changes-list'), items);
    show(box, true);
  }
}
