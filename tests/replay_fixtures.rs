//! `rdpdiag replay` on the real public captures in `fixtures/pcaps/`: each connection's verdict and stage,
//! the facts the corpus truth states, and the errors a user can hit (one line naming file and packet).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/pcaps/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The binary with `args`, its standard streams piped.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = spawn(args);
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// The connection objects of a `--json` run.
fn connections(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "connection")
        .collect()
}

fn verdicts(file: &str, ports: &[&str]) -> Vec<String> {
    let path = fixture(file);
    let mut args = vec!["replay", "--json", path.as_str()];
    for p in ports {
        args.extend(["--port", p]);
    }
    let out = run(&args, None);
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    connections(&out)
        .iter()
        .map(|c| {
            format!(
                "{}@{}",
                c["verdict"].as_str().unwrap(),
                c["stage_reached"].as_str().unwrap()
            )
        })
        .collect()
}

fn finding_ids(c: &serde_json::Value) -> Vec<String> {
    c["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn rdp_captures_give_their_expected_verdicts() {
    let expected: &[(&str, &[&str])] = &[
        // RDP_NEG_FAILURE SSL_NOT_ALLOWED_BY_SERVER, then the retry with standard security works.
        (
            "zeek__rdp-proprietary-encryption.pcap",
            &["neg-ssl-not-allowed@negotiation", "healthy@established"],
        ),
        // NLA over TLS 1.0: the first connection stops at the certificate prompt (the certificate does
        // not name the address used), the second is a session.
        (
            "zeek__rdp-to-ssl.pcap",
            &["cert-name-mismatch@cred_ssp", "healthy@established"],
        ),
        // Standard security: the capture ends at the MCS connect response, before any licensing PDU.
        ("zeek__rdp-x509.pcap", &["incomplete@standard_security"]),
        (
            "zeek__rdp-unknown-keyboard.pcap",
            &["incomplete@standard_security"],
        ),
        // The client resets right after the handshake; the certificate does not name the address used.
        (
            "zeek__rdp-no-cookie-mstshash.pcap",
            &["cert-name-mismatch@cred_ssp"],
        ),
        (
            "zeek__rdp-invalid-length.pcap",
            &["malformed-reply@x224_request"],
        ),
        ("suricata-verify__RDP-003.pcap", &["healthy@established"]),
        ("ndpi__rdp.pcap", &["incomplete@secure_channel"]),
        ("ndpi__rdp3.pcap", &["healthy@established"]),
        ("ndpi__rdp_over_tls.pcap", &["nla-auth-failed@cred_ssp"]),
        // RDP behind a SOCKS5 handshake on port 42356, found by content; the capture ends after the confirm.
        ("arkime__socks5-rdp.pcap", &["incomplete@standard_security"]),
        // Only RDP over UDP (RDPEUDP): no TCP connection setup to analyse.
        ("ndpi__rdp2.pcap", &[]),
    ];
    for (file, want) in expected {
        assert_eq!(verdicts(file, &[]), *want, "{file}");
    }
}

#[test]
fn port_scan_reports_the_refused_rdp_port() {
    let v = verdicts("ndpi__tcp_scan.pcapng", &[]);
    assert_eq!(v, ["tcp-refused@tcp"]);
}

#[test]
fn tls_failure_captures_through_the_direct_approach() {
    // HTTPS captures of TLS failures: the client starts TLS at once, so the TLS rules judge them.
    let expected: &[(&str, &str, &[&str])] = &[
        (
            "zeek-tls__tls-1.2-handshake-failure.pcap",
            "443",
            &["tls-no-shared-cipher@tls_handshake"],
        ),
        (
            "zeek-tls__tls13draft16-ff52.a01-aborted.pcap",
            "443",
            &[
                "tls-version-mismatch@tls_handshake",
                "tls-version-mismatch@tls_handshake",
            ],
        ),
        (
            "zeek-tls__tls13draft16-chrome55.0.2879.0-canary-aborted.pcap",
            "443",
            &[
                "tls-version-mismatch@tls_handshake",
                "tls-version-mismatch@tls_handshake",
            ],
        ),
        (
            "zeek-tls__certificate-request-failed.pcap",
            "3000",
            &["neg-ssl-with-user-auth-required@tls_handshake"],
        ),
        (
            "zeek-tls__https-to-http.pcap",
            "80",
            &["not-rdp@tls_handshake"],
        ),
        (
            "zeek-tls__ssl-to-http-server.pcap",
            "80",
            &["not-rdp@tls_handshake"],
        ),
        (
            "zeek-tls__tls-1.2-protocol-error.pcap",
            "443",
            &["malformed-reply@tls_handshake"],
        ),
        (
            "zeek-tls__tls1.2-late-protocol-error.pcap",
            "443",
            &["malformed-reply@tls_handshake"],
        ),
        // TLS 1.3 after a HelloRetryRequest: the handshake completes (frame 13), the server sends its
        // tickets, and the client closes 0.8 s later without sending data: no setup beyond TLS to see.
        // The handshake completes; the client then sends only an encrypted alert and closes.
        (
            "zeek-tls__hrr.pcap",
            "443",
            &["client-aborted-after-handshake@secure_channel"],
        ),
        ("zeek-tls__tls1.2.pcap", "443", &["healthy@established"]),
        (
            "zeek-tls__tls-expired-cert.pcap",
            "443",
            &["healthy@established", "healthy@established"],
        ),
        (
            "zeek-tls__tls-early-alert.pcap",
            "64132",
            &["incomplete@secure_channel"],
        ),
        (
            "zeek-tls__ssl-v2.pcap",
            "443",
            &["incomplete@tls_handshake"],
        ),
    ];
    for (file, port, want) in expected {
        assert_eq!(verdicts(file, &[port]), *want, "{file}");
    }
    // Without --port, content decides: a TLS ClientHello on 443 is not RDP, so nothing is reported.
    assert!(verdicts("zeek-tls__tls1.2.pcap", &[]).is_empty());
}

#[test]
fn certificate_facts_from_captures() {
    // The expired leaf of tls-expired-cert.pcap (the connection went on: an advisory), judged at capture time.
    let path = fixture("zeek-tls__tls-expired-cert.pcap");
    let out = run(&["replay", "--json", "--port", "443", &path], None);
    let first = &connections(&out)[0];
    let expired = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "cert-expired")
        .unwrap();
    assert_eq!(expired["severity"], "advisory");
    // zeek__rdp-x509.pcap: standard RDP security with a 512-bit X.509 chain.
    let path = fixture("zeek__rdp-x509.pcap");
    let c = &connections(&run(&["replay", "--json", &path], None))[0];
    let ids = finding_ids(c);
    assert!(
        ids.contains(&"weak-standard-rdp-security".to_string())
            && ids.contains(&"cert-weak-key".to_string()),
        "{ids:?}"
    );
    // ndpi__rdp_over_tls.pcap: VLAN-tagged; the certificate and the TLS version as tshark saw them.
    let path = fixture("ndpi__rdp_over_tls.pcap");
    let c = &connections(&run(&["replay", "--json", &path], None))[0];
    let cert = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "tls_certificate")
        .unwrap();
    assert_eq!(cert["chain"][0]["subject"], "CN=topsalon");
    assert_eq!(
        cert["chain"][0]["not_after_display"],
        "2025-01-25T06:03:40Z"
    );
    assert_eq!(cert["packet"], 7);
    let sh = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "tls_server_hello")
        .unwrap();
    assert_eq!(
        sh["cipher_suite_name"],
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    );
}

#[test]
fn stdin_filter_and_expect() {
    let bytes = std::fs::read(fixture("zeek__rdp-proprietary-encryption.pcap")).unwrap();
    let out = run(&["replay", "--json", "-"], Some(&bytes));
    assert_eq!(connections(&out).len(), 2);
    // One failed connection: exit 1 without --expect.
    assert_eq!(out.status.code(), Some(1));
    let out = run(
        &[
            "replay",
            "-q",
            "--expect",
            "neg-ssl-not-allowed,healthy",
            "-",
        ],
        Some(&bytes),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = run(&["replay", "-q", "--expect", "healthy", "-"], Some(&bytes));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(
        "mismatch 172.21.128.16:1311 -> 10.226.24.52:3389: neg-ssl-not-allowed (expected healthy)"
    ));
    // A BPF filter keeps only the second connection.
    let out = run(
        &["replay", "--json", "--filter", "tcp port 1312", "-"],
        Some(&bytes),
    );
    let c = connections(&out);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["client"], "172.21.128.16:1312");
}

#[test]
fn errors_name_the_file_and_packet() {
    let dir = std::env::temp_dir().join(format!("rdpdiag-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Not a capture.
    let text = dir.join("notes.txt");
    std::fs::write(&text, "not a capture at all\n").unwrap();
    let out = run(&["replay", text.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!("rdpdiag: {}: ", text.display())) && err.lines().count() == 1,
        "{err}"
    );
    // A truncated last packet: what came before is still analysed.
    let mut bytes = std::fs::read(fixture("zeek__rdp-proprietary-encryption.pcap")).unwrap();
    bytes.truncate(bytes.len() - 20);
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes).unwrap();
    let out = run(&["replay", "--json", cut.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cut.pcap: packet ") && err.contains("truncated"),
        "{err}"
    );
    assert_eq!(
        connections(&out).len(),
        2,
        "what came before the cut is analysed"
    );
    // An unknown link type (147, USER0).
    let mut pcap = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 147, 0, 0, 0,
    ];
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&[4, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4]);
    let user0 = dir.join("user0.pcap");
    std::fs::write(&user0, &pcap).unwrap();
    let out = run(&["replay", user0.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("link type 147"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A missing file.
    let out = run(&["replay", "/nonexistent/capture.pcap"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("rdpdiag: /nonexistent/capture.pcap: ")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn hello_retry_request_then_the_second_hellos_in_the_clear() {
    // Regression (found by tests/tshark_diff.rs): after a HelloRetryRequest and the middlebox-compatibility
    // ChangeCipherSpec records (RFC 8446 §D.4), the second ClientHello (frame 8) and the real ServerHello
    // (frame 11, after a segment it overtook) are plaintext; they were taken for encrypted records.
    let path = fixture("zeek-tls__hrr.pcap");
    let c = &connections(&run(&["replay", "--json", "--port", "443", &path], None))[0];
    let hellos: Vec<(u64, &str, bool)> = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "tls_client_hello" || e["event"] == "tls_server_hello")
        .map(|e| {
            (
                e["packet"].as_u64().unwrap(),
                e["event"].as_str().unwrap(),
                e["hello_retry_request"] == true,
            )
        })
        .collect();
    assert_eq!(
        hellos,
        [
            (4, "tls_client_hello", false),
            (6, "tls_server_hello", true),
            (8, "tls_client_hello", false),
            (11, "tls_server_hello", false),
        ]
    );
    let done = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "tls_handshake_done")
        .unwrap();
    assert_eq!(done["version_name"], "TLS 1.3");
    assert_eq!(done["packet"], 13, "the client's Finished");
    // Before the fix the client's Finished was taken for data and the connection for established. After
    // the handshake the client sends only a 19-byte record (an encrypted TLS 1.3 alert) and leaves.
    assert_eq!(c["verdict"], "client-aborted-after-handshake");
    assert_eq!(c["stage_reached"], "secure_channel");
}

#[test]
fn a_flow_given_up_at_the_hold_limit_is_said_in_the_summary() {
    use rdpdiag::capture::{PcapWriter, TcpConversation};
    use rdpdiag::session::Direction;
    // A client on a non-RDP port whose first segment is lost, then many one-byte segments: its first bytes
    // never come in order, so the flow cannot be classified; that must be said, not dropped silently.
    let client = "127.0.0.1:50000".parse().unwrap();
    let server = "127.0.0.1:40000".parse().unwrap();
    let mut conv = TcpConversation::new(client, server, 1000, 2000);
    let mut frames = conv.handshake(1_700_000_000_000_000, 100);
    let _lost = conv.data(1_700_000_000_001_000, Direction::ClientToServer, &[1, 2, 3]);
    for i in 0..70 {
        frames.extend(conv.data(
            1_700_000_000_002_000 + i,
            Direction::ClientToServer,
            &[0x41],
        ));
    }
    let path = std::env::temp_dir().join(format!("rdpdiag-held-limit-{}.pcap", std::process::id()));
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    w.frames(&frames).unwrap();
    w.into_inner().unwrap();
    let source = rdpdiag::replay::Source::File(path.to_str().unwrap().to_string());
    let (stats, err) = rdpdiag::replay::replay_source(
        &source,
        &rdpdiag::replay::ReplayOptions::default(),
        &mut |_| true,
    );
    std::fs::remove_file(&path).ok();
    assert!(err.is_none(), "{err:?}");
    assert_eq!(stats.flows.held_limit_hits, 1);
    assert!(
        stats
            .notes
            .iter()
            .any(|n| n.contains("were not classified")),
        "{:?}",
        stats.notes
    );
}

/// `tcpdump -w - | rdpdiag replay -`: a connection is reported when it ends, while standard input is
/// still open (not when a batch fills or the pipe closes).
#[test]
fn standard_input_reports_each_connection_as_it_ends() {
    use std::io::BufRead;
    let mut child = spawn(&["replay", "--json", "-"]);
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(&std::fs::read(fixture("ndpi__tcp_scan.pcapng")).unwrap())
        .unwrap();
    input.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("no report while standard input was still open");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["kind"], "connection", "{first}");
    assert_eq!(v["verdict"], "tcp-refused", "{first}");
    drop(input);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}

/// A client's retry with a smaller offer is one attempt: zeek__rdp-proprietary-encryption.pcap asks for
/// SSL, is refused (SSL_NOT_ALLOWED_BY_SERVER), and 2.6 s later connects with standard RDP security.
#[test]
fn a_fallback_retry_is_reported_as_one_attempt() {
    let out = run(
        &[
            "replay",
            "--json",
            &fixture("zeek__rdp-proprietary-encryption.pcap"),
        ],
        None,
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|v| v["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["connection", "connection", "attempt", "summary"]);
    let a = &lines[2];
    assert_eq!(a["client"], "172.21.128.16");
    assert_eq!(a["server"], "10.226.24.52:3389");
    assert_eq!(a["outcome"], "established");
    assert_eq!(a["verdict"], "healthy");
    assert_eq!(a["recovered"], true);
    assert_eq!(a["fallback"], "SSL -> RDP");
    let tries: Vec<(&str, &str)> = a["tries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["client"].as_str().unwrap(),
                t["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tries,
        [
            ("172.21.128.16:1311", "neg-ssl-not-allowed"),
            ("172.21.128.16:1312", "healthy")
        ]
    );
    assert_eq!(a["tries"][1]["t_us"], 2_584_012);
    assert_eq!(lines[3]["attempts_with_retries"], 1);
    assert_eq!(lines[3]["attempts_recovered"], 1);
    // The text report says the same; the exit code still counts the failed connection.
    let text = run(
        &["replay", &fixture("zeek__rdp-proprietary-encryption.pcap")],
        None,
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("attempt 172.21.128.16 -> 10.226.24.52:3389  2 tries")
            && stdout.contains("offers SSL -> RDP  ESTABLISHED on try 2"),
        "{stdout}"
    );
    assert_eq!(text.status.code(), Some(1));
}

/// RDP's UDP transport is listed in the summary's notes (not diagnosed): the corpus's RDPEUDP captures.
#[test]
fn rdp_udp_transport_flows_are_listed() {
    let notes = |file: &str| -> Vec<String> {
        let out = run(&["replay", "--json", &fixture(file)], None);
        let summary: serde_json::Value = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["kind"] == "summary")
            .unwrap();
        assert_eq!(summary["connections"], 0, "{file}");
        summary["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    let fail = notes("zeek__rdpeudp-handshake-fail.pcap");
    assert!(
        fail[0].contains("1 flow(s)") && fail[0].contains("1 SYN(s) unanswered"),
        "{fail:?}"
    );
    assert!(
        fail[1].contains("udp 192.168.38.1:63568 -> 192.168.38.102:3389 (from packet 1): 3 SYN(s), version RDPUDP_PROTOCOL_VERSION_2, no SYN+ACK: unanswered; 3 datagram(s)"),
        "{fail:?}"
    );
    let v1 = notes("zeek__rdpeudp-handshake-success.pcap");
    assert!(
        v1[1].contains("udp [::1]:61291 -> [::1]:3389 (from packet 1): 1 SYN(s), SYN+ACK at packet 2, version RDPUDP_PROTOCOL_VERSION_2, then the client's datagrams: established; 10 datagram(s)"),
        "{v1:?}"
    );
    let v2 = notes("zeek__rdpeudp2-handshake-success.pcap");
    assert!(
        v2[1].contains("version RDPUDP_PROTOCOL_VERSION_3") && v2[1].contains("established"),
        "{v2:?}"
    );
    // Three unrelated captures merged, one picked up mid-stream.
    let merged = notes("ndpi__rdp2.pcap");
    assert!(merged[0].contains("3 flow(s)"), "{merged:?}");
    assert!(
        merged[2].contains(
            "udp 10.8.37.100:51652 -> 10.100.2.87:3389 (from packet 7): picked up mid-stream"
        ),
        "{merged:?}"
    );
    // No TCP RDP connection: the summary says what the capture held.
    assert!(
        merged[4].contains("no RDP connection found; the input held 39 packets, 0 TCP flows"),
        "{merged:?}"
    );
    assert_eq!(merged.len(), 5, "{merged:?}");
}

#[test]
fn a_proxied_connection_names_the_proxy_and_the_tunnelled_server() {
    let path = fixture("arkime__socks5-rdp.pcap");
    let out = run(&["replay", "--json", path.as_str()], None);
    let conns = connections(&out);
    assert_eq!(conns.len(), 1, "{conns:?}");
    assert_eq!(conns[0]["server"], "10.0.0.2:42356");
    assert_eq!(conns[0]["tunnelled_server"], "10.0.0.1:3389");
    let out = run(&["replay", "--color", "never", path.as_str()], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("10.0.0.3:2276 -> 10.0.0.2:42356 (a proxy) -> 10.0.0.1:3389  "),
        "{text}"
    );
    // A direct connection has no such field.
    let direct = fixture("zeek__rdp-to-ssl.pcap");
    let out = run(&["replay", "--json", direct.as_str()], None);
    assert!(connections(&out)
        .iter()
        .all(|c| c.get("tunnelled_server").is_none()));
}
