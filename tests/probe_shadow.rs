//! The prober against a real CredSSP/NLA server: FreeRDP's shadow server (`freerdp-shadow-cli`) on its own
//! Xvfb display, one per configuration (`/sec:nla` with a SAM file, `/sec:tls`, `/sec:rdp`), bound to a
//! free 127.0.0.1 port and stopped by PID when the test ends (`tests/common/shadow.rs`). Each test also
//! makes the one-brain check: the probe's own traffic written with `--capture` and replayed gives every
//! connection the verdict and findings the live probe gave it.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::shadow::{Sec, Shadow, DOMAIN};
use rdpdiag::probe::target::{Host, Target};
use rdpdiag::probe::{probe_target, ProbeOptions};
use rdpdiag::report::target::TargetReport;
use rdpdiag::report::ConnectionReport;

/// Probes the server, checks that the replay of the probe's capture agrees, and returns the report.
async fn probe(s: &Shadow) -> TargetReport {
    let t = Target {
        given: s.addr.to_string(),
        host: Host::Ip(s.addr.ip()),
        port: s.addr.port(),
    };
    let opts = ProbeOptions {
        connect_timeout: Duration::from_secs(2),
        step_timeout: Duration::from_secs(3),
        deadline: Duration::from_secs(40),
        ..ProbeOptions::default()
    };
    let probed = probe_target(t, Arc::new(opts)).await;
    one_brain(s.addr, &s.dir, &probed.report.connections, &probed.captures);
    probed.report
}

/// ARCHITECTURE.md invariant 2: `--capture`, replayed, gives each connection the same verdict and the same
/// findings (ids and confidences) as the live probe.
fn one_brain(
    server: SocketAddr,
    dir: &std::path::Path,
    live: &[ConnectionReport],
    captures: &[rdpdiag::probe::Capture],
) {
    let path = dir.join("probe.pcap");
    let mut cap = rdpdiag::probe::capture_file::open_probe_capture(path.to_str().unwrap()).unwrap();
    cap.write_probe(server, captures).unwrap();
    cap.finish().unwrap();
    let mut replayed = Vec::new();
    let (_, err) = rdpdiag::replay::replay_source(
        &rdpdiag::replay::Source::File(path.to_str().unwrap().to_string()),
        &rdpdiag::replay::ReplayOptions::default(),
        &mut |r| {
            replayed.push(r);
            true
        },
    );
    assert!(err.is_none(), "{err:?}");
    let key = |r: &ConnectionReport| {
        (
            r.diagnosis.verdict_id(),
            r.diagnosis
                .findings
                .iter()
                .map(|f| (f.id, f.confidence))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(replayed.len(), live.len());
    for l in live {
        let client = l.client.clone().unwrap();
        let matches: Vec<_> = replayed
            .iter()
            .filter(|r| r.client.as_deref() == Some(client.as_str()))
            .map(key)
            .collect();
        assert!(
            matches.contains(&key(l)),
            "{}: live {:?}, replayed {:?}",
            l.label.as_deref().unwrap_or(""),
            key(l),
            matches
        );
    }
}

fn ids(r: &TargetReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

fn offer<'a>(r: &'a TargetReport, label: &str) -> &'a str {
    &r.protocols
        .iter()
        .find(|o| o.offer == label)
        .unwrap_or_else(|| panic!("no offer {label}: {:?}", r.protocols))
        .answer
}

fn connection<'a>(r: &'a TargetReport, label: &str) -> &'a ConnectionReport {
    r.connections
        .iter()
        .find(|c| c.label.as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no connection {label}"))
}

const LEGACY: &str = "no RDP_NEG_REQ (legacy client)";
const RDP: &str = "PROTOCOL_RDP only";
const SSL: &str = "SSL only";
const HYBRID: &str = "HYBRID only";
const HYBRID_EX: &str = "HYBRID_EX only";
const DEFAULT: &str = "Windows default SSL|HYBRID|HYBRID_EX";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nla_required() {
    let Some(s) = Shadow::start("nla", Sec::Nla) else {
        return;
    };
    let r = probe(&s).await;
    assert_eq!(r.nla, "required", "{r:#?}");
    assert_eq!(r.verdict, "healthy", "{r:#?}");
    assert_eq!(r.reached, Some("credssp"), "followed up to the CHALLENGE");
    assert_eq!(offer(&r, DEFAULT), "selected HYBRID");
    assert_eq!(offer(&r, HYBRID), "selected HYBRID");
    // Every offer without HYBRID gets failure code 5; FreeRDP 2 does not select HYBRID_EX either.
    for label in [LEGACY, RDP, SSL, HYBRID_EX] {
        assert_eq!(
            offer(&r, label),
            "refused: HYBRID_REQUIRED_BY_SERVER",
            "{label}"
        );
    }
    assert_eq!(
        connection(&r, SSL).diagnosis.verdict_id(),
        "neg-hybrid-required"
    );
    // The CHALLENGE names the server as it is: its host name (NetBIOS in capitals, DNS as is), which
    // FreeRDP also sends as the domain; the SAM file's domain is not in it. Its version is fixed.
    let info = r.server_info.as_ref().unwrap();
    let (nb, dns) = (s.netbios_name(), s.dns_name());
    assert_eq!(info.credssp_version, Some(6));
    assert_eq!(info.target_name.as_deref(), Some(nb.as_str()));
    assert_eq!(info.netbios_computer.as_deref(), Some(nb.as_str()));
    assert_eq!(info.netbios_domain.as_deref(), Some(nb.as_str()));
    assert_eq!(info.dns_computer.as_deref(), Some(dns.as_str()));
    assert_eq!(info.dns_domain.as_deref(), Some(dns.as_str()));
    assert_ne!(info.netbios_domain.as_deref(), Some(DOMAIN));
    assert_eq!(
        info.os_version.as_deref(),
        Some("6.1.7601"),
        "FreeRDP reports Windows 7 SP1 whatever it runs on"
    );
    assert_eq!(info.error_code, None);
    // Its generated certificate is named after the host too (seen through rustls: TLS 1.3 hides it).
    let chain = serde_json::to_string(&r.certificate).unwrap();
    assert!(chain.contains(&format!("CN={}", s.host_name)), "{chain}");
    assert!(!ids(&r).contains(&"nla-not-required"), "{:?}", ids(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_only() {
    let Some(s) = Shadow::start("tls", Sec::Tls) else {
        return;
    };
    let r = probe(&s).await;
    assert_eq!(r.nla, "not supported", "{r:#?}");
    assert_eq!(r.verdict, "healthy", "{r:#?}");
    assert_eq!(r.reached, Some("tls"));
    assert_eq!(offer(&r, DEFAULT), "selected SSL");
    assert_eq!(offer(&r, SSL), "selected SSL");
    for label in [LEGACY, RDP, HYBRID, HYBRID_EX] {
        assert_eq!(
            offer(&r, label),
            "refused: SSL_REQUIRED_BY_SERVER",
            "{label}"
        );
    }
    assert_eq!(
        connection(&r, RDP).diagnosis.verdict_id(),
        "neg-ssl-required"
    );
    assert!(ids(&r).contains(&"nla-not-required"), "{:?}", ids(&r));
    assert!(r.server_info.is_none(), "no CredSSP, no CHALLENGE");
    assert!(
        r.tls_versions
            .iter()
            .any(|v| v.version == "TLS 1.2" && v.answer == "accepted"),
        "{:?}",
        r.tls_versions
    );
}

/// Only standard RDP security: the shadow server refuses every TLS offer with failure code 2 (xrdp, set the
/// same way, selects PROTOCOL_RDP instead). How the target as a whole is judged is decided elsewhere;
/// here the facts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdp_only() {
    let Some(s) = Shadow::start("rdp", Sec::Rdp) else {
        return;
    };
    let r = probe(&s).await;
    assert_eq!(r.nla, "not supported", "{r:#?}");
    assert_eq!(offer(&r, LEGACY), "selected RDP");
    assert_eq!(offer(&r, RDP), "selected RDP");
    for label in [SSL, HYBRID, HYBRID_EX, DEFAULT] {
        assert_eq!(
            offer(&r, label),
            "refused: SSL_NOT_ALLOWED_BY_SERVER",
            "{label}"
        );
    }
    assert_eq!(
        connection(&r, SSL).diagnosis.verdict_id(),
        "neg-ssl-not-allowed"
    );
    assert!(r.tls_versions.is_empty(), "no TLS to enumerate");
    assert!(r.server_info.is_none());
}
