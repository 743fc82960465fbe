//! `GET /`: the exporter's page — recent probes and how to scrape. Everything that came from a target
//! (its name as the scraper wrote it, a verdict, a certificate date) is HTML-escaped.

use std::fmt::Write;

use super::{Recent, ServeConfig};

/// `&`, `<`, `>`, `"` and `'` as entities.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {
                let _ = write!(out, "&#x{:x};", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The scrape configuration the README documents (multi-target relabelling; `tests/serve_prometheus.rs`
/// checks the two are the same).
pub const SCRAPE_CONFIG: &str = r#"scrape_configs:
  - job_name: rdp
    metrics_path: /probe
    scrape_interval: 1m
    scrape_timeout: 30s
    static_configs:
      - targets: ['rdp1.example.net', 'rdp2.example.net:3390']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:9833"#;

pub(super) fn render(recent: &[Recent], config: &ServeConfig) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>rdpdiag serve</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}.bad{color:#b00}\
         .ok{color:#070}pre{background:#f4f4f4;padding:1em}</style></head><body>\n\
         <h1>rdpdiag serve</h1>\n<p>A Prometheus exporter for RDP endpoints: \
         <code>GET /probe?target=host[:port]</code> asks the target what <code>rdpdiag probe</code> \
         asks (no credentials are sent) and answers with its metrics; add <code>&amp;ciphers=1</code> \
         to enumerate cipher suites. <a href=\"/metrics\">/metrics</a> has the exporter's own \
         counters.</p>\n",
    );
    let _ = writeln!(
        html,
        "<p>Probe timeout {} s (or the scraper's, when shorter); at most {} probes at once.</p>",
        config.timeout.as_secs_f64(),
        config.max_concurrent
    );
    html.push_str("<h2>Recent probes</h2>\n");
    if recent.is_empty() {
        html.push_str("<p>None yet.</p>\n");
    } else {
        html.push_str(
            "<table><tr><th>when</th><th>target</th><th>address</th><th>verdict</th>\
             <th>NLA</th><th>certificate not after</th><th>took</th></tr>\n",
        );
        for r in recent {
            let _ = writeln!(
                html,
                "<tr><td>{} s ago</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>\
                 <td>{}</td><td>{:.2} s</td></tr>",
                r.at.elapsed().as_secs(),
                escape_html(&r.target),
                escape_html(r.address.as_deref().unwrap_or("")),
                if r.success { "ok" } else { "bad" },
                escape_html(&r.verdict),
                escape_html(&r.nla),
                escape_html(r.not_after.as_deref().unwrap_or("")),
                r.took.as_secs_f64()
            );
        }
        html.push_str("</table>\n");
    }
    let _ = writeln!(
        html,
        "<h2>How to scrape</h2>\n<pre>{}</pre>\n</body></html>",
        escape_html(SCRAPE_CONFIG)
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape_html("<script>\"a\" & 'b'\u{1b}[31m\n"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&#x1b;[31m\n"
        );
    }
}
