//! Event validation: any event (ids of any length and content, NaN and huge
//! values, timestamps at either end of i64) is accepted or refused with a typed
//! reason, never a panic.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use mizan::{Event, EventKind};

#[derive(Arbitrary, Debug)]
struct Input {
    now_ms: i64,
    max_skew_ms: i64,
    events: Vec<(u8, String, i64, Option<f64>, Option<f64>, Option<String>)>,
}

fuzz_target!(|input: Input| {
    let events: Vec<Event> = input
        .events
        .into_iter()
        .map(|(kind, item, ts, dwell, rating, query)| Event {
            dwell_secs: dwell,
            rating,
            query,
            ..Event::new(EventKind::ALL[kind as usize % EventKind::ALL.len()], item, ts)
        })
        .collect();
    let _ = mizan::events::validate_batch(&events, input.now_ms, input.max_skew_ms);
});
