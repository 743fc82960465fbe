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
use rdpdiag::wire::rdp_neg::{
    FailureCode, NegData, NegFailure, NegResponse, NegResponseFlags, SecurityProtocols,
};
use rdpdiag::wire::x224::encode_connection_confirm;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug)]
enum Behaviour {
    Refuse(u32),
    Select(u32),
    ResetAfterRequest,
    Silent,
    Banner,
    Drip,
    Endless,
    GiantLength,
    TlsThenHangUp,
}

/// Reads one TPKT packet (the Connection Request).
async fn read_request(s: &mut TcpStream) -> bool {
    let mut head = [0u8; 4];
    if s.read_exact(&mut head).await.is_err() {
        return false;
    }
    let len = usize::from(u16::from_be_bytes([head[2], head[3]])).saturating_sub(4);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.is_ok()
}

async fn serve_one(mut s: TcpStream, b: Behaviour) {
    match b {
        Behaviour::Banner => {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n").await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            return;
        }
        Behaviour::Silent => {
            let mut sink = [0u8; 1024];
            while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
            return;
        }
        _ => {}
    }
    if !read_request(&mut s).await {
        return;
    }
    match b {
        Behaviour::Refuse(code) => {
            let f = NegData::Failure(NegFailure {
                flags: 0,
                length: 8,
                failure_code: FailureCode(code),
            });
            let _ = s
                .write_all(&encode_connection_confirm(Some(&f)).unwrap())
                .await;
        }
        Behaviour::Select(p) => {
            let r = NegData::Response(NegResponse {
                flags: NegResponseFlags(0),
                length: 8,
                selected_protocol: SecurityProtocols(p),
            });
            let _ = s
                .write_all(&encode_connection_confirm(Some(&r)).unwrap())
                .await;
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut sink)).await;
        }
        Behaviour::ResetAfterRequest => {
            // A zero linger makes the close a RST; with zero it does not block on drop.
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
            return;
        }
        Behaviour::Drip => {
            let r = NegData::Response(NegResponse {
                flags: NegResponseFlags(0),
                length: 8,
                selected_protocol: SecurityProtocols::SSL,
            });
            for byte in encode_connection_confirm(Some(&r)).unwrap() {
                if s.write_all(&[byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Behaviour::Endless => {
            let junk = vec![0x41u8; 64 * 1024];
            for _ in 0..200 {
                if s.write_all(&junk).await.is_err() {
                    return;
                }
            }
        }
        Behaviour::GiantLength => {
            let _ = s.write_all(&[0x03, 0x00, 0xff, 0xff, 0x0e, 0xd0]).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        Behaviour::TlsThenHangUp => {
            let r = NegData::Response(NegResponse {
                flags: NegResponseFlags(0),
                length: 8,
                selected_protocol: SecurityProtocols::SSL,
            });
            let _ = s
                .write_all(&encode_connection_confirm(Some(&r)).unwrap())
                .await;
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            // The classic unusable-certificate server: no ServerHello, no alert, just gone.
        }
        Behaviour::Banner | Behaviour::Silent => {}
    }
    let _ = s.shutdown().await;
}

async fn server(b: Behaviour) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve_one(s, b));
        }
    });
    addr
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
    (p.report.verdict, started.elapsed(), p.report)
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

#[tokio::test]
async fn a_server_selecting_standard_security() {
    let (v, _, r) = verdict(Behaviour::Select(0)).await;
    // The default offer gets PROTOCOL_RDP back: a client requiring TLS would hang up.
    assert_eq!(v, "healthy", "{r:?}");
    assert_eq!(r.reached, Some("standard-security"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.id == "weak-standard-rdp-security"),
        "{:?}",
        r.findings
    );
}
