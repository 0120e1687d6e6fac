//! RangeCache: merging, rounds, hits, LRU budget, in-flight sharing, exactness.
#![cfg(not(target_arch = "wasm32"))]

mod source_common;

use futures::FutureExt;
use source_common::{random_bytes, slice, url, Counting, Tree};
use strobe::source::http::HttpSource;
use strobe::source::{ByteRange, NetStats, RangeCache, RangeSource, SourceError};

fn r(a: u64, b: u64) -> ByteRange {
    ByteRange::new(a, b)
}

fn cache(len: usize, budget: u64) -> (RangeCache<Counting>, Vec<u8>) {
    let bytes = random_bytes(len, 11);
    (RangeCache::new(Counting::new(bytes.clone()), budget), bytes)
}

async fn check(c: &RangeCache<Counting>, bytes: &[u8], ranges: &[ByteRange]) {
    let got = c.read_ranges(ranges).await.unwrap();
    assert_eq!(got.len(), ranges.len());
    for (r, b) in ranges.iter().zip(&got) {
        assert_eq!(&b[..], slice(bytes, *r), "{r}");
    }
}

#[tokio::test]
async fn nearby_ranges_merge_into_one_request() {
    let (c, bytes) = cache(100_000, 1 << 20);
    check(&c, &bytes, &[r(1000, 2000), r(2100, 3000)]).await;
    assert_eq!(c.inner().calls(), vec![vec![r(1000, 3000)]]);
    assert_eq!(
        c.stats(),
        NetStats {
            requests: 1,
            bytes: 2000,
            rounds: 1,
            hits: 0,
            misses: 2
        }
    );
}

#[tokio::test]
async fn far_ranges_are_two_requests_in_one_round() {
    let (c, bytes) = cache(100_000, 1 << 20);
    // Asked out of order, with a duplicate and an empty range.
    let ranges = [r(50_000, 50_100), r(0, 100), r(0, 100), r(7, 7)];
    check(&c, &bytes, &ranges).await;
    assert_eq!(c.inner().calls(), vec![vec![r(0, 100), r(50_000, 50_100)]]);
    let s = c.stats();
    assert_eq!((s.requests, s.bytes, s.rounds), (2, 200, 1));
    assert_eq!((s.hits, s.misses), (0, 3), "the empty range is not counted");
}

#[tokio::test]
async fn merge_gap_and_max_span_are_configurable() {
    let bytes = random_bytes(100_000, 3);
    let c = RangeCache::new(Counting::new(bytes.clone()), 1 << 20).with_merge_gap(0);
    check(&c, &bytes, &[r(0, 10), r(11, 20), r(20, 30)]).await;
    assert_eq!(
        c.inner().calls(),
        vec![vec![r(0, 10), r(11, 30)]],
        "touching ranges still join"
    );

    let c = RangeCache::new(Counting::new(bytes.clone()), 1 << 20)
        .with_merge_gap(1000)
        .with_max_span(1000);
    check(&c, &bytes, &[r(0, 600), r(700, 1300), r(5000, 7000)]).await;
    assert_eq!(
        c.inner().calls(),
        vec![vec![r(0, 600), r(700, 1300), r(5000, 7000)]],
        "merging would exceed max_span; a single long range is never split"
    );
}

#[tokio::test]
async fn repeated_reads_are_hits_and_cost_no_round() {
    let (c, bytes) = cache(100_000, 1 << 20);
    check(&c, &bytes, &[r(0, 5000), r(9000, 12_000)]).await;
    c.reset_stats();
    assert_eq!(c.stats(), NetStats::default());
    // Exact repeats and sub-ranges of what was fetched.
    check(
        &c,
        &bytes,
        &[r(0, 5000), r(10, 20), r(9000, 12_000), r(11_999, 12_000)],
    )
    .await;
    assert_eq!(
        c.stats(),
        NetStats {
            requests: 0,
            bytes: 0,
            rounds: 0,
            hits: 4,
            misses: 0
        }
    );
    assert_eq!(c.inner().calls().len(), 1);
}

#[tokio::test]
async fn only_missing_parts_are_fetched() {
    let (c, bytes) = cache(100_000, 1 << 20);
    let c = c.with_merge_gap(0);
    check(&c, &bytes, &[r(10_000, 20_000)]).await;
    // Overlaps the cached span on both sides and spans a hole.
    check(&c, &bytes, &[r(5000, 25_000), r(30_000, 30_500)]).await;
    assert_eq!(
        c.inner().calls()[1],
        vec![r(5000, 10_000), r(20_000, 25_000), r(30_000, 30_500)]
    );
    // Everything asked so far is now served from memory, also pieced across spans.
    c.reset_stats();
    check(&c, &bytes, &[r(5000, 25_000), r(9_999, 20_001)]).await;
    assert_eq!(c.stats().requests, 0);
    assert_eq!(c.stats().hits, 2);
}

#[tokio::test]
async fn gap_bytes_fetched_by_merging_are_cached_too() {
    let (c, bytes) = cache(100_000, 1 << 20);
    check(&c, &bytes, &[r(0, 100), r(1000, 1100)]).await;
    c.reset_stats();
    check(&c, &bytes, &[r(500, 600)]).await;
    assert_eq!(c.stats().requests, 0);
}

#[tokio::test]
async fn lru_eviction_keeps_memory_within_budget() {
    let budget = 10_000;
    let (c, bytes) = cache(1_000_000, budget);
    let span = |i: u64| r(i * 100_000, i * 100_000 + 3000);
    for i in 0..3 {
        check(&c, &bytes, &[span(i)]).await;
    }
    assert_eq!(c.cached_bytes(), 9000);
    // Use span 0 again so span 1 becomes least recently used.
    check(&c, &bytes, &[span(0)]).await;
    check(&c, &bytes, &[span(3)]).await;
    assert!(c.cached_bytes() <= budget);
    c.reset_stats();
    check(&c, &bytes, &[span(0)]).await;
    check(&c, &bytes, &[span(2)]).await;
    check(&c, &bytes, &[span(3)]).await;
    assert_eq!(c.stats().requests, 0, "recently used spans stayed");
    check(&c, &bytes, &[span(1)]).await;
    assert_eq!(
        c.stats().requests,
        1,
        "the least recently used span was evicted"
    );
    assert!(c.cached_bytes() <= budget);

    // A span bigger than the whole budget is returned but not kept.
    c.reset_stats();
    check(&c, &bytes, &[r(500_000, 520_000)]).await;
    assert!(c.cached_bytes() <= budget);
    check(&c, &bytes, &[r(500_000, 520_000)]).await;
    assert_eq!(c.stats().requests, 2);
}

#[tokio::test]
async fn random_workload_is_exact_and_bounded() {
    let bytes = random_bytes(2_000_000, 5);
    for budget in [0u64, 4096, 100_000, 1 << 20] {
        let c = RangeCache::new(Counting::new(bytes.clone()), budget);
        let mut nonempty = 0u64;
        let mut seed = budget + 1;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 16
        };
        for _ in 0..100 {
            let k = 1 + next() % 12;
            let ranges: Vec<_> = (0..k)
                .map(|_| {
                    let start = next() % 2_000_000;
                    let len = next() % 50_000;
                    r(start, (start + len).min(2_000_000))
                })
                .collect();
            nonempty += ranges.iter().filter(|r| !r.is_empty()).count() as u64;
            check(&c, &bytes, &ranges).await;
            assert!(c.cached_bytes() <= budget, "budget {budget}");
        }
        let s = c.stats();
        assert_eq!(s.rounds as usize, c.inner().calls().len());
        assert_eq!(s.requests as usize, c.inner().requests());
        assert_eq!(
            s.hits + s.misses,
            nonempty,
            "every non-empty range counted once"
        );
    }
}

#[tokio::test]
async fn concurrent_identical_reads_share_one_request() {
    let (c, bytes) = cache(100_000, 1 << 20);
    let want = [r(100, 200), r(5000, 6000)];
    let (a, b) = futures::join!(c.read_ranges(&want), c.read_ranges(&want));
    let (a, b) = (a.unwrap(), b.unwrap());
    for (r, (x, y)) in want.iter().zip(a.iter().zip(&b)) {
        assert_eq!(&x[..], slice(&bytes, *r));
        assert_eq!(&y[..], slice(&bytes, *r));
    }
    assert_eq!(
        c.inner().calls().len(),
        1,
        "one round: {:?}",
        c.inner().calls()
    );
    let s = c.stats();
    assert_eq!((s.requests, s.rounds), (2, 1));
}

#[tokio::test]
async fn concurrent_overlapping_reads_fetch_each_byte_once() {
    let (c, bytes) = cache(100_000, 1 << 20);
    let c = c.with_merge_gap(0);
    let first = [r(0, 1000)];
    let second = [r(500, 1500), r(1400, 1600)];
    let (a, b) = futures::join!(c.read_ranges(&first), c.read_ranges(&second));
    assert_eq!(&a.unwrap()[0][..], &bytes[0..1000]);
    let b = b.unwrap();
    assert_eq!(&b[0][..], &bytes[500..1500]);
    assert_eq!(&b[1][..], &bytes[1400..1600]);
    assert_eq!(
        c.inner().calls(),
        vec![vec![r(0, 1000)], vec![r(1000, 1600)]]
    );
    assert_eq!(c.stats().bytes, 1600);
}

#[tokio::test]
async fn a_waiter_survives_its_leader_being_dropped() {
    let (c, bytes) = cache(100_000, 1 << 20);
    let want = [r(10, 20)];
    let mut leader = c.read_ranges(&want);
    let mut waiter = c.read_ranges(&want);
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(
        leader.poll_unpin(&mut cx).is_pending(),
        "leader is fetching"
    );
    assert!(
        waiter.poll_unpin(&mut cx).is_pending(),
        "waiter waits for the leader"
    );
    assert_eq!(c.inner().calls().len(), 1);
    drop(leader);
    let got = waiter.await.unwrap();
    assert_eq!(&got[0][..], &bytes[10..20]);
    assert_eq!(c.inner().calls().len(), 2, "the waiter fetched for itself");
    // Nothing is left dangling: a later read is a plain hit.
    c.reset_stats();
    check(&c, &bytes, &want).await;
    assert_eq!(c.stats().hits, 1);
}

#[tokio::test]
async fn leader_failure_makes_waiters_try_themselves() {
    let (c, bytes) = cache(100_000, 1 << 20);
    *c.inner().fail_next.lock().unwrap() = 1;
    let want = [r(10, 20)];
    let (a, b) = futures::join!(c.read_ranges(&want), c.read_ranges(&want));
    assert!(matches!(a, Err(SourceError::Network { .. })), "{a:?}");
    assert_eq!(&b.unwrap()[0][..], &bytes[10..20]);
    // Failed fetches are not cached; the next read fetches again and succeeds.
    let (c, bytes) = cache(100_000, 1 << 20);
    *c.inner().fail_next.lock().unwrap() = 1;
    assert!(c.read_ranges(&want).await.is_err());
    assert_eq!(c.cached_bytes(), 0);
    check(&c, &bytes, &want).await;
}

#[tokio::test]
async fn errors_pass_through() {
    let (c, _) = cache(1000, 1 << 20);
    let err = c.read_ranges(&[r(0, 10), r(990, 1010)]).await.unwrap_err();
    assert!(
        matches!(err, SourceError::OutOfBounds { len: 1000, .. }),
        "{err:?}"
    );
    assert_eq!(c.len().await.unwrap(), 1000);
    assert_eq!(c.validator().as_deref(), Some("mem"));
    assert_eq!(c.describe(), "mem");
}

#[tokio::test]
async fn stats_serialize_for_the_viewer() {
    let (c, bytes) = cache(10_000, 1 << 20);
    check(&c, &bytes, &[r(0, 10)]).await;
    let json = serde_json::to_value(c.stats()).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"requests": 1, "bytes": 10, "rounds": 1, "hits": 0, "misses": 1})
    );
}

#[tokio::test]
async fn over_http_end_to_end() {
    let tree = Tree::new(3 * 1024 * 1024);
    let addr = tree.serve().await;
    let c = RangeCache::new(
        HttpSource::new(url(addr, "/data/rec.h5")).unwrap(),
        strobe::source::cache::DEFAULT_BUDGET,
    );
    let ranges: Vec<_> = (0..64u64)
        .map(|i| ByteRange::at(i * 40_000, 1000))
        .collect();
    let got = c.read_ranges(&ranges).await.unwrap();
    for (r, b) in ranges.iter().zip(&got) {
        assert_eq!(&b[..], slice(&tree.bytes, *r));
    }
    let s = c.stats();
    assert_eq!((s.requests, s.rounds, s.misses), (64, 1, 64));
    let again = c.read_ranges(&ranges).await.unwrap();
    assert_eq!(again, got);
    assert_eq!(c.stats().requests, 64);
    assert_eq!(c.stats().hits, 64);
    assert_eq!(c.len().await.unwrap(), tree.bytes.len() as u64);
}

#[tokio::test]
async fn concurrent_different_reads_are_one_round() {
    let (c, bytes) = cache(100_000, 1 << 20);
    let first = [r(0, 100)];
    let second = [r(50_000, 50_100)];
    let (a, b) = futures::join!(c.read_ranges(&first), c.read_ranges(&second));
    assert_eq!(&a.unwrap()[0][..], &bytes[0..100]);
    assert_eq!(&b.unwrap()[0][..], &bytes[50_000..50_100]);
    let s = c.stats();
    assert_eq!((s.requests, s.rounds), (2, 1), "they travelled together");
    // Afterwards, a new fetch is a new round.
    check(&c, &bytes, &[r(70_000, 70_100)]).await;
    assert_eq!(c.stats().rounds, 2);
}
