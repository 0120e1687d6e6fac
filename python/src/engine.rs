//! The engine thread: opened recordings live on one thread per process that runs the engine's
//! `?Send` futures (a tokio current-thread runtime with a `LocalSet`). Python threads talk to
//! it through channels: each request is a job plus a reply channel and a cancel channel, so
//! many requests (a prefetch of K windows, the opens of 60 files) run concurrently there while
//! Python waits with the GIL released — or does other work.
//!
//! After `fork` the child has no engine thread; [`engine`] notices the new process id and
//! starts a fresh one (recordings are reopened by the Python layer, which keeps their options).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};

use futures::future::{select, Either, LocalBoxFuture};
use pyo3::PyErr;
use strobe::events::enumerate::WindowCount;
use strobe::events::Summary;
use strobe::export::columns::WindowColumns;
use strobe::open::Opened;
use tokio::sync::{mpsc, oneshot};

use crate::errors;

/// An opened recording as the engine thread keeps it.
pub struct Entry {
    pub opened: Opened,
    pub summary: Summary,
}

/// What lives on the engine thread.
#[derive(Default)]
pub struct State {
    recordings: RefCell<HashMap<u64, Rc<Entry>>>,
}

impl State {
    pub fn insert(&self, id: u64, entry: Entry) {
        self.recordings.borrow_mut().insert(id, Rc::new(entry));
    }

    pub fn get(&self, id: u64) -> Result<Rc<Entry>, PyErr> {
        self.recordings
            .borrow()
            .get(&id)
            .cloned()
            .ok_or_else(|| errors::StrobeError::new_err("this recording was closed — reopen it"))
    }
}

/// A finished request, made into Python objects by the waiting thread.
pub enum Payload {
    Opened {
        id: u64,
        info_json: String,
        summary: Summary,
        layout: String,
    },
    Columns(WindowColumns),
    Windows(Vec<WindowCount>),
}

pub type Outcome = Result<Payload, PyErr>;

type Work = Box<dyn FnOnce(Rc<State>) -> LocalBoxFuture<'static, Outcome> + Send>;

enum Msg {
    Run {
        work: Work,
        reply: std_mpsc::Sender<Outcome>,
        cancel: oneshot::Receiver<()>,
    },
    Close(u64),
}

/// The handle Python-facing objects hold on their process's engine thread.
pub struct Engine {
    tx: mpsc::UnboundedSender<Msg>,
    pub pid: u32,
    next_id: AtomicU64,
}

static ENGINE: Mutex<Option<Arc<Engine>>> = Mutex::new(None);

/// This process's engine, started on first use (and again in a forked child).
pub fn engine() -> Result<Arc<Engine>, PyErr> {
    let pid = std::process::id();
    let mut slot = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = slot.as_ref().filter(|e| e.pid == pid) {
        return Ok(e.clone());
    }
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("strobe-engine".into())
        .spawn(move || run(rx))
        .map_err(|e| {
            errors::StrobeError::new_err(format!("cannot start the engine thread: {e}"))
        })?;
    let e = Arc::new(Engine {
        tx,
        pid,
        next_id: AtomicU64::new(1),
    });
    *slot = Some(e.clone());
    Ok(e)
}

fn run(mut rx: mpsc::UnboundedReceiver<Msg>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return; // every waiter sees its reply channel close: "the engine thread stopped"
    };
    let local = tokio::task::LocalSet::new();
    let state = Rc::new(State::default());
    local.block_on(&rt, async move {
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Run {
                    work,
                    reply,
                    cancel,
                } => {
                    let state = state.clone();
                    tokio::task::spawn_local(async move {
                        // A dropped cancel sender (Ctrl-C, an abandoned prefetch) drops the work.
                        if let Either::Left((outcome, _)) = select(work(state), cancel).await {
                            let _ = reply.send(outcome);
                        }
                    });
                }
                Msg::Close(id) => {
                    state.recordings.borrow_mut().remove(&id);
                }
            }
        }
    });
}

impl Engine {
    /// A fresh id for a recording about to be opened.
    pub fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Starts `work` on the engine thread; the reply comes on the returned request.
    pub fn submit(self: &Arc<Self>, work: Work) -> Request {
        let (reply, rx) = std_mpsc::channel();
        let (cancel_tx, cancel) = oneshot::channel();
        // If the thread is gone the reply channel closes at once and the waiter says so.
        let _ = self.tx.send(Msg::Run {
            work,
            reply,
            cancel,
        });
        Request {
            rx,
            cancel: Some(cancel_tx),
        }
    }

    /// Drops a recording (only from the process that opened it).
    pub fn close(&self, id: u64) {
        if std::process::id() == self.pid {
            let _ = self.tx.send(Msg::Close(id));
        }
    }
}

/// A request in flight: its reply channel and the cancel handle (dropping it stops the work).
pub struct Request {
    pub rx: std_mpsc::Receiver<Outcome>,
    pub cancel: Option<oneshot::Sender<()>>,
}

/// Shortcut for jobs: boxes an async block.
pub fn work<F>(f: impl FnOnce(Rc<State>) -> F + Send + 'static) -> Work
where
    F: std::future::Future<Output = Outcome> + 'static,
{
    Box::new(move |state| Box::pin(f(state)))
}
