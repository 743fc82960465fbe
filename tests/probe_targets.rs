//! `rdpdiag probe` targets as nmap writes them, `--exclude`, `--shard`, `--rate`, and `--targets-file -`
//! streamed from standard input in bounded memory. Every target is on loopback, on a port nothing
//! listens on (a refused connection is the fastest complete answer) or `localhost` (from /etc/hosts).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn rdpdiag() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn probe(args: &[&str]) -> Output {
    rdpdiag()
        .arg("probe")
        .args(["--quick", "--json", "--connect-timeout", "2"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The `target` of each target line of a JSON Lines output, sorted.
fn targets(out: &Output) -> Vec<String> {
    let mut t: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["kind"] == "target")
        .map(|v| v["target"].as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_address_that_is_not_one_is_one_error_line_and_exit_2() {
    for bad in ["300.1.1.1", "10.0.0.5-1", "1.2.3"] {
        let out = probe(&[bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{bad}: no diagnosis");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "rdpdiag: probe: target '{bad}': not an IPv4 address"
            )),
            "{err}"
        );
    }
}

#[test]
fn octet_ranges_lists_and_exclusions() {
    let p = closed_port();
    let out = probe(&[&format!("127.0.0.1-3:{p}")]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(targets(&out), [1, 2, 3].map(|i| format!("127.0.0.{i}:{p}")));
    let out = probe(&[
        &format!("127.0.0.1-5:{p}"),
        &format!("127.0.1.1,7:{p}"),
        "--exclude",
        "127.0.0.2,4",
        "--exclude",
        "127.0.1.7",
    ]);
    assert_eq!(
        targets(&out),
        [
            format!("127.0.0.1:{p}"),
            format!("127.0.0.3:{p}"),
            format!("127.0.0.5:{p}"),
            format!("127.0.1.1:{p}")
        ]
    );
    // A name is excluded by the address it resolves to.
    let out = probe(&[&format!("localhost:{p}"), "--exclude", "127.0.0.0/8"]);
    assert_eq!(targets(&out), Vec::<String>::new(), "{}", stderr(&out));
    // Every target excluded: nothing was probed, so nothing was judged (exit 1, as for a replay).
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let dir = std::env::temp_dir().join(format!("rdpdiag-exclude-{}", std::process::id()));
    std::fs::write(&dir, "# lab\n127.0.0.1 127.0.0.3\n").unwrap();
    let out = probe(&[
        &format!("127.0.0.1-3:{p}"),
        "--excludefile",
        dir.to_str().unwrap(),
    ]);
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(targets(&out), [format!("127.0.0.2:{p}")]);
}

#[test]
fn shards_are_a_deterministic_split() {
    let p = closed_port();
    let range = format!("127.0.0.1-7:{p}");
    let mut all = Vec::new();
    for k in 1..=3 {
        let out = probe(&[&range, "--shard", &format!("{k}/3")]);
        let got = targets(&out);
        let want: Vec<String> = (1..=7u32)
            .filter(|i| (i - 1) % 3 == k - 1)
            .map(|i| format!("127.0.0.{i}:{p}"))
            .collect();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "shard {k}/3");
        all.extend(got);
    }
    assert_eq!(all.len(), 7);
    let out = probe(&[&range, "--shard", "4/3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--shard '4/3'"), "{}", stderr(&out));
}

#[test]
fn rate_spaces_new_connections() {
    let p = closed_port();
    let range = format!("127.0.1.1-12:{p}");
    // --quick: one connection per target; 12 connections at 20/s take at least 11 intervals of 50 ms.
    let started = Instant::now();
    let out = probe(&[&range, "--rate", "20"]);
    let paced = started.elapsed();
    assert_eq!(targets(&out).len(), 12, "{}", stderr(&out));
    assert!(paced >= Duration::from_millis(540), "{paced:?}");
    for bad in ["0", "-3", "nan"] {
        let out = probe(&[&range, "--rate", bad]);
        assert_eq!(out.status.code(), Some(2), "--rate {bad}");
    }
}

/// Peak resident memory of a running process, in KiB (Linux).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn standard_input_is_probed_as_it_comes_in_bounded_memory() {
    let p = closed_port();
    let mut child = rdpdiag()
        .args(["probe", "--quick", "--json", "--targets-file", "-"])
        .args(["--shard", "1/20000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // One line in, one answer out, while the input is still open.
    writeln!(stdin, "127.0.0.1:{p}").unwrap();
    stdin.flush().unwrap();
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(
        first.contains(&format!("\"target\":\"127.0.0.1:{p}\"")),
        "{first}"
    );
    // 200,000 more lines (3.4 MB): the shard keeps every 20,000th, the rest is read and dropped.
    let line = format!("127.0.0.2:{p}\n");
    let block = line.repeat(10_000);
    for _ in 0..20 {
        stdin.write_all(block.as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    // Targets 20,000 .. 180,000 of the shard; wait for all ten answers before the input ends.
    let mut answers = 1;
    let mut line_out = String::new();
    while answers < 11 {
        line_out.clear();
        assert!(stdout.read_line(&mut line_out).unwrap() > 0, "output ended");
        if line_out.contains("\"kind\":\"target\"") {
            answers += 1;
        }
    }
    let peak = peak_rss_kib(child.id());
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
}

#[test]
fn a_bad_line_on_standard_input_is_an_error_line_and_the_rest_is_probed() {
    let p = closed_port();
    let mut child = rdpdiag()
        .args(["probe", "--quick", "--json", "--targets-file", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    write!(stdin, "# scan\n127.0.0.1:{p}\n300.0.0.1\n\n127.0.0.2:{p}\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        targets(&out),
        [format!("127.0.0.1:{p}"), format!("127.0.0.2:{p}")]
    );
    assert_eq!(
        stderr(&out).trim_end(),
        "rdpdiag: probe: standard input: line 3: target '300.0.0.1': not an IPv4 address or range: octet 300 is over 255"
    );
    assert_eq!(out.status.code(), Some(2));
}
