//! Time: the hybrid logical clock that orders ops, the calendar day that deadlines are kept in,
//! and the wall clock a store reads (replaceable, so tests and the demo can move through days).
//!
//! An HLC is one `i64`: milliseconds since the Unix epoch in the high 48 bits and a counter in
//! the low 16, so it sorts as a plain integer in SQLite and in Rust. Deadlines are calendar days
//! in China Standard Time (UTC+8, no daylight saving), which is how a rectification notice reads.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::{Field, InvalidInput, Problem};

const COUNTER_BITS: u32 = 16;
const COUNTER_MAX: i64 = (1 << COUNTER_BITS) - 1;
pub const MS_PER_DAY: i64 = 86_400_000;
/// How far past the server's clock an op, or a device's clock as it pushes, may be: a phone's
/// clock corrected at its last sync drifts by seconds, not minutes.
pub const MAX_AHEAD_MS: i64 = 5 * 60_000;
/// China Standard Time, UTC+8.
pub(crate) const CST_OFFSET_MS: i64 = 8 * 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hlc(pub i64);

impl Hlc {
    pub fn new(wall_ms: i64, counter: i64) -> Self {
        Hlc((wall_ms << COUNTER_BITS) | (counter & COUNTER_MAX))
    }
    pub fn wall_ms(self) -> i64 {
        self.0 >> COUNTER_BITS
    }
    pub fn counter(self) -> i64 {
        self.0 & COUNTER_MAX
    }
    /// The next timestamp for a local event: never behind `self`, never behind the wall clock.
    pub fn tick(self, now_ms: i64) -> Hlc {
        if now_ms > self.wall_ms() {
            Hlc::new(now_ms, 0)
        } else if self.counter() < COUNTER_MAX {
            Hlc(self.0 + 1)
        } else {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            Hlc::new(self.wall_ms() + 1, 0)
        }
    }
    /// `self`, no later than half the clock bound (`MAX_AHEAD_MS`) past `now_ms`: an HLC a
    /// log came to hold far in the future (from before the bound, or a broken clock) carries
    /// no device's clock with it, and what a device stamps next stays within the bound the
    /// server judges by, with a margin for the device's own drift.
    pub fn capped(self, now_ms: i64) -> Hlc {
        self.min(Hlc::new(now_ms.saturating_add(MAX_AHEAD_MS / 2), 0))
    }
    /// Merges a timestamp seen on a remote op, so that later local events sort after it.
    pub fn observe(self, remote: Hlc) -> Hlc {
        self.max(remote)
    }
    pub fn day(self) -> Day {
        Day::from_ms(self.wall_ms())
    }
}

/// A calendar day in China Standard Time, counted from 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// The day of a moment. A moment from a record can be anything a device wrote, so days
    /// beyond the calendar's range (a quarter of a million years either way) are held at its
    /// ends: no date arithmetic on a stored value can overflow or panic.
    pub fn from_ms(ms: i64) -> Day {
        let days = ms.saturating_add(CST_OFFSET_MS).div_euclid(MS_PER_DAY);
        Day(days.clamp(i64::from(Day::MIN.0), i64::from(Day::MAX.0)) as i32)
    }
    /// The first and last days the calendar can show.
    pub const MIN: Day = Day(-95_000_000);
    pub const MAX: Day = Day(95_000_000);
    /// Midnight at the start of this day, CST, in Unix milliseconds.
    pub fn start_ms(self) -> i64 {
        i64::from(self.0)
            .saturating_mul(MS_PER_DAY)
            .saturating_sub(CST_OFFSET_MS)
    }
    pub fn plus(self, days: i32) -> Day {
        Day(self.0.saturating_add(days).clamp(Day::MIN.0, Day::MAX.0))
    }
    pub fn days_since(self, earlier: Day) -> i32 {
        self.0.saturating_sub(earlier.0)
    }
    fn epoch() -> NaiveDate {
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
    }
    pub fn from_date(d: NaiveDate) -> Day {
        Day(d.num_days_from_ce() - Day::epoch().num_days_from_ce())
    }
    pub fn date(self) -> NaiveDate {
        let days = chrono::TimeDelta::days(i64::from(self.0.clamp(Day::MIN.0, Day::MAX.0)));
        Day::epoch()
            .checked_add_signed(days)
            .unwrap_or(if self.0 < 0 {
                NaiveDate::MIN
            } else {
                NaiveDate::MAX
            })
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date().format("%Y-%m-%d"))
    }
}

impl FromStr for Day {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Day::from_date)
            .map_err(|_| InvalidInput::new(Field::Date, Problem::NotADay))
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a store reads the time. `Manual` lets tests and the demo step through days.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => chrono::Utc::now().timestamp_millis(),
            Clock::Manual(t) => t.load(Ordering::SeqCst),
        }
    }
    /// Moves a manual clock; a no-op on the system clock.
    pub fn advance_ms(&self, ms: i64) {
        if let Clock::Manual(t) = self {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
    pub fn set_ms(&self, ms: i64) {
        if let Clock::Manual(t) = self {
            t.store(ms, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hlc_orders_and_ticks() {
        let a = Hlc::new(1000, 0);
        assert_eq!(a.tick(999), Hlc::new(1000, 1));
        assert_eq!(a.tick(2000), Hlc::new(2000, 0));
        assert!(Hlc::new(1000, 5) < Hlc::new(1001, 0));
        let full = Hlc::new(1000, COUNTER_MAX);
        assert_eq!(full.tick(1000), Hlc::new(1001, 0));
        assert_eq!(a.observe(Hlc::new(5000, 3)), Hlc::new(5000, 3));
    }

    #[test]
    fn no_moment_a_device_could_write_breaks_day_arithmetic() {
        let today = Day::from_ms(1_790_000_000_000);
        for ms in [
            i64::MIN,
            -100_000_000_000_000_000,
            -1,
            0,
            253_402_300_800_000,
            i64::MAX,
        ] {
            let day = Day::from_ms(ms);
            assert!(!day.to_string().is_empty());
            let _ = (day.start_ms(), day.plus(i32::MAX), day.plus(i32::MIN));
            let _ = (today.days_since(day), day.days_since(today));
        }
        assert_eq!(Day::from_ms(i64::MIN), Day::MIN);
        assert_eq!(Day::from_ms(i64::MAX), Day::MAX);
        assert_eq!(Day::MAX.plus(1), Day::MAX);
        assert!(today.days_since(Day::from_ms(-100_000_000_000_000_000)) > 90_000_000);
    }

    #[test]
    fn day_is_china_time() {
        // 2026-03-01 17:00 UTC is 2026-03-02 01:00 in Beijing.
        let ms = chrono::DateTime::parse_from_rfc3339("2026-03-01T17:00:00Z")
            .map(|d| d.timestamp_millis())
            .unwrap_or_default();
        assert_eq!(Day::from_ms(ms).to_string(), "2026-03-02");
        let d: Day = "2026-03-02".parse().unwrap_or(Day(0));
        assert_eq!(Day::from_ms(d.start_ms()), d);
        assert!("2026-02-30".parse::<Day>().is_err());
    }
}
