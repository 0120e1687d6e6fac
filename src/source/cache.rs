//! A byte-bounded LRU cache of fetched spans in front of any [`RangeSource`].
//!
//! One `read_ranges` call on the cache is at most one round on the inner source: the parts not
//! already in memory (and not already being fetched by another caller) are sorted, merged when
//! close together, and issued in a single inner `read_ranges` call. Concurrent callers that
//! need bytes another caller is already fetching wait for that fetch instead of issuing their
//! own. Works on one thread without any runtime (browser): state lives in a `Mutex` that is
//! never held across an `.await`.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::channel::oneshot;
use futures::future::{join, join_all};
use serde::Serialize;

use super::{ByteRange, Ends, RangeSource, SourceError};

/// Default memory budget for cached bytes: 64 MiB.
pub const DEFAULT_BUDGET: u64 = 64 << 20;
/// Default largest gap between two missing parts that is fetched rather than split: 4 KiB.
pub const DEFAULT_MERGE_GAP: u64 = 4 << 10;
/// Default largest span that merging across gaps may produce: 8 MiB.
pub const DEFAULT_MAX_SPAN: u64 = 8 << 20;

/// Network accounting of a [`RangeCache`] since creation or the last `reset_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NetStats {
    /// Spans requested from the inner source (after merging).
    pub requests: u64,
    /// Bytes requested from the inner source (including merged-over gaps).
    pub bytes: u64,
    /// Sequential batches of inner reads: a fetch issued while no other is in flight starts
    /// a round; fetches issued while one is in flight (concurrent callers) join it. Each
    /// round costs at least one network latency.
    pub rounds: u64,
    /// Non-empty ranges asked of the cache that were served entirely from memory.
    pub hits: u64,
    /// Non-empty ranges asked of the cache that needed bytes not in memory.
    pub misses: u64,
}

/// Caches and batches reads of an inner [`RangeSource`]; is a `RangeSource` itself.
pub struct RangeCache<S> {
    inner: S,
    budget: u64,
    merge_gap: u64,
    max_span: u64,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Cached spans by start offset; never overlapping, never empty.
    spans: BTreeMap<u64, Cached>,
    /// Recency order: last-use tick → span start. Smallest tick is evicted first.
    lru: BTreeMap<u64, u64>,
    /// Sum of the lengths of `spans`.
    held: u64,
    tick: u64,
    /// Inner reads under way, which other callers may wait for.
    flights: Vec<Flight>,
    next_flight: u64,
    stats: NetStats,
}

struct Cached {
    data: Bytes,
    tick: u64,
}

type FlightResult = Result<Vec<Bytes>, SourceError>;

struct Flight {
    id: u64,
    /// Sorted, non-overlapping.
    spans: Vec<ByteRange>,
    /// Callers waiting for this flight. Dropping a sender tells its caller to plan again.
    waiters: Vec<oneshot::Sender<FlightResult>>,
}

/// Where one piece of a requested range comes from.
enum Src {
    Cached(Bytes),
    /// Index into `Plan::waits`.
    Foreign(usize),
    /// This call's own inner read.
    Own,
}

struct Seg {
    range: ByteRange,
    src: Src,
}

struct Plan<'a> {
    /// Per requested range, its pieces in order.
    segs: Vec<Vec<Seg>>,
    /// Flights of other callers this call waits for: their spans and the result channel.
    waits: Vec<(Vec<ByteRange>, oneshot::Receiver<FlightResult>)>,
    /// This call's own flight, if anything was missing.
    own: Option<(FlightGuard<'a>, Vec<ByteRange>)>,
}

/// Removes a flight from the table if its fetch is abandoned (the caller's future dropped),
/// which wakes its waiters with `Canceled` so they plan again.
struct FlightGuard<'a> {
    state: &'a Mutex<State>,
    id: u64,
    done: bool,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut st = lock(self.state);
            st.flights.retain(|f| f.id != self.id);
        }
    }
}

/// Why one attempt at serving a call did not produce data.
enum Failed {
    /// A flight we waited for was abandoned or failed; plan again.
    Replan,
    Error(SourceError),
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: RangeSource> RangeCache<S> {
    /// A cache holding at most `budget` bytes of fetched data (see [`DEFAULT_BUDGET`]).
    pub fn new(inner: S, budget: u64) -> Self {
        RangeCache {
            inner,
            budget,
            merge_gap: DEFAULT_MERGE_GAP,
            max_span: DEFAULT_MAX_SPAN,
            state: Mutex::new(State::default()),
        }
    }

    /// Missing parts at most `gap` bytes apart are fetched as one span, gap included.
    pub fn with_merge_gap(mut self, gap: u64) -> Self {
        self.merge_gap = gap;
        self
    }

    /// Merging across gaps never makes a span longer than `max` bytes. (A single asked range
    /// longer than `max` is still fetched whole.)
    pub fn with_max_span(mut self, max: u64) -> Self {
        self.max_span = max;
        self
    }

    /// The wrapped source.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The memory budget in bytes.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// Counters since creation or the last [`reset_stats`](Self::reset_stats).
    pub fn stats(&self) -> NetStats {
        lock(&self.state).stats
    }

    pub fn reset_stats(&self) {
        lock(&self.state).stats = NetStats::default();
    }

    /// Bytes of fetched data held in memory now (always ≤ the budget).
    pub fn cached_bytes(&self) -> u64 {
        lock(&self.state).held
    }

    /// Forgets every cached byte (in-flight reads still complete and are cached).
    pub fn clear(&self) {
        let mut st = lock(&self.state);
        st.spans.clear();
        st.lru.clear();
        st.held = 0;
    }

    /// Decides, under the lock, where every requested byte comes from, and registers this
    /// call's own flight for the missing parts.
    fn plan(&self, ranges: &[ByteRange], count_hits: bool) -> Plan<'_> {
        let mut st = lock(&self.state);
        let mut segs = Vec::with_capacity(ranges.len());
        let mut waits: Vec<(Vec<ByteRange>, oneshot::Receiver<FlightResult>)> = Vec::new();
        // flight id → index in `waits`
        let mut joined: Vec<(u64, usize)> = Vec::new();
        let mut missing: Vec<ByteRange> = Vec::new();

        for &r in ranges {
            let mut out = Vec::new();
            if r.is_empty() {
                segs.push(out);
                continue;
            }
            let mut fully_cached = true;
            for (part, data) in st.cover(r) {
                if let Some(data) = data {
                    out.push(Seg {
                        range: part,
                        src: Src::Cached(data),
                    });
                    continue;
                }
                fully_cached = false;
                // Not in memory: is someone already fetching it?
                let mut pos = part.start;
                while pos < part.end {
                    match st.flight_covering(pos) {
                        Some((fi, end)) => {
                            let piece = ByteRange::new(pos, end.min(part.end));
                            let id = st.flights[fi].id;
                            let wi = match joined.iter().find(|(j, _)| *j == id) {
                                Some(&(_, wi)) => wi,
                                None => {
                                    let (tx, rx) = oneshot::channel();
                                    st.flights[fi].waiters.push(tx);
                                    waits.push((st.flights[fi].spans.clone(), rx));
                                    joined.push((id, waits.len() - 1));
                                    waits.len() - 1
                                }
                            };
                            out.push(Seg {
                                range: piece,
                                src: Src::Foreign(wi),
                            });
                            pos = piece.end;
                        }
                        None => {
                            let next = st.next_flight_start(pos).unwrap_or(u64::MAX);
                            let piece = ByteRange::new(pos, next.min(part.end));
                            missing.push(piece);
                            out.push(Seg {
                                range: piece,
                                src: Src::Own,
                            });
                            pos = piece.end;
                        }
                    }
                }
            }
            if count_hits {
                if fully_cached {
                    st.stats.hits += 1;
                } else {
                    st.stats.misses += 1;
                }
            }
            segs.push(out);
        }

        let spans = merge_spans(missing, self.merge_gap, self.max_span);
        let own = if spans.is_empty() {
            None
        } else {
            let id = st.next_flight;
            st.next_flight += 1;
            // Flights issued while another is still in the air travel together: one round.
            if st.flights.is_empty() {
                st.stats.rounds += 1;
            }
            if trace_enabled() {
                eprintln!(
                    "strobe: round {} +{} requests: {:?}",
                    st.stats.rounds,
                    spans.len(),
                    spans.iter().map(|r| (r.start, r.len())).collect::<Vec<_>>()
                );
            }
            st.stats.requests += spans.len() as u64;
            st.stats.bytes += spans.iter().map(ByteRange::len).sum::<u64>();
            st.flights.push(Flight {
                id,
                spans: spans.clone(),
                waiters: Vec::new(),
            });
            let guard = FlightGuard {
                state: &self.state,
                id,
                done: false,
            };
            Some((guard, spans))
        };
        Plan { segs, waits, own }
    }

    /// Fetches this call's own spans and completes its flight: caches the data and hands it
    /// to waiters (on failure, waiters are dropped so they plan again on their own).
    async fn fly(
        &self,
        own: Option<(FlightGuard<'_>, Vec<ByteRange>)>,
    ) -> Result<Option<(Vec<ByteRange>, Vec<Bytes>)>, SourceError> {
        let Some((mut guard, spans)) = own else {
            return Ok(None);
        };
        let result = self
            .inner
            .read_ranges(&spans)
            .await
            .and_then(|data| self.check_shape(&spans, data));
        let mut st = lock(&self.state);
        let waiters = match st.flights.iter().position(|f| f.id == guard.id) {
            Some(i) => st.flights.swap_remove(i).waiters,
            None => Vec::new(),
        };
        guard.done = true;
        match result {
            Ok(data) => {
                for (span, bytes) in spans.iter().zip(&data) {
                    st.insert(*span, bytes.clone(), self.budget);
                }
                drop(st);
                for w in waiters {
                    // A waiter that went away does not matter.
                    let _ = w.send(Ok(data.clone()));
                }
                Ok(Some((spans, data)))
            }
            Err(e) => {
                drop(st);
                drop(waiters);
                Err(e)
            }
        }
    }

    fn check_shape(&self, spans: &[ByteRange], data: Vec<Bytes>) -> FlightResult {
        if data.len() != spans.len() {
            return Err(self.internal(format!(
                "inner source returned {} buffers for {} ranges",
                data.len(),
                spans.len()
            )));
        }
        for (span, bytes) in spans.iter().zip(&data) {
            if bytes.len() as u64 != span.len() {
                return Err(self.internal(format!(
                    "inner source returned {} bytes for {span}",
                    bytes.len()
                )));
            }
        }
        Ok(data)
    }

    fn internal(&self, reason: String) -> SourceError {
        SourceError::Io {
            what: self.inner.describe(),
            reason,
        }
    }

    /// One attempt: plan, fetch own + wait for others, assemble.
    async fn attempt(&self, ranges: &[ByteRange], first: bool) -> Result<Vec<Bytes>, Failed> {
        let Plan { segs, waits, own } = self.plan(ranges, first);
        let (wait_spans, receivers): (Vec<_>, Vec<_>) = waits.into_iter().unzip();
        let (own_result, foreign) = join(self.fly(own), join_all(receivers)).await;
        let own = own_result.map_err(Failed::Error)?;
        let mut foreign_data = Vec::with_capacity(foreign.len());
        for r in foreign {
            match r {
                Ok(Ok(data)) => foreign_data.push(data),
                Ok(Err(e)) => return Err(Failed::Error(e)),
                Err(oneshot::Canceled) => return Err(Failed::Replan),
            }
        }
        let mut out = Vec::with_capacity(segs.len());
        for (r, pieces) in ranges.iter().zip(segs) {
            out.push(self.assemble(*r, pieces, &own, &wait_spans, &foreign_data)?);
        }
        Ok(out)
    }

    fn assemble(
        &self,
        r: ByteRange,
        pieces: Vec<Seg>,
        own: &Option<(Vec<ByteRange>, Vec<Bytes>)>,
        wait_spans: &[Vec<ByteRange>],
        foreign: &[Vec<Bytes>],
    ) -> Result<Bytes, Failed> {
        let mut parts = Vec::with_capacity(pieces.len());
        for seg in pieces {
            let bytes = match seg.src {
                Src::Cached(b) => Some(b),
                Src::Own => match own {
                    Some((spans, data)) => slice_from(spans, data, seg.range),
                    None => None,
                },
                Src::Foreign(i) => match (wait_spans.get(i), foreign.get(i)) {
                    (Some(spans), Some(data)) => slice_from(spans, data, seg.range),
                    _ => None,
                },
            };
            let bytes = bytes.ok_or_else(|| {
                Failed::Error(self.internal(format!(
                    "cache bookkeeping lost {} while assembling {r}",
                    seg.range
                )))
            })?;
            parts.push(bytes);
        }
        let result = match parts.len() {
            0 => Bytes::new(),
            1 => parts.pop().unwrap_or_default(),
            _ => {
                let mut buf = BytesMut::with_capacity(r.len() as usize);
                for p in &parts {
                    buf.extend_from_slice(p);
                }
                buf.freeze()
            }
        };
        if result.len() as u64 != r.len() {
            return Err(Failed::Error(
                self.internal(format!("assembled {} bytes for {r}", result.len())),
            ));
        }
        Ok(result)
    }
}

/// The bytes of `want` from a flight's spans (sorted, non-overlapping) and data.
fn slice_from(spans: &[ByteRange], data: &[Bytes], want: ByteRange) -> Option<Bytes> {
    let i = spans.partition_point(|s| s.end <= want.start);
    let span = spans.get(i)?;
    if span.start > want.start || want.end > span.end {
        return None;
    }
    let from = usize::try_from(want.start - span.start).ok()?;
    let to = usize::try_from(want.end - span.start).ok()?;
    let bytes = data.get(i)?;
    (to <= bytes.len()).then(|| bytes.slice(from..to))
}

/// Sorts and de-duplicates `parts`, joining overlapping or touching ones always and ones at
/// most `gap` apart while the result stays ≤ `max_span`.
fn merge_spans(mut parts: Vec<ByteRange>, gap: u64, max_span: u64) -> Vec<ByteRange> {
    parts.retain(|p| !p.is_empty());
    parts.sort_unstable();
    let mut out: Vec<ByteRange> = Vec::with_capacity(parts.len());
    for p in parts {
        if let Some(cur) = out.last_mut() {
            let overlaps = p.start <= cur.end;
            let close =
                p.start - cur.end.min(p.start) <= gap && p.end.max(cur.end) - cur.start <= max_span;
            if overlaps || close {
                cur.end = cur.end.max(p.end);
                continue;
            }
        }
        out.push(p);
    }
    out
}

impl State {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// Splits `r` into pieces that are cached (with their bytes; touched as used) or not.
    fn cover(&mut self, r: ByteRange) -> Vec<(ByteRange, Option<Bytes>)> {
        let before = self
            .spans
            .range(..=r.start)
            .next_back()
            .filter(|(s, c)| *s + c.data.len() as u64 > r.start)
            .map(|(s, _)| *s);
        let starts: Vec<u64> = before
            .into_iter()
            .chain(
                self.spans
                    .range(r.start.saturating_add(1)..r.end)
                    .map(|(s, _)| *s),
            )
            .collect();
        let mut out = Vec::new();
        let mut pos = r.start;
        for start in starts {
            let tick = self.next_tick();
            let Some(entry) = self.spans.get_mut(&start) else {
                continue;
            };
            let end = start + entry.data.len() as u64;
            if start > pos {
                out.push((ByteRange::new(pos, start), None));
                pos = start;
            }
            let piece_end = end.min(r.end);
            let from = (pos - start) as usize;
            let to = (piece_end - start) as usize;
            out.push((
                ByteRange::new(pos, piece_end),
                Some(entry.data.slice(from..to)),
            ));
            let old = std::mem::replace(&mut entry.tick, tick);
            self.lru.remove(&old);
            self.lru.insert(tick, start);
            pos = piece_end;
        }
        if pos < r.end {
            out.push((ByteRange::new(pos, r.end), None));
        }
        out
    }

    /// The in-flight span containing `pos` that reaches furthest: (flight index, span end).
    fn flight_covering(&self, pos: u64) -> Option<(usize, u64)> {
        let mut best: Option<(usize, u64)> = None;
        for (i, f) in self.flights.iter().enumerate() {
            for s in &f.spans {
                if s.start <= pos && pos < s.end && best.is_none_or(|(_, e)| s.end > e) {
                    best = Some((i, s.end));
                }
            }
        }
        best
    }

    /// The smallest in-flight span start after `pos`.
    fn next_flight_start(&self, pos: u64) -> Option<u64> {
        self.flights
            .iter()
            .flat_map(|f| f.spans.iter())
            .map(|s| s.start)
            .filter(|&s| s > pos)
            .min()
    }

    fn remove_span(&mut self, start: u64) -> Option<Cached> {
        let entry = self.spans.remove(&start)?;
        self.lru.remove(&entry.tick);
        self.held -= entry.data.len() as u64;
        Some(entry)
    }

    fn put_span(&mut self, start: u64, data: Bytes, tick: u64) {
        if data.is_empty() {
            return;
        }
        self.held += data.len() as u64;
        self.lru.insert(tick, start);
        self.spans.insert(start, Cached { data, tick });
    }

    /// Caches `data` for `span`, replacing overlapped bytes, then evicts least recently used
    /// spans until the budget holds. Spans larger than the whole budget are not cached.
    fn insert(&mut self, span: ByteRange, data: Bytes, budget: u64) {
        if span.is_empty() || span.len() > budget {
            return;
        }
        let overlapping: Vec<u64> = self
            .spans
            .range(..span.end)
            .rev()
            .take_while(|(s, c)| *s + c.data.len() as u64 > span.start)
            .map(|(s, _)| *s)
            .collect();
        for start in overlapping {
            let Some(old) = self.remove_span(start) else {
                continue;
            };
            let old_end = start + old.data.len() as u64;
            // Keep the parts outside the new span, copied so the old buffer can be freed and
            // the byte count stays exact.
            if start < span.start {
                let keep = old.data.slice(..(span.start - start) as usize);
                let tick = self.next_tick();
                self.put_span(start, Bytes::copy_from_slice(&keep), tick);
            }
            if old_end > span.end {
                let keep = old.data.slice((span.end - start) as usize..);
                let tick = self.next_tick();
                self.put_span(span.end, Bytes::copy_from_slice(&keep), tick);
            }
        }
        let tick = self.next_tick();
        self.put_span(span.start, data, tick);
        while self.held > budget {
            let Some((_, start)) = self.lru.pop_first() else {
                break;
            };
            if let Some(entry) = self.spans.remove(&start) {
                self.held -= entry.data.len() as u64;
            }
        }
    }
}

#[async_trait(?Send)]
impl<S: RangeSource> RangeSource for RangeCache<S> {
    async fn read_ranges(&self, ranges: &[ByteRange]) -> Result<Vec<Bytes>, SourceError> {
        let mut first = true;
        loop {
            match self.attempt(ranges, first).await {
                Ok(out) => return Ok(out),
                Err(Failed::Error(e)) => return Err(e),
                Err(Failed::Replan) => first = false,
            }
        }
    }

    async fn len(&self) -> Result<u64, SourceError> {
        self.inner.len().await
    }

    /// Counted as one round (it is one request where the source supports it) and cached.
    async fn read_head(&self, max: u64) -> Result<(Bytes, u64), SourceError> {
        {
            let mut st = lock(&self.state);
            if st.flights.is_empty() {
                st.stats.rounds += 1;
            }
            st.stats.requests += 1;
            if trace_enabled() {
                eprintln!(
                    "strobe: round {} +1 requests: [(0, {max})] (the head)",
                    st.stats.rounds
                );
            }
        }
        let (bytes, len) = self.inner.read_head(max).await?;
        let mut st = lock(&self.state);
        st.stats.bytes += bytes.len() as u64;
        st.stats.misses += 1;
        st.insert(
            ByteRange::at(0, bytes.len() as u64),
            bytes.clone(),
            self.budget,
        );
        Ok((bytes, len))
    }

    /// Counted as one round (the two ends are asked together where the source can) and
    /// cached.
    async fn read_ends(&self, head: u64, tail: u64) -> Result<Ends, SourceError> {
        {
            let mut st = lock(&self.state);
            if st.flights.is_empty() {
                st.stats.rounds += 1;
            }
        }
        let ends = self.inner.read_ends(head, tail).await?;
        let mut st = lock(&self.state);
        let asked = 1 + u64::from(!ends.tail.is_empty());
        st.stats.requests += asked;
        if trace_enabled() {
            let tail = if ends.tail.is_empty() {
                String::new()
            } else {
                format!(", ({}, {})", ends.tail_at(), ends.tail.len())
            };
            eprintln!(
                "strobe: round {} +{asked} requests: [(0, {}){tail}] (the head and the tail)",
                st.stats.rounds,
                ends.head.len()
            );
        }
        for (at, bytes) in [(0, &ends.head), (ends.tail_at(), &ends.tail)] {
            if bytes.is_empty() {
                continue;
            }
            st.stats.misses += 1;
            st.stats.bytes += bytes.len() as u64;
            st.insert(
                ByteRange::at(at, bytes.len() as u64),
                bytes.clone(),
                self.budget,
            );
        }
        Ok(ends)
    }

    fn cached(&self, range: ByteRange) -> Option<Bytes> {
        if range.is_empty() {
            return Some(Bytes::new());
        }
        let st = lock(&self.state);
        let (start, span) = st.spans.range(..=range.start).next_back()?;
        let from = usize::try_from(range.start - start).ok()?;
        let to = usize::try_from(range.end - start).ok()?;
        (to <= span.data.len()).then(|| span.data.slice(from..to))
    }

    fn validator(&self) -> Option<String> {
        self.inner.validator()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// `STROBE_TRACE=1` prints every flight (round, ranges) to stderr: the quickest way to see
/// where a cold open spends its rounds.
fn trace_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("STROBE_TRACE").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(a: u64, b: u64) -> ByteRange {
        ByteRange::new(a, b)
    }

    #[test]
    fn merging_rules() {
        let parts = vec![
            r(100, 200),
            r(0, 10),
            r(0, 10),
            r(5, 50),
            r(60, 70),
            r(9000, 9001),
        ];
        assert_eq!(
            merge_spans(parts.clone(), 8, 1 << 20),
            vec![r(0, 50), r(60, 70), r(100, 200), r(9000, 9001)]
        );
        assert_eq!(
            merge_spans(parts.clone(), 100, 1 << 20),
            vec![r(0, 200), r(9000, 9001)]
        );
        // The cap stops gap-merging but never splits overlapping needs.
        assert_eq!(
            merge_spans(vec![r(0, 10), r(5, 30), r(31, 40)], 100, 20),
            vec![r(0, 30), r(31, 40)]
        );
    }

    #[test]
    fn insert_keeps_spans_disjoint_and_counted() {
        let mut st = State::default();
        let data = |a: u64, b: u64| Bytes::from((a..b).map(|i| i as u8).collect::<Vec<_>>());
        st.insert(r(10, 20), data(10, 20), 1000);
        st.insert(r(30, 40), data(30, 40), 1000);
        st.insert(r(15, 35), data(15, 35), 1000);
        let spans: Vec<_> = st
            .spans
            .iter()
            .map(|(s, c)| r(*s, *s + c.data.len() as u64))
            .collect();
        assert_eq!(spans, vec![r(10, 15), r(15, 35), r(35, 40)]);
        assert_eq!(st.held, 30);
        let cover = st.cover(r(12, 38));
        let mut bytes = Vec::new();
        for (_, b) in &cover {
            bytes.extend_from_slice(b.as_ref().unwrap());
        }
        assert_eq!(bytes, (12u8..38).collect::<Vec<_>>());
        // Budget 25: the least recently used spans go first.
        st.insert(r(100, 110), data(100, 110), 25);
        assert!(st.held <= 25);
        assert!(st.spans.contains_key(&100));
    }
}
