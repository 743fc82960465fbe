//! Scripted RDP servers that misbehave on purpose, shared by `tests/probe_scripted.rs` and
//! `examples/rdp_lab.rs` (both include this file with `#[path]`): every negotiation failure code, a
//! protocol selected whatever was offered (with a real TLS handshake behind SSL, from rustls), RST after
//! the request, silence, a non-RDP banner, a drip, a flood, a giant length, TLS then a hang-up. Each
//! connection is served on its own task; nothing here ever connects anywhere.
#![allow(dead_code, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rdpdiag::wire::rdp_neg::{
    FailureCode, NegData, NegFailure, NegResponse, NegResponseFlags, SecurityProtocols,
};
use rdpdiag::wire::x224::encode_connection_confirm;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// An RDP_NEG_FAILURE with this code, whatever was asked.
    Refuse(u32),
    /// An RDP_NEG_RSP selecting this protocol, whatever was offered; then reads one chunk and closes.
    Select(u32),
    /// Selects SSL whatever was offered and completes a real TLS handshake (rustls, the lab's
    /// certificate); closes after the first bytes that follow it (it speaks no MCS) or after 2 s.
    SslHandshake,
    ResetAfterRequest,
    Silent,
    Banner,
    Drip,
    Endless,
    GiantLength,
    /// Selects SSL whatever was offered, reads the ClientHello and hangs up (an unusable certificate).
    TlsThenHangUp,
    /// Selects HYBRID (NLA), completes TLS, and answers the client's first TSRequest with a TSRequest
    /// carrying the NTLM CHALLENGE of MS-NLMP 4.2.4.3 (NetBIOS "Server", domain "Domain", Windows 6.0.6000).
    NlaChallenge,
    /// Selects SSL, reads the ClientHello and resets the connection.
    TlsThenReset,
    /// Answers the Connection Request with a valid TPKT header and garbage inside
    /// ([`TPKT_GARBAGE`]: an X.224 length indicator of 127 in a 27-byte packet).
    TpktGarbage,
}

/// `03 00 00 1b 7f 70 …`: TPKT version 3, length 27, then not an X.224 TPDU (the reply of
/// `fixtures/recorded/scripted-tpkt-garbage.pcap`).
pub const TPKT_GARBAGE: [u8; 27] = [
    0x03, 0x00, 0x00, 0x1b, 0x7f, 0x70, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
];

/// MS-NLMP 4.2.4.3, the NTLMv2 example CHALLENGE_MESSAGE.
pub const SPEC_V2_CHALLENGE: [u8; 104] = [
    0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0c, 0x00,
    0x38, 0x00, 0x00, 0x00, 0x33, 0x82, 0x8a, 0xe2, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x24, 0x00, 0x44, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x70, 0x17, 0x00, 0x00, 0x00, 0x0f, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00, 0x02, 0x00, 0x0c, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d, 0x00, 0x61, 0x00,
    0x69, 0x00, 0x6e, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x53, 0x00, 0x65, 0x00, 0x72, 0x00, 0x76, 0x00,
    0x65, 0x00, 0x72, 0x00, 0x00, 0x00, 0x00, 0x00,
];

impl Behaviour {
    /// A short stable name (the lab prints it beside each address).
    pub fn name(self) -> String {
        match self {
            Behaviour::Refuse(code) => format!("refuse-{code}"),
            Behaviour::Select(0) => "select-rdp".to_string(),
            Behaviour::Select(p) => format!("select-{p}"),
            Behaviour::SslHandshake => "select-ssl-tls".to_string(),
            Behaviour::ResetAfterRequest => "rst-after-request".to_string(),
            Behaviour::Silent => "silent".to_string(),
            Behaviour::Banner => "banner".to_string(),
            Behaviour::Drip => "drip".to_string(),
            Behaviour::Endless => "endless".to_string(),
            Behaviour::GiantLength => "giant-length".to_string(),
            Behaviour::TlsThenHangUp => "ssl-hangup-after-hello".to_string(),
            Behaviour::NlaChallenge => "nla-challenge".to_string(),
            Behaviour::TlsThenReset => "ssl-reset-after-hello".to_string(),
            Behaviour::TpktGarbage => "tpkt-garbage".to_string(),
        }
    }
}

/// Reads one TPKT packet (the Connection Request).
async fn read_request<S: AsyncRead + Unpin>(s: &mut S) -> bool {
    let mut head = [0u8; 4];
    if s.read_exact(&mut head).await.is_err() {
        return false;
    }
    let len = usize::from(u16::from_be_bytes([head[2], head[3]])).saturating_sub(4);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.is_ok()
}

fn confirm_selecting(p: u32) -> Vec<u8> {
    let r = NegData::Response(NegResponse {
        flags: NegResponseFlags(0),
        length: 8,
        selected_protocol: SecurityProtocols(p),
    });
    encode_connection_confirm(Some(&r)).unwrap()
}

/// Serves one connection as `b` (`tls` is needed by [`Behaviour::SslHandshake`] only).
pub async fn serve_one(mut s: TcpStream, b: Behaviour, tls: Option<TlsAcceptor>) {
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
            let _ = s.write_all(&confirm_selecting(p)).await;
            let mut sink = [0u8; 4096];
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut sink)).await;
        }
        Behaviour::SslHandshake => {
            let _ = s.write_all(&confirm_selecting(1)).await;
            let Some(acceptor) = tls else { return };
            let accepted = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(s)).await;
            if let Ok(Ok(mut t)) = accepted {
                let mut sink = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_secs(2), t.read(&mut sink)).await;
                let _ = tokio::time::timeout(Duration::from_millis(200), t.shutdown()).await;
            }
            return;
        }
        Behaviour::ResetAfterRequest => {
            // A zero linger makes the close a RST; with zero it does not block on drop.
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
            return;
        }
        Behaviour::Drip => {
            for byte in confirm_selecting(1) {
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
        Behaviour::NlaChallenge => {
            let _ = s.write_all(&confirm_selecting(2)).await;
            let Some(acceptor) = tls else { return };
            let accepted = tokio::time::timeout(Duration::from_secs(5), acceptor.accept(s)).await;
            if let Ok(Ok(mut t)) = accepted {
                let mut request = [0u8; 4096];
                if matches!(tokio::time::timeout(Duration::from_secs(2), t.read(&mut request)).await, Ok(Ok(n)) if n > 0)
                {
                    let reply = rdpdiag::wire::credssp::TsRequest {
                        version: 6,
                        nego_tokens: vec![&SPEC_V2_CHALLENGE],
                        auth_info: None,
                        pub_key_auth: None,
                        error_code: None,
                        client_nonce: None,
                    };
                    let _ = t
                        .write_all(&rdpdiag::wire::credssp::encode_ts_request(&reply))
                        .await;
                    let _ = t.flush().await;
                    let mut sink = [0u8; 4096];
                    let _ = tokio::time::timeout(Duration::from_secs(2), t.read(&mut sink)).await;
                }
                let _ = tokio::time::timeout(Duration::from_millis(200), t.shutdown()).await;
            }
            return;
        }
        Behaviour::TlsThenReset => {
            let _ = s.write_all(&confirm_selecting(1)).await;
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
            return;
        }
        Behaviour::TpktGarbage => {
            let _ = s.write_all(&TPKT_GARBAGE).await;
        }
        Behaviour::TlsThenHangUp => {
            let _ = s.write_all(&confirm_selecting(1)).await;
            let mut hello = [0u8; 4096];
            let _ = s.read(&mut hello).await;
            // The classic unusable-certificate server: no ServerHello, no alert, just gone.
        }
        Behaviour::Banner | Behaviour::Silent => {}
    }
    let _ = s.shutdown().await;
}

/// Accepts on `listener` forever, each connection served as `b` on its own task.
pub fn spawn_listener(listener: TcpListener, b: Behaviour, tls: Option<TlsAcceptor>) {
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve_one(s, b, tls.clone()));
        }
    });
}

/// A server on a free 127.0.0.1 port.
pub async fn server(b: Behaviour, tls: Option<TlsAcceptor>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    spawn_listener(listener, b, tls);
    addr
}

/// A TLS acceptor (TLS 1.2 and 1.3, ring) for a DER certificate chain and its PKCS#8 key.
pub fn acceptor(
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
) -> Result<TlsAcceptor, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A self-signed RSA certificate (CN=rdp-lab, 30 days) and its key, made by `openssl req` in `dir`.
pub fn openssl_self_signed(
    dir: &std::path::Path,
) -> Result<
    (
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    ),
    String,
> {
    use rustls::pki_types::pem::PemObject;
    let (cert, key) = (dir.join("lab-cert.pem"), dir.join("lab-key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=rdp-lab",
            "-days",
            "30",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "openssl req: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let chain = rustls::pki_types::CertificateDer::pem_file_iter(&cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| format!("{}: {e}", key.display()))?;
    Ok((chain, key))
}
