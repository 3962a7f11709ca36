//! What the connector link sends, and when: the outbox and the port search order.
//!
//! The connector has two layers (`spec/connector-v1.md`, "What the connector does with
//! events"): its socket layer forgets every call when the socket closes; its DATEV layer
//! keeps its calls until they end (or 4 h) for as long as the connector runs. A call id
//! announced again on a new socket of the same run is a second call in DATEV, whose first
//! call then never ends (and DATEV refuses journal entries while a call is listed). So
//! what a new session gets depends on which run of the connector knows the call:
//! - a call this run already has (announced to an earlier session of it; the socket
//!   closed from our side, as when the offscreen document restarted) is **left alone**:
//!   nothing sent about it can reach DATEV's call, and anything sent would make a second
//!   one. It stays listed in DATEV until the connector restarts or 4 h pass;
//! - a call no run has, or only a run that is gone (the connector closed the socket,
//!   which it does when it stops), is **caught up** in as few events as say what it is:
//!   `connected` for a call already answered (no caller popup for a call in progress),
//!   `offered` or `dialing` for one still ringing or never answered, then `ended` if it
//!   ended (a call that ended while the connector was away still reaches DATEV, recorded
//!   at the reconnect: the connector ignores `ts`).
//!
//! Once a call's `ended` has been handed to a live session, its entries leave the log.
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
    /// The connector's run, as far as we can tell: it counts the sessions the connector
    /// ended (it closes a socket when it stops), not those we ended.
    run: u64,
    /// The run that was told of each call in the log (and of the calls kept aside), and
    /// the number of the first event it was handed about it: if that one is said unsent,
    /// the run was never told (bounded by the log and the calls kept aside).
    told: BTreeMap<String, (u64, u64)>,
    /// Calls the connector's run has from an earlier session: nothing more is sent about
    /// them (at most `max_queued`; a call leaves when it ends).
    left_alone: VecDeque<String>,
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
            run: 0,
            told: BTreeMap::new(),
            left_alone: VecDeque::new(),
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
    /// up: the event waits in the log; nothing about a call left alone, whose events are
    /// kept for a later run of the connector until it ends).
    pub fn push(&mut self, ev: CallEvent) -> Vec<Outgoing> {
        if let Some(i) = self.left_alone.iter().position(|id| *id == ev.call.id) {
            if ev.call.state == CallState::Ended {
                // Over: the run that has it keeps it listed; no later run needs it.
                let id = self.left_alone.remove(i).unwrap_or_default();
                self.log.retain(|e| e.ev.call.id != id);
                self.told.remove(&id);
            } else {
                self.log.push_back(Entry { seq: self.next_seq, ev });
                self.next_seq += 1;
                self.bound();
            }
            return Vec::new();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let out = self.in_session.then(|| Outgoing { seq, text: ev.to_json() });
        if out.is_some() {
            let run = self.run;
            let told = self.told.entry(ev.call.id.clone()).or_insert((run, seq));
            if told.0 != run {
                *told = (run, seq);
            }
        }
        let ended = (out.is_some() && ev.call.state == CallState::Ended).then(|| ev.call.id.clone());
        self.log.push_back(Entry { seq, ev });
        self.bound();
        if let Some(id) = ended {
            self.hand(seq, &id);
        }
        out.into_iter().collect()
    }

    /// HELLO_ACK received on a fresh socket: its socket layer knows nothing. Returns what to
    /// send now, in order (see the module: calls this run has are left alone, the others
    /// caught up), and how many calls were left alone.
    pub fn session_started(&mut self) -> (Vec<Outgoing>, usize) {
        self.in_session = true;
        self.handed.clear();
        let run = self.run;
        let mut ids: Vec<String> = Vec::new();
        for e in &self.log {
            if !ids.contains(&e.ev.call.id) {
                ids.push(e.ev.call.id.clone());
            }
        }
        // Calls this run was told of in an earlier session: left alone from now on (one
        // that ended is over for good).
        let mut newly_left = 0;
        let known: Vec<String> = ids.iter().filter(|id| self.told_run(id) == Some(run)).cloned().collect();
        for id in &known {
            if !self.left_alone.contains(id) {
                newly_left += 1;
            }
            let ended = self.log.iter().any(|e| e.ev.call.id == *id && e.ev.call.state == CallState::Ended);
            if ended {
                self.log.retain(|e| e.ev.call.id != *id);
                self.told.remove(id);
            } else if !self.left_alone.contains(id) {
                if self.left_alone.len() >= self.max_queued {
                    self.left_alone.pop_front();
                }
                self.left_alone.push_back(id.clone());
            }
        }
        // The others, in the order of the log, each in as few events as say what it is.
        let others: Vec<&String> =
            ids.iter().filter(|id| self.told_run(id) != Some(run) && !self.left_alone.contains(id)).collect();
        let mut keep: Vec<u64> = Vec::new();
        for id in &others {
            let seqs = catch_up(self.log.iter().filter(|e| e.ev.call.id == **id));
            if let Some(first) = seqs.first() {
                self.told.insert((*id).clone(), (run, *first));
            }
            keep.extend(seqs);
        }
        let out =
            self.log.iter().filter(|e| keep.contains(&e.seq)).map(|e| Outgoing { seq: e.seq, text: e.ev.to_json() });
        let out: Vec<Outgoing> = out.collect();
        // Every call that ended is handed at once, in one pass over the log.
        let mut ended: BTreeMap<String, u64> = BTreeMap::new();
        for e in self.log.iter().filter(|e| e.ev.call.state == CallState::Ended) {
            ended.entry(e.ev.call.id.clone()).or_insert(e.seq);
        }
        self.hand_where(|id| ended.get(id).copied());
        let in_log: std::collections::BTreeSet<&str> = self.log.iter().map(|e| e.ev.call.id.as_str()).collect();
        let handed: std::collections::BTreeSet<&str> =
            self.handed.iter().flat_map(|(_, es)| es.iter().map(|e| e.ev.call.id.as_str())).collect();
        self.told.retain(|id, _| in_log.contains(id.as_str()) || handed.contains(id.as_str()));
        (out, newly_left)
    }

    /// The socket closed: what follows waits for the next session. What was handed to it
    /// counts as delivered unless the shell says otherwise in this same turn. `by_connector`:
    /// the connector closed it, which it does when it stops: the next session is taken to
    /// be with a new run of it, which knows none of the calls.
    pub fn session_ended(&mut self, by_connector: bool) {
        self.in_session = false;
        if by_connector {
            self.run += 1;
            self.left_alone.clear();
        }
    }

    /// Calls in progress left alone because the connector's run has them from an earlier
    /// session.
    pub fn left_alone(&self) -> usize {
        self.left_alone.len()
    }

    /// The shell could not send `seq` (its socket was no longer open), so nothing after it
    /// left either: the session is over, and every call whose `ended` was among them goes
    /// back into the log, its history with it, in the order it was pushed. Returns how
    /// many calls came back.
    pub fn unsent(&mut self, seq: u64) -> usize {
        // A call whose first event to this run was among them: this run was never told.
        let run = self.run;
        self.told.retain(|_, (r, first)| *r != run || *first < seq);
        if self.in_session {
            // The connector had begun to close the socket: a connector that stops does.
            self.session_ended(true);
        }
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
        // Only the calls of the turn being sent can be said unsent; the oldest go first,
        // and what the run was told of them with them.
        while self.handed.len() > self.max_queued {
            if let Some((_, entries)) = self.handed.pop_front() {
                if let Some(e) = entries.first() {
                    if !self.log.iter().any(|l| l.ev.call.id == e.ev.call.id) {
                        self.told.remove(&e.ev.call.id);
                    }
                }
            }
        }
    }

    /// The run that was told of a call, if any.
    fn told_run(&self, id: &str) -> Option<u64> {
        self.told.get(id).map(|(run, _)| *run)
    }

    /// Calls whose telling is remembered (at most the log's and the kept-aside calls).
    pub fn told(&self) -> usize {
        self.told.len()
    }

    fn bound(&mut self) {
        // What the run was told of a call dropped here is forgotten at the next session
        // (`session_started` keeps it only for calls still in the log or kept aside); a scan
        // per dropped entry would make a long outage's flood quadratic.
        while self.log.len() > self.max_queued {
            self.log.pop_front();
            self.dropped += 1;
        }
    }
}

/// The entries of one call (in order) that a connector run that knows nothing of it
/// gets, by their numbers: the first `connected` if the call was ever up (a new call in
/// DATEV, answered, without a caller popup), else its first `offered`, `dialing` or
/// `ringing`; then its `ended`, if it ended.
fn catch_up<'a>(entries: impl Iterator<Item = &'a Entry> + Clone) -> Vec<u64> {
    let first = |pick: fn(CallState) -> bool| entries.clone().find(|e| pick(e.ev.call.state)).map(|e| e.seq);
    let start = first(|s| s == CallState::Connected)
        .or_else(|| first(|s| matches!(s, CallState::Offered | CallState::Dialing | CallState::Ringing)));
    [start, first(|s| s == CallState::Ended)].into_iter().flatten().collect()
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

/// How far from our own extension the search looks for a connector set up for another
/// one (a typo in its wizard, a desk swapped): its port is 19800 + that extension.
pub const NEIGHBOURHOOD: u32 = 50;

/// The probe plan: first the preferred port (and that of an accepted extension), then the
/// last port that worked, then the rest of the range and the ports of the extensions near
/// ours (probed in parallel by the shell). A configured port replaces it all.
pub fn probe_plan(extension: &str, accepted: &str, configured: u16, last_good: u16) -> (Vec<u16>, Vec<u16>) {
    if configured != 0 {
        return (vec![configured], Vec::new());
    }
    let mut first = Vec::new();
    for p in [preferred_port(extension), preferred_port(accepted), (last_good != 0).then_some(last_good)]
        .into_iter()
        .flatten()
    {
        if !first.contains(&p) {
            first.push(p);
        }
    }
    let near = extension.parse::<u32>().ok().map(|e| e.saturating_sub(NEIGHBOURHOOD)..=e + NEIGHBOURHOOD);
    let near = near.into_iter().flatten().filter_map(|e| preferred_port(&e.to_string()));
    let mut rest: Vec<u16> = PORT_RANGE.chain(near).filter(|p| !first.contains(p)).collect();
    rest.sort_unstable();
    rest.dedup();
    (first, rest)
}

/// The ports probed between searches: those of the plan's first part, and the first of the
/// range (a connector whose own extension is empty takes the first free port).
pub fn quick_ports(extension: &str, accepted: &str, configured: u16, last_good: u16) -> Vec<u16> {
    let (mut ports, _) = probe_plan(extension, accepted, configured, last_good);
    if configured == 0 && !ports.contains(PORT_RANGE.start()) {
        ports.push(*PORT_RANGE.start());
    }
    ports
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

    fn started(o: &mut Outbox) -> Vec<String> {
        let (out, _) = o.session_started();
        states(&out)
    }

    fn out_dir(id: &str, state: CallState, ts: u64) -> CallEvent {
        let mut e = ev(id, state, ts);
        e.call.direction = Direction::Outbound;
        e
    }

    #[test]
    fn events_wait_for_a_session_and_a_call_the_connector_never_had_is_caught_up() {
        let mut o = Outbox::default();
        assert!(o.push(ev("1", CallState::Offered, 1)).is_empty());
        assert!(o.push(out_dir("2", CallState::Dialing, 2)).is_empty());
        assert!(o.push(ev("1", CallState::Connected, 3)).is_empty());
        // Call 1 is answered already: `connected` alone (no caller popup for it).
        assert_eq!(started(&mut o), ["2 dialing", "1 connected"]);
        assert_eq!(states(&o.push(ev("1", CallState::Ended, 4))), ["1 ended"]);
        assert_eq!(o.len(), 1, "only call 2 is live");
    }

    #[test]
    fn a_call_is_caught_up_in_the_fewest_events_that_say_what_it_was() {
        let mut o = Outbox::default();
        // While the connector is away: answered, missed, outbound unanswered and answered,
        // and one still ringing.
        for (id, states_of, out) in [
            ("a", &[CallState::Offered, CallState::Connected, CallState::Ended][..], false),
            ("b", &[CallState::Offered, CallState::Ended][..], false),
            ("c", &[CallState::Dialing, CallState::Ringing, CallState::Ended][..], true),
            ("d", &[CallState::Dialing, CallState::Ringing, CallState::Connected, CallState::Ended][..], true),
            ("e", &[CallState::Offered][..], false),
        ] {
            for (i, s) in states_of.iter().enumerate() {
                o.push(if out { out_dir(id, *s, i as u64) } else { ev(id, *s, i as u64) });
            }
        }
        assert_eq!(
            started(&mut o),
            [
                "a connected",
                "a ended",
                "b offered",
                "b ended",
                "c dialing",
                "c ended",
                "d connected",
                "d ended",
                "e offered"
            ]
        );
    }

    #[test]
    fn after_we_closed_the_socket_the_connectors_calls_are_left_alone() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Connected, 2));
        o.push(ev("2", CallState::Offered, 3));
        // The offscreen document restarted: our socket closed, the connector runs on.
        o.session_ended(false);
        o.push(ev("2", CallState::Connected, 4));
        o.push(ev("2", CallState::Ended, 5));
        o.push(ev("3", CallState::Offered, 6));
        let (out, left) = o.session_started();
        assert_eq!(states(&out), ["3 offered"], "a call it never had is caught up");
        assert_eq!(left, 2, "calls 1 and 2: DATEV lists them still");
        assert_eq!(o.left_alone(), 1, "call 1 is in progress");
        // Nothing more is sent about call 1: it would be a second call in DATEV.
        assert!(o.push(ev("1", CallState::Ended, 7)).is_empty());
        assert_eq!(o.left_alone(), 0, "it ended");
        assert_eq!(states(&o.push(ev("3", CallState::Ended, 8))), ["3 ended"]);
    }

    #[test]
    fn after_the_connector_closed_the_socket_a_new_run_gets_the_calls_caught_up() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Connected, 2));
        o.session_ended(true); // the connector stopped
        assert_eq!(started(&mut o), ["1 connected"], "the new run has nothing of call 1");
        o.session_ended(false);
        assert!(started(&mut o).is_empty(), "this run had it");
        assert_eq!(o.left_alone(), 1);
        // Another session of the same run: the call was left alone already, not newly.
        o.session_ended(false);
        assert_eq!(o.session_started().1, 0);
        assert_eq!(o.left_alone(), 1);
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
        // the connector was closing it, as it does when it stops.
        assert_eq!(o.unsent(two_ended[0].seq), 1);
        assert!(o.push(ev("3", CallState::Connected, 6)).is_empty(), "the session is over");
        assert_eq!(started(&mut o), ["2 offered", "2 ended", "3 connected"]);
    }

    #[test]
    fn calls_handed_to_a_session_that_closed_count_as_delivered_unless_said_in_the_same_turn() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Ended, 2));
        o.push(ev("2", CallState::Offered, 3));
        let ended = o.push(ev("2", CallState::Ended, 4));
        // The session went down (the connector closed it) earlier in the turn that sends
        // call 2's end, which fails.
        o.session_ended(true);
        assert_eq!(o.unsent(ended[0].seq), 1);
        assert_eq!(started(&mut o), ["2 offered", "2 ended"]);
        // This session closes, and nothing is said: its calls were delivered.
        o.session_ended(true);
        assert!(started(&mut o).is_empty());
        assert_eq!(o.handed(), 0);
    }

    #[test]
    fn a_resend_larger_than_any_bound_keeps_every_call_that_did_not_leave() {
        let mut o = Outbox::new(300);
        for i in 0..100 {
            o.push(ev(&i.to_string(), CallState::Offered, i));
            o.push(ev(&i.to_string(), CallState::Ended, i));
        }
        let (sent, _) = o.session_started();
        assert_eq!(sent.len(), 200);
        assert_eq!(o.unsent(sent[0].seq), 100, "the socket closed under the first text");
        assert_eq!(o.session_started().0.len(), 200);
    }

    #[test]
    fn a_failed_send_of_the_resent_log_keeps_the_ended_calls_of_it() {
        let mut o = Outbox::default();
        o.push(ev("1", CallState::Offered, 1));
        o.push(ev("1", CallState::Ended, 2));
        o.push(ev("2", CallState::Offered, 3));
        let (sent, _) = o.session_started();
        assert_eq!(states(&sent), ["1 offered", "1 ended", "2 offered"]);
        // The socket closed under the very first text.
        assert_eq!(o.unsent(sent[0].seq), 1);
        assert_eq!(started(&mut o), ["1 offered", "1 ended", "2 offered"]);
    }

    #[test]
    fn a_call_whose_first_event_never_left_is_caught_up_not_left_alone() {
        let mut o = Outbox::default();
        o.session_started();
        o.push(ev("1", CallState::Offered, 1));
        // In one turn: call 2 begins, and we close the socket (a new extension, say)
        // before its text could leave; the shell says so.
        let first = o.push(ev("2", CallState::Offered, 2));
        o.session_ended(false);
        o.unsent(first[0].seq);
        let (out, left) = o.session_started();
        assert_eq!(states(&out), ["2 offered"], "the run never heard of call 2");
        assert_eq!(left, 1, "call 1 it has");
    }

    #[test]
    fn a_long_session_remembers_only_the_calls_it_may_still_need() {
        let mut o = Outbox::new(50);
        o.session_started();
        for i in 0..1000 {
            o.push(ev(&i.to_string(), CallState::Offered, i));
            o.push(ev(&i.to_string(), CallState::Ended, i));
        }
        assert!(o.told() <= 50 && o.handed() <= 50, "{} {}", o.told(), o.handed());
    }

    #[test]
    fn the_log_is_bounded_and_counts_what_it_drops() {
        let mut o = Outbox::new(3);
        for i in 0..5 {
            o.push(ev(&i.to_string(), CallState::Offered, i));
        }
        assert_eq!(o.dropped(), 2);
        assert_eq!(started(&mut o), ["2 offered", "3 offered", "4 offered"]);
    }

    #[test]
    fn probe_plan_orders_preferred_last_good_then_range() {
        assert_eq!(preferred_port("1005"), Some(20805));
        assert_eq!(preferred_port("99999"), None);
        assert_eq!(preferred_port("abc"), None);
        let (first, rest) = probe_plan("0", "", 0, 19805);
        assert_eq!(first, [19800, 19805]);
        assert_eq!(rest.len(), 98, "the neighbourhood of 0 lies in the range");
        assert_eq!(probe_plan("101", "", 19850, 19805), (vec![19850], vec![]));
        let (first, rest) = probe_plan("", "", 0, 0);
        assert!(first.is_empty());
        assert_eq!(rest.len(), 100);
        // Extension 101 (port 19901): a connector set up for 102 takes 19902, beyond the
        // range; the search looks at the ports of 51–151 too, and an accepted 102 first.
        let (first, rest) = probe_plan("101", "", 0, 0);
        assert_eq!(first, [19901]);
        assert!(rest.contains(&19902) && rest.contains(&19951) && !rest.contains(&19952));
        assert_eq!(rest.len(), 100 + 51);
        assert_eq!(probe_plan("101", "102", 0, 19901).0, [19901, 19902]);
        assert_eq!(quick_ports("101", "102", 0, 19850), [19901, 19902, 19850, 19800]);
        assert_eq!(quick_ports("101", "", 19999, 19850), [19999], "a configured port is the only one");
    }
}
