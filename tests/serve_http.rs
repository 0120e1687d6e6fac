//! The file server: range semantics, validators, CORS, traversal refusal, site, faults.
#![cfg(not(target_arch = "wasm32"))]

mod source_common;

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode};
use source_common::{client, raw_get, serve_with, url, Tree, SECRET};
use strobe::serve::ServeOptions;

const LEN: usize = 3 * 1024 * 1024 + 17;

fn h<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn single_range_is_206_with_exact_bytes_and_headers() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let c = client();
    let n = LEN as u64;
    let cases: Vec<(String, u64, u64)> = vec![
        ("bytes=100-199".into(), 100, 199),
        ("bytes=0-0".into(), 0, 0),
        (format!("bytes={}-{}", n - 1, n - 1), n - 1, n - 1),
        (format!("bytes={}-", n - 10), n - 10, n - 1),
        (format!("bytes={}-{}", n - 5, n + 1000), n - 5, n - 1),
        ("bytes=-7".into(), n - 7, n - 1),
        ("bytes=1000000-2999999".into(), 1_000_000, 2_999_999),
    ];
    for (range, first, last) in cases {
        let resp = c
            .get(url(addr, "/data/rec.h5"))
            .header(header::RANGE, &range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        let hd = resp.headers().clone();
        assert_eq!(h(&hd, "content-range"), format!("bytes {first}-{last}/{n}"));
        assert_eq!(h(&hd, "content-length"), (last - first + 1).to_string());
        assert_eq!(h(&hd, "accept-ranges"), "bytes");
        assert!(h(&hd, "etag").starts_with('"'));
        assert!(h(&hd, "last-modified").ends_with(" GMT"));
        assert!(hd.get("content-encoding").is_none());
        let body = resp.bytes().await.unwrap();
        assert_eq!(
            &body[..],
            &tree.bytes[first as usize..=last as usize],
            "{range}"
        );
    }
}

#[tokio::test]
async fn no_range_multi_range_and_bad_syntax_get_the_whole_file() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let c = client();
    for range in [
        None,
        Some("bytes=0-1,5-6"),
        Some("bytes=9-3"),
        Some("pages=1-2"),
    ] {
        let mut req = c.get(url(addr, "/data/rec.h5"));
        if let Some(r) = range {
            req = req.header(header::RANGE, r);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{range:?}");
        assert_eq!(h(resp.headers(), "content-length"), LEN.to_string());
        assert_eq!(h(resp.headers(), "content-type"), "application/x-hdf5");
        assert!(resp.headers().get("content-range").is_none());
        assert_eq!(resp.bytes().await.unwrap().as_ref(), tree.bytes.as_slice());
    }
}

#[tokio::test]
async fn unsatisfiable_is_416_with_length() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let c = client();
    for range in [
        format!("bytes={LEN}-"),
        format!("bytes={}-{}", LEN + 5, LEN + 9),
        "bytes=-0".into(),
    ] {
        let resp = c
            .get(url(addr, "/data/rec.h5"))
            .header(header::RANGE, &range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(h(resp.headers(), "content-range"), format!("bytes */{LEN}"));
        assert!(resp.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn empty_file() {
    let tree = Tree::new(LEN);
    std::fs::write(tree.data.join("empty.h5"), b"").unwrap();
    let addr = tree.serve().await;
    let c = client();
    let resp = c
        .get(url(addr, "/data/empty.h5"))
        .header(header::RANGE, "bytes=0-0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(h(resp.headers(), "content-range"), "bytes */0");
    let resp = c.get(url(addr, "/data/empty.h5")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn head_has_headers_and_no_body() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let r = raw_get(addr, "HEAD /data/rec.h5 HTTP/1.1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(LEN.to_string().as_str()));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(r.header("etag").is_some());
    assert!(r.header("last-modified").is_some());
    assert!(r.body.is_empty());
    // HEAD through reqwest, with a Range: the 206 head.
    let resp = client()
        .head(url(addr, "/data/rec.h5"))
        .header(header::RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        h(resp.headers(), "content-range"),
        format!("bytes 10-19/{LEN}")
    );
    assert_eq!(h(resp.headers(), "content-length"), "10");
}

#[tokio::test]
async fn etag_and_if_range() {
    let tree = Tree::new(LEN);
    let addr = tree.serve().await;
    let c = client();
    let first = c
        .get(url(addr, "/data/rec.h5"))
        .header(header::RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    let etag = h(first.headers(), "etag").to_string();
    let last_modified = h(first.headers(), "last-modified").to_string();
    // Stable across requests.
    let again = c.head(url(addr, "/data/rec.h5")).send().await.unwrap();
    assert_eq!(h(again.headers(), "etag"), etag);

    let get = |cond: String| {
        let c = c.clone();
        async move {
            c.get(url(addr, "/data/rec.h5"))
                .header(header::RANGE, "bytes=5-14")
                .header(header::IF_RANGE, cond)
                .send()
                .await
                .unwrap()
        }
    };
    let hit = get(etag.clone()).await;
    assert_eq!(hit.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(hit.bytes().await.unwrap().as_ref(), &tree.bytes[5..15]);
    let by_date = get(last_modified.clone()).await;
    assert_eq!(by_date.status(), StatusCode::PARTIAL_CONTENT);
    for stale in [
        "\"0-0\"".to_string(),
        format!("W/{etag}"),
        "Thu, 01 Jan 1970 00:00:00 GMT".into(),
    ] {
        let miss = get(stale.clone()).await;
        assert_eq!(miss.status(), StatusCode::OK, "{stale}");
        assert_eq!(miss.bytes().await.unwrap().len(), LEN);
    }

    // Rewriting the file changes the ETag, and the old tag no longer gets a 206.
    std::fs::write(&tree.rec, b"different and shorter").unwrap();
    let after = c.head(url(addr, "/data/rec.h5")).send().await.unwrap();
    assert_ne!(h(after.headers(), "etag"), etag);
    assert_eq!(get(etag).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let tree = Tree::new(1000);
    let addr = tree.serve().await;
    let c = client();
    let pre = c
        .request(Method::OPTIONS, url(addr, "/data/rec.h5"))
        .header(header::ORIGIN, "http://example.test")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "range")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(h(pre.headers(), "access-control-allow-origin"), "*");
    let allowed = h(pre.headers(), "access-control-allow-headers").to_ascii_lowercase();
    assert!(allowed.split(',').any(|x| x.trim() == "range"), "{allowed}");
    let methods = h(pre.headers(), "access-control-allow-methods");
    assert!(methods.contains("GET") && methods.contains("HEAD"));

    let resp = c
        .get(url(addr, "/data/rec.h5"))
        .header(header::ORIGIN, "http://example.test")
        .header(header::RANGE, "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(h(resp.headers(), "access-control-allow-origin"), "*");
    let exposed: Vec<String> = h(resp.headers(), "access-control-expose-headers")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    for need in ["content-range", "content-length", "etag", "accept-ranges"] {
        assert!(
            exposed.iter().any(|e| e == need),
            "{need} not exposed: {exposed:?}"
        );
    }
    assert_eq!(
        h(resp.headers(), "cross-origin-resource-policy"),
        "cross-origin"
    );
    // Errors carry CORS too, so the browser can show them.
    let missing = c.get(url(addr, "/data/nope.h5")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(h(missing.headers(), "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn traversal_is_refused() {
    let tree = Tree::new(1000);
    let addr = tree.serve().await;
    let attempts = [
        "GET /data/../secret.txt HTTP/1.1",
        "GET /data/../outside/secret.txt HTTP/1.1",
        "GET /data/%2e%2e/secret.txt HTTP/1.1",
        "GET /data/%2E%2E/outside/secret.txt HTTP/1.1",
        "GET /data/.%2e/secret.txt HTTP/1.1",
        "GET /data/..%2fsecret.txt HTTP/1.1",
        "GET /data/%2e%2e%2fsecret.txt HTTP/1.1",
        "GET /data/sub/..%2f..%2fsecret.txt HTTP/1.1",
        "GET /data/sub/../../secret.txt HTTP/1.1",
        "GET /data/..%5csecret.txt HTTP/1.1",
        "GET /data//etc/passwd HTTP/1.1",
        "GET /data/%2fetc%2fpasswd HTTP/1.1",
        "GET /data/%2Fetc/passwd HTTP/1.1",
        "GET /data/secret.txt%00.h5 HTTP/1.1",
        "GET /data/%252e%252e/secret.txt HTTP/1.1",
        "GET /data/link_out HTTP/1.1",
        "GET /secret.txt HTTP/1.1",
        "GET /../secret.txt HTTP/1.1",
        "GET /data/..\\secret.txt HTTP/1.1",
    ];
    for line in attempts {
        let r = raw_get(addr, line).await;
        eprintln!("{line} -> {}", r.status);
        assert!(
            matches!(r.status, 400 | 403 | 404),
            "{line}: status {}",
            r.status
        );
        assert!(
            !r.body.windows(SECRET.len()).any(|w| w == SECRET),
            "{line}: leaked the secret"
        );
    }
    // Absolute-form request target.
    let r = raw_get(
        addr,
        &format!("GET http://{addr}/data/%2e%2e/secret.txt HTTP/1.1"),
    )
    .await;
    assert!(
        matches!(r.status, 400 | 403 | 404),
        "absolute-form: {}",
        r.status
    );

    // Legitimate paths still work, including a symlink that stays inside.
    let ok = raw_get(addr, "GET /data/sub/small.bin HTTP/1.1").await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body, b"0123456789");
    let ok = raw_get(addr, "GET /data/sub%2Fsmall.bin HTTP/1.1").await;
    assert_eq!(ok.status, 403, "an encoded separator is not a separator");
    #[cfg(unix)]
    {
        let inside = raw_get(addr, "GET /data/link_in.h5 HTTP/1.1").await;
        assert_eq!(inside.status, 200);
        assert_eq!(inside.body, tree.bytes);
    }
    // Directories are not listed as files; `/data/` answers the manifest of its recordings
    // (for the page's ?list=): only recording files whose target stays inside.
    assert_eq!(raw_get(addr, "GET /data/sub HTTP/1.1").await.status, 404);
    #[cfg(unix)]
    std::os::unix::fs::symlink(tree.outside.join("secret.txt"), tree.data.join("out.h5")).unwrap();
    let listing = raw_get(addr, "GET /data/ HTTP/1.1").await;
    assert_eq!(listing.status, 200);
    let listed: serde_json::Value = serde_json::from_slice(&listing.body).expect("manifest");
    let names: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    let expected: &[&str] = if cfg!(unix) {
        &["link_in.h5", "rec.h5"]
    } else {
        &["rec.h5"]
    };
    assert_eq!(names, expected);
}

#[tokio::test]
async fn site_files_at_root() {
    let tree = Tree::new(1000);
    let site = tree.tmp.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>strobe</title>",
    )
    .unwrap();
    std::fs::write(site.join("pkg").join("strobe_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(site.join("pkg").join("strobe.js"), "export {}").unwrap();
    let addr = serve_with(ServeOptions {
        site_dir: Some(site.clone()),
        ..tree.options()
    })
    .await;
    let c = client();
    let index = c.get(url(addr, "/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(h(index.headers(), "content-type").starts_with("text/html"));
    assert!(index.text().await.unwrap().contains("strobe"));
    let wasm = c
        .get(url(addr, "/pkg/strobe_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(h(wasm.headers(), "content-type"), "application/wasm");
    let js = c.get(url(addr, "/pkg/strobe.js")).send().await.unwrap();
    assert!(h(js.headers(), "content-type").starts_with("text/javascript"));
    assert_eq!(
        c.get(url(addr, "/nope.js")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    // Data is still under /data/.
    assert_eq!(
        c.get(url(addr, "/data/rec.h5"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    for line in [
        "GET /../secret.txt HTTP/1.1",
        "GET /%2e%2e/secret.txt HTTP/1.1",
        "GET /pkg/%2e%2e/%2e%2e/secret.txt HTTP/1.1",
    ] {
        let r = raw_get(addr, line).await;
        assert!(matches!(r.status, 400 | 403 | 404), "{line}: {}", r.status);
    }
}

#[tokio::test]
async fn other_methods_are_405() {
    let tree = Tree::new(10);
    let addr = tree.serve().await;
    let resp = client()
        .post(url(addr, "/data/rec.h5"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn fault_injection_and_latency() {
    let tree = Tree::new(5000);
    let c = client();
    let ignoring = serve_with(ServeOptions {
        ignore_range: true,
        ..tree.options()
    })
    .await;
    let resp = c
        .get(url(ignoring, "/data/rec.h5"))
        .header(header::RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().len(), 5000);

    let gzip = serve_with(ServeOptions {
        gzip: true,
        ..tree.options()
    })
    .await;
    let resp = c
        .get(url(gzip, "/data/rec.h5"))
        .header(header::RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(h(resp.headers(), "content-encoding"), "gzip");

    let slow = serve_with(ServeOptions {
        latency: Duration::from_millis(150),
        ..tree.options()
    })
    .await;
    let t = Instant::now();
    let resp = c
        .get(url(slow, "/data/rec.h5"))
        .header(header::RANGE, "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn bad_directories_fail_at_startup() {
    let tree = Tree::new(10);
    let err = strobe::serve::bind(&ServeOptions {
        port: 0,
        data_dir: Some(tree.tmp.path().join("missing")),
        ..Default::default()
    })
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("missing"), "{err}");
    let err = strobe::serve::bind(&ServeOptions {
        port: 0,
        data_dir: Some(tree.rec.clone()),
        ..Default::default()
    })
    .await
    .err()
    .unwrap();
    assert!(err.to_string().contains("not a directory"), "{err}");
}
