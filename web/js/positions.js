// Who the user is (`/api/whoami`: admins may save) and where devices sit
// (`/api/map/positions`): read at start; a dragged device PUT a quarter
// second after the drag; the positions the layout gave devices that had
// none PUT once they are placed, so a reload (or `/wall`, or another
// user's page) after a re-discovery finds every device where it was;
// DELETE on "auto layout".
import { byId } from './dom.js';
import { getJson, sendJson, HttpError } from './api.js';

// A PUT's body stays well under the server's 64 KiB limit.
const CHUNK_BYTES = 48 * 1024;

export class SavedPositions {
  // state: the page's state (`canSave`; `saved`, the dragged positions
  // sent; `layoutSaved`, the laid-out ones).
  constructor(state) {
    this.state = state;
    this.at = {}; // device id → {x, y} from the server
    this.pending = {};
    this.timer = null;
    this.stored = true; // false: the server keeps no positions (no store)
    this.layoutPending = {};
    this.layoutTimer = null;
    this.state.layoutSaved = 0;
  }

  get(id) {
    return this.at[id];
  }

  // The saved positions as a Map id → {x, y}.
  asMap() {
    return new Map(Object.entries(this.at));
  }

  // A dragged node: saved at `p` (its position unless given).
  queue(node, p) {
    if (!this.state.canSave) return;
    const at = p || node.position();
    this.pending[node.id()] = { x: at.x, y: at.y };
    this.at[node.id()] = this.pending[node.id()];
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), 250);
  }

  async flush() {
    const positions = this.pending;
    this.pending = {};
    try {
      await sendJson('PUT', '/api/map/positions', { positions });
      this.state.saved += Object.keys(positions).length;
    } catch (e) {
      byId('role-note').textContent = 'could not save positions';
    }
  }

  // Positions the layout gave (Map or [[id, {x, y}]]): kept here at once,
  // sent a moment later (many devices placed in one go are one request,
  // or a few under the body limit) when the user may save and the server
  // keeps them.
  keepLayout(entries) {
    for (const [id, p] of entries) {
      if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      this.at[id] = { x: p.x, y: p.y };
      if (this.state.canSave && this.stored) this.layoutPending[id] = this.at[id];
    }
    if (this.layoutTimer || !Object.keys(this.layoutPending).length) return;
    this.layoutTimer = setTimeout(() => this.flushLayout(), 300);
  }

  async flushLayout() {
    const list = Object.entries(this.layoutPending);
    this.layoutPending = {};
    let chunk = {};
    let bytes = 0;
    const send = async () => {
      const n = Object.keys(chunk).length;
      if (!n) return;
      const body = { positions: chunk };
      chunk = {};
      bytes = 0;
      await sendJson('PUT', '/api/map/positions', body);
      this.state.layoutSaved += n;
    };
    try {
      for (const [id, p] of list) {
        const len = id.length * 6 + 60; // JSON-escaped worst case
        if (bytes + len > CHUNK_BYTES) await send();
        chunk[id] = p;
        bytes += len;
      }
      await send();
    } catch (e) {
      byId('role-note').textContent = 'could not save positions';
    }
    this.layoutTimer = null;
    if (Object.keys(this.layoutPending).length) this.keepLayout([]);
  }

  async load() {
    try {
      const r = await getJson('/api/map/positions');
      this.at = (r && r.positions) || {};
    } catch (e) {
      if (e instanceof HttpError && e.status === 401) throw e;
      // 503: a server without a store keeps no positions.
      if (e instanceof HttpError && e.status === 503) this.stored = false;
      this.at = {};
    }
  }

  // Back to the automatic layout, for everyone when the user may save.
  async forget() {
    this.at = {};
    this.layoutPending = {};
    if (!this.state.canSave) return;
    await sendJson('DELETE', '/api/map/positions').catch(() => {});
  }
}

export async function whoami(state) {
  try {
    const w = await getJson('/api/whoami');
    state.role = w.role;
    state.canSave = w.role === 'admin';
  } catch (e) {
    if (e instanceof HttpError && e.status === 401) throw e;
    state.role = 'unknown';
    state.canSave = true; // an older server without roles: try, report failures
  }
  byId('role-note').textContent = state.canSave ? '' : 'read-only: moved nodes are not saved';
  byId('relayout').title = state.canSave ? 'forget saved positions and lay the map out again' : 'lay the map out again (not saved)';
}
