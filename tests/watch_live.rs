//! `rdpdiag watch -i lo` on real loopback traffic: a tiny in-test server refuses an X.224 Connection
//! Request with RDP_NEG_FAILURE, and watch reports that connection with the matching `neg-...` verdict.
//! It needs capture rights (root, or CAP_NET_RAW): without them it fails and says so, since CI runs as root.
//! Bounded: watch stops by itself after 6 s, and the test kills it after 20 s whatever happens.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdpdiag::wire::rdp_neg::{FailureCode, NegData, NegFailure, SecurityProtocols};
use rdpdiag::wire::x224::{
    encode_connection_confirm, encode_connection_request, ConnectionRequestSpec,
};

/// SSL_NOT_ALLOWED_BY_SERVER.
const FAILURE_CODE: u32 = 2;
const EXPECTED_VERDICT: &str = "neg-ssl-not-allowed";

#[test]
fn watch_reports_a_refused_negotiation_on_loopback() {
    // A free port: bound now, served below (watch's filter names it before anything is sent).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut watch = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["watch", "-i", "lo", "--filter"])
        .arg(format!("tcp port {port}"))
        .args(["--for", "6", "--json", "--port"])
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    if let Some(status) = watch.try_wait().unwrap() {
        let mut err = String::new();
        watch
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let lower = err.to_lowercase();
        if lower.contains("permission") || lower.contains("operation not permitted") {
            panic!(
                "rdpdiag watch -i lo needs capture rights (run as root or with CAP_NET_RAW): {err}"
            );
        }
        panic!("rdpdiag watch exited early ({status}): {err}");
    }

    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = [0u8; 512];
        let n = s.read(&mut request).unwrap();
        assert!(n >= 11, "short Connection Request: {n} bytes");
        let failure = NegData::Failure(NegFailure {
            flags: 0,
            length: 8,
            failure_code: FailureCode(FAILURE_CODE),
        });
        s.write_all(&encode_connection_confirm(Some(&failure)).unwrap())
            .unwrap();
        // The server hangs up after its answer, as Windows does.
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let request = encode_connection_request(&ConnectionRequestSpec {
        cookie: Some("watch-test"),
        requested_protocols: Some(SecurityProtocols(1)),
        ..Default::default()
    })
    .unwrap();
    client.write_all(&request).unwrap();
    let mut answer = Vec::new();
    let _ = client.read_to_end(&mut answer);
    drop(client);
    server.join().unwrap();
    assert!(answer.len() >= 19, "no Connection Confirm: {answer:?}");

    // watch stops after --for 6 s; never wait more than 20 s.
    let started = Instant::now();
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(20) {
            watch.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut out = String::new();
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    watch
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        status.is_some(),
        "watch did not stop after --for 6: {out}\n{err}"
    );
    let connections: Vec<serde_json::Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["kind"] == "connection")
        .collect();
    assert_eq!(connections.len(), 1, "stdout: {out}\nstderr: {err}");
    let c = &connections[0];
    assert_eq!(c["verdict"], EXPECTED_VERDICT, "{c:#}");
    assert!(
        c["server"].as_str().unwrap().ends_with(&format!(":{port}")),
        "{c:#}"
    );
    // A failure was diagnosed: exit code 1.
    assert_eq!(status.unwrap().code(), Some(1), "{err}");
}

/// Ctrl-C (SIGINT) stops `watch` cleanly: the start line on stderr first (as tcpdump's), then on
/// interrupt the JSON summary, marked interrupted, and exit 130. Needs capture rights like the test above.
#[test]
fn watch_says_where_it_listens_and_stops_on_ctrl_c_with_a_summary() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let filter = format!("tcp port {port}");
    let mut watch = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args([
            "watch", "-i", "lo", "--json", "--for", "30", "--filter", &filter,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        watch.try_wait().unwrap().is_none(),
        "watch exited early (capture rights?)"
    );
    // The shell's own `kill` (procps may be missing on a minimal machine).
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", watch.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(10) {
            watch.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = watch.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(code, Some(130), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.lines().next().unwrap_or_default(),
        format!("listening on lo, link-type EN10MB (Ethernet), filter \"{filter}\"")
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(summary["kind"], "summary", "{stdout}");
    assert_eq!(summary["interrupted"], true, "{stdout}");
    assert_eq!(summary["connections"], 0, "{stdout}");
}
