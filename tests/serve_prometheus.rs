//! `rdpdiag serve` end to end with the real thing: two xrdp servers on loopback (one with a valid
//! certificate, one with a certificate that expired in 2021, made with openssl and faketime), the
//! exporter, and a Prometheus server scraping it with the README's multi-target relabelling. Values are
//! read back through Prometheus's HTTP API; `promtool check metrics` checks the exposition and
//! `promtool check rules` / `promtool test rules` the README's alert rules. Every process is started on
//! a free 127.0.0.1 port and killed by PID when the test ends, also when it fails. `.ci/run` installs
//! xrdp, openssl, faketime and prometheus (which brings promtool).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A child process killed (by PID) and reaped when dropped.
struct Proc {
    name: &'static str,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command, log: &Path) -> Self {
        let log = std::fs::File::create(log).unwrap();
        let child = cmd
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{name}: {e} (is it installed? .ci/run installs it)"));
        Self { name, child }
    }

    fn assert_running(&mut self, log: &Path) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}): {}",
                self.name,
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("rdpdiag-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (is it installed? .ci/run installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn wait_listening(addr: SocketAddr, what: &str, proc: &mut Proc, log: &Path) {
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        proc.assert_running(log);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not listen on {addr}: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An xrdp server (negotiate security layer, TLS 1.2 and 1.3) with a self-signed certificate; made in
/// the past with faketime when `faketime` is given. Returns the process, its address and the
/// certificate's notAfter (read with x509-parser).
fn xrdp(dir: &Path, name: &str, faketime: Option<&str>) -> (Proc, SocketAddr, i64) {
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let mut req = match faketime {
        Some(t) => {
            let mut c = Command::new("faketime");
            c.arg(t).arg("openssl");
            c
        }
        None => Command::new("openssl"),
    };
    req.args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj"])
        .arg(format!("/CN={name}"))
        .args(["-days", "30", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert);
    run(&mut req);
    let pem = std::fs::read(&cert).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let not_after = pem.parse_x509().unwrap().validity().not_after.timestamp();
    let port = free_port();
    let base = std::fs::read_to_string("/etc/xrdp/xrdp.ini")
        .expect("/etc/xrdp/xrdp.ini: xrdp is not installed (.ci/run installs it)");
    let mut ini = String::new();
    let mut globals = false;
    for line in base.lines() {
        if line.starts_with('[') {
            globals = line.trim() == "[Globals]";
        }
        let key_name = line.split('=').next().unwrap_or("").trim();
        let replaced = match (globals, key_name) {
            (true, "fork") => Some("fork=false".to_string()),
            (true, "port") => Some(format!("port=tcp://127.0.0.1:{port}")),
            (true, "security_layer") => Some("security_layer=negotiate".to_string()),
            (true, "certificate") => Some(format!("certificate={}", cert.display())),
            (true, "key_file") => Some(format!("key_file={}", key.display())),
            (true, "ssl_protocols") => Some("ssl_protocols=TLSv1.2, TLSv1.3".to_string()),
            _ => None,
        };
        ini.push_str(&replaced.unwrap_or_else(|| line.to_string()));
        ini.push('\n');
    }
    let ini_path = dir.join(format!("{name}.ini"));
    std::fs::write(&ini_path, ini).unwrap();
    let log = dir.join(format!("{name}.log"));
    let mut p = Proc::spawn(
        "xrdp",
        Command::new("xrdp").arg("-n").arg("-c").arg(&ini_path),
        &log,
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_listening(addr, "xrdp", &mut p, &log);
    (p, addr, not_after)
}

/// `rdpdiag serve` on a free port with `args`.
fn exporter(dir: &Path, args: &[&str]) -> (Proc, SocketAddr) {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log = dir.join(format!("serve-{port}.log"));
    let mut p = Proc::spawn(
        "rdpdiag serve",
        Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
            .args(["serve", "--listen", &addr.to_string()])
            .args(args),
        &log,
    );
    wait_listening(addr, "rdpdiag serve", &mut p, &log);
    (p, addr)
}

/// One HTTP/1.1 GET: status, headers (lowercase names) and body.
fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// `GET /api/v1/query` on Prometheus: the result vector as (instance, value).
fn query(prom: SocketAddr, promql: &str) -> Vec<(String, f64)> {
    let mut q = String::new();
    for b in promql.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-".contains(&b) {
            q.push(char::from(b));
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    let (status, _, body) = get(prom, &format!("/api/v1/query?query={q}"), &[]);
    assert_eq!(status, 200, "{promql}: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"]["instance"].as_str().unwrap_or("").to_string(),
                r["value"][1].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// The README's fenced ```yaml block that contains `needle`.
fn readme_yaml(needle: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split_once("\n```").map(|(y, _)| y.to_string()))
        .find(|y| y.contains(needle))
        .unwrap_or_else(|| panic!("README: no yaml block with {needle}"))
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (package prometheus, installed by .ci/run)");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn prometheus_scrapes_certificate_and_nla_through_the_readme_config() {
    let dir = scratch("serve-prometheus");
    let d = &dir.0;
    let (_valid_xrdp, valid, valid_not_after) = xrdp(d, "valid", None);
    let (_expired_xrdp, expired, expired_not_after) =
        xrdp(d, "expired", Some("2021-01-01 00:00:00"));
    let (_serve, serve) = exporter(d, &["--allow", "127.0.0.1", "--timeout", "20"]);

    // The exposition, in the Prometheus text format, passes promtool's checks.
    let (status, head, text) = get(serve, &format!("/probe?target={valid}"), &[]);
    assert_eq!(status, 200, "{text}");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let (ok, lint) = promtool(&["check", "metrics"], Some(&text));
    assert!(
        ok && lint.trim().is_empty(),
        "promtool check metrics: {lint}\n{text}"
    );
    assert!(
        text.contains(&format!(
            "rdp_certificate_not_after_timestamp_seconds {valid_not_after}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("rdp_nla_required 0\n"),
        "xrdp does not do CredSSP: {text}"
    );
    // OpenMetrics when asked for, and the exporter's own metrics pass too.
    let (_, head, om) = get(
        serve,
        &format!("/probe?target={expired}"),
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
    );
    assert!(
        head.contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(om.ends_with("# EOF\n"), "{om}");
    assert!(om.contains("# UNIT rdp_certificate_not_after_timestamp_seconds seconds"));
    let (_, _, own) = get(serve, "/metrics", &[]);
    let (ok, lint) = promtool(&["check", "metrics"], Some(&own));
    assert!(
        ok && lint.trim().is_empty(),
        "promtool check metrics: {lint}\n{own}"
    );
    assert!(
        own.contains("rdpdiag_serve_probes_total{result=\"success\"} 2"),
        "{own}"
    );

    // The README's alert rules are valid, and do what they say on made-up series.
    let rules = d.join("rules.yml");
    std::fs::write(&rules, readme_yaml("groups:")).unwrap();
    let (ok, out) = promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(ok, "promtool check rules: {out}");
    let rules_test = d.join("rules_test.yml");
    std::fs::write(
        &rules_test,
        format!(
            r#"rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # time() is 0 at the start of a rule test: one expires in 13 days, one in 15.
      - series: 'rdp_certificate_not_after_timestamp_seconds{{instance="soon"}}'
        values: '{soon}x30'
      - series: 'rdp_certificate_not_after_timestamp_seconds{{instance="later"}}'
        values: '{later}x30'
      - series: 'rdp_nla_required{{instance="regressed"}}'
        values: '1x10 0x20'
      - series: 'rdp_nla_required{{instance="never"}}'
        values: '0x30'
    alert_rule_test:
      - eval_time: 15m
        alertname: RdpCertificateExpiresSoon
        exp_alerts:
          - exp_labels: {{severity: warning, instance: soon}}
            exp_annotations:
              summary: "The RDP certificate of soon expires within 14 days (or has expired)"
      - eval_time: 20m
        alertname: RdpNlaNoLongerRequired
        exp_alerts:
          - exp_labels: {{severity: critical, instance: regressed}}
            exp_annotations:
              summary: "regressed no longer requires network level authentication (it did within a day)"
"#,
            rules = rules.display(),
            soon = 13 * 86_400,
            later = 15 * 86_400,
        ),
    )
    .unwrap();
    let (ok, out) = promtool(&["test", "rules", rules_test.to_str().unwrap()], None);
    assert!(ok, "promtool test rules: {out}");

    // The page shows the scrape configuration the README documents.
    assert!(readme_yaml("scrape_configs:").contains(rdpdiag::serve::page::SCRAPE_CONFIG));

    // Prometheus, configured with the README's scrape configuration, pointed at the lab.
    let prom_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = readme_yaml("scrape_configs:")
        .replace(
            "['rdp1.example.net', 'rdp2.example.net:3390']",
            &format!("['{valid}', '{expired}']"),
        )
        .replace("scrape_interval: 1m", "scrape_interval: 3s")
        .replace("scrape_timeout: 30s", "scrape_timeout: 3s")
        .replace(
            "replacement: 127.0.0.1:9833",
            &format!("replacement: {serve}"),
        );
    assert!(config.contains(&valid.to_string()) && config.contains(&serve.to_string()));
    let config_path = d.join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let log = d.join("prometheus.log");
    let mut prom = Proc::spawn(
        "prometheus",
        Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", d.join("tsdb").display()))
            .arg(format!("--web.listen-address={prom_addr}")),
        &log,
    );
    wait_listening(prom_addr, "prometheus", &mut prom, &log);
    let started = Instant::now();
    while get(prom_addr, "/-/ready", &[]).0 != 200 {
        prom.assert_running(&log);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "prometheus not ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let not_after = loop {
        prom.assert_running(&log);
        let got = query(prom_addr, "rdp_certificate_not_after_timestamp_seconds");
        if got.len() == 2 {
            break got;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no scrape of both targets yet: {got:?}; up: {:?}",
            query(prom_addr, "up")
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let value = |rows: &[(String, f64)], instance: SocketAddr| {
        rows.iter()
            .find(|(i, _)| *i == instance.to_string())
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("{instance}: {rows:?}"))
    };
    // Certificate not-after equal to the certificates' own (up to a float's exactness).
    assert_eq!(value(&not_after, valid), valid_not_after as f64);
    assert_eq!(value(&not_after, expired), expired_not_after as f64);
    // NLA: xrdp does not do CredSSP, so it is not required (nor supported).
    let nla = query(prom_addr, "rdp_nla_required");
    assert_eq!((value(&nla, valid), value(&nla, expired)), (0.0, 0.0));
    // The expired certificate is visible as such, and only that one.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((expired_not_after as f64) < now && (valid_not_after as f64) > now);
    let expired_now = query(
        prom_addr,
        "rdp_certificate_not_after_timestamp_seconds < time()",
    );
    assert_eq!(expired_now.len(), 1, "{expired_now:?}");
    assert_eq!(expired_now[0].0, expired.to_string());
    let verdict = query(prom_addr, "rdp_probe_verdict");
    assert!(
        verdict.iter().all(|(_, v)| *v == 1.0) && verdict.len() == 2,
        "{verdict:?}"
    );
    let advisories = query(prom_addr, "rdp_advisory{id=\"nla-not-required\"}");
    assert_eq!(advisories.len(), 2, "{advisories:?}");
    let tls13 = query(prom_addr, "rdp_tls_version_accepted{version=\"TLS 1.3\"}");
    assert_eq!(value(&tls13, valid), 1.0);
    let success = query(prom_addr, "rdp_probe_success");
    assert_eq!(value(&success, valid), 1.0, "a valid certificate: healthy");
}

#[test]
fn allow_list_bad_targets_and_concurrency_limit() {
    let dir = scratch("serve-limits");
    let d = &dir.0;
    // A server that accepts and never answers: a probe of it lasts until its timeout.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let (_serve, serve) = exporter(
        d,
        &[
            "--allow",
            "127.0.0.1/32,localhost",
            "--max-concurrent",
            "1",
            "--timeout",
            "3",
        ],
    );
    let (status, _, body) = get(serve, "/probe?target=127.0.0.2", &[]);
    assert_eq!(
        (status, body.as_str()),
        (403, "target '127.0.0.2' (127.0.0.2) is not in --allow\n")
    );
    for (target, want) in [
        (
            "300.1.1.1",
            "target '300.1.1.1': not an IPv4 address or range: octet 300 is over 255\n",
        ),
        (
            "127.0.0.1-3",
            "target '127.0.0.1-3': one host per probe, not a range\n",
        ),
        ("a%20b", "target 'a b': not a host name, address or range\n"),
    ] {
        let (status, _, body) = get(serve, &format!("/probe?target={target}"), &[]);
        assert_eq!((status, body.as_str()), (400, want));
    }
    let (status, _, _) = get(serve, "/probe", &[]);
    assert_eq!(status, 400);
    let (status, _, _) = get(
        serve,
        &format!("/probe?target={silent_addr}&ciphers=maybe"),
        &[],
    );
    assert_eq!(status, 400);
    // One probe in flight (the silent server), a second one gets 429.
    let slow = std::thread::spawn(move || get(serve, &format!("/probe?target={silent_addr}"), &[]));
    let _held = silent.accept().unwrap();
    let (status, _, body) = get(serve, &format!("/probe?target={silent_addr}"), &[]);
    assert_eq!(
        (status, body.as_str()),
        (429, "more than 1 probes at once (--max-concurrent)\n")
    );
    let started = Instant::now();
    let (status, _, text) = slow.join().unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("rdp_probe_success 0\n"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "--timeout 3 caps the probe"
    );
    // A name is allowed by name.
    let (status, _, text) = get(
        serve,
        &format!("/probe?target=localhost:{}", free_port()),
        &[],
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("rdp_probe_verdict{cause=\"tcp-refused\"} 1"),
        "{text}"
    );
    let (_, _, own) = get(serve, "/metrics", &[]);
    assert!(
        own.contains("rdpdiag_serve_requests_rejected_total{reason=\"too_many\"} 1"),
        "{own}"
    );
    assert!(
        own.contains("rdpdiag_serve_requests_rejected_total{reason=\"forbidden\"} 1"),
        "{own}"
    );
    let (status, head, page) = get(serve, "/", &[]);
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/html"));
    assert!(
        page.contains("localhost:") && page.contains("tcp-refused"),
        "{page}"
    );
    // Without --allow (or --allow-any) the exporter does not start.
    let out = Command::new(env!("CARGO_BIN_EXE_rdpdiag"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow"));
}
