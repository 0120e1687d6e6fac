// The page's decode workers (www/decode-pool.js, src/hdf5/decode_pool.rs): with `workers=2`
// a window's chunks are decoded by two helper workers and the engine, and what the page shows
// is still exactly h5py's window; a damaged chunk reads the same one-line error as without
// helpers (and as the CLI); a superseded load leaves no helper busy.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after as afterAll, describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, digestOf, fixture, manifestWindow, newPage, open, viewerUrl,
  siteAndBrowser,
} from './helpers.mjs';

const ctx = siteAndBrowser();
const PY = join(ROOT, '.venv', 'bin', 'python');
const BIN = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'strobe');

/** The page at `view` with `workers=N` decode workers. */
function withWorkers(view, n) {
  return `${viewerUrl(ctx.site.origin, view)}&workers=${n}`;
}

const decoders = (page) => page.evaluate(() => window.strobeBench.decoders());

/** The window's largest manifest window of a fixture that has one of these labels. */
function someWindow(id, labels) {
  for (const label of labels) {
    const w = fixture(id).windows.find((x) => x.label === label);
    if (w && w.events > 0) return w;
  }
  throw new Error(`${id}: none of ${labels} in the manifest`);
}

describe('decode workers', () => {
  test('windows decoded by two workers equal h5py\'s (bitshuffle+zstd, byte shuffle, gzip)', async () => {
    const cases = [
      ['dsec_full_bitshuffle', ['entire_exact', '50ms_unaligned_middle']],
      ['dsec_append_byteshuffle', ['entire_exact', '50ms_unaligned_middle']],
      ['mvsec_gzip_left', ['entire_exact', 'entire_wide', '50ms_unaligned_middle']],
      ['prophesee_gzip', ['entire_exact', 'entire_wide', '50ms_unaligned_middle']],
    ];
    for (const [id, labels] of cases) {
      const fx = fixture(id);
      const w = someWindow(id, labels);
      const page = await newPage(ctx.browser);
      const hook = await open(page, withWorkers({ url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }, 2));
      assert.equal(hook.status, 'ready', `${id}: ${hook.error}`);
      assert.deepEqual(digestOf(hook.window), digestOf(w), `${id} ${w.label}: the window equals h5py's`);
      const stats = await decoders(page);
      assert.equal(stats.workers, 2, `${id}: ${JSON.stringify(stats)}`);
      assert.equal(stats.alive, 2, `${id}: ${JSON.stringify(stats)}`);
      // The helpers did decode chunks of it (not the engine alone), and none failed.
      assert.ok(stats.decoded > 0, `${id}: no chunk decoded by a worker: ${JSON.stringify(stats)}`);
      assert.equal(stats.declined, 0, `${id}: ${JSON.stringify(stats)}`);
      if (id.startsWith('dsec')) {
        // A 4 M-event window is many batches: their chunks were posted ahead of their reads
        // (while the engine counted the batch before) and those reads took them.
        assert.ok(stats.ahead > 0 && stats.ahead_taken > 0, `${id}: nothing decoded ahead: ${JSON.stringify(stats)}`);
      }
      // Read again from the cache: the same again.
      const again = await page.evaluate(() => window.strobeBench.reload());
      assert.equal(again.events, w.events, id);
      assert.deepEqual(page.problems, [], `${id}: console/page errors`);
      await page.close();
    }
  });

  test('workers=0 decodes in the engine alone, as before', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const w = manifestWindow(fx.id, 'entire_exact');
    const page = await newPage(ctx.browser);
    const hook = await open(page, withWorkers({ url: DATA_URL + fx.file, t: w.from, dt: w.to - w.from }, 0));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(digestOf(hook.window), digestOf(w));
    const stats = await decoders(page);
    assert.equal(stats.workers, 0);
    assert.equal(stats.decoded, 0);
    await page.close();
  });

  describe('a damaged chunk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strobe-damaged-'));
    // Served by the fixture server: the copy lives beside the fixtures while the test runs.
    const name = `e2e_damaged_chunk_${process.pid}.h5`;
    const served = join(FIXTURES, name);
    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(served, { force: true });
    });

    test('reads the same one-line error with two workers as without, and as the CLI', async () => {
      const fx = fixture('dsec_full_bitshuffle');
      copyFileSync(join(FIXTURES, fx.file), served);
      // Garbage over the middle of a chunk of /events/x in the middle of the recording;
      // prints the window [from, to) of that chunk's events.
      const out = execFileSync(PY, ['-c', `
import sys, h5py, hdf5plugin
path = sys.argv[1]
with h5py.File(path, 'r') as f:
    d = f['events/x']
    n = d.id.get_num_chunks()
    info = d.id.get_chunk_info(n // 2)
    rows = d.chunks[0]
    first = info.chunk_offset[0]
    t = f['events/t']
    lo, hi = int(t[first]), int(t[min(first + rows, t.shape[0]) - 1]) + 1
with open(path, 'r+b') as g:
    g.seek(info.byte_offset + info.size // 4)
    g.write(bytes([0xA5]) * (info.size // 2))
print(lo, hi)
`, served], { encoding: 'utf8' });
      const [from, to] = out.trim().split(/\s+/).map(Number);
      assert.ok(to > from, out);
      const cli = spawnSync(BIN, ['window', served, '--from', String(from), '--to', String(to)],
        { encoding: 'utf8' });
      assert.notEqual(cli.status, 0, 'the CLI reads the damaged chunk as an error');
      const cliError = cli.stderr.trim().split('\n').find((l) => /events\/x/.test(l));
      assert.ok(cliError, `the CLI names the dataset: ${cli.stderr}`);

      const shown = {};
      for (const n of [0, 2]) {
        const page = await newPage(ctx.browser);
        const hook = await open(page, withWorkers({ url: DATA_URL + name, t: from, dt: to - from }, n));
        assert.equal(hook.status, 'error', `workers=${n}: ${JSON.stringify(hook.window)}`);
        shown[n] = hook.error;
        const stats = await decoders(page);
        if (n === 2) {
          // The damaged chunk went to a worker, which handed it back undecoded.
          assert.ok(stats.declined >= 1, JSON.stringify(stats));
        }
        await page.close();
      }
      assert.equal(shown[2], shown[0], 'the same message with and without decode workers');
      assert.ok(!shown[2].includes('\n'), `one line: ${shown[2]}`);
      // The engine's words, as natively (the CLI's line may carry its own prefix).
      const core = shown[2].slice(shown[2].indexOf('events/x'));
      assert.ok(cliError.includes(core), `page: ${shown[2]}\ncli:  ${cliError}`);
    });
  });

  test('a superseded load leaves no worker busy and the newer window is h5py\'s', async () => {
    const fx = fixture('dsec_full_bitshuffle');
    const long = manifestWindow(fx.id, 'entire_exact');
    const short = manifestWindow(fx.id, '50ms_unaligned_middle');
    const page = await newPage(ctx.browser);
    let hook = await open(page, withWorkers({ url: DATA_URL + fx.file, t: short.from, dt: 1000 }, 2));
    assert.equal(hook.status, 'ready', hook.error);
    // The long window starts and is superseded while its chunks are with the workers.
    const result = await page.evaluate(async ([l, s]) => {
      const first = window.strobeBench.seek(l.from, l.to - l.from);
      await new Promise((r) => { setTimeout(r, 150); });
      const during = await window.strobeBench.decoders();
      const second = await window.strobeBench.seek(s.from, s.to - s.from);
      await first;
      return { during, second };
    }, [long, short]);
    hook = await page.evaluate(() => window.strobe);
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(digestOf(hook.window), digestOf(short), 'the newer window, as h5py reads it');
    // Every share posted was answered: nothing left waiting on a worker.
    let stats = await decoders(page);
    for (let i = 0; i < 100 && stats.pending > 0; i += 1) {
      await new Promise((r) => { setTimeout(r, 50); });
      stats = await decoders(page);
    }
    assert.equal(stats.pending, 0, JSON.stringify(stats));
    assert.equal(stats.alive, 2, JSON.stringify(stats));
    assert.ok(stats.decoded > result.during.decoded || result.during.decoded > 0,
      `the workers decoded chunks of these loads: ${JSON.stringify(result)} ${JSON.stringify(stats)}`);
    // Each worker held one share of one read at a time: far below the engine's budget.
    for (const m of stats.memory) assert.ok(m > 0 && m <= 48 * 2 ** 20, `worker memory ${m}`);
    assert.deepEqual(page.problems, [], 'console/page errors');
    await page.close();
  });
});

if (!existsSync(PY)) throw new Error(`${PY} is missing — run scripts/python-env.sh`);
