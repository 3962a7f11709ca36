//! Which DATEV commands are carried out, and when.
//!
//! A connector (or something pretending to be one) must not be able to make the
//! operator's line dial premium numbers or dial in a loop, and a double click in DATEV
//! must not place two calls. Different numbers asked for in quick succession are each
//! dialled, in order, spaced so the WebClient can take them one at a time.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// The same number asked for again within this window is the same dial (a double click).
pub const DUPLICATE_WINDOW_MS: u64 = 2_000;
/// More than `FLOOD_MAX` commands within this window is a flood.
pub const FLOOD_WINDOW_MS: u64 = 10_000;
pub const FLOOD_MAX: usize = 5;
/// Time between two command frames to the WebClient: it handles one request at a time.
pub const COMMAND_SPACING_MS: u64 = 1_000;
/// Longest blocked prefix and most prefixes kept from the settings.
pub const MAX_PREFIX_LEN: usize = 16;
pub const MAX_PREFIXES: usize = 64;

/// Premium-rate (0900) and mass-call (0137) services in Germany, in the three ways they
/// are written. An administrator can replace the list by policy.
pub const DEFAULT_BLOCKED_PREFIXES: [&str; 6] = ["0900", "+49900", "0049900", "0137", "+49137", "0049137"];

/// A command as it waits for its turn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Queued {
    /// `datev`: asked for by the connector (not a click in PestRoutes).
    Dial {
        number: String,
        datev: bool,
    },
    Drop {
        call_id: Option<String>,
    },
}

/// Why a command is not carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The same DIAL within `DUPLICATE_WINDOW_MS`: already being dialled.
    Duplicate,
    Flood,
    Blocked {
        prefix: String,
    },
}

/// Digits with at most a leading `+`: "+49 (900) 1" and "+499001" compare equal.
pub fn normalise(number: &str) -> String {
    let mut out = String::new();
    for c in number.chars() {
        if c.is_ascii_digit() || (c == '+' && out.is_empty()) {
            out.push(c);
        }
    }
    out
}

/// The cleaned prefix list: normalised, non-empty, bounded.
pub fn clean_prefixes(prefixes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = prefixes
        .iter()
        .map(|p| normalise(p))
        .filter(|p| !p.is_empty() && p != "+" && p.len() <= MAX_PREFIX_LEN)
        .collect();
    out.dedup();
    out.truncate(MAX_PREFIXES);
    out
}

/// The first blocked prefix `number` starts with.
pub fn blocked_prefix<'a>(number: &str, prefixes: &'a [String]) -> Option<&'a str> {
    let n = normalise(number);
    prefixes.iter().map(String::as_str).find(|p| n.starts_with(p))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandGate {
    /// When the accepted commands of the flood window arrived.
    accepted_at: VecDeque<u64>,
    last_dial: Option<(String, u64)>,
    /// Earliest time the next command may go to the WebClient.
    next_slot: u64,
    queue: VecDeque<Queued>,
}

impl CommandGate {
    /// A command arrived. On success it is queued; `poll_due` hands it out when its turn
    /// comes (at once when the WebClient is idle).
    pub fn admit(&mut self, cmd: Queued, prefixes: &[String], now: u64) -> Result<(), Refusal> {
        if let Queued::Dial { number, .. } = &cmd {
            if let Some(p) = blocked_prefix(number, prefixes) {
                return Err(Refusal::Blocked { prefix: p.to_owned() });
            }
            let n = normalise(number);
            if let Some((last, at)) = &self.last_dial {
                if *last == n && now.saturating_sub(*at) < DUPLICATE_WINDOW_MS {
                    return Err(Refusal::Duplicate);
                }
            }
        }
        while self.accepted_at.front().is_some_and(|t| now.saturating_sub(*t) >= FLOOD_WINDOW_MS) {
            self.accepted_at.pop_front();
        }
        if self.accepted_at.len() >= FLOOD_MAX {
            return Err(Refusal::Flood);
        }
        self.accepted_at.push_back(now);
        if let Queued::Dial { number, .. } = &cmd {
            self.last_dial = Some((normalise(number), now));
        }
        self.queue.push_back(cmd);
        Ok(())
    }

    /// The next command whose turn has come, if any.
    pub fn poll_due(&mut self, now: u64) -> Option<Queued> {
        if now < self.next_slot {
            return None;
        }
        let cmd = self.queue.pop_front()?;
        self.next_slot = now + COMMAND_SPACING_MS;
        Some(cmd)
    }

    /// When a queued command is next due.
    pub fn poll_timeout(&self) -> Option<u64> {
        (!self.queue.is_empty()).then_some(self.next_slot)
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dial(n: &str) -> Queued {
        Queued::Dial { number: n.into(), datev: true }
    }

    fn defaults() -> Vec<String> {
        clean_prefixes(&DEFAULT_BLOCKED_PREFIXES.map(String::from))
    }

    #[test]
    fn blocked_prefixes_match_after_punctuation_is_removed() {
        let p = defaults();
        assert_eq!(blocked_prefix("0900 123456", &p), Some("0900"));
        assert_eq!(blocked_prefix("+49 (900) 123", &p), Some("+49900"));
        assert_eq!(blocked_prefix("00 49 137-1", &p), Some("0049137"));
        assert_eq!(blocked_prefix("+49891234", &p), None);
        assert_eq!(blocked_prefix("09001", &[]), None);
        let mut g = CommandGate::default();
        assert_eq!(g.admit(dial("0900-1"), &p, 0), Err(Refusal::Blocked { prefix: "0900".into() }));
        assert_eq!(g.queued(), 0);
    }

    #[test]
    fn a_double_click_is_one_dial_and_two_numbers_are_two_spaced_dials() {
        let p = defaults();
        let mut g = CommandGate::default();
        assert_eq!(g.admit(dial("+49 89 1"), &p, 0), Ok(()));
        assert_eq!(g.admit(dial("+49891"), &p, 300), Err(Refusal::Duplicate));
        assert_eq!(g.poll_due(300), Some(dial("+49 89 1")));
        assert_eq!(g.admit(dial("+49892"), &p, 600), Ok(()));
        assert_eq!(g.poll_due(600), None, "spaced");
        assert_eq!(g.poll_timeout(), Some(1300));
        assert_eq!(g.poll_due(1300), Some(dial("+49892")));
        assert_eq!(g.poll_timeout(), None);
        // The same number after the window is a new dial.
        assert_eq!(g.admit(dial("+49891"), &p, 2400), Ok(()));
    }

    #[test]
    fn more_than_five_commands_in_ten_seconds_is_a_flood() {
        let mut g = CommandGate::default();
        for i in 0..5 {
            assert_eq!(g.admit(dial(&format!("+4989{i}")), &[], i * 100), Ok(()));
        }
        assert_eq!(g.admit(Queued::Drop { call_id: None }, &[], 600), Err(Refusal::Flood));
        assert_eq!(g.admit(dial("+49899"), &[], 10_000), Ok(()), "the window moved on");
        // Everything accepted is still carried out, in order.
        let mut t = 0;
        let mut out = Vec::new();
        while let Some(c) = g.poll_due(t) {
            out.push(c);
            t += COMMAND_SPACING_MS;
        }
        assert_eq!(out.len(), 6);
        assert_eq!(out[0], dial("+49890"));
    }
}
