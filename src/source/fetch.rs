//! Bytes over HTTP from inside the browser: the range client over `fetch`.
//!
//! Works in a page and in a Web Worker (it uses whichever global scope it runs in). This
//! module only moves bytes — one `fetch` with a `Range` header per range, its body read piece
//! by piece, each wait bounded by the stall limit — while every decision (what a response
//! means, what to retry, whole-file fallback, change detection) is made once, for the native
//! source too, in [`super::protocol`]. What a browser adds is CORS: a cross-origin server must
//! allow the page (`Access-Control-Allow-Origin`) and expose `Content-Range` to scripts
//! (`Access-Control-Expose-Headers`), and the errors here say so when that is the likely cause.
//! Every request still running when its body is dropped is aborted (`AbortController`), so
//! cancelling a load stops its downloads at once.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::{select, Either};
use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, Headers, Request, RequestCache, RequestInit, RequestMode, Response, Window,
    WorkerGlobalScope,
};

use super::protocol::client::{Ask, Next, RangeClient, Sent, TransferError, Transport};
use super::protocol::Head;

pub use super::protocol::headers::{parse_content_range, ContentRange};

/// How many range requests one `read_ranges` call keeps in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// What a cross-origin server must send so that range reads work from a page.
const CORS_FIX: &str = "the server must send `Access-Control-Allow-Origin` and \
    `Access-Control-Expose-Headers: Content-Range, Content-Length, ETag, Accept-Ranges`";

/// A file behind a URL, read with browser `fetch` range requests.
pub type FetchSource = RangeClient<BrowserFetch>;

/// The browser transport: `fetch` on the page's or the worker's global scope.
#[derive(Debug, Default)]
pub struct BrowserFetch;

impl FetchSource {
    /// A source for `url` (absolute, or relative to the page). Nothing is fetched yet.
    pub fn new(url: impl Into<String>) -> Self {
        RangeClient::over(url, BrowserFetch, Some(CORS_FIX))
    }
}

/// A response being read: its body's reader, and the abort that ends the download when this
/// is dropped (on every exit from a try, and when a caller drops a read).
pub struct FetchBody {
    reader: Option<JsValue>,
    _abort: AbortOnDrop,
}

/// A transport failure, with the likely causes a browser hides behind it.
fn broken(during: &str, err: &JsValue) -> TransferError {
    TransferError::Broken(format!(
        "{during}: {} — likely causes: the server does not let this page read it \
         cross-origin ({CORS_FIX}); the server is down or unreachable; or it sends the \
         file compressed and the browser could not decode a piece of it (turn off \
         gzip/brotli for .h5 files)",
        js_error_text(err)
    ))
}

/// Awaits `promise`, or gives up on it after `stall` (`Err(None)`).
async fn within(stall: Duration, promise: Promise) -> Result<JsValue, Option<JsValue>> {
    let timer = Timer::start(stall.as_millis().min(i32::MAX as u128) as i32);
    match select(JsFuture::from(promise), timer).await {
        Either::Left((result, _)) => result.map_err(Some),
        Either::Right(_) => Err(None),
    }
}

/// `GET url` with `Range: range`, past the browser's HTTP cache, abortable through `abort`.
fn request(url: &str, range: &str, abort: &AbortController) -> Result<Request, TransferError> {
    let unusable = |e: JsValue| {
        TransferError::Unusable(format!("could not build a request: {}", js_error_text(&e)))
    };
    let headers = Headers::new().map_err(unusable)?;
    headers.set("Range", range).map_err(unusable)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::Cors);
    // Past the browser's HTTP cache: Chromium lets one request per URL through its cache
    // at a time, so a round's ranges of one file arrived one by one (a 60-request seek
    // took 3.4 s behind 50 ms of latency). Strobe's own cache keeps the bytes.
    init.set_cache(RequestCache::NoStore);
    init.set_headers(&headers);
    init.set_signal(Some(&abort.signal()));
    Request::new_with_str_and_init(url, &init).map_err(|e| {
        TransferError::Unusable(format!(
            "not a URL the browser can fetch: {}",
            js_error_text(&e)
        ))
    })
}

#[async_trait(?Send)]
impl Transport for BrowserFetch {
    const MAX_IN_FLIGHT: usize = MAX_IN_FLIGHT;
    const SUFFIX_RANGES: bool = false;
    type Piece = Uint8Array;
    type Body = FetchBody;

    async fn send(&self, ask: Ask<'_>) -> Sent<FetchBody> {
        let abort = AbortController::new()
            .map(AbortOnDrop)
            .map_err(|e| broken("could not set up a request", &e))?;
        let request = request(ask.url, ask.range, &abort.0)?;
        let promise = start_fetch(&request).map_err(|e| broken("fetch failed", &e))?;
        let response = match within(ask.stall, promise).await {
            Ok(r) => r,
            Err(Some(e)) => return Err(broken("fetch failed", &e)),
            Err(None) => return Err(TransferError::Stalled("the response")),
        };
        let response: Response = response.dyn_into().map_err(|_| {
            TransferError::Unusable("fetch resolved to something that is not a Response".into())
        })?;
        let headers = response.headers();
        let head = Head::read(response.status(), |name| headers.get(name).ok().flatten());
        let reader = match response.body() {
            Some(body) => Some(
                call0(&body, "getReader")
                    .map_err(|e| broken("reading the response body failed", &e))?,
            ),
            None => None, // no body at all: an empty one
        };
        Ok((
            head,
            FetchBody {
                reader,
                _abort: abort,
            },
        ))
    }

    async fn next_piece(&self, body: &mut FetchBody, stall: Duration) -> Next<Uint8Array> {
        let reading = |e: &JsValue| broken("reading the response body failed", e);
        let Some(reader) = &body.reader else {
            return Ok(None);
        };
        let promise = call0(reader, "read")
            .and_then(|p| p.dyn_into::<Promise>())
            .map_err(|e| reading(&e))?;
        let chunk = match within(stall, promise).await {
            Ok(chunk) => chunk,
            Err(Some(e)) => return Err(reading(&e)),
            Err(None) => return Err(TransferError::Stalled("the rest of the body")),
        };
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .map(|d| d.is_truthy())
            .unwrap_or(true);
        if done {
            return Ok(None);
        }
        let value = Reflect::get(&chunk, &JsValue::from_str("value")).map_err(|e| reading(&e))?;
        Ok(Some(Uint8Array::new(&value)))
    }

    fn piece_len(piece: &Uint8Array) -> usize {
        piece.length() as usize
    }

    fn copy_piece(piece: &Uint8Array, into: &mut [u8]) {
        piece.copy_to(into);
    }

    async fn sleep(&self, pause: Duration) {
        Timer::start(pause.as_millis().min(i32::MAX as u128) as i32).await;
    }

    fn now_unix_secs(&self) -> Option<u64> {
        let ms = js_sys::Date::now();
        (ms.is_finite() && ms >= 0.0).then(|| (ms / 1000.0) as u64)
    }
}

/// Aborts its request when dropped: on every exit from a try, and when a caller drops a
/// read (a cancelled load), so no download outlives the future that wanted it.
struct AbortOnDrop(AbortController);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A `setTimeout` as a future; the timeout is cleared if the future is dropped first.
struct Timer {
    id: Option<JsValue>,
    done: JsFuture,
}

impl Timer {
    fn start(ms: i32) -> Timer {
        let id = Cell::new(None);
        let promise = Promise::new(&mut |resolve, _reject| {
            let set = global_function("setTimeout");
            if let Ok(set) = set {
                if let Ok(handle) = set.call2(&js_sys::global(), &resolve, &JsValue::from(ms)) {
                    id.set(Some(handle));
                    return;
                }
            }
            // No timers here: resolve at once rather than never.
            let _ = resolve.call0(&JsValue::NULL);
        });
        Timer {
            id: id.take(),
            done: JsFuture::from(promise),
        }
    }
}

impl Future for Timer {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.done).poll(cx).map(|_| {
            self.id = None;
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let (Some(id), Ok(clear)) = (self.id.take(), global_function("clearTimeout")) {
            let _ = clear.call1(&js_sys::global(), &id);
        }
    }
}

fn global_function(name: &str) -> Result<Function, JsValue> {
    Reflect::get(&js_sys::global(), &JsValue::from_str(name))?.dyn_into::<Function>()
}

/// `target[name]()`.
fn call0(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(name))?
        .dyn_into::<Function>()?
        .call0(target)
}

/// Starts `fetch(request)` on whichever global scope this runs in (page or worker).
fn start_fetch(request: &Request) -> Result<Promise, JsValue> {
    let global = js_sys::global();
    if let Some(window) = global.dyn_ref::<Window>() {
        Ok(window.fetch_with_request(request))
    } else if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
        Ok(worker.fetch_with_request(request))
    } else {
        Err(JsValue::from_str(
            "no fetch here: neither a Window nor a WorkerGlobalScope",
        ))
    }
}

/// The message of a JS error value (`TypeError: Failed to fetch`), or its string form.
pub(crate) fn js_error_text(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        let name = String::from(err.name());
        let message = String::from(err.message());
        return if name.is_empty() {
            message
        } else {
            format!("{name}: {message}")
        };
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    format!("{value:?}")
}
