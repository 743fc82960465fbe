//! A server that answers with a TLS 1.3 draft (issue 12 §6): everything after its ServerHello is
//! encrypted, as after a TLS 1.3 one, so its encrypted flight is the handshake going on, not a
//! malformed reply.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::session::Event;

/// draft-thomson-tls-tls13-vectors-01: the TLS 1.3 draft-18 ServerHello record.
const DRAFT18_SERVER_HELLO: &str = "160301005202 00004e 7f12 \
    20b9c9201cd171a15abba4e7eddcf3e8488e7192ffe01ea5c19f3d4b52ffeebe 1301 0028 \
    00280024001d00209c1b0a7421919a73cb57b3a0ad9d6805861a9c47e11df8639d25323b79ce201c";

/// A draft 22+ ServerHello: legacy fields, the draft (0x7f17, draft 23) in supported_versions.
fn draft23_server_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.extend_from_slice(&[0x00, 0x13, 0x01, 0x00]);
    body.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x7f, 0x17]);
    record(
        rdpdiag::wire::tls::ContentType::HANDSHAKE,
        &handshake(2, &body),
    )
}

fn draft_script(server_hello: Vec<u8>) -> Script {
    Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, server_hello)
        // The server's encrypted flight, the client's Finished, then the session's first data.
        .app(S, 1200)
        .app(C, 53)
        .app(C, 300)
        .app(S, 400)
}

#[test]
fn a_draft_server_hello_is_followed_by_encrypted_records_not_a_malformed_reply() {
    for (name, sh) in [
        (
            "draft 18",
            hex::decode(DRAFT18_SERVER_HELLO.replace(' ', "")).unwrap(),
        ),
        ("draft 23", draft23_server_hello()),
    ] {
        let script = draft_script(sh);
        let obs = script.play();
        let events: Vec<&Event> = obs.timeline.entries.iter().map(|e| &e.event).collect();
        let version = events.iter().find_map(|e| match e {
            Event::TlsServerHello { version_name, .. } => Some(version_name.clone()),
            _ => None,
        });
        assert!(
            version
                .as_deref()
                .is_some_and(|v| v.starts_with("TLS 1.3 draft")),
            "{name}: {version:?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Unexpected { .. } | Event::Malformed { .. })),
            "{name}: {events:#?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::TlsEncryptedHandshake { .. })),
            "{name}: {events:#?}"
        );
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::TlsHandshakeDone { .. })),
            "{name}: {events:#?}"
        );
        let d = script.diagnose();
        assert!(
            !ids(&d).contains(&"malformed-reply"),
            "{name}: {:?}",
            ids(&d)
        );
    }
}
