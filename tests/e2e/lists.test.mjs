// The page and many recordings (issue 15): `index.html?list=<URL>` reads a JSON manifest, an
// S3 ListObjectsV2 answer or an nginx autoindex listing, shows each recording's events (as
// h5py counts them) or its failure, switches recordings keeping t, dt and mode, and links
// back to the same recording and window. A host without CORS fails with the exact
// `strobe serve --relay` command, and through that relay the page reads the same window as h5py.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after as afterAll, before, describe, test } from 'node:test';

import {
  DATA_URL, FIXTURES, ROOT, after, digestOf, fixture, manifestWindow, newPage, open,
  settled, siteAndBrowser, viewerUrl,
} from './helpers.mjs';

const ctx = siteAndBrowser();

/**
 * A host for listings and files, on a free port: `/nocors/<fixture>` sends no CORS headers,
 * everything else does. Files answer single Range requests (206) like any static server.
 */
function startHost() {
  const listings = {
    '/list.json': () => JSON.stringify([
      { url: `${DATA_URL}vector.h5`, name: 'vector' },
      { url: `${DATA_URL}tumvie.h5`, name: 'tumvie' },
      { url: 'files/rvt.h5', name: 'rvt (relative)' },
      { url: `${DATA_URL}not_hdf5.h5`, name: 'broken' },
      { url: `${DATA_URL}manifest.json`, name: 'not a recording' },
      { url: 'javascript:alert(1)', name: 'script' },
      { url: 'file:///etc/passwd', name: 'local' },
    ]),
    '/bucket': () => '<?xml version="1.0" encoding="UTF-8"?>\n'
      + '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name>'
      + '<IsTruncated>false</IsTruncated>'
      + '<Contents><Key>files/vector.h5</Key></Contents>'
      + '<Contents><Key>files/readme.txt</Key></Contents>'
      + '<Contents><Key>files/tumvie.h5</Key></Contents></ListBucketResult>',
    '/auto/': () => JSON.stringify([
      { name: 'sub', type: 'directory', mtime: 'Sun, 06 Dec 2026 04:00:00 GMT' },
      { name: 'rvt.h5', type: 'file', mtime: 'Sun, 06 Dec 2026 04:00:00 GMT', size: 1 },
      { name: 'notes.txt', type: 'file', mtime: 'Sun, 06 Dec 2026 04:00:00 GMT', size: 1 },
    ]),
    '/nocors/list.json': () => JSON.stringify([{ url: 'vector.h5' }, { url: 'rvt.h5' }]),
    '/page.html': () => '<!DOCTYPE html><html><body>Index of /</body></html>',
    '/huge.json': () => `[${' '.repeat(5 << 20)}]`,
  };
  const server = createServer((req, res) => {
    const u = new URL(req.url, 'http://host');
    if (!u.pathname.startsWith('/nocors/')) {
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Access-Control-Allow-Headers', 'Range, If-Range');
      res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, ETag, Accept-Ranges');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (listings[u.pathname]) {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end(listings[u.pathname]());
      return;
    }
    const name = u.pathname.split('/').pop();
    const path = join(FIXTURES, name);
    if (!/^[\w.-]+\.h5$/.test(name) || !existsSync(path)) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const size = statSync(path).size;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers = { 'Accept-Ranges': 'bytes', ETag: `"${size}"`, 'Content-Type': 'application/octet-stream' };
    let body = readFileSync(path);
    if (m) {
      const from = Number(m[1]);
      const to = Math.min(m[2] === '' ? size - 1 : Number(m[2]), size - 1);
      if (from >= size) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      body = body.subarray(from, to + 1);
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${from}-${to}/${size}`, 'Content-Length': body.length });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': size });
    }
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((done) => {
    server.listen(0, '127.0.0.1', () => done({
      origin: `http://127.0.0.1:${server.address().port}`,
      close: () => server.close(),
    }));
  });
}

let host = null;
before(async () => { host = await startHost(); });
afterAll(() => host?.close());

/** `index.html?list=…` (and more parameters) on the site. */
function listUrl(origin, list, extra = {}) {
  const q = new URLSearchParams({ list, ...extra });
  return `${origin}/index.html?${q}`;
}

/** The list as drawn once every entry has opened or failed: `[{url, status, name, meta}]`. */
async function drawnList(page) {
  await page.waitForFunction(() => {
    const items = [...document.querySelectorAll('#list-entries li')];
    return items.length > 0 && items.every((li) => li.dataset.status !== 'pending');
  }, null, { timeout: 60000 });
  return page.evaluate(() => [...document.querySelectorAll('#list-entries li')].map((li) => ({
    url: li.dataset.url,
    status: li.dataset.status,
    name: li.querySelector('button').textContent,
    meta: li.querySelector('.list-meta').textContent,
  })));
}

/** The event count a drawn entry shows (thin spaces between thousands). */
const shownEvents = (meta) => Number(/^([\d\u202f]+) events/.exec(meta)?.[1].replace(/\u202f/g, ''));

describe('?list=', () => {
  test('a manifest: every good recording with h5py\'s events, each failure named, other schemes skipped; switching keeps t, dt and mode; the link reopens it', async () => {
    const w = manifestWindow('vector', '50ms_unaligned_middle');
    const dt = w.to - w.from;
    const page = await newPage(ctx.browser);
    let hook = await open(page, listUrl(ctx.site.origin, `${host.origin}/list.json`,
      { t: String(w.from), dt: String(dt), mode: 'heatmap' }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.url, `${DATA_URL}vector.h5`, 'the first recording opens');
    assert.deepEqual(digestOf(hook.window), digestOf(w), 'its window is h5py\'s');
    const list = await drawnList(page);
    assert.deepEqual(list.map((e) => e.url), [`${DATA_URL}vector.h5`, `${DATA_URL}tumvie.h5`,
      `${host.origin}/files/rvt.h5`, `${DATA_URL}not_hdf5.h5`, `${DATA_URL}manifest.json`]);
    for (const [i, id] of [[0, 'vector'], [1, 'tumvie'], [2, 'rvt']]) {
      assert.equal(list[i].status, 'ok', list[i].meta);
      assert.equal(shownEvents(list[i].meta), fixture(id).info.events, `${id}: ${list[i].meta}`);
    }
    assert.equal(list[3].status, 'failed');
    assert.match(list[3].meta, /error: .*not an HDF5 file/);
    assert.equal(list[4].status, 'failed');
    assert.match(list[4].meta, /error: .+/);
    const note = await page.locator('#list-note').textContent();
    assert.match(note, /2 entries skipped: not http\(s\) URLs/);
    assert.match(note, /2 failed to open/);

    hook = await after(page, () => page.locator(`#list-entries li[data-url="${DATA_URL}tumvie.h5"] button`).click());
    assert.equal(hook.status, 'ready', hook.error);
    assert.equal(hook.url, `${DATA_URL}tumvie.h5`);
    assert.deepEqual([hook.t, hook.dt, hook.mode], [w.from, dt, 'heatmap'], 't, dt and mode kept');
    const link = new URL(page.url());
    assert.equal(link.searchParams.get('list'), `${host.origin}/list.json`);
    assert.equal(link.searchParams.get('url'), `${DATA_URL}tumvie.h5`);
    const shown = hook.window;
    hook = await open(page, page.url());
    assert.equal(hook.url, `${DATA_URL}tumvie.h5`, 'the link reopens the chosen recording');
    assert.deepEqual([hook.t, hook.dt, hook.mode], [w.from, dt, 'heatmap']);
    assert.deepEqual(hook.window, shown, 'and the same window');
    assert.equal((await drawnList(page)).length, 5, 'with its list');
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('an S3 bucket listing and an nginx autoindex list their recordings', async () => {
    const page = await newPage(ctx.browser);
    let hook = await open(page, listUrl(ctx.site.origin, `${host.origin}/bucket?list-type=2&prefix=files/`));
    assert.equal(hook.status, 'ready', hook.error);
    let list = await drawnList(page);
    assert.deepEqual(list.map((e) => [e.name, e.url]), [
      ['files/vector.h5', `${host.origin}/bucket/files/vector.h5`],
      ['files/tumvie.h5', `${host.origin}/bucket/files/tumvie.h5`]]);
    assert.equal(shownEvents(list[1].meta), fixture('tumvie').info.events);
    assert.match(await page.locator('#list-note').textContent(), /1 other files or directories left out/);

    hook = await open(page, listUrl(ctx.site.origin, `${host.origin}/auto/`));
    assert.equal(hook.status, 'ready', hook.error);
    list = await drawnList(page);
    assert.deepEqual(list.map((e) => [e.name, e.url]), [['rvt.h5', `${host.origin}/auto/rvt.h5`]]);
    assert.equal(shownEvents(list[0].meta), fixture('rvt').info.events);
    assert.equal(hook.recording.events, fixture('rvt').info.events);
    await page.close();
  });

  test('what is no listing, and a huge one, are refused with one line saying what was expected', async () => {
    const page = await newPage(ctx.browser);
    let hook = await open(page, listUrl(ctx.site.origin, `${host.origin}/page.html`));
    assert.equal(hook.status, 'error');
    assert.match(hook.error, /expected a JSON manifest \[\{"url": …, "name": …\}\], an S3 ListObjectsV2 answer/);
    assert.match(hook.error, /starts with "<!DOCTYPE html>/);
    assert.doesNotMatch(hook.error, /\n/);
    hook = await open(page, listUrl(ctx.site.origin, `${host.origin}/huge.json`));
    assert.equal(hook.status, 'error');
    assert.match(hook.error, /split it into smaller listings/);
    assert.equal(await page.locator('#list-entries li').count(), 0);
    await page.close();
  });
});

describe('a host without CORS', () => {
  let relay = null;
  let relayOrigin = null;
  before(async () => {
    // The page's own server, started as the message says: with --relay for the host's directory.
    const probe = createServer();
    await new Promise((done) => probe.listen(0, '127.0.0.1', done));
    const port = probe.address().port;
    await new Promise((done) => probe.close(done));
    relayOrigin = `http://127.0.0.1:${port}`;
    const bin = join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'strobe');
    relay = spawn(bin, ['serve', '--site', ROOT, '--port', String(port), '--bind', '127.0.0.1',
      '--relay', `${host.origin}/nocors/`], { stdio: 'ignore' });
    for (let i = 0; i < 200; i += 1) {
      try {
        if ((await fetch(`${relayOrigin}/index.html`)).ok) return;
      } catch { /* not up yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('strobe serve --relay did not start');
  });
  afterAll(() => relay?.kill());

  test('fails with the exact relay command and link; through the relay the window is h5py\'s', async () => {
    const w = manifestWindow('vector', '50ms_unaligned_middle');
    const url = `${host.origin}/nocors/vector.h5`;
    const page = await newPage(ctx.browser);
    let hook = await open(page, viewerUrl(relayOrigin, { url, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'error');
    const relayUrl = `${relayOrigin}/relay?url=${encodeURIComponent(url)}`;
    assert.ok(hook.error.includes(`\`strobe serve --relay ${host.origin}/nocors/\``), hook.error);
    assert.ok(hook.error.includes(`${relayOrigin}/index.html?url=${encodeURIComponent(relayUrl)}`), hook.error);
    assert.doesNotMatch(hook.error, /try again/i);
    page.problems.length = 0; // the browser logs the blocked reads

    hook = await open(page, viewerUrl(relayOrigin, { url: relayUrl, t: w.from, dt: w.to - w.from }));
    assert.equal(hook.status, 'ready', hook.error);
    assert.deepEqual(digestOf(hook.window), digestOf(w));
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('a listing on that host: the message links it through the relay, and its recordings are read through it', async () => {
    const list = `${host.origin}/nocors/list.json`;
    const page = await newPage(ctx.browser);
    let hook = await open(page, listUrl(relayOrigin, list));
    assert.equal(hook.status, 'error');
    const relayList = `${relayOrigin}/relay?url=${encodeURIComponent(list)}`;
    assert.ok(hook.error.includes(`\`strobe serve --relay ${host.origin}/nocors/\``), hook.error);
    assert.ok(hook.error.includes(`${relayOrigin}/index.html?list=${encodeURIComponent(relayList)}`), hook.error);
    page.problems.length = 0;

    hook = await open(page, listUrl(relayOrigin, relayList));
    assert.equal(hook.status, 'ready', hook.error);
    const drawn = await drawnList(page);
    assert.deepEqual(drawn.map((e) => e.url), ['vector.h5', 'rvt.h5'].map((f) => `${relayOrigin}/relay?url=${encodeURIComponent(`${host.origin}/nocors/${f}`)}`));
    assert.deepEqual(drawn.map((e) => shownEvents(e.meta)), [fixture('vector').info.events, fixture('rvt').info.events]);
    assert.equal(hook.recording.events, fixture('vector').info.events);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
