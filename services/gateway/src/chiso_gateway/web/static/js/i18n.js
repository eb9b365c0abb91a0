// Every string a person reads comes from i18n/<lang>.json: Vietnamese first, English on request.
// The choice is kept in localStorage; <html lang> follows it, and the API is asked in it.

const SUPPORTED = ['vi', 'en'];
const STORAGE_KEY = 'chiso.lang';
const dictionaries = {};
let current = 'vi';

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage refused (private mode): Vietnamese
  }
}

async function load(lang) {
  if (!dictionaries[lang]) {
    const response = await fetch(`/app/static/i18n/${lang}.json`, { cache: 'no-cache' });
    dictionaries[lang] = response.ok ? await response.json() : {};
  }
  return dictionaries[lang];
}

export function language() {
  return current;
}

/** The BCP 47 locale numbers and dates are written in. */
export function locale() {
  return current === 'vi' ? 'vi-VN' : 'en-GB';
}

/** The string of `key` in the current language, `{name}` replaced from `params`. A key
 * missing from the file shows as itself (the i18n test keeps that from happening). */
export function t(key, params = {}) {
  const text = dictionaries[current]?.[key] ?? dictionaries.vi?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Marks a key used later through a variable (`t(LABELS[x])`), so the i18n test sees it. */
export function k(key) {
  return key;
}

const ATTRIBUTES = ['aria-label', 'placeholder', 'title'];

/** Fill every `data-i18n` element's text and `data-i18n-<attribute>` attribute under `root`. */
export function translate(root = document) {
  for (const element of root.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const attribute of ATTRIBUTES) {
    for (const element of root.querySelectorAll(`[data-i18n-${attribute}]`)) {
      element.setAttribute(attribute, t(element.getAttribute(`data-i18n-${attribute}`)));
    }
  }
}

export async function setLanguage(lang) {
  current = SUPPORTED.includes(lang) ? lang : 'vi';
  await Promise.all([load('vi'), load(current)]);
  document.documentElement.lang = current;
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // not kept across visits, still applied now
  }
  translate();
  document.dispatchEvent(new CustomEvent('chiso:language', { detail: current }));
}

export async function initLanguage() {
  const lang = stored();
  current = SUPPORTED.includes(lang) ? lang : 'vi';
  await Promise.all([load('vi'), load(current)]);
  document.documentElement.lang = current;
  translate();
}

export function otherLanguage() {
  return current === 'vi' ? 'en' : 'vi';
}
