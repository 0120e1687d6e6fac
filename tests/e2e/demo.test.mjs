// `strobe demo`: the link it prints opens the demo recording in the viewer, and the window
// shown holds the events h5py finds in the same file.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after as afterAll, before, test } from 'node:test';

import { ROOT, launchBrowser, newPage, open } from './helpers.mjs';

let demo;
let browser;
let dataDir;

/** Starts `strobe demo --port 0` and resolves with the link it prints. */
function startDemo(dir) {
  const bin = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'strobe');
  const child = spawn(bin, ['demo', '--port', '0', '--data', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no link within 120 s: ${out} ${err}`)), 120000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const link = out.split('\n').find((l) => l.startsWith('http://'));
      if (link) {
        clearTimeout(timer);
        resolve({ child, link: link.trim() });
      }
    });
    child.on('exit', (code) => reject(new Error(`strobe demo exited ${code}: ${err}`)));
  });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'strobe-demo-'));
  demo = await startDemo(dataDir);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  demo?.child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
});

/** h5py's count and sums for [from, to) of the demo file (the independent oracle). */
function h5pyDigest(file, from, to) {
  const py = `
import sys, json, h5py, numpy as np
f = h5py.File(sys.argv[1], 'r'); t = f['events/t'][:].astype(np.int64)
a, b = np.searchsorted(t, int(sys.argv[2]), 'left'), np.searchsorted(t, int(sys.argv[3]), 'left')
x, y, p = (f['events/' + k][a:b].astype(np.int64) for k in 'xyp')
print(json.dumps({'events': int(b - a), 'first_index': int(a), 'sum_x': int(x.sum()),
  'sum_y': int(y.sum()), 'sum_t': int(t[a:b].sum()), 'sum_p': int(p.sum()),
  'positive': int((p > 0).sum())}))`;
  const out = execFileSync(join(ROOT, '.venv', 'bin', 'python'), ['-c', py, file, String(from), String(to)]);
  return JSON.parse(out.toString());
}

test('the printed link shows the demo recording, with the events h5py finds', async () => {
  const url = new URL(demo.link);
  assert.equal(url.hostname, '127.0.0.1');
  const page = await newPage(browser);
  const hook = await open(page, demo.link);
  assert.equal(hook.status, 'ready', hook.error);
  assert.equal(hook.recording.layout, 'dsec');
  assert.equal(hook.recording.width, 640);
  assert.equal(hook.recording.height, 480);
  assert.ok(hook.recording.t_last - hook.recording.t_first >= 10e6, 'at least 10 s');
  const want = h5pyDigest(join(dataDir, 'demo.h5'), hook.window.from, hook.window.to);
  for (const [k, v] of Object.entries(want)) assert.equal(Number(hook.window[k]), v, k);
  assert.ok(hook.window.events > 1000, 'the linked window is not empty');
  await page.close();
});
