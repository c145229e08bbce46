// What the map is drawn from: the devices and links the server's
// snapshots and deltas named, the edge each link is drawn in (its own, or
// its LAG's), and the elements the next draw must bring onto the map. The
// server diffs (its feed sends only what changed); this takes what it is
// sent and re-diffs nothing. No DOM, no cytoscape.
import { edgeKey } from './elements.js';

export class MapModel {
  constructor() {
    this.devices = new Map(); // id → the API's device
    this.links = new Map(); // id → the API's link
    this.edgeOfLink = new Map(); // link id → edge id
    this.edgeLinks = new Map(); // edge id → Set of link ids
    // The elements the next draw brings onto the map, by id.
    this.dirty = { nodes: new Set(), edges: new Set() };
  }

  // A snapshot is every item: what it does not name is gone.
  applySnapshot(msg) {
    const devices = msg.devices || [];
    const links = msg.links || [];
    const keepDevices = new Set(devices.map((d) => d.id));
    const keepLinks = new Set(links.map((l) => l.id));
    this.absorb({
      devices,
      links,
      removed_devices: [...this.devices.keys()].filter((id) => !keepDevices.has(id)),
      removed_links: [...this.links.keys()].filter((id) => !keepLinks.has(id)),
    });
  }

  // Takes a snapshot's or a delta's items into the model and marks the
  // elements they name for the next draw.
  absorb(msg) {
    for (const id of msg.removed_links || []) {
      this.forgetLink(id);
      this.links.delete(id);
    }
    for (const id of msg.removed_devices || []) {
      this.devices.delete(id);
      this.dirty.nodes.add(id);
    }
    const arrived = new Set();
    for (const d of msg.devices || []) {
      if (!this.devices.has(d.id)) arrived.add(d.id);
      this.devices.set(d.id, d);
      this.dirty.nodes.add(d.id);
    }
    for (const l of msg.links || []) {
      this.forgetLink(l.id);
      this.links.set(l.id, l);
      const key = edgeKey(l);
      this.edgeOfLink.set(l.id, key);
      if (!this.edgeLinks.has(key)) this.edgeLinks.set(key, new Set());
      this.edgeLinks.get(key).add(l.id);
      this.dirty.edges.add(key);
    }
    // A link whose device was missing can be drawn once the device arrives.
    if (arrived.size) this.markLinksOf(arrived);
  }

  forgetLink(id) {
    const key = this.edgeOfLink.get(id);
    if (key === undefined) return;
    this.edgeOfLink.delete(id);
    const ids = this.edgeLinks.get(key);
    ids.delete(id);
    if (!ids.size) this.edgeLinks.delete(key);
    this.dirty.edges.add(key);
  }

  // Marks the edges of every link with an end in `ids` (a Set) for the
  // next draw.
  markLinksOf(ids) {
    for (const l of this.links.values()) {
      if (ids.has(l.a.device) || ids.has(l.b.device)) this.dirty.edges.add(this.edgeOfLink.get(l.id));
    }
  }

  // Marks the devices `ids` (a Set) and their links for the next draw.
  markDevices(ids) {
    for (const id of ids) this.dirty.nodes.add(id);
    this.markLinksOf(ids);
  }

  // The devices linked to `id`.
  neighbours(id) {
    const out = [];
    for (const l of this.links.values()) {
      if (l.a.device === id) out.push(l.b.device);
      else if (l.b.device === id) out.push(l.a.device);
    }
    return out;
  }
}
