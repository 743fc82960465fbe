//! Reports: JSON snapshots (schema rdpdiag/1) of scripted conversations, the text ladder, `--expect`
//! and exit codes. Snapshots are regenerated only on request: `RDPDIAG_UPDATE_SNAPSHOTS=1 cargo test --test report`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::*;
use rdpdiag::diagnose::{diagnose, Context};
use rdpdiag::report::{
    event_text, exit, write_connection_json, write_connection_text, write_summary_json,
    write_summary_text, ConnectionReport, Expectation, Style, Summary,
};
use rdpdiag::session::TransportFact;

fn report(script: &Script) -> ConnectionReport {
    let observation = script.play();
    let diagnosis = diagnose(&observation, &Context::default());
    ConnectionReport {
        tunnel: None,
        source: "scripted".into(),
        client: Some("192.0.2.10:50000".into()),
        server: Some("192.0.2.20:3389".into()),
        label: None,
        observation,
        diagnosis,
    }
}

fn scripts() -> Vec<(&'static str, Script)> {
    let nla = || {
        Script::new(JUNE_2019)
            .connect()
            .request(Some(3))
            .select(2)
            .tls12()
    };
    vec![
        (
            "nla-auth-failed",
            nla()
                .app(C, 81)
                .app(S, 215)
                .app(C, 633)
                .encrypted_alert(S)
                .app(C, 61)
                .rst(C),
        ),
        (
            "tls-server-abort",
            Script::new(JUNE_2019)
                .connect()
                .request(Some(3))
                .select(1)
                .client_hello()
                .wait(2.0)
                .fin(S),
        ),
        (
            "healthy",
            Script::new(JUNE_2019)
                .connect()
                .request(Some(0xb))
                .select(1)
                .tls12()
                .app(C, 400)
                .app(S, 300),
        ),
    ]
}

#[test]
fn json_snapshots() {
    let update = std::env::var_os("RDPDIAG_UPDATE_SNAPSHOTS").is_some();
    for (name, script) in scripts() {
        let mut out = Vec::new();
        write_connection_json(&report(&script), &mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap() + "\n";
        let path = format!("{}/tests/snapshots/{name}.json", env!("CARGO_MANIFEST_DIR"));
        if update {
            std::fs::write(&path, &pretty).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (RDPDIAG_UPDATE_SNAPSHOTS=1 writes it)"));
        assert_eq!(
            pretty, expected,
            "{name}: the JSON differs from its snapshot"
        );
    }
}

#[test]
fn json_lines_follow_the_schema() {
    let mut out = Vec::new();
    let mut summary = Summary::default();
    for (_, s) in scripts() {
        let r = report(&s);
        summary.add(&r, None);
        write_connection_json(&r, &mut out).unwrap();
    }
    write_summary_json(&summary, &mut out).unwrap();
    let lines: Vec<serde_json::Value> = out
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    for l in &lines[..3] {
        assert_eq!(l["schema"], "rdpdiag/1");
        assert_eq!(l["kind"], "connection");
        for key in [
            "source",
            "client",
            "server",
            "outcome",
            "stage_reached",
            "verdict",
            "findings",
            "timeline",
        ] {
            assert!(l.get(key).is_some(), "{key} missing");
        }
        for f in l["findings"].as_array().unwrap() {
            for key in [
                "id",
                "confidence",
                "severity",
                "title",
                "explains",
                "evidence",
                "remedy",
                "host_checks",
            ] {
                assert!(f.get(key).is_some(), "finding lacks {key}");
            }
        }
    }
    assert_eq!(lines[0]["verdict"], "nla-auth-failed");
    assert_eq!(lines[2]["outcome"], "established");
    assert_eq!(lines[3]["kind"], "summary");
    assert_eq!(lines[3]["connections"], 3);
    assert_eq!(lines[3]["by_outcome"]["failed"], 2);
}

#[test]
fn text_shows_the_ladder_and_the_findings() {
    let r = report(&scripts()[1].1);
    let mut out = Vec::new();
    write_connection_text(&r, &Style::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("192.0.2.10:50000 -> 192.0.2.20:3389  FAILED at TLS handshake"),
        "{text}"
    );
    assert!(
        text.contains("✓ negotiation") && text.contains("server selected SSL"),
        "{text}"
    );
    assert!(
        text.contains("✗ TLS handshake") && text.contains("no ServerHello"),
        "{text}"
    );
    assert!(text.contains("1. tls-server-abort (likely)"), "{text}");
    assert!(
        text.contains("fix: ") && text.contains("check: System log, source Schannel, event 36870"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour unless asked");
    let mut out = Vec::new();
    write_connection_text(
        &r,
        &Style {
            color: true,
            timeline: true,
        },
        &mut out,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("\x1b[31m") && text.contains("timeline:"));
}

#[test]
fn expect_and_exit_codes() {
    let reports: Vec<ConnectionReport> = scripts().iter().map(|(_, s)| report(s)).collect();
    // Without --expect: any connection not established → 1.
    let mut s = Summary::default();
    reports.iter().for_each(|r| s.add(r, None));
    assert_eq!(s.exit_code(), 1);
    let mut s = Summary::default();
    s.add(&reports[2], None);
    assert_eq!(s.exit_code(), 0);
    // With --expect: every verdict must be listed.
    let e = Expectation::parse("nla-auth-failed, tls-server-abort,healthy").unwrap();
    let mut s = Summary::default();
    reports.iter().for_each(|r| s.add(r, Some(&e)));
    assert_eq!(s.exit_code(), 0);
    let e = Expectation::parse("healthy").unwrap();
    let mut s = Summary::default();
    reports.iter().for_each(|r| s.add(r, Some(&e)));
    assert_eq!(s.exit_code(), 1);
    let m = s.expect_mismatches.unwrap();
    assert_eq!(m.len(), 2);
    assert!(m[0].contains("nla-auth-failed (expected healthy)"), "{m:?}");
}

#[test]
fn exit_codes_for_nothing_judged_errors_and_interrupts() {
    let reports: Vec<ConnectionReport> = scripts().iter().map(|(_, s)| report(s)).collect();
    // Nothing to judge: 1, with or without --expect.
    assert_eq!(Summary::default().exit_code(), exit::PROBLEM);
    let s = Summary {
        expect_mismatches: Some(Vec::new()),
        ..Summary::default()
    };
    assert_eq!(s.exit_code(), exit::PROBLEM);
    // Healthy, then a source that could not be read: 2.
    let mut s = Summary::default();
    s.add(&reports[2], None);
    assert_eq!(s.exit_code(), exit::OK);
    s.errors.push("missing.pcap: no such file".into());
    assert_eq!(s.exit_code(), exit::TROUBLE);
    // Interrupted: 130 whatever was found.
    s.interrupted = true;
    assert_eq!(s.exit_code(), exit::INTERRUPTED);
    let mut out = Vec::new();
    write_summary_json(&s, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["errors"][0], "missing.pcap: no such file");
    assert_eq!(v["interrupted"], true);
    let mut out = Vec::new();
    write_summary_text(&s, &Style::default(), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("error: missing.pcap: no such file")
            && text.contains("interrupted by Ctrl-C"),
        "{text}"
    );
    // An incomplete observation alone: 1.
    let incomplete = Script::new(JUNE_2019).connect().request(Some(3));
    let r = report(&incomplete);
    assert_eq!(r.diagnosis.verdict_id(), "incomplete");
    let mut s = Summary::default();
    s.add(&r, None);
    assert_eq!(s.exit_code(), exit::PROBLEM);
}

#[test]
fn expect_ids_are_checked_against_the_catalogue() {
    assert!(Expectation::parse_known("tls-server-abort, healthy,incomplete").is_ok());
    let e = Expectation::parse_known("healthy,no-such-cause").unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("unknown verdict id 'no-such-cause' (known ids: tcp-refused, "),
        "{text}"
    );
    assert!(Expectation::parse_known(" , ").is_err());
    for id in rdpdiag::report::known_verdict_ids() {
        assert!(Expectation::parse_known(id).is_ok(), "{id}");
    }
}

#[test]
fn host_checks_name_the_servers_port() {
    let refused = Script::new(JUNE_2019)
        .fact(TransportFact::Syn)
        .fact(TransportFact::Refused);
    let mut r = report(&refused);
    assert_eq!(r.diagnosis.verdict_id(), "tcp-refused");
    let render = |r: &ConnectionReport| {
        let mut text = Vec::new();
        write_connection_text(r, &Style::default(), &mut text).unwrap();
        let mut json = Vec::new();
        write_connection_json(r, &mut json).unwrap();
        (
            String::from_utf8(text).unwrap(),
            String::from_utf8(json).unwrap(),
        )
    };
    let (text, json) = render(&r);
    assert!(
        text.contains("findstr :3389") && json.contains("findstr :3389"),
        "{text}"
    );
    r.server = Some("[2001:db8::9]:3390".into());
    let (text, json) = render(&r);
    assert!(
        text.contains("findstr :3390") && !text.contains("3389"),
        "{text}"
    );
    assert!(
        json.contains("findstr :3390") && !json.contains(":3389"),
        "{json}"
    );
}

#[test]
fn colour_is_painted_after_padding() {
    let r = report(&scripts()[1].1);
    let draw = |color| {
        let mut out = Vec::new();
        let style = Style {
            color,
            timeline: false,
        };
        write_connection_text(&r, &style, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    let plain = draw(false);
    let coloured = draw(true);
    assert!(coloured.contains("\x1b["));
    let mut stripped = String::new();
    let mut in_escape = false;
    for c in coloured.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, c) => stripped.push(c),
        }
    }
    assert_eq!(stripped, plain);
}

#[test]
fn timeline_events_as_text() {
    let r = report(&scripts()[0].1);
    let lines: Vec<String> = r
        .observation
        .timeline
        .entries
        .iter()
        .map(|e| event_text(&e.event))
        .collect();
    assert_eq!(lines[0], "tcp_syn");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("connection_request ") && l.contains("requested=SSL|HYBRID")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| !l.contains('{') || l.contains("chain=")),
        "{lines:#?}"
    );
}
