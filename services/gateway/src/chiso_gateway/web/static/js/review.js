// #/review: what needs a reviewer (GET /v1/reviews/queue): data-quality flags first (figures
// that contradict each other, `quality.flagItem`), then the facts no one has looked at yet,
// most doubtful first, each in its sentence, with accept / correct / reject; and the export of
// reviewed facts. The review calls are used by the document view too.

import * as api from './api.js';
import { actionButton, clear, confirmDialog, h, notify, pageTitle, showError } from './dom.js';
import { changedFields, openFactForm } from './factform.js';
import * as format from './format.js';
import { k, t } from './i18n.js';
import { flagItem } from './quality.js';
import * as reference from './reference.js';
import { markedSentence } from './trace.js';

export const page = { title: k('review.title'), scopes: ['facts:review'], render };
const PAGE_SIZE = 20;
const SENTENCE_MAX = 300; // code points either side of a number, at most

export async function postReview(documentId, body) {
  return api.postJson(`/v1/documents/${encodeURIComponent(documentId)}/reviews`, body);
}

/** Offsets of the sentence around [start, end) in `chars` (an array of code points). */
export function sentenceAround(chars, start, end) {
  const stops = (index) => chars[index] === '\n' || ('.!?;'.includes(chars[index]) && /\s/.test(chars[index + 1] || ' '));
  let from = start;
  while (from > 0 && start - from < SENTENCE_MAX && !stops(from - 1)) from -= 1;
  let to = end;
  while (to < chars.length && to - end < SENTENCE_MAX && !stops(to)) to += 1;
  if (to < chars.length && chars[to] !== '\n') to += 1; // keep the full stop
  while (from < start && /\s/.test(chars[from])) from += 1;
  return {
    text: chars.slice(from, to).join(''),
    start: start - from,
    end: end - from,
  };
}

/** accept / correct / reject buttons for one fact; `done(action)` after a review is saved. */
export function reviewButtons(documentId, fact, done) {
  const span = { start: fact.start, end: fact.end };
  const accept = actionButton(t('review.accept'), async () => {
    await postReview(documentId, { action: 'accept', ...span });
    notify(t('review.accepted'));
    done('accept');
  }, { class: 'primary', dataset: { action: 'accept' } });
  const correct = h('button', { type: 'button', dataset: { action: 'correct' } }, t('review.correct'));
  correct.addEventListener('click', () =>
    openFactForm({
      title: t('review.correct_title', { text: fact.text }),
      intro: h('p', { class: 'muted' }, t('review.correct_intro')),
      fact,
      submitLabel: t('review.save_correction'),
      submit: async (values, note) => {
        const changes = changedFields(fact, values);
        if (!Object.keys(changes).length) throw noChange();
        await postReview(documentId, { action: 'correct', ...span, changes, note });
        notify(t('review.corrected'));
        done('correct');
      },
    }),
  );
  const reject = actionButton(t('review.reject'), async () => {
    const note = await confirmDialog(t('review.reject_title'), t('review.reject_confirm', { text: fact.text }), { withNote: true, confirmLabel: t('review.reject') });
    if (note === null) return;
    await postReview(documentId, { action: 'reject', ...span, note: note || null });
    notify(t('review.rejected'));
    done('reject');
  }, { class: 'danger', dataset: { action: 'reject' } });
  return h('div', { class: 'button-row review-actions' }, accept, correct, reject);
}

function noChange() {
  const error = new Error(t('review.no_change'));
  error.summary = () => t('review.no_change');
  error.details = () => [];
  return error;
}

function factSummary(fact, catalogue) {
  const rows = [
    [t('fact.value'), format.withUnit(fact.value, fact.unit)],
    [t('fact.period'), format.period(fact.period)],
    [t('fact.status'), format.statusName(fact.status)],
    [t('fact.indicator'), fact.indicator ? reference.indicatorName(fact.indicator, catalogue) : t('common.none')],
    [t('fact.scope'), fact.scope ? reference.areaName(fact.scope) : t('fact.scope_unknown')],
    [t('fact.role'), fact.role === 'level' ? format.roleName(fact.role) : `${format.roleName(fact.role)} (${format.basisName(fact.basis)})`],
  ];
  return h('dl', { class: 'fact-fields' }, rows.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value))));
}

export function doubtsOf(fact) {
  const doubts = fact.doubts || [];
  return h(
    'div',
    { class: 'doubts' },
    h('p', {}, t('review.confidence', { value: format.number(fact.confidence ?? 1, 2) })),
    doubts.length ? h('ul', {}, doubts.map((code) => h('li', {}, format.doubtName(code)))) : null,
  );
}

/** Take a reviewed (or resolved) item out of the queue, focus on the next one. */
function leaveQueue(entry) {
  const next = entry.nextElementSibling || entry.previousElementSibling;
  const list = entry.parentElement;
  entry.remove();
  if (!list.children.length) list.replaceWith(h('p', { class: 'empty' }, t('review.empty')));
  (next?.querySelector('button') || document.getElementById('main').querySelector('h1'))?.focus();
}

function queueItem(view, item) {
  const { fact } = item;
  // Each item's buttons say the same words: the sentence tells a screen reader which fact.
  const sentenceId = `sentence-${item.document_id}-${fact.start}`;
  const sentence = h('div', { class: 'sentence-holder', id: sentenceId }, h('blockquote', { class: 'sentence' }, h('mark', {}, fact.text)));
  view.texts(item.document_id).then((chars) => {
    if (chars) clear(sentence, markedSentence(sentenceAround(chars, fact.start, fact.end)));
  });
  const entry = h(
    'li',
    { class: 'queue-item', dataset: { documentId: item.document_id, start: fact.start, indicator: fact.indicator || '', period: fact.period, role: fact.role } },
    h('p', { class: 'where' }, h('a', { href: `#/documents/${item.document_id}` }, item.filename), h('span', { class: 'muted' }, ` · ${t('review.position', { start: fact.start })}`)),
    sentence,
    factSummary(fact, view.catalogue),
    doubtsOf(fact),
  );
  const buttons = reviewButtons(item.document_id, fact, () => leaveQueue(entry));
  for (const button of buttons.querySelectorAll('button')) button.setAttribute('aria-describedby', sentenceId);
  entry.append(buttons);
  return entry;
}

async function render(main, _params, query) {
  const documentId = query.get('document_id') || '';
  const texts = new Map();
  const view = {
    catalogue: await reference.indicators(),
    scope: query.get('scope') || '',
    sentenceAround,
    // One read of each document's text for all its facts in the queue.
    texts: (id) => {
      if (!texts.has(id)) texts.set(id, api.get(`/v1/documents/${encodeURIComponent(id)}/view`).then((answer) => Array.from(answer.data.text), () => null));
      return texts.get(id);
    },
  };
  const list = h('ol', { class: 'queue' });
  const more = h('div', { class: 'more' });
  const status = h('div', { class: 'queue-status', role: 'status' });
  view.status = status;
  const areas = await reference.sortedAreas();
  const scope = h('select', { id: 'queue-scope' }, reference.areaOptions(areas, view.scope, { none: t('review.all_areas') }));
  scope.addEventListener('change', () => {
    const search = new URLSearchParams({ ...(documentId && { document_id: documentId }), ...(scope.value && { scope: scope.value }) });
    location.hash = `#/review${search.toString() ? `?${search}` : ''}`;
  });
  clear(
    main,
    pageTitle(t('review.title')),
    h('p', { class: 'muted' }, t('review.intro')),
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: 'queue-scope' }, t('review.filter_area')), scope),
      actionButton(t('review.export'), () => api.download(api.query('/v1/reviews/export', { document_id: documentId }), 'reviewed-facts.jsonl'), { dataset: { download: 'export' } }),
    ),
    documentId ? h('p', { class: 'filter-note' }, t('review.one_document'), ' ', h('a', { href: '#/review' }, t('review.all_documents'))) : null,
    status,
    list,
    more,
  );
  await loadPage(view, list, more, { document_id: documentId, scope: view.scope, limit: PAGE_SIZE });
  return null;
}

async function loadPage(view, list, more, params) {
  try {
    const answer = await api.get(api.query('/v1/reviews/queue', params));
    const { items, cursor } = api.page(answer);
    if (!params.cursor) queueStatus(view.status, answer.meta || {});
    list.append(...items.map((item) => (item.kind === 'quality' ? flagItem(view, item, leaveQueue) : queueItem(view, item))));
    if (!list.children.length) list.replaceWith(h('p', { class: 'empty' }, t('review.empty')));
    clear(more, cursor ? actionButton(t('common.more'), () => loadPage(view, list, more, { ...params, cursor })) : null);
  } catch (error) {
    showError(error);
  }
}

/** How many flags wait (the queue shows the first ones), or that they could not be read. */
function queueStatus(status, meta) {
  if (meta.quality_unavailable) {
    clear(status, h('p', { class: 'filter-note quality-unavailable' }, t('quality.unavailable')));
  } else if (meta.flags) {
    clear(status, h('p', { class: 'filter-note' }, t('quality.queue_count', { count: meta.flags }), ' ', h('a', { href: '#/quality' }, t('quality.see_all'))));
  } else {
    clear(status);
  }
}
