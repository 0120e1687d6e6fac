//! Round budgets over HTTP, counted by the range cache: a cold 50 ms window takes at most four
//! sequential rounds, a seek to another window of the same open recording at most two. These
//! are counts, not timings: each round is a batch of requests issued together.

mod common;

use std::rc::Rc;

use strobe::events::{Recording, Window, WindowReader};
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::{RangeCache, RangeSource};

#[tokio::test(flavor = "current_thread")]
async fn cold_window_in_four_rounds_warm_seek_in_two() {
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .await
    .expect("server");
    let manifest = common::manifest();
    for id in ["dsec_full_bitshuffle", "dsec_append_byteshuffle"] {
        let fx = common::fixtures(&manifest)
            .into_iter()
            .find(|f| f["id"] == id)
            .expect("fixture");
        let url = format!("http://{addr}/data/{}", fx["file"].as_str().expect("file"));
        let cache = Rc::new(RangeCache::new(
            Box::new(HttpSource::new(url).expect("url")) as Box<dyn RangeSource>,
            64 << 20,
        ));
        let rec = Recording::open(cache.clone() as Rc<dyn RangeSource>, &Default::default())
            .await
            .expect("opens");
        let windows: Vec<Window> = fx["windows"]
            .as_array()
            .expect("windows")
            .iter()
            .filter(|w| w["to"].as_i64().unwrap_or(0) - w["from"].as_i64().unwrap_or(0) == 50_000)
            .map(|w| Window {
                from: w["from"].as_i64().expect("from"),
                to: w["to"].as_i64().expect("to"),
            })
            .collect();
        assert!(windows.len() >= 2, "{id}: needs two 50 ms windows");
        let first = WindowReader::open(&rec, windows[0]).await.expect("window");
        first.digest().await.expect("reads");
        let cold = cache.stats().rounds;
        assert!(
            cold <= 4,
            "{id}: cold open + 50 ms window took {cold} rounds"
        );
        eprintln!("{id}: cold open + first 50 ms window: {cold} rounds");
        for w in &windows[1..] {
            let before = cache.stats().rounds;
            let d = WindowReader::open(&rec, *w)
                .await
                .expect("window")
                .digest()
                .await
                .expect("reads");
            let seek = cache.stats().rounds - before;
            assert!(d.events > 0 || seek == 0, "{id}: empty window read");
            eprintln!("{id}: seek to [{}, {}): {seek} rounds", w.from, w.to);
            assert!(
                seek <= 2,
                "{id}: seek to [{}, {}) took {seek} rounds",
                w.from,
                w.to
            );
        }
    }
}

/// Opens fixture `id` over HTTP from a fresh cache and reads its first 50 ms window: the
/// recording, the cache, and the rounds that open + window took.
async fn cold_first_window(
    addr: std::net::SocketAddr,
    id: &str,
) -> (Recording, Rc<RangeCache<Box<dyn RangeSource>>>, u64) {
    let manifest = common::manifest();
    let fx = common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("fixture {id}"));
    let url = format!("http://{addr}/data/{}", fx["file"].as_str().expect("file"));
    let cache = Rc::new(RangeCache::new(
        Box::new(HttpSource::new(url).expect("url")) as Box<dyn RangeSource>,
        64 << 20,
    ));
    let rec = Recording::open(
        cache.clone() as Rc<dyn RangeSource>,
        &common::overrides_for(&fx),
    )
    .await
    .expect("opens");
    let w = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["label"].as_str().is_some_and(|l| l.starts_with("50ms_")))
        .expect("a 50 ms window");
    let window = Window {
        from: w["from"].as_i64().expect("from"),
        to: w["to"].as_i64().expect("to"),
    };
    let d = WindowReader::open(&rec, window)
        .await
        .expect("window")
        .digest()
        .await
        .expect("reads");
    assert_eq!(
        Some(d.events as i64),
        w["events"].as_i64(),
        "{id}: window events vs h5py"
    );
    let rounds = cache.stats().rounds;
    (rec, cache, rounds)
}

/// Prophesee recordings with Metavision's `/CD/indexes` cost what DSEC costs: the table is read
/// at open beside the other metadata and bounds the window's rows.
#[tokio::test(flavor = "current_thread")]
async fn prophesee_cd_indexes_cold_window_in_four_rounds() {
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .await
    .expect("server");
    for id in ["ecf_busy_row_vectors", "ecf_multi_h5py_edge_chunk"] {
        let (rec, _cache, cold) = cold_first_window(addr, id).await;
        assert!(rec.cd_index.is_some(), "{id}: /CD/indexes was not read");
        eprintln!("{id}: cold open + first 50 ms window: {cold} rounds");
        assert!(
            cold <= 4,
            "{id}: cold open + 50 ms window took {cold} rounds"
        );
    }
}

/// MVSEC has no time index: its windows are found by searching `t` (measured here and in
/// BENCHMARKS.md; the budget is what the search costs on these fixtures).
#[tokio::test(flavor = "current_thread")]
async fn mvsec_without_index_rounds() {
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .await
    .expect("server");
    for id in ["mvsec_gzip_left", "mvsec_contiguous_left"] {
        let (rec, _cache, cold) = cold_first_window(addr, id).await;
        assert!(rec.ms_index.is_none() && rec.cd_index.is_none());
        eprintln!("{id}: cold open + first 50 ms window (no time index): {cold} rounds");
        assert!(
            cold <= 8,
            "{id}: cold open + 50 ms window took {cold} rounds"
        );
    }
}
