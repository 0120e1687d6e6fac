//! `strobe serve`: the viewer's static files at `/` and recordings under `/data/`, with the
//! HTTP semantics range readers need (single-range `206`, `416`, `HEAD`, `ETag`,
//! `Last-Modified`, `If-Range`, CORS with exposed `Content-Range`) and never a
//! `Content-Encoding`. Only the requested bytes are read from disk. `/data/` (and any
//! `/data/<dir>/`) answers a JSON manifest of the recordings under it, for `?list=`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let opts = strobe::serve::ServeOptions {
//!     data_dir: Some("recordings".into()),
//!     ..Default::default()
//! };
//! strobe::serve::run(opts).await
//! # }
//! ```

mod faults;
mod files;
mod headers;
mod manifest;
mod relay;

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::serve::ListenerExt;
use axum::Router;

/// What to serve and how. `Default`: 127.0.0.1:8080, nothing served, no faults.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: IpAddr,
    /// 0 picks a free port (see [`Server::local_addr`]).
    pub port: u16,
    /// Files served under `/data/` (recordings).
    pub data_dir: Option<PathBuf>,
    /// Files served at `/` (the viewer: index.html, .js, .wasm).
    pub site_dir: Option<PathBuf>,
    /// Fixed delay added to every request, to measure what round trips cost.
    pub latency: Duration,
    /// Fault injection: answer data requests `200` with the whole file, ignoring `Range`.
    pub ignore_range: bool,
    /// Fault injection: label data responses `Content-Encoding: gzip` (bytes unchanged).
    pub gzip: bool,
    /// Fault injection per request by URL: `/faults/<spec>/data/<file>` (see `faults.rs`);
    /// `/data/` stays clean.
    pub faults: bool,
    /// URL prefixes `/relay?url=…` may fetch from (see `relay.rs`); empty: no relay.
    pub relay: Vec<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            data_dir: None,
            site_dir: None,
            latency: Duration::ZERO,
            ignore_range: false,
            gzip: false,
            faults: false,
            relay: Vec::new(),
        }
    }
}

/// Resolved configuration shared by all requests.
struct Ctx {
    /// Canonical directories, so containment checks compare like with like.
    data_root: Option<PathBuf>,
    site_root: Option<PathBuf>,
    latency: Duration,
    ignore_range: bool,
    gzip: bool,
    faults: bool,
    counters: faults::Counters,
    relay: Option<relay::Relay>,
}

/// The application as an axum `Router` (for embedding); fails if a directory is unusable.
pub fn router(opts: &ServeOptions) -> io::Result<Router> {
    let ctx = Ctx {
        data_root: canonical_dir(opts.data_dir.as_ref(), "data")?,
        site_root: canonical_dir(opts.site_dir.as_ref(), "site")?,
        latency: opts.latency,
        ignore_range: opts.ignore_range,
        gzip: opts.gzip,
        faults: opts.faults,
        counters: faults::Counters::default(),
        relay: match opts.relay.is_empty() {
            true => None,
            false => Some(
                relay::Relay::new(&opts.relay)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?,
            ),
        },
    };
    Ok(Router::new().fallback(handle).with_state(Arc::new(ctx)))
}

fn canonical_dir(dir: Option<&PathBuf>, what: &str) -> io::Result<Option<PathBuf>> {
    let Some(dir) = dir else {
        return Ok(None);
    };
    let canon = dir.canonicalize().map_err(|e| {
        io::Error::new(e.kind(), format!("{what} directory {}: {e}", dir.display()))
    })?;
    if !canon.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} directory {} is not a directory", dir.display()),
        ));
    }
    Ok(Some(canon))
}

/// A bound listener, ready to serve.
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    addr: SocketAddr,
}

/// Checks the options and binds the port (so the address is known before serving).
pub async fn bind(opts: &ServeOptions) -> io::Result<Server> {
    let app = router(opts)?;
    let listener = tokio::net::TcpListener::bind((opts.bind, opts.port))
        .await
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {}:{}: {e}", opts.bind, opts.port),
            )
        })?;
    let addr = listener.local_addr()?;
    Ok(Server {
        listener,
        app,
        addr,
    })
}

impl Server {
    /// The address actually bound (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then finishes requests under way.
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let listener = self.listener.tap_io(|tcp| {
            // Small range responses should not wait for Nagle.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.app)
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves forever.
    pub async fn serve(self) -> io::Result<()> {
        self.serve_until(std::future::pending()).await
    }
}

/// Binds, prints where it listens (stderr), and serves until Ctrl-C.
pub async fn run(opts: ServeOptions) -> io::Result<()> {
    ignore_closed_connections();
    let server = bind(&opts).await?;
    let addr = server.local_addr();
    let show = |d: &Option<PathBuf>| {
        d.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(none)".into())
    };
    eprintln!(
        "strobe serve: http://{addr}/  site: {}  data: {} → http://{addr}/data/",
        show(&opts.site_dir),
        show(&opts.data_dir)
    );
    if opts.data_dir.is_some() {
        eprintln!("  all its recordings in the viewer: http://{addr}/index.html?list=/data/");
    }
    server
        .serve_until(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// A client that goes away mid-body (a cancelled load aborts its fetches) must not end the
/// server: the CLI restores the default SIGPIPE action for `strobe … | head`, under which a
/// write to a reset connection (hyper writes bodies with `writev`, which has no
/// `MSG_NOSIGNAL`) would kill the process. A server wants the write's EPIPE instead.
fn ignore_closed_connections() {
    #[cfg(unix)]
    // SAFETY: setting a signal disposition to "ignore"; no handler runs, nothing is shared.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Starts a server on the current tokio runtime and returns its address at once.
/// The task ends with the runtime (or when aborted through the handle).
pub async fn spawn_for_tests(
    opts: ServeOptions,
) -> io::Result<(SocketAddr, tokio::task::JoinHandle<io::Result<()>>)> {
    let server = bind(&opts).await?;
    let addr = server.local_addr();
    Ok((addr, tokio::spawn(server.serve())))
}

async fn handle(State(ctx): State<Arc<Ctx>>, req: Request) -> Response<Body> {
    if !ctx.latency.is_zero() {
        tokio::time::sleep(ctx.latency).await;
    }
    // Only the head is needed; `Parts` is `Sync`, so the future stays `Send`.
    let (parts, _body) = req.into_parts();
    let mut resp = route(&ctx, &parts).await;
    headers::add_cors(resp.headers_mut());
    resp
}

async fn route(ctx: &Ctx, req: &Parts) -> Response<Body> {
    let method = &req.method;
    if method == Method::OPTIONS {
        return headers::preflight();
    }
    if method != Method::GET && method != Method::HEAD {
        let mut resp = plain(StatusCode::METHOD_NOT_ALLOWED, "use GET or HEAD\n");
        resp.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET, HEAD, OPTIONS"),
        );
        return resp;
    }
    let path = req.uri.path();
    let head = method == Method::HEAD;
    if let Some(rest) = path.strip_prefix("/data/") {
        let Some(root) = &ctx.data_root else {
            return plain(StatusCode::NOT_FOUND, "no data directory is served\n");
        };
        if rest.is_empty() || rest.ends_with('/') {
            return manifest::serve(root, rest, head).await;
        }
        let faults = files::Faults {
            ignore_range: ctx.ignore_range,
            gzip: ctx.gzip,
            ..Default::default()
        };
        return files::serve_file(root, rest, &req.headers, head, false, faults).await;
    }
    if path == "/faults/stats" && ctx.faults {
        return faults::stats(&ctx.counters, req.uri.query());
    }
    if let Some(rest) = path.strip_prefix("/faults/") {
        if !ctx.faults {
            return plain(
                StatusCode::NOT_FOUND,
                "fault injection is off — start strobe serve with --faults\n",
            );
        }
        let Some(root) = &ctx.data_root else {
            return plain(StatusCode::NOT_FOUND, "no data directory is served\n");
        };
        return faults::serve(root, &ctx.counters, rest, &req.headers, head).await;
    }
    if path == "/data" {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    if path == "/relay" {
        return match &ctx.relay {
            Some(relay) => relay.handle(req.uri.query(), &req.headers, head).await,
            None => plain(
                StatusCode::NOT_FOUND,
                "the relay is off — start strobe serve with --relay https://host/path/\n",
            ),
        };
    }
    match &ctx.site_root {
        Some(root) => {
            let rest = path.strip_prefix('/').unwrap_or(path);
            files::serve_file(
                root,
                rest,
                &req.headers,
                head,
                true,
                files::Faults::default(),
            )
            .await
        }
        None if path == "/" => plain(
            StatusCode::OK,
            "strobe serve: no site directory given; data files are under /data/\n",
        ),
        None => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// A short text response.
fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
