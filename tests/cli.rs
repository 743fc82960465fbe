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

fn fixture(name: &str) -> String {
    format!("{}/fixtures/pcaps/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The binary with extra environment variables (and none of the colour ones it did not ask for).
fn rdpdiag_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdpdiag"));
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "TERM", "CI"] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rdpdiag-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sends SIGINT to a child, as Ctrl-C in its terminal would.
fn interrupt(child: &std::process::Child) {
    // The shell's own `kill` (procps may be missing on a minimal machine).
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for a child at most `limit`, killing it past that.
fn wait_at_most(child: &mut std::process::Child, limit: std::time::Duration) -> Option<i32> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Removes ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_is_painted_after_padding_and_follows_the_environment() {
    let capture = fixture("ndpi__rdp_over_tls.pcap");
    let plain = rdpdiag_env(&["replay", &capture], &[]);
    let plain = text(&plain.stdout);
    assert!(!plain.contains('\x1b'), "no colour into a pipe: {plain}");
    let forced = rdpdiag_env(&["replay", &capture], &[("CLICOLOR_FORCE", "1")]);
    let forced = text(&forced.stdout);
    assert!(forced.contains("\x1b["), "CLICOLOR_FORCE colours: {forced}");
    // The same columns once the escapes are taken out: the time column did not shift.
    assert_eq!(strip_ansi(&forced), plain);
    let always = rdpdiag_env(&["replay", "--color", "always", &capture], &[]);
    assert_eq!(strip_ansi(&text(&always.stdout)), plain);
    // NO_COLOR wins over CLICOLOR_FORCE; --color never over everything.
    for (args, env) in [
        (
            vec!["replay", capture.as_str()],
            vec![("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        ),
        (
            vec!["replay", "--color", "never", capture.as_str()],
            vec![("CLICOLOR_FORCE", "1")],
        ),
    ] {
        let out = rdpdiag_env(&args, &env);
        assert_eq!(text(&out.stdout), plain, "{args:?} {env:?}");
    }
}

/// On a pseudo-terminal (util-linux `script`): colour by default, none with TERM=dumb, CLICOLOR=0 or
/// NO_COLOR, and the ladder's columns the same either way.
#[test]
fn colour_on_a_terminal() {
    let capture = fixture("ndpi__rdp_over_tls.pcap");
    let on_tty = |env: &str| {
        let cmd = format!(
            // CI unset too: anstream keeps colour on a terminal whose TERM says no when CI is set (as it
            // is where .ci/run runs), and this test is about TERM, CLICOLOR and NO_COLOR.
            "env -u NO_COLOR -u CLICOLOR -u CLICOLOR_FORCE -u CI {env} {} replay {capture}",
            env!("CARGO_BIN_EXE_rdpdiag")
        );
        let out = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("util-linux `script` runs the binary on a pseudo-terminal");
        text(&out.stdout).replace("\r\n", "\n")
    };
    let coloured = on_tty("TERM=xterm-256color");
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    let plain = text(&rdpdiag_env(&["replay", &capture], &[]).stdout);
    assert_eq!(strip_ansi(&coloured), plain);
    for env in [
        "TERM=dumb",
        "TERM=xterm CLICOLOR=0",
        "TERM=xterm NO_COLOR=1",
    ] {
        assert_eq!(on_tty(env), plain, "{env}");
    }
    // The time column ends at the same place on every ladder line.
    let ends: Vec<usize> = plain
        .lines()
        .filter(|l| l.contains(" ms  ") && l.starts_with("  "))
        .map(|l| l.chars().count() - l.split(" ms  ").nth(1).unwrap().chars().count())
        .collect();
    assert!(
        ends.len() >= 5 && ends.windows(2).all(|w| w[0] == w[1]),
        "{plain}"
    );
}

#[test]
fn usage_errors_exit_2_before_reading() {
    let capture = fixture("ndpi__rdp_over_tls.pcap");
    for (args, want) in [
        (
            vec!["replay", "--expect", "no-such-cause", &capture],
            "unknown verdict id 'no-such-cause'",
        ),
        (
            vec!["replay", "--expect", "", &capture],
            "no verdict id given",
        ),
        (
            vec!["replay", "--max-flows", "0", &capture],
            "the smallest value is 16",
        ),
        (
            vec!["replay", "--max-rdp-flows", "0", &capture],
            "the smallest value is 1",
        ),
        (
            vec!["replay", "--max-flow-bytes", "100", &capture],
            "the smallest value is 4096",
        ),
        (
            vec!["replay", "-", "-"],
            "standard input (-) can be read only once",
        ),
        (
            vec!["watch", "-i", "lo", "--count", "0"],
            "the smallest value is 1",
        ),
        (
            vec!["probe", "--concurrency", "0", "127.0.0.1"],
            "the smallest value is 1",
        ),
    ] {
        let out = rdpdiag(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing analysed");
    }
    // The unknown id's message lists the ids there are.
    let out = rdpdiag(&["replay", "--expect", "tls-servr-abort", &capture], None);
    let err = text(&out.stderr);
    assert!(
        err.contains("tls-server-abort") && err.contains("healthy"),
        "{err}"
    );
    // A bad BPF filter: one line for two files, before either is read.
    let out = rdpdiag(&["replay", "--filter", "hots 1", &capture, &capture], None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stderr).starts_with("rdpdiag: --filter \"hots 1\": "));
    assert!(out.stdout.is_empty());
}

#[test]
fn file_errors_in_plain_words_and_in_the_json_summary() {
    let dir = temp_dir("files");
    let empty = dir.join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    let empty = empty.to_str().unwrap();
    for (file, why) in [
        ("missing.pcap", "no such file"),
        ("/dev/null", "empty file"),
        (empty, "empty file"),
    ] {
        let out = rdpdiag(&["replay", file], None);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert_eq!(
            text(&out.stderr).trim_end(),
            format!("rdpdiag: {file}: {why}")
        );
    }
    let out = rdpdiag(&["replay", "-"], Some(""));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "rdpdiag: standard input: empty file"
    );
    // JSON consumers see the errors without reading stderr; what could be read is still reported.
    let capture = fixture("ndpi__rdp_over_tls.pcap");
    let out = rdpdiag(&["replay", "--json", "missing.pcap", &capture], None);
    assert_eq!(out.status.code(), Some(2));
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["connections"], 1);
    assert_eq!(summary["errors"][0], "missing.pcap: no such file");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn exit_codes_scripts_can_trust() {
    // A failure diagnosed: 1; every connection established: 0.
    let failed = fixture("ndpi__rdp_over_tls.pcap");
    assert_eq!(
        rdpdiag(&["replay", "-q", &failed], None).status.code(),
        Some(1)
    );
    let healthy = fixture("ndpi__rdp3.pcap");
    assert_eq!(
        rdpdiag(&["replay", "-q", &healthy], None).status.code(),
        Some(0)
    );
    // An observation that ended mid-setup (incomplete): 1, unless --expect names it.
    let incomplete = fixture("arkime__socks5-rdp.pcap");
    let out = rdpdiag(&["replay", "--json", &incomplete], None);
    assert_eq!(json_lines(&out)[0]["outcome"], "incomplete");
    assert_eq!(out.status.code(), Some(1));
    let out = rdpdiag(
        &["replay", "-q", "--expect", "incomplete", &incomplete],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    // Nothing to judge (no RDP connection in the capture): 1, and said so.
    let none = fixture("zeek-tls__tls1.2.pcap");
    let out = rdpdiag(&["replay", &none], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("no RDP connection found"),
        "{}",
        text(&out.stdout)
    );
    let out = rdpdiag(&["replay", "-q", "--expect", "healthy", &none], None);
    assert_eq!(out.status.code(), Some(1));
    // A closed standard output (`| head -1`) keeps the exit code of what was found.
    for capture in [&failed, &healthy] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
            .args(["replay", "--timeline", capture.as_str(), capture.as_str()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader went away before the first line
        let out = child.wait_with_output().unwrap();
        let want = if capture == &failed { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(want), "{}", text(&out.stderr));
        assert!(
            out.stderr.is_empty(),
            "a closed pipe is no error: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn replay_from_a_pipe_stops_on_ctrl_c_with_its_summary() {
    let bytes = std::fs::read(fixture("zeek__rdp-proprietary-encryption.pcap")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["replay", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(&bytes).unwrap();
    input.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    interrupt(&child);
    // Ctrl-C in a shell reaches the writer of the pipe too: it goes away.
    std::thread::sleep(std::time::Duration::from_millis(200));
    drop(input);
    let code = wait_at_most(&mut child, std::time::Duration::from_secs(20));
    let out = child.wait_with_output().unwrap();
    assert_eq!(code, Some(130), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary", "{}", text(&out.stdout));
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["connections"], 2, "what was read is still reported");
}

#[test]
fn probe_stops_on_ctrl_c_with_its_summary() {
    // A server that accepts and never answers: each question waits for its 30 s timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let target = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args([
            "probe",
            "--json",
            "--timeout",
            "30",
            "--deadline",
            "60",
            &target,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    interrupt(&child);
    let code = wait_at_most(&mut child, std::time::Duration::from_secs(10));
    let out = child.wait_with_output().unwrap();
    assert_eq!(code, Some(130), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(summary["targets"], 0);
    assert!(
        summary["notes"][0]
            .as_str()
            .unwrap()
            .contains("0 of 1 targets"),
        "{summary}"
    );
}

#[test]
fn probe_summary_counts_targets_and_checks_name_the_port() {
    // A port nothing listens on: bound, then freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let out = rdpdiag(&["probe", "--quick", &target], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("verdict tcp-refused"), "{stdout}");
    assert!(
        stdout.contains("summary: 1 target(s) (1 connection(s)): 1 failed"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("findstr :{port}")), "{stdout}");
    assert!(!stdout.contains(":3389"), "{stdout}");
    let out = rdpdiag(&["probe", "--quick", "--json", &target], None);
    let lines = json_lines(&out);
    assert_eq!(lines.last().unwrap()["targets"], 1);
    let checks = lines[0]["connections"][0]["findings"][0]["host_checks"].to_string();
    assert!(checks.contains(&format!("findstr :{port}")), "{checks}");
}

#[test]
fn a_service_that_is_not_rdp_is_called_so() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in listener.incoming().flatten() {
            let mut buf = [0u8; 512];
            let _ = std::io::Read::read(&mut c, &mut buf);
            let _ = c.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        }
    });
    let dir = temp_dir("not-rdp");
    let capture = dir.join("probe.pcap");
    let capture = capture.to_str().unwrap();
    let target = format!("127.0.0.1:{port}");
    let out = rdpdiag(&["probe", "--capture", capture, &target], None);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("verdict not-rdp"), "{stdout}");
    assert!(stdout.contains("  not RDP: "), "{stdout}");
    assert!(!stdout.contains("security protocols"), "{stdout}");
    // Replaying the probe's own capture: each question is a connection of its own, not a retry.
    let out = rdpdiag(&["replay", "--json", capture], None);
    let lines = json_lines(&out);
    let connections = lines.iter().filter(|l| l["kind"] == "connection").count();
    assert!(connections > 1, "{}", text(&out.stdout));
    assert!(
        lines.iter().all(|l| l["kind"] != "attempt"),
        "{}",
        text(&out.stdout)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Many targets on a terminal: the progress bar on stderr is cleared before the summary, which starts
/// its own line.
#[test]
fn the_progress_bar_is_cleared_before_the_summary() {
    // A server that accepts and stays silent: each target waits for its 1 s step timeout.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let target = format!("127.0.0.1:{port}");
    let targets = [target.as_str(); 12].join(" ");
    let cmd = format!(
        "{} probe --quick --timeout 1 --color never {targets}",
        env!("CARGO_BIN_EXE_rdpdiag")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the binary on a pseudo-terminal");
    let screen = text(&out.stdout);
    assert!(
        screen.contains("probing ["),
        "the bar was drawn: {screen:?}"
    );
    let summary = screen
        .split(['\n', '\r'])
        .find(|l| l.contains("summary: "))
        .unwrap_or_else(|| panic!("{screen:?}"));
    assert!(
        summary
            .trim_start_matches("\x1b[2K")
            .starts_with("summary: 12 target(s)"),
        "{summary:?} in {screen:?}"
    );
    // Nothing of the bar is left on the summary's line, nor after it.
    let after = &screen[screen.find("summary: ").unwrap()..];
    assert!(!after.contains("targets, eta"), "{after:?}");
}

#[test]
fn explain_names_an_unknown_code_inside_a_sentence() {
    let out = rdpdiag(
        &["explain", "error code 0x904, extended error code 0x999"],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("disconnectReasonAtClientWinsockFDCLOSE"));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown code '0x999'") && err.lines().count() == 1,
        "{err}"
    );
    // Every code known: exit 0, nothing on stderr.
    let out = rdpdiag(
        &["explain", "error code 0x904, extended error code 0x7"],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn decode_names_the_layer_once() {
    let out = rdpdiag(
        &[
            "decode",
            "--as",
            "tls",
            "030000130ed000001234000300080002000000",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("TLS record").count(), 1, "{stdout}");
}

#[test]
fn timeline_in_text_is_text() {
    let out = rdpdiag(
        &["replay", "--timeline", &fixture("ndpi__rdp_over_tls.pcap")],
        None,
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("C->S  connection_request cookie=WDeployAd")
            && stdout.contains("S->C  connection_confirm ")
            && stdout.contains("selected=HYBRID"),
        "{stdout}"
    );
    assert!(!stdout.contains("{\"event\""), "{stdout}");
}

#[test]
fn completions_and_man_page_render() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = rdpdiag(&["completions", shell], None);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("rdpdiag") && script.contains("replay") && script.contains("junit"),
            "{shell}: {script}"
        );
    }
    // The bash script parses (bash -n) and, sourced, registers the completion.
    let dir = temp_dir("completions");
    let path = dir.join("rdpdiag.bash");
    std::fs::write(&path, rdpdiag(&["completions", "bash"], None).stdout).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p rdpdiag", path.display()))
        .output()
        .unwrap();
    assert!(
        text(&sourced.stdout).contains("rdpdiag"),
        "{}{}",
        text(&sourced.stdout),
        text(&sourced.stderr)
    );
    // The manual page: roff that groff formats without a warning, with every command in it.
    let man = rdpdiag(&["man"], None);
    assert_eq!(man.status.code(), Some(0));
    let roff = text(&man.stdout);
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH rdpdiag"),
        "{roff}"
    );
    let page = dir.join("rdpdiag.1");
    std::fs::write(&page, &man.stdout).unwrap();
    let formatted = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .expect("groff formats the manual page");
    assert!(formatted.status.success(), "{}", text(&formatted.stderr));
    assert!(formatted.stderr.is_empty(), "{}", text(&formatted.stderr));
    let shown = Command::new("groff")
        .args(["-man", "-Tascii", "-P-cbou"])
        .arg(&page)
        .output()
        .unwrap();
    let shown = text(&shown.stdout);
    for word in [
        "replay",
        "watch",
        "probe",
        "decode",
        "explain",
        "--junit",
        "--expect",
        "Exit codes",
    ] {
        assert!(
            shown.contains(word),
            "{word} missing from the man page: {shown}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// `xmllint --schema tests/junit/junit.xsd FILE`: the JUnit report format CI servers read.
fn assert_valid_junit(path: &std::path::Path) {
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/junit/junit.xsd");
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(path)
        .output()
        .expect("xmllint (Debian: libxml2-utils) validates the JUnit report");
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

#[test]
fn junit_reports_validate_and_carry_the_findings() {
    let dir = temp_dir("junit");
    let report = dir.join("report.xml");
    let report_s = report.to_str().unwrap();
    let failed = fixture("ndpi__rdp_over_tls.pcap");
    let mixed = fixture("zeek__rdp-proprietary-encryption.pcap");
    // Without --expect: the failed connection is a failure, the established one passes.
    let out = rdpdiag(
        &[
            "replay",
            "-q",
            "--junit",
            report_s,
            &failed,
            &mixed,
            "missing.pcap",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_valid_junit(&report);
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains(r#"tests="4" failures="2" errors="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="91.238.181.21:35888 -&gt; 89.31.79.12:3389""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="nla-auth-failed: Network level authentication failed: "#),
        "{xml}"
    );
    assert!(
        xml.contains("[packet 14, +1182.0 ms S-&gt;C] the server sent an encrypted TLS alert"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="missing.pcap" classname="error""#),
        "{xml}"
    );
    // With --expect: a mismatch is the failure, an expected failure passes; the file is overwritten.
    let out = rdpdiag(
        &[
            "replay",
            "-q",
            "--expect",
            "neg-ssl-not-allowed,healthy",
            "--junit",
            report_s,
            &mixed,
            &failed,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_valid_junit(&report);
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains(r#"tests="3" failures="1" errors="0""#),
        "{xml}"
    );
    assert!(
        xml.contains("(expected neg-ssl-not-allowed or healthy)"),
        "{xml}"
    );
    // Probe: one case per target.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let out = rdpdiag(
        &["probe", "-q", "--quick", "--junit", report_s, &target],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_valid_junit(&report);
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains(&format!(r#"<testcase name="{target}" classname="probe""#)),
        "{xml}"
    );
    assert!(xml.contains(r#"<failure message="tcp-refused: "#), "{xml}");
    // The capture itself is never the JUnit output.
    let copy = dir.join("copy.pcap");
    std::fs::copy(&failed, &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let out = rdpdiag(
        &[
            "replay",
            "--junit",
            copy.to_str().unwrap(),
            copy.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is a capture to read"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_target_that_could_not_be_probed_is_an_error_not_a_verdict() {
    // Silent past the deadline.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    let target = format!("127.0.0.1:{port}");
    let args = ["probe", "--quick", "--timeout", "10", "--deadline", "1"];
    let out = rdpdiag(&[&args[..], &[target.as_str()]].concat(), None);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!("rdpdiag: probe: {target}: "))
            && err.contains("deadline")
            && err.lines().count() == 1,
        "{err}"
    );
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("verdict"), "{stdout}");
    assert!(stdout.contains("summary: 0 target(s)"), "{stdout}");
    let out = rdpdiag(&[&args[..], &["--json", target.as_str()]].concat(), None);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "only the summary: {lines:?}");
    assert!(lines[0]["errors"][0].as_str().unwrap().contains("deadline"));
}

#[test]
fn replay_of_files_stops_on_ctrl_c_with_its_summary() {
    // Thousands of captures, a few milliseconds' work each: interrupted well before the end.
    let dir = temp_dir("interrupt-files");
    std::fs::copy(fixture("ndpi__rdp_over_tls.pcap"), dir.join("a")).unwrap();
    const FILES: usize = 50_000;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .current_dir(&dir)
        .args(["replay", "-q", "--json"])
        .args(std::iter::repeat_n("a", FILES))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Time to start and catch Ctrl-C, even on a loaded machine.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    interrupt(&child);
    let code = wait_at_most(&mut child, std::time::Duration::from_secs(60));
    let out = child.wait_with_output().unwrap();
    assert_eq!(code, Some(130), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let summary = lines.last().unwrap();
    assert_eq!(summary["interrupted"], true, "{summary}");
    let seen = summary["connections"].as_u64().unwrap();
    assert!(seen > 0 && seen < FILES as u64, "{summary}");
    std::fs::remove_dir_all(&dir).ok();
}
