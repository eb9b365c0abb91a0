// Chart.js (vendored, global `Chart`) set up once for the page: the page's font, no
// animation (nothing moves under a reader's pointer or a test's click), readable numbers.

import { locale } from './i18n.js';
import { number } from './format.js';

// Okabe-Ito colours: told apart by readers with any common colour vision deficiency.
export const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#8a6100', '#56B4E9', '#000000', '#882255', '#117733', '#332288'];

function setDefaults() {
  const Chart = window.Chart;
  if (Chart.defaults.font.family !== 'Be Vietnam Pro, system-ui, sans-serif') {
    Chart.defaults.font.family = 'Be Vietnam Pro, system-ui, sans-serif';
    Chart.defaults.font.size = 13;
    Chart.defaults.color = '#1f2933';
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;
  }
}

/** A y-axis label, short ("1,315 Tr"), with as many significant digits as the ticks' step
 * needs: a fixed two decimals wrote 1.305.000 and 1.310.000 both as "1,31 Tr". */
export function compactTick(value, _index, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1].value - ticks[0].value) : 0;
  const largest = Math.max(...ticks.map((tick) => Math.abs(tick.value)));
  const needed = step > 0 && largest > 0 ? Math.ceil(Math.log10(largest / step)) + 1 : 2;
  const digits = Math.min(8, Math.max(2, needed));
  return new Intl.NumberFormat(locale(), { notation: 'compact', maximumSignificantDigits: digits }).format(value);
}

/** A line chart; `onPoint(datasetIndex, index)` when a point is clicked or tapped. */
export function lineChart(canvas, { labels, datasets, onPoint, format = number }) {
  setDefaults();
  return new window.Chart(canvas, {
    type: 'line',
    data: { labels, datasets },
    options: {
      responsive: true,
      interaction: { mode: 'nearest', intersect: false, axis: 'x' },
      scales: {
        y: { ticks: { callback: compactTick }, grace: '5%' },
        x: { offset: labels.length === 1 },
      },
      plugins: {
        legend: { display: datasets.length > 1, position: 'bottom' },
        tooltip: {
          callbacks: {
            label: (item) => `${item.dataset.label}: ${format(item.parsed.y, item)}`,
          },
        },
      },
      onHover: (event, active) => {
        event.native.target.style.cursor = active.length ? 'pointer' : 'default';
      },
      onClick: (event, active) => {
        if (active.length && onPoint) onPoint(active[0].datasetIndex, active[0].index);
      },
    },
  });
}
