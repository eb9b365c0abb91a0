// #/documents: the uploaded reports (GET /v1/documents) and the upload form, each upload's
// status followed live until its facts are delivered (or it fails).
// #/documents/{id}: the report's text with every fact it gave marked; reviewers review a
// fact there, or select a number the reader missed and add it.

import * as api from './api.js';
import { actionButton, clear, h, notify, pageTitle, showError } from './dom.js';
import { openFactForm } from './factform.js';
import * as format from './format.js';
import { k, t } from './i18n.js';
import * as people from './people.js';
import * as reference from './reference.js';
import { doubtsOf, postReview, reviewButtons } from './review.js';
import * as session from './session.js';

export const listPage = { title: k('documents.title'), scopes: ['documents:write', 'facts:review'], render: renderList };
export const viewPage = { title: k('document.title'), scopes: ['indicators:read', 'documents:write', 'facts:review'], render: renderView };

const POLL_MS = 1000;
const FINAL = new Set(['delivered', 'failed']);
const ACCEPT = '.txt,.md,.html,.htm,.xhtml,.docx,.pdf,text/plain,text/markdown,text/html,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document';

function statusBadge(status, error) {
  return h('span', { class: `doc-status status-${status}`, dataset: { status }, title: error || null }, format.documentStatus(status));
}

// ---------------------------------------------------------------- the list and the upload

async function renderList(main) {
  const timers = new Set();
  const rows = h('tbody', {});
  const more = h('div', { class: 'more' });
  const uploads = h('ul', { class: 'uploads', 'aria-live': 'polite' });
  const refresh = () => {
    rows.replaceChildren();
    return loadDocuments(rows, more, {}).catch(showError);
  };
  clear(
    main,
    pageTitle(t('documents.title')),
    session.hasScope('documents:write') ? await uploadSection(uploads, timers, refresh) : h('p', { class: 'gate' }, t('upload.no_scope')),
    h(
      'section',
      { 'aria-labelledby': 'documents-heading' },
      h('div', { class: 'section-head' }, h('h2', { id: 'documents-heading' }, t('documents.list')), actionButton(t('common.refresh'), refresh)),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'data-table documents' },
          h('thead', {}, h('tr', {}, [k('documents.col.file'), k('documents.col.status'), k('documents.col.facts'), k('documents.col.reviewed'), k('documents.col.by'), k('documents.col.when')].map((key) => h('th', { scope: 'col' }, t(key))))),
          rows,
        ),
      ),
      more,
    ),
  );
  await refresh();
  return () => {
    for (const timer of timers) clearTimeout(timer);
  };
}

async function loadDocuments(rows, more, params) {
  const { items, cursor } = api.page(await api.get(api.query('/v1/documents', { limit: 50, ...params })));
  rows.append(...items.map(documentRow));
  if (!rows.children.length) rows.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, t('documents.empty'))));
  clear(more, cursor ? actionButton(t('common.more'), () => loadDocuments(rows, more, { ...params, cursor })) : null);
}

function documentRow(doc) {
  return h(
    'tr',
    { dataset: { documentId: doc.id } },
    h('th', { scope: 'row' }, h('a', { href: `#/documents/${doc.id}` }, doc.title || doc.filename), doc.title ? h('span', { class: 'muted block' }, doc.filename) : null),
    h('td', {}, statusBadge(doc.status)),
    h('td', { class: 'number' }, format.number(doc.fact_count)),
    h('td', { class: 'number' }, format.number(doc.reviewed_count ?? 0)),
    h('td', {}, people.person(doc.uploaded_by)),
    h('td', {}, format.dateTime(doc.created_at)),
  );
}

async function uploadSection(uploads, timers, refresh) {
  const areas = await reference.sortedAreas();
  const file = h('input', { id: 'upload-file', name: 'file', type: 'file', accept: ACCEPT, multiple: true, required: true, 'aria-describedby': 'upload-file-hint' });
  const scope = h('select', { id: 'upload-scope', name: 'scope' }, reference.areaOptions(areas.filter((row) => row.level === 'province' || row.code === 'VN'), '', { none: t('upload.scope_default') }));
  const form = h(
    'form',
    { class: 'upload-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'upload-file' }, t('upload.file')), file, h('p', { class: 'hint', id: 'upload-file-hint' }, t('upload.file_hint'))),
    h('div', { class: 'field' }, h('label', { for: 'upload-title' }, t('upload.title_field')), h('input', { id: 'upload-title', name: 'title', type: 'text' })),
    h('div', { class: 'field' }, h('label', { for: 'upload-published' }, t('upload.published')), h('input', { id: 'upload-published', name: 'published', type: 'date' })),
    h('div', { class: 'field' }, h('label', { for: 'upload-scope' }, t('upload.scope')), scope),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('upload.submit'))),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitUploads(form, uploads, timers, refresh);
  });
  return h('section', { 'aria-labelledby': 'upload-heading', class: 'upload' }, h('h2', { id: 'upload-heading' }, t('upload.heading')), form, uploads);
}

async function submitUploads(form, uploads, timers, refresh) {
  const files = [...form.elements.file.files];
  if (!files.length) {
    notify(t('upload.choose'));
    form.elements.file.focus();
    return;
  }
  const most = (await reference.config()).max_upload_bytes;
  const large = files.filter((file) => most && file.size > most);
  if (large.length) {
    notify(t('upload.too_large', { files: large.map((file) => file.name).join(', '), mb: format.number(most / 1048576, 1) }));
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    for (const file of files) await uploadOne(form, file, uploads, timers, refresh);
    form.reset();
  } finally {
    button.disabled = false;
  }
}

async function uploadOne(form, file, uploads, timers, refresh) {
  const status = h('span', {}, statusBadge('queued'));
  const line = h('li', { class: 'upload-line', dataset: { filename: file.name } }, h('span', { class: 'filename' }, file.name), ' ', status);
  uploads.prepend(line);
  const body = new FormData();
  body.append('file', file, file.name);
  for (const name of ['title', 'published', 'scope']) {
    const value = form.elements[name].value.trim();
    if (value) body.append(name, value);
  }
  try {
    const answer = await (await api.call('/v1/documents', { method: 'POST', body })).json();
    const id = answer.data.id;
    line.dataset.documentId = id;
    line.append(' ', h('a', { href: `#/documents/${id}` }, t('upload.open')));
    if (answer.data.duplicate) line.append(' ', h('span', { class: 'muted' }, t('upload.duplicate')));
    follow(id, status, timers, refresh);
  } catch (error) {
    clear(status, statusBadge('failed'), ' ', error.summary ? error.summary() : String(error));
    showError(error);
  }
}

/** Poll the document's status until it is final, showing each change. */
function follow(id, status, timers, refresh) {
  const tick = async () => {
    try {
      const doc = (await api.get(`/v1/documents/${encodeURIComponent(id)}`)).data;
      clear(status, statusBadge(doc.status, doc.error), doc.status === 'delivered' ? ` ${t('upload.facts', { count: doc.fact_count })}` : '', doc.error ? h('span', { class: 'error-text' }, ` ${doc.error}`) : null);
      if (FINAL.has(doc.status)) {
        notify(t('upload.finished', { status: format.documentStatus(doc.status) }));
        refresh();
        return;
      }
    } catch (error) {
      if (error.status === 401 || error.status === 403) return showError(error);
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      tick();
    }, POLL_MS);
    timers.add(timer);
  };
  tick();
}

// ---------------------------------------------------------------- one document, its facts

async function renderView(main, [id]) {
  // The tooltip lives in the view, inside <main>: outside every landmark, a screen reader's
  // landmark navigation would never reach it (axe's `region`).
  const tip = h('div', { id: 'fact-tip', class: 'fact-tip', role: 'tooltip', hidden: true });
  const view = { id, catalogue: await reference.indicators(), tip };
  await reference.areas();
  let answer;
  try {
    answer = (await api.get(`/v1/documents/${encodeURIComponent(id)}/view`)).data;
  } catch (error) {
    clear(main, pageTitle(t('document.title')), h('p', { class: 'empty' }, error.summary ? error.summary() : t('error.generic')));
    showError(error);
    return null;
  }
  Object.assign(view, answer, { chars: Array.from(answer.text) });
  const reviewer = session.hasScope('facts:review');
  const detail = h('aside', { class: 'fact-detail', 'aria-live': 'polite', id: 'fact-detail' }, h('p', { class: 'muted' }, t('document.pick_fact')));
  const add = h('button', { type: 'button', class: 'primary', disabled: true, id: 'add-fact' }, t('document.add_fact'));
  const text = h('div', { class: 'doc-text', id: 'doc-text', lang: 'vi' }, textWithMarks(view, detail, reviewer));
  clear(
    main,
    pageTitle(answer.document.title || answer.document.filename),
    documentMeta(answer.document, answer.facts),
    h('p', { class: 'legend' }, h('span', { class: 'fact sample' }, '123'), ` ${t('document.legend_fact')} `, h('span', { class: 'fact sample reviewed' }, '123'), ` ${t('document.legend_reviewed')} `, h('span', { class: 'fact sample doubtful' }, '123'), ` ${t('document.legend_doubtful')}`),
    reviewer ? reviewerTools(view, add) : null,
    h('div', { class: 'doc-layout' }, text, detail),
    tip,
  );
  const stop = reviewer ? watchSelection(view, text, add) : () => {};
  const unwire = wireTip(view);
  return () => {
    stop();
    unwire();
    hideTip(view);
  };
}

function documentMeta(doc, facts) {
  const rows = [
    [t('document.file'), doc.filename],
    [t('document.status'), statusBadge(doc.status)],
    [t('document.scope'), doc.scope ? reference.areaName(doc.scope) : '–'],
    [t('document.published'), doc.published || '–'],
    [t('document.extractor'), doc.extractor_version || '–'],
    [t('document.uploaded_by'), people.person(doc.uploaded_by)],
    [t('document.created'), format.dateTime(doc.created_at)],
    [t('document.facts'), format.number(facts.length)],
  ];
  return h('dl', { class: 'meta' }, rows.map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value))));
}

function reviewerTools(view, add) {
  return h(
    'div',
    { class: 'toolbar' },
    h('p', { class: 'hint', id: 'add-fact-hint' }, t('document.add_hint')),
    add,
    h('a', { href: `#/review?document_id=${encodeURIComponent(view.id)}`, class: 'button' }, t('document.review_queue')),
  );
}

/** The text as runs of plain text and fact buttons, each run knowing its code-point offset. */
function textWithMarks(view, detail, reviewer) {
  const parts = [];
  let at = 0;
  const facts = [...view.facts].sort((a, b) => a.start - b.start);
  for (const fact of facts) {
    if (fact.start < at || fact.end > view.chars.length) continue; // overlapping: first wins
    if (fact.start > at) parts.push(h('span', { dataset: { offset: at } }, view.chars.slice(at, fact.start).join('')));
    parts.push(factMark(view, fact, detail, reviewer));
    at = fact.end;
  }
  if (at < view.chars.length) parts.push(h('span', { dataset: { offset: at } }, view.chars.slice(at).join('')));
  return parts;
}

function factMark(view, fact, detail, reviewer) {
  const classes = ['fact', fact.review ? 'reviewed' : '', (fact.confidence ?? 1) < 1 ? 'doubtful' : ''].filter(Boolean).join(' ');
  const mark = h(
    'button',
    { type: 'button', class: classes, dataset: { offset: fact.start, start: fact.start, end: fact.end, indicator: fact.indicator || '', period: fact.period, role: fact.role }, 'aria-describedby': 'fact-tip' },
    fact.text,
  );
  const show = () => {
    clearTimeout(view.tipTimer);
    showTip(view, mark, fact);
  };
  mark.addEventListener('mouseenter', show);
  mark.addEventListener('focus', show);
  mark.addEventListener('mouseleave', () => document.activeElement !== mark && hideSoon(view));
  mark.addEventListener('blur', () => hideTip(view));
  mark.addEventListener('click', () => {
    show(); // a tap has no hover: the click shows the tip and pins the details
    for (const other of document.querySelectorAll('.fact[aria-pressed]')) other.removeAttribute('aria-pressed');
    mark.setAttribute('aria-pressed', 'true');
    clear(detail, factDetail(view, fact, reviewer));
  });
  return mark;
}

function factLines(view, fact) {
  const review = fact.review
    ? t('document.review_mark', { action: format.reviewName(fact.review.action), who: people.nameOf(fact.review.by), when: format.dateTime(fact.review.at) })
    : t('document.not_reviewed');
  return [
    [t('fact.value'), `${format.withUnit(fact.value, fact.unit)}${fact.item ? ` ${fact.item}` : ''}`],
    [t('fact.unit'), format.unitName(fact.unit)],
    [t('fact.period'), format.period(fact.period)],
    [t('fact.status'), format.statusName(fact.status)],
    [t('fact.scope'), fact.scope ? reference.areaName(fact.scope) : t('fact.scope_unknown')],
    [t('fact.indicator'), fact.indicator ? reference.indicatorName(fact.indicator, view.catalogue) : t('common.none')],
    [t('fact.role'), fact.role === 'level' ? format.roleName(fact.role) : `${format.roleName(fact.role)} (${format.basisName(fact.basis)})`],
    [t('document.extractor'), view.document.extractor_version || '–'],
    [t('document.review'), review],
  ];
}

function factList(view, fact) {
  return h('dl', { class: 'fact-fields' }, factLines(view, fact).map(([name, value]) => h('div', {}, h('dt', {}, name), h('dd', {}, value))));
}

function showTip(view, mark, fact) {
  const tip = view.tip;
  clear(tip, factList(view, fact));
  view.tipMark = mark;
  tip.hidden = false;
  const box = mark.getBoundingClientRect();
  const width = Math.min(320, window.innerWidth - 16);
  tip.style.width = `${width}px`;
  tip.style.left = `${Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + window.innerWidth - width - 8))}px`;
  tip.style.top = `${box.bottom + window.scrollY + 6}px`;
}

function hideTip(view) {
  clearTimeout(view.tipTimer);
  view.tip.hidden = true;
}

// WCAG 1.4.13 (content on hover): the pointer may move from a mark onto its tooltip and
// stay there to read it, so leaving a mark hides the tip only after a moment, unless the
// pointer has reached the tip (or another mark) by then.
const TIP_GRACE_MS = 400;

function hideSoon(view) {
  clearTimeout(view.tipTimer);
  view.tipTimer = setTimeout(() => hideTip(view), TIP_GRACE_MS);
}

/** The tip's own pointer handling, and Escape anywhere to dismiss it (a tip shown by hover
 * has no focus to take a key); returns what undoes it. */
function wireTip(view) {
  view.tip.addEventListener('mouseenter', () => clearTimeout(view.tipTimer));
  view.tip.addEventListener('mouseleave', () => document.activeElement !== view.tipMark && hideSoon(view));
  const escape = (event) => event.key === 'Escape' && !view.tip.hidden && hideTip(view);
  document.addEventListener('keydown', escape);
  return () => document.removeEventListener('keydown', escape);
}

function factDetail(view, fact, reviewer) {
  return [
    h('h2', {}, t('document.fact_heading', { text: fact.text })),
    factList(view, fact),
    doubtsOf(fact),
    reviewer ? reviewButtons(view.id, fact, reload) : null,
  ];
}

function reload() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

// ---------------------------------------------------------------- adding a missed fact

/** The code-point offset of a DOM position inside the text (`null` outside it). */
function offsetOf(text, node, offset) {
  if (!text.contains(node)) return null;
  if (node.nodeType === Node.TEXT_NODE) {
    const run = node.parentElement.closest('[data-offset]');
    return Number(run.dataset.offset) + format.codePoints(node.data.slice(0, offset));
  }
  const child = node.childNodes[offset];
  if (child?.dataset?.offset !== undefined) return Number(child.dataset.offset);
  const run = node.closest?.('[data-offset]');
  return run ? Number(run.dataset.offset) + format.codePoints(run.textContent) : null;
}

function selectedSpan(view, text) {
  const selection = document.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  let start = offsetOf(text, range.startContainer, range.startOffset);
  let end = offsetOf(text, range.endContainer, range.endOffset);
  if (start === null || end === null) return null;
  while (start < end && /\s/.test(view.chars[start])) start += 1;
  while (end > start && /\s/.test(view.chars[end - 1])) end -= 1;
  if (end <= start || end - start > 200) return null;
  const overlaps = view.facts.some((fact) => fact.start < end && start < fact.end);
  return { start, end, text: view.chars.slice(start, end).join(''), overlaps };
}

function watchSelection(view, text, add) {
  let span = null;
  const update = () => {
    span = selectedSpan(view, text);
    add.disabled = !span || span.overlaps;
    add.title = span?.overlaps ? t('document.add_overlaps') : '';
  };
  document.addEventListener('selectionchange', update);
  add.addEventListener('click', () => span && !span.overlaps && addFact(view, { ...span }));
  return () => document.removeEventListener('selectionchange', update);
}

/** A number as the report writes it: `2.980.000` and `4,44` are Vietnamese; `4.44` English. */
export function parseNumber(written) {
  const digits = written.replace(/[^\d.,-]/g, '');
  if (/^-?\d{1,3}(\.\d{3})+(,\d+)?$/.test(digits) || /^-?\d+,\d+$/.test(digits)) return Number(digits.replace(/\./g, '').replace(',', '.'));
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(digits)) return Number(digits.replace(/,/g, ''));
  const value = Number(digits);
  return Number.isNaN(value) ? null : value;
}

function guessedFact(view, span) {
  const after = view.chars.slice(span.end, span.end + 3).join('');
  const periods = view.facts.map((fact) => fact.period);
  const commonest = periods.sort((a, b) => periods.filter((p) => p === b).length - periods.filter((p) => p === a).length)[0];
  return {
    value: parseNumber(span.text),
    unit: /^\s?%/.test(after) || span.text.includes('%') ? 'percent' : 'count',
    role: 'level',
    period: commonest || (view.document.published || '').slice(0, 4),
    status: 'actual',
    scope: view.document.scope || null,
  };
}

function addFact(view, span) {
  openFactForm({
    title: t('document.add_title', { text: span.text }),
    intro: h('p', { class: 'muted' }, t('document.add_intro', { text: span.text })),
    fact: guessedFact(view, span),
    submitLabel: t('document.add_submit'),
    submit: async (values, note) => {
      const fact = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null));
      await postReview(view.id, { action: 'add', start: span.start, end: span.end, fact, note });
      notify(t('document.added'));
      reload();
    },
  });
}
