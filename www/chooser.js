// The dataset chooser: when a file's event columns are not found by name, the page lists the
// file's numeric 1-D datasets and lets the reader say which are x, y, t and p (the page's own
// way to do what the CLI's --x/--y/--t/--p do). The choice goes into the link (`cols=`).

import { app, $ } from './app.js';
import { get } from './store.js';

const NAMES = ['x', 'y', 't', 'p'];

/** Shows the chooser for `source` (listing its datasets), with `reopen(columns)` on submit. */
export async function offerChooser(source, reopen) {
  let list;
  try {
    list = JSON.parse(await app.engine.datasets(source));
  } catch {
    return; // the error shown already says what is wrong with the file
  }
  if (get().source !== source || list.length === 0) return;
  const form = $('columns-form');
  for (const name of NAMES) {
    const select = $(`column-${name}`);
    select.replaceChildren(...list.map((d) => {
      const o = document.createElement('option');
      o.value = d.path;
      o.textContent = `${d.path} (${d.dtype ?? '?'}, ${d.rows} rows)`;
      return o;
    }));
    // A first guess: a dataset whose name starts with the column's letter.
    const guess = list.find((d) => d.path.split('/').pop().toLowerCase().startsWith(name));
    if (guess) select.value = guess.path;
  }
  form.onsubmit = (e) => {
    e.preventDefault();
    const columns = Object.fromEntries(NAMES.map((n) => [n, $(`column-${n}`).value]));
    form.hidden = true;
    reopen(columns);
  };
  form.hidden = false;
}

export function hideChooser() {
  $('columns-form').hidden = true;
}
