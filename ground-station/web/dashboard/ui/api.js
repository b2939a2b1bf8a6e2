// The station's API from the page: the operator token lives in sessionStorage (gone when the tab closes), every call
// sends it as a bearer header, and the live stream passes it as ?access_token= (EventSource cannot set headers).

const KEY = 'aerie.operatorToken';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (t) => sessionStorage.setItem(KEY, t),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** JSON call; throws ApiError for a non-2xx answer (401 sends the operator back to the login). */
export async function api(path, { method = 'GET', body, tokenOverride } = {}) {
  const headers = { authorization: `Bearer ${tokenOverride ?? token.get() ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = { message: text };
  }
  if (!res.ok) {
    if (res.status === 401 && tokenOverride === undefined) window.dispatchEvent(new Event('aerie:unauthorized'));
    throw new ApiError(res.status, parsed);
  }
  return parsed;
}

/**
 * The live stream: handlers by event name. Returns a close function. The browser reconnects by itself (the station
 * asks for 2 s); onState reports 'live' / 'down'.
 */
export function openStream(handlers, onState) {
  const source = new EventSource(`/api/stream?access_token=${encodeURIComponent(token.get() ?? '')}`);
  for (const [name, fn] of Object.entries(handlers)) {
    source.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  }
  source.onopen = () => onState('live');
  source.onerror = () => onState('down');
  return () => source.close();
}
