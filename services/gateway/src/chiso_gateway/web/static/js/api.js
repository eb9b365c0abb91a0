// The gateway's API as the page calls it: the token, the reader's language, the envelope
// unwrapped, and every problem+json answer turned into an ApiError with a readable message.

import { k, language, t } from './i18n.js';
import * as people from './people.js';
import * as session from './session.js';

// Problems the reader can act on get a sentence of their own; others read by status.
const CODE_MESSAGES = {
  'gateway.token_missing': k('error.sign_in_needed'),
  'gateway.token_expired': k('error.session_expired'),
  'gateway.token_invalid': k('error.session_expired'),
  'gateway.token_revoked': k('error.session_expired'),
  'gateway.client_revoked': k('error.client_revoked'),
  'gateway.scope_missing': k('error.scope_missing'),
  'gateway.quota_exceeded': k('error.quota'),
  'gateway.invalid_client': k('error.invalid_client'),
  'gateway.token_rate_limited': k('error.token_rate_limited'),
  'gateway.upstream_unreachable': k('error.upstream'),
  'gateway.upstream_error': k('error.upstream'),
  'gateway.upstream_timeout': k('error.upstream'),
};
const STATUS_MESSAGES = {
  400: k('error.status_400'),
  401: k('error.status_401'),
  403: k('error.status_403'),
  404: k('error.status_404'),
  409: k('error.status_409'),
  413: k('error.status_413'),
  415: k('error.status_415'),
  422: k('error.status_422'),
  429: k('error.status_429'),
  502: k('error.upstream'),
  503: k('error.upstream'),
  504: k('error.upstream'),
};
const SESSION_ENDED = new Set([
  'gateway.token_expired',
  'gateway.token_invalid',
  'gateway.token_revoked',
  'gateway.client_revoked',
]);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || problem.error || '';
    this.title = problem.title || '';
    this.detail = problem.detail || problem.error_description || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.requestId = problem.request_id || '';
  }

  /** The sentence to show: ours in the reader's language, then what the service said. */
  summary() {
    const key = CODE_MESSAGES[this.code] || STATUS_MESSAGES[this.status] || k('error.generic');
    return t(key, { status: this.status });
  }

  details() {
    const fields = this.errors.map((error) => `${error.field}: ${error.message}`);
    const said = [this.title, this.detail].filter(Boolean).join(': ');
    return [said, ...fields].filter(Boolean);
  }
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText };
  }
}

function headers(extra = {}) {
  const all = { 'Accept-Language': language() === 'vi' ? 'vi, en;q=0.5' : 'en, vi;q=0.5', ...extra };
  const token = session.token();
  if (token) all.Authorization = `Bearer ${token}`;
  return all;
}

/** The raw Response of a call to the gateway; an ApiError for any answer but 2xx. */
export async function call(path, { method = 'GET', body, headers: extra, signal } = {}) {
  let response;
  try {
    // no-cache: answers carry max-age, but a review just made must show on the next read;
    // the browser revalidates with the ETag and gets a 304 when nothing changed.
    // credentials 'omit': the token is the only credential; and a 401 that asks for HTTP
    // Basic (the token endpoint's) must not open the browser's own password prompt, which
    // the Fetch standard does only for requests that include credentials.
    response = await fetch(path, { method, body, headers: headers(extra), cache: 'no-cache', credentials: 'omit', signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { code: 'network', detail: String(error.message || error) });
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await problemOf(response));
    if (response.status === 401 && SESSION_ENDED.has(error.code)) session.end('expired');
    throw error;
  }
  return response;
}

/** The `{data, meta, links}` envelope of a JSON read (the names in its `meta.people`
 * learnt on the way, for the page to show). */
export async function get(path, options = {}) {
  return learnt(await (await call(path, options)).json());
}

function learnt(answer) {
  people.learn(answer?.meta?.people);
  return answer;
}

/** The items of a paged read and the cursor of the next page, whether the envelope's data is
 * the list (cursor in meta) or ingest's `{items, next_cursor}` as it is. */
export function page(answer) {
  const data = answer.data;
  const items = Array.isArray(data) ? data : data?.items || [];
  return { items, cursor: answer.meta?.next_cursor ?? data?.next_cursor ?? null };
}

export async function postJson(path, value) {
  const response = await call(path, {
    method: 'POST',
    body: JSON.stringify(value),
    headers: { 'Content-Type': 'application/json' },
  });
  return learnt(await response.json());
}

export function query(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

function filenameOf(response, fallback) {
  const header = response.headers.get('content-disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  return plain ? plain[1] : fallback;
}

/** Fetch a file with the token (a plain link could not send it) and save it. */
export async function download(path, fallbackName) {
  const response = await call(path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filenameOf(response, fallbackName);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return link.download;
}

/** POST /oauth2/token with client credentials (the form fields of RFC 6749 §4.4). */
export async function requestToken(clientId, secret) {
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    client_secret: secret,
  });
  const response = await call('/oauth2/token', {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  return response.json();
}
