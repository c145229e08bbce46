// The live feed's event stream, asked for as soon as the page starts
// loading: index.html loads this module `async` before cytoscape, so on a
// large map the server's first snapshot (the long wait) is under way
// while the browser still fetches and compiles cytoscape and the page's
// modules. Feed (feed.js) takes this answer for its first connection.
import { authHeaders } from './api.js';

let early = {
  abort: new AbortController(),
  asked: performance.now(),
};
early.response = fetch('/api/events', {
  headers: authHeaders({ Accept: 'text/event-stream' }),
  signal: early.abort.signal,
  cache: 'no-store',
});
// Feed sees a failure when it awaits the answer; none is left unhandled.
early.response.catch(() => {});

// The early request ({abort, asked, response}) the first time, then null.
export function takeEarlyStream() {
  const e = early;
  early = null;
  return e;
}
