//! Decoding incoming WebClient frames and encoding command frames.
//!
//! Most frames on the WebClient socket are not call state (MessageId 227, SDP and media,
//! is the most frequent), so the common case is decided from the first key and one
//! varint, before prost sees the frame.

use prost::encoding::{decode_key, decode_varint, WireType};
use prost::Message;

use crate::schema::{
    GenericMessage, MyExtensionInfo, RequestDropCall, RequestMakeCall, MSG_MY_EXTENSION_INFO, MSG_REQUEST_DROP_CALL,
    MSG_REQUEST_MAKE_CALL,
};

/// What a binary frame turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Any MessageId but 201: nothing for call tracking.
    Other { message_id: u64 },
    /// MessageId 201.
    ExtensionInfo(MyExtensionInfo),
}

/// Why a frame was rejected. A rejected frame changes nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    Empty,
    /// Not a protobuf GenericMessage (truncated, bad varint, bad wire type, …).
    Malformed(String),
    /// A well-formed message without field 1.
    NoMessageId,
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Empty => write!(f, "empty frame"),
            FrameError::Malformed(why) => write!(f, "malformed frame: {why}"),
            FrameError::NoMessageId => write!(f, "frame without MessageId"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads the MessageId when it is the first field, as every encoder writes it.
/// `None` means "not on the fast path": let the full decoder decide.
fn leading_message_id(mut buf: &[u8]) -> Option<u64> {
    match decode_key(&mut buf) {
        Ok((1, WireType::Varint)) => decode_varint(&mut buf).ok(),
        _ => None,
    }
}

/// Decodes one binary WebClient frame.
pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
    if bytes.is_empty() {
        return Err(FrameError::Empty);
    }
    if let Some(id) = leading_message_id(bytes) {
        if id != MSG_MY_EXTENSION_INFO {
            return Ok(Frame::Other { message_id: id });
        }
    }
    let msg = GenericMessage::decode(bytes).map_err(|e| FrameError::Malformed(e.to_string()))?;
    match msg.message_id {
        None => Err(FrameError::NoMessageId),
        Some(MSG_MY_EXTENSION_INFO) => Ok(Frame::ExtensionInfo(msg.my_extension_info.unwrap_or_default())),
        Some(id) => Ok(Frame::Other { message_id: id }),
    }
}

/// `RequestMakeCall` for an already validated dial string.
pub fn encode_make_call(destination: &str) -> Vec<u8> {
    GenericMessage {
        message_id: Some(MSG_REQUEST_MAKE_CALL),
        request_make_call: Some(RequestMakeCall {
            destination: Some(destination.to_owned()),
            device_id: None,
            enable_call_control: Some(true),
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// `RequestDropCall` for one leg; a ringing leg is rejected as a normal hangup.
pub fn encode_drop_call(local_connection_id: i32) -> Vec<u8> {
    GenericMessage {
        message_id: Some(MSG_REQUEST_DROP_CALL),
        request_drop_call: Some(RequestDropCall {
            local_connection_id: Some(local_connection_id),
            is_local: Some(true),
            action_if_ringing: Some(crate::schema::RejectAction::Terminate as i32),
        }),
        ..Default::default()
    }
    .encode_to_vec()
}
