//! Throughput of decode + track on a realistic frame mix, printed as frames per second.
//!
//! The mix: of every 20 frames, 17 are MessageId 227 (a softphone call's SDP update, about
//! 600 bytes),
//! 2 carry other MessageIds, and 1 is a MyExtensionInfo (201) step of a call lifecycle
//! (insert ringing, answer, delete), with up to 8 calls in flight.

use std::time::Instant;

use cti_core::testkit::{delete, endpoint_update, frame18, leg, other_frame, update};
use cti_core::CallTracker;

fn mix(n: usize) -> Vec<Vec<u8>> {
    let sdp = endpoint_update(580);
    let presence = other_frame(150, 40);
    let mut frames = Vec::with_capacity(n);
    let mut call = 0i64;
    for i in 0..n {
        frames.push(match i % 20 {
            0 => {
                // One lifecycle step; three steps per call, 8 calls interleaved.
                let step = (i / 20) % 3;
                let c = call + ((i / 60) as i64 % 8);
                let leg_id = 1000 + c;
                if step == 2 {
                    call += 1;
                }
                match step {
                    0 => frame18(vec![leg(2, leg_id, c, 1, true, "+49891234567")]),
                    1 => frame18(vec![update(leg_id, 3)]),
                    _ => frame18(vec![delete(leg_id)]),
                }
            }
            1 | 2 => presence.clone(),
            _ => sdp.clone(),
        });
    }
    frames
}

fn main() {
    let n = 1_000_000;
    let frames = mix(n);
    let bytes: usize = frames.iter().map(Vec::len).sum();
    let mut best = f64::MAX;
    let mut events = 0;
    for _ in 0..5 {
        let mut tracker = CallTracker::new("101", "bench", 4 * 3600 * 1000);
        events = 0;
        let start = Instant::now();
        for (i, f) in frames.iter().enumerate() {
            if let Ok(out) = tracker.handle_frame(f, 1_700_000_000_000 + i as u64) {
                events += out.events.len();
            }
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!("decode+track: {n} frames ({:.1} MB, 85% MessageId 227, 10% other, 5% MessageId 201)", bytes as f64 / 1e6);
    println!("decode+track: best of 5 runs {:.3} s = {:.0} frames/s, {events} CALL_EVENTs", best, n as f64 / best);
}
