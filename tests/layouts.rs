//! Layout detection against the fixture manifest: every fixture's family and column paths
//! are the ones its writer (tests/fixtures/make_fixtures.py) declared.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::rc::Rc;

use strobe::events::Recording;
use strobe::source::file::FileSource;
use strobe::source::{RangeCache, RangeSource};

#[tokio::test(flavor = "current_thread")]
async fn every_fixture_is_detected_as_the_family_it_was_written_as() {
    let manifest = common::manifest();
    let mut checked = 0;
    let mut failures = Vec::new();
    for fx in common::fixtures(&manifest) {
        if !fx["expect_error"].is_null() || fx["layout"].is_null() {
            continue;
        }
        let id = fx["id"].as_str().unwrap_or("?");
        let path = common::fixtures_dir().join(fx["file"].as_str().expect("file"));
        let source: Box<dyn RangeSource> =
            Box::new(FileSource::open(&path).expect("fixture opens"));
        let cache = Rc::new(RangeCache::new(source, 16 << 20));
        let rec = match Recording::open(cache as Rc<dyn RangeSource>, &common::overrides_for(&fx))
            .await
        {
            Ok(rec) => rec,
            Err(e) => {
                failures.push(format!("{id}: {e}"));
                continue;
            }
        };
        let want = fx["layout"].as_str().expect("layout");
        if rec.layout.name() != want {
            failures.push(format!("{id}: detected {}, written as {want}", rec.layout));
        }
        for (column, got) in [
            ("x", &rec.paths.x),
            ("y", &rec.paths.y),
            ("t", &rec.paths.t),
            ("p", &rec.paths.p),
        ] {
            if fx["paths"][column].as_str() != Some(got.as_str()) {
                failures.push(format!(
                    "{id}: {column} at {got}, written at {}",
                    fx["paths"][column]
                ));
            }
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 50, "only {checked} fixtures checked");
}

/// A family is one declarative entry: a made-up camera whose events live in
/// `/recording/cd` (the `generic` fixture's group) with a 1024×768 sensor is recognised from
/// that entry alone, and its sensor size is the one it declares.
#[tokio::test(flavor = "current_thread")]
async fn a_made_up_family_is_one_entry() {
    use strobe::events::layout::{detect_in, EventsAt, LayoutSpec, Sensor};
    use strobe::hdf5::H5File;
    static MINE: &[LayoutSpec] = &[LayoutSpec {
        name: "mycam",
        events: EventsAt::Group("/recording/cd"),
        sensor: Sensor::Known(1024, 768),
        ..LayoutSpec::GROUP
    }];
    let path = common::fixtures_dir().join("generic.h5");
    let source: Box<dyn RangeSource> = Box::new(FileSource::open(&path).expect("fixture opens"));
    let cache = Rc::new(RangeCache::new(source, 16 << 20));
    let file = H5File::open(cache as Rc<dyn RangeSource>)
        .await
        .expect("opens");
    let objects = file.objects().await.expect("objects");
    let (kind, paths) = detect_in(MINE, &file, &objects, &Default::default()).expect("detected");
    assert_eq!(kind.name(), "mycam");
    assert_eq!(kind.known_sensor(), Some((1024, 768)));
    assert_eq!(paths.t, "/recording/cd/t");
    // The same file against the real table is not a "mycam".
    let (real, _) =
        strobe::events::layout::detect(&file, &objects, &Default::default()).expect("detected");
    assert_eq!(real.name(), "generic");
}
