//! Masking personal data (phone numbers, names) before it reaches a log line.

/// Keeps a leading `+`, the first two and the last two digits: enough to tell two calls
/// apart in a log, not enough to call anyone.
pub fn mask_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let head = if chars[0] == '+' { 3 } else { 2 };
    chars.iter().enumerate().map(|(i, c)| if i < head || i + 2 >= chars.len() { *c } else { '*' }).collect()
}

/// Initials only: "Max Mustermann" becomes "M. M.".
pub fn mask_name(name: &str) -> String {
    name.split_whitespace().filter_map(|w| w.chars().next()).map(|c| format!("{c}.")).collect::<Vec<_>>().join(" ")
}

/// Every run of six or more digits (a phone number, with its `+` and the spaces, dashes,
/// slashes and brackets it is written with) in free text masked as [`mask_number`] does:
/// for text that is not ours to parse, such as log lines in a diagnostics report. Shorter
/// runs (extension numbers, ports, counts) stay.
pub fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let trimmed = run.trim_end_matches(|c: char| !c.is_ascii_digit());
        let tail = run[trimmed.len()..].to_owned();
        if trimmed.chars().filter(char::is_ascii_digit).count() >= 6 {
            out.push_str(&mask_number(
                &trimmed.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect::<String>(),
            ));
        } else {
            out.push_str(trimmed);
        }
        out.push_str(&tail);
        run.clear();
    };
    for c in text.chars() {
        let digit = c.is_ascii_digit();
        let joiner = matches!(c, ' ' | '-' | '/' | '(' | ')') && !run.is_empty();
        if digit || joiner || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_free_text_are_masked_short_runs_stay() {
        assert_eq!(mask_text("dial +49 89 1234-567 now"), "dial +49*******67 now");
        assert_eq!(mask_text("port 19901, ext 101, 2 calls"), "port 19901, ext 101, 2 calls");
        assert_eq!(mask_text("(089) 123456"), "(08*****56");
        assert_eq!(mask_text("no digits"), "no digits");
    }

    #[test]
    fn numbers_keep_only_their_edges() {
        assert_eq!(mask_number("+49891234567"), "+49*******67");
        assert_eq!(mask_number("0891234567"), "08******67");
        assert_eq!(mask_number("101"), "***");
        assert_eq!(mask_number(""), "");
    }

    #[test]
    fn names_become_initials() {
        assert_eq!(mask_name("Max Mustermann"), "M. M.");
        assert_eq!(mask_name("  "), "");
    }
}
