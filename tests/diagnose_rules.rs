//! One test per rule on a scripted conversation: the rule fires, first where it should be first, with its
//! evidence pointing at the right entries.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::diagnose::rules::RULES;
use rdpdiag::diagnose::{Confidence, Context, Diagnosis, Outcome, Severity};
use rdpdiag::session::Stage;

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
    let d = named("tcp-refused").diagnose();
    assert_first(&d, "tcp-refused", Confidence::Certain);
    assert_eq!(d.stage_reached, Stage::Tcp);
}

#[test]
fn tcp_unreachable() {
    let d = named("tcp-unreachable").diagnose();
    assert_first(&d, "tcp-unreachable", Confidence::Certain);
    assert!(first(&d).title.contains("code 13"));
}

#[test]
fn tcp_filtered() {
    let d = named("tcp-filtered").diagnose();
    assert_first(&d, "tcp-filtered", Confidence::Likely);
}

#[test]
fn not_rdp() {
    let d = named("not-rdp").diagnose();
    assert_first(&d, "not-rdp", Confidence::Certain);
    assert!(first(&d).title.contains("SSH"), "{}", first(&d).title);
}

#[test]
fn malformed_reply() {
    let d = named("malformed-reply").diagnose();
    assert_first(&d, "malformed-reply", Confidence::Certain);
}

#[test]
fn server_silent() {
    let d = named("server-silent-after-request").diagnose();
    assert_first(&d, "server-silent", Confidence::Likely);
    assert!(first(&d).title.contains("Connection Request"));
    // Silence after the ClientHello is the same cause at a later stage.
    let d = named("server-silent-after-client-hello").diagnose();
    assert_first(&d, "server-silent", Confidence::Likely);
    assert!(first(&d).title.contains("ClientHello"));
}

#[test]
fn server_reset_and_closed_after_request() {
    let d = named("server-reset-after-request").diagnose();
    assert_first(&d, "server-reset-after-request", Confidence::Certain);
    let d = named("server-closed-after-request").diagnose();
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
        let d = named(&format!("neg-failure-{code:#x}")).diagnose();
        assert_first(&d, id, Confidence::Certain);
        assert_eq!(d.stage_reached, Stage::Negotiation);
    }
    let d = named("neg-failure-7-open").diagnose();
    assert!(first(&d).title.contains("0x7"), "{}", first(&d).title);
}

#[test]
fn security_layer_mismatch() {
    // The server selects standard RDP security for a TLS/NLA client, which hangs up.
    let d = named("security-layer-mismatch-rdp").diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Certain);
    // xrdp with a HYBRID-only request: it selects SSL.
    let d = named("security-layer-mismatch-xrdp-ssl").diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Certain);
    // xrdp requiring TLS, with a client that sends no RDP_NEG_REQ: bare confirm, then a Disconnect Provider Ultimatum.
    let d = named("security-layer-mismatch-xrdp-legacy").diagnose();
    assert_first(&d, "security-layer-mismatch", Confidence::Likely);
    assert!(has(&d, "server-disconnected"));
}

#[test]
fn legacy_no_negotiation() {
    let d = named("legacy-no-negotiation").diagnose();
    assert_first(&d, "legacy-no-negotiation", Confidence::Certain);
}

#[test]
fn tls_version_mismatch() {
    let d = named("tls-version-mismatch").diagnose();
    assert_first(&d, "tls-version-mismatch", Confidence::Certain);
    assert!(first(&d).title.contains("protocol_version"));
}

#[test]
fn tls_no_shared_cipher() {
    let d = named("tls-no-shared-cipher").diagnose();
    assert_first(&d, "tls-no-shared-cipher", Confidence::Likely);
}

#[test]
fn tls_server_abort() {
    // The classic: TLS selected, ClientHello sent, the server hangs up without a word.
    let d = named("tls-server-abort-fin").diagnose();
    assert_first(&d, "tls-server-abort", Confidence::Likely);
    assert_eq!(d.stage_reached, Stage::TlsHandshake);
    let f = first(&d);
    assert!(f.host_checks.iter().any(|c| c.contains("36870")));
    assert!(f.explains.iter().any(|c| c.contains("0x904")));
    let d = named("tls-server-abort-rst").diagnose();
    assert_first(&d, "tls-server-abort", Confidence::Likely);
}

#[test]
fn client_aborted_after_handshake_with_self_signed_certificate() {
    // zeek__rdp-no-cookie-mstshash.pcap: the handshake completes, the client resets at once.
    let d = named("client-aborted-self-signed").diagnose();
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
    let d = named("client-stops-mid-credssp").diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Likely);
    assert!(has(&d, "credssp-version-mismatch"));
}

#[test]
fn certificate_rules_judge_at_observation_time() {
    // Expired: the same server seen on 2020-01-01.
    let d = named("cert-expired").diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    let expired = d.findings.iter().find(|f| f.id == "cert-expired").unwrap();
    assert_eq!(
        (expired.severity, expired.confidence),
        (Severity::Failure, Confidence::Likely)
    );
    assert!(expired.title.contains("2019-09-18"), "{}", expired.title);
    // Not yet valid: seen on 2019-01-01.
    let d = named("cert-not-yet-valid").diagnose();
    assert!(has(&d, "cert-not-yet-valid"));
    // Valid, but 17 days left on 2019-09-01: an advisory on a healthy connection.
    let d = named("cert-expiring-soon").diagnose();
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
    let d = named("cert-name-mismatch").diagnose();
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
    // rdp-x509-servr.der: RSA-512, sha1WithRSA (OIW), self-signed.
    let d = named("cert-weak").diagnose();
    assert!(
        has(&d, "cert-weak-key") && has(&d, "cert-weak-signature"),
        "{:?}",
        ids(&d)
    );
    // tls-expired-spidh.der: issued by a CA not sent.
    let d = named("cert-untrusted").diagnose();
    assert!(has(&d, "cert-untrusted"), "{:?}", ids(&d));
    // tls-expired-comodo-ca.der: a CA certificate, no server authentication.
    let d = named("cert-wrong-usage").diagnose();
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
    let d = named("nla-auth-failed").diagnose();
    assert_first(&d, "nla-auth-failed", Confidence::Likely);
    assert_eq!(d.stage_reached, Stage::CredSsp);
    // A server that hangs up after the first CredSSP message: NLA or the CredSSP version.
    let d = named("nla-server-hangs-up").diagnose();
    assert!(
        has(&d, "nla-auth-failed") && has(&d, "credssp-version-mismatch"),
        "{:?}",
        ids(&d)
    );
    assert_eq!(first(&d).confidence, Confidence::Possible);
}

#[test]
fn early_user_auth_denied() {
    let d = named("early-user-auth-denied").diagnose();
    assert_first(&d, "early-user-auth-denied", Confidence::Likely);
}

#[test]
fn standard_security_established_with_advisory() {
    let d = named("standard-security-established").diagnose();
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
    let d = named("server-denied-connection").diagnose();
    assert_first(&d, "server-denied-connection", Confidence::Certain);
    let d = named("server-disconnected-set-error-info").diagnose();
    assert_first(&d, "server-disconnected", Confidence::Likely);
    assert!(
        first(&d).title.contains("INSUFFICIENT_PRIVILEGES"),
        "{}",
        first(&d).title
    );
}

#[test]
fn server_disconnected_in_the_secure_channel() {
    let d = named("server-disconnected-in-secure-channel").diagnose();
    assert_first(&d, "server-disconnected", Confidence::Possible);
    assert_eq!(d.stage_reached, Stage::SecureChannel);
}

#[test]
fn tls_legacy_version_and_path_degraded() {
    let d = named("tls-legacy-version-and-path-degraded").diagnose();
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
    let d = named("healthy-tls").diagnose();
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
    let d = named("capture-end-mid-setup").diagnose();
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
    let d = named("name-from-context").diagnose_with(&ctx);
    let f = d
        .findings
        .iter()
        .find(|f| f.id == "cert-name-mismatch")
        .unwrap();
    assert!(f.title.contains("rdp.example.com"), "{}", f.title);
}
