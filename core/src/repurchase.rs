//! Repeat purchases: a person's own rhythm of buying an item again, and how
//! "due" the item is at a moment. Purchases within [`ORDER_WINDOW_MS`] of each
//! other are one order (one basket); the newest [`KEPT_ORDERS`] order times are
//! kept per item, in time order whatever order they were recorded in.
//!
//! The interval is estimated in log space (gaps between orders are skewed: a
//! weekly shopper sometimes skips a week), from the person's own gaps blended
//! with the pack's population prior for the item (its median repeat gap), which
//! alone speaks for someone who bought the item once. An item is due when the
//! time since it was last bought reaches that interval; before that its score
//! rises, after it the score fades slowly (people skip, then stop).

use serde::{Deserialize, Serialize};

/// Purchases this close in time are one order.
pub const ORDER_WINDOW_MS: i64 = 3_600_000;
/// Order times kept per item (the newest ones).
pub const KEPT_ORDERS: usize = 8;
/// The interval assumed for an item bought once that the pack knows no rhythm for.
pub const DEFAULT_INTERVAL_MS: f64 = 14.0 * 86_400_000.0;
/// The pack's prior counts as this many of the person's own gaps.
const PRIOR_GAPS: f64 = 1.0;
/// Spread (in ln units) of the prior, and the least spread a rhythm is given:
/// even a regular shopper is seldom on the exact day.
const PRIOR_SPREAD: f64 = 0.6;
const MIN_SPREAD: f64 = 0.35;
/// Past the interval the score fades this many times slower than it rises before it.
const OVERDUE_SLOWDOWN: f64 = 2.0;
/// The least elapsed time counted (an order stamped now or later is just bought).
const MIN_ELAPSED_MS: f64 = 60_000.0;

/// The times of someone's orders of one item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "RhythmRecord", try_from = "RhythmRecord")]
pub struct PurchaseRhythm {
    /// The newest order times, oldest first; `len` of them are set.
    times: [i64; KEPT_ORDERS],
    len: u8,
    /// Every order counted, including those no longer kept.
    orders: u32,
}

/// A [`PurchaseRhythm`] as snapshots and exports hold it: the kept order
/// times (oldest first) and how many orders were counted.
#[derive(Serialize, Deserialize)]
struct RhythmRecord {
    times: Vec<i64>,
    orders: u32,
}

impl From<PurchaseRhythm> for RhythmRecord {
    fn from(r: PurchaseRhythm) -> Self {
        RhythmRecord { times: r.kept().to_vec(), orders: r.orders }
    }
}

impl TryFrom<RhythmRecord> for PurchaseRhythm {
    type Error = &'static str;

    fn try_from(record: RhythmRecord) -> Result<Self, Self::Error> {
        let in_order = record.times.windows(2).all(|w| w[0] < w[1]);
        if record.times.len() > KEPT_ORDERS || !in_order || (record.orders as usize) < record.times.len() {
            return Err("order times out of order or too many");
        }
        let mut rhythm = PurchaseRhythm { orders: record.orders, len: record.times.len() as u8, ..Default::default() };
        rhythm.times[..record.times.len()].copy_from_slice(&record.times);
        Ok(rhythm)
    }
}

/// How due an item is for someone at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Due {
    /// 0..=1: how likely this item belongs in the next order, from how often
    /// it was bought and how well the time since matches the rhythm.
    pub score: f64,
    /// The estimated interval between orders of it.
    pub interval_ms: f64,
    /// Time since it was last bought (0 if bought at or after the moment).
    pub since_ms: i64,
    /// Where the interval comes from.
    pub basis: RhythmBasis,
}

/// Where an estimated interval between orders comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RhythmBasis {
    /// The person's own orders (at least two), with the pack's prior if any.
    Own,
    /// The pack's prior alone: how often people re-buy the item.
    Usual,
    /// Neither: bought once, and the pack knows no rhythm for it.
    Unknown,
}

impl PurchaseRhythm {
    /// Adds a purchase at `t_ms`; returns whether it began a new order.
    pub fn add(&mut self, t_ms: i64) -> bool {
        let kept = &self.times[..usize::from(self.len)];
        if kept.iter().any(|&k| k.abs_diff(t_ms) < ORDER_WINDOW_MS as u64) {
            return false;
        }
        self.orders = self.orders.saturating_add(1);
        let at = kept.partition_point(|&k| k < t_ms);
        if usize::from(self.len) < KEPT_ORDERS {
            self.times.copy_within(at..usize::from(self.len), at + 1);
            self.times[at] = t_ms;
            self.len += 1;
        } else if at > 0 {
            // Full: the oldest makes way (an order older than every kept one is only counted).
            self.times.copy_within(1..at, 0);
            self.times[at - 1] = t_ms;
        }
        true
    }

    /// How many orders were counted.
    pub fn orders(&self) -> u32 {
        self.orders
    }

    /// The newest order time.
    pub fn last_ms(&self) -> Option<i64> {
        self.kept().last().copied()
    }

    fn kept(&self) -> &[i64] {
        &self.times[..usize::from(self.len)]
    }

    /// The gaps between consecutive kept orders, in ms (all positive).
    fn gaps(&self) -> impl Iterator<Item = f64> + '_ {
        self.kept().windows(2).map(|w| w[1].saturating_sub(w[0]) as f64)
    }

    /// The typical gap between orders: the geometric mean of the kept gaps
    /// blended with `prior_ms` (the pack's median gap for the item), and the
    /// spread around it in ln units; `None` with neither gaps nor a prior.
    fn interval(&self, prior_ms: Option<f64>) -> Option<(f64, f64)> {
        let prior = prior_ms.map(f64::ln);
        let (mut n, mut sum) = (0.0, 0.0);
        for gap in self.gaps() {
            n += 1.0;
            sum += gap.ln();
        }
        if let Some(p) = prior {
            n += PRIOR_GAPS;
            sum += PRIOR_GAPS * p;
        }
        if n == 0.0 {
            return None;
        }
        let mean = sum / n;
        let mut squares: f64 = self.gaps().map(|g| (g.ln() - mean).powi(2)).sum();
        if let Some(p) = prior {
            squares += PRIOR_GAPS * ((p - mean).powi(2) + PRIOR_SPREAD * PRIOR_SPREAD);
        }
        Some((mean.exp(), (squares / n).sqrt().max(MIN_SPREAD)))
    }

    /// How due the item is at `now_ms`, with the pack's prior interval for it
    /// (`None` without one); `None` if it was never bought.
    pub fn due(&self, now_ms: i64, prior_ms: Option<f64>) -> Option<Due> {
        let last = self.last_ms()?;
        let prior_ms = prior_ms.filter(|p| p.is_finite() && *p > 0.0);
        let basis = match (self.len >= 2, prior_ms.is_some()) {
            (true, _) => RhythmBasis::Own,
            (false, true) => RhythmBasis::Usual,
            (false, false) => RhythmBasis::Unknown,
        };
        let (interval_ms, spread) = self.interval(prior_ms).unwrap_or((DEFAULT_INTERVAL_MS, PRIOR_SPREAD));
        let since_ms = now_ms.saturating_sub(last).max(0);
        let x = ((since_ms as f64).max(MIN_ELAPSED_MS) / interval_ms).ln();
        let width = if x > 0.0 { spread * OVERDUE_SLOWDOWN } else { spread };
        let timing = (-x * x / (2.0 * width * width)).exp();
        let orders = f64::from(self.orders);
        // A rhythm seen once is a guess: an item bought once weighs half of one bought
        // often, and without a prior (nothing says people re-buy it) half of that.
        let frequency = orders / (orders + 1.0) * if basis == RhythmBasis::Unknown { 0.5 } else { 1.0 };
        Some(Due { score: timing * frequency, interval_ms, since_ms, basis })
    }
}

/// "every 7 days", "every day", "every 3 hours".
pub fn every(interval_ms: f64) -> String {
    let days = (interval_ms / 86_400_000.0).round();
    match days {
        d if d >= 2.0 => format!("every {d} days"),
        d if d >= 1.0 => "every day".to_string(),
        _ => format!("every {} hours", (interval_ms / 3_600_000.0).round().max(1.0)),
    }
}

/// "today", "yesterday", "6 days ago".
pub fn ago(since_ms: i64) -> String {
    match since_ms / 86_400_000 {
        0 => "today".to_string(),
        1 => "yesterday".to_string(),
        d => format!("{d} days ago"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_780_000_000_000;

    fn rhythm(times: &[i64]) -> PurchaseRhythm {
        let mut r = PurchaseRhythm::default();
        times.iter().for_each(|&t| {
            r.add(t);
        });
        r
    }

    #[test]
    fn purchases_within_an_hour_are_one_order_and_orders_are_kept_in_time_order() {
        let mut r = PurchaseRhythm::default();
        assert!(r.add(NOW));
        assert!(!r.add(NOW + 30 * 60_000), "same basket");
        assert!(r.add(NOW - 7 * DAY), "an older order recorded later");
        assert_eq!((r.orders(), r.last_ms()), (2, Some(NOW)));
        let forwards = rhythm(&(0..12).map(|w| NOW - w * 7 * DAY).collect::<Vec<_>>());
        let backwards = rhythm(&(0..12).rev().map(|w| NOW - w * 7 * DAY).collect::<Vec<_>>());
        assert_eq!(forwards.kept(), backwards.kept(), "the newest orders are kept whatever the order of recording");
        assert_eq!((forwards.orders(), forwards.kept().len()), (12, KEPT_ORDERS));
        assert_eq!(forwards.kept().first(), Some(&(NOW - 7 * 7 * DAY)));
    }

    #[test]
    fn a_weekly_staple_is_due_after_a_week_and_outranks_a_one_off() {
        let weekly = rhythm(&[NOW - 27 * DAY, NOW - 20 * DAY, NOW - 13 * DAY, NOW - 6 * DAY]);
        let due = weekly.due(NOW, None).unwrap();
        assert!(due.basis == RhythmBasis::Own && (due.interval_ms - 7.0 * DAY as f64).abs() < 1.0, "{due:?}");
        assert_eq!(due.since_ms, 6 * DAY);
        let just_bought = weekly.due(NOW - 6 * DAY + 3_600_000, None).unwrap();
        let overdue = weekly.due(NOW + 60 * DAY, None).unwrap();
        assert!(due.score > 0.7 && just_bought.score < 0.05 && overdue.score < 0.1, "{due:?} {just_bought:?} {overdue:?}");
        let once = rhythm(&[NOW - 7 * DAY]).due(NOW, None).unwrap();
        assert!(once.score < due.score / 2.0, "{once:?}");
        let once_with_prior = rhythm(&[NOW - 7 * DAY]).due(NOW, Some(7.0 * DAY as f64)).unwrap();
        assert!(once_with_prior.score > once.score && once_with_prior.basis == RhythmBasis::Usual);
        assert_eq!(once.basis, RhythmBasis::Unknown);
    }

    #[test]
    fn extreme_times_keep_the_score_finite() {
        for times in [vec![i64::MIN, i64::MAX], vec![i64::MIN], vec![i64::MAX, i64::MAX - 2 * ORDER_WINDOW_MS], vec![0, 1, 2]] {
            let r = rhythm(&times);
            for now in [i64::MIN, 0, NOW, i64::MAX] {
                for prior in [None, Some(f64::NAN), Some(0.0), Some(1e300), Some(7.0 * DAY as f64)] {
                    let due = r.due(now, prior).unwrap();
                    assert!(due.score.is_finite() && (0.0..=1.0).contains(&due.score), "{times:?} {now} {prior:?}: {due:?}");
                }
            }
        }
        assert_eq!(PurchaseRhythm::default().due(NOW, None), None);
    }

    #[test]
    fn intervals_read_as_people_say_them() {
        assert_eq!(every(7.2 * DAY as f64), "every 7 days");
        assert_eq!(every(1.1 * DAY as f64), "every day");
        assert_eq!(every(3.0 * 3_600_000.0), "every 3 hours");
        assert_eq!((ago(0), ago(DAY + 5), ago(6 * DAY)), ("today".to_string(), "yesterday".to_string(), "6 days ago".to_string()));
    }
}
