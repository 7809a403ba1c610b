// @ts-check
/**
 * The experiments list: name, run counts by status (Running ones marked live) and last
 * activity; click one to show its runs. Collapses to one line once an experiment is chosen.
 */

import { h, replaceChildren } from './lib/dom.js';
import { formatRelativeTime, formatTimestamp, statusKind, statusLabel } from './lib/format.js';

/**
 * @typedef {Object} Experiment
 * @property {string} id
 * @property {string} name
 * @property {number} run_count
 * @property {number} root_count
 * @property {Record<string, number>} status_counts
 * @property {number} last_activity seconds since the epoch
 */

const COUNT_ORDER = ['Running', 'NotResponding', 'Failed', 'Canceled', 'Completed'];

export class ExperimentList {
  /** @param {(id: string) => void} choose */
  constructor(choose) {
    this.choose = choose;
    this.open = false;
    this.list = h('ul', { class: 'rh-exp-list', role: 'listbox', 'aria-label': 'Experiments' });
    this.current = /** @type {HTMLButtonElement} */ (h('button', {
      class: 'rh-exp-current', type: 'button', 'aria-expanded': 'false',
      on: { click: () => this.toggle() },
    }));
    this.el = h('div', { class: 'rh-experiments' }, this.current, this.list);
    /** @type {Experiment[]} */
    this.experiments = [];
    /** @type {string | null} */
    this.selected = null;
  }

  toggle(open = !this.open) {
    this.open = open;
    this.render();
  }

  /**
   * @param {Experiment[]} experiments
   * @param {string | null} selected
   */
  update(experiments, selected) {
    if (experiments === this.experiments && selected === this.selected) return;
    this.experiments = experiments;
    this.selected = selected;
    this.render();
  }

  render() {
    const exp = this.experiments.find((e) => e.id === this.selected) ?? null;
    const many = this.experiments.length > 1;
    const open = this.open || exp === null;
    this.current.setAttribute('aria-expanded', String(open));
    this.current.disabled = !many && exp !== null;
    replaceChildren(
      this.current,
      h('span', { class: 'rh-exp-label' }, 'Experiment'),
      h('span', { class: 'rh-exp-name' }, exp ? exp.name : 'Choose an experiment'),
      exp && counts(exp),
      many && h('span', { class: 'rh-exp-toggle', 'aria-hidden': 'true' }, open ? '▴' : `▾ ${this.experiments.length}`),
    );
    this.list.hidden = !open || !many && exp !== null;
    replaceChildren(this.list, this.experiments.map((e) => h(
      'li',
      {
        class: ['rh-exp-item', e.id === this.selected && 'rh-exp-item-on'], role: 'option', tabindex: '0',
        'aria-selected': String(e.id === this.selected), 'data-experiment': e.id,
        on: {
          click: () => this.pick(e.id),
          keydown: (event) => {
            if (event.key === 'Enter' || event.key === ' ') {
              event.preventDefault();
              this.pick(e.id);
            }
          },
        },
      },
      h('span', { class: 'rh-exp-name' }, e.name),
      counts(e),
      h('span', { class: 'rh-muted rh-exp-time', title: formatTimestamp(e.last_activity) }, formatRelativeTime(e.last_activity)),
    )));
  }

  /** @param {string} id */
  pick(id) {
    this.open = false;
    this.choose(id);
  }
}

/**
 * Run counts by status as small coloured chips.
 * @param {Experiment} e
 */
function counts(e) {
  const c = e.status_counts ?? {};
  return h(
    'span',
    { class: 'rh-exp-counts', title: `${e.run_count} runs (${e.root_count} top-level)` },
    h('span', { class: 'rh-muted' }, `${e.run_count.toLocaleString('en-US')} runs`),
    COUNT_ORDER.filter((s) => (c[s] ?? 0) > 0 && s !== 'Completed').map((s) => h(
      'span',
      { class: `rh-status rh-status-${statusKind(s)} rh-status-small` },
      `${c[s]} ${statusLabel(s).toLowerCase()}`,
    )),
  );
}
