//! Building messages as a PBX would send them, for tests, benchmarks and simulators.

use prost::Message;

use crate::schema::{
    GenericMessage, LocalConnection, LocalConnections, MyExtensionInfo, MyWebRtcEndpoint, Registration, Registrations,
    ResponseAcknowledge, ResponseCallControl, MSG_MY_EXTENSION_INFO, MSG_MY_WEBRTC_ENDPOINT, MSG_RESPONSE_ACKNOWLEDGE,
    MSG_RESPONSE_CALL_CONTROL,
};

/// A leg as a PBX announces it in an `Inserted`/`FullUpdate` item.
pub fn leg(action: i64, id: i64, call_id: i64, state: i64, incoming: bool, number: &str) -> LocalConnection {
    LocalConnection {
        action: Some(action),
        id: Some(id),
        call_id: Some(call_id),
        state: Some(state),
        is_incoming: Some(incoming),
        other_party_caller_id: (!number.is_empty()).then(|| number.to_owned()),
        ..Default::default()
    }
}

/// An `Updated` item that carries only the new state.
pub fn update(id: i64, state: i64) -> LocalConnection {
    LocalConnection { action: Some(3), id: Some(id), state: Some(state), ..Default::default() }
}

/// A `Deleted` item.
pub fn delete(id: i64) -> LocalConnection {
    LocalConnection { action: Some(4), id: Some(id), ..Default::default() }
}

pub fn list(action: i64, items: Vec<LocalConnection>) -> LocalConnections {
    LocalConnections { action: Some(action), items }
}

/// A MyExtensionInfo frame (MessageId 201) with Connections (18) and OtherConnections (20,
/// which the schema does not read, so it is written here field by field).
pub fn info_frame(number: Option<&str>, l18: Option<LocalConnections>, l20: Option<LocalConnections>) -> Vec<u8> {
    let info = MyExtensionInfo { number: number.map(str::to_owned), connections: l18, ..Default::default() };
    let mut payload = info.encode_to_vec();
    if let Some(l20) = l20 {
        prost::encoding::message::encode(20, &l20, &mut payload);
    }
    wrap(MSG_MY_EXTENSION_INFO, &payload)
}

/// A 201 frame with one delta list in field 18.
pub fn frame18(items: Vec<LocalConnection>) -> Vec<u8> {
    info_frame(None, Some(list(3, items)), None)
}

/// A registered device, as an `Inserted` item.
pub fn registration(id: i64, user_agent: &str, contact: &str) -> Registration {
    Registration {
        action: Some(2),
        id: Some(id),
        contact: Some(contact.to_owned()),
        user_agent: Some(user_agent.to_owned()),
        ..Default::default()
    }
}

/// A 201 frame with the full list of the operator's devices (field 9).
pub fn devices_frame(items: Vec<Registration>) -> Vec<u8> {
    let info = MyExtensionInfo { active_devices: Some(Registrations { action: Some(1), items }), ..Default::default() };
    GenericMessage { message_id: Some(MSG_MY_EXTENSION_INFO), my_extension_info: Some(info), ..Default::default() }
        .encode_to_vec()
}

/// A 227 frame: the WebClient's softphone, with a WebRTC call's SDP in field 2.
pub fn endpoint_frame(registered: bool, contact: &str, sdp_len: usize) -> Vec<u8> {
    let mut payload =
        MyWebRtcEndpoint { action: Some(3), registered: Some(registered), device_contact: Some(contact.to_owned()) }
            .encode_to_vec();
    let sdp: Vec<u8> = (0..sdp_len).map(|i| b'a' + (i % 26) as u8).collect();
    prost::encoding::bytes::encode(2, &sdp, &mut payload);
    wrap(MSG_MY_WEBRTC_ENDPOINT, &payload)
}

/// A 227 frame as the PBX pushes it during a softphone call: an update of one WebRTCCall
/// (Action, Id, its SDP text in field 7), without the endpoint's own fields.
pub fn endpoint_update(sdp_len: usize) -> Vec<u8> {
    let mut call = Vec::new();
    prost::encoding::int32::encode(1, &3, &mut call);
    prost::encoding::int32::encode(2, &1, &mut call);
    let sdp: String = (0..sdp_len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    prost::encoding::string::encode(7, &sdp, &mut call);
    let mut payload = MyWebRtcEndpoint { action: Some(3), ..Default::default() }.encode_to_vec();
    prost::encoding::bytes::encode(2, &call, &mut payload);
    wrap(MSG_MY_WEBRTC_ENDPOINT, &payload)
}

/// The answer 261 to a RequestMakeCall that placed the call on `leg`.
pub fn call_control_answer(success: bool, leg: Option<i32>, message: &str) -> Vec<u8> {
    let m = ResponseCallControl {
        success: Some(success),
        message: (!message.is_empty()).then(|| message.to_owned()),
        local_connection_id: leg,
    };
    GenericMessage { message_id: Some(MSG_RESPONSE_CALL_CONTROL), response_call_control: Some(m), ..Default::default() }
        .encode_to_vec()
}

/// The answer 207 (ResponseAcknowledge).
pub fn ack_answer(success: bool, error_code: Option<i32>, message: &str) -> Vec<u8> {
    let m = ResponseAcknowledge {
        success: Some(success),
        error_code,
        message: (!message.is_empty()).then(|| message.to_owned()),
        error_type: None,
    };
    GenericMessage { message_id: Some(MSG_RESPONSE_ACKNOWLEDGE), response_acknowledge: Some(m), ..Default::default() }
        .encode_to_vec()
}

/// A frame with another MessageId and an opaque payload of `len` bytes at its field.
pub fn other_frame(message_id: u64, len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    wrap(message_id, &payload)
}

fn wrap(message_id: u64, payload: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(payload.len() + 8);
    prost::encoding::uint64::encode(1, &message_id, &mut buf);
    prost::encoding::bytes::encode(message_id as u32, &payload.to_vec(), &mut buf);
    buf
}
