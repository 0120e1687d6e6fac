//! `strobe serve --relay PREFIX`: a recording on a host that sends no CORS headers, read
//! through `/relay?url=…`, gives the upstream's exact bytes with Range/206/ETag semantics and
//! CORS added; URLs outside the allowed prefixes (other path, host, scheme, port) and
//! redirects leaving them are refused with 403.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::RangeSource;

/// Percent-encodes a URL for the `url=` query parameter.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Drops every CORS header: the upstream is a host a page cannot read directly.
async fn strip_cors(mut resp: Response) -> Response {
    let names: Vec<_> = resp
        .headers()
        .keys()
        .filter(|k| k.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for k in names {
        resp.headers_mut().remove(k);
    }
    resp
}

/// An upstream without CORS serving the fixtures under /data/, with two redirects: one that
/// stays under /data/ and one that leaves it.
async fn upstream() -> String {
    let files = strobe::serve::router(&ServeOptions {
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .expect("router");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new()
        .route(
            "/data/redirect-in.h5",
            get(|| async { Redirect::temporary("/data/dsec_full_bitshuffle.h5") }),
        )
        .route(
            "/data/redirect-out.h5",
            get(|| async { Redirect::temporary("/private/secret.h5") }),
        )
        .route(
            "/private/secret.h5",
            get(|| async { "secret".into_response() }),
        )
        .fallback_service(files)
        .layer(axum::middleware::map_response(strip_cors));
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn relay(prefixes: Vec<String>) -> String {
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        relay: prefixes,
        ..Default::default()
    })
    .await
    .expect("relay starts");
    format!("http://{addr}/relay?url=")
}

async fn get_range(url: &str, range: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let client = reqwest::Client::new();
    let mut req = client.get(url);
    if let Some(r) = range {
        req = req.header(header::RANGE, r);
    }
    let resp = req.send().await.expect("request");
    let status = StatusCode::from_u16(resp.status().as_u16()).expect("status");
    let headers = resp.headers().clone();
    let body = resp.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_prefix_is_relayed_with_range_semantics_and_cors() {
    let up = upstream().await;
    let relay = relay(vec![format!("{up}/data/")]).await;
    let file = "dsec_full_bitshuffle.h5";
    let disk = std::fs::read(common::fixtures_dir().join(file)).expect("fixture");

    // Directly, the upstream answers without CORS: a page could not read it.
    let (_, direct, _) = get_range(&format!("{up}/data/{file}"), Some("bytes=0-9")).await;
    assert!(direct.get("access-control-allow-origin").is_none());

    let url = format!("{relay}{}", enc(&format!("{up}/data/{file}")));
    let (status, headers, body) = get_range(&url, Some("bytes=1000-4999")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, disk[1000..5000], "the bytes on disk");
    assert_eq!(
        headers[header::CONTENT_RANGE],
        format!("bytes 1000-4999/{}", disk.len()).as_str()
    );
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(headers.contains_key(header::ETAG), "{headers:?}");
    assert_eq!(headers[header::ETAG], direct[header::ETAG]);

    // Past the end: the upstream's 416 passes through.
    let past = format!("bytes={}-", disk.len() + 10);
    let (status, _, _) = get_range(&url, Some(&past)).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);

    // A redirect that stays under the prefix is followed.
    let url = format!("{relay}{}", enc(&format!("{up}/data/redirect-in.h5")));
    let (status, _, body) = get_range(&url, Some("bytes=0-99")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, disk[..100]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_window_read_through_the_relay_matches_h5py() {
    let up = upstream().await;
    let relay = relay(vec![format!("{up}/data/")]).await;
    let out = common::check_all(|name| {
        Box::new(
            HttpSource::new(format!("{relay}{}", enc(&format!("{up}/data/{name}"))))
                .expect("url parses"),
        ) as Box<dyn RangeSource>
    })
    .await;
    common::assert_outcome(&out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_outside_the_prefixes_and_redirects_leaving_them_are_refused() {
    let up = upstream().await;
    let port = up.rsplit(':').next().expect("port");
    let relay = relay(vec![format!("{up}/data/")]).await;
    for target in [
        format!("{up}/private/secret.h5"),
        format!("{up}/data/../private/secret.h5"),
        format!("{up}/database.h5"),
        format!("http://localhost:{port}/data/dsec_full_bitshuffle.h5"),
        format!("https://127.0.0.1:{port}/data/dsec_full_bitshuffle.h5"),
        "http://127.0.0.1:1/data/dsec_full_bitshuffle.h5".to_string(),
        format!("ftp://127.0.0.1:{port}/data/dsec_full_bitshuffle.h5"),
        "http://169.254.169.254/data/x.h5".to_string(),
    ] {
        let (status, headers, body) =
            get_range(&format!("{relay}{}", enc(&target)), Some("bytes=0-9")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{target}");
        assert_eq!(
            headers["access-control-allow-origin"], "*",
            "the page can read why"
        );
        assert!(
            String::from_utf8_lossy(&body).contains("not under a prefix")
                || String::from_utf8_lossy(&body).contains("only http(s)"),
            "{target}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // The redirect's target is outside /data/: refused, and its bytes never reach the page.
    let url = format!("{relay}{}", enc(&format!("{up}/data/redirect-out.h5")));
    let (status, _, body) = get_range(&url, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("/private/secret.h5") && !body.starts_with("secret"),
        "{body}"
    );

    // No relay configured: the endpoint says how to turn it on.
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        ..Default::default()
    })
    .await
    .expect("server");
    let (status, _, body) = get_range(&format!("http://{addr}/relay?url=x"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("--relay"));
}
