//! Decoding the WebClient's messages: what its socket pushes, and what the PBX answers to
//! the WebClient's own requests (the answer to RequestMyInfo carries the operator's whole
//! state, `spec/3cx-webclient.md`, Transport), both one `GenericMessage`.
//!
//! Most messages are not call state (MessageId 227, SDP and media, is the most frequent),
//! so the common case is decided from the first key and one varint, before prost sees the
//! message; of a 227 only its own two small fields are read.

use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};
use prost::Message;

use crate::schema::{GenericMessage, MyExtensionInfo, MyWebRtcEndpoint, MSG_MY_EXTENSION_INFO, MSG_MY_WEBRTC_ENDPOINT};

/// What a binary message turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// Any other MessageId: nothing for call tracking.
    Other { message_id: u64 },
    /// MessageId 201: the operator's calls and devices.
    ExtensionInfo(MyExtensionInfo),
    /// MessageId 227: the WebClient's own softphone.
    Endpoint(MyWebRtcEndpoint),
}

/// Why a message was rejected. A rejected message changes nothing.
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
pub fn leading_message_id(mut buf: &[u8]) -> Option<u64> {
    match decode_key(&mut buf) {
        Ok((1, WireType::Varint)) => decode_varint(&mut buf).ok(),
        _ => None,
    }
}

/// The bytes of top-level field `tag` (length-delimited) of a message, the last one when
/// it repeats (as protobuf merges them), without decoding anything else.
pub fn field_bytes(mut buf: &[u8], tag: u32) -> Result<Option<&[u8]>, FrameError> {
    let bad = |e: prost::DecodeError| FrameError::Malformed(e.to_string());
    let mut found = None;
    while !buf.is_empty() {
        let (t, wire) = decode_key(&mut buf).map_err(bad)?;
        if t == tag && wire == WireType::LengthDelimited {
            let len = decode_varint(&mut buf).map_err(bad)?;
            let len = usize::try_from(len).ok().filter(|l| *l <= buf.len());
            let len = len.ok_or_else(|| FrameError::Malformed("field longer than the message".into()))?;
            found = Some(&buf[..len]);
            buf = &buf[len..];
        } else {
            skip_field(wire, t, &mut buf, DecodeContext::default()).map_err(bad)?;
        }
    }
    Ok(found)
}

/// Decodes one binary WebClient message.
pub fn decode(bytes: &[u8]) -> Result<Frame, FrameError> {
    if bytes.is_empty() {
        return Err(FrameError::Empty);
    }
    match leading_message_id(bytes) {
        Some(MSG_MY_WEBRTC_ENDPOINT) => {
            let payload = field_bytes(bytes, MSG_MY_WEBRTC_ENDPOINT as u32)?.unwrap_or_default();
            return MyWebRtcEndpoint::decode(payload)
                .map(Frame::Endpoint)
                .map_err(|e| FrameError::Malformed(e.to_string()));
        }
        Some(id) if id != MSG_MY_EXTENSION_INFO => return Ok(Frame::Other { message_id: id }),
        _ => {}
    }
    let msg = GenericMessage::decode(bytes).map_err(|e| FrameError::Malformed(e.to_string()))?;
    match msg.message_id {
        None => Err(FrameError::NoMessageId),
        Some(MSG_MY_EXTENSION_INFO) => Ok(Frame::ExtensionInfo(msg.my_extension_info.unwrap_or_default())),
        Some(MSG_MY_WEBRTC_ENDPOINT) => Ok(Frame::Endpoint(msg.my_webrtc_endpoint.unwrap_or_default())),
        Some(id) => Ok(Frame::Other { message_id: id }),
    }
}
