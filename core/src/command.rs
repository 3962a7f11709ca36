//! Turning connector COMMANDs into WebClient command frames, and knowing when the PBX
//! carried one out.
//!
//! A command frame can be ignored by the PBX without any error, so a command is only
//! "done" when the call state shows it: a new outbound call to the dialled number, or the
//! dropped call ended. `PendingCommand` watches the tracker's events for exactly that.

use serde::{Deserialize, Serialize};

use crate::connector::{CallEvent, CallState, Direction};
use crate::frame;
use crate::tracker::{CallTracker, DropError};

/// Longest dial string accepted (after separators are stripped). E.164 numbers have at
/// most 15 digits; room is left for outside-line prefixes and `*`/`#` service codes.
pub const MAX_DIAL_LEN: usize = 32;

/// Characters people and CRMs put into numbers for readability; removed before dialling.
const SEPARATORS: &[char] = &[' ', '\u{a0}', '-', '/', '(', ')', '.', '\t'];

/// A dial string that passed validation: digits, `*`, `#`, and at most one leading `+`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DialString(String);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialError {
    Empty,
    TooLong(usize),
    /// A character that has no business in a phone number (letters, quotes, `;`, …).
    BadCharacter(char),
    MisplacedPlus,
}

impl std::fmt::Display for DialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DialError::Empty => write!(f, "empty number"),
            DialError::TooLong(n) => write!(f, "number of {n} characters is longer than {MAX_DIAL_LEN}"),
            DialError::BadCharacter(c) => write!(f, "number contains {c:?}"),
            DialError::MisplacedPlus => write!(f, "'+' is allowed only at the start"),
        }
    }
}

impl std::error::Error for DialError {}

impl DialString {
    pub fn parse(raw: &str) -> Result<Self, DialError> {
        let mut out = String::new();
        for c in raw.chars() {
            if SEPARATORS.contains(&c) {
                continue;
            }
            match c {
                '0'..='9' | '*' | '#' => out.push(c),
                '+' if out.is_empty() => out.push(c),
                '+' => return Err(DialError::MisplacedPlus),
                other => return Err(DialError::BadCharacter(other)),
            }
            if out.chars().count() > MAX_DIAL_LEN {
                return Err(DialError::TooLong(raw.chars().filter(|c| !SEPARATORS.contains(c)).count()));
            }
        }
        if out.is_empty() || out == "+" {
            return Err(DialError::Empty);
        }
        Ok(DialString(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The RequestMakeCall frame for this number.
    pub fn make_call_frame(&self) -> Vec<u8> {
        frame::encode_make_call(&self.0)
    }
}

/// The RequestDropCall frame for a call, with the call id it resolved to.
pub fn drop_call_frame(tracker: &CallTracker, call_id: Option<&str>) -> Result<(String, Vec<u8>), DropError> {
    let (call, leg) = tracker.leg_to_drop(call_id)?;
    Ok((call, frame::encode_drop_call(leg)))
}

/// Digits only, for comparing what we dialled with what the PBX reports.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Whether two numbers name the same line: equal digits, or, once the shorter one loses
/// its trunk prefix zeros, one ends with the other with at least 6 digits in common
/// ("+49 89 1234567" and "089 1234567"), like the connector's own suffix matching.
pub fn same_number(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (&a, &b) } else { (&b, &a) };
    let short = short.trim_start_matches('0');
    short.len() >= 6 && long.ends_with(short)
}

/// A command handed to the page, waiting for the PBX (or, for the tel: dialog, the page)
/// to show it took effect.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingCommand {
    Dial {
        number: DialString,
        deadline_ms: u64,
    },
    Drop {
        call_id: String,
        deadline_ms: u64,
    },
    /// The tel: dialog: done once the page says it opened it (or the call shows up);
    /// the page saying no, or not answering by the deadline, means nothing was dialled.
    Tel {
        number: DialString,
        deadline_ms: u64,
    },
}

impl PendingCommand {
    pub fn deadline_ms(&self) -> u64 {
        match self {
            PendingCommand::Dial { deadline_ms, .. }
            | PendingCommand::Drop { deadline_ms, .. }
            | PendingCommand::Tel { deadline_ms, .. } => *deadline_ms,
        }
    }

    /// Whether this event shows the command carried out.
    pub fn confirmed_by(&self, ev: &CallEvent) -> bool {
        match self {
            PendingCommand::Dial { number, .. } | PendingCommand::Tel { number, .. } => {
                ev.call.direction == Direction::Outbound
                    && matches!(ev.call.state, CallState::Dialing | CallState::Ringing | CallState::Connected)
                    && same_number(number.as_str(), &ev.call.remote_number)
            }
            PendingCommand::Drop { call_id, .. } => ev.call.state == CallState::Ended && ev.call.id == *call_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_strings_are_cleaned_and_checked() {
        assert_eq!(DialString::parse("+49 (89) 123-45/67").unwrap().as_str(), "+49891234567");
        assert_eq!(DialString::parse("*21#").unwrap().as_str(), "*21#");
        assert_eq!(DialString::parse(" ").unwrap_err(), DialError::Empty);
        assert_eq!(DialString::parse("+").unwrap_err(), DialError::Empty);
        assert_eq!(DialString::parse("12a3").unwrap_err(), DialError::BadCharacter('a'));
        assert_eq!(DialString::parse("1+2").unwrap_err(), DialError::MisplacedPlus);
        assert_eq!(DialString::parse("1;2").unwrap_err(), DialError::BadCharacter(';'));
        assert!(matches!(DialString::parse(&"1".repeat(33)), Err(DialError::TooLong(33))));
        assert!(DialString::parse(&"1".repeat(32)).is_ok());
    }

    #[test]
    fn numbers_match_across_formats() {
        assert!(same_number("+49 89 1234567", "0891234567"));
        assert!(same_number("101", "101"));
        assert!(!same_number("101", "1101"));
        assert!(!same_number("", ""));
        assert!(!same_number("+4989111111", "+4989222222"));
    }
}
