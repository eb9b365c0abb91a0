// Data-quality flags: numbers the checks found contradicting each other or out of bounds.
// `flagItem` is a flagged item of the review queue (the rule's message, each figure in its
// sentence, and accept / correct / explain); `page` is #/quality, the open flags counted by
// province, indicator and rule (GET /v1/quality).

import * as api from './api.js';
import { actionButton, clear, confirmDialog, h, notify, pageTitle, showError } from './dom.js';
import { openFactForm, changedFields } from './factform.js';
import * as format from './format.js';
import { k, language, t } from './i18n.js';
import * as reference from './reference.js';
import * as session from './session.js';
import { markedSentence } from './trace.js';

export const page = { title: k('quality.title'), scopes: ['indicators:read'], anonymous: true, render };
const PAGE_SIZE = 100;

const SEVERITIES = {
  error: k('quality.severity.error'),
  warning: k('quality.severity.warning'),
  info: k('quality.severity.info'),
};
const RULES = {
  change_vs_levels: k('quality.rule.change_vs_levels'),
  plan_vs_target: k('quality.rule.plan_vs_target'),
  components_vs_total: k('quality.rule.components_vs_total'),
  conflicting_values: k('quality.rule.conflicting_values'),
  revised_estimate: k('quality.rule.revised_estimate'),
  same_document_values: k('quality.rule.same_document_values'),
  implausible_level: k('quality.rule.implausible_level'),
  implausible_jump: k('quality.rule.implausible_jump'),
  density_vs_count: k('quality.rule.density_vs_count'),
};
const PARTS = {
  stated: k('quality.part.stated'),
  level: k('quality.part.level'),
  previous: k('quality.part.previous'),
  total: k('quality.part.total'),
  component: k('quality.part.component'),
  target: k('quality.part.target'),
  value: k('quality.part.value'),
  density: k('quality.part.density'),
  count: k('quality.part.count'),
};

export function severityName(severity) {
  return severity in SEVERITIES ? t(SEVERITIES[severity]) : severity;
}

export function ruleName(rule) {
  return rule in RULES ? t(RULES[rule]) : rule;
}

function partName(part) {
  return part in PARTS ? t(PARTS[part]) : part || '–';
}

/** The rule's message in the reader's language (the other one if it is missing). */
export function message(flag) {
  const other = language() === 'vi' ? 'en' : 'vi';
  return flag[`message_${language()}`] || flag[`message_${other}`] || '';
}

export function severityBadge(severity) {
  return h('span', { class: `badge flag-badge severity-${severity}` }, severityName(severity));
}

export async function resolve(flagId, body) {
  return api.postJson(`/v1/quality/${encodeURIComponent(flagId)}/resolution`, body);
}

function postReview(documentId, body) {
  return api.postJson(`/v1/documents/${encodeURIComponent(documentId)}/reviews`, body);
}

function failure(key) {
  const error = new Error(t(key));
  error.summary = () => t(key);
  error.details = () => [];
  return error;
}

/** One figure of a flag: its value and, for each source, the document and the sentence; the
 * fact ingest holds for it (if any) is what accept and correct review. */
function figure(view, flag, observation, facts, done) {
  const fact = facts.find((item) => item.observation_id === observation.id);
  const sentenceId = `flag-${flag.id}-figure-${observation.id}`;
  const sources = (observation.sources || []).map((source) => {
    const known = facts.find((item) => item.observation_id === observation.id && item.document_id === source.document_id && item.fact.start === source.start);
    const sentence = h('div', { class: 'sentence-holder' }, h('blockquote', { class: 'sentence' }, h('mark', {}, source.text)));
    if (known) {
      view.texts(source.document_id).then((chars) => {
        if (chars) clear(sentence, markedSentence(view.sentenceAround(chars, source.start, source.end)));
      });
    }
    const name = known ? h('a', { href: `#/documents/${source.document_id}` }, source.document_name) : h('span', { class: 'doc-name' }, source.document_name);
    return h('div', { class: 'flag-source' }, h('p', { class: 'where' }, name, source.published ? h('span', { class: 'muted' }, ` · ${t('trace.published', { date: source.published })}`) : null), sentence);
  });
  const accept = actionButton(t('quality.accept'), async () => {
    if (fact) await postReview(fact.document_id, { action: 'accept', start: fact.fact.start, end: fact.fact.end });
    await resolve(flag.id, { action: 'accept', observation_id: observation.id });
    notify(t('quality.accepted'));
    done();
  }, { class: 'primary', dataset: { action: 'accept' } });
  const buttons = [accept];
  if (fact) {
    const correct = h('button', { type: 'button', dataset: { action: 'correct' } }, t('review.correct'));
    correct.addEventListener('click', () =>
      openFactForm({
        title: t('review.correct_title', { text: fact.fact.text }),
        intro: h('p', { class: 'muted' }, t('quality.correct_intro')),
        fact: fact.fact,
        submitLabel: t('review.save_correction'),
        submit: async (values, note) => {
          const changes = changedFields(fact.fact, values);
          if (!Object.keys(changes).length) throw failure(k('review.no_change'));
          const span = { start: fact.fact.start, end: fact.fact.end };
          await postReview(fact.document_id, { action: 'correct', ...span, changes, note });
          await resolve(flag.id, { action: 'correct', observation_id: observation.id, note });
          notify(t('quality.corrected'));
          done();
        },
      }),
    );
    buttons.push(correct);
  }
  const row = h('div', { class: 'button-row' }, buttons);
  for (const button of row.querySelectorAll('button')) button.setAttribute('aria-describedby', sentenceId);
  return h(
    'li',
    { class: 'flag-figure', dataset: { observationId: observation.id, part: observation.part || '' } },
    h(
      'p',
      { class: 'figure-head', id: sentenceId },
      h('strong', {}, partName(observation.part)),
      ': ',
      h('span', { class: 'figure-value' }, format.withUnit(observation.value, observation.unit)),
      ` · ${format.period(observation.period)} · ${format.statusName(observation.status)}`,
    ),
    sources,
    row,
  );
}

/** A flagged item of the review queue; `removed()` once it is resolved and gone. */
export function flagItem(view, item, removed) {
  const { flag } = item;
  const headingId = `flag-${flag.id}`;
  const entry = h('li', {
    class: 'queue-item flag-item',
    dataset: { flagId: flag.id, rule: flag.rule, severity: flag.severity, indicator: flag.indicator, period: flag.period },
  });
  const done = () => removed(entry);
  const where = `${reference.indicatorName(flag.indicator, view.catalogue)} · ${reference.areaName(flag.area)} · ${format.period(flag.period)}`;
  const explain = actionButton(t('quality.explain'), async () => {
    const note = await confirmDialog(t('quality.explain_title'), t('quality.explain_prompt'), { withNote: true, confirmLabel: t('quality.explain_save') });
    if (note === null) return;
    if (!note) throw failure(k('quality.note_needed'));
    await resolve(flag.id, { action: 'explain', note });
    notify(t('quality.explained'));
    done();
  }, { dataset: { action: 'explain' } });
  explain.setAttribute('aria-describedby', `${headingId}-message`);
  entry.append(
    h('h2', { class: 'flag-head', id: headingId }, severityBadge(flag.severity), ' ', h('span', { class: 'flag-rule' }, ruleName(flag.rule))),
    h('p', { class: 'where flag-where' }, where),
    h('p', { class: 'flag-message', id: `${headingId}-message` }, message(flag)),
    h('ul', { class: 'flag-figures' }, (flag.observations || []).map((observation) => figure(view, flag, observation, item.facts || [], done))),
    h('div', { class: 'button-row review-actions' }, explain),
  );
  return entry;
}

function countTable(caption, counts, name, column) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  if (!rows.length) return null;
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'data-table counts' },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, column), h('th', { scope: 'col', class: 'number' }, t('quality.count')))),
      h('tbody', {}, rows.map(([code, count]) => h('tr', { dataset: { code } }, h('th', { scope: 'row' }, name(code)), h('td', { class: 'number' }, format.number(count, 0))))),
    ),
  );
}

function flagRow(flag, catalogue) {
  return h(
    'tr',
    { dataset: { flagId: flag.id, rule: flag.rule } },
    h('td', {}, severityBadge(flag.severity)),
    h('td', {}, ruleName(flag.rule)),
    h('td', {}, reference.indicatorName(flag.indicator, catalogue)),
    h('td', {}, reference.areaName(flag.area)),
    h('td', {}, format.period(flag.period)),
    h('td', {}, message(flag)),
  );
}

async function render(main, _params, query) {
  const bound = /^\d{2}$/.test(session.area() || '') ? session.area() : '';
  const area = bound || query.get('area') || '';
  const [catalogue, areas] = await Promise.all([reference.indicators(), reference.sortedAreas()]);
  const select = h('select', { id: 'quality-area', disabled: Boolean(bound) }, reference.areaOptions(areas, area, { none: t('review.all_areas') }));
  select.addEventListener('change', () => {
    location.hash = select.value ? `#/quality?area=${select.value}` : '#/quality';
  });
  const summary = h('div', { class: 'quality-counts' });
  const body = h('tbody');
  const list = h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'data-table flags' },
      h('caption', {}, t('quality.open_flags')),
      h('thead', {}, h('tr', {}, [t('quality.severity'), t('quality.rule'), t('fact.indicator'), t('fact.scope'), t('fact.period'), t('quality.message')].map((name) => h('th', { scope: 'col' }, name)))),
      body,
    ),
  );
  const more = h('div', { class: 'more' });
  const total = h('p', { class: 'quality-total', role: 'status' });
  clear(
    main,
    pageTitle(t('quality.title')),
    h('p', { class: 'muted' }, t('quality.intro')),
    h(
      'div',
      { class: 'toolbar' },
      h('div', { class: 'field inline' }, h('label', { for: 'quality-area' }, t('review.filter_area')), select),
      session.hasScope('facts:review') ? h('a', { class: 'button', href: area ? `#/review?scope=${area}` : '#/review' }, t('quality.to_review')) : null,
    ),
    total,
    summary,
    list,
    more,
  );
  const load = async (cursor) => {
    try {
      const answer = await api.get(api.query('/v1/quality', { area, limit: PAGE_SIZE, cursor }));
      if (!cursor) {
        const counts = answer.meta?.counts || {};
        total.textContent = t('quality.total', { count: format.number(answer.meta?.count ?? answer.data.length, 0) });
        clear(
          summary,
          countTable(t('quality.by_area'), counts.area, (code) => reference.areaName(code), t('fact.scope')),
          countTable(t('quality.by_indicator'), counts.indicator, (code) => reference.indicatorName(code, catalogue), t('fact.indicator')),
          countTable(t('quality.by_rule'), counts.rule, ruleName, t('quality.rule')),
        );
      }
      body.append(...answer.data.map((flag) => flagRow(flag, catalogue)));
      if (!body.children.length) list.replaceWith(h('p', { class: 'empty' }, t('quality.none')));
      const next = answer.meta?.next_cursor;
      clear(more, next ? actionButton(t('common.more'), () => load(next)) : null);
    } catch (error) {
      showError(error);
    }
  };
  await load(null);
  return null;
}
