// The page's address handling (www/params.js), without a browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DEFAULT_DT, DT_PRESETS, buildQuery, checkDatasetUrl, formatBytes, formatDuration,
  formatSeconds, formatTimeIn, parseParams, secondsText,
} from '../../www/params.js';

const PAGE = 'http://127.0.0.1:8770/index.html';

test('only http: and https: dataset URLs are accepted', () => {
  assert.deepEqual(checkDatasetUrl('https://example.org/a/events.h5', PAGE),
    { url: 'https://example.org/a/events.h5' });
  assert.deepEqual(checkDatasetUrl('  http://h:1/x.h5 ', PAGE), { url: 'http://h:1/x.h5' });
  // Relative to the page.
  assert.deepEqual(checkDatasetUrl('/data/x.h5', PAGE), { url: 'http://127.0.0.1:8770/data/x.h5' });
  for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', ' javascript:alert(1)',
    'data:text/html,x', 'file:///etc/passwd', 'blob:http://h/x', 'ftp://h/x.h5']) {
    const r = checkDatasetUrl(bad, PAGE);
    assert.equal(r.url, undefined, bad);
    assert.match(r.error, /only http: and https: URLs/, bad);
  }
  assert.match(checkDatasetUrl('', PAGE).error, /give the URL/);
  // host/path without a scheme is that host (http:// on this machine, https:// elsewhere).
  assert.deepEqual(checkDatasetUrl('example.org/a/events.h5', PAGE), {
    url: 'https://example.org/a/events.h5',
    note: 'no scheme given: opened as https://example.org/a/events.h5',
  });
  assert.equal(checkDatasetUrl('127.0.0.1:8765/data/x.h5', PAGE).url, 'http://127.0.0.1:8765/data/x.h5');
  assert.equal(checkDatasetUrl('localhost:8080/x.h5', PAGE).url, 'http://localhost:8080/x.h5');
  assert.deepEqual(checkDatasetUrl('events.h5', PAGE), { url: 'http://127.0.0.1:8770/events.h5' });
  assert.match(checkDatasetUrl('http://[bad', PAGE).error, /not a URL/);
});

test('parseParams reads url, t, dt, mode with defaults', () => {
  assert.deepEqual(parseParams(''), {
    url: null, list: null, t: null, tSpec: null, columns: null, dt: DEFAULT_DT, mode: 'polarity', camera: null, errors: [],
  });
  const p = parseParams('?url=http%3A%2F%2Fh%2Fx.h5&t=-1500&dt=100&mode=heatmap');
  assert.deepEqual(p, {
    url: 'http://h/x.h5', list: null, t: -1500, tSpec: null, columns: null, dt: 100, mode: 'heatmap', camera: null, errors: [],
  });
  // Other time forms are left to the engine's parser, as typed.
  assert.deepEqual([parseParams('?t=abs:36610700798').t, parseParams('?t=abs:36610700798').tSpec],
    [null, 'abs:36610700798']);
  assert.equal(parseParams('?t=3.4s').tSpec, '3.4s');
  assert.equal(parseParams('?camera=right').camera, 'right');
  const bad = parseParams('?t=1.5&dt=0&mode=rainbow&camera=%3Cb%3E');
  assert.equal(bad.t, null);
  assert.equal(bad.tSpec, '1.5', 'the engine says what is wrong with it');
  assert.equal(bad.dt, DEFAULT_DT);
  assert.equal(bad.mode, 'polarity');
  assert.equal(bad.camera, null);
  assert.equal(bad.errors.length, 3);
  assert.equal(parseParams('?t=99999999999999999999').t, null, 'beyond 2^53 is not a number');
  assert.equal(parseParams('?t=1700000000000000').t, 1700000000000000);
});

test('buildQuery round-trips through parseParams', () => {
  const view = {
    url: 'https://h/a b.h5?x=1&y=2', list: 'https://h/?list-type=2&prefix=a/', t: 123456, dt: 2000,
    mode: 'heatmap', camera: 'left',
  };
  const back = parseParams(buildQuery(view));
  assert.deepEqual(back, { ...view, tSpec: null, columns: null, errors: [] });
  const columns = { x: '/ev/xs', y: '/ev/ys', t: '/ev/ts', p: '/ev/pol' };
  assert.deepEqual(parseParams(buildQuery({ ...view, columns })).columns, columns);
  assert.equal(parseParams('?cols=/a,/b').columns, null);
  assert.match(parseParams('?cols=/a,/b').errors[0], /four dataset paths/);
  assert.equal(parseParams(buildQuery({ ...view, t: 'abs:5' })).tSpec, 'abs:5');
  assert.equal(buildQuery({ url: null, t: 5, dt: 10, mode: 'polarity' }), '?t=5&dt=10&mode=polarity');
});

test('window presets run from 100 µs to 10 s and include the default', () => {
  assert.equal(DT_PRESETS[0], 100);
  assert.equal(DT_PRESETS.at(-1), 10000000);
  assert.ok(DT_PRESETS.includes(DEFAULT_DT));
});

test('formatting', () => {
  assert.equal(formatDuration(100), '100 µs');
  assert.equal(formatDuration(50000), '50 ms');
  assert.equal(formatDuration(1500000), '1.5 s');
  assert.equal(formatSeconds(1234567), '1.234567 s');
  assert.equal(formatSeconds(-5), '-0.000005 s');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(191010), '191.0 kB');
});

test('a link keeps the time form it was given', () => {
  const info = { t_first: 1000, t_offset: 36607300656 };
  assert.equal(formatTimeIn('stored', 601000, info), '601000');
  assert.equal(formatTimeIn('abs', 601000, info), 'abs:36607901656');
  assert.equal(formatTimeIn('start', 3401000, info), '3.4s');
  assert.equal(formatTimeIn('start', 1000, info), '0s');
  assert.equal(secondsText(-1500), '-0.0015');
  assert.equal(secondsText(12000001), '12.000001');
});
