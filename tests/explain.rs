//! `explain`: every table entry explains back from its value and from its name; the inputs users paste;
//! sentences; unknown codes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use rdpdiag::explain::{
    self, disconnect_reason::DISCONNECT_REASONS, event_id::WINDOWS_EVENTS, explain, explain_text,
    extended_reason, CodeKind, Explanation,
};
use rdpdiag::wire::credssp::NtStatus;
use rdpdiag::wire::rdp_neg::FailureCode;
use rdpdiag::wire::tls::AlertDescription;

fn kinds(found: &[Explanation]) -> Vec<(CodeKind, Option<u64>)> {
    found.iter().map(|e| (e.kind, e.value)).collect()
}

fn has(found: &[Explanation], kind: CodeKind, value: u64) -> bool {
    found
        .iter()
        .any(|e| e.kind == kind && e.value == Some(value))
}

#[test]
fn every_disconnect_reason_by_value_and_name() {
    for entry in DISCONNECT_REASONS {
        let value = u64::from(entry.value);
        let hex = explain(&format!("{value:#x}"));
        assert_eq!(hex[0].kind, CodeKind::DisconnectReason, "{value:#x}");
        assert_eq!(hex[0].value, Some(value));
        let decimal = explain(&value.to_string());
        assert_eq!(decimal[0].kind, CodeKind::DisconnectReason, "{value}");
        if let Some(name) = entry.name {
            assert!(
                has(&explain(name), CodeKind::DisconnectReason, value),
                "{name}"
            );
            assert!(has(
                &explain(&name.to_ascii_uppercase()),
                CodeKind::DisconnectReason,
                value
            ));
            assert_eq!(hex[0].name, name);
        }
    }
}

#[test]
fn every_extended_reason_by_value_and_name() {
    for value in extended_reason::all_values() {
        let found = explain(&format!("{value:#x}"));
        assert!(
            has(&found, CodeKind::ExtendedReason, value.into()),
            "{value:#x}"
        );
        for name in extended_reason::names(value) {
            let found = explain(name);
            assert!(
                has(&found, CodeKind::ExtendedReason, value.into()),
                "{name}"
            );
            let e = found
                .iter()
                .find(|e| e.kind == CodeKind::ExtendedReason)
                .unwrap();
            assert!(e.name.contains(name));
        }
    }
}

#[test]
fn every_negotiation_failure_by_value_and_name() {
    for code in FailureCode::ALL {
        let value = u64::from(code.0);
        assert!(has(
            &explain(&value.to_string()),
            CodeKind::NegotiationFailure,
            value
        ));
        let by_name = explain(code.name().unwrap());
        assert_eq!(
            kinds(&by_name),
            [(CodeKind::NegotiationFailure, Some(value))]
        );
        assert_eq!(by_name[0].causes.len(), 1);
        assert!(by_name[0].causes[0].as_str().starts_with("neg-"));
    }
    let unknown = explain::negotiation_failure(FailureCode(7));
    assert_eq!(unknown.causes, ["neg-unknown-failure"]);
    assert_eq!(unknown.name, "0x7");
}

#[test]
fn every_nt_status_by_value_and_name() {
    for status in NtStatus::ALL {
        let value = u64::from(status.0);
        assert!(
            has(&explain(&format!("{value:#x}")), CodeKind::NtStatus, value),
            "{status}"
        );
        assert!(has(
            &explain(status.name().unwrap()),
            CodeKind::NtStatus,
            value
        ));
    }
}

#[test]
fn every_tls_alert_by_name_and_lone_number() {
    for alert in (0..=u8::MAX).map(AlertDescription) {
        let Some(name) = alert.name() else { continue };
        let value = u64::from(alert.0);
        assert_eq!(
            kinds(&explain(name)),
            [(CodeKind::TlsAlert, Some(value))],
            "{name}"
        );
        let by_number = explain(&value.to_string());
        // a TLS alert only when nothing else has that number
        let tls = by_number.iter().any(|e| e.kind == CodeKind::TlsAlert);
        let others = by_number.iter().any(|e| e.kind != CodeKind::TlsAlert);
        assert_eq!(tls, !others, "{value}: {:?}", kinds(&by_number));
        // "alert" in a sentence asks for it anyway
        let said = explain_text(&format!(
            "The TLS protocol defined fatal alert code is {value}."
        ));
        assert_eq!(kinds(&said), [(CodeKind::TlsAlert, Some(value))], "{value}");
    }
}

#[test]
fn every_event_id() {
    for event in WINDOWS_EVENTS {
        let found = explain(&event.id.to_string());
        assert_eq!(kinds(&found), [(event.kind, Some(event.id.into()))]);
        let said = explain_text(&format!("Event ID: {}", event.id));
        assert_eq!(kinds(&said), [(event.kind, Some(event.id.into()))]);
    }
    assert!(explain("0x9006").is_empty(), "event ids are decimal");
}

#[test]
fn every_cause_any_table_names_is_in_the_catalogue() {
    let mut all: Vec<Explanation> = Vec::new();
    for entry in DISCONNECT_REASONS {
        all.extend(explain::disconnect_reason(entry.value));
    }
    for value in extended_reason::all_values() {
        all.extend(explain::extended_reason(value));
    }
    for status in NtStatus::ALL {
        all.extend(explain::nt_status(*status));
    }
    for alert in (0..=u8::MAX).map(AlertDescription) {
        all.extend(explain::tls_alert(alert));
    }
    for event in WINDOWS_EVENTS {
        all.extend(explain::windows_event(event.id));
    }
    for value in 0..16 {
        all.push(explain::negotiation_failure(FailureCode(value)));
    }
    for e in &all {
        for cause in &e.causes {
            assert!(cause.cause().is_some(), "{}: {cause}", e.name);
        }
    }
}

#[test]
fn the_classic_pair() {
    let d = explain("0x904");
    assert_eq!(kinds(&d), [(CodeKind::DisconnectReason, Some(0x904))]);
    assert_eq!(d[0].name, "disconnectReasonAtClientWinsockFDCLOSE");
    assert_eq!(d[0].causes[0], "tls-server-abort");
    for cause in [
        "security-layer-mismatch",
        "neg-hybrid-required",
        "cert-expired",
        "nla-auth-failed",
    ] {
        assert!(d[0].causes.iter().any(|c| *c == cause), "{cause}");
    }
    assert_eq!(kinds(&explain("2308")), kinds(&d));

    let seven = explain("0x7");
    assert_eq!(seven[0].kind, CodeKind::ExtendedReason);
    assert_eq!(
        seven[0].name,
        "ERRINFO_SERVER_DENIED_CONNECTION / exDiscReasonServerDeniedConnection"
    );
    assert_eq!(seven[0].causes[0], "server-denied-connection");
    assert!(seven[0].checks[0].contains("rarely shows 0x7"));
    assert_eq!(kinds(&explain("7")), kinds(&seven));
    // 7 is no RDP_NEG_FAILURE code, no TLS alert is offered while something else matches
    assert!(!seven
        .iter()
        .any(|e| matches!(e.kind, CodeKind::NegotiationFailure | CodeKind::TlsAlert)));
}

#[test]
fn a_number_with_several_meanings_lists_them_most_likely_first() {
    assert_eq!(
        kinds(&explain("3")),
        [
            (CodeKind::DisconnectReason, Some(3)),
            (CodeKind::ExtendedReason, Some(3)),
            (CodeKind::NegotiationFailure, Some(3)),
        ]
    );
    assert_eq!(
        kinds(&explain("5")),
        [
            (CodeKind::ExtendedReason, Some(5)),
            (CodeKind::NegotiationFailure, Some(5)),
        ]
    );
    assert_eq!(
        kinds(&explain("260")),
        [
            (CodeKind::DisconnectReason, Some(260)),
            (CodeKind::ExtendedReason, Some(260)),
        ]
    );
}

#[test]
fn the_inputs_users_paste() {
    let single = |q: &str, kind: CodeKind, value: u64| {
        let found = explain(q);
        assert!(has(&found, kind, value), "{q}: {:?}", kinds(&found));
        assert_eq!(found[0].kind, kind, "{q}");
    };
    single("0x904", CodeKind::DisconnectReason, 0x904);
    single("2308", CodeKind::DisconnectReason, 2308);
    single("0x7", CodeKind::ExtendedReason, 7);
    single("7", CodeKind::ExtendedReason, 7);
    single(
        "ERRINFO_SERVER_DENIED_CONNECTION",
        CodeKind::ExtendedReason,
        7,
    );
    single(
        "exDiscReasonServerDeniedConnection",
        CodeKind::ExtendedReason,
        7,
    );
    single(
        "exDiscReasonServerDeniedConnectionFips",
        CodeKind::ExtendedReason,
        8,
    );
    single(
        "exDiscReasonServerInsufficientPrivileges",
        CodeKind::ExtendedReason,
        9,
    );
    single("0xC000006D", CodeKind::NtStatus, 0xC000_006D);
    single("0xc000006d", CodeKind::NtStatus, 0xC000_006D);
    single("C000006D", CodeKind::NtStatus, 0xC000_006D);
    single("STATUS_LOGON_FAILURE", CodeKind::NtStatus, 0xC000_006D);
    single("SSL_NOT_ALLOWED_BY_SERVER", CodeKind::NegotiationFailure, 2);
    single("HYBRID_REQUIRED_BY_SERVER", CodeKind::NegotiationFailure, 5);
    single("protocol_version", CodeKind::TlsAlert, 70);
    single("certificate_expired", CodeKind::TlsAlert, 45);
    single("handshake_failure", CodeKind::TlsAlert, 40);
    single("36870", CodeKind::SchannelEvent, 36870);
    single("1058", CodeKind::TermServiceEvent, 1058);
    single(" 0x904, ", CodeKind::DisconnectReason, 0x904);

    assert_eq!(
        explain("HYBRID_REQUIRED_BY_SERVER")[0].causes,
        ["neg-hybrid-required"]
    );
    assert_eq!(
        explain("protocol_version")[0].causes,
        ["tls-version-mismatch"]
    );
    assert_eq!(
        explain("handshake_failure")[0].causes[0],
        "tls-no-shared-cipher"
    );
    assert_eq!(explain("certificate_expired")[0].causes[0], "cert-expired");
    assert_eq!(
        explain("unknown_ca")[0].causes,
        ["cert-untrusted", "cert-self-signed"]
    );
    assert_eq!(
        explain("STATUS_LOGON_FAILURE")[0].causes,
        ["nla-auth-failed"]
    );
    assert!(explain("STATUS_PASSWORD_EXPIRED")[0].checks[0].contains("change the password"));
    assert!(explain("STATUS_LOGON_TYPE_NOT_GRANTED")[0].checks[0]
        .contains("Allow log on through Remote Desktop Services"));
    assert_eq!(explain("36870")[0].causes, ["tls-server-abort"]);
    assert_eq!(
        explain("516")[0].causes,
        ["tcp-refused", "tcp-filtered", "tcp-unreachable"]
    );
    assert_eq!(explain("0x108")[0].causes[0], "tcp-filtered");
}

#[test]
fn two_codes_as_two_words() {
    let pair = explain("0x904 0x7");
    assert_eq!(
        kinds(&pair),
        [
            (CodeKind::DisconnectReason, Some(0x904)),
            (CodeKind::ExtendedReason, Some(7)),
        ]
    );
    assert_eq!(kinds(&explain("2308 7")), kinds(&pair));
}

#[test]
fn the_sentence() {
    let found = explain_text("error code 0x904, extended error code 0x7");
    assert_eq!(
        kinds(&found),
        [
            (CodeKind::DisconnectReason, Some(0x904)),
            (CodeKind::ExtendedReason, Some(7)),
        ]
    );
    assert_eq!(
        kinds(&explain("error code 0x904, extended error code 0x7")),
        kinds(&found)
    );
}

#[test]
fn the_client_dialog_pasted_whole() {
    let dialog = "Remote Desktop can't connect to the remote computer for one of these reasons:\n\
                  1) Remote access to the server is not enabled\n\
                  [Expanded Information]\n\
                  Error code: 0x204\n\
                  Extended error code: 0x0\n\
                  Timestamp (UTC): 10/16/23 09:18:47 AM";
    assert_eq!(
        kinds(&explain_text(dialog)),
        [
            (CodeKind::DisconnectReason, Some(0x204)),
            (CodeKind::ExtendedReason, Some(0)),
        ]
    );
    let log =
        "RDP ClientActiveX has been disconnected (Reason= 2308). The disconnect reason is 2308";
    assert_eq!(
        kinds(&explain_text(log)),
        [(CodeKind::DisconnectReason, Some(2308))]
    );
    let credssp = "CredSSP errorCode status 0xC000006D STATUS_LOGON_FAILURE";
    assert_eq!(
        kinds(&explain_text(credssp)),
        [(CodeKind::NtStatus, Some(0xC000_006D))]
    );
}

#[test]
fn unknown_codes_explain_to_nothing() {
    for q in [
        "0xdeadbeef",
        "FOO_BAR",
        "",
        "   ",
        "hello",
        "0x2407",
        "99999999999999999999999",
    ] {
        assert!(explain(q).is_empty(), "{q}: {:?}", kinds(&explain(q)));
    }
    assert!(explain_text("nothing to see here at 10:42").is_empty());
}

#[test]
fn text_output_for_the_pair() {
    let mut out = Vec::new();
    explain::write_text(&explain("0x904 0x7"), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("0x904 (2308) — disconnect reason"), "{text}");
    assert!(
        text.contains("\n\n0x7 — extended disconnect reason"),
        "{text}"
    );
    assert!(text.contains(
        "    server-denied-connection: Server denied the connection\n      fix: Server policy"
    ));
}

#[test]
fn json_output() {
    let json = serde_json::to_value(explain("0x7")).unwrap();
    assert_eq!(json[0]["kind"], "extended-reason");
    assert_eq!(json[0]["value"], 7);
    assert_eq!(json[0]["causes"][0], "server-denied-connection");
}

/// The `fix:` line that follows the line containing `marker`.
fn fix_after(text: &str, marker: &str) -> String {
    text.lines()
        .skip_while(|l| !l.contains(marker))
        .find_map(|l| l.trim().strip_prefix("fix: "))
        .unwrap_or_else(|| panic!("no fix after {marker:?} in:\n{text}"))
        .to_string()
}

fn run(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn explain_and_a_replay_finding_print_the_same_remedy() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/recorded/");
    for (pcap, id) in [
        ("xrdp-tls12-expired-cert-refused.pcap", "cert-expired"),
        ("xrdp-weak-key-tls-abort.pcap", "tls-server-abort"),
        (
            "xrdp-tls13-expired-cert-refused.pcap",
            "client-aborted-after-handshake",
        ),
        ("xrdp-rdp-only-client-tls.pcap", "security-layer-mismatch"),
    ] {
        let path = format!("{dir}{pcap}");
        let replay = run(&["replay", "--color", "never", &path]);
        let from_replay = fix_after(&replay, &format!("1. {id} ("));
        // `rdpdiag explain ID`
        let from_explain = fix_after(&run(&["explain", id]), &format!("    {id}: "));
        assert_eq!(from_replay, from_explain, "{id}");
        // The JSON report carries the same words.
        let json = run(&["replay", "--json", &path]);
        let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["findings"][0]["id"], id);
        assert_eq!(first["findings"][0]["remedy"], from_explain.as_str());
    }
    // A code that lists the cause prints the same remedy for it.
    let from_code = fix_after(&run(&["explain", "0x904"]), "    tls-server-abort: ");
    let replay = run(&[
        "replay",
        "--color",
        "never",
        &format!("{dir}xrdp-key-mismatch-tls-abort.pcap"),
    ]);
    assert_eq!(fix_after(&replay, "1. tls-server-abort ("), from_code);
}
