//! The one schema of the 3CX WebClient messages this project reads and writes.
//!
//! 3CX publishes no `.proto`. Every field number here is taken from the field tables of
//! `../shared/spec/3cx-webclient.md` (in this repository's workspace), which cites its
//! sources; the tag after each message says which of them confirm it:
//! - **[WC]** the WebClient's own JavaScript, 20.0.7.1080 (its protobufjs encoders, and
//!   how it dials, hangs up and picks a device);
//! - **[LC]** 3CX's Live Chat & Talk client (an older protocol version, same transport);
//! - **[HS]** a capture of a real v18 PBX placing calls for a desk phone;
//! - **[seed]** the 3CX–DATEV connector's developer guide (states seen on a real PBX).
//!
//! If 3CX renumbers a field, this file is the only place to change.
//!
//! Every scalar is declared `optional` on purpose: an `Updated` item carries only the
//! fields that changed, so "absent" must stay distinguishable from "zero/false/empty".
//! Integers that the PBX sends as `int32` are read as `int64` where they are ids or
//! states: the wire encoding is the same for every value an `int32` can hold, and an
//! absurd 64-bit value is then seen as what it is instead of being silently truncated into
//! a valid-looking id.
//!
//! Deliberately **not** read: `MyExtensionInfo` field 20 (OtherConnections). The WebClient
//! decodes it and never shows it [WC]; it can hold a colleague's calls, which must not
//! reach DATEV as the operator's. prost skips it like any unknown field.

/// MessageId of `MyExtensionInfo` [WC]: the operator's calls and devices.
pub const MSG_MY_EXTENSION_INFO: u64 = 201;
/// MessageId of `MyWebRTCEndpoint` [WC, LC]: the WebClient's own softphone, SDP and media;
/// the most frequent message, of which only fields 3 and 4 are read.
pub const MSG_MY_WEBRTC_ENDPOINT: u64 = 227;
/// MessageId of `RequestDropCall` [WC].
pub const MSG_REQUEST_DROP_CALL: u64 = 115;
/// MessageId of `RequestMakeCall` [WC, HS].
pub const MSG_REQUEST_MAKE_CALL: u64 = 119;
/// MessageId of `ResponseAcknowledge` [WC, LC].
pub const MSG_RESPONSE_ACKNOWLEDGE: u64 = 207;
/// MessageId of `ResponseCallControl` [WC].
pub const MSG_RESPONSE_CALL_CONTROL: u64 = 261;

/// Where the WebClient POSTs its requests, on its own origin [WC, LC, HS].
pub const REQUEST_PATH: &str = "/MyPhone/MPWebService.asmx";

/// The UserAgent of the WebClient's own softphone registration [WC].
pub const UA_WEBRTC: &str = "3CX WebRTC proxy";
/// The UserAgent of the 3CX app's mobile push registration [WC].
pub const UA_PUSH: &str = "3CX Push Service";
/// A stored choice of this agent also means the WebClient's softphone [WC].
pub const UA_MOBILE_CLIENT: &str = "3CX Mobile Client";
/// Registrations the WebClient never offers as a device: their UserAgent starts with one
/// of these, compared in lower case [WC].
pub const UA_HIDDEN_PREFIXES: [&str; 4] =
    ["3cx teams agent", "3cx dialer", "3cxphone for android", "3cxphone for iphone"];

/// The envelope of every binary WebClient message (pushes, requests and answers). The
/// payload sits at the field whose number equals the MessageId [WC].
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
    #[prost(message, optional, tag = "207")]
    pub response_acknowledge: Option<ResponseAcknowledge>,
    #[prost(message, optional, tag = "227")]
    pub my_webrtc_endpoint: Option<MyWebRtcEndpoint>,
    #[prost(message, optional, tag = "261")]
    pub response_call_control: Option<ResponseCallControl>,
}

/// MessageId 201 [WC]. Profiles, presence, voicemail, meetings and settings live at other
/// field numbers and are skipped by prost as unknown fields.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MyExtensionInfo {
    /// ActionType of this message.
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(int64, optional, tag = "2")]
    pub id: Option<i64>,
    /// The user's extension number.
    #[prost(string, optional, tag = "3")]
    pub number: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub first_name: Option<String>,
    #[prost(string, optional, tag = "8")]
    pub last_name: Option<String>,
    /// ActiveDevices: the phones and apps registered for the extension [WC, LC, HS].
    #[prost(message, optional, tag = "9")]
    pub active_devices: Option<Registrations>,
    /// Connections: the operator's calls, the only list the WebClient shows [WC].
    #[prost(message, optional, tag = "18")]
    pub connections: Option<LocalConnections>,
}

/// A Registrations list: its own ActionType and the items [WC, LC].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Registrations {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<Registration>,
}

/// One registered device [WC, LC, HS].
#[derive(Clone, PartialEq, prost::Message)]
pub struct Registration {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(int64, optional, tag = "2")]
    pub id: Option<i64>,
    /// The device's SIP contact (`sip:101@192.168.1.50:5060;…`): RequestMakeCall's DeviceID.
    #[prost(string, optional, tag = "3")]
    pub contact: Option<String>,
    #[prost(string, optional, tag = "4")]
    pub source_address: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub user_agent: Option<String>,
}

/// A LocalConnections list: its own ActionType and the items [WC].
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalConnections {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(message, repeated, tag = "2")]
    pub items: Vec<LocalConnection>,
}

/// One leg of a call as the WebClient sees it [WC; states seen on a real PBX: seed].
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocalConnection {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    /// Connection id: one per leg; RequestDropCall names it.
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

/// MessageId 227, the WebClient's own softphone [WC, LC]. Field 2 (the WebRTC calls, with
/// their SDP) is not read: prost skips it without copying.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MyWebRtcEndpoint {
    #[prost(int64, optional, tag = "1")]
    pub action: Option<i64>,
    #[prost(bool, optional, tag = "3")]
    pub registered: Option<bool>,
    /// The softphone's own registration Contact.
    #[prost(string, optional, tag = "4")]
    pub device_contact: Option<String>,
}

/// MessageId 119 [WC, HS]. The WebClient sends {1, 3, 4} for a desk phone or app.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestMakeCall {
    #[prost(string, optional, tag = "1")]
    pub destination: Option<String>,
    #[prost(bool, optional, tag = "2")]
    pub use_intercom_to_source: Option<bool>,
    /// The Contact of the registration that is to ring first and dial out.
    #[prost(string, optional, tag = "3")]
    pub device_id: Option<String>,
    #[prost(bool, optional, tag = "4")]
    pub enable_call_control: Option<bool>,
}

/// MessageId 115 [WC]. The WebClient sends {leg, true, RA_Busy}.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestDropCall {
    #[prost(int32, optional, tag = "1")]
    pub local_connection_id: Option<i32>,
    #[prost(bool, optional, tag = "2")]
    pub is_local: Option<bool>,
    #[prost(int32, optional, tag = "3")]
    pub action_if_ringing: Option<i32>,
}

/// MessageId 207, the answer to most requests [WC, LC]. `success` false is a refusal.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseAcknowledge {
    #[prost(bool, optional, tag = "1")]
    pub success: Option<bool>,
    #[prost(int32, optional, tag = "2")]
    pub error_code: Option<i32>,
    #[prost(string, optional, tag = "3")]
    pub message: Option<String>,
    #[prost(int32, optional, tag = "6")]
    pub error_type: Option<i32>,
}

/// MessageId 261, the answer to call control [WC]: for RequestMakeCall, the new leg.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResponseCallControl {
    #[prost(bool, optional, tag = "1")]
    pub success: Option<bool>,
    #[prost(string, optional, tag = "2")]
    pub message: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub local_connection_id: Option<i32>,
}

/// ResponseAcknowledge's ErrorCode for a user without the right [WC].
pub const ERROR_NO_PERMISSION: i32 = 9;

/// ActionType of a list or of an item [WC].
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

/// LocalConnectionState of a leg [seed, consistent with WC].
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

/// RejectAction for RequestDropCall [WC]. The WebClient hangs up a ringing call as busy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectAction {
    Terminate = 0,
    Busy = 1,
    NoAnswer = 2,
}
