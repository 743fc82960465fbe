//! X.224 Connection Request / Confirm / Disconnect / Data: golden bytes from the specification and from
//! real captures in `fixtures/`, truncation at every layer boundary, encoder round trips.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use rdpdiag::wire::rdp_neg::{
    FailureCode, NegData, NegFailure, NegRequest, NegRequestFlags, NegResponse, NegResponseFlags,
    SecurityProtocols,
};
use rdpdiag::wire::x224::{
    encode_connection_confirm, encode_connection_request, encode_data, parse_tpdu,
    parse_x224_packet, ConnectionConfirm, ConnectionRequest, ConnectionRequestSpec,
    DisconnectReason, TokenLine, Tpdu, TpduCode,
};
use rdpdiag::wire::WireError;

fn cr(bytes: &[u8]) -> ConnectionRequest<'_> {
    match parse_x224_packet(bytes).unwrap() {
        ([], Tpdu::ConnectionRequest(cr)) => cr,
        other => panic!("not a lone CR: {other:?}"),
    }
}

fn cc(bytes: &[u8]) -> ConnectionConfirm<'_> {
    match parse_x224_packet(bytes).unwrap() {
        ([], Tpdu::ConnectionConfirm(cc)) => cc,
        other => panic!("not a lone CC: {other:?}"),
    }
}

/// MS-RDPBCGR 4.1.1 Client X.224 Connection Request PDU.
const SPEC_CR: &[u8] = &[
    0x03, 0x00, 0x00, 0x2c, // TPKT: version 3, length 44
    0x27, // X.224 LI 39
    0xe0, // CR, credit 0
    0x00, 0x00, // DST-REF
    0x00, 0x00, // SRC-REF
    0x00, // class 0
    b'C', b'o', b'o', b'k', b'i', b'e', b':', b' ', b'm', b's', b't', b's', b'h', b'a', b's', b'h',
    b'=', b'e', b'l', b't', b'o', b'n', b's', 0x0d, 0x0a, // Cookie: mstshash=eltons\r\n
    0x01, // RDP_NEG_REQ type
    0x00, // flags
    0x08, 0x00, // length 8
    0x00, 0x00, 0x00, 0x00, // requestedProtocols PROTOCOL_RDP
];

/// MS-RDPBCGR 4.1.2 Server X.224 Connection Confirm PDU.
const SPEC_CC: &[u8] = &[
    0x03, 0x00, 0x00, 0x13, // TPKT: version 3, length 19
    0x0e, // X.224 LI 14
    0xd0, // CC
    0x00, 0x00, // DST-REF
    0x12, 0x34, // SRC-REF
    0x00, // class 0
    0x02, // RDP_NEG_RSP type
    0x00, // flags
    0x08, 0x00, // length 8
    0x00, 0x00, 0x00, 0x00, // selectedProtocol PROTOCOL_RDP
];

#[test]
fn spec_connection_request() {
    assert_eq!(
        cr(SPEC_CR),
        ConnectionRequest {
            code: TpduCode::CONNECTION_REQUEST,
            dst_ref: 0,
            src_ref: 0,
            class_option: 0,
            token: Some(TokenLine::Cookie(b"eltons")),
            neg_request: Some(NegRequest {
                flags: NegRequestFlags(0),
                length: 8,
                requested_protocols: SecurityProtocols::RDP,
            }),
            neg_error: None,
            correlation_info: None,
            trailing: &[],
        }
    );
}

#[test]
fn spec_connection_confirm() {
    assert_eq!(
        cc(SPEC_CC),
        ConnectionConfirm {
            code: TpduCode::CONNECTION_CONFIRM,
            dst_ref: 0,
            src_ref: 0x1234,
            class_option: 0,
            neg_data: Some(NegData::Response(NegResponse {
                flags: NegResponseFlags(0),
                length: 8,
                selected_protocol: SecurityProtocols::RDP,
            })),
            neg_error: None,
            trailing: &[],
        }
    );
}

#[test]
fn windows10_hybrid_ex_from_ndpi_rdp_pcap() {
    // fixtures/ndpi__rdp.pcap frame 4 (client 52494 -> 3389): no cookie, SSL|HYBRID|HYBRID_EX.
    let req = hex::decode("030000130ee00000000000010008000b000000").unwrap();
    let r = cr(&req);
    assert_eq!(r.token, None);
    assert_eq!(r.requested_protocols(), SecurityProtocols(0x0b));
    // Frame 5 (3389 -> client): flags 0x1f, selected HYBRID_EX.
    let rsp = hex::decode("030000130ed00000123400021f080008000000").unwrap();
    let c = cc(&rsp);
    assert_eq!(
        c.neg_data,
        Some(NegData::Response(NegResponse {
            flags: NegResponseFlags(0x1f),
            length: 8,
            selected_protocol: SecurityProtocols::HYBRID_EX,
        }))
    );
    let Some(NegData::Response(r)) = c.neg_data else {
        unreachable!()
    };
    assert!(r
        .flags
        .contains(NegResponseFlags::EXTENDED_CLIENT_DATA_SUPPORTED));
    assert!(r
        .flags
        .contains(NegResponseFlags::REDIRECTED_AUTHENTICATION_MODE_SUPPORTED));
}

#[test]
fn ssl_not_allowed_from_zeek_proprietary_encryption() {
    // fixtures/zeek__rdp-proprietary-encryption.pcap frame 4: cookie FTBCO\A70, requestedProtocols SSL.
    let req = hex::decode("0300002f2ae00000000000436f6f6b69653a206d737473686173683d465442434f5c4137300d0a0100080001000000")
        .unwrap();
    let r = cr(&req);
    assert_eq!(r.token, Some(TokenLine::Cookie(b"FTBCO\\A70")));
    assert_eq!(r.requested_protocols(), SecurityProtocols::SSL);
    // Frame 5: RDP_NEG_FAILURE SSL_NOT_ALLOWED_BY_SERVER.
    let rsp = hex::decode("030000130ed000001234000300080002000000").unwrap();
    assert_eq!(
        cc(&rsp).neg_data,
        Some(NegData::Failure(NegFailure {
            flags: 0,
            length: 8,
            failure_code: FailureCode::SSL_NOT_ALLOWED_BY_SERVER
        }))
    );
    // Frames 12/13: the retry offers standard RDP security and the server selects it.
    let retry = hex::decode("0300002f2ae00000000000436f6f6b69653a206d737473686173683d465442434f5c4137300d0a0100080000000000")
        .unwrap();
    assert_eq!(cr(&retry).requested_protocols(), SecurityProtocols::RDP);
}

#[test]
fn legacy_client_and_server_from_ndpi_rdp3() {
    // fixtures/ndpi__rdp3.pcap frame 4: cookie only, no RDP_NEG_REQ (the client offers standard security).
    let req = hex::decode(
        "0300002722e00000000000436f6f6b69653a206d737473686173683d41646d696e697374720d0a",
    )
    .unwrap();
    let r = cr(&req);
    assert_eq!(r.token, Some(TokenLine::Cookie(b"Administr")));
    assert_eq!(r.neg_request, None);
    assert_eq!(r.requested_protocols(), SecurityProtocols::RDP);
    // Frame 5: a bare Connection Confirm, no rdpNegData.
    let bare = hex::decode("0300000b06d00000123400").unwrap();
    let c = cc(&bare);
    assert_eq!(c.neg_data, None);
    assert_eq!(c.neg_error, None);
}

#[test]
fn malformed_negotiation_response_keeps_the_confirm() {
    // fixtures/zeek__rdp-invalid-length.pcap frame 5 (fuzzer output): RDP_NEG_RSP with length 0 and
    // flags 0x03, selectedProtocol 0x02000001; bytes after the TPKT are not TPKT.
    let bytes =
        hex::decode("030000130ed000001234000203000001000002001232000200080000000000").unwrap();
    let (rest, tpdu) = parse_x224_packet(&bytes).unwrap();
    assert_eq!(rest, hex::decode("001232000200080000000000").unwrap());
    let Tpdu::ConnectionConfirm(c) = tpdu else {
        panic!("not a CC")
    };
    let Some(NegData::Response(r)) = c.neg_data else {
        panic!("no response")
    };
    assert_eq!(r.length, 0);
    assert!(!r.length_ok());
    assert_eq!(r.selected_protocol, SecurityProtocols(0x0200_0001));
    assert_eq!(r.selected_protocol.to_string(), "SSL|0x2000000");
}

#[test]
fn unknown_neg_type_is_reported_beside_the_confirm() {
    let bytes = [
        0x03, 0x00, 0x00, 0x13, // TPKT length 19
        0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, // CC
        0x09, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, // rdpNegData with type 9
    ];
    let c = cc(&bytes);
    assert_eq!(c.neg_data, None);
    assert!(matches!(
        c.neg_error,
        Some(WireError::BadValue {
            field: "type",
            got: 9,
            ..
        })
    ));
    assert_eq!(c.trailing.len(), 8);
}

#[test]
fn disconnect_error_and_data_tpdus() {
    let dr = [
        0x03, 0x00, 0x00, 0x0b, // TPKT length 11
        0x06, // LI 6
        0x80, // DR
        0x00, 0x00, // DST-REF
        0x12, 0x34, // SRC-REF
        0x80, // reason 128: normal disconnect
    ];
    let (_, t) = parse_x224_packet(&dr).unwrap();
    let Tpdu::DisconnectRequest(d) = t else {
        panic!("not DR")
    };
    assert_eq!(d.reason, DisconnectReason(128));
    assert_eq!(
        d.reason.to_string(),
        "normal disconnect initiated by session entity"
    );
    assert_eq!(DisconnectReason(200).to_string(), "0xc8");

    let er = [
        0x03, 0x00, 0x00, 0x0b, 0x06, 0x70, 0x00, 0x00, 0x02, 0xc1, 0x00,
    ];
    let (_, t) = parse_x224_packet(&er).unwrap();
    assert!(matches!(t, Tpdu::Error(e) if e.reject_cause == 2 && e.variable == [0xc1, 0x00]));

    let dt = encode_data(&[0x21, 0x80]).unwrap();
    assert_eq!(dt, [0x03, 0x00, 0x00, 0x09, 0x02, 0xf0, 0x80, 0x21, 0x80]);
    let (_, t) = parse_x224_packet(&dt).unwrap();
    assert!(matches!(t, Tpdu::Data(d) if d.eot && d.user_data == [0x21, 0x80]));
}

#[test]
fn bad_lengths_are_errors_not_panics() {
    // LI larger than the TPKT payload.
    assert!(matches!(
        parse_tpdu(&[0x30, 0xe0, 0, 0]),
        Err(nom::Err::Error(WireError::BadLength {
            field: "length indicator",
            ..
        }))
    ));
    // LI 0: no TPDU code.
    assert!(parse_tpdu(&[0x00]).is_err());
    // CR fixed part cut short.
    assert!(matches!(
        parse_tpdu(&[0x03, 0xe0, 0, 0]),
        Err(nom::Err::Error(WireError::Truncated { .. }))
    ));
    // Empty payload.
    assert!(matches!(
        parse_tpdu(&[]),
        Err(nom::Err::Error(WireError::Truncated { .. }))
    ));
    // An RDP_NEG_REQ cut inside the variable part: the request is kept, the structure is the error.
    let cut = [
        0x03, 0x00, 0x00, 0x0e, 0x09, 0xe0, 0, 0, 0, 0, 0, 0x01, 0x00, 0x08,
    ];
    let r = cr(&cut);
    assert_eq!(r.neg_request, None);
    assert!(matches!(
        r.neg_error,
        Some(WireError::Truncated {
            pdu: "RDP_NEG_REQ",
            ..
        })
    ));
    assert_eq!(r.trailing, [0x01, 0x00, 0x08]);
}

/// A Connection Request whose variable part is `variable` (LI and TPKT length filled in).
fn cr_with(variable: &[u8]) -> Vec<u8> {
    let li = u8::try_from(6 + variable.len()).unwrap();
    let len = u16::try_from(4 + 1 + usize::from(li))
        .unwrap()
        .to_be_bytes();
    let mut p = vec![0x03, 0x00, len[0], len[1], li, 0xe0, 0, 0, 0, 0, 0];
    p.extend_from_slice(variable);
    p
}

#[test]
fn a_negotiation_structure_of_the_wrong_type_is_malformed_not_legacy() {
    for ty in [0x00u8, 0x02, 0x03, 0x07] {
        // type, flags, length 8, requestedProtocols SSL|HYBRID
        let structure = [ty, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00];
        for token in [&b""[..], b"Cookie: mstshash=eve\r\n"] {
            let bytes = cr_with(&[token, &structure[..]].concat());
            let r = cr(&bytes);
            assert_eq!(r.neg_request, None, "type {ty}");
            assert!(
                matches!(
                    r.neg_error,
                    Some(WireError::BadValue { pdu: "RDP_NEG_REQ", field: "type", got, .. }) if got == u64::from(ty)
                ),
                "type {ty}: {:?}",
                r.neg_error
            );
            assert_eq!(r.trailing, structure);
            assert_eq!(r.token.is_some(), !token.is_empty());
        }
    }
    // A second RDP_NEG_REQ after the first is not a correlation info either.
    let req = [0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00];
    let bytes = cr_with(&[&req[..], &req[..]].concat());
    let r = cr(&bytes);
    assert!(r.neg_request.is_some());
    assert!(r.neg_error.is_some());
    assert_eq!(r.trailing, req);
}

#[test]
fn token_lines_routing_token_unknown_and_cut_short() {
    // MS-RDPBCGR 2.2.1.1: routingToken is "Cookie: msts=" ... CR LF (the load balancer's token).
    let bytes = cr_with(b"Cookie: msts=3640205228.15629.0000\r\n");
    let r = cr(&bytes);
    assert_eq!(
        r.token,
        Some(TokenLine::RoutingToken(
            b"Cookie: msts=3640205228.15629.0000"
        ))
    );
    assert_eq!(r.neg_request, None);
    assert_eq!(r.neg_error, None);
    // Any other line is not a routing token.
    let bytes = cr_with(b"X-Evil: \x1b[2J\r\n\x01\x00\x08\x00\x01\x00\x00\x00");
    let r = cr(&bytes);
    assert_eq!(r.token, Some(TokenLine::Unknown(b"X-Evil: \x1b[2J")));
    assert!(r.neg_request.is_some());
    // No CR LF: the line is cut short, and swallows the rest.
    let bytes = cr_with(b"Cookie: mstshash=eve\x01\x00\x08\x00\x01\x00\x00\x00");
    let r = cr(&bytes);
    assert!(
        matches!(r.token, Some(TokenLine::Unterminated(t)) if t.starts_with(b"Cookie: mstshash=eve"))
    );
    assert_eq!(r.neg_request, None);
}

#[test]
fn correlation_info_and_data_tpdu_lengths_are_checked() {
    let spec = ConnectionRequestSpec {
        cookie: None,
        requested_protocols: Some(SecurityProtocols::SSL),
        flags: NegRequestFlags(0),
        correlation_id: Some([0x5a; 16]),
    };
    let good = encode_connection_request(&spec).unwrap();
    let c = cr(&good).correlation_info.unwrap();
    assert!(c.length_ok());
    // The correlation info's length field (after type and flags of the 9th byte of the variable part).
    let mut bad = good.clone();
    let at = 11 + 8 + 2;
    assert_eq!(bad[at], 36);
    bad[at] = 35;
    let c = cr(&bad).correlation_info.unwrap();
    assert_eq!(c.length, 35);
    assert!(!c.length_ok());

    // X.224 Data with LI 3: one header byte more than class 0 has.
    let dt = [0x03, 0x00, 0x00, 0x0a, 0x03, 0xf0, 0x80, 0x7f, 0x21, 0x80];
    let Tpdu::Data(d) = parse_x224_packet(&dt).unwrap().1 else {
        panic!("not DT")
    };
    assert_eq!(d.length_indicator, 3);
    assert!(!d.length_ok());
    assert_eq!(d.extra_header, [0x7f]);
    assert_eq!(d.user_data, [0x21, 0x80]);
    let dt = encode_data(&[1]).unwrap();
    let Tpdu::Data(d) = parse_x224_packet(&dt).unwrap().1 else {
        panic!("not DT")
    };
    assert!(d.length_ok());
}

#[test]
fn every_cut_of_every_packet_is_incomplete() {
    let packets: Vec<Vec<u8>> = vec![
        SPEC_CR.to_vec(),
        SPEC_CC.to_vec(),
        hex::decode("0300000b06d00000123400").unwrap(),
        encode_data(&[1, 2, 3]).unwrap(),
    ];
    for p in &packets {
        for cut in 0..p.len() {
            assert!(
                matches!(parse_x224_packet(&p[..cut]), Err(nom::Err::Incomplete(_))),
                "cut at {cut} of {p:02x?}"
            );
        }
        assert!(parse_x224_packet(p).is_ok());
    }
}

#[test]
fn connection_request_encoder_round_trips() {
    for requested in [
        None,
        Some(SecurityProtocols::RDP),
        Some(SecurityProtocols(0x0b)),
        Some(SecurityProtocols(0x1f)),
    ] {
        for cookie in [None, Some("rdpdiag")] {
            for correlation_id in [None, Some([7u8; 16])] {
                let spec = ConnectionRequestSpec {
                    cookie,
                    requested_protocols: requested,
                    flags: NegRequestFlags(0),
                    correlation_id,
                };
                let bytes = encode_connection_request(&spec).unwrap();
                let r = cr(&bytes);
                assert_eq!(r.token, cookie.map(|c| TokenLine::Cookie(c.as_bytes())));
                assert_eq!(r.neg_request.map(|n| n.requested_protocols), requested);
                assert!(r.trailing.is_empty());
                if requested.is_some() {
                    assert_eq!(
                        r.correlation_info.map(|c| c.correlation_id.to_vec()),
                        correlation_id.map(|c| c.to_vec())
                    );
                    assert_eq!(
                        r.neg_request
                            .unwrap()
                            .flags
                            .contains(NegRequestFlags::CORRELATION_INFO_PRESENT),
                        correlation_id.is_some()
                    );
                }
            }
        }
    }
    // The encoder reproduces the specification's example byte for byte.
    let spec = ConnectionRequestSpec {
        cookie: Some("eltons"),
        requested_protocols: Some(SecurityProtocols::RDP),
        ..Default::default()
    };
    assert_eq!(encode_connection_request(&spec).unwrap(), SPEC_CR);
    // A cookie too long for the length indicator is refused, not truncated.
    let long = "x".repeat(300);
    assert!(encode_connection_request(&ConnectionRequestSpec {
        cookie: Some(&long),
        ..Default::default()
    })
    .is_err());
}

#[test]
fn connection_confirm_encoder_round_trips() {
    let rsp = NegData::Response(NegResponse {
        flags: NegResponseFlags(0),
        length: 8,
        selected_protocol: SecurityProtocols::RDP,
    });
    assert_eq!(encode_connection_confirm(Some(&rsp)).unwrap(), SPEC_CC);
    for code in FailureCode::ALL.into_iter().chain([FailureCode(7)]) {
        let data = NegData::Failure(NegFailure {
            flags: 0,
            length: 8,
            failure_code: code,
        });
        let bytes = encode_connection_confirm(Some(&data)).unwrap();
        assert_eq!(cc(&bytes).neg_data, Some(data));
    }
    assert_eq!(cc(&encode_connection_confirm(None).unwrap()).neg_data, None);
}

#[test]
fn the_session_calls_a_wrong_negotiation_type_malformed_not_legacy() {
    use rdpdiag::session::{Direction, Event, Session, Timestamp};
    let structure = [0x03, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00];
    let mut s = Session::new();
    s.on_bytes(
        Timestamp::from_secs(1),
        Direction::ClientToServer,
        Some(4),
        &cr_with(&structure),
    );
    let events: Vec<&Event> = s.timeline().entries.iter().map(|e| &e.event).collect();
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Malformed { pdu, error } if pdu == "RDP_NEG_REQ" && error.contains("type is 0x3")
        )),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::ConnectionRequest { .. })),
        "{events:#?}"
    );
}
