//! `strobe._strobe`: the native half of the Python package. It opens recordings through the
//! library's one front door ([`strobe::open`]) and reads windows with
//! [`strobe::export::columns`], on an engine thread ([`engine`]); the Python half
//! (python/strobe/) builds datasets, pickling and batching on top.

mod columns;
mod engine;
mod errors;
mod heap;

#[global_allocator]
static ALLOCATOR: heap::WindowAllocator = heap::WindowAllocator;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use strobe::events::enumerate::{enumerate, Plan};
use strobe::events::{LayoutOverrides, Window};
use strobe::export::columns::{read_count, read_window};
use strobe::export::{ExportOptions, Polarity};
use strobe::open::OpenOptions;

use engine::{work, Engine, Payload, Request};

/// How long a waiting call sleeps with the GIL released before it checks for Ctrl-C.
const SIGNAL_SLICE: Duration = Duration::from_millis(50);

/// A request in flight on the engine thread. `wait()` blocks (GIL released) until it is done;
/// dropping it unwaited cancels the work.
#[pyclass(module = "strobe._strobe")]
struct Pending {
    request: Mutex<Option<Request>>,
    engine: Arc<Engine>,
}

#[pymethods]
impl Pending {
    /// The result: a `NativeRecording`, a window dict, or a list of `(t0, t1, events)`.
    fn wait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut request = self
            .request
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| PyValueError::new_err("this request was already waited for"))?;
        let outcome = loop {
            let rx = request.rx;
            let (rx, got) = py.detach(move || {
                let got = rx.recv_timeout(SIGNAL_SLICE);
                (rx, got)
            });
            request.rx = rx;
            match got {
                Ok(outcome) => break outcome,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // Ctrl-C: dropping `request` drops the cancel handle, which stops the work.
                    py.check_signals()?;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(errors::engine_gone())
                }
            }
        };
        drop(request.cancel.take());
        match outcome? {
            Payload::Opened {
                id,
                info_json,
                summary,
                layout,
            } => Ok(Py::new(
                py,
                NativeRecording {
                    engine: self.engine.clone(),
                    id,
                    info_json,
                    layout,
                    events: summary.events,
                    t_first: summary.t_first,
                    t_last: summary.t_last,
                    t_offset: summary.t_offset,
                    width: summary.width,
                    height: summary.height,
                },
            )?
            .into_any()),
            Payload::Columns(w) => Ok(columns::window_dict(py, w)?.into_any().unbind()),
            Payload::Windows(ws) => {
                let rows: Vec<(i64, i64, u64)> =
                    ws.iter().map(|w| (w.from, w.to, w.events)).collect();
                Ok(PyList::new(py, rows)?.into_any().unbind())
            }
        }
    }
}

fn pending(engine: &Arc<Engine>, request: Request) -> Pending {
    Pending {
        request: Mutex::new(Some(request)),
        engine: engine.clone(),
    }
}

/// An opened recording on this process's engine thread. The Python class `strobe.Recording`
/// wraps it (and reopens it after a fork).
#[pyclass(module = "strobe._strobe", frozen)]
struct NativeRecording {
    engine: Arc<Engine>,
    id: u64,
    #[pyo3(get)]
    info_json: String,
    #[pyo3(get)]
    layout: String,
    #[pyo3(get)]
    events: u64,
    #[pyo3(get)]
    t_first: Option<i64>,
    #[pyo3(get)]
    t_last: Option<i64>,
    #[pyo3(get)]
    t_offset: i64,
    #[pyo3(get)]
    width: u32,
    #[pyo3(get)]
    height: u32,
}

fn export_options(polarity: &str, normalize: bool, absolute_time: bool) -> PyResult<ExportOptions> {
    let polarity = match polarity {
        "stored" => Polarity::Stored,
        "signed" => Polarity::Signed,
        "binary" => Polarity::Binary,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown polarity mode {other:?} — use \"stored\", \"signed\" or \"binary\""
            )))
        }
    };
    Ok(ExportOptions {
        polarity,
        normalize,
        absolute_time,
    })
}

#[pymethods]
impl NativeRecording {
    /// Starts reading the events `t0 <= t < t1`.
    #[pyo3(signature = (t0, t1, polarity="stored", normalize=false, absolute_time=false))]
    fn window(
        &self,
        t0: i64,
        t1: i64,
        polarity: &str,
        normalize: bool,
        absolute_time: bool,
    ) -> PyResult<Pending> {
        if t0 > t1 {
            return Err(PyValueError::new_err(format!(
                "window start {t0} is after its end {t1} — give t0 <= t1"
            )));
        }
        let options = export_options(polarity, normalize, absolute_time)?;
        self.check_process()?;
        let id = self.id;
        let req = self.engine.submit(work(move |state| async move {
            heap::release_freed(); // the windows Python dropped
            let entry = state.get(id)?;
            let window = Window { from: t0, to: t1 };
            read_window(&entry.opened.recording, &entry.summary, window, &options)
                .await
                .map(Payload::Columns)
                .map_err(errors::export)
        }));
        Ok(pending(&self.engine, req))
    }

    /// Starts reading the first `count` events at or after `t0`.
    #[pyo3(signature = (t0, count, polarity="stored", normalize=false, absolute_time=false))]
    fn window_by_count(
        &self,
        t0: i64,
        count: u64,
        polarity: &str,
        normalize: bool,
        absolute_time: bool,
    ) -> PyResult<Pending> {
        let options = export_options(polarity, normalize, absolute_time)?;
        self.check_process()?;
        let id = self.id;
        let req = self.engine.submit(work(move |state| async move {
            heap::release_freed();
            let entry = state.get(id)?;
            read_count(&entry.opened.recording, &entry.summary, t0, count, &options)
                .await
                .map(Payload::Columns)
                .map_err(errors::export)
        }));
        Ok(pending(&self.engine, req))
    }

    /// Starts listing windows of `length` µs: every `stride` µs over the span, or, with
    /// `count`, `count` random ones drawn by `seed`. Counts come from the time index.
    #[pyo3(signature = (length, stride=None, count=None, seed=0))]
    fn windows(
        &self,
        length: i64,
        stride: Option<i64>,
        count: Option<usize>,
        seed: u64,
    ) -> PyResult<Pending> {
        if length <= 0 {
            return Err(PyValueError::new_err(format!(
                "window length {length} µs is not positive — give a length > 0"
            )));
        }
        let stride = stride.unwrap_or(length);
        if stride <= 0 {
            return Err(PyValueError::new_err(format!(
                "stride {stride} µs is not positive — give a stride > 0"
            )));
        }
        let plan = match count {
            Some(count) => Plan::Random {
                length,
                count,
                seed,
            },
            None => Plan::Regular { length, stride },
        };
        self.check_process()?;
        let id = self.id;
        let req = self.engine.submit(work(move |state| async move {
            let entry = state.get(id)?;
            enumerate(&entry.opened.recording, plan)
                .await
                .map(|e| Payload::Windows(e.windows))
                .map_err(errors::events)
        }));
        Ok(pending(&self.engine, req))
    }

    /// Whether this handle belongs to the running process (false in a forked child).
    fn alive(&self) -> bool {
        self.engine.pid == std::process::id()
    }
}

impl NativeRecording {
    /// Refuses handles inherited across `fork`: their engine thread does not exist here, so a
    /// request would never be answered (`strobe.Recording` reopens instead).
    fn check_process(&self) -> PyResult<()> {
        if self.alive() {
            Ok(())
        } else {
            Err(errors::StrobeError::new_err(
                "this recording was opened in another process (before a fork) — use strobe.Recording, which reopens it",
            ))
        }
    }
}

impl Drop for NativeRecording {
    fn drop(&mut self) {
        self.engine.close(self.id);
    }
}

/// Starts opening `src` (metadata only); `wait()` gives a `NativeRecording`.
#[pyfunction]
#[pyo3(signature = (src, *, camera=None, x=None, y=None, t=None, p=None, ms_index=None, t_offset=None, cache_mb=64, headers=None, max_memory_mb=None, max_chunk_mb=None, max_metadata_mb=None, max_rows=None, max_index_nodes=None, threads=None))]
#[allow(clippy::too_many_arguments)]
fn open(
    src: String,
    camera: Option<String>,
    x: Option<String>,
    y: Option<String>,
    t: Option<String>,
    p: Option<String>,
    ms_index: Option<String>,
    t_offset: Option<String>,
    cache_mb: u64,
    headers: Option<std::collections::BTreeMap<String, String>>,
    max_memory_mb: Option<u64>,
    max_chunk_mb: Option<u64>,
    max_metadata_mb: Option<u64>,
    max_rows: Option<u64>,
    max_index_nodes: Option<usize>,
    threads: Option<usize>,
) -> PyResult<Pending> {
    if threads == Some(0) {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "threads=0 — give a count >= 1, or None for every core",
        ));
    }
    let options = OpenOptions {
        layout: LayoutOverrides {
            x,
            y,
            t,
            p,
            ms_index,
            t_offset,
            camera,
        },
        cache_bytes: cache_mb.saturating_mul(1 << 20),
        headers: headers.unwrap_or_default().into_iter().collect(),
        caps: strobe::hdf5::Caps::default().with_overrides(
            max_memory_mb,
            max_chunk_mb,
            max_metadata_mb,
            max_rows,
            max_index_nodes,
        ),
        threads,
        ..OpenOptions::default()
    };
    let engine = engine::engine()?;
    let id = engine.new_id();
    let req = engine.submit(work(move |state| async move {
        let opened = strobe::open::open(&src, &options)
            .await
            .map_err(errors::open)?;
        let summary = opened.summary().await.map_err(errors::events)?;
        let info = opened.recording.info(summary.clone());
        let info_json = serde_json::to_string(&info)
            .map_err(|e| errors::StrobeError::new_err(e.to_string()))?;
        let layout = serde_json::to_value(opened.recording.layout)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        state.insert(
            id,
            engine::Entry {
                opened,
                summary: summary.clone(),
            },
        );
        Ok(Payload::Opened {
            id,
            info_json,
            summary,
            layout,
        })
    }));
    Ok(pending(&engine, req))
}

#[pymodule]
fn _strobe(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_function(wrap_pyfunction!(open, m)?)?;
    m.add_class::<Pending>()?;
    m.add_class::<NativeRecording>()?;
    m.add("StrobeError", py.get_type::<errors::StrobeError>())?;
    m.add("HttpError", py.get_type::<errors::HttpError>())?;
    m.add("FormatError", py.get_type::<errors::FormatError>())?;
    Ok(())
}
