// The trace panel: where a value comes from (GET /v1/trace). The documents that state the
// current value, each sentence with the number marked, and the documents that state another.

import * as api from './api.js';
import { clear, errorBlock, h, openDialog } from './dom.js';
import * as format from './format.js';
import { t } from './i18n.js';
import * as people from './people.js';
import * as reference from './reference.js';
import * as session from './session.js';

/** The sentence with the number marked: `{text, span_start, span_end}`, offsets in code
 * points into `text` (the trace's shape), or `{text, start, end}`. */
export function markedSentence(sentence) {
  const text = sentence.text || '';
  const start = sentence.span_start ?? sentence.start;
  const end = sentence.span_end ?? sentence.end;
  return h(
    'blockquote',
    { class: 'sentence' },
    sentence.truncated && start > 0 ? '… ' : '',
    format.slice(text, 0, start),
    h('mark', {}, format.slice(text, start, end)),
    format.slice(text, end),
    sentence.truncated ? ' …' : '',
  );
}

function documentLink(source) {
  // The document view needs a scope an anonymous reader does not have: then just its name.
  const name = source.document_name;
  if (!session.signedIn()) return h('span', { class: 'doc-name' }, name);
  const close = () => document.getElementById('trace-dialog').close();
  return h('a', { href: `#/documents/${source.document_id}`, class: 'doc-name', onclick: close }, name);
}

function sourceItem(source) {
  const facts = [
    source.published ? t('trace.published', { date: source.published }) : null,
    source.extractor_version ? t('trace.extractor', { version: source.extractor_version }) : null,
    source.reviewed_by
      ? t('trace.reviewed', { action: format.reviewName(source.review_action), who: people.nameOf(source.reviewed_by), when: format.dateTime(source.reviewed_at) })
      : t('trace.not_reviewed'),
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

/** `{indicator, name, unit, area, area_name, period, versions, same_value,
 * other_value}`: the versions that state the served value first, then the others. */
function traceView(trace, truncated) {
  const versions = trace.versions || [];
  const served = versions.find((version) => version.current);
  const same = versions.filter((version) => served && version.value === served.value);
  const others = versions.filter((version) => !same.includes(version));
  return [
    h('p', { class: 'trace-what' }, h('strong', {}, trace.name), ` · ${trace.area_name || reference.areaName(trace.area)} · ${format.period(trace.period)}`),
    h(
      'p',
      { class: 'trace-value' },
      t('trace.current_value'),
      ' ',
      h('strong', {}, served ? format.withUnit(served.value, trace.unit) : '–'),
      served && format.flagged(served.status) ? h('span', { class: `badge status-${served.status}` }, format.statusName(served.status)) : null,
    ),
    h('h3', {}, t('trace.same_value')),
    same.length ? same.map((version) => versionBlock(version, trace.unit)) : h('p', { class: 'muted' }, t('trace.none')),
    h('h3', {}, t('trace.other_values')),
    others.length ? others.map((version) => versionBlock(version, trace.unit)) : h('p', { class: 'muted' }, t('trace.no_other')),
    truncated ? h('p', { class: 'muted' }, t('trace.truncated')) : null,
  ];
}

/** Open the panel for one value: `{indicator, area, period}`. */
export async function openTrace(what) {
  const dialog = document.getElementById('trace-dialog');
  const body = document.getElementById('trace-body');
  clear(body, h('p', { class: 'loading' }, t('common.loading')));
  openDialog(dialog, dialog.querySelector('[data-close]'));
  try {
    const path = api.query('/v1/trace', { indicator: what.indicator, area: what.area, period: what.period });
    const answer = await api.get(path);
    clear(body, traceView(answer.data, answer.meta?.truncated));
  } catch (error) {
    clear(body, errorBlock(error));
  }
}
