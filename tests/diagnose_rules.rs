//! One test per rule on a scripted conversation: the rule fires, first where it should be first, with its
//! evidence pointing at the right entries.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::diagnose::rules::RULES;
use rdpdiag::diagnose::{Confidence, Context, Diagnosis, Outcome, Severity};
use rdpdiag::session::{Stage, TransportFact};
use rdpdiag::wire::tls::ContentType;

fn first(d: &Diagnosis) -> &rdpdiag::diagnose::Finding {
    d.findings
        .first()
        .unwrap_or_else(|| panic!("no finding in {d:#?}"))
}

fn assert_first(d: &Diagnosis, id: &str, confidence: Confidence) {
    let f = first(d);
    assert_eq!(
        (f.id, f.confidence),
        (id, confidence),
        "findings: {:?}",
        ids(d)
    );
    assert_eq!(f.severity, Severity::Failure);
    assert_eq!(d.outcome, Outcome::Failed);
    assert_eq!(d.verdict_id(), id);
    assert!(!f.evidence.is_empty(), "{id} has no evidence");
    assert!(!f.remedy.is_empty());
}

fn has(d: &Diagnosis, id: &str) -> bool {
    d.findings.iter().any(|f| f.id == id)
}

fn nla() -> Script {
    // SSL|HYBRID requested, HYBRID selected, TLS 1.2 done.
    Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(2)
        .tls12()
}

#[test]
fn rule_ids_are_unique_and_from_the_catalogue() {
    let catalogue = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/knowledge/causes.md"
    ))
    .ok();
    let mut seen = std::collections::HashSet::new();
    for rule in RULES {
        assert!(seen.insert(rule.id), "duplicate rule id {}", rule.id);
        assert!(!rule.remedy.is_empty() && !rule.title.is_empty());
        let extra = [
            "cert-expiring-soon",
            "tls-legacy-version",
            "nla-not-required",
        ];
        if let (Some(text), false) = (&catalogue, extra.contains(&rule.id)) {
            assert!(
                text.contains(&format!("`{}`", rule.id)),
                "{} is not in causes.md",
                rule.id
            );
        }
    }
}

#[test]
fn tcp_refused() {
    let d = Script::new(JUNE_2019)
        .fact(TransportFact::Syn)
        .wait(0.4)
        .fact(TransportFact::Refused)
        .diagnose();
    assert_first(&d, "tcp-refused", Confidence::Certain);
    assert_eq!(d.stage_reached, Stage::Tcp);
}

#[test]
fn tcp_unreachable() {
    let icmp = TransportFact::IcmpUnreachable {
        icmp_type: 3,
        code: 13,
        reporter: "192.0.2.1".into(),
    };
    let d = Script::new(JUNE_2019)
        .fact(TransportFact::Syn)
        .fact(icmp)
        .diagnose();
    assert_first(&d, "tcp-unreachable", Confidence::Certain);
    assert!(first(&d).title.contains("code 13"));
}

#[test]
fn tcp_filtered() {
    let d = Script::new(JUNE_2019)
        .fact(TransportFact::Syn)
        .wait(21_000.0)
        .fact(TransportFact::NoAnswer {
            syns: 4,
            waited_us: 21_000_000,
        })
        .diagnose();
    assert_first(&d, "tcp-filtered", Confidence::Likely);
}

#[test]
fn not_rdp() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .bytes(S, b"SSH-2.0-OpenSSH_9.2\r\n".to_vec())
        .fin(S)
        .diagnose();
    assert_first(&d, "not-rdp", Confidence::Certain);
    assert!(first(&d).title.contains("SSH"), "{}", first(&d).title);
}

#[test]
fn malformed_reply() {
    // zeek__rdp-invalid-length.pcap frame 5: RDP_NEG_RSP with length 0.
    let cc = hex::decode("030000130ed000001234000203000001000002").unwrap();
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .bytes(S, cc)
        .diagnose();
    assert_first(&d, "malformed-reply", Confidence::Certain);
}

#[test]
fn server_silent() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .wait(10_000.0)
        .timeout()
        .diagnose();
    assert_first(&d, "server-silent", Confidence::Likely);
    assert!(first(&d).title.contains("Connection Request"));
    // Silence after the ClientHello is the same cause at a later stage.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(1)
        .client_hello()
        .wait(10_000.0)
        .timeout()
        .diagnose();
    assert_first(&d, "server-silent", Confidence::Likely);
    assert!(first(&d).title.contains("ClientHello"));
}

#[test]
fn server_reset_and_closed_after_request() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .wait(2.0)
        .rst(S)
        .diagnose();
    assert_first(&d, "server-reset-after-request", Confidence::Certain);
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .wait(2.0)
        .fin(S)
        .diagnose();
    assert_first(&d, "server-closed-after-request", Confidence::Certain);
    assert!(
        first(&d).evidence[1].text.contains("2.1 ms"),
        "{:?}",
        first(&d).evidence
    );
}

#[test]
fn every_negotiation_failure_code() {
    let expected = [
        (1, "neg-ssl-required"),
        (2, "neg-ssl-not-allowed"),
        (3, "neg-ssl-cert-not-on-server"),
        (4, "neg-inconsistent-flags"),
        (5, "neg-hybrid-required"),
        (6, "neg-ssl-with-user-auth-required"),
        (7, "neg-unknown-failure"),
        (0x1234, "neg-unknown-failure"),
    ];
    for (code, id) in expected {
        let d = Script::new(JUNE_2019)
            .connect()
            .request(Some(1))
            .refuse(code)
            .fin(S)
            .diagnose();
        assert_first(&d, id, Confidence::Certain);
        assert_eq!(d.stage_reached, Stage::Negotiation);
    }
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .refuse(7)
        .diagnose();
    assert!(first(&d).title.contains("0x7"), "{}", first(&d).title);
}

#[test]
fn security_layer_mismatch() {
    // The server selects standard RDP security for a TLS/NLA client, which hangs up.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(0)
        .wait(1.0)
        .fin(C)
        .diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Certain);
    // xrdp with a HYBRID-only request: it selects SSL.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(2))
        .select(1)
        .wait(1.0)
        .rst(C)
        .diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Certain);
    // xrdp requiring TLS, with a client that sends no RDP_NEG_REQ: bare confirm, then a Disconnect Provider Ultimatum.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(None)
        .legacy_confirm()
        .mcs(S, &[0x21, 0x80])
        .fin(S)
        .diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Likely);
    assert!(has(&d, "server-disconnected"));
    // FreeRDP /sec:nla offers SSL|HYBRID; xrdp (no CredSSP) selects SSL; the client hangs up without a
    // ClientHello (fixtures/recorded/xrdp-negotiate-client-nla.pcap), and the server answers the close.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(1)
        .wait(0.1)
        .fin(C)
        .alert(S, 50)
        .rst(C)
        .diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Likely);
    assert!(
        first(&d).title.contains("did not accept"),
        "{:?}",
        first(&d).title
    );
    // The same selection followed by a ClientHello is the normal path, not a mismatch.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(1)
        .client_hello()
        .fin(C)
        .diagnose();
    assert!(!has(&d, "security-layer-mismatch"), "{:?}", ids(&d));
}

#[test]
fn legacy_no_negotiation() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .legacy_confirm()
        .fin(C)
        .diagnose();
    assert_first(&d, "legacy-no-negotiation", Confidence::Certain);
}

#[test]
fn tls_version_mismatch() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .alert(S, 70)
        .fin(S)
        .diagnose();
    assert_first(&d, "tls-version-mismatch", Confidence::Certain);
    assert!(first(&d).title.contains("protocol_version"));
}

#[test]
fn tls_version_mismatch_then_a_cleartext_disconnect() {
    // xrdp TLS 1.3-only, client up to TLS 1.2: protocol_version, then an MCS Disconnect Provider
    // Ultimatum in the clear (fixtures/recorded/xrdp-tls13-only-client-tls12.pcap).
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .alert(S, 70)
        .mcs(S, &[0x21, 0x80])
        .fin(C)
        .diagnose();
    assert_first(&d, "tls-version-mismatch", Confidence::Certain);
    assert!(!has(&d, "malformed-reply"), "{:?}", ids(&d));
    assert!(!has(&d, "server-disconnected"), "{:?}", ids(&d));
}

#[test]
fn tls_no_shared_cipher() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .alert(S, 40)
        .fin(S)
        .diagnose();
    assert_first(&d, "tls-no-shared-cipher", Confidence::Likely);
}

#[test]
fn tls_server_abort() {
    // The classic: TLS selected, ClientHello sent, the server hangs up without a word.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(1)
        .client_hello()
        .wait(2.0)
        .fin(S)
        .diagnose();
    assert_first(&d, "tls-server-abort", Confidence::Likely);
    assert_eq!(d.stage_reached, Stage::TlsHandshake);
    let f = first(&d);
    assert!(f.host_checks.iter().any(|c| c.contains("36870")));
    assert!(f.explains.iter().any(|c| c.contains("0x904")));
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(3))
        .select(1)
        .client_hello()
        .rst(S)
        .diagnose();
    assert_first(&d, "tls-server-abort", Confidence::Likely);
    // xrdp that cannot use its certificate or key: after the ClientHello it drops TLS and sends an MCS
    // Disconnect Provider Ultimatum in the clear (fixtures/recorded/xrdp-weak-key-tls-abort.pcap).
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .wait(8.0)
        .mcs(S, &[0x21, 0x80])
        .fin(C)
        .diagnose();
    assert_first(&d, "tls-server-abort", Confidence::Likely);
    assert!(
        first(&d).title.contains("Disconnect Provider Ultimatum"),
        "{}",
        first(&d).title
    );
    assert!(!has(&d, "malformed-reply"), "{:?}", ids(&d));
    assert!(!has(&d, "server-disconnected"), "{:?}", ids(&d));
}

#[test]
fn tls13_client_rejects_with_an_encrypted_alert() {
    // TLS 1.3: the client's alert is an application_data record of 19 bytes; the server's session
    // tickets came before it (fixtures/recorded/xrdp-tls13-expired-cert-refused.pcap).
    let mut sh = server_hello_body(0x0303);
    sh.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    let mut flight = record(ContentType::HANDSHAKE, &handshake(2, &sh));
    flight.extend(record(ContentType::APPLICATION_DATA, &[0x31; 900]));
    let client_fin = record(ContentType::APPLICATION_DATA, &[0x32; 53]);
    let script = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, flight)
        .bytes(C, client_fin)
        .app(S, 250)
        .app(S, 250);
    let d = script.clone().app(C, 19).fin(C).diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    assert!(
        first(&d)
            .title
            .contains("encrypted records after the handshake"),
        "{}",
        first(&d).title
    );
    // A real first flight (MCS Connect Initial) is data, not an alert: the client did not reject.
    let d = script.app(C, 400).fin(C).diagnose();
    assert!(!has(&d, "client-aborted-after-handshake"), "{:?}", ids(&d));
}

#[test]
fn client_aborted_after_handshake_with_self_signed_certificate() {
    // zeek__rdp-no-cookie-mstshash.pcap: the handshake completes, the client resets at once.
    let d = nla().wait(0.3).rst(C).diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    let self_signed = d
        .findings
        .iter()
        .find(|f| f.id == "cert-self-signed")
        .unwrap();
    assert_eq!(
        (self_signed.severity, self_signed.confidence),
        (Severity::Failure, Confidence::Possible)
    );
}

#[test]
fn client_stops_mid_credssp_after_the_server_proved_its_key() {
    // zeek__rdp-to-ssl.pcap stream 0: C S C S then the client's FIN, without credentials (a certificate prompt).
    let d = nla()
        .app(C, 80)
        .app(S, 200)
        .app(C, 600)
        .app(S, 60)
        .fin(C)
        .diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Likely);
    assert!(has(&d, "credssp-version-mismatch"));
}

#[test]
fn certificate_rules_judge_at_observation_time() {
    // Expired: the same server seen on 2020-01-01.
    let d = Script::new(1_577_836_800)
        .connect()
        .request(Some(3))
        .select(2)
        .tls12()
        .rst(C)
        .diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    let expired = d.findings.iter().find(|f| f.id == "cert-expired").unwrap();
    assert_eq!(
        (expired.severity, expired.confidence),
        (Severity::Failure, Confidence::Likely)
    );
    assert!(expired.title.contains("2019-09-18"), "{}", expired.title);
    // Not yet valid: seen on 2019-01-01.
    let d = Script::new(1_546_300_800)
        .connect()
        .request(Some(3))
        .select(2)
        .tls12()
        .rst(C)
        .diagnose();
    assert!(has(&d, "cert-not-yet-valid"));
    // Valid, but 17 days left on 2019-09-01: an advisory on a healthy connection.
    let d = Script::new(1_567_296_000)
        .connect()
        .request(Some(1))
        .select(1)
        .tls12()
        .app(C, 400)
        .app(S, 300)
        .diagnose();
    assert_eq!(d.outcome, Outcome::Established);
    assert_eq!(d.verdict_id(), "healthy");
    let soon = d
        .findings
        .iter()
        .find(|f| f.id == "cert-expiring-soon")
        .unwrap();
    assert_eq!(soon.severity, Severity::Advisory);
}

#[test]
fn certificate_name_checked_against_sni_then_address() {
    // The ClientHello's SNI is 192.168.2.142; the certificate names OFFICE-WIN10-VM.
    let d = nla().rst(C).diagnose();
    let f = d
        .findings
        .iter()
        .find(|f| f.id == "cert-name-mismatch")
        .unwrap();
    assert!(
        f.title.contains("192.168.2.142") && f.title.contains("OFFICE-WIN10-VM"),
        "{}",
        f.title
    );
}

#[test]
fn certificate_key_signature_usage_and_chain() {
    let servr = fixture_bin("certs/rdp-x509-servr.der"); // RSA-512, sha1WithRSA (OIW), self-signed
    let spidh = fixture_bin("certs/tls-expired-spidh.der"); // issued by a CA not sent
    let ca = fixture_bin("certs/tls-expired-comodo-ca.der"); // a CA certificate: no server authentication
    let play = |ders: &[&[u8]], at: i64| {
        Script::new(at)
            .connect()
            .request(Some(1))
            .select(1)
            .client_hello()
            .bytes(S, server_flight_with(ders, 0x0303))
            .wait(1.0)
            .alert(C, 42)
            .fin(C)
            .diagnose()
    };
    let d = play(&[&servr], 1_425_000_000);
    assert!(
        has(&d, "cert-weak-key") && has(&d, "cert-weak-signature"),
        "{:?}",
        ids(&d)
    );
    let d = play(&[&spidh], 1_300_000_000);
    assert!(has(&d, "cert-untrusted"), "{:?}", ids(&d));
    let d = play(&[&ca], 1_300_000_000);
    assert!(has(&d, "cert-wrong-usage"), "{:?}", ids(&d));
    // The client's bad_certificate alert is its rejection.
    assert_eq!(
        d.findings
            .iter()
            .find(|f| f.id == "client-aborted-after-handshake")
            .map(|f| f.confidence),
        Some(Confidence::Certain)
    );
}

#[test]
fn nla_auth_failed() {
    // ndpi__rdp_over_tls.pcap: NEGOTIATE, CHALLENGE, AUTHENTICATE, then an encrypted alert from the server.
    let d = nla()
        .app(C, 81)
        .app(S, 215)
        .app(C, 633)
        .encrypted_alert(S)
        .app(C, 61)
        .rst(C)
        .diagnose();
    assert_first(&d, "nla-auth-failed", Confidence::Likely);
    assert_eq!(d.stage_reached, Stage::CredSsp);
    // A server that hangs up after the first CredSSP message: NLA or the CredSSP version.
    let d = nla().app(C, 81).fin(S).diagnose();
    assert!(
        has(&d, "nla-auth-failed") && has(&d, "credssp-version-mismatch"),
        "{:?}",
        ids(&d)
    );
    assert_eq!(first(&d).confidence, Confidence::Possible);
}

#[test]
fn early_user_auth_denied() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(0xb))
        .select(8)
        .tls12()
        .app(C, 81)
        .app(S, 215)
        .app(C, 633)
        .app(S, 60)
        .app(C, 400)
        .app(S, 33)
        .fin(S)
        .diagnose();
    assert_first(&d, "early-user-auth-denied", Confidence::Likely);
}

/// A Set Error Info PDU under standard RDP security without encryption, in an MCS Send Data Indication.
fn set_error_info(code: u32) -> Vec<u8> {
    let mut share = vec![0x00, 0x00, 0x00, 0x00]; // basic security header: flags 0, flagsHi 0
    let mut ctl = Vec::new();
    ctl.extend_from_slice(&[0x17, 0x00]); // pduType: PDUTYPE_DATAPDU | version 1
    ctl.extend_from_slice(&[0xea, 0x03]); // pduSource 1002
    ctl.extend_from_slice(&[0x01, 0x00, 0x01, 0x00]); // shareId
    ctl.extend_from_slice(&[0x00, 0x01, 0x08, 0x00]); // pad1, streamId, uncompressedLength 8
    ctl.extend_from_slice(&[0x2f, 0x00, 0x00, 0x00]); // pduType2 SET_ERROR_INFO, compressedType, compressedLength
    ctl.extend_from_slice(&code.to_le_bytes());
    let total = u16::try_from(ctl.len() + 2).unwrap();
    share.extend_from_slice(&total.to_le_bytes());
    share.extend_from_slice(&ctl);
    let mut mcs = vec![
        0x68,
        0x00,
        0x01,
        0x03,
        0xeb,
        0x70,
        u8::try_from(share.len()).unwrap(),
    ];
    mcs.extend_from_slice(&share);
    mcs
}

fn standard_security() -> Script {
    Script::new(JUNE_2019)
        .connect()
        .request(Some(0))
        .select(0)
        .bytes(C, fixture_hex("mcs/proprietary_connect_initial.hex"))
        .bytes(S, fixture_hex("mcs/proprietary_connect_response.hex"))
}

#[test]
fn standard_security_established_with_advisory() {
    let d = standard_security().diagnose();
    assert_eq!(d.outcome, Outcome::Established, "{d:#?}");
    assert_eq!(d.verdict_id(), "healthy");
    let weak = d
        .findings
        .iter()
        .find(|f| f.id == "weak-standard-rdp-security")
        .unwrap();
    assert_eq!(weak.severity, Severity::Advisory);
    assert!(weak.title.contains("128BIT"), "{}", weak.title);
}

#[test]
fn server_denied_connection() {
    // Before the connect response, under standard security, the server sends Set Error Info 7.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(0))
        .select(0)
        .mcs(S, &set_error_info(7))
        .fin(S)
        .diagnose();
    assert_first(&d, "server-denied-connection", Confidence::Certain);
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(0))
        .select(0)
        .mcs(S, &set_error_info(9))
        .fin(S)
        .diagnose();
    assert_first(&d, "server-disconnected", Confidence::Likely);
    assert!(
        first(&d).title.contains("INSUFFICIENT_PRIVILEGES"),
        "{}",
        first(&d).title
    );
}

#[test]
fn server_disconnected_in_the_secure_channel() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .tls12()
        .app(C, 400)
        .fin(S)
        .diagnose();
    assert_first(&d, "server-disconnected", Confidence::Possible);
    assert_eq!(d.stage_reached, Stage::SecureChannel);
}

#[test]
fn tls_legacy_version_and_path_degraded() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .wait(1500.0)
        .select(1)
        .client_hello()
        .bytes(
            S,
            server_flight_with(&[&fixture_bin("certs/ndpi-office-win10-vm.der")], 0x0301),
        )
        .client_finish()
        .server_finish()
        .app(C, 400)
        .app(S, 300)
        .diagnose();
    assert_eq!(d.verdict_id(), "healthy");
    assert!(
        has(&d, "tls-legacy-version") && has(&d, "path-degraded"),
        "{:?}",
        ids(&d)
    );
    assert!(d.findings.iter().all(|f| f.severity == Severity::Advisory));
}

#[test]
fn healthy_tls_connection() {
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(0xb))
        .select(1)
        .tls12()
        .app(C, 400)
        .app(S, 300)
        .diagnose();
    assert_eq!(d.outcome, Outcome::Established);
    assert_eq!(d.verdict_id(), "healthy");
    assert_eq!(d.stage_reached, Stage::Established);
    // Self-signed and the name mismatch are advice here: the client went on.
    assert!(
        d.findings.iter().all(|f| f.severity == Severity::Advisory),
        "{:?}",
        ids(&d)
    );
}

#[test]
fn capture_end_mid_setup_is_incomplete() {
    // ndpi__rdp.pcap: HYBRID_EX, CredSSP under way when the capture ends.
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(0xb))
        .select(8)
        .tls12()
        .app(C, 81)
        .app(S, 215)
        .fact(TransportFact::CaptureEnd)
        .diagnose();
    assert_eq!(d.outcome, Outcome::Incomplete);
    assert_eq!(d.verdict_id(), "incomplete");
    assert_eq!(d.stage_reached, Stage::CredSsp);
}

#[test]
fn name_from_context_when_no_sni() {
    let ctx = Context {
        server_name: Some("rdp.example.com".into()),
        ..Context::default()
    };
    let d = Script::new(JUNE_2019)
        .connect()
        .request(Some(1))
        .select(1)
        .bytes(C, {
            use rdpdiag::wire::tls::{
                encode_client_hello, ClientHelloSpec, ProtocolVersion, TLS12_CIPHER_SUITES,
            };
            let spec = ClientHelloSpec {
                version: ProtocolVersion::TLS1_2,
                random: [1; 32],
                session_id: &[],
                cipher_suites: TLS12_CIPHER_SUITES,
                sni: None,
                x25519_key_share: [9; 32],
            };
            encode_client_hello(&spec).unwrap()
        })
        .server_flight()
        .rst(C)
        .diagnose_with(&ctx);
    let f = d
        .findings
        .iter()
        .find(|f| f.id == "cert-name-mismatch")
        .unwrap();
    assert!(f.title.contains("rdp.example.com"), "{}", f.title);
}
