// Token handling and REST calls. Everything is same-origin and resolved against the
// page's own location, so the dashboard also works behind a path prefix.

const TOKEN_KEY = 'pairflow.token';

/** Reads `#token=...` from the URL fragment (then removes it from the address bar). */
export function initToken(): string {
  const hash = location.hash.replace(/^#/, '');
  const params = new URLSearchParams(hash);
  const fromHash = params.get('token');
  if (fromHash) {
    setToken(fromHash);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + location.search + (rest ? '#' + rest : ''));
  }
  return getToken();
}

export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return memToken;
  }
}

let memToken = '';

export function setToken(token: string): void {
  memToken = token.trim();
  try {
    if (memToken) localStorage.setItem(TOKEN_KEY, memToken);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: keep it in memory */
  }
}

export function apiUrl(path: string): string {
  return new URL(path.replace(/^\//, ''), location.href).toString();
}

export function streamUrl(token: string): string {
  const u = new URL('api/stream', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  u.hash = '';
  u.search = token ? '?token=' + encodeURIComponent(token) : '';
  return u.toString();
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(json: boolean): HeadersInit {
  const h: Record<string, string> = { Accept: 'application/json' };
  const t = getToken();
  if (t) h.Authorization = 'Bearer ' + t;
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

async function parse<T>(res: Response): Promise<T> {
  let body: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  if (!res.ok) {
    const err = body && typeof body === 'object' && 'error' in body ? String((body as { error: unknown }).error) : text.slice(0, 200) || res.statusText;
    throw new ApiError(res.status, err);
  }
  return body as T;
}

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path), { headers: headers(false), cache: 'no-store', signal });
  return parse<T>(res);
}

/**
 * POSTs a JSON body. Unlike getJson, a 4xx answer with {"ok":false,"error"} is returned
 * (not thrown) together with its HTTP status so the UI can show the server's own words.
 */
export async function postJson<T extends { ok: boolean; error?: string }>(path: string, body: unknown): Promise<{ status: number; answer: T }> {
  const res = await fetch(apiUrl(path), { method: 'POST', headers: headers(true), body: JSON.stringify(body), cache: 'no-store' });
  const text = await res.text();
  let answer: T;
  try {
    answer = JSON.parse(text) as T;
  } catch {
    answer = { ok: false, error: text.slice(0, 200) || res.statusText } as T;
  }
  if (!res.ok && answer.ok !== false) answer = { ...answer, ok: false };
  return { status: res.status, answer };
}

/** One-line text of a control answer: "ok ..." or "error 403: ...". */
export function describeAnswer(status: number, answer: { ok: boolean; error?: string }, okDetail = ''): string {
  if (answer.ok) return okDetail ? `ok (${okDetail})` : 'ok';
  return `error ${status}: ${answer.error ?? 'request failed'}`;
}
