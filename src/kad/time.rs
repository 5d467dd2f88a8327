//! Protocol time: an integer count of microseconds handed in by the driver.
//!
//! The core never reads a clock (DESIGN.md §2). The simulator passes its event
//! time; the real-network driver passes the microseconds elapsed since it started.

use std::time::Duration;

/// A point in time, in whole microseconds since the driver's epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub u64);

impl Time {
    /// The epoch.
    pub const ZERO: Time = Time(0);
    /// The farthest representable time, used as "never".
    pub const NEVER: Time = Time(u64::MAX);

    /// Whole microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Time {
        Time(secs * 1_000_000)
    }

    /// The time `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms * 1_000)
    }

    /// `self + d`, saturating at [`Time::NEVER`].
    pub fn plus(self, d: Duration) -> Time {
        Time(self.0.saturating_add(micros(d)))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Time) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }
}

/// A duration as whole microseconds, saturating.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl std::ops::Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        self.plus(d)
    }
}
