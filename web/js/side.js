// The side panels: the legend, the alarms (devices and links down), the
// active alerts (`/api/alerts`, hidden on 404), the report downloads
// (`/api/reports/...`), and the token prompt. Device strings become text
// nodes (dom.js).
import { el, fill, byId, show, download } from './dom.js';
import { getJson, request, HttpError, token } from './api.js';
import { BAND_NAMES, BAND_COLOURS, STATE_COLOURS, REACH_COLOURS, deviceName } from './elements.js';

export function legendPanel() {
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
    el('div', { class: 'legend' }, [
      sw('#f0a000', 'ring: CPU, disk or memory in use ≥ 90 %, or ≥ 70 °C'), sw('#d62828', 'ring: a sensor failed'),
      sw('#8e44ad', 'the selected device\'s path from the poller'),
    ]),
    el('p', { class: 'muted' }, 'Each link is coloured half by half: the half at a device shows what that device sends. ' +
      'Width grows with speed. Double-click a device for its neighbourhood; drag to place it.'),
  ]);
}

export async function alertsLoop() {
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
export async function reportsPanel() {
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

// The alarms panel: devices and links down (always shown on the wall).
export function alarmsPanel(model, WALL) {
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

// The token prompt, on a 401.
export function askToken() {
  const form = byId('token-form');
  if (!form.hidden) return;
  // A token was sent and got 401: say so, or the prompt looks unchanged.
  show(byId('token-refused'), token() !== '');
  show(form, true);
  byId('token-input').focus();
}
