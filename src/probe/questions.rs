//! The questions the probe asks a target, each on its own connection: what the server selects for each
//! security-protocol offer, the full TLS handshake a default Windows client would make (with rustls and a
//! verifier that records the chain instead of trusting it), which TLS versions it accepts (hand-built
//! ClientHellos: rustls cannot speak TLS 1.0/1.1), and what its CredSSP/NTLM CHALLENGE tells. It never
//! sends credentials.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::report::target::ServerInfo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::conn::{
    self, close, connect, hello_answered, lock, read_until, send, x224_answered, Connected, Record,
    Shared,
};
use crate::session::{Direction, Event, Observation};
use crate::wire::credssp::{encode_ts_request, parse_ts_request, TsRequest};
use crate::wire::ntlm::{encode_negotiate, parse_challenge, AvId, NegotiateFlags, NtlmVersion};
use crate::wire::rdp_neg::SecurityProtocols;
use crate::wire::tls::{
    encode_client_hello, CipherSuite, ClientHelloSpec, ProtocolVersion, LEGACY_CIPHER_SUITES,
    TLS12_CIPHER_SUITES, TLS13_CIPHER_SUITES,
};
use crate::wire::x224::{encode_connection_request, ConnectionRequestSpec};

pub use crate::diagnose::PROBE_COOKIE;

use crate::diagnose::target::Question;
pub use crate::diagnose::target::{selected, WINDOWS_DEFAULT_OFFER};

/// Timeouts for one target.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub connect: Duration,
    pub step: Duration,
}

/// One question's connection: what was asked, and what was seen.
#[derive(Debug)]
pub struct Asked {
    pub label: String,
    pub record: Record,
    pub observation: Observation,
}

fn new_record() -> Shared {
    Arc::new(Mutex::new(Record {
        capture_budget: 2 * 1024 * 1024,
        ..Record::default()
    }))
}

fn done(label: impl Into<String>, record: Shared) -> Asked {
    let observation = conn::finish(&record);
    // Take the contents, whoever else still holds the record (a stream not yet dropped).
    let record = std::mem::take(&mut *lock(&record));
    Asked {
        label: label.into(),
        record,
        observation,
    }
}

fn connection_request(requested: Option<SecurityProtocols>) -> Vec<u8> {
    let spec = ConnectionRequestSpec {
        cookie: Some(PROBE_COOKIE),
        requested_protocols: requested,
        ..Default::default()
    };
    encode_connection_request(&spec).unwrap_or_default()
}

/// Connects and sends a Connection Request with `requested`; returns the stream when TCP came up.
async fn negotiate(
    addr: SocketAddr,
    requested: Option<SecurityProtocols>,
    t: Timing,
    record: &Shared,
) -> Option<conn::Tee> {
    let Connected::Up(mut stream) = connect(addr, t.connect, record).await else {
        return None;
    };
    if !send(&mut stream, &connection_request(requested), t.step).await {
        return None;
    }
    let _ = read_until(&mut stream, record, t.step, x224_answered).await;
    Some(stream)
}

/// Question 2: one security-protocol offer (`None`: no RDP_NEG_REQ at all, as a legacy client).
pub async fn ask_offer(
    addr: SocketAddr,
    label: &str,
    requested: Option<SecurityProtocols>,
    t: Timing,
) -> Asked {
    let record = new_record();
    if let Some(mut stream) = negotiate(addr, requested, t, &record).await {
        // Under standard security a server that wants TLS says so next, with a disconnect: wait for it.
        let standard = {
            let obs = lock(&record).session.observation();
            obs.timeline.entries.iter().any(|e| {
                matches!(
                    e.event,
                    Event::ConnectionConfirm {
                        selected_protocol: None | Some(0),
                        ..
                    }
                )
            })
        };
        if standard {
            // The disconnect is the server's immediate reaction to the request: wait a few round trips of
            // the request/confirm exchange (at least 100 ms, at most 1 s), not a fixed second.
            let rtt = {
                let rec = lock(&record);
                let entries = &rec.session.timeline().entries;
                let at = |pred: fn(&Event) -> bool| {
                    entries.iter().find(|e| pred(&e.event)).map(|e| e.t_us)
                };
                match (
                    at(|e| matches!(e, Event::ConnectionRequest { .. })),
                    at(|e| matches!(e, Event::ConnectionConfirm { .. })),
                ) {
                    (Some(a), Some(b)) => {
                        Duration::from_micros(u64::try_from(b.saturating_sub(a)).unwrap_or(0))
                    }
                    _ => Duration::from_secs(1),
                }
            };
            let wait = (rtt * 4)
                .clamp(Duration::from_millis(100), Duration::from_secs(1))
                .min(t.step);
            let disconnected = |entries: &[crate::session::Entry]| {
                entries.iter().any(|e| {
                    matches!(
                        e.event,
                        Event::McsDisconnectUltimatum { .. } | Event::X224Disconnect { .. }
                    )
                })
            };
            if read_until(&mut stream, &record, wait, disconnected).await == conn::Stop::Silent {
                // Silence here is the answer (the server waits for MCS), not a timeout worth a finding.
                lock(&record).session.forget_timeout();
            }
        }
        close(&mut stream, &record).await;
    }
    done(label, record)
}

/// A verifier that records the server's chain and accepts it: the probe judges certificates itself.
#[derive(Debug)]
struct RecordingVerifier {
    chain: Arc<Mutex<Vec<Vec<u8>>>>,
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self
            .chain
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        chain.clear();
        chain.push(end_entity.to_vec());
        chain.extend(intermediates.iter().map(|c| c.to_vec()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _m: &[u8],
        _c: &CertificateDer<'_>,
        _d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _m: &[u8],
        _c: &CertificateDer<'_>,
        _d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

/// The default Windows client's path, as far as the probe can go without credentials.
#[derive(Debug)]
pub struct DefaultPath {
    pub asked: Asked,
    /// The chain rustls saw (TLS 1.3 included, where the wire shows none).
    pub chain: Vec<Vec<u8>>,
    pub tls: Option<(String, String)>,
    pub ntlm: Option<ServerInfo>,
}

/// Questions 1, 3, 5 and 6: the Windows default offer, the TLS handshake with rustls, then (for
/// HYBRID/HYBRID_EX) a TSRequest with an NTLM NEGOTIATE, reading the CHALLENGE back. No credentials.
pub async fn ask_default(addr: SocketAddr, sni: Option<&str>, t: Timing) -> DefaultPath {
    let record = new_record();
    let mut path = DefaultPath {
        asked: Asked {
            label: String::new(),
            record: Record::default(),
            observation: Observation::default(),
        },
        chain: Vec::new(),
        tls: None,
        ntlm: None,
    };
    let Some(mut stream) = negotiate(addr, Some(WINDOWS_DEFAULT_OFFER), t, &record).await else {
        path.asked = done(Question::Default.label(), record);
        return path;
    };
    let chosen = selected(&lock(&record).session.observation());
    match chosen {
        Some(sel) if sel.uses_tls() => {
            let chain = Arc::new(Mutex::new(Vec::new()));
            if let Some(mut tls) = tls_handshake(stream, sni, addr, chain.clone(), t).await {
                {
                    let (_, c) = tls.get_ref();
                    path.tls = Some((
                        c.protocol_version().map_or_else(
                            || "?".to_string(),
                            |v| ProtocolVersion(u16::from(v)).to_string(),
                        ),
                        c.negotiated_cipher_suite().map_or_else(
                            || "?".to_string(),
                            |s| crate::wire::tls::CipherSuite(u16::from(s.suite())).to_string(),
                        ),
                    ));
                    if sel.uses_credssp() {
                        path.ntlm = credssp_challenge(&mut tls, t).await;
                    }
                    // close_notify, then our FIN: recorded only when the shutdown went through.
                    if let Ok(Ok(())) =
                        tokio::time::timeout(Duration::from_millis(200), tls.shutdown()).await
                    {
                        lock(&record).fact(crate::session::TransportFact::Fin(
                            Direction::ClientToServer,
                        ));
                    }
                }
            }
            path.chain = chain.lock().map(|c| c.clone()).unwrap_or_default();
        }
        _ => close(&mut stream, &record).await,
    }
    path.asked = done(Question::Default.label(), record);
    path
}

async fn tls_handshake(
    stream: conn::Tee,
    sni: Option<&str>,
    addr: SocketAddr,
    chain: Arc<Mutex<Vec<Vec<u8>>>>,
    t: Timing,
) -> Option<tokio_rustls::client::TlsStream<conn::Tee>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let schemes = provider
        .signature_verification_algorithms
        .supported_schemes();
    let verifier = Arc::new(RecordingVerifier { chain, schemes });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = match sni.map(|s| ServerName::try_from(s.to_string())) {
        Some(Ok(n)) => n,
        _ => ServerName::IpAddress(addr.ip().into()),
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    match tokio::time::timeout(t.step, connector.connect(name, stream)).await {
        Ok(Ok(tls)) => Some(tls),
        _ => None,
    }
}

/// Sends a TSRequest (version 6) carrying an NTLM NEGOTIATE and reads the server's TSRequest back.
async fn credssp_challenge(
    tls: &mut tokio_rustls::client::TlsStream<conn::Tee>,
    t: Timing,
) -> Option<ServerInfo> {
    let version = NtlmVersion {
        major: 10,
        minor: 0,
        build: 19041,
        revision: 15,
    };
    let negotiate = encode_negotiate(NegotiateFlags(0xE208_8235), Some(version));
    let request = TsRequest {
        version: 6,
        nego_tokens: vec![&negotiate],
        auth_info: None,
        pub_key_auth: None,
        error_code: None,
        client_nonce: None,
    };
    if tokio::time::timeout(t.step, tls.write_all(&encode_ts_request(&request)))
        .await
        .ok()?
        .is_err()
    {
        return None;
    }
    let _ = tokio::time::timeout(t.step, tls.flush()).await;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match parse_ts_request(&buf) {
            Ok((_, ts)) => return Some(ntlm_info(&ts)),
            Err(nom::Err::Incomplete(_)) if buf.len() < 64 * 1024 => {}
            _ => return None,
        }
        match tokio::time::timeout(t.step, tls.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(chunk.get(..n)?),
            _ => return None,
        }
    }
}

fn ntlm_info(ts: &TsRequest<'_>) -> ServerInfo {
    let mut info = ServerInfo {
        credssp_version: Some(ts.version),
        error_code: ts.error_code.map(|c| c.to_string()),
        ..ServerInfo::default()
    };
    if let Some(Ok((_, ch))) = ts.nego_tokens.first().map(|t| parse_challenge(t)) {
        info.target_name = Some(ch.target_name_text()).filter(|s| !s.is_empty());
        info.netbios_computer = ch.av_text(AvId::MSV_AV_NB_COMPUTER_NAME);
        info.netbios_domain = ch.av_text(AvId::MSV_AV_NB_DOMAIN_NAME);
        info.dns_computer = ch.av_text(AvId::MSV_AV_DNS_COMPUTER_NAME);
        info.dns_domain = ch.av_text(AvId::MSV_AV_DNS_DOMAIN_NAME);
        info.dns_tree = ch.av_text(AvId::MSV_AV_DNS_TREE_NAME);
        info.os_version = ch
            .version
            .map(|v| format!("{}.{}.{}", v.major, v.minor, v.build));
    }
    info
}

/// Question 4: does the server accept a ClientHello offering only `version`?
pub async fn ask_tls_version(
    addr: SocketAddr,
    version: ProtocolVersion,
    sni: Option<&str>,
    t: Timing,
) -> Asked {
    let suites = match version {
        ProtocolVersion::TLS1_3 => TLS13_CIPHER_SUITES,
        ProtocolVersion::TLS1_2 => TLS12_CIPHER_SUITES,
        _ => LEGACY_CIPHER_SUITES,
    };
    ask_hello(
        addr,
        Question::Version(version).label(),
        version,
        suites,
        sni,
        t,
    )
    .await
}

/// `--ciphers`: does the server accept a ClientHello offering only `suite` (with `version`)?
pub async fn ask_cipher(
    addr: SocketAddr,
    version: ProtocolVersion,
    suite: CipherSuite,
    sni: Option<&str>,
    t: Timing,
) -> Asked {
    ask_hello(
        addr,
        Question::Cipher(version, suite).label(),
        version,
        &[suite],
        sni,
        t,
    )
    .await
}

/// The suites `--ciphers` asks about: TLS 1.3's with a TLS 1.3 hello, the rest with a TLS 1.2 hello.
pub fn cipher_questions() -> Vec<(ProtocolVersion, CipherSuite)> {
    let v13 = TLS13_CIPHER_SUITES
        .iter()
        .map(|s| (ProtocolVersion::TLS1_3, *s));
    let v12 = TLS12_CIPHER_SUITES
        .iter()
        .chain(LEGACY_CIPHER_SUITES)
        .map(|s| (ProtocolVersion::TLS1_2, *s));
    let mut out: Vec<(ProtocolVersion, CipherSuite)> = Vec::new();
    for q in v13.chain(v12) {
        if !out.iter().any(|(_, s)| *s == q.1) {
            out.push(q);
        }
    }
    out
}

/// Sends a hand-built ClientHello offering `version` and `suites` after the default offer's confirm.
async fn ask_hello(
    addr: SocketAddr,
    label: String,
    version: ProtocolVersion,
    suites: &[CipherSuite],
    sni: Option<&str>,
    t: Timing,
) -> Asked {
    let record = new_record();
    let Some(mut stream) = negotiate(addr, Some(WINDOWS_DEFAULT_OFFER), t, &record).await else {
        return done(label, record);
    };
    if selected(&lock(&record).session.observation()).is_some_and(SecurityProtocols::uses_tls) {
        let spec = ClientHelloSpec {
            version,
            random: random32(),
            session_id: &[],
            cipher_suites: suites,
            sni,
            x25519_key_share: X25519_BASEPOINT_MULTIPLE,
        };
        if let Ok(hello) = encode_client_hello(&spec) {
            if send(&mut stream, &hello, t.step).await {
                let _ = read_until(&mut stream, &record, t.step, hello_answered).await;
            }
        }
    }
    close(&mut stream, &record).await;
    done(label, record)
}

/// A valid-looking x25519 public key: any 32 bytes get a ServerHello or an alert back.
const X25519_BASEPOINT_MULTIPLE: [u8; 32] = [
    0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
    0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
];

fn random32() -> [u8; 32] {
    // Not secret: a ClientHello random only has to differ between connections.
    let mut x = u64::from_ne_bytes(conn::now().0.to_ne_bytes()) | 1;
    let mut r = [0u8; 32];
    for b in &mut r {
        // xorshift64
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x.to_be_bytes()[0];
    }
    r
}

/// The label of each negotiation question, and what it offers.
pub fn offers() -> Vec<(&'static str, Option<SecurityProtocols>)> {
    crate::diagnose::target::OFFERS.to_vec()
}
