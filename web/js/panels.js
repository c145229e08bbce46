// The detail panel: a device (system info, interfaces with live rates, an
// RTT/loss chart, its path from the poller marked on the map by
// device_path.js, its last events from device_events.js) or a link (both ends, speed, evidence, confidence, a
// bits/s and errors chart), with the time-range picker. Every device string
// goes through el() as text.
import { el, fill, byId } from './dom.js';
import { getJson, deviceSeriesUrl, interfaceSeriesUrl } from './api.js';
import { lineChart, legend } from './charts.js';
import { deviceEvents } from './device_events.js';
import { devicePath, clearPath } from './device_path.js';
import { deviceKind, deviceName, fmtBps, fmtMs, fmtPct, reachText } from './elements.js';

export const RANGES = ['1h', '6h', '24h', '7d', '30d'];

function row(k, v) {
  return el('tr', {}, [el('th', {}, k), el('td', { 'data-field': k }, v ?? '–')]);
}

async function series(url) {
  try {
    return await getJson(url);
  } catch (e) {
    return null;
  }
}

async function chartBlock(title, defs, fmt) {
  const block = el('div', { class: 'chart-block' }, el('h4', {}, title));
  const loaded = await Promise.all(defs.map(async (d) => Object.assign({}, d, { data: await series(d.url) })));
  if (loaded.every((d) => !d.data)) {
    block.appendChild(el('p', { class: 'muted' }, 'no history available'));
    return block;
  }
  block.appendChild(lineChart(loaded, fmt));
  block.appendChild(legend(loaded));
  return block;
}

export class DetailPanel {
  // `getCy()` is the map once drawn (the path is marked on it), else null.
  constructor(root, model, getCy) {
    this.root = root;
    this.model = model; // {devices: Map, links: Map}
    this.getCy = getCy || (() => null);
    this.range = '1h';
    this.current = null;
  }

  setRange(r) {
    this.range = r;
    this.rerender(true);
  }

  unmarkPath() {
    const cy = this.getCy();
    if (cy) clearPath(cy);
  }

  close() {
    this.unmarkPath();
    this.current = null;
    this.root.hidden = true;
    fill(this.root, []);
  }

  showDevice(id) {
    this.current = { kind: 'device', id };
    this.rerender(true);
  }

  showLink(edge) {
    this.unmarkPath();
    this.current = { kind: 'link', ids: edge.links, id: edge.id };
    this.rerender(true);
  }

  // Live values are redrawn on every update; charts only when asked.
  rerender(withCharts) {
    const c = this.current;
    if (!c) return;
    this.root.hidden = false;
    if (withCharts || !this.body) {
      this.charts = el('div', { class: 'charts' });
      this.body = el('div', { class: 'panel-body' });
      fill(this.root, [this.header(), this.body, this.charts]);
      this.loadCharts();
    }
    if (c.kind === 'device') this.deviceBody(c.id);
    else this.linkBody(c.ids);
  }

  header() {
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'close' }, '×');
    close.addEventListener('click', () => this.close());
    const picker = el('select', { id: 'range', 'aria-label': 'time range' },
      RANGES.map((r) => el('option', { value: r, selected: r === this.range }, r)));
    picker.addEventListener('change', () => this.setRange(picker.value));
    return el('div', { class: 'panel-head' }, [close, el('label', {}, ['history ', picker])]);
  }

  deviceBody(id) {
    const d = this.model.devices.get(id);
    if (!d) {
      fill(this.body, el('p', {}, 'this device is no longer in the topology'));
      return;
    }
    const h = d.health || {};
    const info = el('table', { class: 'kv' }, [
      row('sysName', d.sys_name),
      row('sysDescr', d.sys_descr),
      row('location', d.sys_location),
      row('contact', d.sys_contact),
      row('vendor', d.vendor),
      ...(d.model ? [row('model', d.model)] : []),
      row('mgmt address', d.mgmt_addr),
      ...(d.engine_id ? [row('engine id', d.engine_id)] : []),
      row('kind', deviceKind(d)),
      // A host placed from forwarding tables: on which switch port, and why.
      ...(d.placement || []).map((p) => {
        const sw = this.model.devices.get(p.switch);
        return row('placed on', (sw ? deviceName(sw) : p.switch) + ' ' + p.if_name + ': ' + p.reason);
      }),
      row('id', d.id),
      row('reachability', reachText(h)),
      ...(h.icmp_error ? [row('ICMP', h.icmp_error)] : []),
      // A stale verdict's round is old: its figures say so.
      row('RTT avg', fmtMs(h.rtt_avg_ms) + (h.reachability_stale ? ' (stale)' : '')),
      row('loss', (h.loss_pct === null || h.loss_pct === undefined ? '–' : h.loss_pct.toFixed(1) + ' %')
        + (h.reachability_stale ? ' (stale)' : '')),
    ]);
    const ih = d.interface_health || {};
    const ifs = el('table', { class: 'ifs' }, [
      el('tr', {}, ['name', 'alias', 'status', 'in', 'out', 'in %', 'out %', 'errors/s'].map((t) => el('th', {}, t))),
      ...(d.interfaces || []).map((i) => {
        const x = ih[i.name] || {};
        const status = x.oper_status || i.oper_status || '–';
        const errs = (x.in_errors_per_s ?? 0) + (x.out_errors_per_s ?? 0);
        return el('tr', { 'data-if': i.name, class: 'if-' + (status === 'up' ? 'up' : 'other') }, [
          el('td', {}, i.name), el('td', {}, i.alias || ''), el('td', {}, status),
          el('td', {}, fmtBps(x.in_bps)), el('td', {}, fmtBps(x.out_bps)),
          el('td', {}, fmtPct(x.in_util_pct)), el('td', {}, fmtPct(x.out_util_pct)),
          el('td', {}, x.updated_ms ? errs.toFixed(2) : '–'),
        ]);
      }),
    ]);
    fill(this.body, [el('h3', { id: 'detail-title' }, deviceName(d)), info, el('h4', {}, 'interfaces'), ifs]);
  }

  linkBody(ids) {
    const links = ids.map((i) => this.model.links.get(i)).filter(Boolean);
    if (!links.length) {
      fill(this.body, el('p', {}, 'this link is no longer in the topology'));
      return;
    }
    const name = (e) => {
      const d = this.model.devices.get(e.device);
      return (d ? deviceName(d) : e.device) + (e.if_name ? ' ' + e.if_name : '');
    };
    // How far the rates above can be trusted (the agents' counter refresh).
    const rateNote = (l) => {
      if (l.rate_exact === null || l.rate_exact === undefined) return '–';
      const pm = typeof l.rate_uncertainty_pct === 'number' ? ' (±' + l.rate_uncertainty_pct.toFixed(1) + ' %)' : '';
      return l.rate_exact ? 'exact' + pm : 'inexact: ' + String(l.rate_inexact_reason || 'unknown').replace(/_/g, ' ') + pm;
    };
    // A LAG's title names the devices (its members' ports are listed).
    const title = links[0].lag ? [links[0].a, links[0].b].map((e) => name({ device: e.device })).join(' ↔ ')
      : name(links[0].a) + ' ↔ ' + name(links[0].b);
    const parts = [el('h3', { id: 'detail-title' }, title)];
    // A LAG (one edge on the map): its members first, one line each.
    if (links[0].lag) {
      parts.push(el('h4', { id: 'lag-title' }, 'LAG ×' + links.length));
      parts.push(el('ul', { class: 'lag-members' }, links.map((l) => el('li', { 'data-member': l.id },
        (l.a.if_name || '?') + ' ↔ ' + (l.b.if_name || '?') + ' · ' + l.status + (l.stale ? ' (stale)' : '')))));
    }
    for (const l of links) {
      parts.push(el('table', { class: 'kv', 'data-link': l.id }, [
        row('end a', name(l.a)),
        row('end b', name(l.b)),
        row('status', l.status + (l.stale ? ' (stale)' : '')),
        row('speed', fmtBps(l.speed_bps)),
        row('a → b', fmtPct(l.a_to_b_util_pct) + ' · ' + fmtBps(l.out_bps)),
        row('b → a', fmtPct(l.b_to_a_util_pct) + ' · ' + fmtBps(l.in_bps)),
        row('rates', rateNote(l)),
        row('errors/s', l.errors_per_s === null || l.errors_per_s === undefined ? '–' : l.errors_per_s.toFixed(2)),
        row('discards/s', l.discards_per_s === null || l.discards_per_s === undefined ? '–' : l.discards_per_s.toFixed(2)),
        row('evidence', (l.evidence || []).join(', ')),
        row('confidence', l.confidence === undefined ? '–' : Math.round(l.confidence * 100) + ' %'),
        row('LAG', l.lag || ''),
      ]));
    }
    fill(this.body, parts);
  }

  // The path block; without a drawn map, nothing.
  async pathBlock(id) {
    const cy = this.getCy();
    if (!cy) return el('div');
    const name = (d) => {
      const dev = this.model.devices.get(d);
      return dev ? deviceName(dev) : null;
    };
    return devicePath(cy, id, name);
  }

  async loadCharts() {
    const c = this.current;
    const target = this.charts;
    const since = this.range;
    let blocks = [];
    if (c.kind === 'device') {
      const u = (m) => deviceSeriesUrl(c.id, m, since);
      blocks = await Promise.all([
        chartBlock('RTT', [
          { name: 'avg', colour: '#3b7dd8', url: u('rtt_avg_ms') },
          { name: 'max', colour: '#f08c1a', url: u('rtt_max_ms') },
        ], fmtMs),
        chartBlock('loss', [{ name: 'loss %', colour: '#d62828', url: u('loss_pct') }], (v) => v.toFixed(0) + '%'),
        this.pathBlock(c.id),
        deviceEvents(c.id),
      ]);
    } else {
      const l = this.model.links.get(c.ids[0]);
      const end = l && (l.a.if_name ? l.a : l.b.if_name ? l.b : null);
      if (end) {
        const u = (m) => interfaceSeriesUrl(end.device, end.if_name, m, since);
        blocks = await Promise.all([
          chartBlock('bits/s at ' + end.if_name, [
            { name: 'in', colour: '#2fb34a', url: u('in_bps') },
            { name: 'out', colour: '#3b7dd8', url: u('out_bps') },
          ], fmtBps),
          chartBlock('errors/s at ' + end.if_name, [
            { name: 'in errors', colour: '#d62828', url: u('in_errors_ps') },
            { name: 'out errors', colour: '#f08c1a', url: u('out_errors_ps') },
          ], (v) => v.toFixed(2)),
        ]);
      }
    }
    if (this.charts === target) fill(target, blocks);
  }
}

export function hidePanel() {
  byId('detail').hidden = true;
}
