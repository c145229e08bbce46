// What to show: search by name or address, a prefix (CIDR) typed by the
// user matched against mgmt_addr and addresses, a site (sysLocation), and a
// depth-limited neighbourhood around one device. Pure: works on plain data.

// An address as a BigInt and its bit width, or null.
export function parseAddr(s) {
  s = String(s).trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map(Number);
    if (parts.some((p) => p > 255)) return null;
    return { bits: 32, v: parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n) };
  }
  if (!/^[0-9a-fA-F:]+$/.test(s) || !s.includes(':')) return null;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return { bits: 128, v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

// "10.90.0.0/16" → {bits, net, len}, or null when it is not a prefix.
export function parseCidr(text) {
  const m = String(text).trim().match(/^([^/]+)(?:\/(\d{1,3}))?$/);
  if (!m) return null;
  const a = parseAddr(m[1]);
  if (!a) return null;
  const len = m[2] === undefined ? a.bits : Number(m[2]);
  if (len > a.bits) return null;
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(a.bits - len);
  return { bits: a.bits, net: a.v & mask, mask };
}

export function inCidr(cidr, addr) {
  const a = parseAddr(addr);
  return !!a && a.bits === cidr.bits && (a.v & cidr.mask) === cidr.net;
}

export function deviceAddrs(d) {
  const all = [d.mgmt_addr, ...(d.addresses || [])].filter(Boolean).map(String);
  return [...new Set(all)];
}

// Does the device match the search text (name, id or address, case-insensitive)?
export function matchesSearch(d, text) {
  const t = text.trim().toLowerCase();
  if (!t) return true;
  const hay = [d.sys_name, d.id, ...deviceAddrs(d)].filter(Boolean);
  return hay.some((s) => String(s).toLowerCase().includes(t));
}

// Ids of devices within `depth` hops of `root`; adjacency: Map id → Set ids.
export function neighbourhood(adjacency, root, depth) {
  const seen = new Set([root]);
  let frontier = [root];
  for (let i = 0; i < depth; i++) {
    const next = [];
    for (const id of frontier) {
      for (const n of adjacency.get(id) || []) {
        if (!seen.has(n)) {
          seen.add(n);
          next.push(n);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

// The set of device ids to show, or null for "all".
// f: {prefix: cidr|null, site: string, focus: id|null, depth: n}
export function visibleDevices(devices, links, f) {
  if (!f.prefix && !f.site && !f.focus) return null;
  const keep = new Set();
  for (const d of devices.values()) {
    if (f.prefix && !deviceAddrs(d).some((a) => inCidr(f.prefix, a))) continue;
    if (f.site && (typeof d.site === 'string' ? d.site : '') !== f.site) continue;
    keep.add(d.id);
  }
  if (!f.focus) return keep;
  const adj = new Map();
  for (const l of links.values()) {
    const [a, b] = [l.a.device, l.b.device];
    if (!adj.has(a)) adj.set(a, new Set());
    if (!adj.has(b)) adj.set(b, new Set());
    adj.get(a).add(b);
    adj.get(b).add(a);
  }
  const near = neighbourhood(adj, f.focus, f.depth);
  return new Set([...near].filter((id) => keep.has(id) || id === f.focus));
}
