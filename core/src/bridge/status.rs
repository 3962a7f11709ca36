//! What the toolbar badge and the popup show. The popup renders these texts through
//! `chrome.i18n` (the keys are message names in `_locales`); it decides nothing itself.

use serde::{Deserialize, Serialize};

/// A localised text: an i18n message name and its substitutions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub key: String,
    pub args: Vec<String>,
}

impl Text {
    pub fn new(key: &str, args: &[&str]) -> Self {
        Text { key: key.to_owned(), args: args.iter().map(|a| (*a).to_owned()).collect() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Busy,
    Warn,
    Bad,
    Off,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Action {
    /// Ask Chrome for access to exactly these host patterns.
    GrantHosts { origins: Vec<String> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub level: Level,
    pub text: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

impl Row {
    pub fn new(level: Level, text: Text) -> Self {
        Row { level, text, extra: None, action: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rows {
    pub webclient: Row,
    pub connector: Row,
    pub pestroutes: Row,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Badge {
    pub text: &'static str,
    pub color: &'static str,
    pub title: Text,
}

pub const GREEN: &str = "#1a7f37";
pub const AMBER: &str = "#b26b00";
pub const RED: &str = "#c62828";
pub const GREY: &str = "#777777";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallView {
    pub direction: &'static str,
    pub state: &'static str,
    pub number: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopView {
    pub at: u64,
    pub term: String,
    pub outcome: Text,
    pub ok: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub at: u64,
    pub text: Text,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrustView {
    pub configured: Vec<String>,
    pub pinned: Option<String>,
}

/// The whole status, as the service worker stores it for the popup (`storage.session.status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusView {
    pub v: u8,
    pub at: u64,
    pub badge: Badge,
    pub rows: Rows,
    pub calls: Vec<CallView>,
    pub pops: Vec<PopView>,
    pub notes: Vec<Note>,
    pub trust: TrustView,
}

/// The badge: green ON only when the connector acknowledged us; red when something needs
/// a person; amber while searching; nothing while there is nothing to do.
pub fn badge(connector: Level, pestroutes: Level) -> Badge {
    if connector == Level::Bad || pestroutes == Level::Bad {
        Badge { text: "!", color: RED, title: Text::new("badgeProblem", &[]) }
    } else if connector == Level::Ok {
        Badge { text: "ON", color: GREEN, title: Text::new("badgeOn", &[]) }
    } else if connector == Level::Busy {
        Badge { text: "…", color: AMBER, title: Text::new("badgeSearching", &[]) }
    } else {
        Badge { text: "", color: GREY, title: Text::new("badgeOff", &[]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_badge_tells_the_three_cases_apart() {
        assert_eq!(badge(Level::Ok, Level::Off).text, "ON");
        assert_eq!(badge(Level::Busy, Level::Ok).color, AMBER);
        assert_eq!(badge(Level::Ok, Level::Bad).text, "!");
        assert_eq!(badge(Level::Off, Level::Off).text, "");
    }
}
