//! The session observer on scripted conversations: the same conversation fed whole, byte by byte, or split
//! at every offset gives the same timeline; timelines read as expected; TLS 1.3 and HelloRetryRequest.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::session::{Direction, Event, Stage, StandardPdu, TransportFact};
use rdpdiag::wire::tls::ContentType;

fn scripts() -> Vec<(&'static str, Script)> {
    let nla = || {
        Script::new(JUNE_2019)
            .connect()
            .request(Some(3))
            .select(2)
            .tls12()
    };
    vec![
        (
            "nla-failure",
            nla()
                .app(C, 81)
                .app(S, 215)
                .app(C, 633)
                .encrypted_alert(S)
                .app(C, 61)
                .rst(C),
        ),
        (
            "hybrid-established",
            nla()
                .app(C, 81)
                .app(S, 215)
                .app(C, 633)
                .app(S, 60)
                .app(C, 500)
                .app(S, 300)
                .app(C, 20),
        ),
        (
            "tls-abort",
            Script::new(JUNE_2019)
                .connect()
                .request(Some(3))
                .select(1)
                .client_hello()
                .fin(S),
        ),
        (
            "standard-security",
            Script::new(JUNE_2019)
                .connect()
                .request(Some(0))
                .select(0)
                .bytes(C, fixture_hex("mcs/x509_connect_initial.hex"))
                .bytes(S, fixture_hex("mcs/x509_connect_response.hex"))
                .mcs(C, &send_data(C, &security_exchange()))
                .mcs(C, &send_data(C, &secured(0x0048, 320)))
                .mcs(S, &send_data(S, &LICENSE_VALID_CLIENT)),
        ),
        (
            "xrdp-requires-tls",
            Script::new(JUNE_2019)
                .connect()
                .request(None)
                .legacy_confirm()
                .mcs(S, &[0x21, 0x80])
                .fin(S),
        ),
        ("tls13", tls13()),
        (
            "xrdp-gives-up-tls",
            Script::new(JUNE_2019)
                .connect()
                .request(Some(1))
                .select(1)
                .client_hello()
                .alert(S, 70)
                .mcs(S, &[0x21, 0x80])
                .fin(C),
        ),
        ("tls13-client-alert", tls13().app(C, 19).fin(C)),
        // Standard RDP security: the server drops the client after its Client Info PDU.
        (
            "standard-security-dropped",
            standard_security_to_client_info()
                .wait(14.0)
                .mcs(S, &[0x21, 0x80])
                .fin(S),
        ),
        // An encrypted server PDU after the Client Info, large enough to be the Demand Active.
        (
            "standard-security-demand-active-by-size",
            standard_security_to_client_info().mcs(S, &send_data(S, &secured(0x0008, 300))),
        ),
        // A valid TPKT header with garbage inside (the X.224 length indicator runs past the packet).
        ("tpkt-garbage", tpkt_garbage()),
    ]
}

/// `03 00 00 1b 7f 70 …`: TPKT version 3, length 27, then an X.224 length indicator of 127.
fn tpkt_garbage() -> Script {
    let mut reply = vec![0x03, 0x00, 0x00, 0x1b, 0x7f, 0x70];
    reply.extend((0u8..21).map(|b| b.wrapping_mul(37)));
    Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .bytes(S, reply)
        .fin(C)
}

/// TLS 1.3: ServerHello with supported_versions, then everything encrypted (the certificate too).
fn tls13() -> Script {
    let mut sh = server_hello_body(0x0303);
    sh.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]); // extensions: supported_versions TLS 1.3
    let mut flight = record(ContentType::HANDSHAKE, &handshake(2, &sh));
    flight.extend(record(ContentType::CHANGE_CIPHER_SPEC, &[1]));
    flight.extend(record(ContentType::APPLICATION_DATA, &[0x31; 900])); // EncryptedExtensions, Certificate, CertificateVerify, Finished
    let mut client_fin = record(ContentType::CHANGE_CIPHER_SPEC, &[1]);
    client_fin.extend(record(ContentType::APPLICATION_DATA, &[0x32; 53])); // Finished
    Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .bytes(C, fixture_hex("tls/hrr_f4_client_hello.hex"))
        .bytes(S, flight)
        .bytes(C, client_fin)
        .app(C, 400)
        .app(S, 300)
}

#[test]
fn any_split_gives_the_same_timeline() {
    for (name, script) in scripts() {
        let whole = script.play();
        let bytewise = script.play_with(|_, b| b.iter().map(|x| vec![*x]).collect());
        assert_eq!(whole, bytewise, "{name}: byte by byte");
        let total: usize = script
            .steps
            .iter()
            .map(|(_, s)| {
                if let Step::Bytes(_, b) = s {
                    b.len()
                } else {
                    0
                }
            })
            .sum();
        for cut_step in 0..script.steps.len() {
            let Step::Bytes(_, bytes) = &script.steps[cut_step].1 else {
                continue;
            };
            for at in 1..bytes.len() {
                let split = script.play_with(|n, b| {
                    if n == cut_step {
                        vec![b[..at].to_vec(), b[at..].to_vec()]
                    } else {
                        vec![b.to_vec()]
                    }
                });
                assert_eq!(
                    whole, split,
                    "{name}: step {cut_step} split at {at} (of {total} bytes in all)"
                );
            }
        }
    }
}

fn tags(obs: &rdpdiag::session::Observation) -> Vec<String> {
    obs.timeline
        .entries
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let dir = e.dir.map_or("    ", Direction::arrow);
            format!(
                "{dir} {} @{}",
                v["event"].as_str().unwrap(),
                v["stage"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn nla_failure_timeline() {
    let obs = scripts().remove(0).1.play();
    assert_eq!(
        tags(&obs),
        [
            "C->S tcp_syn @tcp",
            "S->C tcp_connected @tcp",
            "C->S connection_request @x224_request",
            "S->C connection_confirm @negotiation",
            "C->S tls_client_hello @tls_handshake",
            "S->C tls_server_hello @tls_handshake",
            "S->C tls_certificate @tls_handshake",
            "S->C tls_server_hello_done @tls_handshake",
            "C->S tls_change_cipher_spec @tls_handshake",
            "C->S tls_encrypted_handshake @tls_handshake",
            "S->C tls_change_cipher_spec @tls_handshake",
            "S->C tls_encrypted_handshake @tls_handshake",
            "     tls_handshake_done @tls_handshake",
            "C->S tls_application_data @cred_ssp",
            "S->C tls_application_data @cred_ssp",
            "C->S tls_application_data @cred_ssp",
            "S->C tls_encrypted_alert @cred_ssp",
            "C->S tls_application_data @cred_ssp",
            "C->S rst @cred_ssp",
        ]
    );
    // Packet numbers are kept: the ServerHello came in step 6 of the script (SYN, SYN/ACK, CR, CC, ClientHello, server flight).
    let sh = obs
        .timeline
        .entries
        .iter()
        .find(|e| matches!(e.event, Event::TlsServerHello { .. }))
        .unwrap();
    assert_eq!(sh.packet, Some(6));
    assert_eq!(obs.stage_reached, Stage::CredSsp);
}

#[test]
fn hybrid_reaches_established_and_stops_recording() {
    let obs = scripts().remove(1).1.play();
    assert_eq!(obs.stage_reached, Stage::Established);
    let last = obs.timeline.entries.last().unwrap();
    assert!(matches!(last.event, Event::Established { .. }), "{last:?}");
}

#[test]
fn standard_security_reads_the_x509_chain() {
    let obs = scripts().remove(3).1.play();
    assert_eq!(obs.stage_reached, Stage::Established);
    assert_eq!(
        tags(&obs)[4..],
        [
            "C->S mcs_connect_initial @standard_security",
            "S->C mcs_connect_response @standard_security",
            "S->C tls_certificate @standard_security",
            "C->S standard_security_pdu @standard_security",
            "C->S standard_security_pdu @standard_security",
            "S->C standard_security_pdu @standard_security",
            "     established @established",
        ]
    );
    let chain = obs.timeline.entries.iter().find_map(|e| match &e.event {
        Event::TlsCertificate { chain, .. } => Some(chain.len()),
        _ => None,
    });
    assert_eq!(chain, Some(2));
    let client = obs.timeline.entries.iter().find_map(|e| match &e.event {
        Event::McsConnectInitial { client_name, .. } => client_name.clone(),
        _ => None,
    });
    assert_eq!(client.as_deref(), Some("JOHN-PC-LAPTOP"));
}

#[test]
fn tls13_handshake_end_is_found_without_keys() {
    let obs = tls13().play();
    let done = obs.timeline.entries.iter().find_map(|e| match &e.event {
        Event::TlsHandshakeDone { version_name } => Some(version_name.clone()),
        _ => None,
    });
    assert_eq!(done.as_deref(), Some("TLS 1.3"));
    assert_eq!(obs.stage_reached, Stage::Established);
    assert!(
        !obs.timeline
            .entries
            .iter()
            .any(|e| matches!(e.event, Event::TlsCertificate { .. })),
        "the 1.3 certificate is encrypted"
    );
}

#[test]
fn server_speaking_first_or_foreign_is_not_rdp() {
    let obs = Script::new(JUNE_2019)
        .connect()
        .bytes(S, b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec())
        .play();
    assert!(obs
        .timeline
        .entries
        .iter()
        .any(|e| matches!(&e.event, Event::NotRdp { looks_like, .. } if looks_like == "HTTP")));
    // TLS selected, but the server answers the ClientHello with TPKT: read as TPKT (no TLS record
    // starts with 0x03); an empty Data TPDU carries no MCS PDU, which is malformed.
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, vec![3, 0, 0, 7, 2, 0xf0, 0x80])
        .play();
    assert!(obs.timeline.entries.iter().any(|e| matches!(
        &e.event,
        Event::Malformed { .. } if e.dir == Some(S) && e.stage == Stage::TlsHandshake
    )));
    // xrdp's fallback: an MCS Disconnect Provider Ultimatum in the clear instead of a ServerHello.
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .mcs(S, &[0x21, 0x80])
        .play();
    let last = obs.timeline.entries.last().unwrap();
    assert!(
        matches!(last.event, Event::McsDisconnectUltimatum { .. }),
        "{last:?}"
    );
    assert_eq!(last.stage, Stage::TlsHandshake);
}

#[test]
fn capture_gap_stops_parsing_that_direction() {
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .fact(TransportFact::Gap {
            dir: S,
            bytes: 1200,
        })
        .client_hello()
        .server_flight()
        .fact(TransportFact::CaptureEnd)
        .play();
    assert!(!obs
        .timeline
        .entries
        .iter()
        .any(|e| matches!(e.event, Event::TlsServerHello { .. })));
    assert!(obs
        .timeline
        .entries
        .iter()
        .any(|e| matches!(e.event, Event::CaptureGap { bytes: 1200 })));
}

#[test]
fn arbitrary_bytes_in_both_directions_never_panic() {
    // A deterministic stream of pseudo-random conversations (proptest covers the wire parsers).
    let mut x: u64 = 0x1234_5678;
    for _ in 0..300 {
        let mut s = rdpdiag::session::Session::new();
        for i in 0..40 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = usize::try_from(x % 300).unwrap();
            let mut bytes: Vec<u8> = (0..len).map(|k| (x >> (k % 56)) as u8).collect();
            if i < 2 {
                bytes.insert(0, 3);
            }
            let dir = if x & 1 == 0 { C } else { S };
            s.on_bytes(rdpdiag::session::Timestamp::from_secs(i), dir, None, &bytes);
        }
        let obs = s.finish();
        let _ = rdpdiag::diagnose::diagnose(&obs, &rdpdiag::diagnose::Context::default());
    }
}

fn named_script(name: &str) -> Script {
    scripts()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap()
}

/// The standard-security landmarks of a timeline: (direction, pdu, encrypted, inferred).
fn landmarks(obs: &rdpdiag::session::Observation) -> Vec<(Direction, StandardPdu, bool, bool)> {
    obs.timeline
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::StandardSecurityPdu {
                pdu,
                encrypted,
                inferred,
                ..
            } => Some((e.dir.unwrap(), *pdu, *encrypted, *inferred)),
            _ => None,
        })
        .collect()
}

#[test]
fn standard_security_is_up_at_the_servers_licensing_pdu_not_at_the_mcs_connect() {
    // Up to the MCS connect: not up.
    let obs = standard_security_connect().play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
    // Security Exchange and Client Info, known by their security header flags: still not up.
    let obs = standard_security_to_client_info().play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
    assert_eq!(
        landmarks(&obs),
        [
            (C, StandardPdu::SecurityExchange, false, false),
            (C, StandardPdu::ClientInfo, true, false),
        ]
    );
    // The server's License Error (valid client) PDU: up, and nothing after it is parsed.
    let obs = standard_security()
        .mcs(S, &send_data(S, &secured(0x0008, 300)))
        .play();
    assert_eq!(obs.stage_reached, Stage::Established);
    let lic = obs
        .timeline
        .entries
        .iter()
        .find_map(|e| match &e.event {
            Event::StandardSecurityPdu {
                pdu: StandardPdu::Licensing,
                security_flags,
                license_msg_name,
                ..
            } => Some((*security_flags, license_msg_name.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(lic, (Some(0x0080), Some("ERROR_ALERT".to_string())));
    let Some(Event::Established { how }) = obs.timeline.entries.last().map(|e| &e.event) else {
        panic!("{:?}", tags(&obs));
    };
    assert_eq!(
        how,
        "standard RDP security: the server sent its licensing PDU after the client's Client Info PDU"
    );
    // An encrypted server PDU of Demand Active size after the Client Info: up, known by its size.
    let obs = named_script("standard-security-demand-active-by-size").play();
    assert_eq!(obs.stage_reached, Stage::Established);
    assert_eq!(
        landmarks(&obs).last(),
        Some(&(S, StandardPdu::DemandActive, true, true))
    );
    // A small encrypted one (a Set Error Info, say) is not taken for it.
    let obs = standard_security_to_client_info()
        .mcs(S, &send_data(S, &secured(0x0008, 26)))
        .play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
}

#[test]
fn a_server_dropping_the_client_after_its_client_info_is_server_disconnected() {
    let script = named_script("standard-security-dropped");
    let obs = script.play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
    let d = rdpdiag::diagnose::diagnose(&obs, &rdpdiag::diagnose::Context::default());
    assert_eq!(d.outcome, rdpdiag::diagnose::Outcome::Failed, "{d:#?}");
    assert_eq!(d.verdict_id(), "server-disconnected");
    let f = &d.findings[0];
    assert_eq!(f.confidence, rdpdiag::diagnose::Confidence::Certain);
    assert_eq!(
        f.title,
        "Server disconnected during setup: the server sent an MCS Disconnect Provider Ultimatum \
         (rn-user-requested) 14.1 ms after the client's Client Info PDU, before any licensing or \
         Demand Active PDU"
    );
    // Evidence: the Client Info, the ultimatum, the FIN after it.
    let evidence: Vec<&str> = f
        .evidence
        .iter()
        .map(|e| {
            let v = serde_json::to_value(&obs.timeline.entries[e.entry]).unwrap();
            v["event"].as_str().unwrap().to_string()
        })
        .map(|s| &*Box::leak(s.into_boxed_str()))
        .collect();
    assert_eq!(
        evidence,
        ["standard_security_pdu", "mcs_disconnect_ultimatum", "fin"]
    );
    // An encrypted PDU before the close may have been a Set Error Info: shown, not guessed.
    let d = standard_security_to_client_info()
        .mcs(S, &send_data(S, &secured(0x0008, 26)))
        .mcs(S, &[0x21, 0x80])
        .fin(S)
        .diagnose();
    assert_eq!(d.verdict_id(), "server-disconnected");
    assert!(
        d.findings[0]
            .evidence
            .iter()
            .any(|e| e.text.contains("38 bytes before it that cannot be read")),
        "{:#?}",
        d.findings[0].evidence
    );
    // A FIN or RST alone says the same; a client that leaves first is not the server's doing.
    for (close, word) in [
        (TransportFact::Fin(S), "FIN"),
        (TransportFact::Rst(S), "RST"),
    ] {
        let d = standard_security_to_client_info()
            .wait(3.0)
            .fact(close)
            .diagnose();
        assert_eq!(d.verdict_id(), "server-disconnected", "{word}");
        assert!(
            d.findings[0].title.contains(word),
            "{}",
            d.findings[0].title
        );
    }
    let d = standard_security_to_client_info()
        .wait(3.0)
        .fin(C)
        .wait(1.0)
        .fin(S)
        .diagnose();
    assert_ne!(d.verdict_id(), "server-disconnected", "{d:#?}");
    // During the channel connection (no security exchange yet) it is likely, not certain.
    let d = standard_security_connect().wait(3.0).fin(S).diagnose();
    assert_eq!(d.verdict_id(), "server-disconnected");
    assert_eq!(
        d.findings[0].confidence,
        rdpdiag::diagnose::Confidence::Likely
    );
    // A session that got its licensing PDU is healthy, whoever closes later.
    let d = standard_security().wait(5.0).fin(S).diagnose();
    assert_eq!(d.verdict_id(), "healthy", "{d:#?}");
}

#[test]
fn following_standard_security_is_bounded_in_pdus_and_time() {
    // The server chatters without licensing: after MAX_STANDARD_PDUS PDUs the rest is not parsed.
    let mut script = standard_security_connect();
    for _ in 0..rdpdiag::session::MAX_STANDARD_PDUS + 5 {
        script = script.mcs(S, &send_data(S, &secured(0x0000, 8)));
    }
    let obs = script.mcs(S, &send_data(S, &LICENSE_VALID_CLIENT)).play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
    let limits: Vec<&Event> = obs
        .timeline
        .entries
        .iter()
        .map(|e| &e.event)
        .filter(|e| matches!(e, Event::LimitHit { .. }))
        .collect();
    assert_eq!(limits.len(), 1, "{limits:?}");
    assert!(
        obs.timeline.entries.len() < 20,
        "{}",
        obs.timeline.entries.len()
    );
    // A client with all 31 static channels joins them all (and its user and I/O channels) within it.
    let mut script = standard_security_connect()
        .mcs(C, &[0x04, 0x01, 0x00, 0x01, 0x00]) // erectDomainRequest
        .mcs(C, &[0x28]) // attachUserRequest
        .mcs(S, &[0x2e, 0x00, 0x00, 0x06]); // attachUserConfirm, user 1007
    for channel in 1003u16..1003 + 33 {
        let [hi, lo] = channel.to_be_bytes();
        script = script
            .mcs(C, &[0x38, 0x00, 0x06, hi, lo]) // channelJoinRequest
            .mcs(S, &[0x3e, 0x00, 0x00, 0x06, hi, lo, hi, lo]); // channelJoinConfirm
    }
    let obs = script
        .mcs(C, &send_data(C, &security_exchange()))
        .mcs(C, &send_data(C, &secured(0x0048, 320)))
        .mcs(S, &send_data(S, &LICENSE_VALID_CLIENT))
        .play();
    assert_eq!(obs.stage_reached, Stage::Established, "{:?}", tags(&obs));
    assert!(
        !tags(&obs).iter().any(|t| t.contains("malformed")),
        "{:?}",
        tags(&obs)
    );
    // Capture time: a Client Info 11 s after the MCS connect is past the window.
    let obs = standard_security_connect()
        .wait(11_000.0)
        .mcs(C, &send_data(C, &secured(0x0048, 320)))
        .mcs(S, &send_data(S, &LICENSE_VALID_CLIENT))
        .play();
    assert_eq!(obs.stage_reached, Stage::StandardSecurity);
    assert!(matches!(
        obs.timeline.entries.last().map(|e| &e.event),
        Some(Event::LimitHit { what }) if what.contains("10 s")
    ));
}

/// The malformed reply of a scripted conversation, and the not-rdp reply's words.
fn server_malformed(obs: &rdpdiag::session::Observation) -> Option<String> {
    obs.timeline.entries.iter().find_map(|e| match &e.event {
        Event::Malformed { pdu, error } if e.dir == Some(S) => Some(format!("{pdu}: {error}")),
        _ => None,
    })
}

#[test]
fn tpkt_with_garbage_inside_is_malformed_not_foreign() {
    let obs = tpkt_garbage().play();
    assert!(
        !obs.timeline
            .entries
            .iter()
            .any(|e| matches!(e.event, Event::NotRdp { .. })),
        "{:?}",
        tags(&obs)
    );
    let m = server_malformed(&obs).unwrap();
    assert!(m.contains("length indicator 127"), "{m}");
    assert!(m.contains("TPKT header: version 3, length 27"), "{m}");
    let d = tpkt_garbage().diagnose();
    assert_eq!(d.verdict_id(), "malformed-reply", "{d:#?}");
    assert!(d.findings[0].title.contains("length indicator"));
    // A TPKT length shorter than its own header.
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .bytes(S, vec![0x03, 0x00, 0x00, 0x02, 0x00])
        .play();
    let m = server_malformed(&obs).unwrap();
    assert!(m.starts_with("TPKT: TPKT: length 2"), "{m}");
    // An unknown TPDU code, and a Connection Confirm of the wrong class.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .bytes(S, vec![0x03, 0x00, 0x00, 0x0b, 0x06, 0x30, 0, 0, 0, 0, 0])
        .diagnose();
    assert_eq!(d.verdict_id(), "malformed-reply", "{d:#?}");
    assert!(
        d.findings[0].title.contains("got X.224 TPDU code 0x30"),
        "{}",
        d.findings[0].title
    );
    let mut cc = vec![0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0, 0, 0x12, 0x34, 0x40];
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(None)
        .bytes(S, cc.clone())
        .play();
    let m = server_malformed(&obs).unwrap();
    assert!(m.contains("class is 0x4, expected 0"), "{m}");
    cc[10] = 0x00;
    let obs = Script::new(JUNE_2019)
        .connect()
        .request(None)
        .bytes(S, cc)
        .play();
    assert_eq!(server_malformed(&obs), None);
}

#[test]
fn not_rdp_says_what_the_first_bytes_are() {
    let cases: [(&[u8], &str); 4] = [
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", "HTTP"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "an SSH banner"),
        (
            &[0x16, 0x03, 0x03, 0x00, 0x31, 0x02, 0x00, 0x00, 0x2d],
            "TLS without X.224 negotiation first",
        ),
        (
            &[0x00, 0x01, 0x02, 0x99, 0xfe],
            rdpdiag::session::UNRECOGNISED,
        ),
    ];
    for (bytes, want) in cases {
        let d = Script::new(JUNE_2019)
            .connect()
            .request(Some(1))
            .bytes(S, bytes.to_vec())
            .fin(S)
            .diagnose();
        assert_eq!(d.verdict_id(), "not-rdp", "{want}: {d:#?}");
        assert_eq!(
            d.findings[0].title,
            format!("Not an RDP server: the server speaks {want}")
        );
    }
}

#[test]
fn arbitrary_pdus_after_a_standard_security_connect_never_panic_and_stay_bounded() {
    // Pseudo-random Send Data PDUs (security header flags and all) in both directions after a real MCS
    // connect: the follow-through never panics, never records more than it may, and never calls a
    // connection up without a server PDU that says so.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let (mut up, mut bounded) = (0, 0);
    for round in 0..200 {
        let mut script = standard_security_connect();
        for _ in 0..rdpdiag::session::MAX_STANDARD_PDUS + 10 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = usize::try_from(x % 400).unwrap();
            let mut data: Vec<u8> = (0..len).map(|k| (x >> (k % 56)) as u8).collect();
            // Every other round, no SEC_LICENSE_PKT nor SEC_ENCRYPT: the bounds must end it.
            if let (0, Some(flags)) = (round % 2, data.first_mut()) {
                *flags &= !0x88;
            }
            let dir = if x & 1 == 0 { C } else { S };
            script = script.mcs(dir, &send_data(dir, &data));
        }
        let obs = script.play();
        assert!(obs.timeline.entries.len() <= rdpdiag::session::MAX_ENTRIES);
        if obs.stage_reached == Stage::Established {
            assert!(obs.timeline.entries.iter().any(|e| e.dir == Some(S)
                && matches!(
                    e.event,
                    Event::StandardSecurityPdu {
                        pdu: StandardPdu::Licensing | StandardPdu::DemandActive,
                        ..
                    }
                )));
        }
        up += usize::from(obs.stage_reached == Stage::Established);
        bounded += usize::from(
            obs.timeline
                .entries
                .iter()
                .any(|e| matches!(e.event, Event::LimitHit { .. })),
        );
        let _ = rdpdiag::diagnose::diagnose(&obs, &rdpdiag::diagnose::Context::default());
    }
    assert!(up > 50 && bounded > 50, "{up} up, {bounded} bounded");
}
