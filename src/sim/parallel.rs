//! Worker threads for the windows of the parallel engine (DESIGN.md §6): a
//! spinning barrier and the loop each worker runs.
//!
//! The main thread and `threads − 1` workers run the shards of a window side
//! by side; shard `s` belongs to thread `s mod threads`. Between windows the
//! workers wait at the barrier while the main thread runs the serial phase.
//! Windows are a millisecond of simulated time and a few microseconds of work,
//! so the barrier spins (then yields) rather than sleeping.

use super::shard::{Ctx, Envelope, Shard};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// What the shards share: the read-only context, the shards and their mailboxes.
pub struct Shared {
    /// Read-only during windows.
    pub ctx: Ctx,
    /// Locked by whichever thread runs a shard; never contended.
    pub shards: Vec<Mutex<Shard>>,
    /// Datagrams waiting for each shard.
    pub mailboxes: Vec<Mutex<Vec<Envelope>>>,
}

impl Shared {
    /// Runs shard `s` up to `end`.
    pub fn run_shard(&self, s: usize, end: u64) {
        self.shards[s].lock().expect("a worker panicked").run(&self.ctx, end, &self.mailboxes);
    }
}

/// A reusable barrier for a fixed number of threads that spins, then yields.
pub struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    /// A barrier for `n` threads.
    pub fn new(n: usize) -> SpinBarrier {
        SpinBarrier { n, count: AtomicUsize::new(0), generation: AtomicUsize::new(0), poisoned: AtomicBool::new(false) }
    }

    /// Waits until all `n` threads have arrived.
    ///
    /// # Panics
    ///
    /// If another thread panicked while holding up the barrier.
    pub fn wait(&self) {
        let generation = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::AcqRel);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == generation {
            assert!(!self.poisoned.load(Ordering::Relaxed), "a simulation worker panicked");
            if spins < 2_000 {
                spins += 1;
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
    }

    /// Marks the barrier broken, so that waiting threads panic too.
    pub fn poison(&self) {
        self.poisoned.store(true, Ordering::Relaxed);
    }
}

/// The main thread's orders to the workers.
pub struct Control {
    /// The barrier of the main thread and the workers.
    pub barrier: SpinBarrier,
    threads: usize,
    end: AtomicU64,
    exit: AtomicBool,
}

/// Poisons the barrier if the thread holding it panics.
struct PoisonOnPanic<'a>(&'a SpinBarrier);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poison();
        }
    }
}

impl Control {
    /// Orders for `threads` threads, the main one included.
    pub fn new(threads: usize) -> Control {
        Control { barrier: SpinBarrier::new(threads), threads, end: AtomicU64::new(0), exit: AtomicBool::new(false) }
    }

    /// Runs a window up to `end` on every thread; returns when all shards are done.
    pub fn window(&self, shared: &Shared, end: u64) {
        let _guard = PoisonOnPanic(&self.barrier);
        self.end.store(end, Ordering::Release);
        self.barrier.wait();
        for s in (0..shared.shards.len()).step_by(self.threads) {
            shared.run_shard(s, end);
        }
        self.barrier.wait();
    }

    /// Sends the workers home.
    pub fn stop(&self) {
        self.exit.store(true, Ordering::Release);
        self.barrier.wait();
    }

    /// The loop of worker `w` (1-based; the main thread is 0).
    pub fn work(&self, w: usize, shared: &Shared) {
        let _guard = PoisonOnPanic(&self.barrier);
        loop {
            self.barrier.wait();
            if self.exit.load(Ordering::Acquire) {
                return;
            }
            let end = self.end.load(Ordering::Acquire);
            for s in (w..shared.shards.len()).step_by(self.threads) {
                shared.run_shard(s, end);
            }
            self.barrier.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barrier_orders_phases() {
        let b = SpinBarrier::new(3);
        let phase = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for round in 0..100 {
                        b.wait();
                        assert_eq!(phase.load(Ordering::SeqCst), round + 1);
                        b.wait();
                    }
                });
            }
            for _ in 0..100 {
                phase.fetch_add(1, Ordering::SeqCst);
                b.wait();
                b.wait();
            }
        });
    }
}
