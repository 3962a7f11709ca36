#![cfg(not(target_arch = "wasm32"))]
//! Frame decoding against hostile input: unknown fields of every wire type at every
//! level, frames cut at every byte offset, and random bytes.

mod common;

use common::*;
use cti_core::frame::{decode, Frame, FrameError};
use cti_core::schema::{GenericMessage, LocalConnection};
use cti_core::testkit::{frame18, leg, other_frame, update};
use prost::encoding::{encode_key, encode_varint, WireType};
use prost::Message;

/// One unknown field of each wire type, numbered so none collides with a known one.
fn unknown_fields(base: u32) -> Vec<u8> {
    let mut b = Vec::new();
    encode_key(base, WireType::Varint, &mut b);
    encode_varint(u64::MAX, &mut b);
    encode_key(base + 1, WireType::SixtyFourBit, &mut b);
    b.extend_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    encode_key(base + 2, WireType::LengthDelimited, &mut b);
    encode_varint(5, &mut b);
    b.extend_from_slice(b"hello");
    encode_key(base + 3, WireType::StartGroup, &mut b);
    encode_key(1, WireType::Varint, &mut b);
    encode_varint(7, &mut b);
    encode_key(base + 3, WireType::EndGroup, &mut b);
    encode_key(base + 4, WireType::ThirtyTwoBit, &mut b);
    b.extend_from_slice(&0xdead_beefu32.to_le_bytes());
    b
}

/// Appends a length-delimited field holding `body`.
fn field(tag: u32, body: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

/// A 201 frame built by hand with unknown fields sprinkled through every level.
fn frame_with_unknown_fields(item: &LocalConnection) -> Vec<u8> {
    let mut conn = unknown_fields(40);
    conn.extend(item.encode_to_vec());
    conn.extend(unknown_fields(60));
    let mut list = unknown_fields(30);
    encode_key(1, WireType::Varint, &mut list);
    encode_varint(3, &mut list);
    field(2, &conn, &mut list);
    let mut info = unknown_fields(10); // presence, busy flags and the like (10–14 are not read)
    field(18, &list, &mut info);
    info.extend(unknown_fields(100));
    let mut msg = Vec::new();
    encode_key(1, WireType::Varint, &mut msg);
    encode_varint(201, &mut msg);
    msg.extend(unknown_fields(2));
    field(201, &info, &mut msg);
    msg
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let items = [
        leg(INSERTED, 28, 7, RINGING, true, "+49891111111"),
        update(28, CONNECTED),
        LocalConnection { action: Some(DELETED), id: Some(28), ..Default::default() },
    ];
    let plain: Vec<_> = items.iter().enumerate().map(|(i, it)| (i as u64, frame18(vec![it.clone()]))).collect();
    let noisy: Vec<_> = items.iter().enumerate().map(|(i, it)| (i as u64, frame_with_unknown_fields(it))).collect();
    let a = run(&mut tracker(), &plain);
    let b = run(&mut tracker(), &noisy);
    assert_eq!(brief(&a), ["7 offered in", "7 connected in", "7 ended in hangup"]);
    assert_eq!(a, b);
}

#[test]
fn other_message_ids_are_decided_from_the_first_varint() {
    assert_eq!(decode(&other_frame(122, 300)), Ok(Frame::Other { message_id: 122 }));
    // Even a frame whose payload is garbage: only its id is read.
    let mut f = Vec::new();
    encode_key(1, WireType::Varint, &mut f);
    encode_varint(150, &mut f);
    f.extend_from_slice(&[0xff, 0xff, 0xff]);
    assert_eq!(decode(&f), Ok(Frame::Other { message_id: 150 }));
    // MessageId not first: the full decoder still finds it.
    let mut g = Vec::new();
    field(122, b"sdp", &mut g);
    encode_key(1, WireType::Varint, &mut g);
    encode_varint(122, &mut g);
    assert_eq!(decode(&g), Ok(Frame::Other { message_id: 122 }));
    // The softphone's 227: its two fields are read, its calls' SDP is skipped.
    let ep = cti_core::testkit::endpoint_frame(true, "sip:101@10.0.0.9", 5000);
    assert!(matches!(decode(&ep), Ok(Frame::Endpoint(e)) if e.device_contact.as_deref() == Some("sip:101@10.0.0.9")));
}

#[test]
fn frames_without_a_message_id_or_empty_are_rejected() {
    assert_eq!(decode(&[]), Err(FrameError::Empty));
    let mut g = Vec::new();
    field(201, b"", &mut g);
    assert_eq!(decode(&g), Err(FrameError::NoMessageId));
}

#[test]
fn frames_cut_at_every_byte_offset_never_panic_nor_emit() {
    let frames = [
        frame18(vec![
            leg(INSERTED, 28, 7, RINGING, true, "+49891111111"),
            leg(INSERTED, 29, 7, RINGING, true, "+49891111111"),
        ]),
        frame_with_unknown_fields(&leg(INSERTED, 28, 7, CONNECTED, false, "+49 89 1234")),
    ];
    for f in &frames {
        assert!(!tracker().handle_frame(f, 1).unwrap().events.is_empty(), "the whole frame is valid");
        for cut in 0..f.len() {
            let mut t = tracker();
            let before = t.clone();
            match t.handle_frame(&f[..cut], 1) {
                Ok(out) => assert!(out.events.is_empty(), "cut at {cut} emitted {:?}", brief(&out.events)),
                Err(_) => assert_eq!(t, before, "a rejected frame changed the tracker (cut at {cut})"),
            }
        }
    }
}

#[test]
fn a_rejected_frame_changes_nothing_mid_call() {
    let mut t = tracker();
    run(&mut t, &[(1, frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "1")]))]);
    let good = frame18(vec![update(28, CONNECTED)]);
    let before = t.clone();
    assert!(t.handle_frame(&good[..good.len() - 1], 2).is_err());
    assert_eq!(t, before);
    assert_eq!(brief(&t.handle_frame(&good, 3).unwrap().events), ["7 connected in"]);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    let mut t = tracker();
    let base = frame18(vec![leg(INSERTED, 28, 7, RINGING, true, "+49891111111")]);
    for i in 0..20_000 {
        let mut f: Vec<u8> =
            if i % 2 == 0 { (0..rng.below(64)).map(|_| rng.next() as u8).collect() } else { base.clone() };
        // Flip a few bytes of a valid frame, so the decoder gets deep before failing.
        for _ in 0..1 + rng.below(3) {
            if !f.is_empty() {
                let at = rng.below(f.len() as u64) as usize;
                f[at] = rng.next() as u8;
            }
        }
        let _ = t.handle_frame(&f, i);
    }
}

#[test]
fn absurd_numbers_stay_what_they_are() {
    // A 64-bit call id is not truncated into a small, plausible one.
    let mut t = tracker();
    let huge = leg(INSERTED, 1 << 40, (1 << 40) + 7, RINGING, true, "1");
    let ev = run(&mut t, &[(1, frame18(vec![huge]))]);
    assert_eq!(ev[0].call.id, ((1i64 << 40) + 7).to_string());
    // …and a DROP for a leg id RequestDropCall cannot carry is refused.
    assert!(t.leg_to_drop(None).is_err());
}

#[test]
fn requests_carry_each_field_with_the_wire_type_of_the_webclients_encoder() {
    use cti_core::command::{drop_call_request, make_call_request, DialString};
    // The fields of a message's payload, as (tag, wire type): a string where the PBX
    // expects a bool would be refused by its protobuf decoder.
    fn wires(msg: &[u8], id: u32) -> Vec<(u32, WireType)> {
        let payload = cti_core::frame::field_bytes(msg, id).unwrap().unwrap();
        let mut buf = payload;
        let mut out = Vec::new();
        while !buf.is_empty() {
            let (tag, wire) = prost::encoding::decode_key(&mut buf).unwrap();
            out.push((tag, wire));
            prost::encoding::skip_field(wire, tag, &mut buf, Default::default()).unwrap();
        }
        out
    }
    let n = DialString::parse("+49891234567").unwrap();
    let make = make_call_request(&n, "sip:101@192.168.1.50:5060");
    assert_eq!(
        wires(&make, 119),
        [(1, WireType::LengthDelimited), (3, WireType::LengthDelimited), (4, WireType::Varint)],
        "{{1 Destination string, 3 DeviceID string, 4 EnableCallControl bool}}"
    );
    let drop = drop_call_request(29);
    assert_eq!(wires(&drop, 115), [(1, WireType::Varint), (2, WireType::Varint), (3, WireType::Varint)]);
    let d = GenericMessage::decode(drop.as_slice()).unwrap().request_drop_call.unwrap();
    assert_eq!((d.local_connection_id, d.is_local, d.action_if_ringing), (Some(29), Some(true), Some(1)));
}
