//! Every text the core hands the popup is a key into `_locales`: a key missing from a
//! locale would show the operator a bare key (Chrome's getMessage gives ""), so each one
//! the core names must be in both, with as many placeholders as the core gives arguments
//! at most (an extra argument is dropped silently by getMessage).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `Text::new("key", &[a, b])` and `text: "key"` in the core's sources: (key, arguments).
fn keys_in(src: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (marker, counts_args) in [("Text::new(\"", true), ("text: \"", false)] {
        let mut rest = src;
        while let Some(i) = rest.find(marker) {
            rest = &rest[i + marker.len()..];
            let Some(end) = rest.find('"') else { break };
            let key = &rest[..end];
            let args = if counts_args {
                // The argument list is the `&[…]` right after the key.
                let tail = &rest[end..];
                let list = tail.find("&[").map(|o| &tail[o + 2..]).unwrap_or("");
                count_args(list)
            } else {
                0
            };
            // The badge's text when off is empty: no key.
            if !key.is_empty() {
                out.push((key.to_owned(), args));
            }
        }
    }
    out
}

/// Arguments up to the list's closing `]`: items between commas outside nested brackets
/// (a trailing comma, as rustfmt writes in a long list, starts no item).
fn count_args(list: &str) -> usize {
    let (mut depth, mut items, mut in_item) = (0, 0, false);
    for c in list.chars() {
        match c {
            ']' if depth == 0 => break,
            ',' if depth == 0 => in_item = false,
            c if c.is_whitespace() => {}
            c => {
                if !in_item {
                    items += 1;
                    in_item = true;
                }
                match c {
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' => depth -= 1,
                    _ => {}
                }
            }
        }
    }
    items
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The highest `$n` in a message, or its named placeholders.
fn placeholders(entry: &serde_json::Value) -> usize {
    if let Some(p) = entry.get("placeholders").and_then(|p| p.as_object()) {
        return p.len();
    }
    let msg = entry["message"].as_str().unwrap();
    (1..=9).filter(|n| msg.contains(&format!("${n}"))).max().unwrap_or(0)
}

#[test]
fn every_text_the_core_names_is_in_both_locales() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    for f in &files {
        // A module's own tests may build texts that are not shown.
        let src = std::fs::read_to_string(f).unwrap();
        let src = src.split("#[cfg(test)]").next().unwrap();
        for (k, n) in keys_in(src) {
            let e = keys.entry(k).or_default();
            *e = (*e).max(n);
        }
    }
    assert!(keys.len() > 30, "the scan finds the core's texts ({} found)", keys.len());
    assert!(keys.contains_key("noteDialerFailed") && keys.contains_key("badgeTextOn"));
    for lang in ["en", "de"] {
        let path = root.join("../extension/_locales").join(lang).join("messages.json");
        let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (key, args) in &keys {
            let entry = json.get(key).unwrap_or_else(|| panic!("{key} is missing from _locales/{lang}"));
            assert!(placeholders(entry) >= *args, "{lang}/{key} shows fewer than the core's {args} argument(s)");
        }
    }
}
