//! The probe states only what it saw, for each way a TCP connect can fail: SYNs dropped by a firewall,
//! a firewall rejecting with ICMP administratively prohibited, and no route at all. Each case runs the
//! rdpdiag binary inside a network namespace the test creates (`ip netns add`, loopback only; nftables
//! rules inside it), so nothing leaves the machine and the host's own rules are not touched. Needs root
//! (CI runs as root; `.ci/run` installs nftables); skipped with a message otherwise.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// A network namespace of this test, deleted when dropped (also on panic).
struct Netns {
    name: String,
    dir: PathBuf,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

fn run(cmd: &mut Command, input: Option<&str>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (is it installed? .ci/run installs nftables)"));
    if let Some(text) = input {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh namespace with loopback up and `rules` (an nftables `input` chain body), or `None` when this
/// is not root.
fn netns(rules: &str) -> Option<Netns> {
    if !root() {
        eprintln!("skipped: creating a network namespace needs root (CI runs as root)");
        return None;
    }
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "rdpdiag-t{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    run(Command::new("ip").args(["netns", "add", &name]), None);
    let dir = std::env::temp_dir().join(&name);
    let ns = Netns {
        name: name.clone(),
        dir,
    };
    std::fs::create_dir_all(&ns.dir).unwrap();
    run(
        Command::new("ip").args(["-n", &name, "link", "set", "lo", "up"]),
        None,
    );
    if !rules.is_empty() {
        let ruleset = format!(
            "table inet rdpdiag {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  {rules}\n }}\n}}\n"
        );
        run(
            Command::new("ip").args(["netns", "exec", &name, "nft", "-f", "-"]),
            Some(&ruleset),
        );
    }
    Some(ns)
}

/// `rdpdiag probe TARGET --json --capture FILE` inside the namespace: the target's JSON object, the
/// exit code and the capture's path.
fn probe(ns: &Netns, target: &str) -> (Value, Option<i32>, PathBuf) {
    let capture = ns.dir.join("probe.pcap");
    let out: Output = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["probe", target, "--json", "--connect-timeout", "1"])
        .arg("--capture")
        .arg(&capture)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["kind"] == "target")
        .unwrap_or_else(|| {
            panic!(
                "no target object in {stdout}; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    (report, out.status.code(), capture)
}

/// The TCP-stage timeline events of the probe's one connection.
fn events(report: &Value) -> Vec<Value> {
    let conns = report["connections"].as_array().unwrap();
    assert_eq!(conns.len(), 1, "a failed connect ends the questions");
    conns[0]["timeline"].as_array().unwrap().clone()
}

/// Every text the report shows about the connection (finding titles and evidence).
fn texts(report: &Value) -> String {
    serde_json::to_string(&report["findings"]).unwrap()
}

/// The frames of a classic little-endian pcap file (as the probe writes it).
fn frames(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.len() >= 24, "a pcap header");
    let mut out = Vec::new();
    let mut at = 24;
    while let Some(h) = bytes.get(at..at + 16) {
        let len = u32::from_le_bytes(h[8..12].try_into().unwrap()) as usize;
        out.push(bytes[at + 16..at + 16 + len].to_vec());
        at += 16 + len;
    }
    out
}

fn is_icmp(frame: &[u8]) -> bool {
    match frame.get(12..14) {
        Some([0x08, 0x00]) => frame.get(23) == Some(&1),
        Some([0x86, 0xdd]) => frame.get(20) == Some(&58),
        _ => false,
    }
}

#[test]
fn dropped_syns_are_no_answer_within_the_timeout_not_a_syn_count() {
    let Some(ns) = netns("tcp dport 3389 drop") else {
        return;
    };
    let (r, code, capture) = probe(&ns, "127.0.0.1:3389");
    assert_eq!(code, Some(1));
    assert_eq!(r["verdict"], "tcp-filtered", "{r:#}");
    let tl = events(&r);
    let kinds: Vec<&str> = tl.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["tcp_syn", "timeout"], "{tl:#?}");
    let waited = tl[1]["waited_us"].as_i64().unwrap();
    assert!((1_000_000..2_000_000).contains(&waited), "{waited}");
    let text = texts(&r);
    assert!(
        text.contains("no answer to the connection attempt within 1.0 s"),
        "{text}"
    );
    assert!(!text.contains("SYN(s)"), "no SYN count: {text}");
    // The capture holds the one SYN the probe started, no invented retransmission.
    let f = frames(&capture);
    assert_eq!(f.len(), 1, "one SYN");
    assert!(!is_icmp(&f[0]));
    // Replayed, the capture shows only what it holds: one SYN, and the capture ends with it. How long the
    // probe waited is not in a pcap of packets, so the replay cannot call it filtered (it would need the
    // capture to go on for its SYN timeout) and makes up no answer-less retransmissions either.
    let mut replayed = Vec::new();
    let (_, err) = rdpdiag::replay::replay_source(
        &rdpdiag::replay::Source::File(capture.to_str().unwrap().to_string()),
        &rdpdiag::replay::ReplayOptions::default(),
        &mut |r| {
            replayed.push(r);
            true
        },
    );
    assert!(err.is_none(), "{err:?}");
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].diagnosis.verdict_id(), "incomplete");
}

#[test]
fn icmp_admin_prohibited_is_reported_as_the_errno_meaning_never_a_code() {
    let Some(ns) = netns("tcp dport 3389 reject with icmp type admin-prohibited") else {
        return;
    };
    let (r, code, capture) = probe(&ns, "127.0.0.1:3389");
    assert_eq!(code, Some(1));
    assert_eq!(r["verdict"], "tcp-unreachable", "{r:#}");
    let tl = events(&r);
    let failed = tl
        .iter()
        .find(|e| e["event"] == "tcp_connect_error")
        .unwrap_or_else(|| panic!("{tl:#?}"));
    assert_eq!(failed["error"], "host_unreachable");
    assert!(
        tl.iter().all(|e| e["event"] != "tcp_syn"),
        "whether a SYN left is not known: {tl:#?}"
    );
    assert!(
        tl.iter().all(|e| e["event"] != "icmp_unreachable"),
        "the probe saw no ICMP message: {tl:#?}"
    );
    let text = texts(&r);
    assert!(
        text.contains(
            "host unreachable or administratively prohibited, reported by the network stack"
        ),
        "{text}"
    );
    assert!(
        !text.contains("type 3") && !text.contains("code 1"),
        "no ICMP type or code: {text}"
    );
    // Nothing was seen on the wire: no packet is written (in particular no made-up ICMP).
    assert!(frames(&capture).iter().all(|f| !is_icmp(f)));
}

#[test]
fn a_refusal_is_an_rst_or_an_icmp_port_unreachable_the_probe_cannot_tell_which() {
    // A firewall's reject with ICMP port unreachable: connect() says ECONNREFUSED, as for an RST.
    let Some(ns) = netns("tcp dport 3389 reject with icmp type port-unreachable") else {
        return;
    };
    let (r, code, capture) = probe(&ns, "127.0.0.1:3389");
    assert_eq!(code, Some(1));
    assert_eq!(r["verdict"], "tcp-refused", "{r:#}");
    let tl = events(&r);
    let kinds: Vec<&str> = tl.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["tcp_syn", "tcp_connect_error"],
        "no tcp_refused (RST) entry: {tl:#?}"
    );
    assert_eq!(tl[1]["error"], "refused");
    let text = texts(&r);
    assert!(
        text.contains("an RST or an ICMP port unreachable"),
        "{text}"
    );
    assert_eq!(r["findings"][0]["confidence"], "likely");
    // The capture holds the SYN that was answered, not an RST or ICMP message the probe did not see.
    let f = frames(&capture);
    assert_eq!(f.len(), 1, "the SYN alone");
    assert!(!is_icmp(&f[0]));
    assert_eq!(
        f[0].get(47),
        Some(&0x02),
        "a bare SYN (TCP flags at byte 47 of the frame)"
    );
}

#[test]
fn ipv6_without_a_route_is_a_local_network_unreachable() {
    // A fresh namespace has no IPv6 route but ::1's: the documentation prefix is unroutable.
    let Some(ns) = netns("") else {
        return;
    };
    let (r, code, capture) = probe(&ns, "[2001:db8::1]:3389");
    assert_eq!(code, Some(1));
    let tl = events(&r);
    let failed = tl
        .iter()
        .find(|e| e["event"] == "tcp_connect_error")
        .unwrap_or_else(|| panic!("{tl:#?}"));
    assert_eq!(failed["error"], "network_unreachable");
    let kinds: Vec<&str> = tl.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["tcp_connect_error"],
        "no SYN left the host: {tl:#?}"
    );
    assert!(
        tl.iter().all(|e| e["event"] != "timeout"
            && e["event"] != "tcp_no_answer"
            && e["event"] != "icmp_unreachable"),
        "{tl:#?}"
    );
    let text = texts(&r);
    assert!(
        text.contains("network unreachable, reported by the network stack"),
        "{text}"
    );
    assert!(!text.contains("unanswered"), "{text}");
    assert!(frames(&capture).is_empty(), "no packet was seen");
}

/// The same judgements without root: the probe's view of a failed connect, played into a session.
mod scripted {
    use rdpdiag::diagnose::{diagnose, Context};
    use rdpdiag::session::{ConnectError, Session, Timestamp, TransportFact};

    fn verdict_and_text(facts: &[(i64, Option<TransportFact>)]) -> (&'static str, String) {
        let mut s = Session::default();
        for (t, fact) in facts {
            match fact {
                Some(f) => s.on_transport(Timestamp(*t), None, f.clone()),
                None => s.on_timeout(Timestamp(*t)),
            }
        }
        let d = diagnose(&s.observation(), &Context::default());
        // The first finding's title and its evidence, in one string.
        let text = d
            .findings
            .first()
            .map(|f| {
                let mut t = f.title.clone();
                for e in &f.evidence {
                    t.push_str(" | ");
                    t.push_str(&e.text);
                }
                t
            })
            .unwrap_or_default();
        (d.verdict_id().as_str(), text)
    }

    #[test]
    fn connect_timeout() {
        let (v, text) = verdict_and_text(&[(0, Some(TransportFact::Syn)), (3_001_000, None)]);
        assert_eq!(v, "tcp-filtered");
        assert!(
            text.ends_with("| no answer to the connection attempt within 3.0 s"),
            "{text}"
        );
    }

    #[test]
    fn connect_errors() {
        for (error, verdict, words) in [
            (
                ConnectError::Refused,
                "tcp-refused",
                "an RST or an ICMP port unreachable",
            ),
            (
                ConnectError::HostUnreachable,
                "tcp-unreachable",
                "host unreachable or administratively prohibited, reported by the network stack",
            ),
            (
                ConnectError::NetworkUnreachable,
                "tcp-unreachable",
                "network unreachable, reported by the network stack",
            ),
            (
                ConnectError::TimedOut,
                "tcp-filtered",
                "the network stack gave up waiting",
            ),
            (
                ConnectError::Other,
                "tcp-unreachable",
                "the network stack failed the connection attempt",
            ),
        ] {
            let fact = TransportFact::ConnectError {
                error,
                os_error: "os words".to_string(),
            };
            let (v, text) = verdict_and_text(&[(0, Some(TransportFact::Syn)), (500, Some(fact))]);
            assert_eq!(v, verdict, "{error:?}");
            assert!(
                text.contains(words) && text.contains("(os words)"),
                "{text}"
            );
        }
    }
}
