//! The engine as the browser viewer sees it: one [`Viewer`] object that opens a recording (by
//! URL or from a local `File`), reads windows into a per-pixel count frame, and reports what
//! it read. The page's JavaScript only draws the frame and wires controls.
//!
//! Every call that starts work (`open_url`, `open_file`, `window`) takes a new generation
//! number; work of an older generation stops at its next await and resolves to `null`, so a
//! newer request always supersedes an older one and never mixes its events into the frame.

use std::cell::RefCell;
use std::rc::Rc;

use futures::channel::oneshot;
use js_sys::{Function, Promise, Uint32Array};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use web_sys::Blob;

use crate::events::layout::TimeBase;
use crate::events::WindowReader;
use crate::events::{LayoutOverrides, Recording, Summary, TimeSpec, Window, WindowDigest};
use crate::export::npz::NpzFact;
use crate::source::blob::BlobSource;
use crate::source::{RangeCache, RangeSource};

pub use crate::events::rate::{rate_curve, sampled_rate_curve, RateCurve};
pub use crate::render::Frame;

use crate::open::Cache;

mod decode_workers;

/// Largest sensor the viewer allocates a frame for (pixels); more means a bad size.
const MAX_PIXELS: u64 = 1 << 26;
/// Bins of the timeline's rate curve.
const RATE_BINS: usize = 1200;
/// Timestamps read for the rate curve of a recording without a millisecond table.
const RATE_SAMPLES: u64 = 64;
/// The page's byte cache: above a long window's prefetched slab (32 MiB) with room for index
/// nodes, and small enough that the tab's wasm memory stays under ~96 MB however long it scrubs
/// (linear memory never shrinks, so its peak is what the tab keeps; 44 MiB gave 92–98 MB).
const PAGE_CACHE_BUDGET: u64 = 36 << 20;
/// Cache of each listed recording's summary: its metadata and two timestamp chunks.
const LISTING_CACHE_BUDGET: u64 = 4 << 20;
/// Most events the page saves as one NPZ (13 bytes each in wasm memory while it is built).
const MAX_NPZ_EVENTS: u64 = 2_000_000;
/// Largest integer a JS Number holds exactly.
const MAX_SAFE: i128 = (1 << 53) - 1;

/// An opened recording.
struct Session {
    cache: Rc<Cache>,
    rec: Recording,
    summary: Summary,
    info: Value,
}

#[derive(Default)]
struct Shared {
    generation: u64,
    session: Option<Rc<Session>>,
    frame: Frame,
    /// Dropped when the running open or window is cancelled or superseded: the read is then
    /// dropped at once, which aborts its fetches (instead of letting them run to the end).
    stop: Option<oneshot::Sender<()>>,
    /// Dataset paths of x, y, t, p picked on the page for the next opens (none: detected).
    columns: LayoutOverrides,
}

/// Runs `work` until it ends or its stop signal fires (resolving to `null` then).
async fn unless_stopped<F>(work: F, stop: oneshot::Receiver<()>) -> Result<JsValue, JsValue>
where
    F: std::future::Future<Output = Result<JsValue, JsValue>>,
{
    let work = std::pin::pin!(work);
    match futures::future::select(work, stop).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Ok(JsValue::NULL),
    }
}

/// The viewer's engine: at most one open recording and the frame of its last window.
#[wasm_bindgen]
pub struct Viewer {
    shared: Rc<RefCell<Shared>>,
}

impl Default for Viewer {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl Viewer {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Viewer {
        Viewer {
            shared: Rc::new(RefCell::new(Shared::default())),
        }
    }

    /// Opens the recording at `url` (`http:` or `https:` only). Resolves to the info JSON
    /// (see [`Viewer::info`]), or `null` when a newer request superseded it; rejects with an
    /// `Error` whose message says what went wrong and what to do.
    ///
    /// `camera` picks one camera of a multi-camera file (M3ED: `left`, `right`); `None`
    /// opens the first. `from`/`dt`: the first window the page will ask for (`from` absent:
    /// the recording's start); its bytes are fetched in the same rounds as the summary's, so
    /// the first picture costs no more rounds than the window alone.
    pub fn open_url(
        &self,
        url: String,
        camera: Option<String>,
        from: Option<f64>,
        dt: Option<f64>,
    ) -> Promise {
        if let Err(msg) = check_url(&url) {
            return Promise::reject(&js_sys::Error::new(&msg).into());
        }
        // A server that ignores Range still works for small files (read whole, kept in memory).
        let options = page_options(
            LayoutOverrides::default(),
            crate::source::SUGGESTED_WHOLE_FILE_LIMIT,
        );
        match crate::open::source(&url, &options) {
            Ok(source) => self.open(source, camera, first_window(from, dt)),
            Err(e) => Promise::reject(&js_sys::Error::new(&e.to_string()).into()),
        }
    }

    /// Opens a local file (or any Blob): only the byte ranges needed are read, nothing is
    /// uploaded. Resolves and rejects like [`Viewer::open_url`].
    pub fn open_file(
        &self,
        blob: Blob,
        camera: Option<String>,
        from: Option<f64>,
        dt: Option<f64>,
    ) -> Promise {
        self.open(
            Box::new(BlobSource::new(blob)),
            camera,
            first_window(from, dt),
        )
    }

    /// The open recording as JSON: source, layout, paths, cameras, datasets, events,
    /// t_first, t_last, t_offset, width, height, and `rate` (the event-rate curve from the
    /// millisecond table, or null). `undefined` when nothing is open.
    pub fn info(&self) -> Option<String> {
        let shared = self.shared.borrow();
        shared.session.as_ref().map(|s| s.info.to_string())
    }

    /// Reads the window `[from, to)` (µs of the stored t) into the frame, batch by batch,
    /// calling `progress(events_so_far, expected)` once before the first batch and after each
    /// (the frame then holds those events; `expected`: events the time index puts in the
    /// window, NaN without one). Resolves to the window's JSON (the digest of `strobe window --json`, plus
    /// `negative`, `outside`, `max_total` and `net`), or `null` when superseded.
    pub fn window(&self, from: f64, to: f64, progress: Option<Function>) -> Promise {
        let window = match (to_time(from, "from"), to_time(to, "to")) {
            (Ok(from), Ok(to)) => Window { from, to },
            (Err(msg), _) | (_, Err(msg)) => {
                return Promise::reject(&js_sys::Error::new(&msg).into())
            }
        };
        let (stop_tx, stop) = oneshot::channel();
        // Chunks posted to the decode workers for a superseded window: not wanted any more.
        crate::hdf5::decode_pool::forget_ahead();
        let (generation, session) = {
            let mut shared = self.shared.borrow_mut();
            shared.generation += 1;
            shared.stop = Some(stop_tx);
            shared.frame.clear(window.from);
            (shared.generation, shared.session.clone())
        };
        let Some(session) = session else {
            return Promise::reject(&js_sys::Error::new("no recording is open").into());
        };
        let shared = self.shared.clone();
        let read = async move {
            read_window(shared, generation, session, window, progress)
                .await
                .map_err(|msg| js_sys::Error::new(&msg).into())
        };
        future_to_promise(unless_stopped(read, stop))
    }

    /// The event-rate curve from sampled timestamps, for recordings without a millisecond
    /// table (theirs comes with the info): one round of `RATE_SAMPLES` chunk reads of `t`.
    /// Resolves to `{start, bin_us, counts}`, or `null` when there is nothing to sample.
    pub fn sampled_rate(&self) -> Promise {
        let session = self.shared.borrow().session.clone();
        future_to_promise(async move {
            let Some(session) = session else {
                return Ok(JsValue::NULL);
            };
            let (rec, summary) = (&session.rec, &session.summary);
            let (Some(first), Some(last)) = (summary.t_first, summary.t_last) else {
                return Ok(JsValue::NULL);
            };
            let n = rec.events;
            let rows: Vec<u64> = (0..=RATE_SAMPLES)
                .map(|k| (n.saturating_sub(1)).saturating_mul(k) / RATE_SAMPLES)
                .collect();
            let samples = crate::events::time_index::sample_times(rec, &rows)
                .await
                .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
            let curve = sampled_rate_curve(&samples, n, first, last, RATE_BINS);
            Ok(curve.map_or(JsValue::NULL, |c| {
                JsValue::from_str(&serde_json::to_string(&c).unwrap_or_default())
            }))
        })
    }

    /// The window `[from, to)` as an `.npz` (x, y, t, p as stored; `numpy.load` reads it),
    /// built in memory for a download: resolves to its bytes (`Uint8Array`). Windows of more
    /// than `MAX_NPZ_EVENTS` events are refused with a message pointing at `strobe export`,
    /// which streams to disk.
    pub fn npz(&self, from: f64, to: f64) -> Promise {
        let window = match (to_time(from, "from"), to_time(to, "to")) {
            (Ok(from), Ok(to)) => Window { from, to },
            (Err(msg), _) | (_, Err(msg)) => {
                return Promise::reject(&js_sys::Error::new(&msg).into())
            }
        };
        let session = self.shared.borrow().session.clone();
        future_to_promise(async move {
            let fail = |msg: String| JsValue::from(js_sys::Error::new(&msg));
            let Some(session) = session else {
                return Err(fail("no recording is open".into()));
            };
            let rec = &session.rec;
            let (first, events) =
                crate::events::enumerate::window_rows(rec, window.from, window.to)
                    .await
                    .map_err(|e| fail(e.to_string()))?;
            if events > MAX_NPZ_EVENTS {
                return Err(fail(format!(
                    "this window holds {events} events; the page saves at most {MAX_NPZ_EVENTS} \
                     as NPZ — pick a shorter window, or run `strobe export <url> --from {} --to {} \
                     --out window.npz`, which streams any length to disk",
                    window.from, window.to
                )));
            }
            let base = crate::export::convert::TimeBase::new(&session.summary, window.from);
            let options = crate::export::ExportOptions::default();
            let facts = npz_facts(&session, window);
            let facts: Vec<(&str, NpzFact)> =
                facts.iter().map(|(n, f)| (n.as_str(), f.clone())).collect();
            let (out, _) = crate::export::npz::write_window_with_facts(
                std::io::Cursor::new(Vec::new()),
                rec,
                window.to,
                &options,
                &base,
                &facts,
                Some(first..first.saturating_add(events)),
            )
            .await
            .map_err(|e| fail(e.to_string()))?;
            Ok(js_sys::Uint8Array::from(out.into_inner().as_slice()).into())
        })
    }

    /// Stops whatever is being read (its promise resolves to `null`).
    pub fn cancel(&self) {
        let mut shared = self.shared.borrow_mut();
        shared.generation += 1;
        shared.stop = None;
    }

    /// Network accounting since the recording was opened, as JSON: requests, bytes, rounds,
    /// hits, misses, cached_bytes.
    pub fn net(&self) -> String {
        let shared = self.shared.borrow();
        match &shared.session {
            Some(s) => net_json(&s.cache).to_string(),
            None => json!({"requests": 0, "bytes": 0, "rounds": 0, "hits": 0, "misses": 0,
                           "cached_bytes": 0})
            .to_string(),
        }
    }

    /// A copy of the frame's counts: `2 * width * height` u32, positive and negative per
    /// pixel, rows from y = 0.
    pub fn frame_counts(&self) -> Uint32Array {
        let shared = self.shared.borrow();
        Uint32Array::from(shared.frame.counts().as_slice())
    }

    /// A copy of the frame's latest event time per pixel (`width * height` u32, rows from
    /// y = 0): `t - from + 1` of the window's last event there, 0 where there was none.
    pub fn frame_last(&self) -> Uint32Array {
        let shared = self.shared.borrow();
        Uint32Array::from(shared.frame.last_times().as_slice())
    }

    /// A copy of the frame's point sample for the x-y-t cloud: `x, y, t - from, positive`
    /// (u32 each) per event, at most `render::MAX_POINTS` events.
    pub fn frame_points(&self) -> Uint32Array {
        let shared = self.shared.borrow();
        Uint32Array::from(shared.frame.points.as_slice())
    }

    pub fn frame_width(&self) -> u32 {
        self.shared.borrow().frame.width
    }

    pub fn frame_height(&self) -> u32 {
        self.shared.borrow().frame.height
    }

    /// Bytes of WebAssembly linear memory the engine holds (it only grows), for the page's
    /// memory report and the benchmark.
    pub fn memory_bytes(&self) -> f64 {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .map(|m| {
                m.buffer()
                    .dyn_into::<js_sys::ArrayBuffer>()
                    .map_or(0.0, |b| f64::from(b.byte_length()))
            })
            .unwrap_or(0.0)
    }

    /// The per-pixel count the heatmap saturates at (99th percentile of lit pixels).
    pub fn frame_scale(&self) -> u32 {
        self.shared.borrow().frame.scale()
    }

    /// Fetches what the window `[from, to)` will read (index nodes and chunks) into the byte
    /// cache, without touching the frame and without superseding the window being read:
    /// playback asks for the next windows while one is drawn. Resolves to `null`; read errors
    /// are left for the window itself to report.
    pub fn prefetch(&self, from: f64, to: f64) -> Promise {
        let session = self.shared.borrow().session.clone();
        let window = match (to_time(from, "from"), to_time(to, "to")) {
            (Ok(from), Ok(to)) if from <= to => Window { from, to },
            _ => return Promise::resolve(&JsValue::NULL),
        };
        future_to_promise(async move {
            if let Some(session) = session {
                let _ = WindowReader::prefetch(&session.rec, window).await;
            }
            Ok(JsValue::NULL)
        })
    }

    /// The dataset paths of x, y, t and p for the next opens (the page's dataset chooser, for
    /// files whose columns are not found by name); `None` for all: detect them again.
    pub fn set_columns(
        &self,
        x: Option<String>,
        y: Option<String>,
        t: Option<String>,
        p: Option<String>,
    ) {
        self.shared.borrow_mut().columns = LayoutOverrides {
            x,
            y,
            t,
            p,
            ..Default::default()
        };
    }

    /// The numeric 1-D datasets of the file at `url` as JSON `[{path, dtype, rows}]`, for the
    /// dataset chooser: metadata only, no event data.
    pub fn datasets_url(&self, url: String) -> Promise {
        if let Err(msg) = check_url(&url) {
            return Promise::reject(&js_sys::Error::new(&msg).into());
        }
        let options = page_options(
            LayoutOverrides::default(),
            crate::source::SUGGESTED_WHOLE_FILE_LIMIT,
        );
        match crate::open::source(&url, &options) {
            Ok(source) => list_datasets(source),
            Err(e) => Promise::reject(&js_sys::Error::new(&e.to_string()).into()),
        }
    }

    /// What the page shows of one recording of a listing while it is not the open one: JSON
    /// `{layout, events, t_first, t_last, duration_s, width, height}` — metadata and the first
    /// and last timestamp only, through its own small cache; the open recording is untouched.
    pub fn summary_url(&self, url: String) -> Promise {
        if let Err(msg) = check_url(&url) {
            return Promise::reject(&js_sys::Error::new(&msg).into());
        }
        let mut options = page_options(LayoutOverrides::default(), 0);
        options.cache_bytes = LISTING_CACHE_BUDGET;
        future_to_promise(async move {
            let fail = |msg: String| JsValue::from(js_sys::Error::new(&msg));
            let opened = crate::open::open(&url, &options)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let s = opened.summary().await.map_err(|e| fail(e.to_string()))?;
            let duration_s = match (s.t_first, s.t_last) {
                (Some(a), Some(b)) => (b - a) as f64 / 1e6,
                _ => 0.0,
            };
            let out = json!({
                "layout": opened.recording.layout,
                "events": s.events,
                "t_first": s.t_first,
                "t_last": s.t_last,
                "duration_s": duration_s,
                "width": s.width,
                "height": s.height,
            });
            Ok(JsValue::from_str(&out.to_string()))
        })
    }

    /// [`Viewer::datasets_url`] of a local file.
    pub fn datasets_file(&self, blob: Blob) -> Promise {
        list_datasets(Box::new(BlobSource::new(blob)))
    }

    /// A time as typed in the page's go-to field or a link's `t=` (every form of
    /// [`TimeSpec`]: `123456`, `abs:36610700798`, `3.4s`, `01:02.5`), placed in the open
    /// recording: JSON `{t, form}` with `t` in µs of the stored t and `form` one of `stored`,
    /// `abs`, `start`. Throws the parser's one-line message, or when nothing is open.
    pub fn resolve_time(&self, text: &str) -> Result<String, JsValue> {
        let fail = |msg: String| JsValue::from(js_sys::Error::new(&msg));
        let spec = TimeSpec::parse(text).map_err(|e| fail(e.to_string()))?;
        let shared = self.shared.borrow();
        let Some(session) = shared.session.as_ref() else {
            return Err(fail("no recording is open".into()));
        };
        let t = spec
            .resolve(session.summary.t_first, session.summary.t_offset)
            .map_err(|e| fail(e.to_string()))?;
        if i128::from(t).abs() > MAX_SAFE {
            return Err(fail(format!("'{text}' is out of range")));
        }
        Ok(json!({"t": t, "form": spec.form.name()}).to_string())
    }
}

impl Viewer {
    fn open(
        &self,
        source: Box<dyn RangeSource>,
        camera: Option<String>,
        first: Option<FirstWindow>,
    ) -> Promise {
        let (stop_tx, stop) = oneshot::channel();
        let generation = {
            let mut shared = self.shared.borrow_mut();
            shared.generation += 1;
            shared.stop = Some(stop_tx);
            shared.session = None;
            shared.frame = Frame::default();
            shared.generation
        };
        let overrides = LayoutOverrides {
            camera: camera.filter(|c| !c.is_empty()),
            ..self.shared.borrow().columns.clone()
        };
        let shared = self.shared.clone();
        future_to_promise(unless_stopped(
            async move {
                let session = open_session(source, overrides, first)
                    .await
                    .map_err(|msg| JsValue::from(js_sys::Error::new(&msg)))?;
                let mut shared = shared.borrow_mut();
                if shared.generation != generation {
                    return Ok(JsValue::NULL);
                }
                let info = session.info.to_string();
                shared.frame = Frame::new(session.summary.width, session.summary.height);
                shared.session = Some(Rc::new(session));
                Ok(JsValue::from_str(&info))
            },
            stop,
        ))
    }
}

/// A listing fetched from `url` (manifest, S3 `ListObjectsV2` XML or nginx autoindex JSON) as
/// JSON `{form, entries: [{url, name}], skipped_schemes, skipped_other, truncated}`: only
/// http(s) entries, absolute. Throws a one-line message saying what was expected.
#[wasm_bindgen]
pub fn parse_listing(text: &str, url: &str) -> Result<String, JsValue> {
    let listing = crate::listing::parse(text, url)
        .map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))?;
    serde_json::to_string(&listing).map_err(|e| JsValue::from(js_sys::Error::new(&e.to_string())))
}

/// Most bytes of a listing the page reads before refusing it (it stops fetching there).
#[wasm_bindgen]
pub fn max_listing_bytes() -> f64 {
    crate::listing::MAX_LISTING_BYTES as f64
}

/// Only `http:` and `https:` URLs are fetched (never `javascript:`, `data:`, `file:`, ...).
pub fn check_url(url: &str) -> Result<(), String> {
    let lower = url.trim_start().to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(())
    } else {
        let scheme = url.split(':').next().unwrap_or("").chars().take(32);
        Err(format!(
            "only http: and https: URLs can be opened (this one starts with \"{}:\")",
            scheme.collect::<String>()
        ))
    }
}

/// A time from JS: an integer Number (exact up to 2^53).
fn to_time(v: f64, name: &str) -> Result<i64, String> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= MAX_SAFE as f64 {
        Ok(v as i64)
    } else {
        Err(format!(
            "window {name} must be a whole number of µs, got {v}"
        ))
    }
}

/// The window the page will show first: `from` (None: the recording's start) and its length.
#[derive(Debug, Clone, Copy)]
struct FirstWindow {
    from: Option<i64>,
    dt: i64,
}

fn first_window(from: Option<f64>, dt: Option<f64>) -> Option<FirstWindow> {
    let dt = to_time(dt?, "dt").ok()?.max(0);
    let from = match from {
        Some(v) => Some(to_time(v, "from").ok()?),
        None => None,
    };
    Some(FirstWindow { from, dt })
}

/// Fetches what the first window will read (its index nodes and chunks), while the summary's
/// reads are in flight, so both share rounds. Best effort: the window itself reports errors.
async fn prefetch_first(rec: &Recording, first: Option<FirstWindow>) {
    let Some(first) = first else { return };
    let from = match first.from {
        Some(from) => from,
        // The start to the millisecond: the window from the exact first event lies within.
        None => match crate::events::time_index::start_estimate(rec) {
            Some(ms) => ms,
            None => return,
        },
    };
    let slack = if first.from.is_some() { 0 } else { 1000 };
    let to = from.saturating_add(first.dt).saturating_add(slack);
    let _ = WindowReader::prefetch(rec, Window { from, to }).await;
}

/// The page's open options: its cache budget, the camera and columns it asked for, and
/// whether a server that ignores Range may be read whole.
fn page_options(layout: LayoutOverrides, whole_file_limit: u64) -> crate::open::OpenOptions {
    crate::open::OpenOptions {
        layout,
        cache_bytes: PAGE_CACHE_BUDGET,
        whole_file_limit,
        ..Default::default()
    }
}

async fn open_session(
    source: Box<dyn RangeSource>,
    overrides: LayoutOverrides,
    first: Option<FirstWindow>,
) -> Result<Session, String> {
    let crate::open::Opened {
        cache,
        recording: rec,
    } = crate::open::open_source(source, &page_options(overrides, 0))
        .await
        .map_err(|e| e.to_string())?;
    let (summary, ()) = futures::join!(rec.summary(), prefetch_first(&rec, first));
    let summary = summary.map_err(|e| e.to_string())?;
    if u64::from(summary.width) * u64::from(summary.height) > MAX_PIXELS {
        return Err(format!(
            "{}: sensor size {}×{} is too large to draw (is x or y garbage?)",
            rec.what(),
            summary.width,
            summary.height
        ));
    }
    let info = info_json(&cache, &rec, &summary);
    Ok(Session {
        cache,
        rec,
        summary,
        info,
    })
}

async fn read_window(
    shared: Rc<RefCell<Shared>>,
    generation: u64,
    session: Rc<Session>,
    window: Window,
    progress: Option<Function>,
) -> Result<JsValue, String> {
    let current = || shared.borrow().generation == generation;
    let rec = &session.rec;
    let mut reader = WindowReader::open(rec, window)
        .await
        .map_err(|e| e.to_string())?;
    // Events the time index expects in the window (rows between its bounds), for progress:
    // the reader located them once, for its own plan too.
    let expected = if rec.ms_index.is_some() {
        reader.expected_rows() as f64
    } else {
        f64::NAN
    };
    if let Some(f) = &progress {
        let _ = f.call2(
            &JsValue::NULL,
            &JsValue::from_f64(0.0),
            &JsValue::from_f64(expected),
        );
    }
    let mut digest = WindowDigest::new(rec, window);
    // Where the time goes (ms): reading (fetch + decode), counting into the frame, digesting.
    let (mut read_ms, mut frame_ms, mut digest_ms) = (0.0, 0.0, 0.0);
    // A batch read and not yet counted: it is counted into the frame while the next one is
    // read, so the frame's work overlaps the decode workers' (and a cold read's fetches).
    let mut unread: Option<crate::events::EventBatch> = None;
    loop {
        if !current() {
            return Ok(JsValue::NULL);
        }
        let t0 = now_ms();
        let previous = unread.take();
        let count = async {
            let Some(batch) = previous else {
                return (0.0, 0.0);
            };
            count_batch(&shared, &mut digest, &batch, &progress, expected)
        };
        let (batch, (spent_digest, spent_frame)) = futures::join!(reader.next_batch(), count);
        digest_ms += spent_digest;
        frame_ms += spent_frame;
        read_ms += now_ms() - t0 - spent_digest - spent_frame;
        let batch = batch.map_err(|e| e.to_string())?;
        if !current() {
            return Ok(JsValue::NULL);
        }
        let Some(batch) = batch else { break };
        unread = Some(batch);
    }
    if let Some(batch) = unread {
        let (spent_digest, spent_frame) =
            count_batch(&shared, &mut digest, &batch, &progress, expected);
        digest_ms += spent_digest;
        frame_ms += spent_frame;
    }
    digest.first_index = reader.first_index().unwrap_or(rec.events);
    let shared = shared.borrow();
    let frame = &shared.frame;
    let (active, pos_pixels, neg_pixels) = frame.pixels();
    let out = json!({
        "from": window.from,
        "to": window.to,
        "events": digest.events,
        "first_index": digest.first_index,
        "sum_x": js_int(digest.sum_x),
        "sum_y": js_int(digest.sum_y),
        "sum_t": js_int(digest.sum_t),
        "sum_p": js_int(digest.sum_p),
        "positive": digest.positive,
        "negative": digest.events - digest.positive,
        "dtypes": digest.dtypes,
        "stored_dtypes": digest.stored_dtypes,
        "outside": frame.outside,
        "max_total": frame.max_total(),
        "scale": frame.scale(),
        "pixels": {"active": active, "positive": pos_pixels, "negative": neg_pixels},
        "net": net_json(&session.cache),
        "timing": {"read_ms": read_ms, "frame_ms": frame_ms, "digest_ms": digest_ms},
    });
    Ok(JsValue::from_str(&out.to_string()))
}

/// Adds a batch to the window's digest and frame and reports progress: the ms each took.
fn count_batch(
    shared: &RefCell<Shared>,
    digest: &mut WindowDigest,
    batch: &crate::events::EventBatch,
    progress: &Option<Function>,
    expected: f64,
) -> (f64, f64) {
    let t1 = now_ms();
    digest.add(batch);
    let t2 = now_ms();
    shared.borrow_mut().frame.add(batch);
    let t3 = now_ms();
    if let Some(f) = progress {
        // No borrow is held here: the callback may read the frame.
        let _ = f.call2(
            &JsValue::NULL,
            &JsValue::from_f64(digest.events as f64),
            &JsValue::from_f64(expected),
        );
    }
    (t2 - t1, t3 - t2)
}

/// A number JS reads exactly: a JSON number up to 2^53, else a decimal string.
fn js_int(v: i128) -> Value {
    if v.abs() <= MAX_SAFE {
        json!(v as i64)
    } else {
        json!(v.to_string())
    }
}

fn net_json(cache: &Cache) -> Value {
    let s = cache.stats();
    json!({
        "requests": s.requests,
        "bytes": s.bytes,
        "rounds": s.rounds,
        "hits": s.hits,
        "misses": s.misses,
        "cached_bytes": cache.cached_bytes(),
    })
}

fn info_json(cache: &Cache, rec: &Recording, summary: &Summary) -> Value {
    let rate = match (&rec.ms_table, summary.t_first, summary.t_last) {
        (Some(table), Some(first), Some(last)) => {
            // M3ED counts milliseconds from the first event, the others from t = 0.
            let base = match rec.layout.time_base() {
                TimeBase::FirstEvent => first,
                TimeBase::Zero => 0,
            };
            rate_curve(table, base, summary.events, first, last, RATE_BINS)
        }
        _ => None,
    };
    let mut info = serde_json::to_value(rec.info(summary.clone())).unwrap_or_default();
    if let Some(map) = info.as_object_mut() {
        map.insert("source".into(), json!(cache.describe()));
        map.insert("camera".into(), json!(opened_camera(rec)));
        map.insert("rate".into(), json!(rate));
    }
    info
}

/// The numeric 1-D datasets of a file (path, dtype, rows), for the page's dataset chooser.
fn list_datasets(source: Box<dyn RangeSource>) -> Promise {
    future_to_promise(async move {
        let fail = |msg: String| JsValue::from(js_sys::Error::new(&msg));
        let cache = Rc::new(RangeCache::new(source, PAGE_CACHE_BUDGET));
        let file = crate::hdf5::H5File::open(cache as Rc<dyn RangeSource>)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let objects = file.objects().await.map_err(|e| fail(e.to_string()))?;
        let list: Vec<Value> = objects
            .iter()
            .filter_map(|o| o.dataset.as_ref())
            .filter(|d| d.shape.len() == 1 && d.dtype.is_some())
            .map(|d| {
                let s = d.summary();
                json!({"path": s.path, "dtype": s.dtype, "rows": d.rows()})
            })
            .collect();
        Ok(JsValue::from_str(&Value::Array(list).to_string()))
    })
}

/// What a saved window is, stored beside its columns: `t_offset`, `from`, `to` (µs of the
/// stored t), the sensor's `width` and `height`, the `source` and `layout`, and each column's
/// dtype as stored in the file (`x_stored_dtype`, …; the arrays themselves are the `.npz`
/// dtypes of `strobe export`).
fn npz_facts(session: &Session, window: Window) -> Vec<(String, NpzFact)> {
    let summary = &session.summary;
    let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
    let mut facts = vec![
        ("t_offset".to_string(), NpzFact::Int(summary.t_offset)),
        ("from".to_string(), NpzFact::Int(window.from)),
        ("to".to_string(), NpzFact::Int(window.to)),
        ("width".to_string(), NpzFact::Int(i64::from(summary.width))),
        (
            "height".to_string(),
            NpzFact::Int(i64::from(summary.height)),
        ),
        (
            "source".to_string(),
            NpzFact::Text(text(&session.info["source"])),
        ),
        (
            "layout".to_string(),
            NpzFact::Text(text(&session.info["layout"])),
        ),
    ];
    let datasets = session.info["datasets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for column in ["x", "y", "t", "p"] {
        let path = &session.info["paths"][column];
        let dtype = datasets
            .iter()
            .find(|d| &d["path"] == path)
            .map_or_else(|| "?".to_string(), |d| text(&d["dtype"]));
        facts.push((format!("{column}_stored_dtype"), NpzFact::Text(dtype)));
    }
    facts
}

/// The camera a multi-camera recording (M3ED, MVSEC) was opened at, else null.
fn opened_camera(rec: &Recording) -> Option<String> {
    if rec.cameras.len() < 2 {
        return None;
    }
    crate::events::layout::camera_of(&rec.paths)
}

/// `performance.now()` where there is one (the page, its worker): `Date.now()` counts whole
/// milliseconds, too coarse for the phase timers of batches that take a few.
fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}
