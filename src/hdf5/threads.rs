//! The threads that decode chunks: natively a rayon pool (all cores by default, or the
//! user's `--threads N` / `threads=`), in the browser the calling thread only.
//!
//! A window is thousands of independent chunks; decoding them is most of a local read's
//! time, so spreading them over the cores is where a warm read's speed comes from. Pools are
//! built once per thread count and shared by every file the process opens (a directory of
//! recordings, the Python datasets), so opening many files spawns no threads.

/// How many threads decode chunks, and the pool that runs them.
#[derive(Clone, Default)]
pub struct DecodeThreads {
    #[cfg(not(target_arch = "wasm32"))]
    pool: native::Pool,
}

impl std::fmt::Debug for DecodeThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecodeThreads({})", self.count())
    }
}

impl DecodeThreads {
    /// `None`: every core; `Some(1)`: decode on the calling thread; `Some(n)`: a pool of `n`.
    /// `Some(0)` means every core too (as rayon reads it).
    pub fn new(threads: Option<usize>) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            Self {
                pool: native::Pool::new(threads),
            }
        }
        #[cfg(target_arch = "wasm32")]
        {
            let _ = threads;
            Self {}
        }
    }

    /// Threads that decode at once.
    pub fn count(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.pool.count()
        }
        #[cfg(target_arch = "wasm32")]
        {
            1
        }
    }

    /// Starts `f` of every item on the pool's threads and returns at once: the results arrive
    /// on the receiver, in any order. `None` (nothing started) with one thread, and in the
    /// browser: the caller then does the work when it needs it.
    pub fn spawn_each<T, R, F>(&self, items: Vec<T>, f: F) -> Option<std::sync::mpsc::Receiver<R>>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Sync + Send + 'static,
    {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.pool.spawn_each(items, f)
        }
        #[cfg(target_arch = "wasm32")]
        {
            let _ = (items, f);
            None
        }
    }

    /// `f` of every item, in order, computed on the pool's threads (on the calling thread
    /// when there is one thread or one item).
    pub fn map<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(&T) -> R + Sync + Send,
    {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.pool.map(items, f)
        }
        #[cfg(target_arch = "wasm32")]
        {
            items.iter().map(f).collect()
        }
    }
}

/// Makes "every core" mean `n` threads for the whole process (the CLI's `--threads N`): the
/// default pool is built with `n` threads. Call before any decode; fails once it is built.
#[cfg(not(target_arch = "wasm32"))]
pub fn set_process_threads(n: usize) -> Result<(), String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("strobe-decode-{i}"))
        .build_global()
        .map_err(|e| format!("cannot start {n} decoding threads: {e} — try a smaller --threads"))
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};

    use rayon::prelude::*;
    use rayon::ThreadPool;

    /// Where a file's decodes run.
    #[derive(Clone, Default)]
    pub(super) enum Pool {
        /// rayon's global pool: one thread per core.
        #[default]
        AllCores,
        /// The calling thread.
        One,
        /// A pool of this many threads, shared by every file asking for as many.
        Sized(Arc<ThreadPool>),
    }

    impl Pool {
        pub(super) fn new(threads: Option<usize>) -> Self {
            match threads {
                None | Some(0) => Self::AllCores,
                Some(1) => Self::One,
                Some(n) if n == rayon::current_num_threads() => Self::AllCores,
                Some(n) => match shared(n) {
                    Some(pool) => Self::Sized(pool),
                    // The OS refused the threads: decode on the caller rather than fail.
                    None => Self::One,
                },
            }
        }

        pub(super) fn count(&self) -> usize {
            match self {
                Self::AllCores => rayon::current_num_threads(),
                Self::One => 1,
                Self::Sized(pool) => pool.current_num_threads(),
            }
        }

        pub(super) fn spawn_each<T, R, F>(
            &self,
            items: Vec<T>,
            f: F,
        ) -> Option<std::sync::mpsc::Receiver<R>>
        where
            T: Send + 'static,
            R: Send + 'static,
            F: Fn(T) -> R + Sync + Send + 'static,
        {
            if self.count() < 2 {
                return None;
            }
            let (tx, rx) = std::sync::mpsc::channel();
            let f = Arc::new(f);
            for item in items {
                let (tx, f) = (tx.clone(), f.clone());
                // A receiver dropped before the result (the window was abandoned): discarded.
                let job = move || drop(tx.send(f(item)));
                match self {
                    Self::Sized(pool) => pool.spawn(job),
                    _ => rayon::spawn(job),
                }
            }
            Some(rx)
        }

        pub(super) fn map<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
        where
            T: Sync,
            R: Send,
            F: Fn(&T) -> R + Sync + Send,
        {
            if items.len() < 2 || self.count() < 2 {
                return items.iter().map(f).collect();
            }
            // One item per task: chunks are large (tens of KB decoded), so rayon's splitting
            // overhead is small against a decode, and uneven chunk sizes balance themselves.
            let run = || items.par_iter().with_max_len(1).map(&f).collect();
            match self {
                Self::Sized(pool) => pool.install(run),
                _ => run(),
            }
        }
    }

    /// The process's pool of `n` threads, built on first use.
    fn shared(n: usize) -> Option<Arc<ThreadPool>> {
        static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(&n) {
            return Some(pool.clone());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("strobe-decode-{i}"))
            .build()
            .ok()
            .map(Arc::new)?;
        pools.insert(n, pool.clone());
        Some(pool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order_whatever_the_thread_count() {
        let items: Vec<u64> = (0..1000).collect();
        let want: Vec<u64> = items.iter().map(|v| v * v).collect();
        for threads in [None, Some(1), Some(2), Some(3)] {
            let pool = DecodeThreads::new(threads);
            assert_eq!(pool.map(&items, |v| v * v), want, "{pool:?}");
        }
        assert_eq!(DecodeThreads::new(Some(1)).count(), 1);
        assert!(DecodeThreads::new(Some(1))
            .spawn_each(vec![1u64], |v| v)
            .is_none());
        #[cfg(not(target_arch = "wasm32"))]
        {
            let rx = DecodeThreads::new(Some(2))
                .spawn_each(items.clone(), |v| v * v)
                .expect("two threads spawn");
            let mut got: Vec<u64> = rx.iter().take(items.len()).collect();
            got.sort_unstable();
            assert_eq!(got, want);
        }
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(DecodeThreads::new(Some(3)).count(), 3);
    }
}
