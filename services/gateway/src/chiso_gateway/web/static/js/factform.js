// The form of a fact, every field a reviewer may set: to correct a fact the machine read
// (only the fields changed are sent) or to add one it missed (all of them).

import { clear, errorBlock, h, openDialog } from './dom.js';
import * as format from './format.js';
import { t } from './i18n.js';
import * as reference from './reference.js';

const NUMBER_FIELDS = ['value', 'of', 'max'];
// The fields `correct` may change (the contract's list), in the order the form shows them.
export const FIELDS = ['value', 'unit', 'item', 'role', 'basis', 'of', 'max', 'period', 'status', 'indicator', 'scope', 'label'];

function field(name, label, control, hint) {
  control.id = `fact-${name}`;
  control.name = name;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: `fact-${name}-hint` }, hint) : null,
  );
}

function choice(values, selected, labelOf, none) {
  const options = none === undefined ? [] : [new Option(none, '', false, selected === null || selected === undefined)];
  for (const value of values) options.push(new Option(labelOf(value), value, false, value === selected));
  return h('select', {}, options);
}

function text(value, attributes = {}) {
  return h('input', { type: 'text', value: value ?? '', ...attributes });
}

function numberInput(value) {
  // type=number: the browser reads the reader's decimal separator and gives a plain number.
  return h('input', { type: 'number', step: 'any', value: value ?? '', inputmode: 'decimal' });
}

function indicatorControl(value, catalogue) {
  if (!catalogue.length) return text(value, { spellcheck: 'false' });
  const codes = catalogue.map((row) => row.code);
  if (value && !codes.includes(value)) codes.unshift(value);
  return choice(codes, value, (code) => `${reference.indicatorName(code, catalogue)} (${code})`, t('common.none'));
}

function scopeControl(value, areas) {
  const select = h('select', {}, reference.areaOptions(areas, value, { none: t('fact.scope_unknown'), key: 'scope' }));
  select.append(new Option(t('fact.scope_sub'), 'sub', false, value === 'sub'));
  return select;
}

function controls(fact, catalogue, areas) {
  return [
    field('value', t('fact.value'), numberInput(fact.value), t('fact.value_hint')),
    field('unit', t('fact.unit'), choice(format.UNITS, fact.unit, format.unitName)),
    field('item', t('fact.item'), text(fact.item)),
    field('role', t('fact.role'), choice(format.ROLES, fact.role || 'level', format.roleName)),
    field('basis', t('fact.basis'), choice(format.BASES, fact.basis, format.basisName, t('common.none'))),
    field('of', t('fact.of'), numberInput(fact.of)),
    field('max', t('fact.max'), numberInput(fact.max)),
    field('period', t('fact.period'), text(fact.period, { spellcheck: 'false' }), t('fact.period_hint')),
    field('status', t('fact.status'), choice(format.FACT_STATUSES, fact.status || 'actual', format.statusName)),
    field('indicator', t('fact.indicator'), indicatorControl(fact.indicator, catalogue)),
    field('scope', t('fact.scope'), scopeControl(fact.scope, areas)),
    field('label', t('fact.label'), text(fact.label)),
  ];
}

/** What the form holds, in the fact's types (empty → null). */
function read(form) {
  const values = {};
  for (const name of FIELDS) {
    // namedItem: `elements.item` is the collection's method, not the field named "item".
    const raw = form.elements.namedItem(name).value.trim();
    if (NUMBER_FIELDS.includes(name)) values[name] = raw === '' ? null : Number(raw);
    else values[name] = raw === '' ? null : raw;
  }
  return values;
}

export function changedFields(before, after) {
  const changes = {};
  for (const name of FIELDS) {
    const old = before[name] ?? null;
    if (after[name] !== old) changes[name] = after[name];
  }
  return changes;
}

/** Open the dialog. `submit(values, note)` saves; its error is shown in the form. */
export async function openFactForm({ title, intro, fact, submit, submitLabel }) {
  const [catalogue, areas] = await Promise.all([reference.indicators(), reference.sortedAreas()]);
  const dialog = document.getElementById('form-dialog');
  const note = h('textarea', { id: 'fact-note', name: 'note', rows: 2 });
  const problems = h('div', { class: 'problems' });
  const form = h(
    'form',
    { class: 'stack fact-form', novalidate: true },
    intro,
    h('div', { class: 'grid-fields' }, controls(fact, catalogue, areas)),
    h('div', { class: 'field' }, h('label', { for: 'fact-note' }, t('review.note')), note),
    problems,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, submitLabel),
      h('button', { type: 'button', 'data-close': true }, t('common.cancel')),
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = read(form);
    if (values.value === null || Number.isNaN(values.value)) {
      clear(problems, h('p', { class: 'form-error', role: 'alert' }, t('fact.value_needed')));
      form.elements.namedItem('value').focus();
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      await submit(values, note.value.trim() || null);
      dialog.close();
    } catch (error) {
      clear(problems, errorBlock(error));
    } finally {
      button.disabled = false;
    }
  });
  document.getElementById('form-dialog-title').textContent = title;
  clear(document.getElementById('form-dialog-body'), form);
  openDialog(dialog, form.elements.namedItem('value'));
}
