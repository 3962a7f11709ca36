//! Diagnostics an operator can send: the WebClient's messages of a chosen time (what its
//! socket pushed, and the requests the WebClient itself POSTed with their answers),
//! recorded in the `replay` input format with personal data masked inside the messages,
//! so the file is safe to email, `replay` on it gives the CALL_EVENTs that were sent (with
//! masked numbers and names), and one file from a real office shows what its PBX version
//! really sends and answers.
//!
//! Lines: `TS BASE64` a pushed frame; `TS POST BASE64` a request (the WebClient's own, or
//! one of ours); `TS ANSWER STATUS BASE64` the answer to it, HTTP status first. `#` lines
//! are comments.

use base64::Engine;
use prost::encoding::{decode_key, decode_varint, WireType};
use prost::Message;

use crate::frame::{self, field_bytes, leading_message_id, Frame};
use crate::privacy::{mask_name, mask_number, mask_text};
use crate::schema::{
    GenericMessage, LocalConnections, MyWebRtcEndpoint, RequestDropCall, RequestMakeCall, ResponseAcknowledge,
    ResponseCallControl, MSG_MY_EXTENSION_INFO, MSG_MY_WEBRTC_ENDPOINT, MSG_REQUEST_DROP_CALL, MSG_REQUEST_MAKE_CALL,
    MSG_RESPONSE_ACKNOWLEDGE, MSG_RESPONSE_CALL_CONTROL,
};

/// Longest recording an operator can ask for.
pub const MAX_RECORD_MS: u64 = 60 * 60 * 1000;
/// Most text a recording holds; it stops there (and says so in the file).
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// Log lines kept for the report, and the longest line kept.
pub const LOG_LINES_KEPT: usize = 200;
pub const MAX_LOG_LINE: usize = 1_000;
/// The base64 of the recording's lines (and of `replay`'s input).
pub const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// How deep an unknown message is walked for its masking.
const MAX_DEPTH: u32 = 8;

/// A frame with every number and name masked (MyExtensionInfo), the softphone's own two
/// fields (MyWebRTCEndpoint), or with its payload left out (every other pushed message:
/// nothing the tracker reads, and it may carry anything). Fields the schema does not know
/// are dropped by the re-encoding. `None`: not a frame.
pub fn mask_frame(bytes: &[u8]) -> Option<Vec<u8>> {
    let msg = match frame::decode(bytes).ok()? {
        Frame::Other { message_id } => GenericMessage { message_id: Some(message_id), ..Default::default() },
        Frame::Endpoint(ep) => GenericMessage {
            message_id: Some(MSG_MY_WEBRTC_ENDPOINT),
            my_webrtc_endpoint: Some(MyWebRtcEndpoint { action: ep.action, ..ep }),
            ..Default::default()
        },
        Frame::ExtensionInfo(mut info) => {
            if let Some(list) = &mut info.connections {
                mask_list(list);
            }
            for name in [&mut info.first_name, &mut info.last_name].into_iter().flatten() {
                *name = mask_name(name);
            }
            GenericMessage {
                message_id: Some(MSG_MY_EXTENSION_INFO),
                my_extension_info: Some(info),
                ..Default::default()
            }
        }
    };
    Some(msg.encode_to_vec())
}

fn mask_list(list: &mut LocalConnections) {
    for item in &mut list.items {
        for n in [&mut item.other_party_caller_id, &mut item.other_party_dn].into_iter().flatten() {
            *n = mask_number(n);
        }
        if let Some(name) = &mut item.other_party_display_name {
            *name = mask_name(name);
        }
    }
}

/// A request or an answer with its personal data masked and its shape kept: the messages
/// the extension knows field by field (a dialled number masked, a device's Contact kept, a
/// PBX's text masked), any other one walked field by field (numbers kept, nested messages
/// walked, every text reduced to its length), so the file shows which fields a PBX
/// version really uses and none of what they held. `None`: not a
/// GenericMessage.
pub fn mask_message(bytes: &[u8]) -> Option<Vec<u8>> {
    let id = leading_message_id(bytes)?;
    if id == MSG_MY_EXTENSION_INFO || id == MSG_MY_WEBRTC_ENDPOINT {
        return mask_frame(bytes);
    }
    let tag = u32::try_from(id).ok()?;
    let payload = field_bytes(bytes, tag).ok()?.unwrap_or_default();
    let masked = match id {
        MSG_REQUEST_MAKE_CALL => {
            let mut m = RequestMakeCall::decode(payload).ok()?;
            m.destination = m.destination.map(|d| mask_number(&d));
            m.encode_to_vec()
        }
        MSG_REQUEST_DROP_CALL => RequestDropCall::decode(payload).ok()?.encode_to_vec(),
        MSG_RESPONSE_ACKNOWLEDGE => {
            let mut m = ResponseAcknowledge::decode(payload).ok()?;
            m.message = m.message.map(|t| mask_text(&t));
            m.encode_to_vec()
        }
        MSG_RESPONSE_CALL_CONTROL => {
            let mut m = ResponseCallControl::decode(payload).ok()?;
            m.message = m.message.map(|t| mask_text(&t));
            m.encode_to_vec()
        }
        _ => mask_unknown(payload, 0)?,
    };
    let mut out = Vec::with_capacity(masked.len() + 8);
    prost::encoding::uint64::encode(1, &id, &mut out);
    prost::encoding::bytes::encode(tag, &masked, &mut out);
    Some(out)
}

/// The fields of a protobuf message of unknown layout, re-encoded with every text replaced
/// by as many stars as it has characters: an unknown field may hold a password or a token
/// (the WebClient's login and settings requests do), so only its length is kept.
fn mask_unknown(mut buf: &[u8], depth: u32) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(buf.len());
    while !buf.is_empty() {
        let (tag, wire) = decode_key(&mut buf).ok()?;
        prost::encoding::encode_key(tag, wire, &mut out);
        match wire {
            WireType::Varint => prost::encoding::encode_varint(decode_varint(&mut buf).ok()?, &mut out),
            WireType::SixtyFourBit | WireType::ThirtyTwoBit => {
                let n = if wire == WireType::SixtyFourBit { 8 } else { 4 };
                out.extend_from_slice(buf.get(..n)?);
                buf = &buf[n..];
            }
            WireType::LengthDelimited => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok().filter(|l| *l <= buf.len())?;
                let (inner, rest) = buf.split_at(len);
                buf = rest;
                let nested = (depth < MAX_DEPTH && !inner.is_empty()).then(|| mask_unknown(inner, depth + 1)).flatten();
                let body = match (nested, std::str::from_utf8(inner)) {
                    // Text that happens to parse as a message is still text.
                    (_, Ok(text)) if text.chars().all(|c| !c.is_control() || c == '\n') => {
                        "*".repeat(text.chars().count()).into_bytes()
                    }
                    (Some(m), _) => m,
                    // Bytes that are neither: their length is all that is kept.
                    _ => vec![0; inner.len()],
                };
                prost::encoding::encode_varint(body.len() as u64, &mut out);
                out.extend_from_slice(&body);
            }
            WireType::StartGroup | WireType::EndGroup => return None,
        }
    }
    Some(out)
}

/// One line of text for a message of a recording: its MessageId and its fields, nested
/// messages in braces, texts quoted (for `replay`, which prints what was POSTed and
/// answered). Unknown bytes are shown by their length.
pub fn describe(bytes: &[u8]) -> String {
    fn walk(mut buf: &[u8], depth: u32, out: &mut String) -> Option<()> {
        let mut first = true;
        while !buf.is_empty() {
            let (tag, wire) = decode_key(&mut buf).ok()?;
            out.push_str(if first { "" } else { ", " });
            first = false;
            out.push_str(&format!("{tag}: "));
            match wire {
                WireType::Varint => out.push_str(&decode_varint(&mut buf).ok()?.to_string()),
                WireType::SixtyFourBit | WireType::ThirtyTwoBit => {
                    let n = if wire == WireType::SixtyFourBit { 8 } else { 4 };
                    out.push_str(&format!("<{n} bytes>"));
                    buf = buf.get(n..)?;
                }
                WireType::LengthDelimited => {
                    let len = usize::try_from(decode_varint(&mut buf).ok()?).ok().filter(|l| *l <= buf.len())?;
                    let (inner, rest) = buf.split_at(len);
                    buf = rest;
                    let mut nested = String::new();
                    match std::str::from_utf8(inner) {
                        Ok(t) if t.chars().all(|c| !c.is_control()) => out.push_str(&format!("{t:?}")),
                        _ if depth < MAX_DEPTH && walk(inner, depth + 1, &mut nested).is_some() => {
                            out.push_str(&format!("{{{nested}}}"));
                        }
                        _ => out.push_str(&format!("<{len} bytes>")),
                    }
                }
                WireType::StartGroup | WireType::EndGroup => return None,
            }
        }
        Some(())
    }
    let mut out = String::new();
    match walk(bytes, 0, &mut out) {
        Some(()) => format!("{{{out}}}"),
        None => format!("<{} bytes, not a protobuf message>", bytes.len()),
    }
}

/// Where a recording stands, for the options page.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecorderStatus {
    pub active: bool,
    pub until: u64,
    pub frames: u64,
    pub bytes: usize,
    pub full: bool,
}

/// The recording: masked lines while active, bounded by `MAX_RECORD_BYTES`.
#[derive(Clone, Debug, Default)]
pub struct Recorder {
    /// The extension's last log lines (kept whether or not a recording runs).
    logs: std::collections::VecDeque<String>,
    until: u64,
    started: u64,
    lines: Vec<String>,
    bytes: usize,
    frames: u64,
    full: bool,
}

impl Recorder {
    /// Starts a new recording of `duration_ms` (at most `MAX_RECORD_MS`), dropping the last.
    pub fn start(&mut self, now: u64, duration_ms: u64) {
        let logs = std::mem::take(&mut self.logs);
        *self = Recorder { logs, until: now + duration_ms.min(MAX_RECORD_MS), started: now, ..Default::default() };
    }

    /// One line of the extension's log, for the report.
    pub fn log(&mut self, line: &str) {
        let mut end = line.len().min(MAX_LOG_LINE);
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        self.logs.push_back(line[..end].to_owned());
        if self.logs.len() > LOG_LINES_KEPT {
            self.logs.pop_front();
        }
    }

    pub fn stop(&mut self, now: u64) {
        self.until = self.until.min(now);
    }

    pub fn active(&self, now: u64) -> bool {
        now < self.until && !self.full
    }

    /// One frame from a trusted WebClient tab's socket, received at `ts`.
    pub fn record_frame(&mut self, ts: u64, bytes: &[u8]) {
        if self.active(ts) {
            if let Some(masked) = mask_frame(bytes) {
                self.push(format!("{ts} {}", B64.encode(masked)));
            }
        }
    }

    /// A request POSTed from a WebClient tab at `ts` (the WebClient's own, or ours).
    pub fn record_request(&mut self, ts: u64, bytes: &[u8]) {
        if self.active(ts) {
            let masked = mask_message(bytes).unwrap_or_default();
            self.push(format!("{ts} POST {}", B64.encode(masked)));
        }
    }

    /// The answer to a request, with its HTTP status.
    pub fn record_answer(&mut self, ts: u64, status: u16, bytes: &[u8]) {
        if self.active(ts) {
            let masked = mask_message(bytes).unwrap_or_default();
            let body = if masked.is_empty() { String::new() } else { format!(" {}", B64.encode(masked)) };
            self.push(format!("{ts} ANSWER {status}{body}"));
        }
    }

    fn push(&mut self, line: String) {
        if self.bytes + line.len() + 1 > MAX_RECORD_BYTES {
            self.full = true;
            return;
        }
        self.bytes += line.len() + 1;
        self.frames += 1;
        self.lines.push(line);
    }

    pub fn status(&self, now: u64) -> RecorderStatus {
        RecorderStatus {
            active: self.active(now),
            until: self.until,
            frames: self.frames,
            bytes: self.bytes,
            full: self.full,
        }
    }

    /// The file: `report` as `#` comment lines (the status report, phone numbers in it
    /// masked), then the frames.
    pub fn text(&self, report: &str) -> String {
        let mut out = String::with_capacity(self.bytes + report.len() + 256);
        out.push_str("# 3CX WebClient Bridge diagnostics: replay input (TS_MS BASE64 frames, TS_MS POST BASE64 requests, TS_MS ANSWER STATUS BASE64 answers), numbers and names masked\n");
        out.push_str(&format!("# recorded from {} to {}, {} messages", self.started, self.until, self.frames));
        out.push_str(if self.full { " (stopped: size limit reached)\n" } else { "\n" });
        // Every line of the report and the log is a comment, also when one has line breaks
        // inside (a log line can quote what a peer sent).
        let log = self.logs.iter().flat_map(|l| l.lines());
        for l in report.lines().chain(std::iter::once("last log lines:")).chain(log) {
            out.push_str("# ");
            out.push_str(&mask_text(l));
            out.push('\n');
        }
        for l in &self.lines {
            out.push_str(l);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{frame18, leg, other_frame};
    use crate::CallTracker;

    #[test]
    fn numbers_and_names_are_masked_inside_the_frame_and_the_events_stay_the_same() {
        let mut l = leg(2, 28, 7, 1, true, "+49891234567");
        l.other_party_display_name = Some("Max Mustermann".into());
        l.other_party_dn = Some("0891234567".into());
        let raw = frame18(vec![l]);
        let masked = mask_frame(&raw).unwrap();
        let text = String::from_utf8_lossy(&masked);
        assert!(!text.contains("1234567") && !text.contains("Mustermann"), "{text}");
        let (mut a, mut b) = (CallTracker::new("101", "", 1 << 40), CallTracker::new("101", "", 1 << 40));
        let (ea, eb) = (a.handle_frame(&raw, 5).unwrap().events, b.handle_frame(&masked, 5).unwrap().events);
        assert_eq!(ea.len(), 1);
        assert_eq!(eb[0].call.id, ea[0].call.id);
        assert_eq!(eb[0].call.state, ea[0].call.state);
        assert_eq!(eb[0].call.remote_number, "+49*******67");
        assert_eq!(eb[0].call.remote_name, "M. M.");
    }

    #[test]
    fn other_frames_keep_only_their_message_id_and_garbage_is_skipped() {
        let masked = mask_frame(&other_frame(122, 500)).unwrap();
        assert_eq!(frame::decode(&masked).unwrap(), Frame::Other { message_id: 122 });
        assert!(masked.len() < 8);
        assert_eq!(mask_frame(&[0xff, 0xff]), None);
        // The softphone's frame keeps its Contact and flag, not its SDP.
        let ep = mask_frame(&crate::testkit::endpoint_frame(true, "sip:101@10.0.0.9", 3000)).unwrap();
        assert!(ep.len() < 40, "{}", ep.len());
        assert!(matches!(frame::decode(&ep).unwrap(), Frame::Endpoint(e) if e.registered == Some(true)));
    }

    #[test]
    fn a_recording_runs_for_its_time_and_is_bounded() {
        let mut r = Recorder::default();
        r.record_frame(1, &other_frame(122, 10));
        assert_eq!(r.status(1).frames, 0, "nothing before start");
        r.start(1_000, 60_000);
        r.record_frame(1_001, &other_frame(122, 10));
        r.record_frame(61_000, &other_frame(122, 10));
        let st = r.status(2_000);
        assert!(st.active);
        assert_eq!(st.frames, 1);
        assert!(!r.status(61_000).active);
        let text = r.text("version 1.0\nstatus ok +49 891 234567");
        assert!(text.contains("\n# version 1.0\n# status ok +49*******67\n# last log lines:\n1001 "), "{text}");
        for i in 0..300 {
            r.log(&format!("line {i} dial 0891234567"));
        }
        let text = r.text("");
        assert!(text.contains("# line 100 dial 08******67\n") && !text.contains("line 99 "), "{text}");
        // A log line with a line break inside stays comment lines: the replay reads none of it.
        r.log("DROP 7\n1001 AAAA");
        assert!(r.text("").contains("\n# DROP 7\n# 1001 AAAA\n"), "{}", r.text(""));
        r.start(0, u64::MAX);
        assert_eq!(r.status(0).until, MAX_RECORD_MS);
        let big = other_frame(122, 10);
        for i in 0..MAX_RECORD_BYTES {
            r.record_frame(i as u64, &big);
            if r.status(0).full {
                break;
            }
        }
        assert!(r.status(0).full && !r.status(0).active && r.status(0).bytes <= MAX_RECORD_BYTES);
    }

    #[test]
    fn requests_and_answers_keep_their_shape_and_lose_their_personal_data() {
        use crate::command::{make_call_request, DialString};
        use crate::testkit::ack_answer;
        let n = DialString::parse("+49891234567").unwrap();
        let req = mask_message(&make_call_request(&n, "sip:101@192.168.1.50:5060")).unwrap();
        let shown = describe(&req);
        assert_eq!(shown, r#"{1: 119, 119: {1: "+49*******67", 3: "sip:101@192.168.1.50:5060", 4: 1}}"#);
        let refusal = mask_message(&ack_answer(false, Some(9), "No permission to call 0891234567")).unwrap();
        assert_eq!(describe(&refusal), r#"{1: 207, 207: {1: 0, 2: 9, 3: "No permission to call 08******67"}}"#);
        // A request the extension does not know: its fields stay, its texts keep only their
        // length (it may be a password).
        let mut inner = Vec::new();
        prost::encoding::string::encode(1, &"Max Mustermann".to_owned(), &mut inner);
        prost::encoding::int32::encode(2, &7, &mut inner);
        prost::encoding::string::encode(3, &"0891234567".to_owned(), &mut inner);
        let mut unknown = Vec::new();
        prost::encoding::uint64::encode(1, &118, &mut unknown);
        prost::encoding::bytes::encode(118, &inner, &mut unknown);
        let masked = describe(&mask_message(&unknown).unwrap());
        assert_eq!(masked, r#"{1: 118, 118: {1: "**************", 2: 7, 3: "**********"}}"#);
        assert_eq!(mask_message(b"\xff\xff"), None);
        // In the file: a POST line and an ANSWER line with the HTTP status.
        let mut r = Recorder::default();
        r.start(0, 60_000);
        r.record_request(5, &make_call_request(&n, "sip:x"));
        r.record_answer(6, 200, &ack_answer(true, None, ""));
        let text = r.text("");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert!(lines[0].starts_with("5 POST ") && lines[1].starts_with("6 ANSWER 200 "), "{text}");
        assert!(!text.contains("1234567"), "{text}");
    }
}
