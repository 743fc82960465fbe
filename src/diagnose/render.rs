//! `docs/causes.md`: the reader's version of the cause catalogue, rendered from the table itself (a test
//! keeps the file in step).

use std::fmt::Write;

use super::causes::{self, Cause, CauseStage};
use super::Severity;

/// The catalogue as Markdown: the rank order, the symptoms and what explains them, then every cause by
/// stage with its words.
pub fn render_catalogue() -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_catalogue(&mut out);
    out
}

fn ids(list: &[causes::CauseId]) -> String {
    list.iter()
        .map(|id| format!("`{id}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_catalogue(out: &mut String) -> std::fmt::Result {
    writeln!(out, "# Cause catalogue")?;
    writeln!(out)?;
    writeln!(
        out,
        "<!-- Generated from src/diagnose/causes/ by `UPDATE_DOCS=1 cargo test --test docs_causes`; do not edit. -->"
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Every cause rdpdiag names, with its stable id (JSON `id` and `verdict`, `--expect`, \
         `rdpdiag explain ID`), what fixes it and what to check on the hosts where the wire cannot \
         tell causes apart. `rdpdiag explain`, the text and JSON reports and this page read the same \
         table."
    )?;
    writeln!(out)?;
    writeln!(out, "## Symptoms and the causes that explain them")?;
    writeln!(out)?;
    writeln!(
        out,
        "A symptom says *where* the setup broke; a cause that explains it says *why*. When an \
         explaining cause holds on the evidence it is the verdict, and the symptom becomes its \
         evidence (JSON: the finding's `symptom`). Competing causes are ranked in the order a client \
         checks: the TLS version the server chose, then the certificate's validity dates, the name, \
         trust, key and signature strength, and usage. A fatal alert from the client that names a \
         cause puts that cause first. When nothing visible explains the symptom (TLS 1.3 encrypts the \
         certificate), the symptom stays the verdict."
    )?;
    writeln!(out)?;
    writeln!(out, "| symptom | explained by, in the order a client checks |")?;
    writeln!(out, "|---|---|")?;
    for symptom in causes::all() {
        let by: Vec<causes::CauseId> = symptom.explained_by().map(|c| c.id).collect();
        if !by.is_empty() {
            writeln!(out, "| `{}` | {} |", symptom.id, ids(&by))?;
        }
    }
    let stages = [
        CauseStage::Transport,
        CauseStage::X224,
        CauseStage::Negotiation,
        CauseStage::Tls,
        CauseStage::Certificate,
        CauseStage::CredSsp,
        CauseStage::Rdp,
        CauseStage::Advisory,
    ];
    for stage in stages {
        writeln!(out)?;
        writeln!(out, "## {}", stage.label())?;
        let mut in_stage: Vec<&Cause> = causes::all().filter(|c| c.stage == stage).collect();
        in_stage.sort_by_key(|c| c.rank);
        for c in in_stage {
            write_cause(out, c)?;
        }
    }
    Ok(())
}

fn write_cause(out: &mut String, c: &Cause) -> std::fmt::Result {
    writeln!(out)?;
    writeln!(out, "### `{}`: {}", c.id, c.title)?;
    writeln!(out)?;
    let kind = match (c.severity, c.symptoms.is_empty()) {
        (Severity::Failure, _) => "a failure",
        (Severity::Advisory, true) => "advice",
        (Severity::Advisory, false) => "advice by itself, the failure when it explains a symptom",
    };
    writeln!(out, "- rank {}; {kind}", c.rank)?;
    writeln!(out, "- fix: {}", c.remedy)?;
    if !c.explains.is_empty() {
        writeln!(out, "- explains (Windows client): {}", c.explains.join("; "))?;
    }
    if !c.symptoms.is_empty() {
        writeln!(out, "- explains the symptom: {}", ids(c.symptoms))?;
    }
    if !c.named_by_alerts.is_empty() {
        let alerts: Vec<String> = c
            .named_by_alerts
            .iter()
            .map(|a| {
                let alert = crate::wire::tls::AlertDescription(*a);
                alert
                    .name()
                    .map_or_else(|| a.to_string(), |n| format!("{n} ({a})"))
            })
            .collect();
        writeln!(
            out,
            "- named by the client's TLS alert: {}",
            alerts.join(", ")
        )?;
    }
    if !c.lookalikes.is_empty() {
        writeln!(out, "- looks the same on the wire: {}", ids(c.lookalikes))?;
    }
    for check in c.host_checks {
        writeln!(out, "- check: {check}")?;
    }
    Ok(())
}
