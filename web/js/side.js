// The side panels that do not follow the map: the legend, the active
// alerts (`/api/alerts`, hidden on 404) and the report downloads
// (`/api/reports/...`). Device strings become text nodes (dom.js).
import { el, fill, byId, show, download } from './dom.js';
import { getJson, request, HttpError } from './api.js';
import { BAND_NAMES, BAND_COLOURS, STATE_COLOURS, REACH_COLOURS } from './elements.js';

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
