//! The threads that decode chunks: natively a rayon pool (all cores by default, or the
//! user's `--threads N` / `threads=`), in the browser the calling thread only.
//!
//! A window is thousands of independent chunks; decoding them is most of a local read's
//! time, so spreading them over the cores is where a warm read's speed comes from. Pools are
//! built once per thread count and shared by every file the process opens (a directory of
//! recordings, the Python datasets), so opening many files spawns no threads.

use std::sync::mpsc::Sender;

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

    /// Threads that decode at once (in the page: its worker and its decode workers, see
    /// `decode_pool`).
    pub fn count(&self) -> usize {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.pool.count()
        }
        #[cfg(target_arch = "wasm32")]
        {
            1 + super::decode_pool::workers()
        }
    }

    /// Starts `f` of every item on the pool's threads and returns at once: the results arrive
    /// on `results`, in any order. `false` (nothing started) with one thread, and in the
    /// browser: the caller then does the work when it needs it.
    pub fn spawn_each<T, R, F>(&self, items: Vec<T>, f: F, results: &Sender<R>) -> bool
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Sync + Send + 'static,
    {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.pool.spawn_each(items, f, results)
        }
        #[cfg(target_arch = "wasm32")]
        {
            let _ = (items, f, results);
            false
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

/// Makes "every core" mean `n` threads for the whole process (the CLI's `--threads N`). Call
/// before any decode; fails once the default is set.
#[cfg(not(target_arch = "wasm32"))]
pub fn set_process_threads(n: usize) -> Result<(), String> {
    native::set_default(n)
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::HashMap;
    use std::sync::mpsc::Sender;
    use std::sync::{Arc, Mutex, OnceLock};

    use rayon::prelude::*;
    use rayon::ThreadPool;

    /// Where a file's decodes run. The pool itself is looked up when work starts, in the
    /// process doing it: a process forked after a pool was built (a PyTorch DataLoader worker)
    /// has none of that pool's threads, and work handed to it would wait forever. So no
    /// pool is held across a fork, and rayon's global pool (built once per address space) is
    /// never used.
    #[derive(Clone, Copy, Default)]
    pub(super) enum Pool {
        /// One thread per core (or the CLI's `--threads`).
        #[default]
        AllCores,
        /// The calling thread.
        One,
        /// A pool of this many threads, shared by every file asking for as many.
        Sized(usize),
    }

    static DEFAULT: OnceLock<usize> = OnceLock::new();

    pub(super) fn set_default(n: usize) -> Result<(), String> {
        DEFAULT
            .set(n.max(1))
            .map_err(|_| "the number of decoding threads is already set".to_string())
    }

    fn default_count() -> usize {
        *DEFAULT.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    impl Pool {
        pub(super) fn new(threads: Option<usize>) -> Self {
            match threads {
                None | Some(0) => Self::AllCores,
                Some(1) => Self::One,
                Some(n) => Self::Sized(n),
            }
        }

        pub(super) fn count(&self) -> usize {
            match self {
                Self::AllCores => default_count(),
                Self::One => 1,
                Self::Sized(n) => *n,
            }
        }

        /// This process's pool for this count, `None` for one thread (or when the OS
        /// refuses threads: the caller then decodes on its own thread rather than fail).
        fn pool(&self) -> Option<Arc<ThreadPool>> {
            match self.count() {
                0 | 1 => None,
                n => shared(n),
            }
        }

        pub(super) fn spawn_each<T, R, F>(&self, items: Vec<T>, f: F, results: &Sender<R>) -> bool
        where
            T: Send + 'static,
            R: Send + 'static,
            F: Fn(T) -> R + Sync + Send + 'static,
        {
            let Some(pool) = self.pool() else {
                return false;
            };
            let f = Arc::new(f);
            for item in items {
                let (tx, f) = (results.clone(), f.clone());
                // A receiver dropped before the result (the window was abandoned): discarded.
                pool.spawn(move || drop(tx.send(f(item))));
            }
            true
        }

        pub(super) fn map<T, R, F>(&self, items: &[T], f: F) -> Vec<R>
        where
            T: Sync,
            R: Send,
            F: Fn(&T) -> R + Sync + Send,
        {
            match self.pool() {
                // One item per task: chunks are large (tens of KB decoded), so rayon's
                // splitting overhead is small against a decode, and uneven chunk sizes
                // balance themselves.
                Some(pool) if items.len() >= 2 => {
                    pool.install(|| items.par_iter().with_max_len(1).map(&f).collect())
                }
                _ => items.iter().map(f).collect(),
            }
        }
    }

    /// This process's pool of `n` threads, built on first use. Pools are keyed by process
    /// id too: a forked child finds none of its parent's and builds its own.
    fn shared(n: usize) -> Option<Arc<ThreadPool>> {
        type Pools = HashMap<(u32, usize), Arc<ThreadPool>>;
        static POOLS: OnceLock<Mutex<Pools>> = OnceLock::new();
        let key = (std::process::id(), n);
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(&key) {
            return Some(pool.clone());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("strobe-decode-{i}"))
            .build()
            .ok()
            .map(Arc::new)?;
        // A parent's pools stay in the map of a forked child, unused: dropping one would
        // signal threads that do not exist there.
        pools.insert(key, pool.clone());
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
        let (tx, rx) = std::sync::mpsc::channel();
        assert!(!DecodeThreads::new(Some(1)).spawn_each(vec![1u64], |v| v, &tx));
        #[cfg(not(target_arch = "wasm32"))]
        {
            assert!(DecodeThreads::new(Some(2)).spawn_each(items.clone(), |v| v * v, &tx));
            let mut got: Vec<u64> = rx.iter().take(items.len()).collect();
            got.sort_unstable();
            assert_eq!(got, want);
        }
        #[cfg(not(target_arch = "wasm32"))]
        assert_eq!(DecodeThreads::new(Some(3)).count(), 3);
    }
}
