//! One test per rule on a scripted conversation: the rule fires, first where it should be first, with its
//! evidence pointing at the right entries.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::diagnose::causes::{self, CauseId};
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
        (f.id.as_str(), f.confidence),
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
fn every_id_has_one_entry_with_words() {
    for id in CauseId::ALL {
        let entries: Vec<_> = causes::all().filter(|c| c.id == *id).collect();
        assert_eq!(entries.len(), 1, "{id} has {} entries", entries.len());
        let c = entries[0];
        assert!(!c.title.is_empty() && !c.remedy.is_empty(), "{id}");
        assert!(!c.lookalikes.contains(id), "{id} looks like itself");
        assert!(!c.symptoms.contains(id), "{id} explains itself");
        // The string is the contract: it parses back.
        assert_eq!(id.as_str().parse::<CauseId>().unwrap(), *id);
        assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
    }
    assert_eq!(causes::all().count(), CauseId::ALL.len());
    assert!("no-such-cause".parse::<CauseId>().is_err());
}

#[test]
fn symptoms_and_their_causes_in_rank_order() {
    let symptom = CauseId::ClientAbortedAfterHandshake.cause().unwrap();
    let by: Vec<CauseId> = symptom.explained_by().map(|c| c.id).collect();
    // The order a client checks: the version, the dates, the name, trust, strength, usage.
    assert_eq!(
        by,
        [
            CauseId::TlsVersionMismatch,
            CauseId::CertExpired,
            CauseId::CertNotYetValid,
            CauseId::CertNameMismatch,
            CauseId::CertSelfSigned,
            CauseId::CertUntrusted,
            CauseId::CertWeakKey,
            CauseId::CertWeakSignature,
            CauseId::CertWrongUsage,
        ]
    );
    // Ranks are unique, so the order never depends on the table's.
    let mut ranks: Vec<u8> = causes::all().map(|c| c.rank).collect();
    ranks.sort_unstable();
    ranks.dedup();
    assert_eq!(ranks.len(), CauseId::ALL.len());
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
    // zeek__rdp-no-cookie-mstshash.pcap: the handshake completes, the client resets at once. The
    // certificate (CN=OFFICE-WIN10-VM, self-signed) does not name 192.168.2.142, the name the client
    // used: the name is checked before trust, so it is the verdict and self-signed comes second.
    let d = named("client-aborted-self-signed").diagnose();
    assert_first(&d, "cert-name-mismatch", Confidence::Likely);
    let self_signed = d
        .findings
        .iter()
        .find(|f| f.id == "cert-self-signed")
        .unwrap();
    assert_eq!(
        (self_signed.severity, self_signed.confidence),
        (Severity::Failure, Confidence::Possible)
    );
    assert!(!has(&d, "client-aborted-after-handshake"));
}

#[test]
fn client_stops_mid_credssp_after_the_server_proved_its_key() {
    // zeek__rdp-to-ssl.pcap stream 0: C S C S then the client's FIN, without credentials (a certificate
    // prompt). The certificate does not name the address the client used: that is why, as far as the
    // wire shows; the stop mid-CredSSP (likely a rejection, not certain) caps how sure it is.
    let d = named("client-stops-mid-credssp").diagnose();
    assert_first(&d, "cert-name-mismatch", Confidence::Likely);
    assert_eq!(
        first(&d).symptom.as_ref().map(|s| (s.id, s.stage)),
        Some((CauseId::ClientAbortedAfterHandshake, Stage::CredSsp))
    );
    assert!(has(&d, "credssp-version-mismatch"));
}

#[test]
fn certificate_rules_judge_at_observation_time() {
    // Expired: the same server seen on 2020-01-01.
    let d = named("cert-expired").diagnose();
    assert_first(&d, "cert-expired", Confidence::Likely);
    let expired = first(&d);
    assert!(expired.title.contains("2019-09-18"), "{}", expired.title);
    // Not yet valid: seen on 2019-01-01.
    let d = named("cert-not-yet-valid").diagnose();
    assert_first(&d, "cert-not-yet-valid", Confidence::Likely);
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
    // The client's bad_certificate alert is its rejection: the certificate's fault is the verdict, the
    // rejection its symptom.
    assert_eq!(first(&d).severity, Severity::Failure);
    assert_eq!(
        first(&d).symptom.as_ref().map(|s| s.id),
        Some(CauseId::ClientAbortedAfterHandshake)
    );
    assert!(!has(&d, "client-aborted-after-handshake"), "{:?}", ids(&d));
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

// ---- causes and the symptoms they explain: both present, the cause is the verdict ----

/// A client that offers TLS, a server that sends `ders` in a TLS 1.2 flight, and a client that hangs
/// up 30 ms later (`alert`: its fatal alert first).
fn rejected(ders: &[&[u8]], at: i64, alert: Option<u8>) -> Script {
    let s = Script::new(at)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, server_flight_with(ders, 0x0303))
        .wait(30.0);
    match alert {
        Some(a) => s.alert(C, a).fin(C),
        None => s.fin(C),
    }
}

/// The verdict is `id` at `confidence`, a failure whose symptom is the client's rejection (kept as
/// where: stage and timing), and the symptom is no separate finding.
fn assert_explains_rejection(d: &Diagnosis, id: &str, confidence: Confidence) {
    assert_first(d, id, confidence);
    let f = first(d);
    let symptom = f
        .symptom
        .as_ref()
        .unwrap_or_else(|| panic!("{id}: no symptom in {f:#?}"));
    assert_eq!(symptom.id, CauseId::ClientAbortedAfterHandshake);
    assert_eq!(symptom.stage, Stage::TlsHandshake);
    assert!(symptom.text.contains("30.1 ms"), "{}", symptom.text);
    assert!(f.title.contains("30.1 ms"), "{}", f.title);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.dir == Some(rdpdiag::session::Direction::ClientToServer)),
        "the client's hang-up is evidence: {:?}",
        f.evidence
    );
    assert!(!has(d, "client-aborted-after-handshake"), "{:?}", ids(d));
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["id"], id);
    assert_eq!(json["symptom"]["id"], "client-aborted-after-handshake");
}

fn cert(name: &str) -> Vec<u8> {
    fixture_bin(&format!("certs/{name}.der"))
}

/// 2030-01-01: inside the generated certificates' validity.
const IN_2030: i64 = 1_893_456_000;

#[test]
fn expired_certificate_explains_the_rejection() {
    // OFFICE-WIN10-VM (2019-03-19 .. 2019-09-18, self-signed, not the name the client used) seen on
    // 2020-01-01: dates first, then the name, then trust.
    let d = rejected(&[&cert("ndpi-office-win10-vm")], 1_577_836_800, None).diagnose();
    assert_explains_rejection(&d, "cert-expired", Confidence::Likely);
    assert!(
        first(&d)
            .title
            .ends_with("(30.1 ms after the certificate arrived)"),
        "{}",
        first(&d).title
    );
    let rest: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Failure)
        .map(|f| (f.id.as_str(), f.confidence))
        .collect();
    assert_eq!(
        rest,
        [
            ("cert-expired", Confidence::Likely),
            ("cert-name-mismatch", Confidence::Possible),
            ("cert-self-signed", Confidence::Possible),
        ]
    );
    // The client's certificate_expired alert names it: certain.
    let d = rejected(&[&cert("ndpi-office-win10-vm")], 1_577_836_800, Some(45)).diagnose();
    assert_explains_rejection(&d, "cert-expired", Confidence::Certain);
}

#[test]
fn not_yet_valid_certificate_explains_the_rejection() {
    let d = rejected(&[&cert("ndpi-office-win10-vm")], 1_546_300_800, None).diagnose();
    assert_explains_rejection(&d, "cert-not-yet-valid", Confidence::Likely);
}

#[test]
fn name_mismatch_explains_the_rejection() {
    // Within its dates: the name (SNI 192.168.2.142) comes before trust.
    let d = rejected(&[&cert("ndpi-office-win10-vm")], 1_560_000_000, None).diagnose();
    assert_explains_rejection(&d, "cert-name-mismatch", Confidence::Likely);
    assert!(has(&d, "cert-self-signed"));
}

#[test]
fn self_signed_certificate_explains_the_rejection() {
    // The same certificate, its own name used: only trust is wrong.
    let ctx = Context {
        server_name: Some("OFFICE-WIN10-VM".into()),
        ..Context::default()
    };
    let script = |alert| {
        Script::new(1_560_000_000)
            .connect()
            .request(Some(1))
            .select(1)
            .bytes(C, client_hello_without_sni())
            .bytes(
                S,
                server_flight_with(&[&cert("ndpi-office-win10-vm")], 0x0303),
            )
            .wait(30.0)
            .alert(C, alert)
            .fin(C)
    };
    // internal_error names nothing; unknown_ca names the trust causes.
    let d = script(80).diagnose_with(&ctx);
    assert_explains_rejection(&d, "cert-self-signed", Confidence::Likely);
    let d = script(48).diagnose_with(&ctx);
    assert_explains_rejection(&d, "cert-self-signed", Confidence::Certain);
}

#[test]
fn an_alert_naming_a_cause_outranks_the_order_of_checks() {
    // Expired and self-signed, and the client says unknown_ca: trust, whatever the rank.
    let ctx = Context {
        server_name: Some("OFFICE-WIN10-VM".into()),
        ..Context::default()
    };
    let d = Script::new(1_577_836_800)
        .connect()
        .request(Some(1))
        .select(1)
        .bytes(C, client_hello_without_sni())
        .bytes(
            S,
            server_flight_with(&[&cert("ndpi-office-win10-vm")], 0x0303),
        )
        .wait(30.0)
        .alert(C, 48)
        .fin(C)
        .diagnose_with(&ctx);
    assert_explains_rejection(&d, "cert-self-signed", Confidence::Certain);
    let expired = d.findings.iter().find(|f| f.id == "cert-expired").unwrap();
    assert_eq!(
        (expired.severity, expired.confidence),
        (Severity::Failure, Confidence::Possible)
    );
}

#[test]
fn incomplete_chain_explains_the_rejection() {
    // www.spidh.org within its dates (2013-02-04 .. 2014-03-04), issued by a CA the server did not
    // send; it is also signed with SHA-1, which a client checks later.
    let ctx = Context {
        server_name: Some("www.spidh.org".into()),
        ..Context::default()
    };
    let d = Script::new(1_370_000_000)
        .connect()
        .request(Some(1))
        .select(1)
        .bytes(C, client_hello_without_sni())
        .bytes(S, server_flight_with(&[&cert("tls-expired-spidh")], 0x0303))
        .wait(30.0)
        .fin(C)
        .diagnose_with(&ctx);
    assert_explains_rejection(&d, "cert-untrusted", Confidence::Likely);
    assert!(has(&d, "cert-weak-signature"), "{:?}", ids(&d));
}

#[test]
fn weak_key_explains_the_rejection() {
    let d = rejected(
        &[
            &cert("generated-leaf-rsa1024"),
            &cert("generated-ca-rsa2048"),
        ],
        IN_2030,
        None,
    )
    .diagnose();
    assert_explains_rejection(&d, "cert-weak-key", Confidence::Likely);
}

#[test]
fn weak_signature_explains_the_rejection() {
    let d = rejected(
        &[&cert("generated-leaf-sha1"), &cert("generated-ca-rsa2048")],
        IN_2030,
        None,
    )
    .diagnose();
    assert_explains_rejection(&d, "cert-weak-signature", Confidence::Likely);
}

#[test]
fn wrong_usage_explains_the_rejection() {
    let d = rejected(
        &[
            &cert("generated-leaf-client-auth"),
            &cert("generated-ca-rsa2048"),
        ],
        IN_2030,
        Some(43),
    )
    .diagnose();
    assert_explains_rejection(&d, "cert-wrong-usage", Confidence::Certain);
}

#[test]
fn a_sound_certificate_explains_nothing_the_symptom_stays() {
    // A complete chain without a fault: nothing visible explains the hang-up.
    let d = rejected(
        &[&cert("generated-leaf-sound"), &cert("generated-ca-rsa2048")],
        IN_2030,
        None,
    )
    .diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    assert!(first(&d).symptom.is_none());
    assert!(
        d.findings
            .iter()
            .all(|f| f.id.cause().unwrap().stage != causes::CauseStage::Certificate),
        "{:?}",
        ids(&d)
    );
}

/// A TLS 1.3 ServerHello (supported_versions 0x0304), then encrypted records: the certificate is not
/// visible.
fn tls13_server_flight() -> Vec<u8> {
    use rdpdiag::wire::tls::ContentType;
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x02, 0x00]);
    let ext = [0x00, 0x2b, 0x00, 0x02, 0x03, 0x04];
    body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&ext);
    let mut out = record(ContentType::HANDSHAKE, &handshake(2, &body));
    out.extend(record(ContentType::CHANGE_CIPHER_SPEC, &[1]));
    out.extend(record(ContentType::APPLICATION_DATA, &[0x66; 900]));
    out
}

#[test]
fn tls_13_hides_the_certificate_the_symptom_stays_the_verdict() {
    let d = Script::new(IN_2030)
        .connect()
        .request(Some(1))
        .select(1)
        .client_hello()
        .bytes(S, tls13_server_flight())
        .wait(3.0)
        .app(C, 19)
        .fin(C)
        .diagnose();
    assert_first(&d, "client-aborted-after-handshake", Confidence::Certain);
    let f = first(&d);
    assert!(f.symptom.is_none());
    assert!(f.remedy.contains("probe"), "{}", f.remedy);
}

#[test]
fn a_legacy_tls_version_refused_at_once_is_a_version_mismatch() {
    // The server chooses TLS 1.0; the client answers with internal_error (not protocol_version).
    let base = || {
        Script::new(1_560_000_000)
            .connect()
            .request(Some(1))
            .select(1)
            .client_hello()
            .bytes(
                S,
                server_flight_with(&[&cert("ndpi-office-win10-vm")], 0x0301),
            )
            .wait(30.0)
    };
    let d = base().alert(C, 80).fin(C).diagnose();
    assert_explains_rejection(&d, "tls-version-mismatch", Confidence::Likely);
    assert!(first(&d).title.contains("TLS 1.0"), "{}", first(&d).title);
    // A bare close says the same; the certificate's faults (name, self-signed) rank after the version.
    let d = base().fin(C).diagnose();
    assert_explains_rejection(&d, "tls-version-mismatch", Confidence::Likely);
    assert!(has(&d, "cert-name-mismatch") && has(&d, "tls-legacy-version"));
    // protocol_version itself is certain.
    let d = base().alert(C, 70).fin(C).diagnose();
    assert_explains_rejection(&d, "tls-version-mismatch", Confidence::Certain);
    // A client that went on with its key exchange accepted the version: the certificate explains.
    let d = base()
        .client_finish()
        .wait(2.0)
        .server_finish()
        .wait(30.0)
        .fin(C)
        .diagnose();
    assert_first(&d, "cert-name-mismatch", Confidence::Likely);
}

#[test]
fn certificate_facts_are_advice_when_the_client_went_on() {
    let d = Script::new(1_577_836_800)
        .connect()
        .request(Some(1))
        .select(1)
        .tls12()
        .app(C, 400)
        .app(S, 300)
        .diagnose();
    assert!(
        d.findings
            .iter()
            .all(|f| f.severity == Severity::Advisory && f.symptom.is_none()),
        "{:?}",
        ids(&d)
    );
    assert!(has(&d, "cert-expired"));
}

#[test]
fn verdicts_are_typed_and_expect_parses_them() {
    use rdpdiag::diagnose::Verdict;
    use rdpdiag::report::Expectation;
    assert_eq!("healthy".parse::<Verdict>().unwrap(), Verdict::Healthy);
    assert_eq!(
        "incomplete".parse::<Verdict>().unwrap(),
        Verdict::Incomplete
    );
    assert_eq!(
        "cert-expired".parse::<Verdict>().unwrap(),
        Verdict::Cause(CauseId::CertExpired)
    );
    assert_eq!(
        serde_json::to_value(Verdict::Cause(CauseId::TlsServerAbort)).unwrap(),
        "tls-server-abort"
    );
    let e = Expectation::parse("cert-expired, healthy").unwrap();
    assert_eq!(
        e.ids,
        [Verdict::Cause(CauseId::CertExpired), Verdict::Healthy]
    );
    let err = Expectation::parse("healthy,cert-expird").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown cause id \"cert-expird\" (see docs/causes.md)"
    );
    // The diagnosis' verdict is the type, compared as the stable string where tests and JSON need it.
    let d = named("tcp-refused").diagnose();
    assert_eq!(d.verdict_id(), Verdict::Cause(CauseId::TcpRefused));
    assert_eq!(d.verdict_id(), "tcp-refused");
}
