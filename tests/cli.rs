//! The binary as users run it: commands, output, exit codes (0 fine, 1 a problem found, 2 could not do the
//! job) and one-line errors naming what and where.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn rdpdiag(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn readme_decode_example() {
    let out = rdpdiag(&["decode", "030000130ed00000123400021f080008000000"], None);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("selectedProtocol HYBRID_EX (0x00000008)"),
        "{stdout}"
    );
    // The README shows this one.
    let out = rdpdiag(&["decode", "030000130ed000001234000300080002000000"], None);
    assert!(text(&out.stdout).contains("failureCode SSL_NOT_ALLOWED_BY_SERVER (0x00000002)"));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(readme.contains("failureCode SSL_NOT_ALLOWED_BY_SERVER (0x00000002)"));
}

#[test]
fn decode_from_stdin_dump_and_errors() {
    let dump = "0000   03 00 00 13 0e d0 00 00 12 34 00 02 1f 08 00 08   .........4......\n0010   00 00 00      ...\n";
    let out = rdpdiag(&["decode"], Some(dump));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Cut short: decoded as far as possible, exit 1.
    let out = rdpdiag(&["decode", "0300001302f0"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("cut short"));
    // Not hex: one line on stderr, exit 2.
    let out = rdpdiag(&["decode", "03zz"], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim(),
        "rdpdiag: decode: arguments: line 1: 'z' is not a hex digit"
    );
}

#[test]
fn explain_codes_and_sentences() {
    let out = rdpdiag(&["explain", "0x904", "0x7"], None);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("disconnectReasonAtClientWinsockFDCLOSE")
            && stdout.contains("ERRINFO_SERVER_DENIED_CONNECTION"),
        "{stdout}"
    );
    let out = rdpdiag(&["explain", "--json", "HYBRID_REQUIRED_BY_SERVER"], None);
    let v: serde_json::Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert!(
        v["causes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "neg-hybrid-required"),
        "{v}"
    );
    let out = rdpdiag(&["explain", "0x904", "NOT_A_CODE"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown code 'NOT_A_CODE'"));
    assert!(text(&out.stdout).contains("0x904"));
}

#[test]
fn every_code_a_rule_explains_is_known_to_explain() {
    for rule in rdpdiag::diagnose::causes::all() {
        for line in rule.explains {
            for word in line.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                if word.starts_with("0x") {
                    assert!(
                        !rdpdiag::explain::explain(word).is_empty(),
                        "rule {} explains {word}, which explain does not know",
                        rule.id
                    );
                }
            }
        }
    }
}

#[test]
fn decode_tls_records_and_mcs() {
    // zeek__rdp-to-ssl.pcap frame 9: ServerHello, Certificate, ServerHelloDone in one TLS 1.0 record.
    let flight = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/wire/tls/rdp-to-ssl_f9_server_flight.hex"
    ))
    .unwrap();
    let out = rdpdiag(&["decode"], Some(&flight));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ServerHello: TLS 1.0 TLS_RSA_WITH_AES_128_CBC_SHA"),
        "{stdout}"
    );
    assert!(stdout.contains("CN=WIN2K8R2.awakecoding.ath.cx issued by CN=WIN2K8R2.awakecoding.ath.cx, 2011-02-12T21:37:35Z to 2021-02-12T00:00:00Z"), "{stdout}");
    // xrdp's clear-text Disconnect Provider Ultimatum, then a fatal handshake_failure alert.
    let out = rdpdiag(&["decode", "0300000902f0802180", "15030300020228"], None);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("MCS Disconnect Provider Ultimatum (rn-user-requested)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("alert handshake_failure (level 2)"),
        "{stdout}"
    );
    // A handshake message cut by the record boundary is said to continue.
    let out = rdpdiag(&["decode", "16030100060100002a0303"], None);
    assert!(
        text(&out.stdout).contains("continues in the next record"),
        "{}",
        text(&out.stdout)
    );
}
