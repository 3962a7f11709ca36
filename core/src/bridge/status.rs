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
    /// Use the connector set up for this extension (the operator's own setting
    /// `connectorExtension`).
    AcceptConnector { extension: String },
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
    /// Configured entries no WebClient can be trusted on (see `trust::OriginTrust`).
    pub unusable: Vec<String>,
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

/// The badge: green ON only when the connector acknowledged us and a WebClient tab is
/// there to report calls; red when something needs a person; amber `!` when calls cannot
/// reach DATEV for a reason the popup names (no WebClient tab while the connector waits,
/// a port that never acknowledges); amber `…` while searching; nothing while there is
/// nothing to do. A PestRoutes warning (an unreachable middleware, a caller not found)
/// stays in the popup's row. `text` and `title` are `_locales` keys.
pub fn badge(webclient: Level, connector: Level, pestroutes: Level) -> Badge {
    // Without a connector in use, a missing WebClient tab is nothing to flag (offices that
    // use only the PestRoutes side), so the WebClient counts once the connector is there.
    let webclient_missing = connector == Level::Ok && webclient != Level::Ok;
    if [webclient, connector, pestroutes].contains(&Level::Bad) {
        Badge { text: "badgeTextProblem", color: RED, title: Text::new("badgeProblem", &[]) }
    } else if connector == Level::Warn || webclient_missing {
        Badge { text: "badgeTextAttention", color: AMBER, title: Text::new("badgeAttention", &[]) }
    } else if connector == Level::Ok {
        Badge { text: "badgeTextOn", color: GREEN, title: Text::new("badgeOn", &[]) }
    } else if connector == Level::Busy {
        Badge { text: "badgeTextSearching", color: AMBER, title: Text::new("badgeSearching", &[]) }
    } else {
        Badge { text: "", color: GREY, title: Text::new("badgeOff", &[]) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_badge_tells_the_cases_apart() {
        assert_eq!(badge(Level::Ok, Level::Ok, Level::Off).text, "badgeTextOn");
        assert_eq!(badge(Level::Warn, Level::Busy, Level::Ok).text, "badgeTextSearching");
        assert_eq!(badge(Level::Ok, Level::Ok, Level::Bad).text, "badgeTextProblem");
        assert_eq!(badge(Level::Bad, Level::Ok, Level::Ok).text, "badgeTextProblem");
        assert_eq!(badge(Level::Ok, Level::Off, Level::Off).text, "");
        // Connected, but no WebClient tab to report calls: not ON.
        assert_eq!(badge(Level::Warn, Level::Ok, Level::Off).text, "badgeTextAttention");
        // A port that answers and never acknowledges is not "off".
        assert_eq!(badge(Level::Ok, Level::Warn, Level::Off).color, AMBER);
        assert_eq!(
            badge(Level::Ok, Level::Ok, Level::Warn).text,
            "badgeTextOn",
            "PestRoutes' warnings stay in the popup"
        );
    }
}
