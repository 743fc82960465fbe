//! A probed target: the answers to each question, the verdict of the default Windows client's path,
//! the advisories, and every question's connection. Rendered as text or as one JSON line.

use std::io::{self, Write};

use serde::Serialize;

use super::escape::escape_control as esc;
use super::json::SCHEMA;
use super::text::Style;
use super::{write_connection_json_value, write_connection_text, ConnectionReport};
use crate::diagnose::{Finding, Severity, Verdict};
use crate::session::CertEntry;

/// What the server answered one security-protocol offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferAnswer {
    pub offer: String,
    /// requestedProtocols sent; `None`: no RDP_NEG_REQ.
    pub requested: Option<u32>,
    pub answer: String,
    pub selected: Option<u32>,
}

/// Whether the server accepted a ClientHello offering one TLS version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionAnswer {
    pub version: String,
    pub answer: String,
}

/// Whether the server accepted a ClientHello offering one cipher suite (`--ciphers`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CipherAnswer {
    pub suite: String,
    pub version: String,
    pub answer: String,
}

/// What the server's NTLM CHALLENGE (inside CredSSP) says about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    pub credssp_version: Option<u32>,
    pub target_name: Option<String>,
    pub netbios_computer: Option<String>,
    pub netbios_domain: Option<String>,
    pub dns_computer: Option<String>,
    pub dns_domain: Option<String>,
    pub dns_tree: Option<String>,
    pub os_version: Option<String>,
    pub error_code: Option<String>,
}

/// Everything learned about one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetReport {
    /// As the user wrote it.
    pub target: String,
    pub address: Option<String>,
    /// The name used for SNI and certificate checks.
    pub name: Option<String>,
    /// What a default Windows client hits: a cause id, `healthy`, or `incomplete`.
    pub verdict: Verdict,
    /// How far the default path got without credentials: `tls`, `credssp`, `standard-security`.
    pub reached: Option<&'static str>,
    /// Why the target could not be probed at all (resolution), when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub protocols: Vec<OfferAnswer>,
    /// `required`, `supported`, `not supported` or `unknown`.
    pub nla: &'static str,
    pub tls_versions: Vec<VersionAnswer>,
    /// With `--ciphers`: each suite offered alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ciphers: Vec<CipherAnswer>,
    /// Version and cipher suite of the full handshake (rustls).
    pub tls: Option<(String, String)>,
    /// The chain as the handshake delivered it (TLS 1.3 included).
    pub certificate: Vec<CertEntry>,
    pub server_info: Option<ServerInfo>,
    /// The default path's failure findings first, then every advisory of any question, once each.
    pub findings: Vec<Finding>,
    /// Every question's connection, the default path first (serialized by `write_target_json`).
    #[serde(skip)]
    pub connections: Vec<ConnectionReport>,
}

#[derive(Serialize)]
struct TargetJson<'a> {
    schema: &'static str,
    kind: &'static str,
    #[serde(flatten)]
    target: &'a TargetReport,
}

pub fn write_target_json(t: &TargetReport, out: &mut dyn Write) -> io::Result<()> {
    let mut value = serde_json::to_value(TargetJson {
        schema: SCHEMA,
        kind: "target",
        target: t,
    })
    .map_err(io::Error::other)?;
    let connections: Vec<serde_json::Value> = t
        .connections
        .iter()
        .map(write_connection_json_value)
        .collect::<io::Result<_>>()?;
    if let Some(obj) = value.as_object_mut() {
        if let Some(findings) = obj.get_mut("findings") {
            super::findings_for_port(findings, t.address.as_deref().and_then(super::port_of));
        }
        obj.insert(
            "connections".to_string(),
            serde_json::Value::Array(connections),
        );
    }
    serde_json::to_writer(&mut *out, &value).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

pub fn write_target_text(t: &TargetReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let addr = t
        .address
        .as_deref()
        .map(|a| format!(" ({})", esc(a)))
        .unwrap_or_default();
    let reach = match t.reached {
        Some("tls") => " (followed through the TLS handshake; no credentials sent)",
        Some("credssp") => " (followed into CredSSP up to the NTLM CHALLENGE; no credentials sent)",
        Some("standard-security") => " (standard RDP security selected)",
        _ => "",
    };
    writeln!(
        out,
        "target {}{addr}: verdict {}{reach}",
        esc(&t.target),
        style.verdict(t.verdict)
    )?;
    if let Some(e) = &t.error {
        writeln!(out, "  {}", esc(e))?;
        return writeln!(out);
    }
    if t.verdict == "not-rdp" {
        // No security-protocol answers to list: what answers there does not speak RDP.
        writeln!(
            out,
            "  not RDP: the service on this port does not answer a Connection Request as an RDP server does"
        )?;
    } else if !t.protocols.is_empty() {
        writeln!(out, "  security protocols (NLA {}):", t.nla)?;
        for p in &t.protocols {
            writeln!(out, "    {:<40} {}", esc(&p.offer), esc(&p.answer))?;
        }
    }
    if !t.tls_versions.is_empty() {
        let v: Vec<String> = t
            .tls_versions
            .iter()
            .map(|v| format!("{}: {}", esc(&v.version), esc(&v.answer)))
            .collect();
        writeln!(out, "  TLS versions: {}", v.join("; "))?;
    }
    if !t.ciphers.is_empty() {
        let accepted: Vec<&str> = t
            .ciphers
            .iter()
            .filter(|c| c.answer == "accepted")
            .map(|c| c.suite.as_str())
            .collect();
        writeln!(
            out,
            "  cipher suites accepted ({} of {} asked): {}",
            accepted.len(),
            t.ciphers.len(),
            if accepted.is_empty() {
                "none".to_string()
            } else {
                esc(&accepted.join(", ")).into_owned()
            }
        )?;
    }
    if let Some((v, s)) = &t.tls {
        writeln!(out, "  TLS handshake: {} {}", esc(v), esc(s))?;
    }
    if let Some(CertEntry::Parsed(c)) = t.certificate.first() {
        writeln!(
            out,
            "  certificate: {} issued by {}, {} to {}, SHA-256 {}",
            esc(&c.subject),
            esc(&c.issuer),
            esc(&c.not_before_display),
            esc(&c.not_after_display),
            esc(&c.sha256_fingerprint)
        )?;
    }
    if let Some(i) = &t.server_info {
        let mut parts = Vec::new();
        let mut add = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                parts.push(format!("{k} {}", esc(v)));
            }
        };
        add("NetBIOS", &i.netbios_computer);
        add("domain", &i.netbios_domain);
        add("DNS", &i.dns_computer);
        add("DNS domain", &i.dns_domain);
        add("OS", &i.os_version);
        add("error", &i.error_code);
        let v = i
            .credssp_version
            .map(|v| format!("CredSSP v{v}"))
            .unwrap_or_default();
        writeln!(out, "  server (NTLM): {v} {}", parts.join(", "))?;
    }
    // The default client's path in full.
    if let Some(default) = t.connections.first() {
        write_connection_text(default, style, out)?;
    }
    // Failures judged over the target's connections together, which no single connection's list holds.
    let on_path = |f: &Finding| {
        t.connections
            .first()
            .is_some_and(|c| c.diagnosis.findings.iter().any(|g| g.id == f.id))
    };
    let judged: Vec<&Finding> = t
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Failure && !on_path(f))
        .collect();
    if !judged.is_empty() {
        writeln!(out, "  for a default Windows client:")?;
        for (n, f) in judged.into_iter().enumerate() {
            super::text::write_finding(
                n + 1,
                f,
                t.address.as_deref().and_then(super::port_of),
                style,
                out,
            )?;
        }
    }
    let extra: Vec<&Finding> = t
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Advisory)
        .collect();
    if !extra.is_empty() {
        writeln!(out, "  advisories for this server:")?;
        for f in extra {
            writeln!(out, "    - {} : {}", f.id, esc(&f.title))?;
        }
    }
    writeln!(out)
}
