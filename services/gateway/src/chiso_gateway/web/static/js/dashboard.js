// #/ and #/dashboard/38 (an area code): one province's key figures (cards), each key indicator across
// periods (a chart and the same numbers as a table), provinces side by side, downloads.

import * as api from './api.js';
import { COLOURS, lineChart } from './charts.js';
import { actionButton, clear, h, pageTitle, showError } from './dom.js';
import * as format from './format.js';
import { k, t } from './i18n.js';
import * as reference from './reference.js';
import * as session from './session.js';
import { message, severityBadge } from './quality.js';
import { openTrace } from './trace.js';

export const page = {
  title: k('dashboard.title'),
  scopes: ['indicators:read'],
  anonymous: true, // readable without a token when the gateway's anonymous tier is on
  render,
};

const AREA_KEY = 'chiso.area';
const FALLBACK_AREA = '01';

function remembered() {
  try {
    return localStorage.getItem(AREA_KEY) || '';
  } catch {
    return '';
  }
}

function remember(code) {
  try {
    localStorage.setItem(AREA_KEY, code);
  } catch {
    // only this visit then
  }
}

async function render(main, [routeArea]) {
  const area = routeArea || remembered() || session.area() || FALLBACK_AREA;
  remember(area);
  const view = { area, charts: [], controller: new AbortController(), catalogue: [] };
  const [areas, catalogue] = await Promise.all([reference.sortedAreas(), reference.indicators()]);
  view.catalogue = catalogue;
  view.areas = areas;
  const cards = h('div', { class: 'cards-holder' }, h('p', { class: 'loading' }, t('common.loading')));
  const charts = h('div', { class: 'charts' });
  const compare = h('div', { class: 'compare-holder' });
  clear(
    main,
    pageTitle(t('dashboard.heading', { area: reference.areaName(area) })),
    toolbar(view),
    h('section', { 'aria-labelledby': 'cards-heading' }, h('h2', { id: 'cards-heading' }, t('dashboard.latest')), cards),
    h('section', { 'aria-labelledby': 'charts-heading' }, h('h2', { id: 'charts-heading' }, t('dashboard.trends')), h('p', { class: 'muted' }, t('dashboard.trends_hint')), charts),
    h('section', { 'aria-labelledby': 'compare-heading' }, h('h2', { id: 'compare-heading' }, t('compare.title')), compare),
  );
  loadSummary(view, cards, charts, compare).catch((error) => {
    if (error.name !== 'AbortError') {
      clear(cards, h('p', { class: 'empty' }, t('dashboard.failed')));
      showError(error);
    }
  });
  return () => {
    view.controller.abort();
    for (const chart of view.charts) chart.destroy();
  };
}

function toolbar(view) {
  const select = h('select', { id: 'area-picker', name: 'area' }, reference.areaOptions(view.areas, view.area));
  select.addEventListener('change', () => {
    location.hash = `#/dashboard/${select.value}`;
  });
  const summaryPath = (kind) => api.query(`/v1/areas/${view.area}/summary`, { format: kind });
  return h(
    'div',
    { class: 'toolbar' },
    h('div', { class: 'field inline' }, h('label', { for: 'area-picker' }, t('dashboard.province')), select),
    h(
      'div',
      { class: 'button-row', role: 'group', 'aria-label': t('dashboard.download_summary') },
      actionButton(t('download.csv'), () => api.download(summaryPath('csv'), `chiso-${view.area}.csv`), { dataset: { download: 'summary-csv' } }),
      actionButton(t('download.xlsx'), () => api.download(summaryPath('xlsx'), `chiso-${view.area}.xlsx`), { dataset: { download: 'summary-xlsx' } }),
    ),
  );
}

async function loadSummary(view, cards, charts, compare) {
  const summary = (await api.get(`/v1/areas/${view.area}/summary`, { signal: view.controller.signal })).data;
  const rows = summary.indicators;
  if (!rows.length) {
    clear(cards, h('p', { class: 'empty' }, t('dashboard.empty', { area: reference.areaName(view.area) })));
    clear(charts);
  } else {
    clear(cards, h('ul', { class: 'cards' }, rows.map((row) => card(view, row))));
    clear(charts, rows.map((row) => chartFigure(view, row)));
  }
  clear(compare, compareForm(view, rows));
}

function changeText(row) {
  const change = row.change;
  if (!change) return h('p', { class: 'change muted' }, t('card.no_previous'));
  const sign = change.absolute > 0 ? '+' : change.absolute < 0 ? '−' : '±';
  const direction = change.absolute > 0 ? 'up' : change.absolute < 0 ? 'down' : 'flat';
  const percent = change.percent === null ? '' : ` (${sign}${format.number(Math.abs(change.percent))}%)`;
  return h(
    'p',
    { class: `change ${direction}` },
    h('span', { class: 'arrow', 'aria-hidden': 'true' }, { up: '▲', down: '▼', flat: '■' }[direction]),
    ' ',
    t('card.change', {
      period: format.period(change.previous_period),
      change: `${sign}${format.difference(Math.abs(change.absolute), row.unit)}${percent}`,
    }),
  );
}

function card(view, row) {
  const reported = row.reported_change_percent;
  return h(
    'li',
    { class: 'card', dataset: { indicator: row.indicator } },
    h('h3', {}, row.name),
    h('p', { class: 'value' }, format.withUnit(row.value, row.unit)),
    h(
      'p',
      { class: 'period' },
      format.period(row.period),
      format.flagged(row.status) ? h('span', { class: `badge status-${row.status}` }, format.statusName(row.status)) : null,
    ),
    changeText(row),
    reported === null || reported === undefined
      ? null
      : h('p', { class: 'reported' }, t('card.reported', { percent: `${reported > 0 ? '+' : ''}${format.number(reported)}%` })),
    ...openFlags(row).map((note) => h('p', { class: 'card-flag', dataset: { rule: note.rule } }, severityBadge(note.severity), ' ', message(note))),
    h(
      'p',
      { class: 'card-source' },
      h('button', { type: 'button', class: 'link', onclick: () => traceOf(view, row, row.period) }, t('card.sources')),
    ),
  );
}

/** The open data-quality flags of a card's value: shown on the card, so nobody reads a figure
 *  the checks doubt without knowing it. */
function openFlags(row) {
  return (row.quality || []).filter((note) => note.status === 'open');
}

function traceOf(view, row, period) {
  openTrace({ indicator: row.indicator, area: view.area, period, name: row.name, unit: row.unit });
}

/** The series' points of one frequency: annual when there are any, else the commonest. */
function oneFrequency(points) {
  const kind = (point) => (/^\d{4}$/.test(point.period) ? 'A' : point.period.replace(/\d/g, '#'));
  const groups = new Map();
  for (const point of points) {
    const key = kind(point);
    groups.set(key, [...(groups.get(key) || []), point]);
  }
  const chosen = groups.get('A') || [...groups.values()].sort((a, b) => b.length - a.length)[0] || [];
  return [...chosen].sort((a, b) => a.period.localeCompare(b.period));
}

function chartFigure(view, row) {
  const canvas = h('canvas', { role: 'img', 'aria-label': t('chart.label', { name: row.name }) });
  const table = h('div', { class: 'table-holder' });
  const figure = h(
    'figure',
    { class: 'chart', dataset: { indicator: row.indicator } },
    h('figcaption', {}, h('h3', {}, row.name), h('span', { class: 'muted' }, format.unitName(row.unit))),
    h('div', { class: 'canvas-holder' }, canvas),
    h('details', {}, h('summary', {}, t('chart.table')), table),
  );
  loadSeries(view, row, canvas, table).catch((error) => {
    if (error.name !== 'AbortError') clear(table, h('p', { class: 'empty' }, error.summary ? error.summary() : t('error.generic')));
  });
  return figure;
}

async function loadSeries(view, row, canvas, table) {
  const path = api.query(`/v1/indicators/${encodeURIComponent(row.indicator)}/series`, { area: view.area });
  const points = oneFrequency((await api.get(path, { signal: view.controller.signal })).data.observations);
  const estimate = (index) => format.flagged(points[index]?.status);
  const chart = lineChart(canvas, {
    labels: points.map((point) => point.period),
    datasets: [
      {
        label: row.name,
        data: points.map((point) => point.value),
        borderColor: COLOURS[0],
        backgroundColor: COLOURS[0],
        pointRadius: 6,
        pointHoverRadius: 8,
        pointStyle: points.map((point) => (format.flagged(point.status) ? 'rectRot' : 'circle')),
        segment: { borderDash: (context) => (estimate(context.p1DataIndex) ? [6, 4] : undefined) },
      },
    ],
    format: (value, item) => `${format.withUnit(value, row.unit)}${estimate(item.dataIndex) ? ` (${format.statusName(points[item.dataIndex].status)})` : ''}`,
    onPoint: (_dataset, index) => traceOf(view, row, points[index].period),
  });
  view.charts.push(chart);
  canvas.setAttribute('aria-label', t('chart.label_values', { name: row.name, values: points.map((point) => `${format.period(point.period)}: ${format.withUnit(point.value, row.unit)}`).join('; ') }));
  clear(table, seriesTable(view, row, points));
}

function seriesTable(view, row, points) {
  return h(
    'table',
    { class: 'data-table' },
    h('caption', { class: 'visually-hidden' }, row.name),
    h('thead', {}, h('tr', {}, [t('table.period'), t('table.value'), t('table.status'), t('table.source')].map((name) => h('th', { scope: 'col' }, name)))),
    h(
      'tbody',
      {},
      points.map((point) =>
        h(
          'tr',
          { dataset: { period: point.period } },
          h('th', { scope: 'row' }, format.period(point.period)),
          h('td', { class: 'number' }, format.withUnit(point.value, row.unit)),
          h('td', {}, format.statusName(point.status)),
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => traceOf(view, row, point.period) }, point.sources?.[0]?.document || t('card.sources'))),
        ),
      ),
    ),
  );
}

function compareForm(view, rows) {
  const indicatorCodes = rows.length ? rows.map((row) => row.indicator) : view.catalogue.map((row) => row.code);
  const indicator = h(
    'select',
    { id: 'compare-indicator', name: 'indicator' },
    indicatorCodes.map((code) => new Option(reference.indicatorName(code, view.catalogue), code)),
  );
  const provinces = view.areas.filter((row) => row.level === 'province' && row.current).sort((a, b) => (b.code === view.area) - (a.code === view.area));
  const boxes = provinces.map((row) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name: 'areas', value: row.code, checked: row.code === view.area }),
      ` ${reference.areaName(row.code)}`,
    ),
  );
  const result = h('div', { class: 'compare-result', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'compare-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'compare-indicator' }, t('compare.indicator')), indicator),
    h('fieldset', { class: 'provinces' }, h('legend', {}, t('compare.provinces')), h('div', { class: 'check-list' }, boxes)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('compare.submit'))),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = [...form.querySelectorAll('input[name=areas]:checked')].map((box) => box.value);
    const most = (await reference.config()).compare_max_areas;
    if (!chosen.length || (most && chosen.length > most)) {
      clear(result, h('p', { class: 'form-error', role: 'alert' }, chosen.length ? t('compare.too_many', { most }) : t('compare.choose')));
      return;
    }
    await showComparison(view, indicator.value, chosen, result).catch(showError);
  });
  return h('div', {}, form, result);
}

async function showComparison(view, indicator, codes, result) {
  const params = { indicator, areas: codes.join(',') };
  const data = (await api.get(api.query('/v1/compare', params), { signal: view.controller.signal })).data;
  const canvas = h('canvas', { role: 'img', 'aria-label': t('compare.chart_label', { name: data.name }) });
  const path = (kind) => api.query('/v1/compare', { ...params, format: kind });
  clear(
    result,
    h('h3', {}, data.name),
    h(
      'div',
      { class: 'button-row', role: 'group', 'aria-label': t('compare.download') },
      actionButton(t('download.csv'), () => api.download(path('csv'), `chiso-${indicator}.csv`), { dataset: { download: 'compare-csv' } }),
      actionButton(t('download.xlsx'), () => api.download(path('xlsx'), `chiso-${indicator}.xlsx`), { dataset: { download: 'compare-xlsx' } }),
    ),
    h('div', { class: 'canvas-holder' }, canvas),
    compareTable(data),
  );
  const datasets = data.areas.map((unit, index) => ({
    label: unit.name || unit.area,
    data: data.periods.map((period) => unit.observations.find((point) => point.period === period)?.value ?? null),
    borderColor: COLOURS[index % COLOURS.length],
    backgroundColor: COLOURS[index % COLOURS.length],
    pointRadius: 5,
    spanGaps: true,
  }));
  const old = view.charts.findIndex((chart) => chart.canvas.closest('.compare-result'));
  if (old >= 0) view.charts.splice(old, 1)[0].destroy();
  view.charts.push(
    lineChart(canvas, {
      labels: data.periods,
      datasets,
      format: (value) => format.withUnit(value, data.unit),
      onPoint: (datasetIndex, index) =>
        openTrace({ indicator, area: data.areas[datasetIndex].area, period: data.periods[index], name: data.name, unit: data.unit }),
    }),
  );
}

function compareTable(data) {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'data-table' },
      h('caption', {}, t('compare.table', { name: data.name })),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('compare.province')), data.periods.map((period) => h('th', { scope: 'col' }, format.period(period))))),
      h(
        'tbody',
        {},
        data.areas.map((unit) =>
          h(
            'tr',
            { dataset: { area: unit.area } },
            h('th', { scope: 'row' }, unit.name || unit.area),
            data.periods.map((period) => {
              const point = unit.observations.find((item) => item.period === period);
              return h('td', { class: 'number' }, point ? format.withUnit(point.value, data.unit) : '–', point && format.flagged(point.status) ? h('span', { class: `badge status-${point.status}` }, format.statusName(point.status)) : null);
            }),
          ),
        ),
      ),
    ),
  );
}
