//! Connector protocol v1 (`spec/connector-v1.md`): the JSON the extension sends to the
//! local connector and the JSON it accepts back.
//!
//! Outgoing messages are encoded with a fixed key order, exactly the shape of the spec.
//! Incoming messages are parsed strictly (case-sensitive keys, `"v": 1`) with a typed
//! error for everything else, so the shell can log one clear line and change nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::privacy::mask_text;

/// Largest message the connector accepts; we hold ourselves to the same bound.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// CALL_EVENT states, in the order a call can move through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallState {
    Offered,
    Dialing,
    Ringing,
    Connected,
    Ended,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Offered => "offered",
            CallState::Dialing => "dialing",
            CallState::Ringing => "ringing",
            CallState::Connected => "connected",
            CallState::Ended => "ended",
        }
    }
}

/// `reason` of a CALL_EVENT; empty on every state but `ended`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    #[serde(rename = "")]
    None,
    Hangup,
    Busy,
    Failed,
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallInfo {
    pub id: String,
    pub direction: Direction,
    pub remote_number: String,
    pub remote_name: String,
    pub state: CallState,
    pub reason: EndReason,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventContext {
    pub extension: String,
    pub tab_id: String,
}

/// One CALL_EVENT, without the envelope keys (`v`, `type`) that `to_json` adds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    pub ts: u64,
    pub call: CallInfo,
    pub context: EventContext,
}

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    v: u8,
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

fn envelope<T: Serialize>(kind: &str, body: &T) -> String {
    serde_json::to_string(&Envelope { v: 1, kind, body }).expect("protocol types always serialise")
}

impl CallEvent {
    /// The exact text frame sent to the connector.
    pub fn to_json(&self) -> String {
        envelope("CALL_EVENT", self)
    }
}

/// HELLO: the first message on every new connector socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    pub extension: String,
    pub identity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webclient_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// The identity every HELLO carries.
pub const IDENTITY: &str = "3CX WebClient";

impl Hello {
    pub fn new(extension: &str) -> Self {
        Hello { extension: extension.to_owned(), identity: IDENTITY.to_owned(), ..Default::default() }
    }

    pub fn to_json(&self) -> String {
        envelope("HELLO", self)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloAck {
    pub bridge_version: Option<String>,
    pub extension: Option<String>,
    pub port: Option<u16>,
    pub ready: Option<bool>,
}

/// A COMMAND from the connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Dial `number` (not yet validated: see `command::DialString`). `sync_id` belongs to
    /// DATEV and is passed through untouched, never stored.
    Dial { number: String, sync_id: Option<String> },
    /// Drop the call with this id, or the most recent active call.
    Drop { call_id: Option<String> },
}

/// What the connector may send us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    HelloAck(HelloAck),
    Command(Command),
}

/// Why an incoming connector message was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    TooLarge(usize),
    NotJson(String),
    NotAnObject,
    MissingField(&'static str),
    WrongVersion(String),
    UnknownType(String),
    UnknownCommand(String),
    /// A field with the wrong JSON type or an impossible value (`port: 70000`, …).
    BadField {
        field: &'static str,
        why: String,
    },
}

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProtocolError::TooLarge(n) => write!(f, "message of {n} bytes exceeds 1 MiB"),
            ProtocolError::NotJson(e) => write!(f, "not JSON: {e}"),
            ProtocolError::NotAnObject => write!(f, "not a JSON object"),
            ProtocolError::MissingField(k) => write!(f, "missing field `{k}`"),
            ProtocolError::WrongVersion(v) => write!(f, "unsupported protocol version {v}"),
            ProtocolError::UnknownType(t) => write!(f, "unknown message type {t}"),
            ProtocolError::UnknownCommand(c) => write!(f, "unknown command {c}"),
            ProtocolError::BadField { field, why } => write!(f, "bad field `{field}`: {why}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

/// A value the connector sent, for a log line: as JSON (control characters escaped), phone
/// numbers masked (a number may come as a JSON number), cut to 40 characters. Masked
/// first, so that a number the cut splits is not left with more digits in clear.
fn short(v: &Value) -> String {
    let s = mask_text(&v.to_string());
    let cut = s.char_indices().nth(40).map_or(s.len(), |(i, _)| i);
    if cut < s.len() {
        format!("{}…", &s[..cut])
    } else {
        s
    }
}

/// A string the connector sent, for a log line, as [`short`] does.
fn short_str(s: &str) -> String {
    short(&Value::String(s.to_owned()))
}

fn opt_string(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ProtocolError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ProtocolError::BadField { field, why: format!("expected a string, got {}", short(other)) }),
    }
}

fn opt_bool(obj: &Map<String, Value>, field: &'static str) -> Result<Option<bool>, ProtocolError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => {
            Err(ProtocolError::BadField { field, why: format!("expected true or false, got {}", short(other)) })
        }
    }
}

fn opt_port(obj: &Map<String, Value>) -> Result<Option<u16>, ProtocolError> {
    match obj.get("port") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(p) if (1..=65535).contains(&p) => Ok(Some(p as u16)),
            _ => Err(ProtocolError::BadField { field: "port", why: format!("not a TCP port: {}", short(v)) }),
        },
    }
}

/// Parses one text frame from the connector.
pub fn parse_incoming(text: &str) -> Result<Incoming, ProtocolError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge(text.len()));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ProtocolError::NotJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(ProtocolError::NotAnObject);
    };
    match obj.get("v") {
        None => return Err(ProtocolError::MissingField("v")),
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) => return Err(ProtocolError::WrongVersion(short(v))),
    }
    let kind = match obj.get("type") {
        None => return Err(ProtocolError::MissingField("type")),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(ProtocolError::UnknownType(short(other))),
    };
    match kind {
        "HELLO_ACK" => Ok(Incoming::HelloAck(HelloAck {
            bridge_version: opt_string(&obj, "bridgeVersion")?,
            extension: opt_string(&obj, "extension")?,
            port: opt_port(&obj)?,
            ready: opt_bool(&obj, "ready")?,
        })),
        "COMMAND" => parse_command(&obj).map(Incoming::Command),
        other => Err(ProtocolError::UnknownType(short_str(other))),
    }
}

fn parse_command(obj: &Map<String, Value>) -> Result<Command, ProtocolError> {
    let cmd = opt_string(obj, "cmd")?.ok_or(ProtocolError::MissingField("cmd"))?;
    match cmd.as_str() {
        "DIAL" => {
            let number = opt_string(obj, "number")?.ok_or(ProtocolError::MissingField("number"))?;
            let sync_id = match obj.get("context") {
                None | Some(Value::Null) => None,
                Some(Value::Object(ctx)) => opt_string(ctx, "syncId")?,
                Some(other) => {
                    return Err(ProtocolError::BadField {
                        field: "context",
                        why: format!("expected an object, got {}", short(other)),
                    })
                }
            };
            Ok(Command::Dial { number, sync_id })
        }
        "DROP" => {
            let call_id = opt_string(obj, "callId")?.filter(|s| !s.is_empty());
            // A call id goes into log lines and the diagnostics file: no line breaks in it.
            if call_id.as_deref().is_some_and(|c| c.chars().any(char::is_control)) {
                return Err(ProtocolError::BadField { field: "callId", why: "control characters".into() });
            }
            Ok(Command::Drop { call_id })
        }
        other => Err(ProtocolError::UnknownCommand(short_str(other))),
    }
}

/// A COMMAND encoded as the connector sends it (for simulators and tests).
pub fn command_to_json(cmd: &Command) -> String {
    let mut obj = Map::new();
    obj.insert("v".into(), 1.into());
    obj.insert("type".into(), "COMMAND".into());
    match cmd {
        Command::Dial { number, sync_id } => {
            obj.insert("cmd".into(), "DIAL".into());
            obj.insert("number".into(), number.clone().into());
            if let Some(s) = sync_id {
                obj.insert("context".into(), serde_json::json!({ "syncId": s }));
            }
        }
        Command::Drop { call_id } => {
            obj.insert("cmd".into(), "DROP".into());
            if let Some(c) = call_id {
                obj.insert("callId".into(), c.clone().into());
            }
        }
    }
    Value::Object(obj).to_string()
}
