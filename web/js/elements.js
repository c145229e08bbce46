// From the API's devices and links to cytoscape element data: the
// device-kind classifier, reachability colours, the colours of the
// utilisation bands and link states the server decided (weathermap style),
// widths by speed, and LAG grouping. Pure: values in, plain objects out;
// no DOM, no cytoscape.

// The utilisation bands the server puts each direction of a link in, in
// order (the legend's, and the greater is the busier), and their colours.
// The server decides the band and the link's state; the page only paints.
export const BAND_NAMES = ['0-1', '1-10', '10-25', '25-40', '40-55', '55-70', '70-85', '85-100'];
export const BAND_COLOURS = [
  '#b8bec6', '#8c6bd6', '#3b7dd8', '#1fb0c4', '#2fb34a', '#d9cf26', '#f08c1a', '#a1006b',
];
export const NO_DATA_COLOUR = '#9aa0a6';
export const STATE_COLOURS = { down: '#e00000', degraded: '#ffb000', stale: '#8a8a8a' };
export const REACH_COLOURS = { up: '#2e9d4a', down: '#d62828', unknown: '#8a8f98' };

// Index into BAND_NAMES, or -1 when the server gave no band (no figure).
export function bandIndex(band) {
  return BAND_NAMES.indexOf(band);
}

function bandColour(i) {
  return i < 0 ? NO_DATA_COLOUR : BAND_COLOURS[i];
}

// router | switch | host | unmanaged | poller, from what the device told us.
export function deviceKind(d) {
  if (d.poller) return 'poller';
  if (!d.managed) return 'unmanaged';
  const text = ((d.sys_descr || '') + ' ' + (d.vendor || '')).toLowerCase();
  if (/switch|catalyst|nexus|procurve|bridge|\bc[23]\d{3}/.test(text)) return 'switch';
  if (/router|junos|ios xr|routeros|vyos|\bmx\d/.test(text)) return 'router';
  const physical = (d.interfaces || []).filter((i) => i.name !== 'lo').length;
  return physical >= 3 ? 'router' : 'host';
}

// Edge width from the link speed (bits/s), logarithmic.
export function widthOf(speed) {
  if (!speed || speed <= 0) return 2;
  const w = 1 + Math.log10(speed / 1e6) * 1.5; // 1 Mb/s → 1, 10 Gb/s → 7
  return Math.max(1.5, Math.min(12, w));
}

export function fmtPct(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return '–';
  return p < 10 ? p.toFixed(1) + '%' : Math.round(p) + '%';
}

export function fmtBps(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const units = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
}

export function fmtMs(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return v < 10 ? v.toFixed(2) + ' ms' : v.toFixed(1) + ' ms';
}

// The reachability as the detail panel words it: a stale verdict says what
// it was and when its round ended.
export function reachText(h) {
  if (!h || !h.reachability) return 'unknown';
  if (!h.reachability_stale) return h.reachability;
  const at = Number.isFinite(h.last_icmp_ms) ? new Date(h.last_icmp_ms).toLocaleTimeString() : '?';
  return 'unknown (stale: no ICMP result since ' + at + ', when it was ' + (h.icmp_verdict || 'unknown') + ')';
}

const LABEL_CHARS = 40;
const ROLES = ['core', 'distribution', 'access', 'host'];

export function deviceName(d) {
  return d.sys_name || d.id;
}

export function nodeData(d) {
  const h = d.health || {};
  // The server ages the verdict: a stale one arrives as 'unknown' (grey).
  const reach = h.reachability || 'unknown';
  const stale = h.reachability_stale === true;
  // A stale verdict's RTT is from its old round: not shown on the map.
  const rtt = stale ? null : h.rtt_avg_ms;
  const name = deviceName(d);
  // A long name is cut on the map (the panel shows it whole), so that no
  // label grows past the room the layout keeps for it.
  const shortName = [...name].length > LABEL_CHARS ? [...name].slice(0, LABEL_CHARS - 1).join('') + '…' : name;
  return {
    id: d.id,
    name,
    shortName,
    label: rtt === null || rtt === undefined ? shortName : shortName + '\n' + fmtMs(rtt),
    kind: deviceKind(d),
    // The server's place for it in the hierarchy (core at the top).
    role: ROLES.includes(d.role) ? d.role : 'host',
    reach,
    stale: stale ? 'yes' : 'no',
    // The server's verdict on the vitals (ok, warn, failed), drawn as a
    // ring; 'none' without a standing read.
    vitals: ['ok', 'warn', 'failed'].includes(h.vitals_state) ? h.vitals_state : 'none',
    colour: REACH_COLOURS[reach] || REACH_COLOURS.unknown,
    rtt: rtt ?? null,
    loss: h.loss_pct ?? null,
    // The server's site (a configured `site:` tag, else the sysLocation).
    site: typeof d.site === 'string' ? d.site : '',
  };
}

function maxOf(values) {
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
}

// A LAG is drawn as one edge: down when every member is, degraded when
// some member is down or degraded (the bundle still carries traffic),
// stale when every member is (the members' states come from the server).
export function groupState(members) {
  const states = members.map((l) => l.state);
  if (states.every((s) => s === 'down')) return 'down';
  if (states.includes('down') || states.includes('degraded')) return 'degraded';
  return states.every((s) => s === 'stale') ? 'stale' : 'ok';
}

// The edge a link is drawn in: its own, or its LAG's (links with the same
// `lag` between the same two devices).
export function edgeKey(l) {
  if (!l.lag) return 'l:' + l.id;
  const pair = [l.a.device, l.b.device].sort();
  return 'lag:' + l.lag + '\u0000' + pair[0] + '\u0000' + pair[1];
}

// The links of one edge that can be drawn (both devices known, not a loop
// on one device), every member oriented like the first one.
export function drawnMembers(links, devices) {
  const out = [];
  for (const l of links) {
    if (!devices.has(l.a.device) || !devices.has(l.b.device)) continue;
    if (l.a.device === l.b.device) continue;
    if (out.length && out[0].a.device !== l.a.device) {
      out.push(Object.assign({}, l, {
        a: l.b, b: l.a,
        a_to_b_util_pct: l.b_to_a_util_pct, b_to_a_util_pct: l.a_to_b_util_pct,
        a_to_b_band: l.b_to_a_band, b_to_a_band: l.a_to_b_band,
      }));
    } else {
      out.push(l);
    }
  }
  return out;
}

// One edge's data for a link or a LAG. Each end of the edge shows the
// utilisation of the direction leaving it: the line is coloured half by
// half (a→b at the source end), by the bands the server decided.
export function edgeData(id, members) {
  const first = members[0];
  const ab = maxOf(members.map((l) => l.a_to_b_util_pct));
  const ba = maxOf(members.map((l) => l.b_to_a_util_pct));
  const abBucket = Math.max(...members.map((l) => bandIndex(l.a_to_b_band)));
  const baBucket = Math.max(...members.map((l) => bandIndex(l.b_to_a_band)));
  const speeds = members.map((l) => l.speed_bps || 0);
  const speed = speeds.reduce((s, x) => s + x, 0) || null;
  const state = groupState(members);
  const n = members.length;
  // A LAG's label is its member count (the panel names the members).
  const lagLabel = first.lag ? '×' + n : '';
  const abColour = bandColour(abBucket);
  const baColour = bandColour(baBucket);
  return {
    id,
    source: first.a.device,
    target: first.b.device,
    links: members.map((l) => l.id),
    members: n,
    lag: first.lag || '',
    ab,
    ba,
    abBucket,
    baBucket,
    abColour,
    baColour,
    grad: [abColour, abColour, baColour, baColour].join(' '),
    // The busier direction's colour: what a zoomed-out large map draws.
    maxColour: bandColour(Math.max(abBucket, baBucket)),
    abLabel: fmtPct(ab),
    baLabel: fmtPct(ba),
    state,
    speed,
    width: widthOf(speed) + (n > 1 ? Math.min(6, n) : 0),
    label: state === 'stale' ? (lagLabel ? lagLabel + ' stale' : 'stale') : lagLabel,
  };
}
