//! DATEV's DIAL and DROP, and a click on a number in PestRoutes, carried out the way the
//! WebClient itself does (`spec/3cx-webclient.md`, "How the WebClient itself dials and
//! hangs up"): by a request POSTed from the WebClient page on the WebClient's own channel
//! (never written on its socket), or, for the WebClient's own softphone, through its
//! dialer. Which device and which way: [`DialMethod`] and the device chosen in the
//! WebClient (`crate::device`). Every request is answered, and the answer decides at once.

use super::pace::{self, Queued, Refusal};
use super::status::Text;
use super::web_origin;
use super::{Bridge, DialMethod, Effect, Session, INSTALL_GRANTED_HOSTS, MAX_CALL_ID_LEN};
use crate::command::{self, drop_request_for, make_call_request, read_answer, Answer, DialString, PendingCommand, Via};
use crate::connector::Command;
use crate::device::Selected;
use crate::privacy::mask_number;
use crate::schema::ERROR_NO_PERMISSION;

/// How long the page waits for the PBX's answer to a request.
pub const REQUEST_WAIT_MS: u32 = 8_000;
/// How long the page has to report a request's answer: a sleeping tab is woken first,
/// which the document allows 5 s (doc-pages.js, NUDGE_WAIT_MS), then it waits for the PBX
/// (above); with 2 s to spare, so that the page's own report comes first and says what
/// happened, and a dial is not called failed while the PBX may still place it.
pub const REQUEST_ANSWER_MS: u64 = 5_000 + REQUEST_WAIT_MS as u64 + 2_000;
/// How long the WebClient's dialer may take to show the number before the page gives up.
pub const DIALER_WAIT_MS: u32 = 3_000;
/// The page's report of a dialer step may come this much later than the wait itself.
const DIALER_MARGIN_MS: u64 = 7_000;
/// How long a number DATEV asked to dial waits for its call to show up, so that the call
/// carries the number as DATEV wrote it (DATEV links its dial by number, once).
pub const DIALLED_EXPECT_MS: u64 = 30_000;

impl Bridge {
    /// Whether a page on `origin` is a PestRoutes page that may ask to dial: https on a
    /// host granted at install (*.pestroutes.com, *.fieldroutes.com), or the origin of the
    /// configured PestRoutes address.
    pub fn is_pestroutes_origin(&self, origin: &str) -> bool {
        let host = origin.strip_prefix("https://").map(|h| h.rsplit_once(':').map_or(h, |(h, _)| h));
        host.is_some_and(|h| INSTALL_GRANTED_HOSTS.iter().any(|d| h.ends_with(d)))
            || web_origin(&self.settings.pestroutes_url).is_some_and(|o| o == origin)
    }

    /// The operator clicked a phone number on a PestRoutes page (the origin as Chrome
    /// reports the sender). Dialled exactly like DATEV's DIAL: the same checks (blocked
    /// prefixes, double clicks, pace), the same device and answer.
    pub fn click_to_dial_allowed(&self, origin: &str) -> bool {
        self.settings.click_to_dial && self.is_pestroutes_origin(origin)
    }

    pub fn handle_click_to_dial(&mut self, origin: &str, number: &str, now: u64) {
        if !self.click_to_dial_allowed(origin) {
            let why = if self.settings.click_to_dial { "not a PestRoutes page" } else { "click-to-dial is off" };
            self.log(format!("click-to-dial from {origin} refused: {why}"));
            return;
        }
        let what = format!("click-to-dial {}", mask_number(number));
        self.admit_command(Queued::Dial { number: number.to_owned(), datev: false }, &what, now);
    }

    /// A COMMAND from our connector (the link has checked it acknowledged us).
    pub fn handle_command(&mut self, cmd: Command, now: u64) {
        // A connector message may be 1 MiB: a number or call id no real one comes near is
        // refused here, before it is logged or queued.
        let oversized = match &cmd {
            Command::Dial { number, .. } => number.len() > 4 * command::MAX_DIAL_LEN,
            Command::Drop { call_id } => call_id.as_ref().is_some_and(|c| c.len() > MAX_CALL_ID_LEN),
        };
        if oversized {
            self.log("command refused: its number or call id is far too long".into());
            return;
        }
        let (queued, what) = match cmd {
            Command::Dial { number, .. } => {
                let what = format!("DIAL {}", mask_number(&number));
                (Queued::Dial { number, datev: true }, what)
            }
            Command::Drop { call_id } => {
                let what = format!("DROP {}", call_id.as_deref().unwrap_or("(most recent call)"));
                (Queued::Drop { call_id }, what)
            }
        };
        self.admit_command(queued, &what, now);
    }

    fn admit_command(&mut self, queued: Queued, what: &str, now: u64) {
        let number = match &queued {
            Queued::Dial { number, .. } => mask_number(number),
            Queued::Drop { .. } => String::new(),
        };
        match self.gate.admit(queued, &self.prefixes, now) {
            Ok(()) => self.log(format!("{what} received")),
            Err(Refusal::Duplicate) => self.log(format!("{what}: the same number was just dialled; one dial")),
            Err(Refusal::Flood) => {
                self.log(format!(
                    "{what} refused: more than {} commands in {} s",
                    pace::FLOOD_MAX,
                    pace::FLOOD_WINDOW_MS / 1000
                ));
                self.note(now, Text::new("noteFlood", &[]));
            }
            Err(Refusal::Blocked { prefix }) => {
                self.log(format!("{what} refused: blocked prefix {prefix}"));
                self.note(now, Text::new("noteBlocked", &[&number]));
            }
        }
        self.run_due(now);
        self.dirty = true;
    }

    /// The trusted tab that commands go to: an open socket whose session is not known to
    /// be over, the freshest frames.
    pub(super) fn command_tab(&self) -> Option<u32> {
        let open = self.tabs.iter().filter(|(_, t)| t.open);
        open.max_by_key(|(_, t)| (t.session != Session::Over, t.last_frame_at)).map(|(id, _)| *id)
    }

    /// A tab whose WebClient session ended (its socket closed after NOT AUTH / STOP): the
    /// operator sees a login page there, and is told to log in rather than to open one.
    pub(super) fn ended_session_tab(&self) -> Option<u32> {
        self.tabs
            .iter()
            .filter(|(_, t)| t.session == Session::Over)
            .max_by_key(|(_, t)| t.last_frame_at)
            .map(|(id, _)| *id)
    }

    pub(super) fn run_due(&mut self, now: u64) {
        while let Some(cmd) = self.gate.poll_due(now) {
            let Some(tab) = self.command_tab().or_else(|| self.ended_session_tab()) else {
                self.log("command refused: no 3CX WebClient tab is open".into());
                self.note(now, Text::new("noteNoTab", &[]));
                continue;
            };
            if let Some(t) = self.tabs.get(&tab).filter(|t| t.session == Session::Over) {
                let origin = t.origin.clone();
                self.log(format!("command refused: the WebClient's session on tab {tab} is over"));
                self.note(now, Text::new("noteSessionOver", &[&origin]));
                continue;
            }
            match cmd {
                Queued::Dial { number, datev } => self.dial(tab, &number, datev, now),
                Queued::Drop { call_id } => self.drop_call(tab, call_id.as_deref(), now),
            }
        }
    }

    fn dial(&mut self, tab: u32, raw: &str, datev: bool, now: u64) {
        let number = match DialString::parse(raw) {
            Ok(n) => n,
            Err(e) => {
                self.log(format!("DIAL {} refused: {e}", mask_number(raw)));
                return self.note(now, Text::new("noteDialInvalid", &[&mask_number(raw)]));
            }
        };
        if datev {
            // DATEV recognises its own dial by the number of the call's first event, as it
            // wrote it: the call that shows up for this number carries DATEV's text.
            if let Some(t) = self.tabs.get_mut(&tab) {
                t.tracker.expect_dial(raw, now + DIALLED_EXPECT_MS);
            }
        }
        self.route_dial(tab, number, false, now);
    }

    /// Decides the way for a dial: the device chosen in the WebClient and the setting.
    /// `again`: decided once already, the choice having changed under the first request.
    fn route_dial(&mut self, tab: u32, number: DialString, again: bool, now: u64) {
        let Some(t) = self.tabs.get(&tab) else { return };
        let request = |contact: &str| Via::Request { contact: contact.to_owned() };
        let via = match (self.settings.dial_method, t.devices.selected()) {
            (DialMethod::Dialer, _) | (DialMethod::Auto, Selected::WebClient) => Via::Dialer { confirm: true },
            (DialMethod::Auto | DialMethod::Request, Selected::Phone(d)) => request(&d.contact),
            (DialMethod::Request, Selected::WebClient) => match t.devices.first_phone() {
                Some(d) => request(&d.contact),
                None => {
                    self.log(format!(
                        "DIAL {}: not dialled, no desk phone or app is registered for a request",
                        mask_number(number.as_str())
                    ));
                    return self.note(now, Text::new("noteNoPhone", &[&mask_number(number.as_str())]));
                }
            },
        };
        self.send_dial(tab, number, via, again, now);
    }

    fn send_dial(&mut self, tab: u32, number: DialString, via: Via, again: bool, now: u64) {
        let token = self.token();
        let Some(t) = self.tabs.get_mut(&tab) else { return };
        let shown = mask_number(number.as_str());
        let (effect, deadline_ms, line) = match &via {
            Via::Request { contact } => {
                let body = make_call_request(&number, contact);
                let choice = Some(t.devices.choice_raw().to_owned());
                self.recorder.record_request(now, &body);
                let line = format!("DIAL {shown}: RequestMakeCall for the device {contact}");
                let effect = Effect::Request { tab, token, body, choice, wait_ms: REQUEST_WAIT_MS };
                (effect, now + REQUEST_ANSWER_MS, line)
            }
            Via::Dialer { confirm } => {
                let number = number.as_str().to_owned();
                let line = if *confirm {
                    format!("DIAL {shown}: through the WebClient's dialer")
                } else {
                    format!("DIAL {shown}: left in the WebClient's dialer for the operator")
                };
                let effect = Effect::Dialer { tab, token, number, confirm: *confirm, wait_ms: DIALER_WAIT_MS };
                (effect, now + u64::from(DIALER_WAIT_MS) + DIALER_MARGIN_MS, line)
            }
        };
        t.pending.push((token, PendingCommand::Dial { number, via, again, deadline_ms }));
        self.log(line);
        self.effects.push_back(effect);
    }

    fn drop_call(&mut self, tab: u32, call_id: Option<&str>, now: u64) {
        let token = self.token();
        let Some(t) = self.tabs.get_mut(&tab) else { return };
        match drop_request_for(&t.tracker, call_id) {
            Ok((call_id, body)) => {
                let deadline_ms = now + REQUEST_ANSWER_MS;
                t.pending.push((token, PendingCommand::Drop { call_id: call_id.clone(), deadline_ms }));
                self.recorder.record_request(now, &body);
                self.effects.push_back(Effect::Request { tab, token, body, choice: None, wait_ms: REQUEST_WAIT_MS });
                self.log(format!("DROP call {call_id}: RequestDropCall sent"));
            }
            // Mostly a call that ended as DATEV asked to end it: nothing to tell the operator.
            Err(e) => self.log(format!("DROP refused: {e}")),
        }
    }

    fn take_pending(&mut self, tab: u32, token: u32) -> Option<PendingCommand> {
        let t = self.tabs.get_mut(&tab)?;
        let i = t.pending.iter().position(|(k, _)| *k == token)?;
        self.dirty = true;
        Some(t.pending.remove(i).1)
    }

    /// The page's report of a request: the HTTP status (0: not sent, `why` says why) and
    /// the answer's body.
    pub fn handle_answer(&mut self, tab: u32, token: u32, status: u16, body: &[u8], why: &str, now: u64) {
        let Some(p) = self.take_pending(tab, token) else {
            // Its command had expired (and was said to have failed): the PBX may still
            // have carried it out, which the log must show.
            return self.log(format!("tab {tab}: a request's answer (HTTP {status}) came after it had been given up"));
        };
        if status != 0 {
            self.recorder.record_answer(now, status, body);
        }
        let answer = read_answer(status, body, why);
        match p {
            PendingCommand::Dial { number, .. } => self.dial_answered(tab, number, answer, now),
            PendingCommand::Drop { call_id, .. } => self.drop_answered(tab, &call_id, answer, now),
        }
    }

    fn dial_answered(&mut self, tab: u32, number: DialString, answer: Answer, now: u64) {
        let shown = mask_number(number.as_str());
        match answer {
            Answer::Done { leg } => {
                let leg = leg.map(|l| format!(" (leg {l})")).unwrap_or_default();
                self.log(format!("DIAL {shown}: the PBX placed the call{leg}"));
            }
            Answer::Refused { code, message } => {
                let reason = refusal(code, message);
                self.log(format!("DIAL {shown}: refused by the PBX: {reason}"));
                let auto = self.settings.dial_method == DialMethod::Auto;
                let text = match (code == Some(ERROR_NO_PERMISSION), auto) {
                    (true, true) => Text::new("noteDialNoPermissionDialer", &[&shown, &reason]),
                    (true, false) => Text::new("noteDialNoPermission", &[&shown, &reason]),
                    (false, true) => Text::new("noteDialRefusedDialer", &[&shown, &reason]),
                    (false, false) => Text::new("noteDialRefused", &[&shown, &reason]),
                };
                self.note(now, text);
                if auto {
                    // The operator can still dial it by hand, with another device if need be.
                    self.send_dial(tab, number, Via::Dialer { confirm: false }, true, now);
                }
            }
            Answer::SessionOver => self.session_over(tab, "the answer to a DIAL", now),
            Answer::Failed { why } => {
                self.log(format!("DIAL {shown}: not placed ({why})"));
                self.note(now, Text::new("noteDialFailed", &[&shown]));
            }
        }
    }

    fn drop_answered(&mut self, tab: u32, call_id: &str, answer: Answer, now: u64) {
        match answer {
            Answer::Done { .. } => self.log(format!("DROP call {call_id}: done")),
            Answer::Refused { code, message } => {
                let reason = refusal(code, message);
                self.log(format!("DROP call {call_id}: refused by the PBX: {reason}"));
                self.note(now, Text::new("noteDropRefused", &[&reason]));
            }
            Answer::SessionOver => self.session_over(tab, "the answer to a DROP", now),
            Answer::Failed { why } => {
                self.log(format!("DROP call {call_id}: not sent ({why})"));
                self.note(now, Text::new("noteDropFailed", &[]));
            }
        }
    }

    /// The page did not send a request: the device stored in the WebClient is no longer the
    /// one the request was made for (`choice`, as the page read it now). Decided again.
    pub fn handle_stale_choice(&mut self, tab: u32, token: u32, choice: &str, now: u64) {
        let Some(p) = self.take_pending(tab, token) else {
            return;
        };
        if let Some(t) = self.tabs.get_mut(&tab) {
            t.devices.set_choice(choice);
        }
        self.status_dirty = true;
        if let PendingCommand::Dial { number, again, .. } = p {
            let shown = mask_number(number.as_str());
            if again {
                // Changed under the second request too: the page and the core disagree on
                // the choice, and another round would not settle it.
                self.log(format!("DIAL {shown}: the device chosen in the WebClient changed again; not dialled"));
                return self.note(now, Text::new("noteDialFailed", &[&shown]));
            }
            self.log(format!("DIAL {shown}: the device chosen in the WebClient changed; deciding again"));
            self.route_dial(tab, number, true, now);
        }
    }

    /// The page's report of a dialer step: whether the dialer showed the number (and was
    /// confirmed, when it was to be).
    pub fn handle_dialer_result(&mut self, tab: u32, token: u32, ok: bool, why: &str, now: u64) {
        let Some(PendingCommand::Dial { number, via, .. }) = self.take_pending(tab, token) else {
            let done = if ok { "it was dialled" } else { "it failed" };
            return self.log(format!("tab {tab}: a dialer step was reported after it had been given up ({done})"));
        };
        let shown = mask_number(number.as_str());
        let confirm = matches!(via, Via::Dialer { confirm: true });
        if ok {
            let done = if confirm { "confirmed" } else { "left for the operator" };
            return self.log(format!("DIAL {shown}: the dialer showed the number; {done}"));
        }
        let why: String = why.chars().filter(|c| !c.is_control()).take(command::MAX_ANSWER_TEXT).collect();
        self.log(format!("DIAL {shown}: not dialled through the dialer ({why})"));
        self.note(now, Text::new("noteDialerFailed", &[&shown]));
    }

    /// Something handed to a page that never reached it (the tab does not answer).
    pub fn handle_undelivered(&mut self, tab: u32, token: u32, why: &str, now: u64) {
        let dialer = self
            .tabs
            .get(&tab)
            .and_then(|t| t.pending.iter().find(|(k, _)| *k == token))
            .is_some_and(|(_, p)| matches!(p, PendingCommand::Dial { via: Via::Dialer { .. }, .. }));
        if dialer {
            self.handle_dialer_result(tab, token, false, why, now);
        } else {
            self.handle_answer(tab, token, 0, &[], why, now);
        }
    }

    /// Commands of `tab` whose page did not report in time.
    pub(super) fn expire_commands(&mut self, tab: u32, now: u64) {
        let expired: Vec<u32> = self
            .tabs
            .get(&tab)
            .map(|t| t.pending.iter().filter(|(_, p)| p.deadline_ms() <= now).map(|(k, _)| *k).collect())
            .unwrap_or_default();
        for token in expired {
            self.handle_undelivered(tab, token, "the WebClient tab did not answer in time", now);
        }
    }
}

/// What the PBX said when it refused: its text, else its error code.
fn refusal(code: Option<i32>, message: String) -> String {
    if message.is_empty() {
        code.map(|c| format!("error {c}")).unwrap_or_default()
    } else {
        message
    }
}
