//! How many rounds a long window costs over HTTP: one index walk and one fetch round per slab
//! of rows, or — for a caller that keeps the whole window in memory (`whole_window`, used by
//! the in-memory exports and so by the Python package) — one of each for the whole window.
//! Counts, not timings; every read's digest is checked against h5py's (the manifest).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::rc::Rc;

use strobe::events::{Recording, Window, WindowReader};
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::{RangeCache, RangeSource};

const LABEL: &str = "many_events_10_to_90pct";

#[tokio::test(flavor = "current_thread")]
async fn whole_window_reads_a_long_window_in_one_walk_and_one_fetch_round() {
    let (addr, _task) = spawn_for_tests(ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..Default::default()
    })
    .await
    .expect("server");
    let manifest = common::manifest();
    let fx = common::fixtures(&manifest)
        .into_iter()
        .find(|f| f["id"] == "dsec_full_bitshuffle")
        .expect("fixture");
    let w = fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .find(|w| w["label"] == LABEL)
        .expect("window")
        .clone();
    let window = Window {
        from: w["from"].as_i64().expect("from"),
        to: w["to"].as_i64().expect("to"),
    };
    let expected_events = w["events"].as_u64().expect("events");
    // Slabs of 2^19 rows cut this window (3.2 M events) into 7: the per-slab reading that a
    // 1 s window of a real DSEC file (~15 M events, slabs of 2^22) shows as 8 rounds.
    let slab = 1u64 << 19;
    assert!(
        expected_events > 6 * slab,
        "the window must span several slabs"
    );

    let mut rounds = Vec::new();
    for whole in [false, true] {
        let url = format!("http://{addr}/data/{}", fx["file"].as_str().expect("file"));
        let cache = Rc::new(RangeCache::new(
            Box::new(HttpSource::new(url).expect("url")) as Box<dyn RangeSource>,
            256 << 20,
        ));
        let rec = Recording::open(cache.clone() as Rc<dyn RangeSource>, &Default::default())
            .await
            .expect("opens");
        let reader = WindowReader::open(&rec, window).await.expect("window");
        let before = cache.stats().rounds; // the time index lookup is done
        let reader = reader.slab_rows(slab);
        let reader = if whole {
            reader.whole_window(256 << 20)
        } else {
            reader
        };
        let d = reader.digest().await.expect("reads");
        let taken = cache.stats().rounds - before;
        eprintln!("whole_window={whole}: {taken} rounds");
        assert_eq!(d.events, expected_events, "events vs h5py");
        assert_eq!(
            d.first_index,
            w["first_index"].as_u64().expect("first_index")
        );
        for (got, key) in [
            (d.sum_x, "sum_x"),
            (d.sum_y, "sum_y"),
            (d.sum_t, "sum_t"),
            (d.sum_p, "sum_p"),
        ] {
            assert_eq!(got.to_string(), exact(&w[key]), "{key} vs h5py");
        }
        rounds.push(taken);
    }
    assert!(
        rounds[0] >= 7,
        "slab by slab: {} rounds for 7 slabs",
        rounds[0]
    );
    assert!(
        rounds[1] <= 2,
        "whole window: {} rounds (one walk, one fetch)",
        rounds[1]
    );
}

/// A manifest sum as decimal digits (sums beyond i64 are stored as strings).
fn exact(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
