//! What the connector link sends, and when: the outbox and the port search order.
//!
//! The connector forgets every call when its socket closes, and drops an `ended` for a
//! call it never saw. So the outbox keeps, in order, every event of each call that is
//! still live, plus every event not yet delivered. On a new session (after HELLO_ACK) it
//! sends that whole log again: calls in progress are re-announced with their history
//! (`offered` then `connected`, with their original times), and a call that ended while
//! the connector was away arrives complete, so DATEV can still journal it. Once a call's
//! `ended` has been handed to a live session, its entries leave the log.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::connector::{CallEvent, CallState};

/// Default bound of the log; beyond it the oldest entries are dropped (and counted).
pub const DEFAULT_MAX_QUEUED: usize = 10_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outbox {
    max_queued: usize,
    log: VecDeque<CallEvent>,
    in_session: bool,
    dropped: u64,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new(DEFAULT_MAX_QUEUED)
    }
}

impl Outbox {
    pub fn new(max_queued: usize) -> Self {
        Outbox { max_queued: max_queued.max(1), log: VecDeque::new(), in_session: false, dropped: 0 }
    }

    /// Entries held (live calls' history and undelivered events).
    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Entries dropped because the log was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// A new event from the tracker. Returns the texts to send now (none while no session
    /// is up: the event waits in the log).
    pub fn push(&mut self, ev: CallEvent) -> Vec<String> {
        self.log.push_back(ev.clone());
        while self.log.len() > self.max_queued {
            self.log.pop_front();
            self.dropped += 1;
        }
        if !self.in_session {
            return Vec::new();
        }
        if ev.call.state == CallState::Ended {
            self.forget_call(&ev.call.id);
        }
        vec![ev.to_json()]
    }

    /// HELLO_ACK received on a fresh socket: the connector knows nothing. Returns the whole
    /// log, in order, to send now.
    pub fn session_started(&mut self) -> Vec<String> {
        self.in_session = true;
        let out: Vec<String> = self.log.iter().map(CallEvent::to_json).collect();
        let ended: Vec<String> =
            self.log.iter().filter(|e| e.call.state == CallState::Ended).map(|e| e.call.id.clone()).collect();
        for id in ended {
            self.forget_call(&id);
        }
        out
    }

    /// The socket closed: what follows waits for the next session.
    pub fn session_ended(&mut self) {
        self.in_session = false;
    }

    fn forget_call(&mut self, id: &str) {
        self.log.retain(|e| e.call.id != id);
    }
}

/// The range the connector binds in.
pub const PORT_RANGE: std::ops::RangeInclusive<u16> = 19800..=19899;

/// The port a connector for `extension` prefers: 19800 + extension, when that is a
/// usable port.
pub fn preferred_port(extension: &str) -> Option<u16> {
    let ext: u32 = extension.parse().ok()?;
    let port = 19800u32.checked_add(ext)?;
    (1024..=65535).contains(&port).then_some(port as u16)
}

/// The probe plan: first the preferred port, then the last port that worked, then the
/// rest of the range (probed in parallel by the shell). A configured port replaces it all.
pub fn probe_plan(extension: &str, configured: u16, last_good: u16) -> (Vec<u16>, Vec<u16>) {
    if configured != 0 {
        return (vec![configured], Vec::new());
    }
    let mut first = Vec::new();
    if let Some(p) = preferred_port(extension) {
        first.push(p);
    }
    if last_good != 0 && !first.contains(&last_good) {
        first.push(last_good);
    }
    let rest = PORT_RANGE.filter(|p| !first.contains(p)).collect();
    (first, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::{CallInfo, Direction, EndReason, EventContext};

    fn ev(id: &str, state: CallState, ts: u64) -> CallEvent {
        CallEvent {
            ts,
            call: CallInfo {
                id: id.into(),
                direction: Direction::Inbound,
                remote_number: "1".into(),
                remote_name: String::new(),
                state,
                reason: if state == CallState::Ended { EndReason::Hangup } else { EndReason::None },
            },
            context: EventContext { extension: "101".into(), tab_id: String::new() },
        }
    }

    fn states(texts: &[String]) -> Vec<String> {
        texts
            .iter()
            .map(|t| {
                let v: serde_json::Value = serde_json::from_str(t).unwrap();
                format!("{} {}", v["call"]["id"].as_str().unwrap(), v["call"]["state"].as_str().unwrap())
            })
            .collect()
    }

    #[test]
    fn events_wait_for_a_session_and_go_in_order() {
        let mut o = Outbox::default();
        assert!(o.push(ev("1", CallState::Offered, 1)).is_empty());
        assert!(o.push(ev("2", CallState::Dialing, 2)).is_empty());
        assert!(o.push(ev("1", CallState::Connected, 3)).is_empty());
        assert_eq!(states(&o.session_started()), ["1 offered", "2 dialing", "1 connected"]);
        assert_eq!(states(&o.push(ev("1", CallState::Ended, 4))), ["1 ended"]);
        assert_eq!(o.len(), 1, "only call 2 is live");
    }

    #[test]
    fn a_new_session_hears_the_live_calls_again_and_calls_that_ended_meanwhile() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Connected, 2));
        o.push(ev("2", CallState::Offered, 3));
        o.session_ended();
        o.push(ev("2", CallState::Connected, 4));
        o.push(ev("2", CallState::Ended, 5));
        assert_eq!(states(&o.session_started()), ["1 offered", "1 connected", "2 offered", "2 connected", "2 ended"]);
        assert_eq!(states(&o.session_started()), ["1 offered", "1 connected"]);
    }

    #[test]
    fn the_log_is_bounded_and_counts_what_it_drops() {
        let mut o = Outbox::new(3);
        for i in 0..5 {
            o.push(ev(&i.to_string(), CallState::Offered, i));
        }
        assert_eq!(o.dropped(), 2);
        assert_eq!(states(&o.session_started()), ["2 offered", "3 offered", "4 offered"]);
    }

    #[test]
    fn probe_plan_orders_preferred_last_good_then_range() {
        assert_eq!(preferred_port("1005"), Some(20805));
        assert_eq!(preferred_port("99999"), None);
        assert_eq!(preferred_port("abc"), None);
        let (first, rest) = probe_plan("0", 0, 19805);
        assert_eq!(first, [19800, 19805]);
        assert_eq!(rest.len(), 98);
        assert_eq!(probe_plan("101", 19850, 19805), (vec![19850], vec![]));
        let (first, rest) = probe_plan("", 0, 0);
        assert!(first.is_empty());
        assert_eq!(rest.len(), 100);
    }
}
