//! The one schema of the 3CX WebClient messages this project reads and writes.
//!
//! 3CX publishes no `.proto`; every number here comes from `spec/3cx-webclient.md`
//! (reverse-engineered by the public 3CX–DATEV connector project). If 3CX renumbers a
//! field, this file is the only place to change.
//!
//! Every scalar is declared `optional` on purpose: an `Updated` item carries only the
//! fields that changed, so "absent" must stay distinguishable from "zero/false/empty".
//! Integers that the PBX sends as `int32` are read as `int64`: the wire encoding is the
//! same for every value an `int32` can hold, and an absurd 64-bit value is then seen as
//! what it is instead of being silently truncated into a valid-looking id.

/// MessageId of `MyExtensionInfo`, the only incoming message that carries call state.
pub const MSG_MY_EXTENSION_INFO: u64 = 201;
/// MessageId of `MyWebRTCEndpoint` (SDP/media): frequent, ignored.
pub const MSG_MY_WEBRTC_ENDPOINT: u64 = 227;
/// MessageId of `RequestDropCall` (field numbers *assumed*).
pub const MSG_REQUEST_DROP_CALL: u64 = 115;
/// MessageId of `RequestMakeCall` (field numbers *assumed*).
pub const MSG_REQUEST_MAKE_CALL: u64 = 119;

/// Field numbers of the two LocalConnections lists inside `MyExtensionInfo`.
pub const LIST_FIELD_18: u32 = 18;
pub const LIST_FIELD_20: u32 = 20;

/// The envelope of every binary WebClient frame. The payload sits at the field whose
/// number equals the MessageId.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GenericMessage {
    #[prost(uint64, optional, tag = "1")]
    pub message_id: Option<u64>,
    #[prost(message, optional, tag = "115")]
    pub request_drop_call: Option<RequestDropCall>,
    #[prost(message, optional, tag = "119")]
    pub request_make_call: Option<RequestMakeCall>,
    #[prost(message, optional, tag = "201")]
    pub my_extension_info: Option<MyExtensionInfo>,
}

/// MessageId 201. Presence, busy flags, missed-call counts and the call log live at
/// unknown field numbers and are skipped by prost as unknown fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MyExtensionInfo {
    /// The user's extension number.
    #[prost(string, optional, tag = "3")]
    pub number: Option<String>,
    #[prost(message, optional, tag = "18")]
    pub connections_18: Option<LocalConnections>,
    #[prost(message, optional, tag = "20")]
    pub connections_20: Option<LocalConnections>,
}

/// A LocalConnections list: its own ActionType and the items.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalConnections {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<LocalConnection>,
}

/// One leg of a call as the WebClient sees it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalConnection {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    /// Connection id: one per leg.
    #[prost(int64, optional, tag = "2")]
    pub id: Option<i64>,
    /// Call id: shared by all legs of one logical call.
    #[prost(int64, optional, tag = "3")]
    pub call_id: Option<i64>,
    #[prost(int64, optional, tag = "5")]
    pub state: Option<i64>,
    #[prost(string, optional, tag = "10")]
    pub other_party_display_name: Option<String>,
    #[prost(string, optional, tag = "11")]
    pub other_party_caller_id: Option<String>,
    #[prost(bool, optional, tag = "12")]
    pub is_incoming: Option<bool>,
    #[prost(string, optional, tag = "22")]
    pub other_party_dn: Option<String>,
}

/// MessageId 119 (*assumed* numbering, in declared order).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestMakeCall {
    #[prost(string, optional, tag = "1")]
    pub destination: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub device_id: Option<String>,
    #[prost(bool, optional, tag = "3")]
    pub enable_call_control: Option<bool>,
}

/// MessageId 115 (*assumed* numbering, in declared order).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestDropCall {
    #[prost(int32, optional, tag = "1")]
    pub local_connection_id: Option<i32>,
    #[prost(bool, optional, tag = "2")]
    pub is_local: Option<bool>,
    #[prost(int32, optional, tag = "3")]
    pub action_if_ringing: Option<i32>,
}

/// ActionType of a list or of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionType {
    NoUpdates = 0,
    FullUpdate = 1,
    Inserted = 2,
    Updated = 3,
    Deleted = 4,
}

impl ActionType {
    pub fn from_wire(v: i64) -> Option<Self> {
        Some(match v {
            0 => Self::NoUpdates,
            1 => Self::FullUpdate,
            2 => Self::Inserted,
            3 => Self::Updated,
            4 => Self::Deleted,
            _ => return None,
        })
    }
}

/// LocalConnectionState of a leg.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LegState {
    Unknown = 0,
    Ringing = 1,
    Dialing = 2,
    Connected = 3,
    WaitingForNewParty = 4,
    TryingToTransfer = 5,
}

impl LegState {
    /// Values outside the known enum say nothing about the call: treat them as Unknown.
    pub fn from_wire(v: i64) -> Self {
        match v {
            1 => Self::Ringing,
            2 => Self::Dialing,
            3 => Self::Connected,
            4 => Self::WaitingForNewParty,
            5 => Self::TryingToTransfer,
            _ => Self::Unknown,
        }
    }

    /// Connected or in a transfer: the call is up.
    pub fn is_up(self) -> bool {
        matches!(self, Self::Connected | Self::WaitingForNewParty | Self::TryingToTransfer)
    }
}

/// RejectAction for RequestDropCall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectAction {
    Terminate = 0,
    Busy = 1,
    NoAnswer = 2,
}
