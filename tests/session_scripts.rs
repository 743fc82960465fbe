//! The session observer on scripted conversations: the same conversation fed whole, byte by byte, or split
//! at every offset gives the same timeline; timelines read as expected; TLS 1.3 and HelloRetryRequest.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::session::{Direction, Event, Stage, TransportFact};
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
                .bytes(S, fixture_hex("mcs/x509_connect_response.hex")),
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
    ]
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
