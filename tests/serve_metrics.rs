//! The exporter in-process (`rdpdiag::serve::router`) against scripted servers on loopback
//! (`tests/common/scripted_server.rs`): an NLA server answering CredSSP with an NTLM CHALLENGE (the NTLM
//! info metric, NLA supported), a refusal, and the same probe as `rdpdiag probe` gives.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

#[path = "common/scripted_server.rs"]
mod scripted_server;

use std::net::SocketAddr;
use std::time::Duration;

use rdpdiag::serve::allow::AllowList;
use rdpdiag::serve::ServeConfig;
use scripted_server::Behaviour;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn exporter() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = ServeConfig {
        allow: AllowList::parse(&["127.0.0.0/8".to_string()]).unwrap(),
        timeout: Duration::from_secs(20),
        max_concurrent: 4,
        warn_days: 30,
    };
    tokio::spawn(rdpdiag::serve::serve(listener, config));
    addr
}

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        body.to_string(),
    )
}

/// The value of the sample whose line starts with `series` (name and labels as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nla_server_metrics_carry_the_ntlm_info() {
    let dir = std::env::temp_dir().join(format!("rdpdiag-serve-nla-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (chain, key) = scripted_server::openssl_self_signed(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let tls = scripted_server::acceptor(chain, key).unwrap();
    let nla = scripted_server::server(Behaviour::NlaChallenge, Some(tls)).await;
    let exporter = exporter().await;
    let (status, text) = get(exporter, &format!("/probe?target={nla}")).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(sample(&text, "rdp_nla_supported"), Some(1.0), "{text}");
    let ntlm = text
        .lines()
        .find(|l| l.starts_with("rdp_ntlm_info{"))
        .unwrap_or_else(|| panic!("no NTLM info: {text}"));
    assert!(
        ntlm.contains("netbios_computer=\"") && ntlm.ends_with("} 1"),
        "{ntlm}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("rdp_certificate_info{") && l.contains("subject=\"CN=rdp-lab\"")),
        "{text}"
    );
    assert!(sample(&text, "rdp_certificate_not_after_timestamp_seconds").is_some());
    // The same probe as `rdpdiag probe`: every offer answered, one series each.
    let offers = text
        .lines()
        .filter(|l| l.starts_with("rdp_security_protocol_selected{"))
        .count();
    assert_eq!(offers, rdpdiag::probe::questions::offers().len(), "{text}");
    assert_eq!(sample(&text, "rdp_probe_resolved"), Some(1.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_a_failed_probe_with_its_cause() {
    let refuse = scripted_server::server(Behaviour::Refuse(5), None).await;
    let exporter = exporter().await;
    let (status, text) = get(exporter, &format!("/probe?target={refuse}")).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(sample(&text, "rdp_probe_success"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, "rdp_probe_verdict{cause=\"neg-hybrid-required\"}"),
        Some(1.0),
        "{text}"
    );
    let (_, own) = get(exporter, "/metrics").await;
    assert_eq!(
        sample(&own, "rdpdiag_serve_probes_total{result=\"failure\"}"),
        Some(1.0),
        "{own}"
    );
    let (status, _) = get(exporter, "/nowhere").await;
    assert_eq!(status, 404);
}
