//! "When is this person most likely to respond?": a per-user hour-of-week
//! engagement model fed by notification opens and session starts, with quiet
//! hours and a plain fallback while there is too little data.

use crate::error::{Error, InvalidReason, Result};
use crate::model::{hour_of_week, HOURS_PER_WEEK};

const HOUR_MS: i64 = 3_600_000;
/// Below this many engagement events the answer is the fallback.
pub const MIN_ENGAGEMENT_EVENTS: u64 = 5;
/// The local hour suggested when there is not enough data.
pub const FALLBACK_LOCAL_HOUR: u8 = 19;

/// Local hours in which nothing should be sent, `start_hour` inclusive to
/// `end_hour` exclusive, wrapping past midnight when start > end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// First quiet hour (0–23).
    pub start_hour: u8,
    /// First hour after the quiet period (0–23).
    pub end_hour: u8,
}

/// The local hour (0–23) at the start of the UTC hour of the week `hour`
/// (Monday 00:00 UTC = 0), `utc_offset_minutes` from UTC.
pub fn local_hour(hour: u32, utc_offset_minutes: i32) -> u8 {
    (i64::from(hour) * 60 + i64::from(utc_offset_minutes)).div_euclid(60).rem_euclid(24) as u8
}

impl QuietHours {
    /// Whether the local `hour` is quiet.
    pub fn contains(&self, hour: u8) -> bool {
        if self.start_hour <= self.end_hour {
            (self.start_hour..self.end_hour).contains(&hour)
        } else {
            hour >= self.start_hour || hour < self.end_hour
        }
    }
}

/// A best-time question.
#[derive(Debug, Clone, PartialEq)]
pub struct BestTimeRequest {
    /// Answer from this moment; the device clock if `None`.
    pub now_ms: Option<i64>,
    /// The person's offset from UTC, in minutes.
    pub utc_offset_minutes: i32,
    /// Hours never to suggest (local time); `None` allows any hour.
    pub quiet_hours: Option<QuietHours>,
    /// How far ahead to look, in hours (1–336).
    pub horizon_hours: u32,
}

impl Default for BestTimeRequest {
    fn default() -> Self {
        BestTimeRequest {
            now_ms: None,
            utc_offset_minutes: 0,
            quiet_hours: Some(QuietHours { start_hour: 22, end_hour: 8 }),
            horizon_hours: 168,
        }
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct BestTime {
    /// The start of the suggested hour, ms since the Unix epoch.
    pub at_ms: i64,
    /// Its local hour (0–23).
    pub local_hour: u8,
    /// Its local weekday, Monday = 0.
    pub weekday: u8,
    /// 0–1: the share of the person's engagement within an hour of that time of
    /// day, discounted while there is little data; 0 for a fallback.
    pub confidence: f32,
    /// True when there was too little data (or no consent) and a default was used.
    pub fallback: bool,
    /// Notification opens and session starts the answer rests on.
    pub based_on_events: u64,
}

/// Answers from decayed engagement per UTC hour of week (`engagement`, 168 bins).
pub fn best_time(engagement: &[f64], events: u64, personalised: bool, request: &BestTimeRequest, now_ms: i64) -> Result<BestTime> {
    let bad = |field| Error::InvalidRequest(InvalidReason::OutOfRange(field));
    if request.utc_offset_minutes.unsigned_abs() > 14 * 60 {
        return Err(bad("utc_offset_minutes"));
    }
    // Far enough from either end that the horizon and the offset cannot overflow.
    if !(i64::MIN / 2..=i64::MAX / 2).contains(&now_ms) {
        return Err(bad("now_ms"));
    }
    if request.quiet_hours.is_some_and(|q| q.start_hour > 23 || q.end_hour > 23) {
        return Err(bad("quiet_hours"));
    }
    if !(1..=336).contains(&request.horizon_hours) {
        return Err(bad("horizon_hours"));
    }
    let offset_ms = i64::from(request.utc_offset_minutes) * 60_000;
    let first = (now_ms.div_euclid(HOUR_MS) + 1) * HOUR_MS;
    let local_hour = |t: i64| ((t + offset_ms).div_euclid(HOUR_MS).rem_euclid(24)) as u8;
    let candidates: Vec<i64> = (0..i64::from(request.horizon_hours))
        .map(|i| first + i * HOUR_MS)
        .filter(|&t| request.quiet_hours.is_none_or(|q| !q.contains(local_hour(t))))
        .collect();
    if candidates.is_empty() {
        return Err(bad("quiet_hours"));
    }
    let answer = |at_ms: i64, confidence: f32, fallback: bool| BestTime {
        at_ms,
        local_hour: local_hour(at_ms),
        weekday: ((at_ms + offset_ms).div_euclid(24 * HOUR_MS) + 3).rem_euclid(7) as u8,
        confidence,
        fallback,
        based_on_events: events,
    };
    let total: f64 = engagement.iter().sum();
    if !personalised || events < MIN_ENGAGEMENT_EVENTS || total <= 0.0 || engagement.len() != HOURS_PER_WEEK {
        let at = candidates.iter().copied().find(|&t| local_hour(t) == FALLBACK_LOCAL_HOUR).unwrap_or(candidates[0]);
        return Ok(answer(at, 0.0, true));
    }
    // A daily habit and a weekly one both count: the hour of day (summed over the
    // week) plus the specific hour of the week, each smoothed over ±1 hour.
    let by_day: Vec<f64> = (0..24).map(|h| (0..7).map(|d| engagement[d * 24 + h]).sum()).collect();
    let smooth = |bins: &[f64], b: usize| {
        let n = bins.len();
        bins[b] + 0.5 * (bins[(b + n - 1) % n] + bins[(b + 1) % n])
    };
    let score = |t: i64| {
        let b = hour_of_week(t);
        smooth(&by_day, b % 24) + smooth(engagement, b)
    };
    let best = candidates.iter().copied().fold(candidates[0], |best, t| if score(t) > score(best) { t } else { best });
    let h = hour_of_week(best) % 24;
    let mass = by_day[h] + by_day[(h + 1) % 24] + by_day[(h + 23) % 24];
    let data = events as f64 / (events as f64 + 10.0);
    Ok(answer(best, ((mass / total) * data).clamp(0.0, 1.0) as f32, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY_2026_03_02: i64 = 1_772_409_600_000;

    fn bins_at(utc_hour_of_week: usize, weight: f64) -> Vec<f64> {
        let mut e = vec![0.0; HOURS_PER_WEEK];
        e[utc_hour_of_week] = weight;
        e
    }

    #[test]
    fn hour_of_week_starts_on_monday() {
        assert_eq!(hour_of_week(MONDAY_2026_03_02), 0);
        assert_eq!(hour_of_week(MONDAY_2026_03_02 + 25 * HOUR_MS), 25);
    }

    #[test]
    fn suggests_the_habitual_hour_outside_quiet_hours() {
        // Engagement on Tuesdays at 20:00 UTC; asked on Monday 09:00 UTC from UTC+3.
        let engagement = bins_at(24 + 20, 10.0);
        let req = BestTimeRequest { utc_offset_minutes: 180, quiet_hours: None, ..Default::default() };
        let t = best_time(&engagement, 20, true, &req, MONDAY_2026_03_02 + 9 * HOUR_MS).unwrap();
        assert_eq!(t.at_ms, MONDAY_2026_03_02 + (24 + 20) * HOUR_MS);
        assert_eq!((t.local_hour, t.weekday), (23, 1));
        assert!(t.confidence > 0.6 && !t.fallback);
        // 23:00 local is quiet by default: the answer moves to a permitted hour.
        let quiet = BestTimeRequest { utc_offset_minutes: 180, ..Default::default() };
        let t = best_time(&engagement, 20, true, &quiet, MONDAY_2026_03_02 + 9 * HOUR_MS).unwrap();
        assert!(!(t.local_hour >= 22 || t.local_hour < 8), "{t:?}");
    }

    #[test]
    fn too_little_data_or_no_consent_falls_back() {
        let engagement = bins_at(20, 3.0);
        for (events, personalised) in [(2, true), (50, false)] {
            let t = best_time(&engagement, events, personalised, &BestTimeRequest::default(), MONDAY_2026_03_02).unwrap();
            assert!(t.fallback);
            assert_eq!((t.local_hour, t.confidence), (FALLBACK_LOCAL_HOUR, 0.0));
        }
    }

    #[test]
    fn refuses_impossible_requests() {
        let all_quiet = BestTimeRequest { quiet_hours: Some(QuietHours { start_hour: 0, end_hour: 0 }), horizon_hours: 1, ..Default::default() };
        let e = bins_at(0, 1.0);
        assert!(best_time(&e, 9, true, &all_quiet, MONDAY_2026_03_02 + 23 * HOUR_MS).is_ok(), "0..0 is an empty quiet period");
        let bad = BestTimeRequest { utc_offset_minutes: 15 * 60, ..Default::default() };
        assert!(best_time(&e, 9, true, &bad, MONDAY_2026_03_02).is_err());
        let night = BestTimeRequest { quiet_hours: Some(QuietHours { start_hour: 0, end_hour: 23 }), horizon_hours: 2, ..Default::default() };
        assert!(best_time(&e, 9, true, &night, MONDAY_2026_03_02).is_err(), "no permitted hour in the horizon");
    }
}
