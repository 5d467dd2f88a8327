//! Worker threads for the windows of the parallel engine (DESIGN.md §6): the
//! handoff of a window's shards from the main thread to the workers, and the
//! loop each worker runs.
//!
//! A window is a millisecond of simulated time and often a few microseconds
//! of work, so the handoff must cost nothing while it waits and must never
//! make the main thread wait for a thread that has not shown up:
//!
//! - The main thread publishes a window as an *epoch* (a number that grows by
//!   one per shared window) and its end. The shards are then **claimed**, one
//!   at a time, through one atomic word holding the epoch and the next shard
//!   to take; the main thread claims shards too. A claim is a compare-and-swap
//!   of the whole word, so a thread that read the word of one window can never
//!   take a shard of another.
//! - The main thread then waits only for the shards already claimed and not
//!   yet finished. A worker that is descheduled, parked or late never delays a
//!   window: the main thread runs whatever nobody else has taken.
//! - A thread with nothing to do spins for [`SPIN`], then parks. The main
//!   thread unparks a worker only if it has actually parked (an atomic state
//!   says so), so a window whose workers are spinning costs no system call.
//! - Which windows are shared, and when parked workers are woken for one, is
//!   [`Sharing`]'s choice: from the events expected in the window, those of
//!   recent windows, and how busy other processes keep the machine.
//! - The workers ([`Pool`]) live as long as the world: started with its first
//!   window, sent home and joined when it is dropped.
//! - A panic on any thread poisons the handoff: every waiting thread wakes,
//!   the workers go home and the main thread panics, so the run ends with a
//!   panic rather than a hang.
//!
//! Which thread runs which shard changes from run to run; the outputs do not,
//! since a shard's work depends only on its own events (`super::shard`).

use super::shard::{Ctx, Envelope, Shard};
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

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

/// How long a thread with nothing to do spins before it parks: longer than
/// the serial phase between two busy windows (a few µs to a few tens of µs),
/// so that a worker is still awake for the next one; short enough that a
/// worker of a run whose windows are too small to share costs next to no CPU.
pub const SPIN: Duration = Duration::from_micros(50);

/// Bits of the claim word that hold the next shard to claim; the epoch has the rest.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

/// A sleeper's states.
const STARTING: u8 = 0;
const RUNNING: u8 = 1;
const PARKED: u8 = 2;
const WAKING: u8 = 3;

/// A thread that may park, and its state: [`STARTING`] until it first checks
/// in, [`RUNNING`] (working or spinning), [`PARKED`] (or about to park), and
/// [`WAKING`] once unparked, until it runs again.
struct Sleeper {
    state: AtomicU8,
    thread: OnceLock<Thread>,
}

impl Sleeper {
    fn new() -> Sleeper {
        Sleeper { state: AtomicU8::new(STARTING), thread: OnceLock::new() }
    }

    /// Called by the sleeper's own thread when it starts.
    fn check_in(&self) {
        self.thread.get_or_init(std::thread::current);
        self.state.store(RUNNING, SeqCst);
    }

    /// Called by the sleeper's own thread: parks unless `ready()` holds. The
    /// state says [`PARKED`] before `ready()` is read, and a waker makes
    /// `ready()` true before it reads the state (both sequentially
    /// consistent): either this thread sees the change and stays up, or the
    /// waker sees the state and unparks it. May return early; the caller
    /// checks again.
    fn park_unless(&self, ready: &impl Fn() -> bool) {
        self.thread.get_or_init(std::thread::current);
        self.state.store(PARKED, SeqCst);
        if !ready() {
            std::thread::park();
        }
        self.state.store(RUNNING, SeqCst);
    }

    /// Called by another thread once it has made the sleeper's `ready()`
    /// true: unparks the sleeper if, and only if, it has parked (or is about
    /// to), once per parking.
    fn wake(&self) {
        if self.state.load(SeqCst) == PARKED
            && self.state.compare_exchange(PARKED, WAKING, SeqCst, Relaxed).is_ok()
            && let Some(t) = self.thread.get()
        {
            t.unpark();
        }
    }

    /// Whether the thread is parked or about to park (for tests).
    #[cfg(test)]
    fn is_parked(&self) -> bool {
        self.state.load(SeqCst) == PARKED
    }
}

/// Spins until `ready()` holds or `spin` has passed, then parks on
/// `sleeper` unless `ready()` holds. Returns when `ready()` may hold.
fn idle(sleeper: &Sleeper, spin: Duration, ready: impl Fn() -> bool) {
    let start = Instant::now();
    let mut spins = 0u32;
    while !ready() {
        std::hint::spin_loop();
        spins += 1;
        if spins.is_multiple_of(64) && start.elapsed() >= spin {
            sleeper.park_unless(&ready);
            return;
        }
    }
}

/// The main thread's orders to the workers: the window being shared and who
/// has taken which of its shards.
pub struct Control {
    /// The epoch of the last window shared (high bits; windows count from 1)
    /// and the next of its shards to claim (low [`INDEX_BITS`] bits); no
    /// shard is left to claim once the index reaches `shards`.
    claim: AtomicU64,
    /// The end of the window being shared; written before its epoch is published.
    end: AtomicU64,
    /// Shards run to the end of their window, over all windows.
    finished: AtomicU64,
    /// Windows shared so far (written by the main thread only).
    epoch: AtomicU64,
    shards: u64,
    exit: AtomicBool,
    poisoned: AtomicBool,
    main: Sleeper,
    workers: Vec<Sleeper>,
    /// How long an idle worker spins before it parks, in µs ([`SPIN`], or 0
    /// while the run is contended: see [`Sharing`]).
    spin_us: AtomicU64,
}

/// Poisons the handoff if the thread holding this panics.
struct PoisonOnPanic<'a>(&'a Control);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poison();
        }
    }
}

/// Windows expected to hold fewer events than this run on the main thread
/// alone. With a worker awake a shared window costs about 1 µs more than one
/// run inline, and an event about 0.7 µs: sharing pays from a handful of
/// events on (docs/performance.md "Threads by default").
pub const SHARE_MIN_EVENTS: u64 = 4;

/// Parked workers are woken for a window expected to hold at least this many
/// events: waking one is a system call on the main thread, and the worker
/// takes tens of µs to come up.
pub const WAKE_MIN_EVENTS: u64 = 48;

/// Parked workers are also woken for a window of [`SHARE_MIN_EVENTS`] or
/// more when recent windows held this many events on average: the worker
/// then stays awake for the windows that follow, which pays for the wake-up.
pub const WAKE_MEAN_EVENTS: f64 = 8.0;

/// Windows over which the recent mean is taken.
const RECENT_WINDOWS: f64 = 8.0;

/// How often the machine's load is read.
const LOAD_PERIOD: Duration = Duration::from_millis(250);

/// Windows between two looks at the clock, to see whether a load reading is due.
const CLOCK_EVERY: u32 = 256;

/// Which windows the main thread shares, decided from numbers it already has
/// (the events expected in the window and in recent ones) and from the load
/// of the machine; never anything that reaches an output.
///
/// A window of [`SHARE_MIN_EVENTS`] events or more is shared; parked workers
/// are woken for it if it is expected to hold [`WAKE_MIN_EVENTS`] or recent
/// windows held [`WAKE_MEAN_EVENTS`] on average. But an awake worker spins
/// between windows, and when other processes keep the cores busy it takes CPU
/// time from the main thread (a third of it, with one other busy process on
/// two cores). So every `LOAD_PERIOD` the main thread reads how busy other
/// processes kept the machine (Linux: `/proc/stat` less this process's own
/// time, `/proc/self/stat`); when fewer cores than the run's threads were
/// free of them, the run is *contended*: workers park as soon as they have
/// nothing to do, and only windows of [`WAKE_MIN_EVENTS`] events or more are
/// shared, so that the main thread keeps a core of its own. Elsewhere the
/// load is not read and the run is never contended.
#[derive(Debug)]
pub struct Sharing {
    threads: usize,
    contended: bool,
    /// The mean events of recent windows (an exponential moving average over about [`RECENT_WINDOWS`]).
    recent: f64,
    windows: u32,
    load: LoadWatch,
}

/// What to do with a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Run its shards on the main thread.
    Inline,
    /// Share it; wake parked workers if `wake`.
    Share {
        /// Whether to wake parked workers.
        wake: bool,
    },
}

impl Sharing {
    /// The sharing of a run on `threads` threads.
    pub fn new(threads: usize) -> Sharing {
        Sharing { threads, contended: false, recent: 0.0, windows: 0, load: LoadWatch::default() }
    }

    /// What to do with a window expected to hold `events` events, the last
    /// one having held `last`.
    pub fn plan(&mut self, ctl: &Control, last: u64, events: u64) -> Plan {
        self.recent += (last as f64 - self.recent) / RECENT_WINDOWS;
        self.windows = self.windows.wrapping_add(1);
        if self.windows.is_multiple_of(CLOCK_EVERY)
            && let Some(contended) = self.load.poll(self.threads)
            && contended != self.contended
        {
            self.contended = contended;
            ctl.set_spin(if contended { Duration::ZERO } else { SPIN });
        }
        if self.contended {
            if events >= WAKE_MIN_EVENTS { Plan::Share { wake: true } } else { Plan::Inline }
        } else if events >= WAKE_MIN_EVENTS {
            Plan::Share { wake: true }
        } else if events >= SHARE_MIN_EVENTS {
            Plan::Share { wake: self.recent >= WAKE_MEAN_EVENTS }
        } else {
            Plan::Inline
        }
    }
}

/// Readings of how busy the machine and this process have been.
#[derive(Debug, Default)]
struct LoadWatch {
    last: Option<LoadSample>,
}

/// One reading: when, the machine's busy and total CPU time and this
/// process's CPU time (clock ticks), and the machine's CPUs.
#[derive(Debug)]
struct LoadSample {
    at: Instant,
    busy: u64,
    total: u64,
    own: u64,
    cpus: usize,
}

impl LoadSample {
    /// Reads `/proc/stat` and `/proc/self/stat`; `None` where they cannot be read (not Linux).
    fn read(at: Instant) -> Option<LoadSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let mut lines = stat.lines();
        // cpu  user nice system idle iowait irq softirq steal (guest time is within user)
        let v: Vec<u64> =
            lines.next()?.split_whitespace().skip(1).take(8).map(|x| x.parse().ok()).collect::<Option<_>>()?;
        if v.len() < 8 {
            return None;
        }
        let total: u64 = v.iter().sum();
        let cpus =
            lines.filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit)).count();
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The fields after the command name (in parentheses) start at the 3rd; utime and stime are the 14th and 15th.
        let mut f = own.rsplit_once(')')?.1.split_whitespace().skip(11);
        let own = f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?;
        Some(LoadSample { at, busy: total - v[3] - v[4], total, own, cpus: cpus.max(1) })
    }
}

impl LoadSample {
    /// Whether, between this reading and the later `then`, other processes
    /// left fewer than `threads` of the machine's cores free (with a quarter
    /// of a core to spare).
    fn contended_until(&self, then: &LoadSample, threads: usize) -> bool {
        let total = then.total.saturating_sub(self.total).max(1) as f64;
        let own = then.own.saturating_sub(self.own);
        let others = then.busy.saturating_sub(self.busy).saturating_sub(own) as f64;
        let free = then.cpus as f64 * (1.0 - others / total);
        free < threads as f64 - 0.25
    }
}

impl LoadWatch {
    /// At most once per [`LOAD_PERIOD`]: whether, over the last period,
    /// other processes left fewer than `threads` cores free; `None` between
    /// readings and where the load cannot be read.
    fn poll(&mut self, threads: usize) -> Option<bool> {
        let now = Instant::now();
        if self.last.as_ref().is_some_and(|l| now.duration_since(l.at) < LOAD_PERIOD) {
            return None;
        }
        let s = LoadSample::read(now)?;
        let verdict = self.last.as_ref().map(|l| l.contended_until(&s, threads));
        self.last = Some(s);
        verdict
    }
}

/// Sends the workers home when dropped ([`Control::stop_on_drop`]).
pub struct StopOnDrop<'a>(&'a Control);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

impl Control {
    /// Orders for `threads` threads (the main one included) sharing `shards` shards.
    pub fn new(threads: usize, shards: usize) -> Control {
        assert!((shards as u64) < INDEX_MASK, "too many shards");
        Control {
            claim: AtomicU64::new(shards as u64),
            end: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            shards: shards as u64,
            exit: AtomicBool::new(false),
            poisoned: AtomicBool::new(false),
            main: Sleeper::new(),
            workers: (1..threads.max(1)).map(|_| Sleeper::new()).collect(),
            spin_us: AtomicU64::new(SPIN.as_micros() as u64),
        }
    }

    /// Runs a window up to `end`, `run(s, end)` for every shard `s`, on this
    /// thread and whichever workers are there to claim shards; returns when
    /// every shard is done. Parked workers are woken only if `wake`: the
    /// main thread would run a small window alone before a parked worker was
    /// up. Called by the main thread only.
    ///
    /// # Panics
    ///
    /// If a worker panicked (or `run` does).
    pub fn window(&self, end: u64, wake: bool, run: &(impl Fn(usize, u64) + Sync)) {
        let _guard = PoisonOnPanic(self);
        let epoch = self.epoch.load(Relaxed) + 1;
        self.epoch.store(epoch, Relaxed);
        self.end.store(end, Relaxed);
        // Publishing the epoch releases `end` to whoever claims a shard of it.
        self.claim.store(epoch << INDEX_BITS, SeqCst);
        if wake {
            self.wake_workers();
        }
        while let Some(s) = self.take() {
            run(s, end);
            self.finished.fetch_add(1, SeqCst);
        }
        // What remains was claimed by workers that are running it.
        let target = epoch * self.shards;
        let done = || self.finished.load(SeqCst) >= target || self.poisoned.load(SeqCst);
        while !done() {
            idle(&self.main, SPIN, done);
        }
        assert!(!self.poisoned.load(SeqCst), "a simulation worker panicked");
    }

    /// Wakes the parked workers.
    fn wake_workers(&self) {
        for w in &self.workers {
            w.wake();
        }
    }

    /// Sets how long idle workers spin before they park.
    fn set_spin(&self, spin: Duration) {
        self.spin_us.store(spin.as_micros() as u64, Relaxed);
    }

    /// Claims the next shard of the window being shared, if any is left.
    fn take(&self) -> Option<usize> {
        let mut cur = self.claim.load(Acquire);
        loop {
            let index = cur & INDEX_MASK;
            if index >= self.shards {
                return None;
            }
            // The whole word, epoch included, must still be the one read.
            match self.claim.compare_exchange_weak(cur, cur + 1, SeqCst, Acquire) {
                Ok(_) => return Some(index as usize),
                Err(now) => cur = now,
            }
        }
    }

    /// Whether a shard is left to claim.
    fn claimable(&self) -> bool {
        self.claim.load(SeqCst) & INDEX_MASK < self.shards
    }

    /// Sends the workers home.
    pub fn stop(&self) {
        self.exit.store(true, SeqCst);
        for w in &self.workers {
            w.wake();
        }
    }

    /// A guard that sends the workers home when dropped: when the main thread
    /// is done, or panics between windows (so that joining them cannot hang).
    pub fn stop_on_drop(&self) -> StopOnDrop<'_> {
        StopOnDrop(self)
    }

    /// Marks the handoff broken and wakes everyone, so that the workers go
    /// home and the main thread panics.
    fn poison(&self) {
        self.poisoned.store(true, SeqCst);
        for w in &self.workers {
            w.wake();
        }
        self.main.wake();
    }

    /// The loop of worker `w` (1-based; the main thread is 0): claims shards
    /// and runs them until [`stop`](Self::stop) or a panic elsewhere.
    pub fn work(&self, w: usize, run: &(impl Fn(usize, u64) + Sync)) {
        let _guard = PoisonOnPanic(self);
        let me = &self.workers[w - 1];
        me.check_in();
        let ready = || self.claimable() || self.exit.load(SeqCst) || self.poisoned.load(SeqCst);
        loop {
            if let Some(s) = self.take() {
                // The claim's epoch cannot end before this shard is done, so
                // `end` is still that epoch's.
                run(s, self.end.load(Acquire));
                self.finished.fetch_add(1, SeqCst);
                self.main.wake();
                continue;
            }
            if self.exit.load(SeqCst) || self.poisoned.load(SeqCst) {
                return;
            }
            idle(me, Duration::from_micros(self.spin_us.load(Relaxed)), ready);
        }
    }

    /// Workers parked or about to park (for tests).
    #[cfg(test)]
    fn parked_workers(&self) -> usize {
        self.workers.iter().filter(|w| w.is_parked()).count()
    }
}

/// The workers of a world, for as long as it lives: started with its first
/// window, sent home (and joined) when it is dropped, parked in between
/// whenever they have nothing to do. Keeping them saves a thread start and a
/// wake-up per call of `World::run_until`.
pub struct Pool {
    ctl: Arc<Control>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads − 1` workers for the shards of `shared`.
    pub fn start(threads: usize, shared: &Arc<Shared>) -> Pool {
        let ctl = Arc::new(Control::new(threads, shared.shards.len()));
        let workers = (1..threads)
            .map(|w| {
                let (ctl, shared) = (Arc::clone(&ctl), Arc::clone(shared));
                std::thread::spawn(move || ctl.work(w, &|s, end| shared.run_shard(s, end)))
            })
            .collect();
        Pool { ctl, workers }
    }

    /// The orders of the main thread to the workers.
    pub fn control(&self) -> &Control {
        &self.ctl
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.ctl.stop();
        for w in self.workers.drain(..) {
            // A worker that panicked has poisoned the handoff, and the main
            // thread has panicked with it; nothing more to report here.
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Runs `windows` windows of `shards` shards on `threads` threads; each
    /// window checks that every shard ran exactly once with its window's end.
    fn stress(threads: usize, shards: usize, windows: u64, work: impl Fn(u64) + Sync) {
        let ctl = Control::new(threads, shards);
        let runs: Vec<AtomicU64> = (0..shards).map(|_| AtomicU64::new(0)).collect();
        let run = |s: usize, end: u64| {
            // A shard runs once per window, with that window's end (= its epoch).
            assert_eq!(runs[s].fetch_add(1, SeqCst) + 1, end, "shard {s} claimed for the wrong window");
            work(end);
        };
        std::thread::scope(|scope| {
            for w in 1..threads {
                let (ctl, run) = (&ctl, &run);
                scope.spawn(move || ctl.work(w, run));
            }
            for epoch in 1..=windows {
                ctl.window(epoch, true, &run);
                assert!(runs.iter().all(|r| r.load(SeqCst) == epoch), "window {epoch} incomplete");
            }
            ctl.stop();
        });
    }

    #[test]
    fn windows_are_shared_by_their_expected_events() {
        let ctl = Control::new(2, 2);
        let mut sh = Sharing::new(2);
        assert_eq!(sh.plan(&ctl, 0, SHARE_MIN_EVENTS - 1), Plan::Inline);
        assert_eq!(sh.plan(&ctl, 0, SHARE_MIN_EVENTS), Plan::Share { wake: false });
        assert_eq!(sh.plan(&ctl, 0, WAKE_MIN_EVENTS), Plan::Share { wake: true });
        // Busy recent windows wake the workers for a smaller one too.
        for _ in 0..20 {
            sh.plan(&ctl, 12, 2);
        }
        assert_eq!(sh.plan(&ctl, 12, SHARE_MIN_EVENTS), Plan::Share { wake: true });
        // A contended run shares only the biggest windows, and its workers park at once.
        sh.contended = true;
        assert_eq!(sh.plan(&ctl, 12, WAKE_MIN_EVENTS - 1), Plan::Inline);
        assert_eq!(sh.plan(&ctl, 12, WAKE_MIN_EVENTS), Plan::Share { wake: true });
    }

    #[test]
    fn a_run_is_contended_when_other_processes_leave_too_few_cores() {
        let at = Instant::now();
        let s = |busy, total, own| LoadSample { at, busy, total, own, cpus: 2 };
        // Over 100 ticks of two cores (200 in all): this process used 190, others 5.
        assert!(!s(0, 0, 0).contended_until(&s(195, 200, 190), 2));
        // Another process kept a core busy (100 ticks): one core left for two threads.
        assert!(s(0, 0, 0).contended_until(&s(190, 200, 90), 2));
        // …which is enough for one thread.
        assert!(!s(0, 0, 0).contended_until(&s(190, 200, 90), 1));
        if cfg!(target_os = "linux") {
            let r = LoadSample::read(at).expect("/proc/stat and /proc/self/stat read");
            assert!(r.cpus >= 1 && r.busy <= r.total);
        }
    }

    #[test]
    fn every_shard_runs_once_per_window_with_its_end() {
        // Empty windows: the claims race as hard as they can.
        stress(3, 8, 50_000, |_| {});
        stress(2, 2, 50_000, |_| {});
        // Windows of some work, some of them after a pause long enough for the workers to park.
        stress(3, 5, 3_000, |e| {
            if e % 500 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            for _ in 0..(e % 7) * 100 {
                std::hint::spin_loop();
            }
        });
    }

    #[test]
    fn workers_share_busy_windows() {
        let ctl = Control::new(2, 4);
        let by_worker = AtomicUsize::new(0);
        let main = std::thread::current().id();
        let run = |_: usize, _: u64| {
            if std::thread::current().id() != main {
                by_worker.fetch_add(1, SeqCst);
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        std::thread::scope(|scope| {
            scope.spawn(|| ctl.work(1, &run));
            for e in 1..=20 {
                ctl.window(e, true, &run);
            }
            ctl.stop();
        });
        assert!(by_worker.load(SeqCst) >= 10, "the worker ran {} of 80 shards", by_worker.load(SeqCst));
    }

    #[test]
    fn a_missing_worker_never_holds_up_a_window() {
        // Three threads' worth of orders, and no worker ever shows up: the
        // main thread claims every shard itself.
        let ctl = Control::new(3, 6);
        let ran = AtomicUsize::new(0);
        for e in 1..=100 {
            ctl.window(e, true, &|_, _| {
                ran.fetch_add(1, SeqCst);
            });
        }
        assert_eq!(ran.load(SeqCst), 600);
    }

    #[test]
    fn idle_workers_park() {
        let ctl = Control::new(3, 3);
        std::thread::scope(|scope| {
            for w in 1..3 {
                let ctl = &ctl;
                scope.spawn(move || ctl.work(w, &|_, _| {}));
            }
            ctl.window(1, true, &|_, _| {});
            let start = Instant::now();
            while ctl.parked_workers() < 2 {
                assert!(start.elapsed() < Duration::from_secs(10), "the workers did not park");
                std::thread::sleep(Duration::from_millis(1));
            }
            // Parked workers are woken for the next window, and parked again.
            ctl.window(2, true, &|_, _| std::thread::sleep(Duration::from_millis(1)));
            ctl.stop();
        });
    }

    /// Runs `f` on a thread of its own; fails if it takes more than 60 s.
    fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> std::thread::Result<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        rx.recv_timeout(Duration::from_secs(60)).expect("the run hung")
    }

    #[test]
    fn a_worker_panic_ends_the_run_with_a_panic() {
        let got = within_a_minute(|| {
            let ctl = Control::new(3, 4);
            let main = std::thread::current().id();
            let run = |_: usize, end: u64| {
                if end >= 5 && std::thread::current().id() != main {
                    panic!("worker fails on purpose");
                }
                std::thread::sleep(Duration::from_millis(1));
            };
            std::thread::scope(|scope| {
                for w in 1..3 {
                    let (ctl, run) = (&ctl, &run);
                    scope.spawn(move || ctl.work(w, run));
                }
                for e in 1..=10_000 {
                    ctl.window(e, true, &run);
                }
                ctl.stop();
            });
        });
        assert!(got.is_err(), "the run finished although a worker panicked");
    }

    #[test]
    fn a_main_thread_panic_sends_the_workers_home() {
        for in_window in [true, false] {
            let got = within_a_minute(move || {
                let ctl = Control::new(3, 4);
                let main = std::thread::current().id();
                std::thread::scope(|scope| {
                    for w in 1..3 {
                        let ctl = &ctl;
                        scope.spawn(move || ctl.work(w, &|_, _| std::thread::sleep(Duration::from_millis(1))));
                    }
                    let _home = ctl.stop_on_drop();
                    for e in 1..=10 {
                        // In a shard it runs, or between windows (the serial phase).
                        assert!(in_window || e < 5, "main fails on purpose between windows");
                        ctl.window(e, true, &|_, end| {
                            assert!(end < 5 || std::thread::current().id() != main, "main fails on purpose");
                        });
                    }
                });
            });
            assert!(got.is_err(), "the run finished although the main thread panicked");
        }
    }
}
