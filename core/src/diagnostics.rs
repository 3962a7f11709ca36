//! Diagnostics an operator can send: the WebClient frames of a chosen time, recorded in the
//! `replay` input format (`TS_MS BASE64` per line, `#` lines are comments), with personal
//! data masked inside the frames, so the file is safe to email and `replay` on it gives
//! the CALL_EVENTs that were sent, with masked numbers and names.

use base64::Engine;
use prost::Message;

use crate::frame::{self, Frame};
use crate::privacy::{mask_name, mask_number, mask_text};
use crate::schema::{GenericMessage, LocalConnections, MSG_MY_EXTENSION_INFO};

/// Longest recording an operator can ask for.
pub const MAX_RECORD_MS: u64 = 60 * 60 * 1000;
/// Most text a recording holds; it stops there (and says so in the file).
pub const MAX_RECORD_BYTES: usize = 8 << 20;
/// Log lines kept for the report, and the longest line kept.
pub const LOG_LINES_KEPT: usize = 200;
pub const MAX_LOG_LINE: usize = 1_000;

/// The frame with every number and name masked (MyExtensionInfo), or with its payload
/// left out (every other message: nothing the tracker reads, and it may carry anything).
/// Fields the schema does not know are dropped by the re-encoding. `None`: not a frame.
pub fn mask_frame(bytes: &[u8]) -> Option<Vec<u8>> {
    match frame::decode(bytes).ok()? {
        Frame::Other { message_id } => {
            Some(GenericMessage { message_id: Some(message_id), ..Default::default() }.encode_to_vec())
        }
        Frame::ExtensionInfo(mut info) => {
            for list in [&mut info.connections_18, &mut info.connections_20].into_iter().flatten() {
                mask_list(list);
            }
            Some(
                GenericMessage {
                    message_id: Some(MSG_MY_EXTENSION_INFO),
                    my_extension_info: Some(info),
                    ..Default::default()
                }
                .encode_to_vec(),
            )
        }
    }
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

    /// One frame from a trusted WebClient tab, received at `ts`.
    pub fn record(&mut self, ts: u64, bytes: &[u8]) {
        if !self.active(ts) {
            return;
        }
        let Some(masked) = mask_frame(bytes) else {
            return;
        };
        let line = format!("{ts} {}", base64::engine::general_purpose::STANDARD.encode(masked));
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
        out.push_str("# 3CX WebClient Bridge diagnostics: replay input (TS_MS BASE64), numbers and names masked\n");
        out.push_str(&format!("# recorded from {} to {}, {} frames", self.started, self.until, self.frames));
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
        let masked = mask_frame(&other_frame(227, 500)).unwrap();
        assert_eq!(frame::decode(&masked).unwrap(), Frame::Other { message_id: 227 });
        assert!(masked.len() < 8);
        assert_eq!(mask_frame(&[0xff, 0xff]), None);
    }

    #[test]
    fn a_recording_runs_for_its_time_and_is_bounded() {
        let mut r = Recorder::default();
        r.record(1, &other_frame(227, 10));
        assert_eq!(r.status(1).frames, 0, "nothing before start");
        r.start(1_000, 60_000);
        r.record(1_001, &other_frame(227, 10));
        r.record(61_000, &other_frame(227, 10));
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
        let big = other_frame(227, 10);
        for i in 0..MAX_RECORD_BYTES {
            r.record(i as u64, &big);
            if r.status(0).full {
                break;
            }
        }
        assert!(r.status(0).full && !r.status(0).active && r.status(0).bytes <= MAX_RECORD_BYTES);
    }
}
