// What the pages look names up in: the areas (public, from the page's own server), the
// indicator catalogue (an API read, in the reader's language) and the page's settings.

import * as api from './api.js';
import { language, locale, t } from './i18n.js';

let areaRows = null;
const indicatorRows = {};
let settings = null;

/** `GET /app/config.json` (anonymous_read, version); off when it cannot be read. */
export async function config() {
  if (settings === null) {
    try {
      const response = await fetch('/app/config.json', { cache: 'no-cache' });
      settings = response.ok ? await response.json() : {};
    } catch {
      settings = {};
    }
  }
  return {
    anonymous_read: Boolean(settings.anonymous_read),
    version: settings.version || '',
    max_upload_bytes: Number(settings.max_upload_bytes) || 0, // 0: not known, the server says
    compare_max_areas: Number(settings.compare_max_areas) || 0,
  };
}

export async function areas() {
  if (areaRows === null) {
    const response = await fetch('/app/areas.json');
    areaRows = response.ok ? await response.json() : [];
  }
  return areaRows;
}

/** An area's name from its code (`38`) or from a fact's `scope` (`VN-38`). */
export function areaName(code) {
  const row = (areaRows || []).find((area) => area.code === code || area.scope === code);
  if (!row) return code || '–';
  return language() === 'vi' ? row.name_vi : row.name_en;
}

/** Provinces sorted as the reader's language sorts them, the ones in force first. */
export async function sortedAreas() {
  const rows = await areas();
  const collator = new Intl.Collator(locale());
  const name = (row) => (language() === 'vi' ? row.name_vi : row.name_en);
  return [...rows].sort(
    (a, b) =>
      (a.level === 'country' ? -1 : 0) - (b.level === 'country' ? -1 : 0) ||
      Number(b.current) - Number(a.current) ||
      collator.compare(name(a), name(b)),
  );
}

/** The indicator catalogue, or [] when the caller may not read it. */
export async function indicators() {
  const lang = language();
  if (!indicatorRows[lang]) {
    try {
      indicatorRows[lang] = (await api.get('/v1/indicators')).data;
    } catch {
      return [];
    }
  }
  return indicatorRows[lang];
}

export function indicatorName(code, rows) {
  const row = (rows || indicatorRows[language()] || []).find((item) => item.code === code);
  return row ? row.name : code || '–';
}

/** An <option> list of areas for a <select>; `none` adds a first empty choice. */
/** Options of a select of areas; `key` is what an option's value is: the area `code` (a
 * query, an upload's hint) or a fact's `scope` (a fact form). */
export function areaOptions(rows, selected, { none, key = 'code' } = {}) {
  const options = [];
  if (none) options.push(new Option(none, '', false, !selected));
  for (const row of rows) {
    const name = language() === 'vi' ? row.name_vi : row.name_en;
    const label = row.current ? `${name} (${row.code})` : t('area.former', { name, code: row.code });
    options.push(new Option(label, row[key], false, row[key] === selected));
  }
  return options;
}
