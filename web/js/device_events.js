// The device panel's last events: the newest traps and syslog messages the
// server stored for one device (GET /api/events?device=ID&limit=N). Every
// field a device sent (names, messages, varbind values) goes through el()
// as text; nothing is parsed as HTML.
import { el } from './dom.js';
import { getJson } from './api.js';

export const SHOWN = 8;

function when(ms) {
  const d = new Date(ms);
  return isNaN(d) ? '–' : d.toLocaleString();
}

// What one event says, in one line of text.
function summary(e) {
  if (e.kind === 'syslog') return e.message || '';
  const vbs = (e.varbinds || []).map((v) => (v.name || v.oid) + ' = ' + v.value);
  return vbs.join(', ');
}

function eventRow(e) {
  const level = e.kind === 'syslog' ? e.severity : e.kind;
  return el('tr', { class: 'event-' + (e.kind === 'syslog' ? 'sev-' + e.severity : 'trap'), 'data-event': e.id }, [
    el('td', {}, when(e.at)),
    el('td', {}, level || ''),
    el('td', {}, e.name || ''),
    el('td', { class: 'event-text' }, summary(e)),
  ]);
}

// A block for the panel: its heading and the table, or why there is none.
export async function deviceEvents(id) {
  const block = el('div', { class: 'chart-block device-events' }, el('h4', {}, 'last events'));
  let page = null;
  try {
    page = await getJson('/api/events?device=' + encodeURIComponent(id) + '&limit=' + SHOWN);
  } catch (e) {
    block.appendChild(el('p', { class: 'muted' }, 'events not available'));
    return block;
  }
  const events = (page && page.events) || [];
  if (!events.length) {
    block.appendChild(el('p', { class: 'muted' }, 'no events stored'));
    return block;
  }
  block.appendChild(el('table', { class: 'ifs events' }, [
    el('tr', {}, ['time', 'level', 'name', 'text'].map((t) => el('th', {}, t))),
    ...events.map(eventRow),
  ]));
  return block;
}
