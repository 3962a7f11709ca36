//! The connector link and the PestRoutes stream as the offscreen document reports them,
//! and what the link is configured with (who the operator is, for HELLO).

use super::status::Text;
use super::{Bridge, Effect, LinkConfig, LinkReport, StreamReport};

impl Bridge {
    /// HELLO_ACK from our connector on session `generation`: its socket layer knows
    /// nothing. It gets what it lacks of the calls its run does not have (`crate::link`);
    /// calls its run has from an earlier session are left alone, and the operator hears
    /// why they stay open in DATEV.
    pub fn handle_link_ready(&mut self, generation: u64, now: u64) {
        self.session = Some(generation);
        self.handed_session = Some(generation);
        self.session_since = Some(now);
        let (out, left_alone) = self.outbox.session_started();
        for o in out {
            self.effects.push_back(Effect::ToConnector { generation, seq: o.seq, text: o.text });
        }
        if left_alone > 0 {
            self.log(format!(
                "{left_alone} calls in progress left alone: the connector still lists them from before the reconnect"
            ));
            self.note(now, Text::new("noteLeftAlone", &[&left_alone.to_string()]));
        }
        self.touch();
    }

    /// The session `generation` is over: `by_connector` when the connector closed its
    /// socket (it does when it stops), not when we did (`crate::link`).
    pub fn handle_link_down(&mut self, generation: u64, by_connector: bool) {
        if self.session == Some(generation) {
            self.outbox.session_ended(by_connector);
            self.session_gone();
        }
    }

    fn session_gone(&mut self) {
        self.session_since = None;
        if self.session.take().is_some() {
            // Shown at once: the link reports its search only after its backoff.
            if self.link.state == "ready" {
                self.link = LinkReport { state: "searching".into(), ..LinkReport::default() };
            }
            self.touch();
        }
    }

    /// The shell could not send text `seq` on session `generation`: its socket was no longer
    /// open (the connector had begun to close it, and the close had not reached the shell
    /// yet), or the session went down earlier in the same turn. Neither it nor anything
    /// after it left, so the session is over here, and the calls that ended in what did
    /// not leave go to the next session, whole.
    pub fn handle_link_unsent(&mut self, generation: u64, seq: u64, now: u64) {
        if self.handed_session != Some(generation) {
            return;
        }
        let dropped_before = self.outbox.dropped();
        let calls = self.outbox.unsent(seq);
        let live = self.session == Some(generation);
        if live || calls > 0 {
            self.log(format!(
                "the connector's socket closed under a send; ended calls kept for the next session: {calls}"
            ));
        }
        self.report_dropped(dropped_before, now);
        if live {
            // The outbox took it as the connector's close (it was closing the socket).
            self.session_gone();
        }
        // Everything after `seq` in this session failed too and is back already: the
        // texts of it still on their way are not news.
        self.handed_session = None;
        self.touch();
    }

    /// A connector link that starts afresh (a new offscreen document) has no session.
    pub fn handle_link_restarted(&mut self) {
        self.handed_session = None; // the new link numbers its sessions afresh
        if self.session.take().is_some() {
            // The old document's socket closed with it: the connector's run goes on.
            self.outbox.session_ended(false);
        }
        // Whatever the old document last reported is no longer true.
        self.link = LinkReport::default();
        self.touch();
    }

    pub fn handle_link_report(&mut self, report: LinkReport, now: u64) {
        if report == self.link {
            return;
        }
        if let Some(f) = &report.foreign {
            if self.link.foreign.as_ref() != Some(f) {
                let ext: String = f.extension.chars().take(16).collect();
                let port = f.port.to_string();
                if f.own_port {
                    self.note(now, Text::new("noteOtherExtension", &[&port, &ext]));
                } else {
                    self.note(now, Text::new("noteForeign", &[&port, &ext]));
                }
            }
        }
        self.link = report;
        self.status_dirty = true;
    }

    pub fn handle_stream_report(&mut self, report: StreamReport) {
        if report != self.stream {
            self.stream = report;
            self.status_dirty = true;
        }
    }

    pub(super) fn compute_link_config(&self) -> LinkConfig {
        let best = self
            .tabs
            .values()
            .filter(|t| !t.identity.extension.is_empty() || !t.tracker.extension().is_empty())
            .max_by_key(|t| (t.open, t.last_frame_at));
        let id = best.map(|t| t.identity.clone()).unwrap_or_else(|| self.last_identity.clone());
        let extension = if !self.settings.extension_number.is_empty() {
            self.settings.extension_number.clone()
        } else if !id.extension.is_empty() {
            id.extension.clone()
        } else {
            best.map(|t| t.tracker.extension().to_owned()).unwrap_or_default()
        };
        LinkConfig {
            extension,
            domain: id.domain,
            webclient_version: id.webclient_version,
            user_name: id.user_name,
            bridge_port: self.settings.bridge_port,
            last_good_port: 0,
            accepted_extension: self.settings.connector_extension.clone(),
        }
    }

    pub(super) fn update_link_config(&mut self) {
        let cfg = self.compute_link_config();
        if self.link_config.as_ref() != Some(&cfg) {
            self.link_config = Some(cfg.clone());
            self.effects.push_back(Effect::LinkConfig(cfg));
            self.status_dirty = true;
        }
    }
}
