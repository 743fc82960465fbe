//! What one probe says, as metrics (the `prometheus-client` crate builds and encodes them), and the
//! exporter's own counters. The crate writes OpenMetrics; the Prometheus text format (0.0.4) is the
//! same exposition with OpenMetrics' additions taken out ([`to_prometheus_text`]).

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use crate::diagnose::Severity;
use crate::report::target::TargetReport;
use crate::session::CertEntry;
use crate::wire::rdp_neg::SecurityProtocols;

/// A label value, escaped as both text formats require (`\`, `"` and line feeds; the crate writes
/// values as they are, and certificate subjects or NTLM names come from the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lv(pub String);

impl EncodeLabelValue for Lv {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write;
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

type Labels = Vec<(&'static str, Lv)>;

fn lv(s: impl Into<String>) -> Lv {
    Lv(s.into())
}

fn gauge(value: i64) -> Gauge {
    let g = Gauge::default();
    g.set(value);
    g
}

/// One labelled gauge family, filled from `(labels, value)` pairs.
fn family(rows: impl IntoIterator<Item = (Labels, i64)>) -> Family<Labels, Gauge> {
    let f = Family::<Labels, Gauge>::default();
    for (labels, value) in rows {
        f.get_or_create(&labels).set(value);
    }
    f
}

/// Whether a probe counts as a success: the default client's path met no failure (verdict `healthy`).
pub fn success(r: &TargetReport) -> bool {
    r.verdict == "healthy"
}

/// The metrics every probe answer has: success, duration, whether the target's name resolved.
fn common(success: bool, resolved: bool, took: Duration) -> Registry {
    let mut reg = Registry::default();
    reg.register(
        "rdp_probe_success",
        "Whether a default client's path met no failure (verdict healthy)",
        gauge(i64::from(success)),
    );
    let duration = Gauge::<f64, AtomicU64>::default();
    duration.set(took.as_secs_f64());
    reg.register_with_unit(
        "rdp_probe_duration",
        "How long the probe took",
        Unit::Seconds,
        duration,
    );
    reg.register(
        "rdp_probe_resolved",
        "Whether the target's name resolved to an address (always 1 for an address)",
        gauge(i64::from(resolved)),
    );
    reg
}

/// The answer for a target whose name did not resolve: a failed probe.
pub fn unresolved_registry(took: Duration) -> Registry {
    common(false, false, took)
}

/// The metrics of one probe (the same report `rdpdiag probe --json` prints).
pub fn probe_registry(r: &TargetReport, took: Duration) -> Registry {
    let mut reg = common(success(r), true, took);
    reg.register(
        "rdp_probe_verdict",
        "The verdict: the cause id a default client hits, healthy, or incomplete",
        family([(vec![("cause", lv(r.verdict.as_str()))], 1)]),
    );
    if !r.protocols.is_empty() {
        reg.register(
            "rdp_security_protocol_selected",
            "The security protocol the server selected for each offer (1), or none (0: refused or no answer)",
            family(r.protocols.iter().map(|o| {
                let protocol = o
                    .selected
                    .map_or_else(|| "none".to_string(), |s| SecurityProtocols(s).to_string());
                let value = i64::from(o.selected.is_some());
                (
                    vec![("offer", lv(o.offer.clone())), ("protocol", lv(protocol))],
                    value,
                )
            })),
        );
    }
    if r.nla != "unknown" {
        reg.register(
            "rdp_nla_required",
            "Whether the server refuses clients that do not do network level authentication (CredSSP)",
            gauge(i64::from(r.nla == "required")),
        );
        reg.register(
            "rdp_nla_supported",
            "Whether the server selects CredSSP when a client offers it",
            gauge(i64::from(matches!(r.nla, "required" | "supported"))),
        );
    }
    if !r.tls_versions.is_empty() {
        reg.register(
            "rdp_tls_version_accepted",
            "Whether the server accepted a ClientHello offering only this TLS version",
            family(r.tls_versions.iter().map(|v| {
                (
                    vec![("version", lv(v.version.clone()))],
                    i64::from(v.answer == "accepted"),
                )
            })),
        );
    }
    if !r.ciphers.is_empty() {
        reg.register(
            "rdp_tls_cipher_accepted",
            "Whether the server accepted a ClientHello offering only this cipher suite",
            family(r.ciphers.iter().map(|c| {
                (
                    vec![
                        ("version", lv(c.version.clone())),
                        ("suite", lv(c.suite.clone())),
                    ],
                    i64::from(c.answer == "accepted"),
                )
            })),
        );
    }
    if let Some((version, suite)) = &r.tls {
        reg.register(
            "rdp_tls",
            "The TLS version and cipher suite of the full handshake",
            Info::new(vec![
                ("version", lv(version.clone())),
                ("cipher", lv(suite.clone())),
            ]),
        );
    }
    if let Some(CertEntry::Parsed(leaf)) = r.certificate.first() {
        reg.register_with_unit(
            "rdp_certificate_not_after_timestamp",
            "The end of the server certificate's validity (notAfter), in Unix time",
            Unit::Seconds,
            gauge(leaf.not_after),
        );
        reg.register_with_unit(
            "rdp_certificate_not_before_timestamp",
            "The start of the server certificate's validity (notBefore), in Unix time",
            Unit::Seconds,
            gauge(leaf.not_before),
        );
        reg.register(
            "rdp_certificate",
            "The server certificate",
            Info::new(vec![
                ("subject", lv(leaf.subject.clone())),
                ("issuer", lv(leaf.issuer.clone())),
                ("serial", lv(leaf.serial_hex.clone())),
                ("sha256", lv(leaf.sha256_fingerprint.clone())),
            ]),
        );
    }
    let advisories: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Advisory)
        .map(|f| f.id.as_str())
        .collect();
    if !advisories.is_empty() {
        reg.register(
            "rdp_advisory",
            "Advisories (certificate expiring, legacy TLS accepted, NLA not required, ...) by cause id",
            family(advisories.into_iter().map(|id| (vec![("id", lv(id))], 1))),
        );
    }
    if let Some(info) = &r.server_info {
        let v = |s: &Option<String>| lv(s.clone().unwrap_or_default());
        reg.register(
            "rdp_ntlm",
            "What the server's NTLM CHALLENGE says about it (no credentials are sent)",
            Info::new(vec![
                ("target_name", v(&info.target_name)),
                ("netbios_computer", v(&info.netbios_computer)),
                ("netbios_domain", v(&info.netbios_domain)),
                ("dns_computer", v(&info.dns_computer)),
                ("dns_domain", v(&info.dns_domain)),
                ("dns_tree", v(&info.dns_tree)),
                ("os_version", v(&info.os_version)),
            ]),
        );
    }
    reg
}

/// The exporter's own counters (`GET /metrics`).
#[derive(Debug, Clone)]
pub struct ExporterMetrics {
    /// Probes run, by `result` (`success`, `failure`).
    pub probes: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// Requests answered without a probe, by `reason` (`forbidden`, `bad_request`, `too_many`).
    pub rejected: Family<Vec<(&'static str, &'static str)>, Counter>,
    pub in_flight: Gauge,
    pub durations: Histogram,
}

impl ExporterMetrics {
    /// The counters, and the registry that exposes them.
    pub fn new() -> (Self, Registry) {
        let durations = Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]);
        let m = Self {
            probes: Family::default(),
            rejected: Family::default(),
            in_flight: Gauge::default(),
            durations: durations.clone(),
        };
        let mut reg = Registry::with_prefix("rdpdiag_serve");
        reg.register("probes", "Probes run, by result", m.probes.clone());
        reg.register(
            "requests_rejected",
            "Requests answered without a probe, by reason",
            m.rejected.clone(),
        );
        reg.register("probes_in_flight", "Probes running now", m.in_flight.clone());
        reg.register_with_unit(
            "probe_duration",
            "How long probes took",
            Unit::Seconds,
            durations,
        );
        (m, reg)
    }

    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&vec![("reason", reason)]).inc();
    }
}

/// The exposition formats a scraper can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    PrometheusText,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// What an `Accept` header asks for: OpenMetrics when it is acceptable (q > 0) and preferred at
    /// least as much as plain text; the text format otherwise (also without a header).
    pub fn from_accept(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Format::PrometheusText;
        };
        let mut om = 0.0f64;
        let mut text = 0.0f64;
        for range in accept.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or("").to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.parse::<f64>().ok())
                .unwrap_or(1.0);
            match media.as_str() {
                "application/openmetrics-text" => om = om.max(q),
                "text/plain" | "text/*" | "*/*" => text = text.max(q),
                _ => {}
            }
        }
        if om > 0.0 && om >= text {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        }
    }
}

/// Encodes registries in a format.
pub fn encode(registries: &[&Registry], format: Format) -> Result<String, std::fmt::Error> {
    use prometheus_client::encoding::text::{encode_eof, encode_registry};
    let mut om = String::new();
    for reg in registries {
        encode_registry(&mut om, reg)?;
    }
    match format {
        Format::OpenMetrics => {
            encode_eof(&mut om)?;
            Ok(om)
        }
        Format::PrometheusText => Ok(to_prometheus_text(&om)),
    }
}

/// The Prometheus text format (0.0.4) of an OpenMetrics exposition without its `# EOF`: no `# UNIT`
/// lines; a counter's `# HELP`/`# TYPE` name its samples (`x_total`); an info metric is a gauge named
/// `x_info`. Samples are unchanged.
pub fn to_prometheus_text(om: &str) -> String {
    let mut out = String::with_capacity(om.len());
    let mut help: Option<(&str, &str)> = None;
    for line in om.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            help = Some((name, text));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "unknown" => (name.to_string(), "untyped"),
                k => (name.to_string(), k),
            };
            if let Some((_, text)) = help.take().filter(|(n, _)| rest.starts_with(n)) {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
            continue;
        }
        if let Some((name, text)) = help.take() {
            out.push_str(&format!("# HELP {name} {text}\n"));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn accept_header() {
        use Format::*;
        assert_eq!(Format::from_accept(None), PrometheusText);
        assert_eq!(Format::from_accept(Some("*/*")), PrometheusText);
        // What Prometheus 2.x sends.
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::from_accept(Some(prom)), OpenMetrics);
        assert_eq!(
            Format::from_accept(Some("text/plain;q=1, application/openmetrics-text;q=0.5")),
            PrometheusText
        );
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text;q=0")),
            PrometheusText
        );
    }

    #[test]
    fn label_values_from_the_wire_are_escaped() {
        let mut reg = Registry::default();
        reg.register(
            "x",
            "X",
            Info::new(vec![("subject", lv("CN=a\"b\\c\nd"))]),
        );
        let om = encode(&[&reg], Format::OpenMetrics).unwrap();
        assert!(om.contains(r#"x_info{subject="CN=a\"b\\c\nd"} 1"#), "{om}");
        assert!(om.ends_with("# EOF\n"));
    }

    #[test]
    fn text_format_renames_counters_and_infos() {
        let (m, reg) = ExporterMetrics::new();
        m.probes.get_or_create(&vec![("result", "success")]).inc();
        let mut info = Registry::default();
        info.register("rdp_tls", "TLS", Info::new(vec![("version", lv("TLS 1.3"))]));
        let text = encode(&[&reg, &info], Format::PrometheusText).unwrap();
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"), "{text}");
        assert!(
            text.contains(
                "# HELP rdpdiag_serve_probes_total Probes run, by result.\n# TYPE rdpdiag_serve_probes_total counter\nrdpdiag_serve_probes_total{result=\"success\"} 1\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE rdp_tls_info gauge\nrdp_tls_info{version=\"TLS 1.3\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("# TYPE rdpdiag_serve_probe_duration_seconds histogram\n"));
    }
}
