//! Nothing from the wire reaches the terminal raw (issue 12 §5, ARCHITECTURE invariant 9): a server whose
//! certificate names carry a screen-clearing ESC sequence, a NUL and a bidi override, and a client whose
//! cookie and SNI carry control characters, replayed from a capture through the binary. The text report
//! shows every such character as a visible escape; the JSON keeps the exact strings.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::process::{Command, Output};

use common::*;
use rdpdiag::wire::tls::{
    encode_client_hello, ClientHelloSpec, ProtocolVersion, TLS12_CIPHER_SUITES,
};

/// The CN of `fixtures/wire/certs/rdp-to-ssl-win2k8r2.der` (subject and issuer: it is self-issued).
const CN: &[u8] = b"WIN2K8R2.awakecoding.ath.cx";
/// As many bytes, hostile: clear the screen, a NUL, then a right-to-left override that makes
/// `moc.elpmaxe.pdr` read as `rdp.example.com`.
const HOSTILE_CN: &str = "\x1b[2J\0evil\u{202e}moc.elpmaxe.pdr";

/// The certificate with its CN replaced (same length, as a UTF8String). Nothing checks its signature
/// on the way to the report, so the names are what a hostile server would send.
fn hostile_certificate() -> Vec<u8> {
    assert_eq!(HOSTILE_CN.len(), CN.len());
    let mut der = fixture_bin("certs/rdp-to-ssl-win2k8r2.der");
    let mut patched = 0;
    let mut at = 0;
    while let Some(pos) = der[at..].windows(CN.len()).position(|w| w == CN) {
        let start = at + pos;
        // tag, length, value
        assert_eq!(usize::from(der[start - 1]), CN.len());
        der[start - 2] = 0x0c; // UTF8String
        der[start..start + CN.len()].copy_from_slice(HOSTILE_CN.as_bytes());
        patched += 1;
        at = start + CN.len();
    }
    assert_eq!(patched, 2, "subject and issuer");
    der
}

/// A ClientHello whose SNI carries an ESC sequence (a client's choice, as the cookie is).
fn hostile_client_hello() -> Vec<u8> {
    let spec = ClientHelloSpec {
        version: ProtocolVersion::TLS1_2,
        random: [7; 32],
        session_id: &[],
        cipher_suites: TLS12_CIPHER_SUITES,
        sni: Some("srv\x1b[31m.example"),
        x25519_key_share: [9; 32],
    };
    encode_client_hello(&spec).unwrap()
}

fn capture(name: &str) -> std::path::PathBuf {
    let der = hostile_certificate();
    let request = rdpdiag::wire::x224::encode_connection_request(
        &rdpdiag::wire::x224::ConnectionRequestSpec {
            cookie: Some("adm\u{7}in\u{9b}2J"),
            requested_protocols: Some(rdpdiag::wire::rdp_neg::SecurityProtocols::SSL),
            ..Default::default()
        },
    )
    .unwrap();
    let script = Script::new(1_400_000_000)
        .connect()
        .bytes(C, request)
        .select(1)
        .bytes(C, hostile_client_hello())
        .bytes(S, server_flight_with(&[&der], 0x0303))
        .wait(1.0)
        .alert(C, 42)
        .fin(C);
    let client: SocketAddr = "192.0.2.10:50000".parse().unwrap();
    let server: SocketAddr = "192.0.2.20:3389".parse().unwrap();
    let frames: Vec<_> = script
        .frames(client, server, |_| 1460)
        .into_iter()
        .flatten()
        .collect();
    let dir = std::env::temp_dir().join(format!("rdpdiag-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pcap"));
    write_pcap(&path, &frames);
    path
}

fn rdpdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(args)
        .output()
        .unwrap()
}

/// No byte a terminal would act on: no C0 control but newline, no DEL, no C1, no bidi control.
fn assert_terminal_safe(text: &str) {
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line
            .chars()
            .find(|&c| rdpdiag::report::escape::is_unsafe_char(c))
        {
            panic!("line {n} carries U+{:04X} raw: {line:?}", u32::from(c));
        }
    }
}

#[test]
fn hostile_names_are_escaped_in_text_and_exact_in_json() {
    let path = capture("text");
    let file = path.to_str().unwrap();

    let out = rdpdiag(&["replay", "--color", "never", "--timeline", file]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_terminal_safe(&text);
    // The subject as RFC 4514 writes it (x509-parser hex-escapes ESC and NUL), the override escaped by us.
    assert!(
        text.contains("certificate CN=\\1B[2J\\00evil\\u{202e}moc.elpmaxe.pdr until"),
        "the certificate subject, escaped:\n{text}"
    );
    // The common name as the rules quote it, escaped by us.
    assert!(
        text.contains("\\x1b[2J\\x00evil\\u{202e}moc.elpmaxe.pdr"),
        "the common name, escaped:\n{text}"
    );
    assert!(
        text.contains("adm\\x07in\\u{9b}2J"),
        "the cookie, escaped:\n{text}"
    );
    assert!(
        text.contains("srv\\x1b[31m.example"),
        "the SNI, escaped:\n{text}"
    );

    let out = rdpdiag(&["replay", "--json", file]);
    let json = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    let entries = first["timeline"].as_array().unwrap();
    let cert = entries
        .iter()
        .find(|e| e["event"] == "tls_certificate")
        .unwrap();
    assert_eq!(
        cert["chain"][0]["common_names"][0].as_str(),
        Some(HOSTILE_CN),
        "{cert}"
    );
    let request = entries
        .iter()
        .find(|e| e["event"] == "connection_request")
        .unwrap();
    assert_eq!(request["cookie"].as_str(), Some("adm\u{7}in\u{9b}2J"));
    let hello = entries
        .iter()
        .find(|e| e["event"] == "tls_client_hello")
        .unwrap();
    assert_eq!(hello["sni"].as_str(), Some("srv\x1b[31m.example"));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn decode_escapes_what_it_prints() {
    let der = hostile_certificate();
    let flight = server_flight_with(&[&der], 0x0303);
    let mut input = hex::encode(&flight);
    input.push(' ');
    input.push_str(&hex::encode(hostile_client_hello()));
    let out = rdpdiag(&["decode", &input]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_terminal_safe(&text);
    assert!(
        text.contains("CN=\\1B[2J\\00evil\\u{202e}moc.elpmaxe.pdr issued by"),
        "{text}"
    );
    assert!(text.contains("server_name srv\\x1b[31m.example"), "{text}");
    // A pasted control character is named escaped in the one-line error.
    let out = rdpdiag(&["decode", "03\u{1b}[2J"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_terminal_safe(&err);
    assert!(err.contains("'\\x1b' is not a hex digit"), "{err}");
}

#[test]
fn explain_escapes_a_pasted_code() {
    let out = rdpdiag(&["explain", "0x\u{1b}[2J"]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert_terminal_safe(&err);
    assert!(err.contains("unknown code '0x\\x1b[2J'"), "{err}");
}
