//! What a WebClient tab says: its login, its socket's frames and session, the answers to
//! the WebClient's own requests, the device chosen in it, and its going away. Each message
//! is judged by the origin Chrome reported for its sender, and numbered by the page.

use super::status::Text;
use super::trust::{self, Verdict};
use super::{
    Accepted, Bridge, Effect, Identity, Session, Tab, MAX_FRAME_BYTES, MAX_NOTES, MAX_PAGE_ID_LEN, MAX_TABS,
    STALE_AFTER_MS,
};
use crate::device::Devices;
use crate::tracker::CallTracker;

impl Bridge {
    /// Page id and sequence number: a message seen before is a repeat; a number skipped is
    /// a message lost on the way (the page's queue overflowed while the extension could
    /// not take its frames, or its hook held more than it could before the verdict), which
    /// the operator hears of, since the calls shown may be wrong until the page reloads.
    /// A page's first message is its login, number 1.
    fn sequence(&mut self, tab: u32, page_id: &str, seq: u64, now: u64) -> Accepted {
        if page_id.is_empty() || page_id.len() > MAX_PAGE_ID_LEN {
            return Accepted::Refused;
        }
        let Some(t) = self.tabs.get_mut(&tab) else {
            return Accepted::Refused;
        };
        if t.page_id == page_id && seq <= t.seq {
            return Accepted::Repeat;
        }
        // A tab new to this core (first seen, admitted again after Forget, or after a
        // state that could not be restored) has no count to compare with: it starts here.
        let expected = if t.page_id == page_id {
            t.seq + 1
        } else if t.page_id.is_empty() {
            seq
        } else {
            1
        };
        if t.page_id != page_id {
            t.page_id = page_id.to_owned();
        }
        t.seq = seq;
        if seq > expected {
            self.frames_lost(tab, seq - expected, now);
        }
        Accepted::Yes
    }

    /// One line per gap; one notice for losses in a row (a queue that overflows after
    /// every ack would otherwise push every other notice out of the popup).
    fn frames_lost(&mut self, tab: u32, lost: u64, now: u64) {
        self.log(format!("tab {tab}: {lost} WebClient frames or messages lost before they reached the extension"));
        let before = match self.notes.front() {
            Some(n) if n.text.key == "noteFramesLost" => n.text.args.first().and_then(|a| a.parse::<u64>().ok()),
            _ => None,
        };
        if before.is_some() {
            self.notes.pop_front();
        }
        let total = before.unwrap_or(0).saturating_add(lost).to_string();
        self.note(now, Text::new("noteFramesLost", &[&total]));
    }

    /// Makes room for `tab` from `origin` when the origin is trusted (pinning it on first
    /// use when `login`).
    fn admit_tab(&mut self, tab: u32, origin: &str, login: bool, now: u64) -> bool {
        let verdict = if login {
            let (v, pinned) = self.trust.admit_login(origin);
            if pinned {
                self.log(format!("trusting the WebClient on {origin} (first login)"));
                self.effects.push_back(Effect::Pin(Some(origin.to_owned())));
                self.status_dirty = true;
            }
            v
        } else {
            self.trust.judge(origin)
        };
        if verdict != Verdict::Trusted {
            self.refuse_origin(origin, now);
            return false;
        }
        if let Some(t) = self.tabs.get(&tab) {
            if t.origin == origin {
                return true;
            }
            // The tab navigated to another trusted origin: its old calls are over.
            self.handle_tab_closed(tab, now);
        }
        if self.tabs.len() >= MAX_TABS {
            self.log(format!("tab {tab}: refused, {MAX_TABS} WebClient tabs are tracked already"));
            return false;
        }
        let ext = if self.settings.extension_number.is_empty() { "" } else { &self.settings.extension_number };
        self.tabs.insert(
            tab,
            Tab {
                origin: origin.to_owned(),
                page_id: String::new(),
                seq: 0,
                identity: Identity::default(),
                open: false,
                last_frame_at: 0,
                tracker: CallTracker::new(ext, &tab.to_string(), STALE_AFTER_MS),
                devices: Devices::default(),
                session: Session::Unknown,
                pending: Vec::new(),
            },
        );
        true
    }

    pub(super) fn refuse_origin(&mut self, origin: &str, now: u64) {
        if self.refused.iter().any(|o| o == origin) {
            return;
        }
        if self.refused.len() >= MAX_NOTES {
            self.refused.remove(0);
        }
        self.refused.push(origin.to_owned());
        let shown: String = origin.chars().take(trust::MAX_ORIGIN_LEN).collect();
        self.log(format!("ignored a WebClient look-alike on {shown}: not a trusted origin"));
        self.note(now, Text::new("noteLookalike", &[&shown]));
    }

    /// The WebClient socket opened on a page, with the page's provisioning and the device
    /// chosen in it (`handle_device_choice`).
    #[allow(clippy::too_many_arguments)] // the page's numbering, then what it reported
    pub fn handle_login(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: u64,
        identity: &Identity,
        choice: &str,
        now: u64,
    ) -> Accepted {
        if !self.admit_tab(tab, origin, true, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a != Accepted::Yes {
            return a;
        }
        let configured = self.settings.extension_number.clone();
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.identity = identity.sanitised();
            if !t.identity.extension.is_empty() {
                self.last_identity = t.identity.clone();
            }
            t.open = true;
            // A new socket: a new session, whatever the last one said.
            t.session = Session::Unknown;
            t.tracker.set_extension(if configured.is_empty() { &t.identity.extension } else { &configured });
            t.devices.set_choice(choice);
        }
        self.update_link_config();
        self.touch();
        Accepted::Yes
    }

    pub fn handle_socket_closed(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, now: u64) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a == Accepted::Yes {
            if let Some(t) = self.tabs.get_mut(&tab) {
                t.open = false;
            }
            self.touch();
        }
        a
    }

    /// The page could not hold some of its messages (numbers skipped before `seq`): told
    /// at once, not only with the next frame, which may be a long way off.
    pub fn handle_lost(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, now: u64) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a == Accepted::Yes {
            self.dirty = true;
        }
        a
    }

    /// One binary frame from a tab's WebClient socket, received in the page at `ts`.
    pub fn handle_frame(&mut self, tab: u32, origin: &str, page_id: &str, seq: u64, ts: u64, bytes: &[u8]) -> Accepted {
        if !self.admit_tab(tab, origin, true, ts) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, ts);
        if a != Accepted::Yes {
            return a;
        }
        self.dirty = true;
        if self.refuse_oversized(tab, bytes.len(), ts) {
            return Accepted::Yes;
        }
        self.recorder.record_frame(ts, bytes);
        // Only the socket says the tab is live: an answer may come after it closed.
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.open = true;
        }
        self.take_state(tab, ts, bytes);
        Accepted::Yes
    }

    /// One of the WebClient's own requests and its answer, as the page saw them at `ts`:
    /// the answer is state like a pushed frame (RequestMyInfo's answer carries the whole
    /// MyExtensionInfo). `request` is there only while a diagnostics recording runs.
    #[allow(clippy::too_many_arguments)] // the page's numbering, then what it saw
    pub fn handle_exchange(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: u64,
        ts: u64,
        request: Option<&[u8]>,
        status: u16,
        answer: &[u8],
    ) -> Accepted {
        if !self.admit_tab(tab, origin, false, ts) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, ts);
        if a != Accepted::Yes {
            return a;
        }
        self.dirty = true;
        if self.refuse_oversized(tab, answer.len().max(request.map_or(0, <[u8]>::len)), ts) {
            return Accepted::Yes;
        }
        if let Some(r) = request {
            self.recorder.record_request(ts, r);
        }
        self.recorder.record_answer(ts, status, answer);
        if status == 200 && !answer.is_empty() {
            self.take_state(tab, ts, answer);
        } else if status == 401 || status == 403 {
            self.session_over(tab, "an answer to the WebClient's own request", ts);
        }
        Accepted::Yes
    }

    fn refuse_oversized(&mut self, tab: u32, len: usize, now: u64) -> bool {
        if len <= MAX_FRAME_BYTES {
            return false;
        }
        self.log(format!("tab {tab}: frame of {len} bytes refused (limit {MAX_FRAME_BYTES})"));
        self.note(now, Text::new("noteTooLarge", &[]));
        true
    }

    /// A GenericMessage of the operator's state (pushed, or an answer), into the tab's
    /// calls and devices.
    fn take_state(&mut self, tab: u32, ts: u64, bytes: &[u8]) {
        let Some(t) = self.tabs.get_mut(&tab) else {
            return;
        };
        t.last_frame_at = ts;
        match t.tracker.handle_frame(bytes, ts) {
            Ok(out) => {
                let mut status_changed = false;
                if let Some(regs) = out.devices {
                    if let Some(note) = t.devices.apply(regs) {
                        self.effects.push_back(Effect::Log(format!("tab {tab}: {note}")));
                    }
                    status_changed = true;
                }
                if let Some(ep) = out.endpoint {
                    let before = t.devices.endpoint().1;
                    t.devices.apply_endpoint(ep);
                    status_changed |= t.devices.endpoint().1 != before;
                }
                if status_changed {
                    self.status_dirty = true;
                }
                for n in &out.notes {
                    self.effects.push_back(Effect::Log(format!("tab {tab}: {n}")));
                }
                // A new extension first: its calls are not for the connector of the old one.
                // The shell closes that socket before it sends them, so they come back as
                // unsent, and the new extension's connector gets them caught up.
                if out.extension_detected.is_some() {
                    self.update_link_config();
                }
                if !out.events.is_empty() {
                    self.emit(tab, out.events, ts);
                }
            }
            Err(e) => self.log(format!("tab {tab}: frame rejected: {e}")),
        }
        self.run_due(ts);
    }

    /// What the WebClient's socket said about its session: `START` (ready) or `NOT AUTH` /
    /// `STOP` (over: the operator must log in again).
    pub fn handle_session(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: u64,
        started: bool,
        now: u64,
    ) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a != Accepted::Yes {
            return a;
        }
        if started {
            if let Some(t) = self.tabs.get_mut(&tab) {
                t.session = Session::Started;
            }
            self.touch();
        } else {
            self.session_over(tab, "the WebClient's socket", now);
        }
        a
    }

    /// The WebClient's session on `tab` is over (its socket said so, or a request was
    /// answered 401/403): said once, and its commands fail at once until it starts again.
    pub(super) fn session_over(&mut self, tab: u32, by: &str, now: u64) {
        let Some(t) = self.tabs.get_mut(&tab) else {
            return;
        };
        if t.session == Session::Over {
            return;
        }
        t.session = Session::Over;
        let origin = t.origin.clone();
        self.log(format!("tab {tab}: the WebClient's session is over (said by {by})"));
        self.note(now, Text::new("noteSessionOver", &[&origin]));
    }

    /// The device the operator chose in the WebClient (the page's stored choice, as JSON
    /// text) changed while the page was open.
    pub fn handle_device_choice(
        &mut self,
        tab: u32,
        origin: &str,
        page_id: &str,
        seq: u64,
        choice: &str,
        now: u64,
    ) -> Accepted {
        if !self.admit_tab(tab, origin, false, now) {
            return Accepted::Refused;
        }
        let a = self.sequence(tab, page_id, seq, now);
        if a == Accepted::Yes {
            if let Some(t) = self.tabs.get_mut(&tab) {
                if t.devices.set_choice(choice) {
                    self.touch();
                }
            }
        }
        a
    }

    /// The page refused a frame over `MAX_FRAME_BYTES` before copying it.
    pub fn handle_oversized_frame(&mut self, tab: u32, origin: &str, size: u64, now: u64) {
        if self.trust.judge(origin) != Verdict::Trusted {
            return;
        }
        self.log(format!("tab {tab}: frame of {size} bytes refused (limit {MAX_FRAME_BYTES})"));
        self.note(now, Text::new("noteTooLarge", &[]));
    }

    /// The tab is gone (closed or navigated away): its calls end for DATEV now.
    pub fn handle_tab_closed(&mut self, tab: u32, now: u64) {
        let Some(mut t) = self.tabs.remove(&tab) else {
            return;
        };
        let events = t.tracker.end_all(now);
        self.tabs.insert(tab, t);
        self.emit(tab, events, now);
        self.tabs.remove(&tab);
        self.update_link_config();
        self.touch();
    }

    /// The tabs open now, after a restore: a tab the restored state knows and the browser
    /// does not was closed while no document heard of it (its `tabClosed` went to the
    /// document that died before storing it), so its calls end now, as for a closed tab.
    pub fn retain_tabs(&mut self, open: &[u32], now: u64) {
        let gone: Vec<u32> = self.tabs.keys().copied().filter(|t| !open.contains(t)).collect();
        for tab in gone {
            self.handle_tab_closed(tab, now);
        }
    }
}
