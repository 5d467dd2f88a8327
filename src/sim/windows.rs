//! How the run's events fell into windows (DESIGN.md §6): the numbers that
//! say why a run does or does not use a second core.
//!
//! A window is `network.min_latency` of simulated time; its shards can run
//! side by side only if it holds enough events to pay for waking a worker.
//! A sparse workload (a settled network with few lookups) runs windows of a
//! handful of events, which no thread count speeds up. The counts are of
//! the simulation and the same for any `--threads`; which windows were
//! shared depends on the threads and the machine, and is reported apart.

use serde::{Deserialize, Serialize};

/// Upper bounds (exclusive) of the window-size classes; the last class is open.
pub const CLASS_BOUNDS: [u64; 6] = [4, 16, 64, 256, 1024, 4096];

/// Windows run and their sizes in events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Windows {
    /// Windows run (empty ones are skipped and not counted).
    pub windows: u64,
    /// Windows by events held: fewer than 4, 16, 64, 256, 1,024, 4,096, and more.
    pub by_size: [u64; CLASS_BOUNDS.len() + 1],
    /// Events in each class of windows.
    pub events_by_size: [u64; CLASS_BOUNDS.len() + 1],
    /// Windows whose shards the workers were asked to share, and their
    /// events (depend on `--threads` and on the machine's load).
    pub shared: u64,
    /// See `shared`.
    pub shared_events: u64,
}

impl Windows {
    /// Notes a window of `events` events; `shared` if the workers took part.
    pub fn note(&mut self, events: u64, shared: bool) {
        let class = CLASS_BOUNDS.iter().position(|&b| events < b).unwrap_or(CLASS_BOUNDS.len());
        self.windows += 1;
        self.by_size[class] += 1;
        self.events_by_size[class] += events;
        if shared {
            self.shared += 1;
            self.shared_events += events;
        }
    }

    /// All events counted.
    pub fn events(&self) -> u64 {
        self.events_by_size.iter().sum()
    }

    /// Mean events per window.
    pub fn mean(&self) -> f64 {
        if self.windows == 0 { 0.0 } else { self.events() as f64 / self.windows as f64 }
    }

    /// Share of the events that ran in windows of at least `min` events
    /// (`min` one of [`CLASS_BOUNDS`]).
    pub fn share_in_windows_of(&self, min: u64) -> f64 {
        let from = CLASS_BOUNDS.iter().position(|&b| b == min).map_or(0, |i| i + 1);
        let total = self.events();
        if total == 0 { 0.0 } else { self.events_by_size[from..].iter().sum::<u64>() as f64 / total as f64 }
    }

    /// One line for the end-of-run summary, under 80 columns: windows, their
    /// mean size, and how much of the work the workers shared (with more
    /// than one thread).
    pub fn summary(&self, threads: usize) -> String {
        let mut line = format!(
            "{} windows, {:.1} events each, {:.0}% of events in windows of 64+",
            self.windows,
            self.mean(),
            100.0 * self.share_in_windows_of(64)
        );
        if threads > 1 {
            let events = self.events();
            let share = if events == 0 { 0.0 } else { self.shared_events as f64 / events as f64 };
            line.push_str(&format!("; {:.0}% shared", 100.0 * share));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_fall_into_their_classes() {
        let mut w = Windows::default();
        for (events, shared) in [(1, false), (3, false), (4, false), (63, true), (64, true), (5000, true)] {
            w.note(events, shared);
        }
        assert_eq!(w.windows, 6);
        assert_eq!(w.by_size, [2, 1, 1, 1, 0, 0, 1]);
        assert_eq!(w.events(), 5135);
        assert_eq!((w.shared, w.shared_events), (3, 5127));
        assert!((w.mean() - 5135.0 / 6.0).abs() < 1e-9);
        assert!((w.share_in_windows_of(64) - 5064.0 / 5135.0).abs() < 1e-12);
        assert_eq!(w.summary(1), "6 windows, 855.8 events each, 99% of events in windows of 64+");
        assert!(w.summary(2).ends_with("; 100% shared"));
    }
}
