//! The same fixtures, read over HTTP range requests from the project's own server, agree with
//! h5py; and the HTTP failure modes give one clear error each.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::rc::Rc;

use strobe::events::{LayoutOverrides, Recording};
use strobe::serve::{spawn_for_tests, ServeOptions};
use strobe::source::http::HttpSource;
use strobe::source::{RangeCache, RangeSource};

async fn server(opts: ServeOptions) -> String {
    let opts = ServeOptions {
        port: 0,
        data_dir: Some(common::fixtures_dir()),
        ..opts
    };
    let (addr, _task) = spawn_for_tests(opts).await.expect("server starts");
    format!("http://{addr}/data")
}

#[tokio::test(flavor = "current_thread")]
async fn every_window_of_every_fixture_matches_h5py_over_http() {
    let base = server(ServeOptions::default()).await;
    let out = common::check_all(|name| {
        Box::new(HttpSource::new(format!("{base}/{name}")).expect("url parses"))
            as Box<dyn RangeSource>
    })
    .await;
    common::assert_outcome(&out);
}

async fn open_error(url: String) -> String {
    let cache = Rc::new(RangeCache::new(
        Box::new(HttpSource::new(url).expect("url parses")) as Box<dyn RangeSource>,
        1 << 20,
    ));
    match Recording::open(cache as Rc<dyn RangeSource>, &LayoutOverrides::default()).await {
        Ok(_) => "opened".into(),
        Err(e) => e.to_string(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn http_failures_say_what_to_fix() {
    let ok = server(ServeOptions::default()).await;
    let e = open_error(format!("{ok}/no_such_file.h5")).await;
    assert!(e.contains("HTTP 404"), "{e}");
    let e = open_error(format!("{ok}/not_hdf5.h5")).await;
    assert!(e.contains("not an HDF5 file"), "{e}");
    let e = open_error(format!("{ok}/no_events.h5")).await;
    assert!(e.contains("no event datasets"), "{e}");

    let ignoring = server(ServeOptions {
        ignore_range: true,
        ..Default::default()
    })
    .await;
    let e = open_error(format!("{ignoring}/dsec_full_bitshuffle.h5")).await;
    assert!(e.contains("ignores Range"), "{e}");

    let gzip = server(ServeOptions {
        gzip: true,
        ..Default::default()
    })
    .await;
    let e = open_error(format!("{gzip}/dsec_full_bitshuffle.h5")).await;
    assert!(e.contains("content-encoded"), "{e}");

    let e = open_error("http://127.0.0.1:9/x.h5".into()).await;
    assert!(e.contains("request failed"), "{e}");
}
