// The live feed: GET /api/events read with fetch() and a stream reader (so
// the bearer token can be sent), a small SSE parser, a watchdog that calls
// the feed lost after 5 s without an event, and reconnection with backoff.
// Where the server has no event stream (404, 503) it falls back to polling
// /api/topology.
import { authHeaders, getJson, HttpError } from './api.js';
import { takeEarlyStream } from './early_stream.js';

const SILENCE_MS = 5000;
const POLL_MS = 5000;

// Splits an SSE byte stream into events; feed it text chunks. Linear in
// the stream: a line that comes in many chunks (a large map's snapshot is
// one line of megabytes) is kept as its parts, searched for its end only
// in the new text and joined once.
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.parts = []; // the current line so far
    this.skipLf = false; // the last chunk ended in '\r' (maybe half of '\r\n')
    this.event = '';
    this.data = [];
  }
  push(chunk) {
    let start = 0;
    if (this.skipLf && chunk.length) {
      if (chunk[0] === '\n') start = 1;
      this.skipLf = false;
    }
    let n = chunk.indexOf('\n', start);
    let r = chunk.indexOf('\r', start);
    while (n >= 0 || r >= 0) {
      const i = n < 0 ? r : r < 0 ? n : Math.min(n, r);
      this.parts.push(chunk.slice(start, i));
      const line = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
      this.parts = [];
      this.line(line);
      start = i + 1;
      if (chunk[i] === '\r') {
        if (i + 1 === chunk.length) this.skipLf = true;
        else if (chunk[i + 1] === '\n') start = i + 2;
      }
      if (n >= 0 && n < start) n = chunk.indexOf('\n', start);
      if (r >= 0 && r < start) r = chunk.indexOf('\r', start);
    }
    if (start < chunk.length) this.parts.push(chunk.slice(start));
  }
  line(line) {
    if (line === '') {
      if (this.data.length) this.onEvent(this.event || 'message', this.data.join('\n'));
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

// handlers: snapshot(msg), delta(msg), state('live'|'lost'|'poll'|'connecting')
export class Feed {
  constructor(handlers) {
    this.h = handlers;
    this.seq = null;
    this.backoff = 1000;
    this.lastEvent = 0;
    this.stopped = false;
    this.abort = null;
    // When the stream was asked for, answered, and its first snapshot
    // arrived and was parsed (performance.now(), for the benchmark).
    this.times = {};
    this.watchdog = setInterval(() => this.check(), 1000);
  }

  start() {
    this.connect();
  }

  check() {
    if (this.mode === 'poll' || this.stopped) return;
    if (this.lastEvent && Date.now() - this.lastEvent > SILENCE_MS) {
      this.lost();
      if (this.abort) this.abort.abort();
    }
  }

  lost() {
    if (this.state !== 'lost') {
      this.state = 'lost';
      this.h.state('lost');
    }
  }

  async connect() {
    if (this.stopped) return;
    // The first connection takes the request the page made as it started.
    const early = this.times.asked ? null : takeEarlyStream();
    this.abort = early ? early.abort : new AbortController();
    this.lastEvent = Date.now();
    if (!this.times.asked) this.times.asked = early ? early.asked : performance.now();
    try {
      const r = await (early ? early.response : fetch('/api/events', {
        headers: authHeaders({ Accept: 'text/event-stream' }),
        signal: this.abort.signal,
        cache: 'no-store',
      }));
      if (r.status === 404 || r.status === 503) {
        this.poll();
        return;
      }
      if (r.status === 401) {
        // The token prompt is up; a new token reloads the page.
        this.h.unauthorized();
        this.stop(false);
        return;
      }
      if (!r.ok || !r.body) throw new HttpError(r.status, '/api/events');
      if (!this.times.answered) this.times.answered = performance.now();
      const parser = new SseParser((ev, data) => this.onEvent(ev, data));
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(value);
      }
    } catch (e) {
      // aborted by the watchdog, network error, or HTTP error: retry below
    }
    this.lost();
    if (this.stopped || this.mode === 'poll') return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, 15000);
    setTimeout(() => this.connect(), wait);
  }

  onEvent(ev, data) {
    const first = ev === 'snapshot' && !this.times.snapshot;
    if (first) this.times.snapshot = performance.now();
    let msg;
    try {
      msg = JSON.parse(data);
    } catch (e) {
      return;
    }
    if (first) this.times.parsed = performance.now();
    this.lastEvent = Date.now();
    if (this.state !== 'live') {
      this.state = 'live';
      this.h.state('live');
    }
    this.backoff = 1000;
    if (ev === 'snapshot') {
      this.seq = msg.seq;
      this.h.snapshot(msg);
    } else if (ev === 'delta') {
      if (this.seq !== null && msg.seq !== this.seq + 1) {
        // Missed events: start again from a full picture.
        this.seq = msg.seq;
        this.resync();
        return;
      }
      this.seq = msg.seq;
      this.h.delta(msg);
    }
  }

  async resync() {
    try {
      const t = await getJson('/api/topology');
      this.h.snapshot(Object.assign({ seq: this.seq }, t));
    } catch (e) {
      this.lost();
    }
  }

  // No event stream on this server: a full picture every POLL_MS.
  async poll() {
    this.mode = 'poll';
    this.h.state('poll');
    for (;;) {
      if (this.stopped) return;
      try {
        const t = await getJson('/api/topology');
        this.h.snapshot(t);
        if (this.state === 'lost') this.h.state('poll');
        this.state = 'poll';
      } catch (e) {
        this.lost();
      }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }

  // No more events or retries; `abort`: the stream's request is cut too
  // (else it ends with its answer).
  stop(abort = true) {
    this.stopped = true;
    clearInterval(this.watchdog);
    if (abort && this.abort) this.abort.abort();
  }
}
