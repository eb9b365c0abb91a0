// Sign-in: an officer is an OAuth2 client. The dialog posts its id and secret to
// /oauth2/token; the secret is cleared from the form at once and the token kept in memory.

import * as api from './api.js';
import { errorBlock, notify, openDialog, setupDialog } from './dom.js';
import { t } from './i18n.js';
import * as session from './session.js';

let pending = [];

function elements() {
  return {
    dialog: document.getElementById('sign-in-dialog'),
    form: document.getElementById('sign-in-form'),
    id: document.getElementById('client-id'),
    secret: document.getElementById('client-secret'),
    error: document.getElementById('sign-in-error'),
    reason: document.getElementById('sign-in-reason'),
  };
}

/** Open the dialog; resolves true once signed in, false when it is closed without. */
export function signIn(reason = '') {
  const { dialog, error, reason: why, id } = elements();
  error.hidden = true;
  error.replaceChildren();
  why.hidden = !reason;
  why.textContent = reason;
  openDialog(dialog, id.value ? elements().secret : id);
  return new Promise((resolve) => pending.push(resolve));
}

function settle(value) {
  const waiting = pending;
  pending = [];
  for (const resolve of waiting) resolve(value);
}

async function submit(event) {
  event.preventDefault();
  const { dialog, id, secret, error } = elements();
  const clientId = id.value.trim();
  if (!clientId || !secret.value) {
    error.textContent = t('auth.fill_both');
    error.hidden = false;
    (clientId ? secret : id).focus();
    return;
  }
  const button = event.submitter || dialog.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const answer = await api.requestToken(clientId, secret.value);
    secret.value = '';
    session.start(answer, clientId, await whoAmI(answer.access_token));
    dialog.close();
    notify(t('auth.welcome', { name: session.displayName() }));
    settle(true);
  } catch (failure) {
    error.replaceChildren(...errorBlock(failure).childNodes); // the box itself is the alert
    error.hidden = false;
    secret.select();
  } finally {
    button.disabled = false;
  }
}

/** GET /v1/me with the new token: the name to greet the officer by (the client id is no name
 * a person knows themselves by). Without it the page goes on with the id. */
async function whoAmI(accessToken) {
  try {
    return (await api.get('/v1/me', { headers: { Authorization: `Bearer ${accessToken}` } })).data;
  } catch {
    return {};
  }
}

function showState() {
  const who = document.getElementById('who');
  const signedIn = session.signedIn();
  who.hidden = !signedIn;
  who.textContent = signedIn ? t('auth.signed_in_as', { name: session.displayName() }) : '';
  who.title = signedIn ? t('people.client_id', { client: session.clientId() }) : '';
  who.dataset.clientId = session.clientId();
  document.getElementById('sign-in').hidden = signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
}

export function initAuth() {
  const { dialog, form, secret } = elements();
  setupDialog(dialog);
  form.addEventListener('submit', submit);
  dialog.addEventListener('close', () => {
    secret.value = ''; // never left in the page
    settle(session.signedIn());
  });
  document.getElementById('sign-in').addEventListener('click', () => signIn());
  document.getElementById('sign-out').addEventListener('click', () => {
    session.end('signed-out');
    notify(t('auth.signed_out'));
    document.getElementById('sign-in').focus();
  });
  session.onChange((reason) => {
    showState();
    if (reason === 'expired') notify(t('auth.expired'));
  });
  document.addEventListener('chiso:language', showState);
  showState();
}
