// The console's client of the JSON API. Every request goes to the same
// origin with the session cookie; state-changing methods carry the
// session's CSRF token. An answer 401 anywhere means the session ended:
// onUnauthorized is called (the shell then shows the login view).

export class ApiError extends Error {
  constructor(status, detail, headers) {
    super(detail || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail || `The server answered ${status}.`;
    this.headers = headers || null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// query turns params into a query string: arrays repeat the key; null,
// undefined and '' are left out.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined || v === '') continue;
    if (Array.isArray(v)) for (const x of v) q.append(k, String(x));
    else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// detailOf reads the detail of an error answer: {"detail": "..."}, or
// FastAPI's list of {msg}.
function detailOf(body) {
  if (!body || typeof body !== 'object') return '';
  const d = body.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d)) return d.map((x) => x.msg || JSON.stringify(x)).join('; ');
  if (d) return JSON.stringify(d);
  return body.message || '';
}

// createApi builds ctx.api. getSession() returns the current session (for
// its csrf_token); onUnauthorized() is called on any 401 unless the call
// was made with {auth: false} (the login form's own 401 is a wrong password).
export function createApi({ getSession, onUnauthorized }) {
  async function request(method, path, body, opts = {}) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal: opts.signal };
    // A background request (a poll) does not keep the session alive.
    if (opts.background) headers['X-Wearhouse-Background'] = '1';
    if (UNSAFE.has(method)) {
      const s = getSession();
      if (s && s.csrf_token) headers['X-CSRF-Token'] = s.csrf_token;
    }
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, 'The server could not be reached. Check your connection and try again.');
    }
    const text = res.status === 204 ? '' : await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const err = new ApiError(res.status, detailOf(data) || (text && !data ? text.slice(0, 300) : ''), res.headers);
      if (res.status === 401 && opts.auth !== false) onUnauthorized();
      throw err;
    }
    return data;
  }

  return {
    get(path, params, opts) {
      return request('GET', path + query(params), null, opts);
    },
    send(method, path, body, opts) {
      return request(method.toUpperCase(), path, body, opts);
    },
    // stream opens an EventSource on path: onEvent(type, data) gets each
    // event, with data parsed as JSON when it is JSON; type is the event's
    // name ('message' when unnamed), 'open' and 'error' tell of the
    // connection. A stream refused with 401 cannot be told from a dropped
    // one, so after an error the session is checked.
    stream(path, onEvent) {
      let closed = false;
      const es = new EventSource(path, { withCredentials: false });
      const deliver = (type) => (ev) => {
        let data = ev.data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          /* keep the text */
        }
        onEvent(type, data, ev);
      };
      es.addEventListener('message', deliver('message'));
      es.addEventListener('open', () => onEvent('open', null));
      es.addEventListener('error', () => {
        if (closed) return;
        onEvent('error', { readyState: es.readyState });
        request('GET', '/api/v1/console/session').catch(() => {});
      });
      // Named events the server may send.
      for (const t of ['sync.status', 'sync', 'status', 'run', 'progress']) es.addEventListener(t, deliver(t));
      return () => {
        closed = true;
        es.close();
      };
    },
    // upload sends a file as the raw body with XMLHttpRequest, for its
    // upload progress: onProgress(loaded, total). Resolves the parsed JSON.
    upload(path, file, { onProgress, signal } = {}) {
      return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', path);
        xhr.withCredentials = true;
        xhr.setRequestHeader('Content-Type', 'application/octet-stream');
        xhr.setRequestHeader('Accept', 'application/json');
        const s = getSession();
        if (s && s.csrf_token) xhr.setRequestHeader('X-CSRF-Token', s.csrf_token);
        xhr.upload.addEventListener('progress', (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
        xhr.addEventListener('load', () => {
          let data = null;
          try {
            data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
          } catch {
            data = null;
          }
          if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
          if (xhr.status === 401) onUnauthorized();
          reject(new ApiError(xhr.status, detailOf(data)));
        });
        xhr.addEventListener('error', () => reject(new ApiError(0, 'The upload was cut off: the server could not be reached.')));
        xhr.addEventListener('abort', () => reject(new DOMException('Upload cancelled', 'AbortError')));
        if (signal) signal.addEventListener('abort', () => xhr.abort());
        xhr.send(file);
      });
    },
    request,
  };
}
