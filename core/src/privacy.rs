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

#[cfg(test)]
mod tests {
    use super::*;

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
