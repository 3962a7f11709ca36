//! What the popup shows: the three rows, the badge, calls, screen-pops and notices.

use super::status::{self, Level, PopView, Row, StatusView, Text};
use super::{Bridge, DialMethod, Session, MAX_POPS, MAX_POP_TEXT};
use crate::connector::Direction;
use crate::device::Selected;
use crate::privacy::{mask_name, mask_number};

impl Bridge {
    /// A screen-pop ran: `outcome` is a status text key (popOpened, popNoResult, …).
    pub fn handle_pop_result(&mut self, term: &str, mut outcome: Text, ok: bool, now: u64) {
        let term = crate::cut(term.to_owned(), MAX_POP_TEXT);
        let term = if term.chars().any(|c| c.is_ascii_digit()) && term.len() > 4 { mask_number(&term) } else { term };
        // An error's text comes from the browser: short enough for the popup's one line.
        for a in &mut outcome.args {
            *a = crate::cut(std::mem::take(a), MAX_POP_TEXT);
        }
        self.last_pop_failed = if ok { None } else { Some(outcome.clone()) };
        self.pops.push_front(PopView { at: now, term, outcome, ok });
        self.pops.truncate(MAX_POPS);
        self.touch();
    }

    // ---- what the popup shows --------------------------------------------------------

    pub fn status_view(&self, now: u64) -> StatusView {
        let webclient = self.webclient_row();
        let connector = self.connector_row();
        let pestroutes = self.pestroutes_row();
        let badge = status::badge(webclient.level, connector.level, pestroutes.level);
        let mut calls = Vec::new();
        for t in self.tabs.values() {
            for ev in t.tracker.current_calls(now) {
                calls.push(status::CallView {
                    direction: if ev.call.direction == Direction::Inbound { "inbound" } else { "outbound" },
                    state: ev.call.state.as_str(),
                    number: mask_number(&ev.call.remote_number),
                    name: mask_name(&ev.call.remote_name),
                });
            }
        }
        StatusView {
            v: 1,
            at: now,
            badge,
            rows: status::Rows { webclient, connector, pestroutes },
            calls,
            pops: self.pops.iter().cloned().collect(),
            notes: self.notes.iter().cloned().collect(),
            trust: status::TrustView {
                configured: self.trust.configured().to_vec(),
                unusable: self.trust.unusable().to_vec(),
                pinned: self.trust.pinned().map(str::to_owned),
            },
        }
    }

    fn webclient_row(&self) -> Row {
        if self.trust.refuses_all() {
            return Row::new(Level::Bad, Text::new("wcUnusable", &[&self.trust.unusable().join(", ")]));
        }
        let Some(tab) = self.command_tab().or_else(|| self.ended_session_tab()) else {
            return Row::new(Level::Warn, Text::new("wcNoTab", &[]));
        };
        let t = &self.tabs[&tab];
        if t.session == Session::Over {
            return Row::new(Level::Bad, Text::new("wcSessionOver", &[&t.origin]));
        }
        let ext = self.compute_link_config().extension;
        if ext.is_empty() {
            return Row::new(Level::Warn, Text::new("wcNoExtension", &[&t.origin]));
        }
        let mut row = Row::new(Level::Ok, Text::new("wcConnected", &[&ext, &t.origin]));
        // Which device DATEV's DIAL uses now, as the WebClient would pick it.
        let phone = |ua: &str| Text::new("dialViaPhone", &[&crate::cut(ua.to_owned(), 60)]);
        row.extra = Some(match (self.settings.dial_method, t.devices.selected()) {
            (DialMethod::Dialer, _) | (DialMethod::Auto, Selected::WebClient) => Text::new("dialViaDialer", &[]),
            (_, Selected::Phone(d)) => phone(&d.user_agent),
            (DialMethod::Request, Selected::WebClient) => match t.devices.first_phone() {
                Some(d) => phone(&d.user_agent),
                None => {
                    row.level = Level::Warn;
                    Text::new("dialNoPhone", &[])
                }
            },
        });
        row
    }

    fn connector_row(&self) -> Row {
        let port = self.link.port.map(|p| p.to_string()).unwrap_or_default();
        // A connector set up for another extension, accepted: said as long as it is used.
        let ready = match &self.link.accepted {
            Some(ext) => {
                let ext: String = ext.chars().filter(char::is_ascii_digit).take(16).collect();
                Text::new("linkReadyAccepted", &[&port, &ext])
            }
            None => Text::new("linkReady", &[&port]),
        };
        let mut row = match self.link.state.as_str() {
            // A connector that has just started may drop calls until it has loaded DATEV's
            // contacts: nothing on the wire tells, so the popup says it for a while.
            "ready" if self.session_since.is_some() => {
                let mut row = Row::new(Level::Ok, ready);
                row.extra = Some(Text::new("linkWarmup", &[]));
                row
            }
            "ready" => Row::new(Level::Ok, ready),
            "connecting" => Row::new(Level::Busy, Text::new("linkConnecting", &[&port])),
            "waiting" => Row::new(Level::Busy, Text::new("linkWaiting", &[])),
            _ => Row::new(Level::Busy, Text::new("linkSearching", &[])),
        };
        if row.level != Level::Ok {
            if let Some(f) = &self.link.foreign {
                let ext: String = f.extension.chars().take(16).collect();
                let port = f.port.to_string();
                if f.own_port && ext.bytes().all(|b| b.is_ascii_digit()) {
                    // Most likely the operator's own connector, set up for another extension
                    // (or a colleague's on a shared PC): say so, and what fixes it; the
                    // operator may accept it knowingly.
                    let ours = self.compute_link_config().extension;
                    row = Row::new(Level::Bad, Text::new("linkOtherExtension", &[&port, &ext, &ours]));
                    row.action = Some(status::Action::AcceptConnector { extension: ext });
                } else {
                    row = Row::new(Level::Bad, Text::new("linkForeign", &[&port, &ext]));
                }
            } else if let Some(p) = self.link.no_ack_port {
                row = Row::new(Level::Warn, Text::new("linkNoAck", &[&p.to_string()]));
            }
            if !self.outbox.is_empty() {
                row.extra = Some(Text::new("linkHeld", &[&self.outbox.len().to_string()]));
            }
        }
        row
    }

    /// The stream is not open: say what it waits for (the secret is the document's, so
    /// with an address and an agent it is what is missing).
    fn unconfigured_stream_row(&self) -> Row {
        let address = &self.settings.server_address;
        if address.is_empty() {
            Row::new(Level::Off, Text::new("streamUnconfigured", &[]))
        } else if crate::stream::base_url(address).is_none() {
            Row::new(Level::Bad, Text::new("streamBadAddress", &[&crate::cut(address.clone(), MAX_POP_TEXT)]))
        } else if !self.access_checked {
            Row::new(Level::Busy, Text::new("streamConnecting", &[]))
        } else if self.compute_link_config().extension.is_empty() {
            Row::new(Level::Busy, Text::new("streamNoAgent", &[]))
        } else {
            Row::new(Level::Warn, Text::new("streamNoSecret", &[]))
        }
    }

    fn pestroutes_row(&self) -> Row {
        if !self.missing_hosts.is_empty() {
            let mut row = Row::new(Level::Bad, Text::new("streamNoAccess", &[&self.missing_hosts.join(", ")]));
            row.action = Some(status::Action::GrantHosts { origins: self.missing_hosts.clone() });
            return row;
        }
        let agent = self.stream.agent.clone().unwrap_or_default();
        let mut row = match self.stream.state.as_str() {
            "connected" => Row::new(Level::Ok, Text::new("streamConnected", &[&agent])),
            "connecting" => Row::new(Level::Busy, Text::new("streamConnecting", &[])),
            "forbidden" => Row::new(Level::Bad, Text::new("streamForbidden", &[])),
            "badRequest" => Row::new(Level::Bad, Text::new("streamBadRequest", &[])),
            "unreachable" => Row::new(Level::Warn, Text::new("streamUnreachable", &[])),
            _ => return self.unconfigured_stream_row(),
        };
        if let Some(failed) = &self.last_pop_failed {
            if row.level == Level::Ok || row.level == Level::Busy {
                row.level = Level::Warn;
            }
            row.extra = Some(failed.clone());
        }
        row
    }
}
