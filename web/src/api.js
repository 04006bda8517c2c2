/**
 * URLs of the skyfuse HTTP API v1 (CONTRACTS.md) relative to the page, carrying the page's
 * `?token=` (if any) on every request and on the WebSocket, as the server requires for a
 * non-local bind.
 */

const params = new URLSearchParams(location.search);

/** The page's query parameters (token, tiles, lat, lon, zoom). */
export const query = params;

/** Absolute URL of an API path (e.g. 'api/v1/tracks'), with the token and extra params. */
export function apiUrl(path, extra = {}) {
  const u = new URL(path, document.baseURI);
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
  }
  const token = params.get('token');
  if (token) u.searchParams.set('token', token);
  return u.href;
}

/** The WebSocket URL of the stream (ws: or wss: after the page's scheme). */
export function streamUrl() {
  const u = new URL(apiUrl('api/v1/stream'));
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}

/**
 * `url` with the page's token added when it points at this server (never to another
 * origin, e.g. online tiles): the server checks the token on every request, static files
 * included, and a browser cannot add a header to a script, worker or font request.
 */
export function withToken(url) {
  const token = params.get('token');
  const u = new URL(url, document.baseURI);
  if (!token || u.origin !== location.origin) return u.href;
  u.searchParams.set('token', token);
  return u.href;
}

/** GET a JSON API path; resolves to the parsed body, or null on any failure. */
export async function getJson(path, extra = {}) {
  try {
    const headers = {};
    const token = params.get('token');
    if (token) headers.Authorization = `Bearer ${token}`;
    const r = await fetch(apiUrl(path, extra), { headers });
    if (!r.ok) return null;
    return await r.json();
  } catch {
    return null;
  }
}

/** A list out of an API body that is either the list or an object holding it under `key`. */
export function listOf(body, key) {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object' && Array.isArray(body[key])) return body[key];
  return [];
}
