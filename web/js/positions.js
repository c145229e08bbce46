// Who the user is (`/api/whoami`: admins may save) and the positions
// dragged devices were saved at (`/api/map/positions`: read at start,
// PUT a quarter second after a drag, DELETE on "auto layout").
import { byId } from './dom.js';
import { getJson, sendJson, HttpError } from './api.js';

export class SavedPositions {
  // state: the page's state (`canSave`, and `saved`, the count sent).
  constructor(state) {
    this.state = state;
    this.at = {}; // device id → {x, y} from the server
    this.pending = {};
    this.timer = null;
  }

  get(id) {
    return this.at[id];
  }

  queue(node) {
    if (!this.state.canSave) return;
    const p = node.position();
    this.pending[node.id()] = { x: p.x, y: p.y };
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

  async load() {
    try {
      const r = await getJson('/api/map/positions');
      this.at = (r && r.positions) || {};
    } catch (e) {
      this.at = {};
    }
  }

  // Back to the automatic layout, for everyone when the user may save.
  forget() {
    if (!this.state.canSave) return;
    sendJson('DELETE', '/api/map/positions').catch(() => {});
    this.at = {};
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
