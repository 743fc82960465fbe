//! The target rules on hand-built timelines.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::panic)]
use super::*;
use crate::diagnose::{diagnose, Context};
use crate::session::{Entry, Timeline, Timestamp};

const C: Option<Direction> = Some(Direction::ClientToServer);
const S: Option<Direction> = Some(Direction::ServerToClient);

fn obs(events: Vec<(Option<Direction>, Stage, Event)>) -> Observation {
    let entries = events
        .into_iter()
        .enumerate()
        .map(|(n, (dir, stage, event))| {
            let t = i64::try_from(n).unwrap() * 1000;
            Entry {
                t_us: t,
                at: Timestamp(1_700_000_000_000_000 + t),
                dir,
                packet: None,
                stage,
                event,
            }
        })
        .collect();
    Observation {
        timeline: Timeline { entries },
        ..Observation::default()
    }
}

fn request(requested: Option<u32>, cookie: &str) -> (Option<Direction>, Stage, Event) {
    (
        C,
        Stage::X224Request,
        Event::ConnectionRequest {
            cookie: Some(cookie.to_string()),
            routing_token: None,
            requested_protocols: requested,
            requested: String::new(),
            neg_flags: None,
            correlation_id: None,
        },
    )
}

fn confirm(selected: Option<u32>) -> (Option<Direction>, Stage, Event) {
    (
        S,
        Stage::Negotiation,
        Event::ConnectionConfirm {
            selected_protocol: selected,
            selected: selected.map(|p| SecurityProtocols(p).to_string()).unwrap_or_default(),
            neg_flags: None,
            well_formed: true,
        },
    )
}

fn failure(code: u32) -> (Option<Direction>, Stage, Event) {
    (
        S,
        Stage::Negotiation,
        Event::NegotiationFailure {
            failure_code: code,
            name: format!("code {code}"),
        },
    )
}

fn client_hello(version: u16, supported: Vec<u16>, suites: Vec<u16>) -> (Option<Direction>, Stage, Event) {
    (
        C,
        Stage::TlsHandshake,
        Event::TlsClientHello {
            record_version: 0x0301,
            client_version: version,
            supported_versions: supported,
            max_version: String::new(),
            cipher_suites: suites,
            sni: None,
            alpn: Vec::new(),
        },
    )
}

fn server_hello(version: u16, suite: u16) -> (Option<Direction>, Stage, Event) {
    (
        S,
        Stage::TlsHandshake,
        Event::TlsServerHello {
            version,
            version_name: ProtocolVersion(version).to_string(),
            cipher_suite: suite,
            cipher_suite_name: CipherSuite(suite).to_string(),
            hello_retry_request: false,
        },
    )
}

fn done() -> (Option<Direction>, Stage, Event) {
    (
        None,
        Stage::TlsHandshake,
        Event::TlsHandshakeDone {
            version_name: "TLS 1.2".to_string(),
        },
    )
}

fn app_data(dir: Option<Direction>) -> (Option<Direction>, Stage, Event) {
    (
        dir,
        Stage::CredSsp,
        Event::TlsApplicationData {
            records: 1,
            bytes: 100,
        },
    )
}

const COOKIE: &str = crate::diagnose::PROBE_COOKIE;

#[test]
fn each_connection_of_a_probe_run_is_named_by_what_it_sent() {
    let default = Some(WINDOWS_DEFAULT_OFFER.0);
    let plain = obs(vec![request(default, COOKIE), confirm(Some(1))]);
    assert_eq!(Question::of(&plain, true), Some(Question::Default));
    assert_eq!(
        Question::of(&plain, false),
        Some(Question::Offer(Some(WINDOWS_DEFAULT_OFFER)))
    );
    let legacy = obs(vec![request(None, COOKIE), confirm(None)]);
    assert_eq!(Question::of(&legacy, false), Some(Question::Offer(None)));
    assert_eq!(
        Question::of(&legacy, false).unwrap().label(),
        "no RDP_NEG_REQ (legacy client)"
    );
    let tls13 = obs(vec![
        request(default, COOKIE),
        confirm(Some(1)),
        client_hello(0x0303, vec![0x0304], vec![0x1301, 0x1302, 0x1303]),
    ]);
    assert_eq!(
        Question::of(&tls13, false),
        Some(Question::Version(ProtocolVersion::TLS1_3))
    );
    let tls10 = obs(vec![
        request(default, COOKIE),
        confirm(Some(1)),
        client_hello(0x0301, vec![], vec![0xc014, 0xc013]),
    ]);
    assert_eq!(
        Question::of(&tls10, false),
        Some(Question::Version(ProtocolVersion::TLS1_0))
    );
    let cipher = obs(vec![
        request(default, COOKIE),
        confirm(Some(1)),
        client_hello(0x0303, vec![], vec![0xc030]),
    ]);
    assert_eq!(
        Question::of(&cipher, false),
        Some(Question::Cipher(ProtocolVersion::TLS1_2, CipherSuite(0xc030)))
    );
    // The default path's TLS library offers several versions: the default path, first or not.
    let rustls = obs(vec![
        request(default, COOKIE),
        confirm(Some(1)),
        client_hello(0x0303, vec![0x0304, 0x0303], vec![0x1302, 0x1301, 0xc02f]),
    ]);
    assert_eq!(Question::of(&rustls, false), Some(Question::Default));
    // Someone else's connection is not a question of the probe, first or not.
    let mstsc = obs(vec![request(default, "alice"), confirm(Some(2))]);
    assert_eq!(Question::of(&mstsc, true), None);
    assert_eq!(Question::of(&obs(vec![]), true), None);
}

#[test]
fn answers_to_offers_versions_and_ciphers() {
    let selected_rdp = obs(vec![request(Some(1), COOKIE), confirm(Some(0))]);
    assert_eq!(
        offer_answer(&selected_rdp, Some(SecurityProtocols::SSL)),
        "selected RDP (not offered)"
    );
    let refused = obs(vec![request(Some(1), COOKIE), failure(2)]);
    assert_eq!(offer_answer(&refused, Some(SecurityProtocols::SSL)), "refused: code 2");
    let accepted = obs(vec![
        client_hello(0x0303, vec![], vec![0xc030]),
        server_hello(0x0303, 0xc030),
    ]);
    assert_eq!(version_answer(&accepted, ProtocolVersion::TLS1_2), "accepted");
    assert_eq!(
        version_answer(&accepted, ProtocolVersion::TLS1_3),
        "server chose TLS 1.2"
    );
    assert_eq!(cipher_answer(&accepted, CipherSuite(0xc030)), "accepted");
    assert!(cipher_answer(&accepted, CipherSuite(0xc02f)).starts_with("server chose "));
    let closed = obs(vec![(S, Stage::TlsHandshake, Event::Fin)]);
    assert_eq!(
        version_answer(&closed, ProtocolVersion::TLS1_0),
        "closed by the server"
    );
}

#[test]
fn nla_from_the_offers() {
    let hybrid = obs(vec![request(Some(2), COOKIE), confirm(Some(2))]);
    let ssl_ok = obs(vec![request(Some(1), COOKIE), confirm(Some(1))]);
    let ssl_refused = obs(vec![request(Some(1), COOKIE), failure(5)]);
    let hybrid_as_ssl = obs(vec![request(Some(2), COOKIE), confirm(Some(1))]);
    let h = Some(SecurityProtocols::HYBRID);
    let s = Some(SecurityProtocols::SSL);
    assert_eq!(nla(&[(h, &hybrid), (s, &ssl_refused)]), "required");
    assert_eq!(nla(&[(h, &hybrid), (s, &ssl_ok)]), "supported");
    // SSL selected for a HYBRID-only offer is not NLA.
    assert_eq!(nla(&[(h, &hybrid_as_ssl), (s, &ssl_ok)]), "not supported");
    assert_eq!(nla(&[]), "unknown");
}

#[test]
fn how_far_the_default_path_got() {
    let d = Some(WINDOWS_DEFAULT_OFFER.0);
    let tls = obs(vec![request(d, COOKIE), confirm(Some(1)), server_hello(0x0303, 0xc030), done()]);
    assert_eq!(reached(&tls), Some("tls"));
    assert_eq!(
        tls_handshake(&tls),
        Some(("TLS 1.2".to_string(), CipherSuite(0xc030).to_string()))
    );
    let mut credssp = tls.clone();
    let more = obs(vec![app_data(C), app_data(S)]);
    credssp.timeline.entries.extend(more.timeline.entries);
    assert_eq!(reached(&credssp), Some("credssp"));
    let asked_only = obs(vec![request(d, COOKIE), confirm(Some(2)), done(), app_data(C)]);
    assert_eq!(reached(&asked_only), Some("tls"), "no answer inside CredSSP yet");
    let hello_only = obs(vec![request(d, COOKIE), confirm(Some(1)), server_hello(0x0303, 0xc030)]);
    assert_eq!(reached(&hello_only), None);
    assert_eq!(tls_handshake(&hello_only), None);
    assert_eq!(
        reached(&obs(vec![request(d, COOKIE), confirm(Some(0))])),
        Some("standard-security")
    );
    assert_eq!(
        reached(&obs(vec![request(d, COOKIE), confirm(None)])),
        Some("standard-security")
    );
    assert_eq!(reached(&obs(vec![request(d, COOKIE), failure(2)])), None);
}

/// Issue 15: selecting standard RDP security for the default offer and refusing the offer with
/// SSL_NOT_ALLOWED_BY_SERVER leave a default client in the same place: one verdict.
#[test]
fn standard_security_only_is_one_verdict_whichever_way_it_is_said() {
    let ctx = Context::default();
    let d = Some(WINDOWS_DEFAULT_OFFER.0);
    let selected = obs(vec![request(d, COOKIE), confirm(Some(0))]);
    let refused = obs(vec![request(d, COOKIE), failure(2)]);
    let mut verdicts = Vec::new();
    for o in [&selected, &refused] {
        let diagnosis = diagnose(o, &ctx);
        let (v, failures) = verdict(o, &diagnosis, reached(o));
        assert_eq!(v, STANDARD_SECURITY_ONLY);
        assert_eq!(failures[0].id, v);
        assert_eq!(failures[0].severity, Severity::Failure);
        assert!(!failures[0].evidence.is_empty());
        verdicts.push(v);
    }
    assert_eq!(verdicts[0], verdicts[1]);
    // A client that offered only PROTOCOL_RDP got what it asked for: nothing to judge there.
    let asked_rdp = obs(vec![request(Some(0), COOKIE), confirm(Some(0))]);
    let (v, _) = verdict(&asked_rdp, &diagnose(&asked_rdp, &ctx), reached(&asked_rdp));
    assert_ne!(v, STANDARD_SECURITY_ONLY);
    // TLS reached: healthy.
    let tls = obs(vec![request(d, COOKIE), confirm(Some(1)), server_hello(0x0303, 0xc030), done()]);
    let (v, failures) = verdict(&tls, &diagnose(&tls, &ctx), reached(&tls));
    assert_eq!((v, failures.len()), (Verdict::Healthy, 0));
}

#[test]
fn target_findings_take_each_advisory_once_and_offer_mismatches_only_from_the_default_path() {
    let ctx = Context::default();
    let d = Some(WINDOWS_DEFAULT_OFFER.0);
    let default = diagnose(&obs(vec![request(d, COOKIE), confirm(Some(1))]), &ctx);
    let other = diagnose(&obs(vec![request(Some(2), COOKIE), confirm(Some(1))]), &ctx);
    assert!(other.findings.iter().any(|f| f.id == "security-layer-mismatch"));
    let all = findings(Vec::new(), &default, &[&other, &other], Vec::new());
    let ids: Vec<&str> = all.iter().map(|f| f.id.as_str()).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(!ids.contains(&"security-layer-mismatch"), "{ids:?}");
    assert!(ids.contains(&"nla-not-required"), "{ids:?}");
}

/// A certificate fact a default Windows client blocks outright (RSA under 1024 bits) is the target's
/// failure; one it only prompts about (RSA 1024, under the advisory's 2048) stays an advisory.
#[test]
fn a_key_the_default_client_blocks_is_the_verdict() {
    let cert = |name: &str| {
        let path = format!("{}/fixtures/wire/certs/{name}", env!("CARGO_MANIFEST_DIR"));
        crate::session::cert_entry(&std::fs::read(path).unwrap())
    };
    let now = Timestamp(1_800_000_000_000_000); // 2027-01-15, inside every fixture's validity
    let judged = |chain: Vec<CertEntry>| {
        let findings =
            crate::diagnose::certificate_findings(&chain, now, "weak512.test", 30);
        refused_certificate(&chain, &findings)
    };
    let blocked = judged(vec![cert("generated-self-signed-rsa512.der")]).unwrap();
    assert_eq!(blocked.id, CauseId::CertWeakKey);
    assert_eq!(
        (blocked.severity, blocked.confidence),
        (Severity::Failure, Confidence::Certain)
    );
    assert!(blocked.title.contains("512 bits"), "{}", blocked.title);
    // 1024 bits: weak (an advisory), not blocked.
    let prompted = vec![
        cert("generated-leaf-rsa1024.der"),
        cert("generated-ca-rsa2048.der"),
    ];
    assert!(judged(prompted).is_none());
    assert!(judged(vec![cert("generated-leaf-sound.der")]).is_none());
}
