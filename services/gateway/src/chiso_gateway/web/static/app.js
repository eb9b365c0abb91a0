// The page's entry: language, sign-in, and the hash routes, each a page module rendering
// into <main>. A page that needs a scope the reader lacks says so instead of failing.

import { initAuth, signIn } from './js/auth.js';
import * as dashboard from './js/dashboard.js';
import * as documents from './js/documents.js';
import { clear, h, hideError, setupDialog } from './js/dom.js';
import { initLanguage, k, otherLanguage, setLanguage, t } from './js/i18n.js';
import * as quality from './js/quality.js';
import * as reference from './js/reference.js';
import * as review from './js/review.js';
import * as session from './js/session.js';

const ROUTES = [
  { pattern: /^#?\/?$/, page: dashboard.page, nav: 'dashboard' },
  { pattern: /^#\/dashboard\/(VN|\d{2})$/, page: dashboard.page, nav: 'dashboard' },
  { pattern: /^#\/documents$/, page: documents.listPage, nav: 'documents' },
  { pattern: /^#\/documents\/([0-9A-Za-z-]{1,64})$/, page: documents.viewPage, nav: 'documents' },
  { pattern: /^#\/review$/, page: review.page, nav: 'review' },
  { pattern: /^#\/quality$/, page: quality.page, nav: 'quality' },
];

let leave = null; // the shown page's cleanup (timers, charts)
let settings = { anonymous_read: false };

function routeOf(hash) {
  const [path, search = ''] = hash.split('?');
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match) return { ...route, params: match.slice(1), query: new URLSearchParams(search) };
  }
  return null;
}

/** Why the page cannot be shown to this reader, or '' when it can. */
function refusal(page) {
  if (!page.scopes) return '';
  if (!session.signedIn()) {
    return page.anonymous && settings.anonymous_read ? '' : 'sign-in';
  }
  return session.hasScope(...page.scopes) ? '' : 'scope';
}

const SCOPE_NAMES = {
  'indicators:read': k('scope.indicators_read'),
  'documents:write': k('scope.documents_write'),
  'facts:review': k('scope.facts_review'),
};

function gate(main, page, reason) {
  const scopes = page.scopes.map((scope) => `${t(SCOPE_NAMES[scope])} (${scope})`).join(t('gate.or'));
  const text = reason === 'sign-in' ? t('gate.sign_in', { scopes }) : t('gate.scope', { scopes, client: session.displayName() });
  clear(
    main,
    h('h1', {}, t(page.title)),
    h(
      'div',
      { class: 'gate', dataset: { gate: reason } },
      h('p', {}, text),
      reason === 'sign-in'
        ? h('button', { type: 'button', class: 'primary', onclick: () => signIn() }, t('auth.sign_in'))
        : null,
    ),
  );
}

function markNav(name) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let shown = 0; // which call of `show` is the latest: an older render that ends late is dropped

async function show({ focus = true } = {}) {
  const hash = location.hash;
  if (hash && !hash.startsWith('#/')) return; // an in-page anchor (the skip link)
  const route = routeOf(hash) || routeOf('#/');
  const turn = ++shown;
  if (leave) leave();
  leave = null;
  hideError();
  markNav(route.nav);
  document.title = `${t(route.page.title)} · ${t('app.title')}`;
  // Each render fills its own container: one a newer route replaced writes nowhere seen.
  const view = h('div', { class: 'view' });
  clear(document.getElementById('main'), view);
  const reason = refusal(route.page);
  if (reason) {
    gate(view, route.page, reason);
  } else {
    clear(view, h('p', { class: 'loading' }, t('common.loading')));
    const cleanup = (await route.page.render(view, route.params, route.query)) || null;
    if (turn !== shown) {
      if (cleanup) cleanup();
      return;
    }
    leave = cleanup;
  }
  if (focus) view.querySelector('h1')?.focus();
}

async function start() {
  await initLanguage();
  settings = await reference.config();
  document.getElementById('version').textContent = settings.version ? t('footer.version', { version: settings.version }) : '';
  for (const dialog of document.querySelectorAll('dialog')) setupDialog(dialog);
  initAuth();
  const toggle = document.getElementById('lang-toggle');
  toggle.lang = otherLanguage(); // the button's words are in the language it switches to
  toggle.addEventListener('click', () => setLanguage(otherLanguage()));
  document.addEventListener('chiso:language', () => {
    toggle.lang = otherLanguage();
  });
  document.addEventListener('chiso:language', () => show({ focus: false }));
  session.onChange(() => show({ focus: false }));
  window.addEventListener('hashchange', () => show());
  await show({ focus: false });
}

start();
