// Who is signed in. The access token lives in this module only, never in storage: a reload
// asks again (the lead's decision for issue 17).

const state = { token: null, clientId: '', name: '', scopes: new Set(), area: '', expiresAt: 0 };
let expiryTimer = null;
const events = new EventTarget();

function claims(token) {
  // The payload is read for display only (the area to start on); the gateway checks it.
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

export function signedIn() {
  return state.token !== null;
}

export function token() {
  return state.token;
}

export function clientId() {
  return state.clientId;
}

/** The signed-in client's name from the client register (GET /v1/me), '' when unknown. */
export function name() {
  return state.name;
}

/** The name to greet the reader by: the client's name, else its id. */
export function displayName() {
  return state.name || state.clientId;
}

export function area() {
  return state.area;
}

export function hasScope(...scopes) {
  return scopes.some((scope) => state.scopes.has(scope));
}

export function start(answer, clientId, me = {}) {
  const payload = claims(answer.access_token);
  state.token = answer.access_token;
  state.clientId = payload.sub || clientId;
  state.name = me.name || '';
  state.scopes = new Set(String(answer.scope || payload.scope || '').split(/\s+/).filter(Boolean));
  state.area = payload.area || '';
  state.expiresAt = Date.now() + Number(answer.expires_in || 3600) * 1000;
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => end('expired'), state.expiresAt - Date.now());
  events.dispatchEvent(new CustomEvent('change', { detail: 'signed-in' }));
}

export function end(reason = 'signed-out') {
  const was = signedIn();
  Object.assign(state, { token: null, clientId: '', name: '', scopes: new Set(), area: '', expiresAt: 0 });
  clearTimeout(expiryTimer);
  if (was) events.dispatchEvent(new CustomEvent('change', { detail: reason }));
}

export function onChange(listener) {
  events.addEventListener('change', (event) => listener(event.detail));
}
