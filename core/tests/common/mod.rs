//! Helpers shared by the integration tests.
#![allow(dead_code)]

use cti_core::{CallEvent, CallTracker};

/// LocalConnectionState values.
pub const RINGING: i64 = 1;
pub const DIALING: i64 = 2;
pub const CONNECTED: i64 = 3;
pub const WAITING: i64 = 4;
pub const TRANSFERRING: i64 = 5;

/// ActionType values.
pub const FULL: i64 = 1;
pub const INSERTED: i64 = 2;
pub const UPDATED: i64 = 3;
pub const DELETED: i64 = 4;

pub fn tracker() -> CallTracker {
    CallTracker::new("101", "tab-1", cti_core::tracker::DEFAULT_STALE_AFTER_MS)
}

/// Feeds frames (ts, bytes) and collects every event.
pub fn run(t: &mut CallTracker, frames: &[(u64, Vec<u8>)]) -> Vec<CallEvent> {
    let mut out = Vec::new();
    for (ts, f) in frames {
        out.extend(t.handle_frame(f, *ts).expect("valid frame").events);
    }
    out
}

/// `id state direction reason` per event, for compact assertions.
pub fn brief(events: &[CallEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let mut s = format!(
                "{} {} {}",
                e.call.id,
                e.call.state.as_str(),
                match e.call.direction {
                    cti_core::Direction::Inbound => "in",
                    cti_core::Direction::Outbound => "out",
                }
            );
            if e.call.state == cti_core::CallState::Ended {
                s.push(' ');
                s.push_str(serde_json::to_value(e.call.reason).unwrap().as_str().unwrap());
            }
            s
        })
        .collect()
}

/// A small deterministic PRNG (xorshift64*), so random tests replay exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
