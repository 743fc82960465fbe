//! The prober against in-process scripted servers on loopback that misbehave on purpose: every
//! negotiation failure code and an unknown one, RST after the request, silence, a non-RDP banner, a
//! server that drips one byte a second, one that sends endless data, one that announces a giant length,
//! one that accepts TLS and hangs up after the ClientHello. Each must end within its deadline with the
//! right verdict. Loopback only.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpdiag::probe::target::{Host, Target};
use rdpdiag::probe::{probe_target, ProbeOptions};

#[path = "common/scripted_server.rs"]
mod scripted_server;

use scripted_server::Behaviour;

async fn server(b: Behaviour) -> SocketAddr {
    scripted_server::server(b, None).await
}

fn target(addr: SocketAddr) -> Target {
    Target {
        given: addr.to_string(),
        host: Host::Ip(addr.ip()),
        port: addr.port(),
    }
}

fn opts(quick: bool) -> Arc<ProbeOptions> {
    Arc::new(ProbeOptions {
        connect_timeout: Duration::from_secs(1),
        step_timeout: Duration::from_millis(1500),
        deadline: Duration::from_secs(6),
        quick,
        ..ProbeOptions::default()
    })
}

async fn verdict(
    b: Behaviour,
) -> (
    &'static str,
    Duration,
    rdpdiag::report::target::TargetReport,
) {
    let addr = server(b).await;
    let started = Instant::now();
    let p = probe_target(target(addr), opts(true)).await;
    (p.report.verdict.as_str(), started.elapsed(), p.report)
}

#[tokio::test]
async fn every_negotiation_failure_code_and_an_unknown_one() {
    let expected = [
        (1, "neg-ssl-required"),
        (2, "neg-ssl-not-allowed"),
        (3, "neg-ssl-cert-not-on-server"),
        (4, "neg-inconsistent-flags"),
        (5, "neg-hybrid-required"),
        (6, "neg-ssl-with-user-auth-required"),
        (7, "neg-unknown-failure"),
    ];
    for (code, id) in expected {
        let (v, _, r) = verdict(Behaviour::Refuse(code)).await;
        assert_eq!(v, id, "code {code}");
        assert_eq!(r.findings[0].id, id);
    }
}

#[tokio::test]
async fn misbehaving_servers_end_within_their_deadlines() {
    let cases = [
        (Behaviour::ResetAfterRequest, "server-reset-after-request"),
        (Behaviour::Silent, "server-silent"),
        (Behaviour::Banner, "not-rdp"),
        (Behaviour::TlsThenHangUp, "tls-server-abort"),
    ];
    for (b, id) in cases {
        let (v, took, _) = verdict(b).await;
        assert_eq!(v, id, "{b:?}");
        assert!(took < Duration::from_secs(8), "{b:?} took {took:?}");
    }
}

#[tokio::test]
async fn drip_endless_and_giant_lengths_are_bounded() {
    for b in [Behaviour::Drip, Behaviour::Endless, Behaviour::GiantLength] {
        let (v, took, r) = verdict(b).await;
        // The deadline (6 s) and the step timeout bound the drip and the giant length; the byte cap bounds
        // the flood. None of them may be called healthy.
        assert!(took < Duration::from_secs(9), "{b:?} took {took:?}");
        assert_ne!(v, "healthy", "{b:?}: {r:?}");
    }
}

#[tokio::test]
async fn refused_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let p = probe_target(target(addr), opts(false)).await;
    assert_eq!(p.report.verdict, "tcp-refused");
    assert!(
        p.report.protocols.is_empty(),
        "no further questions after a refused connect"
    );
}

#[tokio::test]
async fn full_questions_on_a_tls_only_server() {
    // Selects SSL for anything, then hangs up after the ClientHello: every question still ends.
    let addr = server(Behaviour::TlsThenHangUp).await;
    let p = probe_target(target(addr), opts(false)).await;
    assert_eq!(p.report.verdict, "tls-server-abort");
    assert_eq!(p.report.protocols.len(), 8);
    assert_eq!(p.report.tls_versions.len(), 4);
    assert!(
        p.report
            .tls_versions
            .iter()
            .all(|v| v.answer == "closed by the server"),
        "{:?}",
        p.report.tls_versions
    );
    // HYBRID only answered with SSL: no NLA (nmap's rdp-enum-encryption reads this as NLA support).
    let hybrid = p
        .report
        .protocols
        .iter()
        .find(|o| o.offer == "HYBRID only")
        .unwrap();
    assert_eq!(hybrid.answer, "selected SSL (not offered)");
    assert_eq!(p.report.nla, "not supported");
    assert_eq!(p.report.connections.len(), 1 + 8 + 4);
    // Its own traffic was diagnosed by the same brain: the default path's connection says why.
    assert_eq!(
        p.report.connections[0].diagnosis.verdict_id(),
        "tls-server-abort"
    );
}

/// Issue 15, equivalent servers, equal verdicts: a server that *selects* standard RDP security for the
/// default offer (xrdp `security_layer=rdp`) and one that *refuses* the offer with SSL_NOT_ALLOWED_BY_SERVER
/// (FreeRDP shadow `/sec:rdp`) both leave a default Windows client on standard RDP security (it retries
/// offering PROTOCOL_RDP after failure 2): one verdict, `neg-ssl-not-allowed`, and one exit code (1).
#[tokio::test]
async fn standard_security_only_gets_one_verdict_whichever_way_the_server_says_it() {
    let mut verdicts = Vec::new();
    for b in [Behaviour::Select(0), Behaviour::Refuse(2)] {
        let addr = server(b).await;
        let r = probe_target(target(addr), opts(false)).await.report;
        assert_eq!(r.verdict, "neg-ssl-not-allowed", "{b:?}: {r:#?}");
        let first = &r.findings[0];
        assert_eq!(first.id, r.verdict, "{b:?}");
        assert_eq!(
            first.severity,
            rdpdiag::diagnose::Severity::Failure,
            "{b:?}"
        );
        assert_eq!(first.confidence, rdpdiag::diagnose::Confidence::Certain);
        // The evidence is the default path's answer: the confirm, or the failure.
        let timeline = &r.connections[0].observation.timeline.entries;
        assert!(
            first
                .evidence
                .iter()
                .map(|e| &timeline[e.entry].event)
                .any(|event| matches!(
                    (b, event),
                    (
                        Behaviour::Select(0),
                        rdpdiag::session::Event::ConnectionConfirm {
                            selected_protocol: Some(0),
                            ..
                        }
                    ) | (
                        Behaviour::Refuse(2),
                        rdpdiag::session::Event::NegotiationFailure {
                            failure_code: 2,
                            ..
                        }
                    )
                )),
            "{b:?}: {:?}",
            first.evidence
        );
        // The text names the verdict's finding once, on the default path or judged over the target.
        let mut text = Vec::new();
        let style = rdpdiag::report::Style {
            color: false,
            timeline: false,
        };
        rdpdiag::report::target::write_target_text(&r, &style, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(
            text.matches("neg-ssl-not-allowed (certain)").count(),
            1,
            "{b:?}: {text}"
        );
        let mut summary = rdpdiag::report::Summary::default();
        summary.add_target(&r, None);
        verdicts.push((r.verdict, summary.exit_code(), r.nla));
    }
    assert_eq!(verdicts[0], verdicts[1]);
    assert_eq!(verdicts[0].1, 1, "a failure: exit code 1");
}

#[tokio::test]
async fn a_server_selecting_standard_security() {
    let (v, _, r) = verdict(Behaviour::Select(0)).await;
    // The default offer gets PROTOCOL_RDP back: a default client goes on without TLS or NLA.
    assert_eq!(v, "neg-ssl-not-allowed", "{r:?}");
    assert_eq!(r.reached, Some("standard-security"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.id == "weak-standard-rdp-security"),
        "{:?}",
        r.findings
    );
}

#[tokio::test]
async fn a_server_selecting_ssl_for_anything_with_a_real_tls_handshake() {
    let dir = std::env::temp_dir().join(format!("rdpdiag-scripted-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (chain, key) = scripted_server::openssl_self_signed(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let tls = scripted_server::acceptor(chain, key).unwrap();
    let addr = scripted_server::server(Behaviour::SslHandshake, Some(tls)).await;
    let p = probe_target(target(addr), opts(false)).await;
    let r = p.report;
    assert_eq!(r.reached, Some("tls"), "{r:#?}");
    assert_eq!(r.verdict, "healthy", "{r:#?}");
    // SSL selected for a HYBRID-only request is not NLA (nmap's rdp-enum-encryption says it is).
    let answer = |label: &str| {
        r.protocols
            .iter()
            .find(|o| o.offer == label)
            .unwrap()
            .answer
            .clone()
    };
    assert_eq!(answer("HYBRID only"), "selected SSL (not offered)");
    assert_eq!(answer("SSL only"), "selected SSL");
    assert_eq!(r.nla, "not supported");
    let version = |v: &str| {
        r.tls_versions
            .iter()
            .find(|a| a.version == v)
            .unwrap()
            .answer
            .clone()
    };
    assert_eq!(version("TLS 1.2"), "accepted");
    assert_eq!(version("TLS 1.3"), "accepted");
    assert!(version("TLS 1.0").starts_with("alert"), "{r:#?}");
}

#[tokio::test]
async fn silence_to_the_default_offer_ends_the_questions() {
    // Every further question would wait the same step timeout for nothing: none is asked.
    let addr = server(Behaviour::Silent).await;
    let p = probe_target(target(addr), opts(false)).await;
    assert_eq!(p.report.verdict, "server-silent");
    assert!(p.report.protocols.is_empty(), "{:?}", p.report.protocols);
    assert!(p.report.tls_versions.is_empty());
    assert_eq!(p.report.nla, "unknown", "nothing was learned about NLA");
    assert_eq!(p.report.connections.len(), 1);
}

#[tokio::test]
async fn a_reset_still_gets_every_offer_asked() {
    // A reset answers at once: the offers cost nothing and may differ.
    let addr = server(Behaviour::ResetAfterRequest).await;
    let p = probe_target(target(addr), opts(false)).await;
    assert_eq!(p.report.verdict, "server-reset-after-request");
    assert_eq!(p.report.protocols.len(), 8);
}

#[tokio::test]
async fn nla_server_info_from_the_ntlm_challenge() {
    let dir = std::env::temp_dir().join(format!("rdpdiag-scripted-nla-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (chain, key) = scripted_server::openssl_self_signed(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let tls = scripted_server::acceptor(chain, key).unwrap();
    let addr = scripted_server::server(Behaviour::NlaChallenge, Some(tls)).await;
    let r = probe_target(target(addr), opts(true)).await.report;
    // The probe followed the default offer into CredSSP and stopped at the CHALLENGE, without credentials.
    assert_eq!(r.reached, Some("credssp"), "{r:#?}");
    assert_eq!(r.verdict, "healthy", "{r:#?}");
    let info = r.server_info.clone().unwrap();
    assert_eq!(info.credssp_version, Some(6));
    assert_eq!(info.netbios_computer.as_deref(), Some("Server"));
    assert_eq!(info.netbios_domain.as_deref(), Some("Domain"));
    assert_eq!(info.target_name.as_deref(), Some("Server"));
    assert_eq!(info.os_version.as_deref(), Some("6.0.6000"));
    // Its own stop mid-CredSSP is not blamed on the server: the cookie marks the client as the prober.
    assert!(
        r.findings
            .iter()
            .all(|f| f.id != "client-aborted-after-handshake"),
        "{:?}",
        r.findings
    );
}

#[tokio::test]
async fn reset_after_the_client_hello() {
    let (v, took, _) = verdict(Behaviour::TlsThenReset).await;
    assert_eq!(v, "tls-server-abort");
    assert!(took < Duration::from_secs(8), "took {took:?}");
}
