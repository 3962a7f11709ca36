//! What the connector link sends, and when: the outbox and the port search order.
//!
//! The connector forgets every call when its socket closes, and drops an `ended` for a
//! call it never saw. So the outbox keeps, in order, every event of each call that is
//! still live, plus every event not yet delivered. On a new session (after HELLO_ACK) it
//! sends that whole log again: calls in progress are re-announced with their history
//! (`offered` then `connected`, with their original times), and a call that ended while
//! the connector was away arrives complete, so DATEV can still journal it. Once a call's
//! `ended` has been handed to a live session, its entries leave the log.
//!
//! Handed is not yet sent: a socket the connector has begun to close is CLOSING before the
//! shell hears of it, and what is put on it then goes nowhere. The shell says so at once
//! ([`Outbox::unsent`]), in the same turn, so the calls that ended in that session are
//! kept aside until the session is over and go back into the log if it asks.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::connector::{CallEvent, CallState};

/// Default bound of the log; beyond it the oldest entries are dropped (and counted).
pub const DEFAULT_MAX_QUEUED: usize = 10_000;

/// One event in the log, numbered in the order it was pushed (which is the order it is
/// sent in any one session: a session's log goes first, later pushes come behind it).
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    seq: u64,
    ev: CallEvent,
}

/// A text to send now, and its number, which names it if the send fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub seq: u64,
    pub text: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outbox {
    max_queued: usize,
    log: VecDeque<Entry>,
    in_session: bool,
    dropped: u64,
    next_seq: u64,
    /// The entries of calls whose `ended` was handed to the last session, with the number
    /// of that `ended`, until the next session starts (a failed send may be said after the
    /// session went down in the same turn). At most as many calls as the log holds
    /// entries. Not stored:
    /// the shell's answer comes before any snapshot is taken, and a restored core has a
    /// new link anyway.
    #[serde(skip)]
    handed: VecDeque<(u64, Vec<Entry>)>,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new(DEFAULT_MAX_QUEUED)
    }
}

impl Outbox {
    pub fn new(max_queued: usize) -> Self {
        Outbox {
            max_queued: max_queued.max(1),
            log: VecDeque::new(),
            in_session: false,
            dropped: 0,
            next_seq: 0,
            handed: VecDeque::new(),
        }
    }

    /// Entries held (live calls' history and undelivered events).
    pub fn len(&self) -> usize {
        self.log.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
    }

    /// Ended calls kept aside since the last session started (at most as many as the log
    /// holds entries, so a whole resent log fits).
    pub fn handed(&self) -> usize {
        self.handed.len()
    }

    /// Entries dropped because the log was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// A new event from the tracker. Returns what to send now (nothing while no session is
    /// up: the event waits in the log).
    pub fn push(&mut self, ev: CallEvent) -> Vec<Outgoing> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let out = self.in_session.then(|| Outgoing { seq, text: ev.to_json() });
        let ended = (out.is_some() && ev.call.state == CallState::Ended).then(|| ev.call.id.clone());
        self.log.push_back(Entry { seq, ev });
        self.bound();
        if let Some(id) = ended {
            self.hand(seq, &id);
        }
        out.into_iter().collect()
    }

    /// HELLO_ACK received on a fresh socket: the connector knows nothing. Returns the whole
    /// log, in order, to send now.
    pub fn session_started(&mut self) -> Vec<Outgoing> {
        self.in_session = true;
        self.handed.clear();
        let out = self.log.iter().map(|e| Outgoing { seq: e.seq, text: e.ev.to_json() }).collect();
        // Every call that ended is handed at once, in one pass over the log.
        let mut ended: BTreeMap<&str, u64> = BTreeMap::new();
        for e in self.log.iter().filter(|e| e.ev.call.state == CallState::Ended) {
            ended.entry(&e.ev.call.id).or_insert(e.seq);
        }
        let ended: BTreeMap<String, u64> = ended.into_iter().map(|(id, seq)| (id.to_owned(), seq)).collect();
        self.hand_where(|id| ended.get(id).copied());
        out
    }

    /// The socket closed: what follows waits for the next session. What was handed to it
    /// counts as delivered unless the shell says otherwise in this same turn.
    pub fn session_ended(&mut self) {
        self.in_session = false;
    }

    /// The shell could not send `seq` (its socket was no longer open), so nothing after it
    /// left either: the session is over, and every call whose `ended` was among them goes
    /// back into the log, its history with it, in the order it was pushed. Returns how
    /// many calls came back.
    pub fn unsent(&mut self, seq: u64) -> usize {
        self.in_session = false;
        let mut calls = 0;
        // Kept in the order their `ended` was handed, so the unsent ones are at the back.
        while self.handed.back().is_some_and(|(ended, _)| *ended >= seq) {
            let Some((_, entries)) = self.handed.pop_back() else { break };
            calls += 1;
            for entry in entries {
                let at = self.log.partition_point(|e| e.seq < entry.seq);
                self.log.insert(at, entry);
            }
        }
        self.bound();
        calls
    }

    /// A call's `ended` went to the session: its entries leave the log, kept aside.
    fn hand(&mut self, ended: u64, id: &str) {
        self.hand_where(|other| (other == id).then_some(ended));
    }

    /// Moves the entries of the calls whose `ended` went to the session (`ended_at` gives
    /// its number, for those calls) out of the log, kept aside per call in that order.
    fn hand_where(&mut self, ended_at: impl Fn(&str) -> Option<u64>) {
        let mut calls: BTreeMap<u64, Vec<Entry>> = BTreeMap::new();
        let mut kept = VecDeque::with_capacity(self.log.len());
        for e in std::mem::take(&mut self.log) {
            match ended_at(&e.ev.call.id) {
                Some(seq) => calls.entry(seq).or_default().push(e),
                None => kept.push_back(e),
            }
        }
        self.log = kept;
        self.handed.extend(calls);
        // Only the calls of the turn being sent can be said unsent; the oldest go first.
        while self.handed.len() > self.max_queued {
            self.handed.pop_front();
        }
    }

    fn bound(&mut self) {
        while self.log.len() > self.max_queued {
            self.log.pop_front();
            self.dropped += 1;
        }
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

    fn states(out: &[Outgoing]) -> Vec<String> {
        out.iter()
            .map(|o| {
                let v: serde_json::Value = serde_json::from_str(&o.text).unwrap();
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
    fn calls_that_ended_in_a_send_that_failed_go_back_for_the_next_session() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("2", CallState::Offered, 2));
        assert_eq!(states(&o.push(ev("1", CallState::Ended, 3))), ["1 ended"]);
        o.push(ev("3", CallState::Offered, 4));
        let two_ended = o.push(ev("2", CallState::Ended, 5));
        assert_eq!(o.len(), 1, "only call 3 is live");
        // The socket was CLOSING when call 2's end was put on it (call 1's end had left):
        assert_eq!(o.unsent(two_ended[0].seq), 1);
        assert!(o.push(ev("3", CallState::Connected, 6)).is_empty(), "the session is over");
        assert_eq!(states(&o.session_started()), ["2 offered", "3 offered", "2 ended", "3 connected"]);
    }

    #[test]
    fn calls_handed_to_a_session_that_closed_count_as_delivered_unless_said_in_the_same_turn() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Ended, 2));
        o.push(ev("2", CallState::Offered, 3));
        let ended = o.push(ev("2", CallState::Ended, 4));
        // The session went down earlier in the turn that sends call 2's end, which fails.
        o.session_ended();
        assert_eq!(o.unsent(ended[0].seq), 1);
        assert_eq!(states(&o.session_started()), ["2 offered", "2 ended"]);
        // This session closes, and nothing is said: its calls were delivered.
        o.session_ended();
        assert!(o.session_started().is_empty());
        assert_eq!(o.handed(), 0);
    }

    #[test]
    fn a_resend_larger_than_any_bound_keeps_every_call_that_did_not_leave() {
        let mut o = Outbox::new(300);
        for i in 0..100 {
            o.push(ev(&i.to_string(), CallState::Offered, i));
            o.push(ev(&i.to_string(), CallState::Ended, i));
        }
        let sent = o.session_started();
        assert_eq!(sent.len(), 200);
        assert_eq!(o.unsent(sent[0].seq), 100, "the socket closed under the first text");
        assert_eq!(o.session_started().len(), 200);
    }

    #[test]
    fn a_failed_send_of_the_resent_log_keeps_the_ended_calls_of_it() {
        let mut o = Outbox::default();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Ended, 2));
        o.push(ev("2", CallState::Offered, 3));
        let sent = o.session_started();
        assert_eq!(states(&sent), ["1 offered", "1 ended", "2 offered"]);
        // The socket closed under the very first text.
        assert_eq!(o.unsent(sent[0].seq), 1);
        assert_eq!(states(&o.session_started()), ["1 offered", "1 ended", "2 offered"]);
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
