// Numbers, units, statuses and periods as a person reads them, in the reader's language.
// Offsets from the services count Unicode code points (Python's str), not UTF-16 units.

import { k, locale, t } from './i18n.js';

export function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return '–';
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(Number(value));
}

const BILLION = 1e9;
const MILLION = 1e6;

/** A value with its unit: `2.980.000`, `84,1%`, `4.670 tỷ đồng`. */
export function withUnit(value, unit) {
  if (value === null || value === undefined) return '–';
  switch (unit) {
    case 'percent':
      return `${number(value)}%`;
    case 'VND':
      if (Math.abs(value) >= BILLION) return t('unit.vnd_billion', { n: number(value / BILLION) });
      if (Math.abs(value) >= MILLION) return t('unit.vnd_million', { n: number(value / MILLION) });
      return t('unit.vnd', { n: number(value) });
    case 'USD':
      return t('unit.usd', { n: number(value) });
    case 'per_100_people':
      return t('unit.per_100', { n: number(value) });
    case 'Mbps':
      return `${number(value)} Mbps`;
    case 'km':
      return `${number(value)} km`;
    case 'hours_per_day':
      return t('unit.hours_per_day', { n: number(value) });
    case 'rank':
      return t('unit.rank', { n: number(value, 0) });
    default:
      return number(value);
  }
}

/** A difference between two values: percentage points for a percent. */
export function difference(value, unit) {
  return unit === 'percent' ? t('unit.points', { n: number(value) }) : withUnit(value, unit);
}

export const UNITS = ['count', 'VND', 'USD', 'percent', 'per_100_people', 'Mbps', 'km', 'hours_per_day', 'rank', 'other'];
const UNIT_NAMES = {
  count: k('unit.name.count'),
  VND: k('unit.name.VND'),
  USD: k('unit.name.USD'),
  percent: k('unit.name.percent'),
  per_100_people: k('unit.name.per_100_people'),
  Mbps: k('unit.name.Mbps'),
  km: k('unit.name.km'),
  hours_per_day: k('unit.name.hours_per_day'),
  rank: k('unit.name.rank'),
  other: k('unit.name.other'),
};

export function unitName(unit) {
  return unit in UNIT_NAMES ? t(UNIT_NAMES[unit]) : unit || '–';
}

// Series statuses (SDMX OBS_STATUS) and fact statuses (GUIDELINE).
const STATUS_NAMES = {
  A: k('status.actual'),
  E: k('status.estimate'),
  F: k('status.target'),
  P: k('status.provisional'),
  actual: k('status.actual'),
  estimate: k('status.estimate'),
  target: k('status.target'),
};

export function statusName(status) {
  return status in STATUS_NAMES ? t(STATUS_NAMES[status]) : status || '–';
}

/** Whether a status gets a badge: anything but an actual figure. */
export function flagged(status) {
  return status !== 'A' && status !== 'actual' && status in STATUS_NAMES;
}

export const FACT_STATUSES = ['actual', 'estimate', 'target'];
export const ROLES = ['level', 'change', 'ratio'];
export const BASES = ['previous_period', 'plan', 'other'];
const ROLE_NAMES = { level: k('role.level'), change: k('role.change'), ratio: k('role.ratio') };
const BASIS_NAMES = {
  previous_period: k('basis.previous_period'),
  plan: k('basis.plan'),
  other: k('basis.other'),
};

export function roleName(role) {
  return role in ROLE_NAMES ? t(ROLE_NAMES[role]) : role || '–';
}

export function basisName(basis) {
  return basis in BASIS_NAMES ? t(BASIS_NAMES[basis]) : t('common.none');
}

const DOUBT_NAMES = {
  period_from_publication: k('doubt.period_from_publication'),
  period_from_report: k('doubt.period_from_report'),
  scope_defaulted: k('doubt.scope_defaulted'),
  indicator_weak: k('doubt.indicator_weak'),
  unit_inferred: k('doubt.unit_inferred'),
};

export function doubtName(code) {
  return code in DOUBT_NAMES ? t(DOUBT_NAMES[code]) : code;
}

const REVIEW_NAMES = {
  accept: k('review.mark.accept'),
  correct: k('review.mark.correct'),
  add: k('review.mark.add'),
  reject: k('review.mark.reject'),
};

export function reviewName(action) {
  return action in REVIEW_NAMES ? t(REVIEW_NAMES[action]) : action;
}

const DOCUMENT_STATUSES = {
  queued: k('document.status.queued'),
  extracting: k('document.status.extracting'),
  extracted: k('document.status.extracted'),
  delivered: k('document.status.delivered'),
  failed: k('document.status.failed'),
};

export function documentStatus(status) {
  return status in DOCUMENT_STATUSES ? t(DOCUMENT_STATUSES[status]) : status;
}

export function dateTime(value) {
  if (!value) return '–';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(date);
}

/** `2023` → "năm 2023"; `2023-Q3` → "quý 3/2023"; others as written. */
export function period(text) {
  if (!text) return '–';
  let match = /^(\d{4})$/.exec(text);
  if (match) return t('period.year', { year: match[1] });
  match = /^(\d{4})-Q(\d)$/.exec(text);
  if (match) return t('period.quarter', { year: match[1], quarter: match[2] });
  match = /^(\d{4})-S([12])$/.exec(text);
  if (match) return t(match[2] === '1' ? k('period.half_1') : k('period.half_2'), { year: match[1] });
  match = /^(\d{4})-(\d{2})$/.exec(text);
  if (match) return t('period.month', { year: match[1], month: Number(match[2]) });
  return text;
}

/** `text[start:end]` as Python slices it (code points). */
export function slice(text, start, end) {
  return Array.from(text).slice(start, end).join('');
}

export function codePoints(text) {
  return Array.from(text).length;
}
