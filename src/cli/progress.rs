//! The progress of a run on stderr: a bar on a terminal, heartbeat lines in
//! a batch job's log, nothing with `--quiet`. Wall-clock time is read here
//! only, for display; the simulation never sees it.

use crate::runner::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// A bar on stderr drawn with `template`, or hidden.
pub(super) fn styled_bar(hidden: bool, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if hidden {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    bar
}

/// The progress bar: simulated time, events per second, ETA, in under 80
/// columns. Hidden when stderr is not a terminal or with --quiet; off a
/// terminal (a batch job's log) a heartbeat line goes to stderr at every 10% of
/// simulated time instead, unless --quiet. Wall-clock time is read here only,
/// for display and the manifest; the simulation never sees it.
pub(super) struct Bar {
    bar: ProgressBar,
    started: Instant,
    /// Print heartbeat lines.
    heartbeat: bool,
    /// The next tenth of the run at which a heartbeat is due.
    next_tenth: u64,
}

/// The bar's template: at most 16 + 1 + 40 + 1 + 8 + 5 + 8 = 79 columns.
const BAR_TEMPLATE: &str = "{bar:16} {msg} {elapsed_precise} ETA {eta}";

/// The bar's message: simulated seconds and event rate, at most 40 columns
/// for any run shorter than 31 years.
fn bar_message(now_us: u64, end_us: u64, events: u64, wall_s: f64) -> String {
    format!("{}/{} s, {:.2}M ev/s", now_us / 1_000_000, end_us / 1_000_000, events as f64 / wall_s.max(1e-9) / 1e6)
}

/// A heartbeat line for logs: percent of simulated time, events, wall time.
fn heartbeat_line(now_us: u64, end_us: u64, events: u64, wall_s: f64) -> String {
    let pct = (now_us.min(end_us) * 100).checked_div(end_us).unwrap_or(100);
    format!(
        "kadsim: {pct:>3}% of {} s simulated, {:.1}M events, {wall_s:.0} s wall",
        end_us / 1_000_000,
        events as f64 / 1e6
    )
}

impl Bar {
    pub(super) fn new(hidden: bool, heartbeat: bool) -> Bar {
        Bar { bar: styled_bar(hidden, BAR_TEMPLATE), started: Instant::now(), heartbeat, next_tenth: 1 }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn tick(&mut self, now_us: u64, end_us: u64, events: u64) {
        let wall = self.started.elapsed().as_secs_f64();
        self.bar.set_length(end_us / 1_000_000);
        self.bar.set_position(now_us / 1_000_000);
        self.bar.set_message(bar_message(now_us, end_us, events, wall));
        if self.heartbeat
            && self.next_tenth <= 10
            && now_us.saturating_mul(10) >= end_us.saturating_mul(self.next_tenth)
        {
            eprintln!("{}", heartbeat_line(now_us, end_us, events, wall));
            while self.next_tenth <= 10 && now_us.saturating_mul(10) >= end_us.saturating_mul(self.next_tenth) {
                self.next_tenth += 1;
            }
        }
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_fits_80_columns_at_its_widest() {
        // The widest values: a 31-year run, 999 M events/s, 99 h elapsed.
        let end = 999_999_999 * 1_000_000;
        let msg = bar_message(end, end, 999_000_000 * 1000, 1000.0);
        assert!(msg.chars().count() <= 40, "{msg}");
        let widest = format!("{} {msg} 99:59:59 ETA {}", "#".repeat(16), "59m 59s");
        assert!(widest.chars().count() <= 80, "{} columns: {widest}", widest.chars().count());
        assert!(heartbeat_line(end, end, u64::MAX, 1e6).chars().count() <= 80);
    }
}
