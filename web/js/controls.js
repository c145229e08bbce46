// The controls above the map (search, prefix, site, neighbourhood, fit,
// auto layout, exports) and the filters they set: which devices are shown,
// outlined or faded, and the view fitted to them.
import { el, fill, byId } from './dom.js';
import { deviceName } from './elements.js';
import { parseCidr, matchesSearch, visibleDevices } from './filters.js';
import { exportPng, exportSvg } from './export.js';
import { siteOf } from './sites.js';

// More devices than this: the neighbourhood list is filled when idle.
const LARGE_LIST = 150;

export class Controls {
  // view: the page's view ({cy, model, wall, laidOut(), fit(nodes, pad),
  // autoFit (read and set), relayout()}).
  constructor(view) {
    this.view = view;
    this.filters = { search: '', prefix: null, site: '', focus: null, depth: 2 };
    this.knownSites = '';
    this.knownDevices = '';
    this.shownBefore = -1;
  }

  // The site and neighbourhood choices, when the devices changed.
  refresh() {
    const devices = this.view.model.devices;
    const names = [...new Set([...devices.values()].map(siteOf).filter(Boolean))].sort();
    if (names.join('\u0000') !== this.knownSites) {
      this.knownSites = names.join('\u0000');
      const sel = byId('site');
      const cur = sel.value;
      fill(sel, [el('option', { value: '' }, 'all sites'), ...names.map((s) => el('option', { value: s, selected: s === cur }, s))]);
    }
    // On a large map the device list (a sort of every name and an option
    // each) is made when the page is idle, not before the map is drawn.
    if (devices.size <= LARGE_LIST) this.fillFocus();
    else if (!this.focusQueued) {
      this.focusQueued = true;
      const run = () => {
        this.focusQueued = false;
        this.fillFocus();
      };
      if (window.requestIdleCallback) requestIdleCallback(run, { timeout: 2000 });
      else setTimeout(run, 200);
    }
  }

  // The neighbourhood choice: every device by name.
  fillFocus() {
    const devices = this.view.model.devices;
    const devs = [...devices.values()].map((d) => [d.id, deviceName(d)]).sort((a, b) => a[1].localeCompare(b[1]));
    const key = devs.map((d) => d.join('\u0001')).join('\u0000');
    if (key !== this.knownDevices) {
      this.knownDevices = key;
      const sel = byId('focus');
      fill(sel, [el('option', { value: '' }, 'whole map'), ...devs.map(([id, name]) => el('option', { value: id, selected: id === this.filters.focus }, name))]);
    }
  }

  // Shows the neighbourhood of `id` (the whole map when none).
  setFocus(id) {
    this.filters.focus = id || null;
    byId('focus').value = id || '';
    this.apply();
    const shown = this.view.cy.nodes(':visible');
    if (shown.nonempty()) this.view.fit(shown, 40);
  }

  // Hides, outlines and fades nodes as the filters say; returns the
  // search's matches. `viewOnly`: a site expanded or collapsed (the view
  // stays where the user clicked).
  apply(viewOnly) {
    const { cy, model } = this.view;
    const visible = visibleDevices(model.devices, model.links, this.filters);
    const search = this.filters.search;
    const matches = cy.collection();
    let shown = 0;
    // A site's box is shown with any device of its site (sites.js).
    const sites = visible && new Set([...visible].filter((id) => model.devices.has(id)).map((id) => siteOf(model.devices.get(id))));
    cy.batch(() => {
      cy.nodes().forEach((n) => {
        const d = model.devices.get(n.id());
        // A stub is shown with its device.
        const hide = visible !== null && (n.data('kind') === 'site-box' ? !sites.has(n.data('site')) : !visible.has(n.data('device') || n.id()));
        if (!hide) shown++;
        n.toggleClass('hidden', hide);
        const hit = !!search && !!d && matchesSearch(d, search);
        n.toggleClass('match', hit);
        n.toggleClass('faded', !!search && !hit);
        if (hit) matches.merge(n);
      });
    });
    // Other devices shown or hidden: the view follows, unless the user has
    // zoomed or panned it.
    const v = this.view;
    if (v.laidOut() && shown !== this.shownBefore && this.shownBefore >= 0 && v.autoFit && !viewOnly) v.fit(cy.nodes(':visible'), 30);
    this.shownBefore = shown;
    return matches;
  }

  wire() {
    const v = this.view;
    const search = byId('search');
    search.addEventListener('input', () => {
      this.filters.search = search.value;
      const m = this.apply();
      if (m.nonempty() && m.length <= 20) v.fit(m, 120);
    });
    const prefix = byId('prefix');
    prefix.addEventListener('change', () => {
      const text = prefix.value.trim();
      this.filters.prefix = text ? parseCidr(text) : null;
      prefix.classList.toggle('invalid', !!text && !this.filters.prefix);
      this.apply();
    });
    byId('site').addEventListener('change', (e) => { this.filters.site = e.target.value; this.apply(); });
    byId('focus').addEventListener('change', (e) => this.setFocus(e.target.value));
    byId('depth').addEventListener('change', (e) => { this.filters.depth = Number(e.target.value); this.setFocus(this.filters.focus); });
    byId('fit').addEventListener('click', () => {
      v.fit(v.cy.nodes(':visible'), 30);
      v.autoFit = true;
    });
    byId('relayout').addEventListener('click', () => v.relayout());
    byId('export-png').addEventListener('click', () => exportPng(v.cy, v.wall));
    byId('export-svg').addEventListener('click', () => exportSvg(v.cy, v.wall));
  }
}
