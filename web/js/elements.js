// From the API's devices and links to cytoscape elements: the device-kind
// classifier, reachability colours, utilisation buckets (weathermap style),
// widths by speed, link status, and LAG grouping. Pure: values in, plain
// objects out; no DOM, no cytoscape.

// Upper bounds (exclusive) of the utilisation buckets, percent.
export const BUCKETS = [1, 10, 25, 40, 55, 70, 85, Infinity];
export const BUCKET_NAMES = ['0-1', '1-10', '10-25', '25-40', '40-55', '55-70', '70-85', '85-100'];
export const BUCKET_COLOURS = [
  '#b8bec6', '#8c6bd6', '#3b7dd8', '#1fb0c4', '#2fb34a', '#d9cf26', '#f08c1a', '#a1006b',
];
export const NO_DATA_COLOUR = '#9aa0a6';
export const STATUS_COLOURS = { down: '#e00000', degraded: '#ffb000', stale: '#8a8a8a' };
export const REACH_COLOURS = { up: '#2e9d4a', down: '#d62828', unknown: '#8a8f98' };

// Index into BUCKETS, or -1 when there is no figure.
export function bucketOf(pct) {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return -1;
  return BUCKETS.findIndex((b) => pct < b);
}

export function utilColour(pct) {
  const b = bucketOf(pct);
  return b < 0 ? NO_DATA_COLOUR : BUCKET_COLOURS[b];
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

export function deviceName(d) {
  return d.sys_name || d.id;
}

function nodeData(d) {
  const h = d.health || {};
  // The server ages the verdict: a stale one arrives as 'unknown' (grey).
  const reach = h.reachability || 'unknown';
  const stale = h.reachability_stale === true;
  // A stale verdict's RTT is from its old round: not shown on the map.
  const rtt = stale ? null : h.rtt_avg_ms;
  const name = deviceName(d);
  return {
    id: d.id,
    name,
    label: rtt === null || rtt === undefined ? name : name + '\n' + fmtMs(rtt),
    kind: deviceKind(d),
    reach,
    stale: stale ? 'yes' : 'no',
    colour: REACH_COLOURS[reach] || REACH_COLOURS.unknown,
    rtt: rtt ?? null,
    loss: h.loss_pct ?? null,
    site: d.sys_location || '',
  };
}

const STATUS_RANK = { down: 3, degraded: 2, unknown: 1, up: 0 };

function maxOf(values) {
  const v = values.filter((x) => x !== null && x !== undefined && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
}

// One edge for a link or a LAG (links with the same `lag` between the same
// two devices). Each end of the edge shows the utilisation of the direction
// leaving it: the line is coloured half by half (a→b at the source end).
function edgeData(id, members) {
  const first = members[0];
  const ab = maxOf(members.map((l) => l.a_to_b_util_pct));
  const ba = maxOf(members.map((l) => l.b_to_a_util_pct));
  const speeds = members.map((l) => l.speed_bps || 0);
  const speed = speeds.reduce((s, x) => s + x, 0) || null;
  const status = members.reduce(
    (s, l) => ((STATUS_RANK[l.status] ?? 1) > (STATUS_RANK[s] ?? 1) ? l.status : s),
    'up',
  );
  const stale = members.every((l) => l.stale);
  let state = 'ok';
  if (status === 'down') state = 'down';
  else if (status === 'degraded') state = 'degraded';
  else if (stale) state = 'stale';
  const n = members.length;
  const lagLabel = n > 1 ? (first.lag || 'lag') + ' ×' + n : '';
  return {
    id,
    source: first.a.device,
    target: first.b.device,
    links: members.map((l) => l.id),
    members: n,
    lag: first.lag || '',
    ab,
    ba,
    abBucket: bucketOf(ab),
    baBucket: bucketOf(ba),
    abColour: utilColour(ab),
    baColour: utilColour(ba),
    grad: [utilColour(ab), utilColour(ab), utilColour(ba), utilColour(ba)].join(' '),
    // The busier direction's colour: what a zoomed-out large map draws.
    maxColour: utilColour(maxOf([ab, ba])),
    abLabel: fmtPct(ab),
    baLabel: fmtPct(ba),
    status,
    stale,
    state,
    speed,
    width: widthOf(speed) + (n > 1 ? Math.min(6, n) : 0),
    label: state === 'stale' ? 'stale' : lagLabel,
  };
}

// devices: Map id → DeviceView, links: Map id → LinkView.
// Returns {nodes: [data], edges: [data]}.
export function buildElements(devices, links) {
  const nodes = [];
  for (const d of devices.values()) nodes.push(nodeData(d));
  const groups = new Map();
  for (const l of links.values()) {
    if (!devices.has(l.a.device) || !devices.has(l.b.device)) continue;
    if (l.a.device === l.b.device) continue;
    let key = 'l:' + l.id;
    if (l.lag) {
      const pair = [l.a.device, l.b.device].sort();
      key = 'lag:' + l.lag + '\u0000' + pair[0] + '\u0000' + pair[1];
    }
    if (!groups.has(key)) groups.set(key, []);
    // Keep every member oriented like the first one.
    const g = groups.get(key);
    if (g.length && g[0].a.device !== l.a.device) {
      g.push(Object.assign({}, l, {
        a: l.b, b: l.a, a_to_b_util_pct: l.b_to_a_util_pct, b_to_a_util_pct: l.a_to_b_util_pct,
      }));
    } else {
      g.push(l);
    }
  }
  const edges = [];
  for (const [key, members] of groups) edges.push(edgeData(key, members));
  return { nodes, edges };
}
