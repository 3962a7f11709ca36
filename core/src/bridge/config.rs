//! The settings the call path acts on, and the addresses they name.

use serde::{Deserialize, Serialize};

use super::pace;

/// Hosts granted at install (manifest `host_permissions`): PestRoutes and FieldRoutes
/// offices need no click for screen-pops.
pub const INSTALL_GRANTED_HOSTS: [&str; 2] = [".pestroutes.com", ".fieldroutes.com"];

/// Opening a customer in the PestRoutes tab: how long the tab may take to load, and how
/// the search result list is watched (spec/pestroutes-sse.md: about every 150 ms, ~3 s).
pub const POP_LOAD_TIMEOUT_MS: u32 = 30_000;
pub const POP_POLL_MS: u32 = 150;
pub const POP_POLL_FOR_MS: u32 = 3_000;
/// Screen-pops waiting for the PestRoutes tab; more are dropped (and logged).
pub const POP_QUEUE_MAX: u32 = 8;

/// `scheme://host[:port]` of an http(s) address, lower-cased; `host:port` means http.
pub fn web_origin(address: &str) -> Option<String> {
    let a = address.trim();
    if a.is_empty() || a.len() > 512 {
        return None;
    }
    let lower = a.to_ascii_lowercase();
    let (scheme, rest) = if let Some(r) = lower.strip_prefix("https://") {
        ("https", r)
    } else if let Some(r) = lower.strip_prefix("http://") {
        ("http", r)
    } else if lower.contains("://") {
        return None;
    } else {
        ("http", lower.as_str())
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host =
        host_port
            .rsplit_once(':')
            .map_or(host_port, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { host_port });
    if host.is_empty()
        || host.contains('@')
        || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    {
        return None;
    }
    Some(format!("{scheme}://{host_port}"))
}

/// Host permission patterns PestRoutes needs beyond what the manifest grants at install:
/// the middleware's and the PestRoutes page's origins.
pub fn host_patterns(server_address: &str, pestroutes_url: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in [web_origin(server_address), web_origin(pestroutes_url)].into_iter().flatten() {
        let host = o.split("://").nth(1).unwrap_or("");
        let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let granted = o.starts_with("https://") && INSTALL_GRANTED_HOSTS.iter().any(|d| host.ends_with(d));
        let pattern = format!("{o}/*");
        if !granted && !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    out
}

/// How DATEV's DIAL and a click-to-dial reach the PBX (`spec/3cx-webclient.md`, "How the
/// WebClient itself dials").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DialMethod {
    /// As the WebClient would: with the device selected in it. A desk phone or app by
    /// RequestMakeCall; the WebClient's own softphone through its dialer. A refused
    /// request leaves the number in the dialer for the operator.
    #[default]
    Auto,
    /// Always RequestMakeCall, with the selected desk phone or app, else the first one
    /// registered; never the dialer.
    Request,
    /// Always the WebClient's dialer, confirmed with Enter (whichever device it uses).
    Dialer,
}

/// The settings the core acts on (local or policy; the shell has validated types).
/// The PestRoutes secret is not among them: the core never needs it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub extension_number: String,
    pub bridge_port: u16,
    pub dial_method: DialMethod,
    pub dial_blocked_prefixes: Vec<String>,
    pub webclient_origins: Vec<String>,
    /// A connector set up for this extension (not the operator's) is accepted as ours.
    pub connector_extension: String,
    /// Clicks on phone numbers in PestRoutes pages dial (see `handle_click_to_dial`).
    pub click_to_dial: bool,
    /// The office's PestRoutes address: its origin may ask to dial too.
    pub pestroutes_url: String,
    /// The PestRoutes middleware (`host:port` or a URL): the stream is opened only once
    /// the extension may reach it (`stream_address`).
    pub server_address: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            extension_number: String::new(),
            bridge_port: 0,
            dial_method: DialMethod::Auto,
            dial_blocked_prefixes: pace::DEFAULT_BLOCKED_PREFIXES.map(String::from).to_vec(),
            webclient_origins: Vec::new(),
            connector_extension: String::new(),
            click_to_dial: true,
            pestroutes_url: String::new(),
            server_address: String::new(),
        }
    }
}
