// The trace panel: where a value comes from (GET /v1/trace). The documents that state the
// current value, each sentence with the number marked, and the documents that state another.

import * as api from './api.js';
import { clear, errorBlock, h, openDialog } from './dom.js';
import * as format from './format.js';
import { t } from './i18n.js';
import * as reference from './reference.js';
import * as session from './session.js';

/** The sentence with the number marked; offsets are code points into `sentence.text`. */
export function markedSentence(sentence) {
  const text = sentence.text || '';
  return h(
    'blockquote',
    { class: 'sentence' },
    format.slice(text, 0, sentence.start),
    h('mark', {}, format.slice(text, sentence.start, sentence.end)),
    format.slice(text, sentence.end),
  );
}

function documentLink(source) {
  // The document view needs a scope an anonymous reader does not have: then just its name.
  if (!session.signedIn()) return h('span', { class: 'doc-name' }, source.document);
  return h('a', { href: `#/documents/${source.document_id}`, class: 'doc-name', onclick: () => document.getElementById('trace-dialog').close() }, source.document);
}

function sourceItem(source) {
  const facts = [
    source.published ? t('trace.published', { date: source.published }) : null,
    source.extractor_version ? t('trace.extractor', { version: source.extractor_version }) : null,
    source.reviewed_by ? t('trace.reviewed', { who: source.reviewed_by, when: format.dateTime(source.reviewed_at) }) : t('trace.not_reviewed'),
  ].filter(Boolean);
  return h(
    'li',
    { class: 'trace-source', dataset: { documentId: source.document_id } },
    h('p', { class: 'source-head' }, documentLink(source), h('span', { class: 'muted' }, ` · ${facts.join(' · ')}`)),
    source.sentence ? markedSentence(source.sentence) : h('blockquote', { class: 'sentence' }, h('mark', {}, source.text)),
  );
}

function versionBlock(version, unit) {
  return h(
    'section',
    { class: `trace-version${version.current ? ' current' : ''}` },
    h(
      'h4',
      {},
      format.withUnit(version.value, unit),
      ' ',
      format.flagged(version.status) ? h('span', { class: `badge status-${version.status}` }, format.statusName(version.status)) : null,
      version.current ? h('span', { class: 'badge current' }, t('trace.current_badge')) : null,
    ),
    h('ol', { class: 'trace-sources' }, (version.sources || []).map(sourceItem)),
  );
}

function traceView(trace, { name, unit }) {
  const versions = trace.versions || [];
  const current = versions.filter((version) => version.current);
  const others = versions.filter((version) => !version.current);
  const value = trace.current ? format.withUnit(trace.current.value, unit) : '–';
  return [
    h(
      'p',
      { class: 'trace-what' },
      h('strong', {}, name || reference.indicatorName(trace.indicator)),
      ` · ${reference.areaName(trace.org_unit)} · ${format.period(trace.period)}`,
    ),
    h('p', { class: 'trace-value' }, t('trace.current_value'), ' ', h('strong', {}, value), trace.current && format.flagged(trace.current.status) ? h('span', { class: `badge status-${trace.current.status}` }, format.statusName(trace.current.status)) : null),
    h('h3', {}, t('trace.same_value')),
    current.length ? current.map((version) => versionBlock(version, unit)) : h('p', { class: 'muted' }, t('trace.none')),
    h('h3', {}, t('trace.other_values')),
    others.length ? others.map((version) => versionBlock(version, unit)) : h('p', { class: 'muted' }, t('trace.no_other')),
  ];
}

/** Open the panel for one value: `{indicator, orgUnit, period, name, unit}`. */
export async function openTrace(what) {
  const dialog = document.getElementById('trace-dialog');
  const body = document.getElementById('trace-body');
  clear(body, h('p', { class: 'loading' }, t('common.loading')));
  openDialog(dialog, dialog.querySelector('[data-close]'));
  try {
    const path = api.query('/v1/trace', { indicator: what.indicator, org_unit: what.orgUnit, period: what.period });
    const answer = await api.get(path);
    clear(body, traceView(answer.data ?? answer, what));
  } catch (error) {
    clear(body, errorBlock(error));
  }
}
