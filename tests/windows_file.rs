//! Every fixture's info and windows, read from local files, agree with h5py.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use strobe::source::file::FileSource;
use strobe::source::RangeSource;

#[tokio::test(flavor = "current_thread")]
async fn every_window_of_every_fixture_matches_h5py_from_files() {
    let dir = common::fixtures_dir();
    let out = common::check_all(|name| {
        Box::new(FileSource::open(dir.join(name)).expect("fixture opens")) as Box<dyn RangeSource>
    })
    .await;
    common::assert_outcome(&out);
}
