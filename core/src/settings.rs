//! The office's settings: their names, defaults and limits, and the one validator used
//! wherever a value comes in (storage, the administrator's policy, the options form).
//!
//! A value of the wrong shape is never trusted: it is ignored and the default (or the
//! operator's own value, under a broken policy value) applies. Values arrive as JSON
//! (`chrome.storage` holds JSON), so this works on `serde_json::Value`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::bridge::pace::{DEFAULT_BLOCKED_PREFIXES, MAX_PREFIXES, MAX_PREFIX_LEN};
use crate::bridge::trust::{is_candidate, MAX_ORIGIN_LEN};
use crate::bridge::web_origin;

/// Free-text settings (middleware address, secret, PestRoutes address) longer than this
/// are refused: no real address or secret is, and storage must stay small.
pub const MAX_TEXT_LEN: usize = 512;
/// Most WebClient origins kept: an office has one PBX, a few at most.
pub const MAX_ORIGINS: usize = 16;
/// The extension number is digits only (3CX: up to 10).
pub const MAX_EXTENSION_DIGITS: usize = 10;

/// Every setting, in the order the options page shows them.
pub const KEYS: [&str; 11] = [
    "webclientOrigins",
    "extensionNumber",
    "dialMethod",
    "bridgePort",
    "connectorExtension",
    "dialBlockedPrefixes",
    "serverAddress",
    "sharedSecret",
    "pestroutesUrl",
    "clickToDial",
    "debugLogging",
];

/// The value a setting has when neither the operator nor the administrator set it.
pub fn default_value(key: &str) -> Option<Value> {
    Some(match key {
        "extensionNumber" | "connectorExtension" | "serverAddress" | "sharedSecret" | "pestroutesUrl" => {
            Value::from("")
        }
        "bridgePort" => Value::from(0),
        "dialMethod" => Value::from("auto"),
        "debugLogging" => Value::from(false),
        "clickToDial" => Value::from(true),
        "webclientOrigins" => Value::Array(Vec::new()),
        "dialBlockedPrefixes" => Value::from(DEFAULT_BLOCKED_PREFIXES.to_vec()),
        _ => return None,
    })
}

/// Every setting at its default.
pub fn defaults() -> Map<String, Value> {
    KEYS.iter().filter_map(|k| Some(((*k).to_owned(), default_value(k)?))).collect()
}

/// `scheme://host[:port]` of an address typed with its scheme, as a browser reports
/// origins (lower case, without the scheme's default port). Anything else: `None`.
pub fn origin(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.contains("://") {
        return None;
    }
    let o = web_origin(t)?;
    let o = o.strip_suffix(":443").filter(|_| o.starts_with("https://")).map(str::to_owned).unwrap_or(o);
    let o = o.strip_suffix(":80").filter(|_| o.starts_with("http://")).map(str::to_owned).unwrap_or(o);
    Some(o)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => Some(0.0),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Null => Some(0.0),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.len() <= MAX_TEXT_LEN => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// A blocked prefix as written by people: digits with an optional leading `+`, spaces,
/// dashes, dots, slashes, brackets and a trailing `*` allowed and taken out (numbers are
/// compared without them, `bridge::pace::normalise`).
fn prefix(item: &str) -> Option<String> {
    let item = item.trim().trim_end_matches('*');
    // "+49 (0) 900": the (0) is not dialled after a country code.
    let item = if item.starts_with('+') { item.replace("(0)", "") } else { item.to_owned() };
    let mut out = String::new();
    for c in item.chars() {
        match c {
            '0'..='9' => out.push(c),
            '+' if out.is_empty() => out.push(c),
            // Any space (a non-breaking one pasted from a document too), any dash.
            '.' | '/' | '(' | ')' => {}
            c if c.is_whitespace() || matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}') => {}
            _ => return None,
        }
    }
    let digits = out.strip_prefix('+').unwrap_or(&out);
    (!digits.is_empty() && out.len() <= MAX_PREFIX_LEN).then_some(out)
}

/// A list setting as stored (a JSON array) or as typed (one string, items separated by
/// spaces, commas or semicolons).
fn items(v: &Value) -> Option<(Vec<String>, bool)> {
    let keep = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    match v {
        Value::Array(a) => Some((a.iter().filter_map(|x| keep(x.as_str().unwrap_or("").trim())).collect(), false)),
        Value::String(s) if s.len() <= MAX_TEXT_LEN * 4 => {
            Some((s.split(|c: char| c.is_whitespace() || c == ',' || c == ';').filter_map(keep).collect(), true))
        }
        _ => None,
    }
}

/// Who set a value: the operator (the form, their store) or the administrator (policy).
/// Only the WebClient list reads them differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Operator,
    Policy,
}

/// The checked value of one setting the operator set, or `None` when it is not acceptable.
pub fn clean(key: &str, v: &Value) -> Option<Value> {
    clean_from(key, v, Source::Operator)
}

/// The checked value of one setting from `source`, or `None` when it is not acceptable.
fn clean_from(key: &str, v: &Value, source: Source) -> Option<Value> {
    match key {
        "extensionNumber" | "connectorExtension" => {
            let s = match v {
                Value::Null => String::new(),
                Value::Number(n) => n.to_string(),
                other => text(other)?,
            };
            (s.len() <= MAX_EXTENSION_DIGITS && s.bytes().all(|b| b.is_ascii_digit())).then(|| Value::from(s))
        }
        "bridgePort" => {
            let n = number(v)?;
            (n.fract() == 0.0 && (0.0..=65535.0).contains(&n)).then(|| Value::from(n as u16))
        }
        // "protobuf" and "tel" are the names of earlier versions (stored, or in a policy).
        "dialMethod" => match v.as_str()? {
            "auto" => Some(Value::from("auto")),
            "request" | "protobuf" => Some(Value::from("request")),
            "dialer" | "tel" => Some(Value::from("dialer")),
            _ => None,
        },
        "debugLogging" | "clickToDial" => v.is_boolean().then(|| v.clone()),
        "webclientOrigins" => {
            let (list, typed) = items(v)?;
            let mut out: Vec<String> = Vec::new();
            for item in &list {
                let usable = origin(item).filter(|o| is_candidate(o));
                // Typed in the form: every item must be an address a WebClient can be
                // trusted on (https, or http on this PC), so a typo is shown at once.
                if typed && usable.is_none() {
                    return None;
                }
                // From a policy: an item that is not one is kept as it is (cut), so that the
                // trust refuses every page instead of falling back to first use
                // (bridge::trust), and the popup names it. From the operator's store it is
                // left out, as it always was (earlier versions saved http:// LAN addresses,
                // and first use then trusted the real WebClient).
                let o = match usable {
                    Some(o) => o,
                    None if source == Source::Policy => item.chars().take(MAX_ORIGIN_LEN).collect(),
                    None => continue,
                };
                if !out.contains(&o) {
                    out.push(o);
                }
            }
            if typed && out.len() > MAX_ORIGINS {
                return None;
            }
            // A policy with too many keeps the first ones rather than being set aside
            // whole (which would leave the operator's own value, or first use).
            out.truncate(MAX_ORIGINS);
            Some(Value::from(out))
        }
        "dialBlockedPrefixes" => {
            let (list, typed) = items(v)?;
            let mut out: Vec<String> = Vec::new();
            for item in &list {
                // Typed, a space separates items: "+49 (0) 900" would become "+49", "(0)"
                // (blocking every national number) and "900". Brackets are refused there.
                if typed && item.contains(['(', ')']) {
                    return None;
                }
                match prefix(item) {
                    Some(p) if !out.contains(&p) => out.push(p),
                    Some(_) => {}
                    // Typed: shown at once. From storage or policy: that entry is left out,
                    // the others still apply and stay the administrator's (setting the whole
                    // list aside would leave the operator's own, or none).
                    None if typed => return None,
                    None => {}
                }
            }
            if typed && out.len() > MAX_PREFIXES {
                return None;
            }
            // Nothing usable in a list that was not empty: set aside whole, so that the
            // operator's list or the default blocks, not an empty list locked by policy.
            if out.is_empty() && !list.is_empty() {
                return None;
            }
            out.truncate(MAX_PREFIXES);
            Some(Value::from(out))
        }
        "serverAddress" | "sharedSecret" => text(v).map(Value::from),
        "pestroutesUrl" => {
            let s = text(v)?;
            (s.is_empty() || origin(&s).is_some()).then(|| Value::from(s))
        }
        _ => None,
    }
}

/// The settings in force, and which of them the administrator set.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Combined {
    pub values: Map<String, Value>,
    pub managed_keys: Vec<String>,
}

/// Policy over the operator's values over the defaults, each value checked on its own.
pub fn combine(local: &Map<String, Value>, managed: &Map<String, Value>) -> Combined {
    let mut values = defaults();
    let mut managed_keys = Vec::new();
    for key in KEYS {
        if let Some(v) = local.get(key).and_then(|v| clean(key, v)) {
            values.insert(key.to_owned(), v);
        }
        if let Some(v) = managed.get(key).and_then(|v| clean_from(key, v, Source::Policy)) {
            values.insert(key.to_owned(), v);
            managed_keys.push(key.to_owned());
        }
    }
    Combined { values, managed_keys }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn defaults_cover_every_key_and_pass_their_own_check() {
        let d = defaults();
        assert_eq!(d.len(), KEYS.len());
        for (k, v) in &d {
            assert_eq!(clean(k, v).as_ref(), Some(v), "{k}");
        }
        assert_eq!(d["dialMethod"], json!("auto"));
        assert_eq!(d["dialBlockedPrefixes"], json!(["0900", "+49900", "0049900", "0137", "+49137", "0049137"]));
    }

    #[test]
    fn numbers_are_bounded_and_accept_typed_text() {
        assert_eq!(clean("dialDelay", &json!(750)), None, "a setting of earlier versions, no longer read");
        assert_eq!(clean("bridgePort", &json!("")), Some(json!(0)));
        assert_eq!(clean("bridgePort", &json!(19901)), Some(json!(19901)));
        assert_eq!(clean("bridgePort", &json!(65536)), None);
        assert_eq!(clean("bridgePort", &json!(1.5)), None);
        assert_eq!(clean("extensionNumber", &json!(" 101 ")), Some(json!("101")));
        assert_eq!(clean("extensionNumber", &json!(101)), Some(json!("101")));
        assert_eq!(clean("extensionNumber", &json!("10a")), None);
        assert_eq!(clean("extensionNumber", &json!("12345678901")), None);
        assert_eq!(clean("connectorExtension", &json!(" 102 ")), Some(json!("102")));
        assert_eq!(clean("connectorExtension", &json!("")), Some(json!("")));
        assert_eq!(clean("connectorExtension", &json!("1o2")), None);
    }

    #[test]
    fn choices_and_flags_take_only_their_values() {
        assert_eq!(clean("dialMethod", &json!("request")), Some(json!("request")));
        assert_eq!(clean("dialMethod", &json!("dialer")), Some(json!("dialer")));
        // The names of earlier versions, in a store or a policy, mean the same ways.
        assert_eq!(clean("dialMethod", &json!("tel")), Some(json!("dialer")));
        assert_eq!(clean("dialMethod", &json!("protobuf")), Some(json!("request")));
        assert_eq!(clean("dialMethod", &json!("fax")), None);
        assert_eq!(clean("debugLogging", &json!("true")), None);
        assert_eq!(clean("debugLogging", &json!(true)), Some(json!(true)));
        assert_eq!(clean("nonsense", &json!(1)), None);
    }

    #[test]
    fn origins_are_normalised_strict_when_typed_lenient_when_stored() {
        assert_eq!(
            clean("webclientOrigins", &json!("https://PBX.example.com:443/webclient, https://b.example:5001")),
            Some(json!(["https://pbx.example.com", "https://b.example:5001"]))
        );
        assert_eq!(clean("webclientOrigins", &json!("https://pbx.example.com pbx2")), None);
        assert_eq!(clean("webclientOrigins", &json!("http://pbx.office.lan:5000")), None, "typed: not a WebClient's");
        assert_eq!(clean("webclientOrigins", &json!("http://localhost:5001")), Some(json!(["http://localhost:5001"])));
        // Set by policy: what is not usable stays, for the trust to refuse on.
        assert_eq!(
            clean_from(
                "webclientOrigins",
                &json!(["https://pbx.example.com", "pbx2", 7, "http://pbx.lan"]),
                Source::Policy
            ),
            Some(json!(["https://pbx.example.com", "pbx2", "http://pbx.lan"]))
        );
        let many: Vec<String> = (0..17).map(|i| format!("https://p{i}.example")).collect();
        assert_eq!(clean("webclientOrigins", &json!(many.clone())).unwrap().as_array().unwrap().len(), 16);
        assert_eq!(clean("webclientOrigins", &json!(many.join(" "))), None, "typed: too many is shown");
    }

    #[test]
    fn prefixes_are_digits_with_an_optional_plus() {
        assert_eq!(clean("dialBlockedPrefixes", &json!("0900; +49137,0180")), Some(json!(["0900", "+49137", "0180"])));
        assert_eq!(clean("dialBlockedPrefixes", &json!("0900 09x")), None, "typed: shown");
        assert_eq!(clean("dialBlockedPrefixes", &json!("0180-5 0900*")), Some(json!(["01805", "0900"])));
        assert_eq!(clean("dialBlockedPrefixes", &json!("+49 (0) 900")), None, "typed: (0) alone would block every 0");
        // From storage or policy: written as people write numbers, and one bad entry
        // leaves the others in force.
        assert_eq!(
            clean(
                "dialBlockedPrefixes",
                &json!([
                    "+49 900",
                    "0180-5",
                    "0900*",
                    "09x",
                    "12345678901234567",
                    "+",
                    "+49\u{a0}137",
                    "0180\u{2013}6"
                ])
            ),
            Some(json!(["+49900", "01805", "0900", "+49137", "01806"]))
        );
        assert_eq!(clean("dialBlockedPrefixes", &json!(["+49 (0) 900"])), Some(json!(["+49900"])));
        // Not one of them a number: set aside, so that the default still blocks.
        assert_eq!(clean("dialBlockedPrefixes", &json!(["0900x", "0137%"])), None);
        assert_eq!(clean("dialBlockedPrefixes", &json!([])), Some(json!([])), "empty on purpose: blocks nothing");
        let many: Vec<String> = (0..65).map(|i| format!("0{i}")).collect();
        assert_eq!(clean("dialBlockedPrefixes", &json!(many.clone())).unwrap().as_array().unwrap().len(), 64);
        assert_eq!(clean("dialBlockedPrefixes", &json!(many.join(" "))), None, "typed: too many is shown");
    }

    #[test]
    fn texts_are_bounded_and_the_pestroutes_address_is_an_origin() {
        assert_eq!(clean("sharedSecret", &json!(" s3cret ")), Some(json!("s3cret")));
        assert_eq!(clean("sharedSecret", &json!("x".repeat(513))), None);
        assert_eq!(
            clean("pestroutesUrl", &json!("https://office.pestroutes.com/")),
            Some(json!("https://office.pestroutes.com/"))
        );
        assert_eq!(clean("pestroutesUrl", &json!("office.pestroutes.com")), None);
        assert_eq!(clean("pestroutesUrl", &json!("")), Some(json!("")));
    }

    #[test]
    fn an_operators_stored_origins_keep_only_usable_ones_a_policys_keep_all() {
        let stored = map(json!({"webclientOrigins": ["http://pbx.office.lan:5000", "https://pbx.example.com"]}));
        assert_eq!(combine(&stored, &Map::new()).values["webclientOrigins"], json!(["https://pbx.example.com"]));
        let c = combine(&Map::new(), &stored);
        assert_eq!(c.values["webclientOrigins"], json!(["http://pbx.office.lan:5000", "https://pbx.example.com"]));
    }

    #[test]
    fn policy_wins_over_local_and_bad_values_fall_back() {
        let c = combine(
            &map(json!({"clickToDial": false, "bridgePort": "x", "dialMethod": "tel"})),
            &map(
                json!({"dialMethod": "protobuf", "extensionNumber": "abc", "webclientOrigins": ["https://pbx.example"]}),
            ),
        );
        assert_eq!(c.values["clickToDial"], json!(false));
        assert_eq!(c.values["bridgePort"], json!(0));
        assert_eq!(c.values["dialMethod"], json!("request"));
        assert_eq!(c.values["extensionNumber"], json!(""));
        assert_eq!(c.managed_keys, vec!["webclientOrigins", "dialMethod"]);
    }
}
