// Talking to the server: the bearer token (kept in sessionStorage, asked
// for when the API answers 401), JSON requests, and the series URLs.

const TOKEN_KEY = 'nocmap_token';
let onUnauthorized = () => {};

export class HttpError extends Error {
  constructor(status, path) {
    super('HTTP ' + status + ' for ' + path);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called (once per 401) so the page can show its token prompt.
export function whenUnauthorized(f) {
  onUnauthorized = f;
}

export function authHeaders(extra) {
  const h = Object.assign({}, extra || {});
  const t = token();
  if (t) h['Authorization'] = 'Bearer ' + t;
  return h;
}

// fetch() with the token; 401 triggers the prompt, other errors throw HttpError.
export async function request(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = authHeaders(opts.headers);
  opts.cache = 'no-store';
  const r = await fetch(path, opts);
  if (r.status === 401) {
    onUnauthorized();
    throw new HttpError(401, path);
  }
  if (!r.ok) throw new HttpError(r.status, path);
  return r;
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function sendJson(method, path, body) {
  const r = await request(path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return r.headers.get('content-type')?.includes('json') ? r.json() : null;
}

const enc = encodeURIComponent;

export function deviceSeriesUrl(id, metric, since) {
  return '/api/devices/' + enc(id) + '/series?metric=' + enc(metric) +
    '&since=' + enc(since) + '&resolution=auto';
}

export function interfaceSeriesUrl(device, ifName, metric, since) {
  return '/api/interfaces/' + enc(device) + '/' + enc(ifName) +
    '/series?metric=' + enc(metric) + '&since=' + enc(since) + '&resolution=auto';
}
