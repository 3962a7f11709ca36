//! The operator's phones, and which of them the WebClient uses to dial.
//!
//! The WebClient lists the registrations of the operator's extension (MyExtensionInfo
//! field 9), adds its own softphone, and dials with the device the operator picked in it,
//! a choice it keeps in the page's localStorage (`spec/3cx-webclient.md`, "Which device").
//! For a desk phone or an app it POSTs RequestMakeCall with that device's Contact; for its
//! own softphone it places the call over WebRTC, which no extension can do for it, so the
//! way in is its dialer. [`Devices::selected`] resolves the choice exactly as the
//! WebClient's code does (20.0.7, its `selectedPhoneDevice$`), quirks included: with no
//! stored choice it is the first device of its list, and desk phones come first.

use serde::{Deserialize, Serialize};

use crate::schema::{
    ActionType, MyWebRtcEndpoint, Registration, Registrations, UA_HIDDEN_PREFIXES, UA_MOBILE_CLIENT, UA_WEBRTC,
};

/// Most registrations kept for one tab: an operator has a handful of devices.
pub const MAX_DEVICES: usize = 32;
/// Longest Contact, UserAgent or stored choice kept, in characters.
pub const MAX_DEVICE_TEXT: usize = 256;
/// Longest stored choice taken, in bytes (the page's bound, 1024 UTF-16 units, in UTF-8).
pub const MAX_CHOICE_BYTES: usize = 3 * 1024;
/// The Contact of the softphone the WebClient adds when none is registered [WC].
const SYNTHETIC_CONTACT: &str = "Browser";

/// One registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub id: i64,
    pub contact: String,
    pub user_agent: String,
}

impl Device {
    /// The WebClient's own softphone.
    pub fn is_webclient(&self) -> bool {
        self.user_agent == UA_WEBRTC
    }
}

/// The choice as the WebClient stored it: a UserAgent, or a UserAgent and an IP address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Choice {
    user_agent: Option<String>,
    ip: Option<String>,
}

/// Which device DIAL goes through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selected<'a> {
    /// A desk phone or an app: RequestMakeCall with its Contact.
    Phone(&'a Device),
    /// The WebClient's own softphone (or no device at all): only its dialer can dial.
    WebClient,
}

/// The devices of one WebClient tab.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Devices {
    /// As registered, in the order the PBX listed them.
    list: Vec<Device>,
    /// The softphone's own Contact and whether it is registered (MyWebRTCEndpoint).
    endpoint_contact: String,
    endpoint_registered: Option<bool>,
    /// The stored choice, as the page read it (JSON text), and as read here.
    choice_raw: String,
    choice: Choice,
}

/// The first IPv4 address in `s` (as the WebClient's `\b\d{1,3}(\.\d{1,3}){3}\b`), else a
/// bracketed IPv6 host (`sip:101@[2001:db8::1]:5060`).
fn ip_in(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let word = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
    // Groups of 1–3 digits joined by dots, trying longer groups first, as a regex would.
    fn groups(b: &[u8], i: usize, left: u32) -> Option<usize> {
        for len in (1..=3).rev() {
            let end = i + len;
            if end > b.len() || !b[i..end].iter().all(u8::is_ascii_digit) {
                continue;
            }
            if left == 1 {
                if !b.get(end).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
                    return Some(end);
                }
            } else if b.get(end) == Some(&b'.') {
                if let Some(e) = groups(b, end + 1, left - 1) {
                    return Some(e);
                }
            }
        }
        None
    }
    for i in 0..b.len() {
        if b[i].is_ascii_digit() && (i == 0 || !word(i - 1)) {
            if let Some(end) = groups(b, i, 4) {
                return Some(s[i..end].to_owned());
            }
        }
    }
    let start = s.find('[')?;
    let end = start + s[start..].find(']')?;
    Some(s[start + 1..end].to_owned())
}

impl Devices {
    /// The registrations list of a MyExtensionInfo (full or delta). Returns a note for the
    /// log when items had to be refused.
    pub fn apply(&mut self, regs: Registrations) -> Option<String> {
        let full = regs.action == Some(ActionType::FullUpdate as i64);
        let mut present = Vec::new();
        let mut refused = 0;
        for item in regs.items {
            let Some(id) = item.id else { continue };
            if item.action == Some(ActionType::Deleted as i64) {
                self.list.retain(|d| d.id != id);
                continue;
            }
            present.push(id);
            let full_table = self.list.len() >= MAX_DEVICES;
            match self.list.iter_mut().find(|d| d.id == id) {
                Some(d) => merge(d, item),
                None if full_table => refused += 1,
                None => {
                    let mut d = Device { id, contact: String::new(), user_agent: String::new() };
                    merge(&mut d, item);
                    self.list.push(d);
                }
            }
        }
        if full {
            self.list.retain(|d| present.contains(&d.id));
        }
        (refused > 0).then(|| format!("{refused} devices refused: {MAX_DEVICES} are known already"))
    }

    /// MyWebRTCEndpoint: the softphone's registration.
    pub fn apply_endpoint(&mut self, ep: MyWebRtcEndpoint) {
        if let Some(c) = ep.device_contact {
            self.endpoint_contact = crate::cut(c, MAX_DEVICE_TEXT);
        }
        if ep.registered.is_some() {
            self.endpoint_registered = ep.registered;
        }
    }

    /// The choice stored in the page (`wc.<extension>__selectedphonedevice`, JSON: a
    /// UserAgent string or `{userAgent, ipAddress}`; empty: none). Returns whether it
    /// changed.
    pub fn set_choice(&mut self, raw: &str) -> bool {
        // Kept as the page sent it: the page compares its own reading with this text, and a
        // text cut here would never equal it. The page bounds it (messages.js, CHOICE_MAX
        // UTF-16 units); anything longer is no choice.
        let raw = if raw.len() > MAX_CHOICE_BYTES { String::new() } else { raw.to_owned() };
        if raw == self.choice_raw {
            return false;
        }
        let text = |v: &serde_json::Value| v.as_str().map(|s| crate::cut(s.to_owned(), MAX_DEVICE_TEXT));
        self.choice = match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(serde_json::Value::Object(o)) => {
                Choice { user_agent: o.get("userAgent").and_then(text), ip: o.get("ipAddress").and_then(text) }
            }
            Ok(v) => Choice { user_agent: text(&v), ip: None },
            Err(_) => Choice::default(),
        };
        self.choice_raw = raw;
        true
    }

    /// The stored choice as the page sent it (the page compares it before dialling).
    pub fn choice_raw(&self) -> &str {
        &self.choice_raw
    }

    pub fn registered(&self) -> &[Device] {
        &self.list
    }

    /// The softphone's Contact and registration, as MyWebRTCEndpoint last said.
    pub fn endpoint(&self) -> (&str, Option<bool>) {
        (&self.endpoint_contact, self.endpoint_registered)
    }

    /// The devices the WebClient offers, in its order: desk phones and other apps, then its
    /// own softphone (one it adds when none is registered), then the other 3CX agents.
    pub fn offered(&self) -> Vec<Device> {
        let shown: Vec<&Device> = self
            .list
            .iter()
            .filter(|d| {
                let ua = d.user_agent.to_lowercase();
                !d.user_agent.is_empty() && !UA_HIDDEN_PREFIXES.iter().any(|p| ua.starts_with(p))
            })
            .collect();
        let mut webclient: Vec<Device> = shown.iter().filter(|d| d.is_webclient()).map(|d| (*d).clone()).collect();
        if webclient.is_empty() {
            webclient.push(Device { id: 0, contact: SYNTHETIC_CONTACT.into(), user_agent: UA_WEBRTC.into() });
        }
        let three_cx = |d: &&&Device| d.user_agent.to_lowercase().contains("3cx");
        let others = shown.iter().filter(|d| !d.is_webclient() && !three_cx(d)).map(|d| (*d).clone());
        let agents = shown.iter().filter(|d| !d.is_webclient() && three_cx(d)).map(|d| (*d).clone());
        others.chain(webclient).chain(agents).collect()
    }

    /// The device the WebClient dials with now.
    pub fn selected(&self) -> Selected<'_> {
        let offered = self.offered();
        let want = &self.choice;
        let pos = offered
            .iter()
            .position(|d| want.user_agent.as_deref() == Some(&d.user_agent) && ip_in(&d.contact) == want.ip)
            .or_else(|| offered.iter().position(|d| want.user_agent.as_deref() == Some(&d.user_agent)))
            .or_else(|| {
                matches!(want.user_agent.as_deref(), Some(UA_WEBRTC | UA_MOBILE_CLIENT))
                    .then(|| offered.iter().position(Device::is_webclient))
                    .flatten()
            })
            .unwrap_or(0);
        let device = &offered[pos];
        if device.is_webclient() {
            return Selected::WebClient;
        }
        Selected::Phone(self.list.iter().find(|d| d.id == device.id).expect("offered from the list"))
    }

    /// The first desk phone or app in the WebClient's order (for DIAL by request while the
    /// WebClient's own softphone is selected).
    pub fn first_phone(&self) -> Option<&Device> {
        let first = self.offered().into_iter().find(|d| !d.is_webclient())?;
        self.list.iter().find(|d| d.id == first.id)
    }
}

fn merge(d: &mut Device, item: Registration) {
    if let Some(c) = item.contact {
        d.contact = crate::cut(c, MAX_DEVICE_TEXT);
    }
    if let Some(ua) = item.user_agent {
        d.user_agent = crate::cut(ua, MAX_DEVICE_TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::UA_PUSH;

    fn reg(id: i64, ua: &str, contact: &str) -> Registration {
        Registration {
            action: Some(2),
            id: Some(id),
            contact: Some(contact.into()),
            user_agent: Some(ua.into()),
            ..Default::default()
        }
    }

    fn devices(items: Vec<Registration>) -> Devices {
        let mut d = Devices::default();
        d.apply(Registrations { action: Some(1), items });
        d
    }

    const DESK: &str = "Yealink SIP-T46S 66.86.0.15";

    #[test]
    fn the_ip_is_read_as_the_webclient_reads_it() {
        assert_eq!(ip_in("sip:101@192.168.1.50:5060;transport=udp").as_deref(), Some("192.168.1.50"));
        assert_eq!(ip_in("sip:101@1234.5.6.7"), None);
        assert_eq!(ip_in("sip:101@[2001:db8::1]:5060").as_deref(), Some("2001:db8::1"));
        assert_eq!(ip_in("Browser"), None);
    }

    #[test]
    fn with_no_choice_the_first_device_of_the_webclients_order_dials() {
        // Registered in this order; the WebClient puts desk phones first.
        let d = devices(vec![
            reg(1, UA_WEBRTC, "sip:101@10.0.0.9:5061"),
            reg(2, UA_PUSH, "sip:101@push"),
            reg(3, DESK, "sip:101@192.168.1.50:5060"),
        ]);
        let order: Vec<i64> = d.offered().iter().map(|x| x.id).collect();
        assert_eq!(order, vec![3, 1, 2]);
        assert!(matches!(d.selected(), Selected::Phone(p) if p.id == 3));
        // Nothing but the softphone: it dials through its dialer.
        assert_eq!(devices(vec![reg(1, UA_WEBRTC, "x")]).selected(), Selected::WebClient);
        assert_eq!(Devices::default().selected(), Selected::WebClient, "no registrations yet: the WebClient's own");
    }

    #[test]
    fn a_stored_choice_is_matched_by_agent_and_address_then_agent() {
        let mut d = devices(vec![
            reg(3, DESK, "sip:101@192.168.1.50:5060"),
            reg(4, DESK, "sip:101@192.168.1.51:5060"),
            reg(1, UA_WEBRTC, "sip:101@10.0.0.9"),
        ]);
        assert!(d.set_choice(r#"{"userAgent":"Yealink SIP-T46S 66.86.0.15","ipAddress":"192.168.1.51"}"#));
        assert!(matches!(d.selected(), Selected::Phone(p) if p.id == 4));
        d.set_choice(r#"{"userAgent":"Yealink SIP-T46S 66.86.0.15","ipAddress":"10.1.1.1"}"#);
        assert!(matches!(d.selected(), Selected::Phone(p) if p.id == 3), "address gone: the first with that agent");
        d.set_choice(r#""3CX WebRTC proxy""#);
        assert_eq!(d.selected(), Selected::WebClient);
        d.set_choice(r#"{"userAgent":"3CX Mobile Client"}"#);
        assert_eq!(d.selected(), Selected::WebClient, "the mobile client's choice means the softphone");
        d.set_choice(r#"{"userAgent":"Snom D785"}"#);
        assert!(matches!(d.selected(), Selected::Phone(p) if p.id == 3), "unknown agent: the first device");
        assert!(!d.set_choice(r#"{"userAgent":"Snom D785"}"#), "unchanged");
        assert!(d.set_choice("not json"));
        assert!(matches!(d.selected(), Selected::Phone(p) if p.id == 3));
    }

    #[test]
    fn deltas_hidden_agents_and_bounds() {
        let mut d = devices(vec![reg(3, DESK, "sip:101@192.168.1.50"), reg(5, "3CX Teams Agent 1.0", "sip:t")]);
        assert_eq!(d.offered().len(), 2, "the teams agent is hidden; the softphone is added");
        d.apply(Registrations {
            action: Some(3),
            items: vec![Registration { action: Some(4), id: Some(3), ..Default::default() }],
        });
        assert_eq!(d.selected(), Selected::WebClient, "the desk phone went away");
        assert_eq!(d.first_phone(), None);
        let many = (0..40).map(|i| reg(100 + i, DESK, "sip:x")).collect();
        let note = d.apply(Registrations { action: Some(3), items: many });
        assert!(note.is_some());
        assert_eq!(d.registered().len(), MAX_DEVICES);
        d.apply_endpoint(MyWebRtcEndpoint {
            action: None,
            registered: Some(true),
            device_contact: Some("sip:x".into()),
        });
        assert_eq!(d.endpoint(), ("sip:x", Some(true)));
    }
}
