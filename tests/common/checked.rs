//! Reading a fixture's manifest windows and checking each against h5py's digest, shared by
//! the native and the browser fault tests (included by path in the wasm tests).

#![allow(dead_code)]

use std::rc::Rc;

use serde_json::Value;
use strobe::events::{Recording, Window, WindowReader};
use strobe::source::{RangeCache, RangeSource};

use super::digest::digest_mismatches;

/// A fixture entry's windows: each as a [`Window`] and its manifest entry.
pub fn windows_of(fx: &Value) -> Vec<(Window, Value)> {
    fx["windows"]
        .as_array()
        .expect("windows")
        .iter()
        .map(|w| {
            let window = Window {
                from: w["from"].as_i64().expect("from"),
                to: w["to"].as_i64().expect("to"),
            };
            (window, w.clone())
        })
        .collect()
}

/// Reads one window: an error from the engine is returned, a digest other than h5py's panics
/// (wrong events are never acceptable, whatever the fault).
pub async fn checked_window(rec: &Recording, window: Window, want: &Value) -> Result<(), String> {
    let reader = WindowReader::open(rec, window)
        .await
        .map_err(|e| e.to_string())?;
    let digest = reader.digest().await.map_err(|e| e.to_string())?;
    let got = serde_json::to_value(&digest).expect("digest serialises");
    let wrong = digest_mismatches(&got, want);
    assert!(
        wrong.is_empty(),
        "WRONG EVENTS [{}, {}): {wrong:?}",
        window.from,
        window.to
    );
    Ok(())
}

/// A 64 MiB range cache in front of `src`.
pub fn open_cache<S: RangeSource + 'static>(src: S) -> Rc<RangeCache<Box<dyn RangeSource>>> {
    Rc::new(RangeCache::new(
        Box::new(src) as Box<dyn RangeSource>,
        64 << 20,
    ))
}
