//! Building frames as a PBX would send them, for tests, benchmarks and simulators.

use prost::Message;

use crate::schema::{GenericMessage, LocalConnection, LocalConnections, MyExtensionInfo, MSG_MY_EXTENSION_INFO};

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

/// A MyExtensionInfo frame (MessageId 201).
pub fn info_frame(number: Option<&str>, l18: Option<LocalConnections>, l20: Option<LocalConnections>) -> Vec<u8> {
    GenericMessage {
        message_id: Some(MSG_MY_EXTENSION_INFO),
        my_extension_info: Some(MyExtensionInfo {
            number: number.map(str::to_owned),
            connections_18: l18,
            connections_20: l20,
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// A 201 frame with one delta list in field 18.
pub fn frame18(items: Vec<LocalConnection>) -> Vec<u8> {
    info_frame(None, Some(list(3, items)), None)
}

/// A frame with another MessageId and an opaque payload of `len` bytes at its field.
pub fn other_frame(message_id: u64, len: usize) -> Vec<u8> {
    let mut buf = Vec::with_capacity(len + 8);
    prost::encoding::uint64::encode(1, &message_id, &mut buf);
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    prost::encoding::bytes::encode(message_id as u32, &payload, &mut buf);
    buf
}
