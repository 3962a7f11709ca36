//! Which web origins are the operator's 3CX WebClient.
//!
//! Trust is an origin, as Chrome reports it for the sender of a message, never what a
//! page says about itself. The administrator's (or operator's) `webclientOrigins` list
//! wins when it is set; otherwise the first origin on which a WebClient session logs in
//! is pinned (trust on first use) until the operator forgets it.

use serde::{Deserialize, Serialize};

/// Longest origin we keep (scheme, a 253-character host, a port).
pub const MAX_ORIGIN_LEN: usize = 280;

/// What the trust says about one origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Configured, or pinned earlier.
    Trusted,
    /// Nothing is configured or pinned yet: the page may talk, and its first login pins it.
    Unpinned,
    /// Another origin holds the trust.
    Untrusted,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginTrust {
    configured: Vec<String>,
    /// Configured entries no WebClient can live on (plain http on a LAN host, a typo in a
    /// policy). While nothing usable is configured, they make the trust refuse every page
    /// rather than pin the first one: a list was given, so first use is not what was meant.
    unusable: Vec<String>,
    pinned: Option<String>,
}

/// Whether `origin` is one a WebClient can live on at all: `https://host[:port]`, or
/// plain http on the loopback names (the content scripts match nothing else).
pub fn is_candidate(origin: &str) -> bool {
    if origin.len() > MAX_ORIGIN_LEN || origin.ends_with('/') {
        return false;
    }
    let host_port = if let Some(rest) = origin.strip_prefix("https://") {
        rest
    } else if let Some(rest) = origin.strip_prefix("http://") {
        let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
        if host != "localhost" && host != "127.0.0.1" {
            return false;
        }
        rest
    } else {
        return false;
    };
    !host_port.is_empty()
        && !host_port.starts_with(':')
        && host_port.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl OriginTrust {
    /// The origins from the settings (local or policy): the candidates are trusted, the
    /// rest are kept as unusable (see `unusable`).
    pub fn set_configured(&mut self, origins: &[String]) {
        let (usable, unusable): (Vec<String>, Vec<String>) =
            origins.iter().filter(|o| !o.is_empty()).cloned().partition(|o| is_candidate(o));
        self.configured = usable;
        self.configured.dedup();
        self.unusable = unusable;
    }

    pub fn configured(&self) -> &[String] {
        &self.configured
    }

    pub fn unusable(&self) -> &[String] {
        &self.unusable
    }

    pub fn pinned(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    /// A list was set, and not one entry in it can be used: no page is trusted (not even
    /// on first use).
    pub fn refuses_all(&self) -> bool {
        self.configured.is_empty() && !self.unusable.is_empty()
    }

    pub fn judge(&self, origin: &str) -> Verdict {
        if !is_candidate(origin) {
            return Verdict::Untrusted;
        }
        if !self.configured.is_empty() {
            return if self.configured.iter().any(|o| o == origin) { Verdict::Trusted } else { Verdict::Untrusted };
        }
        if self.refuses_all() {
            return Verdict::Untrusted;
        }
        match &self.pinned {
            Some(p) if p == origin => Verdict::Trusted,
            Some(_) => Verdict::Untrusted,
            None => Verdict::Unpinned,
        }
    }

    /// A WebClient session logged in on `origin`. Returns whether it is trusted now, and
    /// pins it when nothing else holds the trust. Pinning needs no configuration list: a
    /// configured list is the administrator's decision and is never extended.
    pub fn admit_login(&mut self, origin: &str) -> (Verdict, bool) {
        match self.judge(origin) {
            Verdict::Unpinned => {
                self.pinned = Some(origin.to_owned());
                (Verdict::Trusted, true)
            }
            v => (v, false),
        }
    }

    /// The operator forgot the pinned origin: the next login pins again.
    pub fn forget_pinned(&mut self) -> Option<String> {
        self.pinned.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_list_with_nothing_usable_trusts_no_page_and_pins_none() {
        let mut t = OriginTrust::default();
        t.set_configured(&["http://pbx.office.lan:5000".into(), "pbx.example.com".into()]);
        assert_eq!(t.judge("https://pbx.example.com"), Verdict::Untrusted);
        assert_eq!(t.admit_login("https://pbx.example.com"), (Verdict::Untrusted, false));
        assert_eq!(t.unusable().len(), 2);
        // One usable entry beside an unusable one: that one is trusted.
        t.set_configured(&["http://pbx.office.lan:5000".into(), "https://pbx.example.com".into()]);
        assert_eq!(t.judge("https://pbx.example.com"), Verdict::Trusted);
        // An empty list is no list: first use.
        t.set_configured(&[]);
        assert_eq!(t.judge("https://pbx.example.com"), Verdict::Unpinned);
    }

    #[test]
    fn only_https_and_loopback_http_are_candidates() {
        assert!(is_candidate("https://pbx.example.com"));
        assert!(is_candidate("https://pbx.example.com:5001"));
        assert!(is_candidate("http://127.0.0.1:8080"));
        assert!(is_candidate("http://localhost:3000"));
        assert!(!is_candidate("http://pbx.example.com"));
        assert!(!is_candidate("https://:443"), "no host");
        assert!(!is_candidate("https://pbx.example.com/"));
        assert!(!is_candidate("chrome-extension://abc"));
        assert!(!is_candidate("https://"));
        assert!(!is_candidate("https://a b"));
        assert!(!is_candidate(&format!("https://{}", "a".repeat(300))));
    }

    #[test]
    fn first_login_pins_and_others_are_refused() {
        let mut t = OriginTrust::default();
        assert_eq!(t.judge("https://pbx.a"), Verdict::Unpinned);
        assert_eq!(t.admit_login("https://pbx.a"), (Verdict::Trusted, true));
        assert_eq!(t.admit_login("https://pbx.a"), (Verdict::Trusted, false));
        assert_eq!(t.judge("https://evil.b"), Verdict::Untrusted);
        assert_eq!(t.admit_login("https://evil.b"), (Verdict::Untrusted, false));
        assert_eq!(t.forget_pinned().as_deref(), Some("https://pbx.a"));
        assert_eq!(t.judge("https://evil.b"), Verdict::Unpinned);
    }

    #[test]
    fn a_configured_list_wins_and_is_never_extended() {
        let mut t = OriginTrust::default();
        t.set_configured(&["https://pbx.a".into(), "http://evil.b".into()]);
        assert_eq!(t.configured(), ["https://pbx.a"]);
        assert_eq!(t.judge("https://pbx.a"), Verdict::Trusted);
        assert_eq!(t.admit_login("https://other.c"), (Verdict::Untrusted, false));
        assert_eq!(t.pinned(), None);
    }
}
