//! `--header 'Name: value'` (and `OpenOptions::headers`): a host that wants a bearer token
//! answers 401 without it, and with it the window equals h5py's digest.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use strobe::events::{Window, WindowReader};
use strobe::open::{open, OpenOptions};
use strobe::serve::ServeOptions;

/// 401 unless the request carries `Authorization: Bearer x`.
async fn require_token(req: Request, next: Next) -> Response {
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v == "Bearer x");
    if ok {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "token required\n").into_response()
    }
}

/// The fixtures under /data/ behind a bearer token.
async fn protected() -> String {
    let files = strobe::serve::router(&ServeOptions {
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .expect("router")
    .layer(axum::middleware::from_fn(require_token));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, files).await });
    format!("http://{addr}/data")
}

fn dsec_window() -> Value {
    let manifest = common::manifest();
    let fx = common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["file"] == "dsec_full_bitshuffle.h5")
        .expect("dsec fixture in the manifest");
    fx["windows"][1].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_headers_to_a_token_protected_host() {
    let base = protected().await;
    let want = dsec_window();
    let url = format!("{base}/dsec_full_bitshuffle.h5");
    let (from, to) = (want["from"].to_string(), want["to"].to_string());
    let args = [
        "window",
        url.as_str(),
        "--from",
        &from,
        "--to",
        &to,
        "--json",
    ];

    let (ok, _, err) = common::strobe(&args);
    assert!(!ok, "read without the token");
    assert!(err.contains("HTTP 401"), "{err}");

    let mut with = args.to_vec();
    with.extend(["--header", "Authorization: Bearer x"]);
    let (ok, out, err) = common::strobe(&with);
    assert!(ok, "{err}");
    let got: Value = serde_json::from_str(&out).expect("JSON output");
    let mismatches = common::digest::digest_mismatches(&got, &want);
    assert!(mismatches.is_empty(), "{mismatches:?}");

    let mut wrong = args.to_vec();
    wrong.extend(["--header", "Authorization: Bearer y"]);
    let (ok, _, err) = common::strobe(&wrong);
    assert!(!ok && err.contains("HTTP 401"), "{err}");

    let mut malformed = args.to_vec();
    malformed.extend(["--header", "Authorization Bearer x"]);
    let (ok, _, err) = common::strobe(&malformed);
    assert!(!ok && err.contains("'Name: value'"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_options_headers_reach_every_request() {
    let base = protected().await;
    let want = dsec_window();
    let options = OpenOptions {
        headers: vec![("Authorization".into(), "Bearer x".into())],
        ..OpenOptions::default()
    };
    let opened = open(&format!("{base}/dsec_full_bitshuffle.h5"), &options)
        .await
        .unwrap_or_else(|e| panic!("opens with the token: {e}"));
    let window = Window {
        from: want["from"].as_i64().expect("from"),
        to: want["to"].as_i64().expect("to"),
    };
    let digest = WindowReader::open(&opened.recording, window)
        .await
        .expect("window")
        .digest()
        .await
        .expect("digest");
    let got = serde_json::to_value(&digest).expect("digest serialises");
    assert!(common::digest::digest_mismatches(&got, &want).is_empty());
    assert!(
        opened.cache.stats().requests > 1,
        "more than the first request carried it"
    );
}
