//! Listings of many recordings: `strobe info DIR --manifest` writes the directory's recordings
//! as the page's JSON manifest, `strobe serve --data DIR` answers the same at `/data/`, and
//! listing many recordings over HTTP opens them concurrently (the server sees a few rounds,
//! not one set of rounds per recording).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use strobe::serve::ServeOptions;

/// A directory of recordings: two good (one in a subdirectory, with a space in its name), one
/// truncated, one not HDF5, and a text file that is no recording at all.
fn mix_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let fx = common::fixtures_dir();
    std::fs::copy(fx.join("generic.h5"), dir.path().join("generic.h5")).expect("copy");
    std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
    std::fs::copy(fx.join("vector.h5"), dir.path().join("sub/a b#1.h5")).expect("copy");
    let whole = std::fs::read(fx.join("generic.h5")).expect("read fixture");
    std::fs::write(dir.path().join("truncated.h5"), &whole[..whole.len() / 3]).expect("write");
    std::fs::write(dir.path().join("notes.h5"), b"not an HDF5 file\n").expect("write");
    std::fs::write(dir.path().join("readme.txt"), b"hello\n").expect("write");
    dir
}

/// `(url, name)` of each manifest entry.
fn entries(text: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v.as_array()
        .unwrap_or_else(|| panic!("array: {text}"))
        .iter()
        .map(|e| {
            (
                e["url"].as_str().expect("url").to_string(),
                e["name"].as_str().expect("name").to_string(),
            )
        })
        .collect()
}

#[test]
fn cli_manifest_lists_the_recordings_that_open_and_names_each_failure() {
    let dir = mix_dir();
    let base = dir.path().display().to_string();
    let (ok, out, err) = common::strobe(&["info", &base, "--manifest"]);
    assert!(ok, "{err}");
    assert_eq!(
        entries(&out),
        [
            ("generic.h5".to_string(), "generic.h5".to_string()),
            ("sub/a%20b%231.h5".to_string(), "sub/a b#1.h5".to_string()),
        ]
    );
    for failed in ["truncated.h5", "notes.h5"] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("left out") && l.contains(failed)),
            "{failed} named: {err}"
        );
    }
    // The same recordings `strobe info DIR` opens.
    let (ok, out_info, err) = common::strobe(&["info", &base, "--json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out_info).expect("JSON");
    let good: Vec<String> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter(|e| e.get("error").is_none())
        .map(|e| {
            let source = e["source"].as_str().expect("source");
            let rel = Path::new(source).strip_prefix(&base).expect("under DIR");
            rel.display().to_string()
        })
        .collect();
    let names: Vec<String> = entries(&out).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, good);
    // Its URLs, resolved as the page does, name the files.
    let listing =
        strobe::listing::parse(&out, "http://h/data/manifest.json").expect("page reads it");
    assert_eq!(listing.entries[1].url, "http://h/data/sub/a%20b%231.h5");

    let (ok, _, err) = common::strobe(&["info", &format!("{base}/generic.h5"), "--manifest"]);
    assert!(
        !ok && err.contains("--manifest lists one directory"),
        "{err}"
    );
}

async fn get(url: &str) -> (u16, String) {
    let resp = reqwest::get(url).await.expect("request");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}

#[tokio::test]
async fn served_manifest_lists_the_directory_and_its_urls_serve_the_files() {
    let dir = mix_dir();
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let (addr, _server) = strobe::serve::spawn_for_tests(opts).await.expect("serve");
    let base = format!("http://{addr}/data/");
    let (status, text) = get(&base).await;
    assert_eq!(status, 200, "{text}");
    let listing = strobe::listing::parse(&text, &base).expect("page reads it");
    let names: Vec<&str> = listing.entries.iter().map(|e| e.name.as_str()).collect();
    // Listed by extension: the page opens each and names the ones that fail.
    assert_eq!(
        names,
        ["generic.h5", "notes.h5", "sub/a b#1.h5", "truncated.h5"]
    );
    for e in &listing.entries {
        let bytes = reqwest::get(&e.url)
            .await
            .expect("request")
            .bytes()
            .await
            .expect("body");
        let on_disk = std::fs::read(dir.path().join(&e.name)).expect("file");
        assert!(bytes[..] == on_disk[..], "{} serves {}", e.url, e.name);
    }
    // A subdirectory's manifest is relative to it.
    let (status, text) = get(&format!("{base}sub/")).await;
    assert_eq!(status, 200);
    assert_eq!(
        entries(&text),
        [("a%20b%231.h5".to_string(), "a b#1.h5".to_string())]
    );
    let (status, _) = get(&format!("{base}nowhere/")).await;
    assert_eq!(status, 404);
    // Sent raw: a URL library would fold the dot segment away before sending.
    assert_eq!(raw_status(&addr, "/data/%2e%2e/").await, 403);
    assert_eq!(raw_status(&addr, "/data/sub/%2e%2e/%2e%2e/").await, 403);
}

/// The status line's code of `GET path` sent byte for byte.
async fn raw_status(addr: &std::net::SocketAddr, path: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let ask = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    tcp.write_all(ask.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line: {text}"))
}

/// What the server saw: requests, the most in flight at once, and rounds (a round starts when
/// a request arrives while none is in flight).
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    requests: usize,
    in_flight: usize,
    max_in_flight: usize,
    rounds: usize,
}

/// Serves `dir` under `/data/` with every request held `hold` before it is answered, counting
/// what arrives.
async fn counting_server(dir: &Path, hold: Duration) -> (String, Arc<Mutex<Seen>>) {
    use axum::extract::Request;
    use axum::middleware::Next;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    let counter = seen.clone();
    let app = strobe::serve::router(&opts)
        .expect("router")
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| {
                let counter = counter.clone();
                async move {
                    {
                        let mut s = counter.lock().expect("lock");
                        if s.in_flight == 0 {
                            s.rounds += 1;
                        }
                        s.requests += 1;
                        s.in_flight += 1;
                        s.max_in_flight = s.max_in_flight.max(s.in_flight);
                    }
                    tokio::time::sleep(hold).await;
                    let resp = next.run(req).await;
                    counter.lock().expect("lock").in_flight -= 1;
                    resp
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/data/"), seen)
}

/// `strobe info URL…` over recordings `0.h5 … (n-1).h5` of the server at `base`; what the server
/// saw meanwhile.
async fn list_over_http(base: &str, seen: &Arc<Mutex<Seen>>, n: usize) -> Seen {
    *seen.lock().expect("lock") = Seen::default();
    let mut args: Vec<String> = vec!["info".into()];
    args.extend((0..n).map(|i| format!("{base}{i}.h5")));
    args.push("--json".into());
    let (ok, out, err) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::strobe(&args)
    })
    .await
    .expect("strobe ran");
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), n, "{out}");
    let events = common::fixture("vector")["info"]["events"].as_u64();
    for e in listed {
        assert_eq!(e["events"].as_u64(), events, "{e}");
    }
    let s = *seen.lock().expect("lock");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_many_recordings_costs_about_the_rounds_of_a_few() {
    const MANY: usize = 32;
    let dir = tempfile::tempdir().expect("temp dir");
    let fx = common::fixtures_dir().join("vector.h5");
    for i in 0..MANY {
        std::fs::hard_link(&fx, dir.path().join(format!("{i}.h5")))
            .or_else(|_| std::fs::copy(&fx, dir.path().join(format!("{i}.h5"))).map(|_| ()))
            .expect("link fixture");
    }
    let (base, seen) = counting_server(dir.path(), Duration::from_millis(40)).await;
    let two = list_over_http(&base, &seen, 2).await;
    let many = list_over_http(&base, &seen, MANY).await;
    eprintln!("two: {two:?}\n{MANY}: {many:?}");
    // Opened one after another, MANY recordings would cost MANY/2 times the rounds of two;
    // opened concurrently (16 at a time) they cost about twice those rounds.
    assert!(
        many.max_in_flight >= 8,
        "recordings opened concurrently: {many:?}"
    );
    assert!(
        many.rounds <= 4 * two.rounds,
        "{MANY} recordings: {many:?}; two: {two:?}"
    );
    assert!(many.requests >= MANY, "{many:?}");
}
