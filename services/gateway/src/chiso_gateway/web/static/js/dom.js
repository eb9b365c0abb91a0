// Small DOM helpers: elements built from data (never HTML strings, so a document's text can
// never become markup), dialogs that keep focus, and the page's notice and alert regions.

import { t } from './i18n.js';

/** `h('p', {class: 'x', onclick: f, dataset: {a: 1}}, 'text', child)`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let noticeTimer = null;

/** A polite message (screen readers announce it). */
export function notify(message) {
  const notice = document.getElementById('notice');
  notice.textContent = message;
  notice.classList.add('shown');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => notice.classList.remove('shown'), 6000);
}

/** An error the reader must see: an ApiError's own sentence and what the service said. */
export function showError(error) {
  const alert = document.getElementById('alert');
  const lines = typeof error.details === 'function' ? error.details() : [];
  const summary = typeof error.summary === 'function' ? error.summary() : t('error.generic');
  clear(
    alert,
    h('p', { class: 'alert-summary' }, summary),
    lines.length ? h('ul', { class: 'alert-details' }, lines.map((line) => h('li', {}, line))) : null,
    h('button', { type: 'button', class: 'ghost', onclick: hideError }, t('common.dismiss')),
  );
  alert.hidden = false;
  if (!(error instanceof Error) || !('status' in error)) console.error(error);
}

export function hideError() {
  const alert = document.getElementById('alert');
  alert.hidden = true;
  alert.replaceChildren();
}

/** An error shown in place (a form's), the same words as `showError`. */
export function errorBlock(error) {
  const lines = typeof error.details === 'function' ? error.details() : [String(error.message || error)];
  const summary = typeof error.summary === 'function' ? error.summary() : t('error.generic');
  return h('div', { class: 'form-error', role: 'alert' }, h('p', {}, summary), lines.length ? h('ul', {}, lines.map((line) => h('li', {}, line))) : null);
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function trapFocus(dialog, event) {
  if (event.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter((item) => item.offsetParent !== null || item === document.activeElement);
  if (!items.length) return;
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

function outside(dialog, event) {
  const box = dialog.getBoundingClientRect();
  return event.clientX < box.left || event.clientX > box.right || event.clientY < box.top || event.clientY > box.bottom;
}

/** Wire a <dialog> once: Tab stays inside, Escape and [data-close] close it, and focus goes
 * back to what opened it. */
export function setupDialog(dialog) {
  if (dialog.dataset.ready) return dialog;
  dialog.dataset.ready = '1';
  dialog.addEventListener('keydown', (event) => trapFocus(dialog, event));
  dialog.addEventListener('click', (event) => {
    if (event.target.closest('[data-close]')) dialog.close();
    else if (event.target === dialog && outside(dialog, event)) dialog.close(); // the backdrop
  });
  dialog.addEventListener('close', () => {
    const opener = dialog.opener;
    dialog.opener = null;
    if (opener && opener.isConnected) opener.focus();
  });
  return dialog;
}

export function openDialog(dialog, focus) {
  setupDialog(dialog);
  dialog.opener = document.activeElement;
  if (!dialog.open) dialog.showModal();
  (focus || dialog.querySelector(FOCUSABLE))?.focus();
}

/** Ask the reader to confirm, with an optional note; resolves to the note or null. */
export function confirmDialog(title, message, { withNote = false, confirmLabel } = {}) {
  const dialog = document.getElementById('form-dialog');
  return new Promise((resolve) => {
    let answered = false;
    const note = withNote ? h('textarea', { id: 'confirm-note', rows: 3 }) : null;
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('p', {}, message),
      note ? h('div', { class: 'field' }, h('label', { for: 'confirm-note' }, t('review.note')), note) : null,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'danger' }, confirmLabel || t('common.confirm')),
        h('button', { type: 'button', 'data-close': true }, t('common.cancel')),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      answered = true;
      dialog.close();
      resolve(note ? note.value.trim() : '');
    });
    document.getElementById('form-dialog-title').textContent = title;
    clear(document.getElementById('form-dialog-body'), form);
    dialog.addEventListener('close', () => answered || resolve(null), { once: true });
    openDialog(dialog);
  });
}

/** A page's heading, focusable so a route change can move focus (and a screen reader) there. */
export function pageTitle(text) {
  return h('h1', { tabindex: '-1' }, text);
}

/** A button that runs `action`, disabled meanwhile, its failure shown as an alert. */
export function actionButton(label, action, attributes = {}) {
  const button = h('button', { type: 'button', ...attributes }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action(button);
    } catch (error) {
      if (error.name !== 'AbortError') showError(error);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
