//! `rdpdiag replay` on the captures the project recorded itself from real xrdp 0.9.21 and FreeRDP 2.11 on
//! loopback (`fixtures/recorded/`, made by `record.sh`, each told in its README): the verdict of every
//! connection and the facts that make it (what was selected, which TLS version, the expired notAfter,
//! what the server sent instead of a ServerHello).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::process::Command;

use serde_json::Value;

#[path = "common/scripted_server.rs"]
mod scripted_server;

/// The connection objects of `rdpdiag replay --json` on one recorded capture.
fn replay(name: &str) -> Vec<Value> {
    let path = format!("{}/fixtures/recorded/{name}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["replay", "--json", &path])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == "connection")
        .collect()
}

/// The only connection of a capture, with its `verdict@stage_reached` checked.
fn one(name: &str, verdict: &str, stage: &str) -> Value {
    let mut conns = replay(name);
    assert_eq!(conns.len(), 1, "{name}: {conns:#?}");
    let c = conns.remove(0);
    assert_eq!(
        (
            c["verdict"].as_str().unwrap(),
            c["stage_reached"].as_str().unwrap()
        ),
        (verdict, stage),
        "{name}: findings {:?}",
        ids(&c)
    );
    c
}

/// The only connection of a capture.
fn only(name: &str) -> Value {
    let mut conns = replay(name);
    assert_eq!(conns.len(), 1, "{name}: {conns:#?}");
    conns.remove(0)
}

fn ids(c: &Value) -> Vec<String> {
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn finding<'a>(c: &'a Value, id: &str) -> &'a Value {
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", ids(c)))
}

/// The timeline entries with this event name.
fn events<'a>(c: &'a Value, event: &str) -> Vec<&'a Value> {
    c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event)
        .collect()
}

fn event<'a>(c: &'a Value, event: &str) -> &'a Value {
    let found = events(c, event);
    assert_eq!(found.len(), 1, "{event}: {found:#?}");
    found[0]
}

fn requested_selected(c: &Value) -> (Value, Value) {
    (
        event(c, "connection_request")["requested_protocols"].clone(),
        event(c, "connection_confirm")["selected_protocol"].clone(),
    )
}

const SSL: u64 = 1;
const TLS1_0: u64 = 0x0301;
const TLS1_2: u64 = 0x0303;
const TLS1_3: u64 = 0x0304;

#[test]
fn healthy_tls_13_session() {
    for name in ["xrdp-tls-healthy.pcap", "xrdp-tls13-only.pcap"] {
        let c = one(name, "healthy", "established");
        // xrdp selects SSL: TLS without network level authentication.
        assert_eq!(ids(&c), ["nla-not-required"], "{name}");
        assert_eq!(requested_selected(&c), (SSL.into(), SSL.into()), "{name}");
        let sh = event(&c, "tls_server_hello");
        assert_eq!(sh["version"], TLS1_3, "{name}");
        assert_eq!(sh["cipher_suite_name"], "TLS_AES_256_GCM_SHA384", "{name}");
        // TLS 1.3: the certificate travels encrypted.
        assert!(events(&c, "tls_certificate").is_empty(), "{name}");
    }
}

#[test]
fn expired_certificate_the_client_ignores_is_an_advisory() {
    let c = one(
        "xrdp-tls12-expired-cert-ignored.pcap",
        "healthy",
        "established",
    );
    assert_eq!(event(&c, "tls_server_hello")["version"], TLS1_2);
    let chain = &event(&c, "tls_certificate")["chain"];
    assert_eq!(chain[0]["subject"], "CN=127.0.0.77");
    assert_eq!(chain[0]["issuer"], "CN=rdpdiag recording CA");
    assert_eq!(chain[0]["not_after"], 1_612_051_200); // 2021-01-31T00:00:00Z
    let expired = finding(&c, "cert-expired");
    assert_eq!(expired["severity"], "advisory");
    assert!(
        expired["title"].as_str().unwrap().contains("2021-01-31"),
        "{}",
        expired["title"]
    );
    assert_eq!(
        ids(&c),
        ["cert-expired", "nla-not-required"],
        "the chain is complete and trusted"
    );
}

#[test]
fn expired_certificate_the_client_refuses_over_tls_12() {
    // FreeRDP /cert:deny: "certificate has expired (10)", an encrypted alert right after the server's Finished.
    let c = one(
        "xrdp-tls12-expired-cert-refused.pcap",
        "cert-expired",
        "secure_channel",
    );
    assert_eq!(c["outcome"], "failed");
    // The expiry is the verdict (the client rejected the server right after seeing it); the rejection is
    // its symptom, kept as where it broke, not a finding of its own.
    let expired = finding(&c, "cert-expired");
    assert_eq!(
        (&expired["severity"], &expired["confidence"]),
        (&Value::from("failure"), &Value::from("likely"))
    );
    // The expiry is a failure (the client rejected the server after seeing it).
    assert_eq!(finding(&c, "cert-expired")["severity"], "failure");
    assert_eq!(
        expired["symptom"]["id"],
        Value::from("client-aborted-after-handshake")
    );
    assert_eq!(
        event(&c, "tls_certificate")["chain"][0]["not_after"],
        1_612_051_200
    );
    assert_eq!(
        events(&c, "tls_encrypted_alert")[0]["dir"],
        "client_to_server"
    );
    assert!(events(&c, "tls_application_data").is_empty());
}

#[test]
fn expired_certificate_the_client_refuses_over_tls_13() {
    // The certificate is encrypted; the client's alert is a 19-byte application_data record, after the
    // server's session tickets.
    let c = one(
        "xrdp-tls13-expired-cert-refused.pcap",
        "client-aborted-after-handshake",
        "secure_channel",
    );
    assert_eq!(event(&c, "tls_server_hello")["version"], TLS1_3);
    assert!(events(&c, "tls_certificate").is_empty());
    assert!(!ids(&c).contains(&"cert-expired".to_string()));
    let alert = event(&c, "tls_encrypted_alert");
    assert_eq!(alert["dir"], "client_to_server");
    assert_eq!(alert["stage"], "secure_channel");
}

#[test]
fn server_allowing_only_standard_security_to_a_tls_or_nla_client() {
    for (name, requested) in [
        ("xrdp-rdp-only-client-tls.pcap", 1u64),
        ("xrdp-rdp-only-client-nla.pcap", 3),
    ] {
        let c = one(name, "security-layer-mismatch", "standard_security");
        assert_eq!(
            finding(&c, "security-layer-mismatch")["confidence"],
            "certain"
        );
        // xrdp selects PROTOCOL_RDP instead of sending SSL_NOT_ALLOWED_BY_SERVER.
        assert_eq!(
            requested_selected(&c),
            (requested.into(), 0.into()),
            "{name}"
        );
        assert!(events(&c, "negotiation_failure").is_empty(), "{name}");
    }
}

/// The standard-security landmarks of a connection: (direction, pdu, encrypted).
fn landmarks(c: &Value) -> Vec<(String, String, bool)> {
    events(c, "standard_security_pdu")
        .iter()
        .map(|e| {
            (
                e["dir"].as_str().unwrap().to_string(),
                e["pdu"].as_str().unwrap().to_string(),
                e["encrypted"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn pdu(dir: &str, pdu: &str, encrypted: bool) -> (String, String, bool) {
    (dir.to_string(), pdu.to_string(), encrypted)
}

#[test]
fn standard_rdp_security_dropped_after_the_security_exchange() {
    // crypt_level=high: xrdp 0.9.21 rejects FreeRDP 2.11's first encrypted PDU ("MAC checksum error
    // for non-FIPS PDU") and hangs up right after the Client Info: not healthy, server-disconnected.
    let c = one(
        "xrdp-rdp-standard-security.pcap",
        "server-disconnected",
        "standard_security",
    );
    assert_eq!(c["outcome"], "failed");
    // FreeRDP /sec:rdp sends no RDP_NEG_REQ; xrdp answers without RDP_NEG_RSP.
    assert_eq!(requested_selected(&c), (Value::Null, Value::Null));
    let resp = event(&c, "mcs_connect_response");
    assert_eq!(resp["encryption_method_name"], "ENCRYPTION_METHOD_128BIT");
    assert_eq!(resp["encryption_level_name"], "ENCRYPTION_LEVEL_HIGH");
    assert_eq!(resp["server_cert"], "proprietary, RSA 2048 bits, permanent");
    assert_eq!(
        landmarks(&c),
        [
            pdu("client_to_server", "security_exchange", false),
            pdu("client_to_server", "client_info", true),
        ]
    );
    assert!(events(&c, "established").is_empty());
    let f = finding(&c, "server-disconnected");
    assert_eq!(f["confidence"], "certain");
    let title = f["title"].as_str().unwrap();
    assert!(
        title.contains("MCS Disconnect Provider Ultimatum (rn-user-requested) 14.0 ms after the client's Client Info PDU"),
        "{title}"
    );
    let dpu = event(&c, "mcs_disconnect_ultimatum");
    assert_eq!(
        (&dpu["dir"], &dpu["reason"]),
        (&Value::from("server_to_client"), &Value::from(3))
    );
    assert_eq!(
        ids(&c),
        ["server-disconnected", "weak-standard-rdp-security"]
    );
}

#[test]
fn standard_rdp_security_sessions_are_up_at_the_licensing_pdu() {
    // fips (3DES, the Client Info encrypted) and none (everything in the clear): xrdp answers the
    // Client Info with its License Request; the channel is up there, not at the MCS connect.
    for (name, method, exchange) in [
        ("xrdp-rdp-fips-session.pcap", "ENCRYPTION_METHOD_FIPS", true),
        (
            "xrdp-rdp-none-session.pcap",
            "ENCRYPTION_METHOD_NONE",
            false,
        ),
    ] {
        let c = one(name, "healthy", "established");
        assert_eq!(
            event(&c, "mcs_connect_response")["encryption_method_name"],
            method,
            "{name}"
        );
        let mut want = vec![];
        if exchange {
            want.push(pdu("client_to_server", "security_exchange", false));
        }
        want.push(pdu("client_to_server", "client_info", exchange));
        want.push(pdu("server_to_client", "licensing", false));
        assert_eq!(landmarks(&c), want, "{name}");
        let lic = events(&c, "standard_security_pdu")
            .into_iter()
            .find(|e| e["pdu"] == "licensing")
            .unwrap();
        assert_eq!(lic["license_msg_name"], "LICENSE_REQUEST", "{name}");
        assert_eq!(
            event(&c, "established")["how"],
            "standard RDP security: the server sent its licensing PDU after the client's Client Info PDU",
            "{name}"
        );
        // RC4/FIPS (with a security exchange) or no encryption at all (none): an advisory either way.
        let weak = finding(&c, "weak-standard-rdp-security");
        let in_clear = weak["title"]
            .as_str()
            .unwrap()
            .contains("without any encryption");
        assert_eq!(in_clear, !exchange, "{name}: {}", weak["title"]);
    }
}

#[test]
fn server_requiring_tls_hangs_up_on_a_legacy_client() {
    // Bare Connection Confirm, then an MCS Disconnect Provider Ultimatum; FreeRDP tries twice.
    let conns = replay("xrdp-tls-only-legacy-client.pcap");
    assert_eq!(conns.len(), 2);
    for c in &conns {
        assert_eq!(
            (&c["verdict"], &c["stage_reached"]),
            (
                &Value::from("security-layer-mismatch"),
                &Value::from("negotiation")
            )
        );
        assert_eq!(requested_selected(c), (Value::Null, Value::Null));
        let dpu = event(c, "mcs_disconnect_ultimatum");
        assert_eq!(dpu["dir"], "server_to_client");
        assert!(events(c, "mcs_connect_response").is_empty());
    }
}

/// xrdp cannot use its certificate or key: TLS selected, ClientHello read, then no ServerHello and no
/// alert, but an MCS Disconnect Provider Ultimatum in the clear.
#[test]
fn unusable_certificate_or_key_is_a_tls_server_abort() {
    for name in [
        "xrdp-weak-key-tls-abort.pcap",
        "xrdp-key-mismatch-tls-abort.pcap",
    ] {
        let c = one(name, "tls-server-abort", "tls_handshake");
        assert_eq!(ids(&c), ["tls-server-abort", "nla-not-required"], "{name}");
        assert_eq!(finding(&c, "tls-server-abort")["confidence"], "likely");
        assert_eq!(requested_selected(&c), (SSL.into(), SSL.into()), "{name}");
        assert_eq!(event(&c, "tls_client_hello")["max_version"], "TLS 1.3");
        assert!(events(&c, "tls_server_hello").is_empty(), "{name}");
        assert!(events(&c, "tls_alert").is_empty(), "{name}");
        let dpu = event(&c, "mcs_disconnect_ultimatum");
        assert_eq!(
            (&dpu["dir"], &dpu["stage"]),
            (
                &Value::from("server_to_client"),
                &Value::from("tls_handshake")
            ),
            "{name}"
        );
        assert_eq!(
            c["server_bytes"],
            19 + 9,
            "{name}: the confirm and the ultimatum"
        );
    }
}

#[test]
fn tls_13_only_server_and_a_tls_12_client() {
    let c = one(
        "xrdp-tls13-only-client-tls12.pcap",
        "tls-version-mismatch",
        "tls_handshake",
    );
    assert_eq!(ids(&c), ["tls-version-mismatch", "nla-not-required"]);
    assert_eq!(event(&c, "tls_client_hello")["max_version"], "TLS 1.2");
    let alert = event(&c, "tls_alert");
    assert_eq!(
        (&alert["description"], &alert["dir"]),
        (&Value::from(70), &Value::from("server_to_client"))
    );
    assert!(events(&c, "tls_server_hello").is_empty());
    // xrdp's cleartext ultimatum after its alert is read as such, not as a broken TLS record.
    assert_eq!(
        event(&c, "mcs_disconnect_ultimatum")["dir"],
        "server_to_client"
    );
}

#[test]
fn nla_only_client_and_a_server_without_credssp() {
    // FreeRDP /sec:nla offers SSL|HYBRID; xrdp selects SSL; FreeRDP hangs up before any ClientHello.
    let c = one(
        "xrdp-negotiate-client-nla.pcap",
        "security-layer-mismatch",
        "tls_handshake",
    );
    assert_eq!(requested_selected(&c), (3.into(), SSL.into()));
    assert!(events(&c, "tls_client_hello").is_empty());
    assert_eq!(
        finding(&c, "security-layer-mismatch")["confidence"],
        "likely"
    );
}

#[test]
fn tls_10_only_server() {
    // At Debian's default security level OpenSSL 3 cannot speak TLS 1.0: xrdp refuses every ClientHello
    // with internal_error.
    let c = one("xrdp-tls10-only.pcap", "tls-server-abort", "tls_handshake");
    assert_eq!(ids(&c), ["tls-server-abort", "nla-not-required"]);
    assert_eq!(event(&c, "tls_alert")["name"], "internal_error");
    assert!(events(&c, "tls_server_hello").is_empty());
    // At security level 0 on both sides, TLS 1.0 is spoken: an advisory.
    let c = one("xrdp-tls10-only-seclevel0.pcap", "healthy", "established");
    assert_eq!(event(&c, "tls_server_hello")["version"], TLS1_0);
    assert_eq!(finding(&c, "tls-legacy-version")["severity"], "advisory");
    assert_eq!(finding(&c, "cert-self-signed")["severity"], "advisory");
}

/// The client ends the connection right after a TLS 1.2 handshake whose certificate it refuses: the
/// encrypted alert after the server's Finished, with the certificate in the clear before it.
fn refused_after_the_handshake(name: &str) -> Value {
    let c = only(name);
    assert_eq!(
        (&c["outcome"], &c["stage_reached"]),
        (&Value::from("failed"), &Value::from("secure_channel")),
        "{name}"
    );
    assert_eq!(event(&c, "tls_server_hello")["version"], TLS1_2, "{name}");
    // The client's alert first (the server may answer with its own).
    let alerts = events(&c, "tls_encrypted_alert");
    assert_eq!(alerts[0]["dir"], "client_to_server", "{name}");
    assert!(events(&c, "tls_application_data").is_empty(), "{name}");
    c
}

#[test]
fn expired_certificate_from_a_trusted_ca_refused_at_the_prompt() {
    // No /cert option: FreeRDP finds "certificate has expired (10)" though it trusts the issuing CA, asks,
    // reads no answer, and ends the connection right after the server's Finished.
    let c = refused_after_the_handshake("xrdp-tls12-expired-cert-trusted-ca.pcap");
    let chain = &event(&c, "tls_certificate")["chain"];
    assert_eq!(chain[0]["issuer"], "CN=rdpdiag recording CA");
    assert_eq!(chain[0]["not_after"], 1_612_051_200); // 2021-01-31T00:00:00Z
    assert_eq!(finding(&c, "cert-expired")["severity"], "failure");
    // The name is right and the chain complete: the expiry is the only fault.
    for id in ["cert-name-mismatch", "cert-self-signed", "cert-untrusted"] {
        assert!(!ids(&c).contains(&id.to_string()), "{id}: {:?}", ids(&c));
    }
}

#[test]
fn certificate_for_another_name_refused() {
    // Issued by the trusted CA, current, for rdp.example.test: FreeRDP "CERTIFICATE NAME MISMATCH".
    let c = refused_after_the_handshake("xrdp-tls12-wrong-name-refused.pcap");
    let leaf = &event(&c, "tls_certificate")["chain"][0];
    assert_eq!(leaf["subject"], "CN=rdp.example.test");
    assert_eq!(leaf["san_dns"][0], "rdp.example.test");
    let f = finding(&c, "cert-name-mismatch");
    assert_eq!(f["severity"], "failure");
    assert!(
        f["title"].as_str().unwrap().contains("\"127.0.0.77\""),
        "{}",
        f["title"]
    );
    for id in ["cert-expired", "cert-self-signed", "cert-untrusted"] {
        assert!(!ids(&c).contains(&id.to_string()), "{id}: {:?}", ids(&c));
    }
}

#[test]
fn untrusted_self_signed_certificate_refused() {
    // FreeRDP /cert:deny: "self-signed certificate (18)".
    let c = refused_after_the_handshake("xrdp-tls12-self-signed-refused.pcap");
    let leaf = &event(&c, "tls_certificate")["chain"][0];
    assert_eq!(leaf["subject"], leaf["issuer"]);
    assert_eq!(finding(&c, "cert-self-signed")["severity"], "failure");
    assert!(!ids(&c).contains(&"cert-expired".to_string()));
}

#[test]
fn tls_10_only_server_and_a_modern_client() {
    // xrdp at security level 0 chooses TLS 1.0; FreeRDP at Debian's defaults answers its ServerHello
    // flight with a fatal internal_error at once.
    let c = only("xrdp-tls10-only-modern-client.pcap");
    assert_eq!(
        (&c["outcome"], &c["stage_reached"]),
        (&Value::from("failed"), &Value::from("tls_handshake"))
    );
    assert_eq!(event(&c, "tls_client_hello")["max_version"], "TLS 1.3");
    assert_eq!(event(&c, "tls_server_hello")["version"], TLS1_0);
    let alert = event(&c, "tls_alert");
    assert_eq!(
        (&alert["dir"], &alert["name"], &alert["fatal"]),
        (
            &Value::from("client_to_server"),
            &Value::from("internal_error"),
            &Value::from(true)
        )
    );
    assert!(ids(&c).contains(&"tls-legacy-version".to_string()));
}

/// Issue 11 §1: the cause is the verdict, the client's abort its evidence.
#[test]
fn certificate_and_tls_version_causes_are_the_verdict() {
    for (name, causes, stage) in [
        (
            "xrdp-tls12-expired-cert-refused.pcap",
            &["cert-expired"][..],
            "secure_channel",
        ),
        (
            "xrdp-tls12-expired-cert-trusted-ca.pcap",
            &["cert-expired"],
            "secure_channel",
        ),
        (
            "xrdp-tls12-wrong-name-refused.pcap",
            &["cert-name-mismatch"],
            "secure_channel",
        ),
        (
            "xrdp-tls12-self-signed-refused.pcap",
            &["cert-self-signed", "cert-untrusted"],
            "secure_channel",
        ),
        (
            "xrdp-tls10-only-modern-client.pcap",
            &["tls-version-mismatch"],
            "tls_handshake",
        ),
    ] {
        let c = only(name);
        let verdict = c["verdict"].as_str().unwrap();
        assert!(
            causes.contains(&verdict),
            "{name}: verdict {verdict}, findings {:?}",
            ids(&c)
        );
        assert_eq!(c["stage_reached"], stage, "{name}");
        let f = finding(&c, verdict);
        assert_eq!(f["severity"], "failure", "{name}");
        assert_ne!(
            f["confidence"], "possible",
            "{name}: the client left at once"
        );
    }
}

#[test]
fn tpkt_with_garbage_inside_is_a_malformed_reply() {
    // A scripted server answers FreeRDP's Connection Request with `03 00 00 1b 7f 70 …`; FreeRDP: "tpdu
    // length 127 > tpkt header length 27".
    let c = one(
        "scripted-tpkt-garbage.pcap",
        "malformed-reply",
        "negotiation",
    );
    assert!(events(&c, "not_rdp").is_empty());
    let m = event(&c, "malformed");
    assert_eq!(m["dir"], "server_to_client");
    let error = m["error"].as_str().unwrap();
    assert!(error.contains("length indicator 127"), "{error}");
    assert!(
        error.contains("TPKT header: version 3, length 27"),
        "{error}"
    );
    assert_eq!(ids(&c), ["malformed-reply"]);
}

/// The probe sees the same reply the same way.
#[tokio::test]
async fn the_probe_calls_a_tpkt_with_garbage_inside_malformed_reply() {
    let addr = scripted_server::server(scripted_server::Behaviour::TpktGarbage, None).await;
    let target = rdpdiag::probe::target::Target {
        given: addr.to_string(),
        host: rdpdiag::probe::target::Host::Ip(addr.ip()),
        port: addr.port(),
    };
    let opts = std::sync::Arc::new(rdpdiag::probe::ProbeOptions {
        connect_timeout: std::time::Duration::from_secs(1),
        step_timeout: std::time::Duration::from_millis(1500),
        deadline: std::time::Duration::from_secs(6),
        quick: true,
        ..rdpdiag::probe::ProbeOptions::default()
    });
    let p = rdpdiag::probe::probe_target(target, opts).await;
    assert_eq!(p.report.verdict, "malformed-reply", "{:#?}", p.report);
}

#[test]
fn every_recorded_capture_is_checked_here() {
    let dir = format!("{}/fixtures/recorded", env!("CARGO_MANIFEST_DIR"));
    let mut pcaps: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pcap"))
        .collect();
    pcaps.sort();
    let this = include_str!("replay_recorded.rs");
    let readme = std::fs::read_to_string(format!("{dir}/README.md")).unwrap();
    for p in &pcaps {
        assert!(this.contains(&format!("\"{p}\"")), "{p} has no test");
        assert!(
            readme.contains(&format!("`{p}`")),
            "{p} is not in README.md"
        );
        let len = std::fs::metadata(format!("{dir}/{p}")).unwrap().len();
        assert!(len < 200_000, "{p} is {len} bytes");
    }
    assert_eq!(pcaps.len(), 28);
}

/// The captures of FreeRDP's shadow server (`freerdp-shadow-cli`, a real CredSSP/NTLM server) with the
/// FreeRDP client, `shadow-*` in `fixtures/recorded/` (scenarios 15-19 of `record.sh`).
mod shadow {
    use super::{event, events, finding, ids, one, requested_selected, SSL};

    const HYBRID: u64 = 2;
    const SSL_HYBRID: u64 = 3;

    /// The sizes of the TLS application-data flights after the handshake, with their direction.
    fn flights(c: &serde_json::Value) -> Vec<(String, u64)> {
        events(c, "tls_application_data")
            .iter()
            .map(|e| {
                (
                    e["dir"].as_str().unwrap().to_string(),
                    e["bytes"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn nla_with_the_right_password() {
        let c = one("shadow-nla-success.pcap", "healthy", "established");
        assert!(ids(&c).is_empty(), "{:?}", ids(&c));
        assert_eq!(requested_selected(&c), (SSL_HYBRID.into(), HYBRID.into()));
        // CredSSP inside TLS: NEGOTIATE, CHALLENGE, AUTHENTICATE, the server's pubKeyAuth, the client's
        // credentials (after the server's TLS 1.3 session tickets).
        let dirs: Vec<String> = flights(&c).into_iter().map(|(d, _)| d).collect();
        assert_eq!(
            dirs,
            [
                "server_to_client",
                "client_to_server",
                "server_to_client",
                "client_to_server",
                "server_to_client",
                "client_to_server"
            ]
        );
        assert_eq!(events(&c, "established").len(), 1);
    }

    #[test]
    fn nla_with_a_wrong_password_is_nla_auth_failed() {
        let c = one(
            "shadow-nla-wrong-password.pcap",
            "nla-auth-failed",
            "cred_ssp",
        );
        assert_eq!(requested_selected(&c), (SSL_HYBRID.into(), HYBRID.into()));
        // The client's NEGOTIATE and AUTHENTICATE got a CHALLENGE and then, instead of pubKeyAuth, an
        // alert and the server's FIN.
        let f = flights(&c);
        let client: Vec<u64> = f
            .iter()
            .filter(|(d, _)| d == "client_to_server")
            .map(|(_, b)| *b)
            .collect();
        assert_eq!(client.len(), 2, "NEGOTIATE, AUTHENTICATE: {f:?}");
        assert!(
            client[1] > client[0],
            "the AUTHENTICATE is the larger: {f:?}"
        );
        let alert = &events(&c, "tls_encrypted_alert")[0];
        assert_eq!(alert["dir"], "server_to_client");
        assert_eq!(alert["stage"], "cred_ssp");
        let fin = events(&c, "fin");
        assert_eq!(fin[0]["dir"], "server_to_client");
        // The evidence: the CredSSP flights before the close, and the server's answer to the AUTHENTICATE.
        let evidence = finding(&c, "nla-auth-failed")["evidence"]
            .as_array()
            .unwrap()
            .clone();
        let texts: Vec<&str> = evidence
            .iter()
            .map(|e| e["text"].as_str().unwrap())
            .collect();
        assert!(
            texts.iter().any(|t| t.contains("CredSSP began")),
            "{texts:?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.contains("after the client's authentication")),
            "{texts:?}"
        );
        assert_eq!(finding(&c, "nla-auth-failed")["confidence"], "likely");
    }

    #[test]
    fn nla_required_and_a_tls_client_is_failure_5() {
        let c = one(
            "shadow-nla-client-tls.pcap",
            "neg-hybrid-required",
            "negotiation",
        );
        let failure = event(&c, "negotiation_failure");
        assert_eq!(failure["failure_code"], 5);
        assert_eq!(failure["name"], "HYBRID_REQUIRED_BY_SERVER");
        assert_eq!(event(&c, "connection_request")["requested_protocols"], SSL);
    }

    #[test]
    fn tls_only_server() {
        let c = one("shadow-tls-only.pcap", "healthy", "established");
        assert_eq!(ids(&c), ["nla-not-required"]);
        assert_eq!(requested_selected(&c), (SSL.into(), SSL.into()));
        assert_eq!(event(&c, "tls_server_hello")["version_name"], "TLS 1.3");
    }

    /// Standard RDP security: FreeRDP's server (as recorded) answers with ENCRYPTION_METHOD_NONE and level
    /// NONE, and refuses a client asking for TLS with failure code 2.
    #[test]
    fn rdp_only_server() {
        let c = one("shadow-rdp-only.pcap", "healthy", "established");
        let mcs = event(&c, "mcs_connect_response");
        assert_eq!(mcs["encryption_method_name"], "ENCRYPTION_METHOD_NONE");
        assert_eq!(mcs["encryption_level_name"], "ENCRYPTION_LEVEL_NONE");
        assert!(events(&c, "tls_client_hello").is_empty());
        // No encryption at all: worse than RC4, an advisory that says so.
        assert!(finding(&c, "weak-standard-rdp-security")["title"]
            .as_str()
            .unwrap()
            .contains("without any encryption"));

        let c = one(
            "shadow-rdp-only-client-tls.pcap",
            "neg-ssl-not-allowed",
            "negotiation",
        );
        let failure = event(&c, "negotiation_failure");
        assert_eq!(failure["failure_code"], 2);
        assert_eq!(failure["name"], "SSL_NOT_ALLOWED_BY_SERVER");
    }
}
