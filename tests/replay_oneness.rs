//! Invariant 2 (one brain) for the replay: every scripted conversation of `tests/diagnose_rules.rs`,
//! written as a pcap by `rdpdiag::capture` and read back by `rdpdiag::replay::replay_source`, gets the
//! diagnosis the same conversation gets when fed straight into a session.
//!
//! What is compared against what:
//! - the direct side is [`Script::capture_view`]: the script with each `Timeout` turned into the end of the
//!   capture, since a capture holds no timeouts (a probe's silence verdict needs the probe's clock);
//! - the context is the one the replay uses: `server_name` = the server's IP address, `warn_days` 30.
//!
//! Timeline entries must be equal, field for field, except for what legitimately differs:
//! - `packet`: the replay numbers capture frames, the direct session numbers script steps;
//! - a trailing `CaptureEnd` the replay adds when the capture ends with the connection still open (one
//!   FIN, or nothing after the last bytes): the capture saw no close, and that is all it can say;
//! - the time of `TcpNoAnswer`: the replay dates it at the last SYN it saw, the script when it gave up.
//!
//! And for whole targets: a probe of a scripted server and the replay of its `--capture`, grouped into
//! targets by `report::build::ProbeRuns`, give the same target-level answers (verdict, how far the
//! default path got, NLA, the answer to each offer, version and cipher hello, the findings).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;
#[path = "common/scripted_server.rs"]
mod scripted_server;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::*;
use proptest::prelude::*;
use rdpdiag::capture::Frame;
use rdpdiag::diagnose::{diagnose, Confidence, Context, Diagnosis, Severity};
use rdpdiag::replay::{replay_source, ReplayOptions, Source};
use rdpdiag::report::ConnectionReport;
use rdpdiag::session::{Entry, Event, Observation};

const WARN_DAYS: i64 = 30;

fn temp(name: &str) -> PathBuf {
    // Tests run in parallel threads of one process: every file gets its own number.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("rdpdiag-oneness-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}-{n}.pcap"))
}

/// Every connection the replay reports for `frames`.
fn replay(name: &str, frames: &[Frame]) -> Vec<ConnectionReport> {
    let path = temp(name);
    write_pcap(&path, frames);
    let opts = ReplayOptions {
        warn_days: WARN_DAYS,
        ..ReplayOptions::default()
    };
    let mut reports = Vec::new();
    let (stats, err) = replay_source(&Source::File(path.display().to_string()), &opts, &mut |r| {
        reports.push(r);
        true
    });
    assert_eq!(err, None, "{name}");
    assert_eq!(stats.undecodable, 0, "{name}: {stats:?}");
    let _ = std::fs::remove_file(&path);
    reports
}

fn direct(script: &Script, server: SocketAddr) -> (Observation, Diagnosis) {
    let ctx = Context {
        server_name: Some(server.ip().to_string()),
        warn_days: WARN_DAYS,
    };
    let obs = script.capture_view().play();
    let d = diagnose(&obs, &ctx);
    (obs, d)
}

/// What must be equal in two diagnoses: outcome, stage, and each finding's id, confidence, severity, title.
fn summary(d: &Diagnosis) -> (String, Vec<String>) {
    (
        format!("{} {:?} {:?}", d.verdict_id(), d.outcome, d.stage_reached),
        d.findings
            .iter()
            .map(|f| format!("{} {:?} {:?}: {}", f.id, f.confidence, f.severity, f.title))
            .collect(),
    )
}

/// An entry with the fields that may differ taken out.
fn comparable(e: &Entry) -> Entry {
    let mut e = e.clone();
    e.packet = None;
    if matches!(e.event, Event::TcpNoAnswer { .. }) {
        e.t_us = 0;
        e.at = Default::default();
    }
    e
}

/// Asserts the two timelines agree (see the module comment for what may differ).
fn assert_same_timeline(name: &str, direct: &[Entry], replayed: &[Entry]) {
    let mut replayed: Vec<Entry> = replayed.iter().map(comparable).collect();
    let direct: Vec<Entry> = direct.iter().map(comparable).collect();
    if replayed.len() == direct.len() + 1
        && replayed
            .last()
            .is_some_and(|e| e.event == Event::CaptureEnd)
    {
        replayed.pop();
    }
    for (i, (d, r)) in direct.iter().zip(&replayed).enumerate() {
        assert_eq!(d, r, "{name}: timeline entry {i} differs");
    }
    assert_eq!(
        direct.len(),
        replayed.len(),
        "{name}: {direct:#?}\n{replayed:#?}"
    );
}

fn check(name: &str, script: &Script, client: &str, server: &str, frames: &[Frame]) {
    let server: SocketAddr = server.parse().unwrap();
    let reports = replay(name, frames);
    assert_eq!(reports.len(), 1, "{name}: {} connections", reports.len());
    let r = &reports[0];
    assert_eq!(r.client.as_deref(), Some(client), "{name}");
    let (obs, d) = direct(script, server);
    assert_same_timeline(name, &obs.timeline.entries, &r.observation.timeline.entries);
    assert_eq!(summary(&d), summary(&r.diagnosis), "{name}");
}

const V4: (&str, &str) = ("192.0.2.10:50100", "192.0.2.20:3389");
const V6: (&str, &str) = ("[::1]:50100", "[::1]:3389");

#[test]
fn every_rule_script_replays_to_the_same_diagnosis() {
    let mut checked = 0;
    for (name, script) in all_scripts() {
        for (client, server) in [V4, V6] {
            // The reporter of an ICMP message is an IPv4 router in the script: an IPv6 capture cannot
            // carry it as written.
            if name == "tcp-unreachable" && server == V6.1 {
                continue;
            }
            let frames: Vec<Frame> = script
                .frames(client.parse().unwrap(), server.parse().unwrap(), |_| 1460)
                .concat();
            check(name, &script, client, server, &frames);
            checked += 1;
        }
    }
    assert!(checked >= 80, "{checked}");
}

/// The conversations the reordering property runs on: each stage of the setup, failing and healthy.
const REORDERED: [&str; 8] = [
    "neg-failure-0x5",
    "not-rdp",
    "tls-server-abort-fin",
    "nla-auth-failed",
    "standard-security-established",
    "healthy-tls",
    "server-silent-after-client-hello",
    "security-layer-mismatch-xrdp-legacy",
];

/// The frames of `script`, each step's data cut at its own MSS, the segments of a step delivered in the
/// order of `keys`, and copies of data segments (retransmissions) delivered again up to a few steps later.
fn reordered(
    script: &Script,
    client: SocketAddr,
    server: SocketAddr,
    mss: &[usize],
    keys: &[u32],
    dups: &[(usize, usize)],
) -> Vec<Frame> {
    let mut groups = script.frames(client, server, |n| mss[n % mss.len()]);
    let mut k = 0;
    for (group, (_, step)) in groups.iter_mut().zip(&script.steps) {
        if matches!(step, Step::Bytes(..)) {
            let mut keyed: Vec<(u32, Frame)> = group
                .drain(..)
                .map(|f| {
                    k += 1;
                    (keys[k % keys.len()], f)
                })
                .collect();
            keyed.sort_by_key(|(key, _)| *key);
            group.extend(keyed.into_iter().map(|(_, f)| f));
        }
    }
    let data_steps: Vec<usize> = (0..groups.len())
        .filter(|&n| matches!(script.steps[n].1, Step::Bytes(..)) && !groups[n].is_empty())
        .collect();
    for &(pick, later) in dups {
        let from = data_steps[pick % data_steps.len()];
        let frame = groups[from][pick % groups[from].len()].clone();
        let to = (from + later % 3).min(groups.len() - 1);
        groups[to].push(frame);
    }
    groups.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// STYLE: any split, order within a flight, and duplication of segments gives the same diagnosis.
    #[test]
    fn split_reordered_duplicated_segments_diagnose_the_same(
        which in 0..REORDERED.len(),
        mss in prop::collection::vec(4usize..300, 1..8),
        keys in prop::collection::vec(any::<u32>(), 1..16),
        dups in prop::collection::vec((any::<usize>(), any::<usize>()), 0..6),
        v6 in any::<bool>(),
        odd_port in any::<bool>(),
    ) {
        let name = REORDERED[which];
        let script = named(name);
        let (client, server) = match (v6, odd_port) {
            (false, false) => V4,
            (false, true) => ("192.0.2.10:50100", "192.0.2.20:13389"),
            (true, false) => V6,
            (true, true) => ("[::1]:50100", "[::1]:13389"),
        };
        let frames = reordered(
            &script,
            client.parse().unwrap(),
            server.parse().unwrap(),
            &mss,
            &keys,
            &dups,
        );
        check(name, &script, client, server, &frames);
    }
}

/// Regression: on a port that is not 3389 the flow table decided "RDP or not" on the first payload
/// segment alone, so a Connection Request in segments shorter than a TPKT + X.224 header, or whose first
/// segment came late, was ignored. The stream's first bytes decide now.
#[test]
fn rdp_on_another_port_in_tiny_or_late_segments_is_found() {
    let (client, server) = ("192.0.2.10:50100", "192.0.2.20:13389");
    let script = named("neg-failure-0x5");
    let (c, s) = (client.parse().unwrap(), server.parse().unwrap());
    let tiny: Vec<Frame> = script.frames(c, s, |_| 1).concat();
    check("tiny segments", &script, client, server, &tiny);
    let late = reordered(&script, c, s, &[4], &[1, 0, 0, 0, 0, 0, 0, 0], &[]);
    check("first segment late", &script, client, server, &late);
}

/// Regression: a `not_rdp` entry showed as many first bytes as the first segment happened to carry.
#[test]
fn foreign_first_bytes_do_not_depend_on_segment_sizes() {
    let script = named("not-rdp");
    let (c, s) = (V4.0.parse().unwrap(), V4.1.parse().unwrap());
    check(
        "not-rdp",
        &script,
        V4.0,
        V4.1,
        &script.frames(c, s, |_| 3).concat(),
    );
}

/// A segment missing from the capture becomes a capture gap in the timeline, and the verdict does not
/// claim certainty about what the missing bytes said.
#[test]
fn a_missing_segment_is_a_capture_gap() {
    for (name, dir) in [
        ("neg-failure-0x5", S),
        ("tls-server-abort-fin", C),
        ("tls-server-abort-fin", S),
        ("nla-auth-failed", S),
        ("healthy-tls", S),
    ] {
        let script = named(name);
        let (c, s): (SocketAddr, SocketAddr) = (V4.0.parse().unwrap(), V4.1.parse().unwrap());
        let groups = script.frames(c, s, |_| 8);
        // The first data segment from `dir` that has more data of its step after it.
        let step = script
            .steps
            .iter()
            .zip(&groups)
            .position(|((_, st), g)| matches!(st, Step::Bytes(d, _) if *d == dir) && g.len() > 1)
            .unwrap();
        let mut frames = Vec::new();
        for (n, g) in groups.iter().enumerate() {
            frames.extend(g.iter().skip(usize::from(n == step)).cloned());
        }
        let reports = replay(name, &frames);
        assert_eq!(reports.len(), 1, "{name}");
        let r = &reports[0];
        let gap = r
            .observation
            .timeline
            .entries
            .iter()
            .find(|e| matches!(e.event, Event::CaptureGap { .. }));
        assert!(
            gap.is_some_and(|g| g.dir == Some(dir)),
            "{name}: {:#?}",
            r.observation.timeline
        );
        for f in &r.diagnosis.findings {
            let after_gap = f.evidence.iter().any(|e| e.t_us >= gap.unwrap().t_us);
            assert!(
                !(after_gap
                    && f.confidence < Confidence::Possible
                    && f.severity == Severity::Failure),
                "{name} {dir:?}: {:?}",
                summary(&r.diagnosis)
            );
        }
    }
}

/// What a target report says that a capture of the probe can say too: everything but what the probe
/// read inside TLS (the NTLM CHALLENGE, a TLS 1.3 chain) and the findings drawn from that chain.
fn target_answers(r: &rdpdiag::report::target::TargetReport, chain_seen: bool) -> String {
    let mut ciphers: Vec<_> = r
        .ciphers
        .iter()
        .map(|c| format!("{} {}: {}", c.version, c.suite, c.answer))
        .collect();
    ciphers.sort();
    let findings: Vec<String> = r
        .findings
        .iter()
        .filter(|f| chain_seen || !f.id.as_str().starts_with("cert-"))
        .map(|f| format!("{} {:?} {:?}", f.id, f.confidence, f.severity))
        .collect();
    let chain = if chain_seen {
        format!("{:?}", r.certificate)
    } else {
        String::new()
    };
    let mut labels: Vec<_> = r.connections.iter().map(|c| c.label.clone()).collect();
    labels.sort();
    format!(
        "verdict {}\nreached {:?}\nnla {}\nprotocols {:#?}\nversions {:#?}\nciphers {ciphers:#?}\ntls {:?}\n\
         findings {findings:#?}\nconnections {labels:#?}\nchain {chain}",
        r.verdict, r.reached, r.nla, r.protocols, r.tls_versions, r.tls
    )
}

/// Probes a scripted server and writes the probe's `--capture`: the live report, the server, the file.
async fn probe_with_capture(
    name: &str,
    b: scripted_server::Behaviour,
    tls: bool,
    ciphers: bool,
) -> (rdpdiag::probe::Probed, SocketAddr, PathBuf) {
    use rdpdiag::probe::target::{Host, Target};
    use rdpdiag::probe::{probe_target, ProbeOptions};
    let acceptor = tls.then(|| {
        let dir =
            std::env::temp_dir().join(format!("rdpdiag-oneness-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (chain, key) = scripted_server::openssl_self_signed(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        scripted_server::acceptor(chain, key).unwrap()
    });
    let addr = scripted_server::server(b, acceptor).await;
    let t = Target {
        given: addr.to_string(),
        host: Host::Ip(addr.ip()),
        port: addr.port(),
    };
    let opts = ProbeOptions {
        connect_timeout: std::time::Duration::from_secs(1),
        step_timeout: std::time::Duration::from_millis(1500),
        deadline: std::time::Duration::from_secs(30),
        ciphers,
        warn_days: WARN_DAYS,
        ..ProbeOptions::default()
    };
    let live = probe_target(t, std::sync::Arc::new(opts)).await;
    let path = temp(name);
    let mut cap = rdpdiag::probe::capture_file::open_probe_capture(path.to_str().unwrap()).unwrap();
    cap.write_probe(addr, &live.captures).unwrap();
    cap.finish().unwrap();
    (live, addr, path)
}

/// Probes a scripted server, writes the probe's `--capture`, replays it, and judges the replayed
/// connections as one target: both target reports must give the same answers.
async fn probe_and_replay(name: &str, b: scripted_server::Behaviour, tls: bool, ciphers: bool) {
    let (live, addr, path) = probe_with_capture(name, b, tls, ciphers).await;
    let opts = ReplayOptions {
        warn_days: WARN_DAYS,
        ..ReplayOptions::default()
    };
    let mut runs = rdpdiag::report::build::ProbeRuns::new(WARN_DAYS);
    let (_, err) = replay_source(&Source::File(path.display().to_string()), &opts, &mut |r| {
        assert!(
            runs.add(r).is_ok_and(|judged| judged.is_empty()),
            "{name}: every connection of the capture is the probe's"
        );
        true
    });
    let _ = std::fs::remove_file(&path);
    assert_eq!(err, None, "{name}");
    let replayed = runs.finish();
    assert_eq!(replayed.len(), 1, "{name}: one target");
    let replayed = &replayed[0];
    assert_eq!(replayed.address.as_deref(), Some(addr.to_string().as_str()));
    assert_eq!(
        replayed.connections.len(),
        live.report.connections.len(),
        "{name}"
    );
    let chain_seen = !replayed.certificate.is_empty();
    assert_eq!(
        target_answers(&live.report, chain_seen),
        target_answers(replayed, chain_seen),
        "{name}: the live probe (left) and the replay of its capture (right) differ"
    );
}

/// Invariant 2 for targets: the probe's target-level judgements are rules over observations, so the
/// replay of `probe --capture` names the same facts, for every kind of server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_and_the_replay_of_its_capture_judge_the_target_alike() {
    use scripted_server::Behaviour;
    for (name, b, tls, ciphers) in [
        (
            "standard-security-selected",
            Behaviour::Select(0),
            false,
            false,
        ),
        ("ssl-not-allowed", Behaviour::Refuse(2), false, false),
        ("hybrid-required", Behaviour::Refuse(5), false, false),
        ("reset", Behaviour::ResetAfterRequest, false, false),
        ("tls-hang-up", Behaviour::TlsThenHangUp, false, false),
        ("tls", Behaviour::SslHandshake, true, true),
        ("nla", Behaviour::NlaChallenge, true, false),
    ] {
        probe_and_replay(name, b, tls, ciphers).await;
    }
}

/// `rdpdiag replay --as-probe` prints the probe's target report for its capture, with the probe's exit code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_as_probe_prints_the_target_the_probe_printed() {
    let (live, addr, path) =
        probe_with_capture("cli", scripted_server::Behaviour::Select(0), false, false).await;
    let run = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rdpdiag"));
        cmd.args(["replay", "--as-probe", "--color", "never"]);
        if json {
            cmd.arg("--json");
        }
        cmd.arg(&path).output().unwrap()
    };
    let text = run(false);
    let out = run(true);
    let _ = std::fs::remove_file(&path);
    assert_eq!(text.status.code(), Some(1));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains(&format!(
            "target {addr} ({addr}): verdict neg-ssl-not-allowed"
        )),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1), "a failure verdict: exit 1");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let targets: Vec<&serde_json::Value> = lines.iter().filter(|v| v["kind"] == "target").collect();
    assert_eq!(targets.len(), 1, "{lines:#?}");
    let t = targets[0];
    assert_eq!(t["verdict"], live.report.verdict.as_str());
    assert_eq!(t["verdict"], "neg-ssl-not-allowed");
    assert_eq!(t["address"], addr.to_string());
    assert_eq!(t["nla"], live.report.nla);
    assert_eq!(
        t["connections"].as_array().unwrap().len(),
        live.report.connections.len()
    );
    assert_eq!(
        serde_json::to_value(&live.report.protocols).unwrap(),
        t["protocols"]
    );
    let last = lines.last().unwrap();
    assert_eq!(last["kind"], "summary", "{last}");
}
