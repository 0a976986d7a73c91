//! Responsible personalisation through the public API: best time to engage,
//! exploration, novelty, caps, decaying "not interested", purposes.

use mizan::{BestTimeRequest, Event, EventKind, QuietHours};
use mizan_integration_tests::*;

const HOUR: i64 = 3_600_000;

#[test]
fn best_time_follows_notification_opens_and_respects_quiet_hours() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let now = mizan::engine::now_ms();
    let today = now - now.rem_euclid(24 * HOUR);
    let request = BestTimeRequest { now_ms: Some(now), quiet_hours: None, ..Default::default() };
    assert!(engine.best_time(&request).unwrap().fallback, "no data yet");
    // Opens at 18:00 UTC over the last two weeks, and a few stray sessions.
    let mut events: Vec<Event> = (1..15).map(|d| Event::new(EventKind::NotificationOpen, "", today - d * 24 * HOUR + 18 * HOUR + 60_000)).collect();
    events.extend((1..4).map(|d| Event::new(EventKind::SessionStart, "", today - d * 24 * HOUR + 9 * HOUR)));
    engine.record(&events).unwrap();
    let t = engine.best_time(&request).unwrap();
    assert!(!t.fallback);
    assert_eq!(t.local_hour, 18);
    assert!(t.at_ms > now && t.at_ms - now <= 7 * 24 * HOUR, "an 18:00 within the week");
    assert!(t.confidence > 0.4, "{t:?}");
    let quiet = BestTimeRequest { quiet_hours: Some(QuietHours { start_hour: 17, end_hour: 20 }), ..request.clone() };
    let t = engine.best_time(&quiet).unwrap();
    assert!(!(17..20).contains(&t.local_hour), "{t:?}");
    engine.set_consent(mizan::PERSONALISATION, false, "v1", false).unwrap();
    assert!(engine.best_time(&request).unwrap().fallback, "no consent, no timing profile");
}

#[test]
fn session_starts_carry_no_item_and_notification_opens_may() {
    let dir = tempfile::tempdir().unwrap();
    let engine = ready(dir.path());
    let mut bad = Event::new(EventKind::SessionStart, item_id(0, 1), NOW);
    bad.timestamp_ms = mizan::engine::now_ms();
    assert!(engine.record(&[bad]).is_err());
    let ok = [Event::new(EventKind::NotificationOpen, item_id(0, 1), NOW), Event::new(EventKind::NotificationOpen, "", NOW)];
    assert_eq!(engine.record(&ok).unwrap().stored, 2);
}
