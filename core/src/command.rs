//! DATEV's commands as the WebClient carries them out: the dial string, the requests the
//! WebClient POSTs for them (`RequestMakeCall`, `RequestDropCall`), and what the PBX's
//! answer says (`spec/3cx-webclient.md`, "Requests" and "Answers").
//!
//! A request is answered: success (for a dial, with the new leg), a refusal with the
//! PBX's message, or an HTTP 401/403 when the WebClient's session is over. So a command
//! waits for its answer, never for a blind timer.

use prost::Message;
use serde::{Deserialize, Serialize};

use crate::frame::{field_bytes, leading_message_id};
use crate::privacy::mask_text;
use crate::schema::{
    GenericMessage, RejectAction, RequestDropCall, RequestMakeCall, ResponseAcknowledge, ResponseCallControl,
    MSG_REQUEST_DROP_CALL, MSG_REQUEST_MAKE_CALL, MSG_RESPONSE_ACKNOWLEDGE, MSG_RESPONSE_CALL_CONTROL,
};
use crate::tracker::{CallTracker, DropError};

/// Longest dial string accepted (after separators are stripped). E.164 numbers have at
/// most 15 digits; room is left for outside-line prefixes and `*`/`#` service codes.
pub const MAX_DIAL_LEN: usize = 32;
/// Longest text of a PBX's answer kept for a log line or a notice, in characters.
pub const MAX_ANSWER_TEXT: usize = 120;

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
}

/// `RequestMakeCall` as the WebClient sends it for a desk phone or app: {1 Destination,
/// 3 DeviceID = that device's Contact, 4 EnableCallControl = true}.
pub fn make_call_request(number: &DialString, device_contact: &str) -> Vec<u8> {
    GenericMessage {
        message_id: Some(MSG_REQUEST_MAKE_CALL),
        request_make_call: Some(RequestMakeCall {
            destination: Some(number.as_str().to_owned()),
            use_intercom_to_source: None,
            device_id: Some(device_contact.to_owned()),
            enable_call_control: Some(true),
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// `RequestDropCall` as the WebClient sends it: {1 the leg, 2 IsLocal = true,
/// 3 ActionIfRinging = RA_Busy}.
pub fn drop_call_request(local_connection_id: i32) -> Vec<u8> {
    GenericMessage {
        message_id: Some(MSG_REQUEST_DROP_CALL),
        request_drop_call: Some(RequestDropCall {
            local_connection_id: Some(local_connection_id),
            is_local: Some(true),
            action_if_ringing: Some(RejectAction::Busy as i32),
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// The RequestDropCall for a call, with the call id it resolved to.
pub fn drop_request_for(tracker: &CallTracker, call_id: Option<&str>) -> Result<(String, Vec<u8>), DropError> {
    let (call, leg) = tracker.leg_to_drop(call_id)?;
    Ok((call, drop_call_request(leg)))
}

/// What the answer to a request says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Done; for RequestMakeCall, the new leg when the PBX named it.
    Done { leg: Option<i32> },
    /// `Success` false: the PBX's ErrorCode (9: no permission) and its message, masked.
    Refused { code: Option<i32>, message: String },
    /// HTTP 401/403: the WebClient's session is over; the operator must log in again.
    SessionOver,
    /// No answer to judge: the page could not send it, or the answer cannot be read.
    Failed { why: String },
}

/// A PBX's text for a log line or a notice: masked, one line, short.
fn answer_text(s: &str) -> String {
    let line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    crate::cut(mask_text(line.trim()), MAX_ANSWER_TEXT)
}

/// Reads the page's report of a request: the HTTP status (0 when it could not be sent,
/// with the page's reason in `why`) and the answer's body. An answer is judged by its
/// `Success` field, not its MessageId: a v18 PBX answered RequestMakeCall with 228.
pub fn read_answer(status: u16, body: &[u8], why: &str) -> Answer {
    match status {
        200 => {}
        401 | 403 => return Answer::SessionOver,
        0 => return Answer::Failed { why: answer_text(why) },
        other => return Answer::Failed { why: format!("HTTP {other}") },
    }
    let unreadable = || Answer::Failed { why: "the answer could not be read".into() };
    let Some(id) = leading_message_id(body) else {
        return unreadable();
    };
    let Ok(Some(payload)) = u32::try_from(id).map_or(Ok(None), |tag| field_bytes(body, tag)) else {
        return unreadable();
    };
    let (success, code, message, leg) = match id {
        MSG_RESPONSE_ACKNOWLEDGE => match ResponseAcknowledge::decode(payload) {
            Ok(a) => (a.success, a.error_code, a.message, None),
            Err(_) => return unreadable(),
        },
        MSG_RESPONSE_CALL_CONTROL => match ResponseCallControl::decode(payload) {
            Ok(a) => (a.success, None, a.message, a.local_connection_id),
            Err(_) => return unreadable(),
        },
        // Another answer (228 on v18): field 1 is Success, the first text is the message.
        _ => match generic_answer(payload) {
            Some(a) => a,
            None => return unreadable(),
        },
    };
    match success {
        Some(true) => Answer::Done { leg },
        _ => Answer::Refused { code, message: message.as_deref().map(answer_text).unwrap_or_default() },
    }
}

/// Success (field 1, a varint) and the first text field of an answer of unknown layout.
type Judged = (Option<bool>, Option<i32>, Option<String>, Option<i32>);
fn generic_answer(mut buf: &[u8]) -> Option<Judged> {
    use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};
    let (mut success, mut message) = (None, None);
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf).ok()?;
        match (tag, wire) {
            (1, WireType::Varint) => success = Some(decode_varint(&mut buf).ok()? != 0),
            (_, WireType::LengthDelimited) if message.is_none() => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok().filter(|l| *l <= buf.len())?;
                message = std::str::from_utf8(&buf[..len]).ok().map(str::to_owned);
                buf = &buf[len..];
            }
            _ => skip_field(wire, tag, &mut buf, DecodeContext::default()).ok()?,
        }
    }
    success.map(|s| (Some(s), None, message, None))
}

/// Digits only, for comparing numbers written differently.
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Whether two numbers name the same line: equal digits once leading zeros are dropped
/// (a trunk prefix, `00`), or one is the other behind a country code (1 to 3 digits):
/// "+49 89 1234567" and "089 1234567", "+43 1 234567" and "01 234567". At least 6 digits
/// in common, so that extensions never match. The connector itself compares numbers exactly
/// once normalised, which is why a dialled call carries DATEV's own text (`expect_dial`).
pub fn same_number(a: &str, b: &str) -> bool {
    let (a, b) = (digits(a), digits(b));
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short.len() >= 6 && long.len() - short.len() <= 3 && long.ends_with(short)
}

/// How a dial reaches the PBX.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Via {
    /// RequestMakeCall for the device with this Contact.
    Request { contact: String },
    /// The WebClient's own dialer: opened with the number, confirmed with Enter when
    /// `confirm` (not when it is left for the operator, after a refused request).
    Dialer { confirm: bool },
}

/// A command handed to the page, waiting for its answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingCommand {
    /// `again`: the second decision for this dial (the first one's device changed, or the
    /// PBX refused it and the dialer is left to the operator); it is not decided a third time.
    Dial {
        number: DialString,
        via: Via,
        again: bool,
        deadline_ms: u64,
    },
    Drop {
        call_id: String,
        deadline_ms: u64,
    },
}

impl PendingCommand {
    pub fn deadline_ms(&self) -> u64 {
        match self {
            PendingCommand::Dial { deadline_ms, .. } | PendingCommand::Drop { deadline_ms, .. } => *deadline_ms,
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
        assert!(same_number("+49 30 123456", "030123456"));
        assert!(same_number("+43 1 234567", "01 234567"), "Vienna: 7 digits behind the country code");
        assert!(same_number("+49 89 12345", "08912345"));
        assert!(same_number("0049 89 1234567", "0891234567"));
        assert!(!same_number("1234567", "+49301234567"), "more than a country code in front: another number");
        assert!(same_number("0 0891234567", "+49891234567"), "an outside line's 0 in front");
        assert!(!same_number("4989123456", "8123456"), "not the end of the other");
    }

    fn answer(id: u64, payload: Vec<u8>) -> Vec<u8> {
        let mut buf = Vec::new();
        prost::encoding::uint64::encode(1, &id, &mut buf);
        prost::encoding::bytes::encode(id as u32, &payload, &mut buf);
        buf
    }

    #[test]
    fn answers_are_judged_by_their_success_field() {
        let ok = ResponseCallControl { success: Some(true), message: None, local_connection_id: Some(812) };
        assert_eq!(read_answer(200, &answer(261, ok.encode_to_vec()), ""), Answer::Done { leg: Some(812) });
        let no = ResponseAcknowledge {
            success: Some(false),
            error_code: Some(9),
            message: Some("No permission to call 0891234567\n".into()),
            error_type: None,
        };
        assert_eq!(
            read_answer(200, &answer(207, no.encode_to_vec()), ""),
            Answer::Refused { code: Some(9), message: "No permission to call 08******67".into() }
        );
        // v18: MessageId 228 {1 true, 2 "Call to … has been initialized"}.
        let mut v18 = Vec::new();
        prost::encoding::bool::encode(1, &true, &mut v18);
        prost::encoding::string::encode(2, &"Call to 0891234567 has been initialized".to_owned(), &mut v18);
        assert_eq!(read_answer(200, &answer(228, v18), ""), Answer::Done { leg: None });
        assert_eq!(read_answer(401, b"", ""), Answer::SessionOver);
        assert_eq!(read_answer(403, b"", ""), Answer::SessionOver);
        assert_eq!(read_answer(500, b"", ""), Answer::Failed { why: "HTTP 500".into() });
        assert_eq!(read_answer(0, b"", "no WebClient session"), Answer::Failed { why: "no WebClient session".into() });
        assert!(matches!(read_answer(200, &[0xff, 0xff], ""), Answer::Failed { .. }));
        assert!(matches!(read_answer(200, &answer(207, vec![]), ""), Answer::Refused { code: None, .. }));
    }

    #[test]
    fn requests_have_the_webclients_layout() {
        let n = DialString::parse("+49 89 555").unwrap();
        let msg = GenericMessage::decode(make_call_request(&n, "sip:101@192.168.1.50:5060").as_slice()).unwrap();
        assert_eq!(msg.message_id, Some(119));
        let mc = msg.request_make_call.unwrap();
        assert_eq!(mc.destination.as_deref(), Some("+4989555"));
        assert_eq!(mc.device_id.as_deref(), Some("sip:101@192.168.1.50:5060"));
        assert_eq!(mc.enable_call_control, Some(true));
        assert_eq!(mc.use_intercom_to_source, None);
        // {1: 119, 115: {1: 29, 2: true, 3: 1}}, byte for byte.
        assert_eq!(drop_call_request(29), [0x08, 0x73, 0x9a, 0x07, 0x06, 0x08, 0x1d, 0x10, 0x01, 0x18, 0x01]);
    }
}
