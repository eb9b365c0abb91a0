// People by name. Who uploaded a report or reviewed a fact is stored as a client id
// (ch_3f9a1c…), which no reader can tell apart; every answer that names someone carries
// `meta.people` ({client id: name}, from the gateway's client register), which api.js hands
// to `learn`. Pages write the name, falling back to the id when the register has none.

import { h } from './dom.js';
import { t } from './i18n.js';

const known = new Map();

/** Remember the names of an answer's `meta.people`. */
export function learn(people) {
  for (const [id, name] of Object.entries(people || {})) {
    if (typeof name === 'string' && name.trim()) known.set(id, name);
  }
}

/** The name of the client `id`, or the id itself when no name is known. */
export function nameOf(id) {
  return (id && known.get(id)) || id || '';
}

/** The person as an element: the name, with the client id in its tooltip; '–' for nobody. */
export function person(id) {
  if (!id) return '–';
  const name = known.get(id);
  if (!name) return h('span', { class: 'person', dataset: { clientId: id } }, id);
  return h('span', { class: 'person', dataset: { clientId: id }, title: t('people.client_id', { client: id }) }, name);
}
