//! The prober against real xrdp servers on loopback, one process per configuration (`xrdp -n -c FILE`,
//! `fork=false`, bound to a free 127.0.0.1 port, stopped by PID when the test ends). Certificates are made
//! with openssl (and faketime for an expired one). `.ci/run` installs xrdp, openssl and faketime.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdpdiag::probe::target::{Host, Target};
use rdpdiag::probe::{probe_target, ProbeOptions};
use rdpdiag::report::target::TargetReport;

/// What certificate the server gets.
#[derive(Clone, Copy)]
enum Cert {
    Valid,
    Expired,
    /// A certificate and a private key that do not belong together.
    Mismatched,
}

struct Xrdp {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Xrdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (is it installed? .ci/run installs it)"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_cert(dir: &Path, cert: Cert) -> (PathBuf, PathBuf) {
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    let req = |faketime: Option<&str>, key: &Path, crt: &Path| {
        let mut cmd = match faketime {
            Some(t) => {
                let mut c = Command::new("faketime");
                c.arg(t).arg("openssl");
                c
            }
            None => Command::new("openssl"),
        };
        cmd.args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "30",
            "-keyout",
        ])
        .arg(key)
        .arg("-out")
        .arg(crt);
        run(&mut cmd);
    };
    match cert {
        Cert::Valid => req(None, &k, &c),
        Cert::Expired => req(Some("2021-01-01 00:00:00"), &k, &c),
        Cert::Mismatched => {
            req(None, &dir.join("other-key.pem"), &c);
            run(Command::new("openssl")
                .args(["genrsa", "-out"])
                .arg(&k)
                .arg("2048"));
        }
    }
    (c, k)
}

fn start(name: &str, security_layer: &str, cert: Cert, ssl_protocols: &str) -> Xrdp {
    start_with(name, security_layer, cert, ssl_protocols, None)
}

fn start_with(
    name: &str,
    security_layer: &str,
    cert: Cert,
    ssl_protocols: &str,
    tls_ciphers: Option<&str>,
) -> Xrdp {
    let dir = std::env::temp_dir().join(format!("rdpdiag-xrdp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (c, k) = make_cert(&dir, cert);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = std::fs::read_to_string("/etc/xrdp/xrdp.ini")
        .expect("/etc/xrdp/xrdp.ini: xrdp is not installed (.ci/run installs it)");
    let mut ini = String::new();
    let mut in_globals = false;
    for line in base.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_globals = line.trim() == "[Globals]";
        }
        let replaced = match (in_globals, key) {
            (true, "fork") => Some("fork=false".to_string()),
            (true, "port") => Some(format!("port=tcp://127.0.0.1:{port}")),
            (true, "security_layer") => Some(format!("security_layer={security_layer}")),
            (true, "certificate") => Some(format!("certificate={}", c.display())),
            (true, "key_file") => Some(format!("key_file={}", k.display())),
            (true, "ssl_protocols") => Some(format!(
                "ssl_protocols={ssl_protocols}{}",
                tls_ciphers
                    .map(|c| format!("\ntls_ciphers={c}"))
                    .unwrap_or_default()
            )),
            _ => None,
        };
        ini.push_str(&replaced.unwrap_or_else(|| line.to_string()));
        ini.push('\n');
    }
    let ini_path = dir.join("xrdp.ini");
    std::fs::write(&ini_path, ini).unwrap();
    let log = std::fs::File::create(dir.join("xrdp.log")).unwrap();
    let child = Command::new("xrdp")
        .arg("-n")
        .arg("-c")
        .arg(&ini_path)
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("xrdp (installed by .ci/run)");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "xrdp did not listen on {addr}: {}",
            std::fs::read_to_string(dir.join("xrdp.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Xrdp { child, addr, dir }
}

/// The target and the options every xrdp test probes with.
fn target_and_opts(x: &Xrdp) -> (Target, ProbeOptions) {
    let t = Target {
        given: x.addr.to_string(),
        host: Host::Ip(x.addr.ip()),
        port: x.addr.port(),
    };
    let opts = ProbeOptions {
        connect_timeout: Duration::from_secs(2),
        step_timeout: Duration::from_secs(3),
        deadline: Duration::from_secs(40),
        ..ProbeOptions::default()
    };
    (t, opts)
}

async fn probe(x: &Xrdp) -> TargetReport {
    let (t, opts) = target_and_opts(x);
    probe_target(t, Arc::new(opts)).await.report
}

fn ids(r: &TargetReport) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.id.as_str()).collect()
}

fn offer<'a>(r: &'a TargetReport, label: &str) -> &'a str {
    &r.protocols
        .iter()
        .find(|o| o.offer == label)
        .unwrap_or_else(|| panic!("no offer {label}: {:?}", r.protocols))
        .answer
}

fn version<'a>(r: &'a TargetReport, v: &str) -> &'a str {
    &r.tls_versions
        .iter()
        .find(|o| o.version == v)
        .unwrap_or_else(|| panic!("no version {v}: {:?}", r.tls_versions))
        .answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negotiate_with_a_valid_certificate() {
    let x = start("valid", "negotiate", Cert::Valid, "TLSv1.2, TLSv1.3");
    let r = probe(&x).await;
    assert_eq!(r.verdict, "healthy", "{r:#?}");
    assert_eq!(r.reached, Some("tls"));
    assert_eq!(
        offer(&r, "Windows default SSL|HYBRID|HYBRID_EX"),
        "selected SSL"
    );
    assert_eq!(r.nla, "not supported", "xrdp does not do CredSSP");
    assert_eq!(version(&r, "TLS 1.2"), "accepted");
    assert_eq!(version(&r, "TLS 1.3"), "accepted");
    assert!(
        version(&r, "TLS 1.0").starts_with("alert"),
        "{:?}",
        r.tls_versions
    );
    assert!(ids(&r).contains(&"nla-not-required"));
    assert!(
        ids(&r).contains(&"cert-self-signed") && ids(&r).contains(&"cert-name-mismatch"),
        "{:?}",
        ids(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_certificate() {
    let x = start("expired", "negotiate", Cert::Expired, "TLSv1.2, TLSv1.3");
    let r = probe(&x).await;
    let expired = r
        .findings
        .iter()
        .find(|f| f.id == "cert-expired")
        .unwrap_or_else(|| panic!("{:?}", ids(&r)));
    assert!(expired.title.contains("2021-01-31"), "{}", expired.title);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_layer_rdp() {
    let x = start("rdp", "rdp", Cert::Valid, "TLSv1.2, TLSv1.3");
    let r = probe(&x).await;
    assert_eq!(r.reached, Some("standard-security"), "{r:#?}");
    // Standard RDP security only, selected rather than refused: the verdict a refusal gets (issue 15).
    assert_eq!(r.verdict, "neg-ssl-not-allowed", "{r:#?}");
    assert_eq!(offer(&r, "SSL only"), "selected RDP (not offered)");
    assert!(ids(&r).contains(&"weak-standard-rdp-security"));
    assert!(r.tls_versions.is_empty(), "no TLS to enumerate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_layer_tls() {
    let x = start("tls", "tls", Cert::Valid, "TLSv1.2, TLSv1.3");
    let r = probe(&x).await;
    assert_eq!(r.verdict, "healthy");
    // A legacy client (no RDP_NEG_REQ): a bare confirm, then a Disconnect Provider Ultimatum.
    let legacy = r
        .connections
        .iter()
        .find(|c| c.label.as_deref() == Some("no RDP_NEG_REQ (legacy client)"))
        .unwrap();
    assert_eq!(
        legacy.diagnosis.verdict_id(),
        "security-layer-mismatch",
        "{:#?}",
        legacy.diagnosis
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_only() {
    let x = start("tls13", "negotiate", Cert::Valid, "TLSv1.3");
    let r = probe(&x).await;
    assert_eq!(r.verdict, "healthy");
    assert_eq!(version(&r, "TLS 1.3"), "accepted");
    assert!(
        version(&r, "TLS 1.2").starts_with("alert protocol_version"),
        "{:?}",
        r.tls_versions
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_usable_certificate() {
    let x = start(
        "mismatched",
        "negotiate",
        Cert::Mismatched,
        "TLSv1.2, TLSv1.3",
    );
    let r = probe(&x).await;
    // xrdp selects TLS, receives the ClientHello and closes without a ServerHello or an alert.
    assert_eq!(r.verdict, "tls-server-abort", "{r:#?}");
    assert_eq!(
        r.findings[0].confidence,
        rdpdiag::diagnose::Confidence::Likely
    );
}

/// ARCHITECTURE.md invariant 2, one brain: the probe's own traffic written with `--capture` and replayed
/// gives every connection the same verdict and the same findings (ids and confidences) as the live probe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_capture_replays_to_the_same_findings() {
    let x = start("oneness", "negotiate", Cert::Valid, "TLSv1.2, TLSv1.3");
    let (t, opts) = target_and_opts(&x);
    let probed = probe_target(t, Arc::new(opts)).await;
    let path = x.dir.join("probe.pcap");
    let mut cap = rdpdiag::probe::capture_file::open_probe_capture(path.to_str().unwrap()).unwrap();
    cap.write_probe(x.addr, &probed.captures).unwrap();
    cap.finish().unwrap();
    // Writing again to the same file is refused: nothing the user gave is overwritten.
    assert!(rdpdiag::probe::capture_file::open_probe_capture(path.to_str().unwrap()).is_err());
    let mut replayed = Vec::new();
    let (_, err) = rdpdiag::replay::replay_source(
        &rdpdiag::replay::Source::File(path.to_str().unwrap().to_string()),
        &rdpdiag::replay::ReplayOptions::default(),
        &mut |r| {
            replayed.push(r);
            true
        },
    );
    assert!(err.is_none(), "{err:?}");
    let key = |r: &rdpdiag::report::ConnectionReport| {
        (
            r.diagnosis.verdict_id(),
            r.diagnosis
                .findings
                .iter()
                .map(|f| (f.id, f.confidence))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(replayed.len(), probed.report.connections.len());
    for live in &probed.report.connections {
        let client = live.client.clone().unwrap();
        let matches: Vec<_> = replayed
            .iter()
            .filter(|r| r.client.as_deref() == Some(client.as_str()))
            .map(key)
            .collect();
        assert!(
            matches.contains(&key(live)),
            "{}: live {:?}, replayed {:?}",
            live.label.as_deref().unwrap_or(""),
            key(live),
            matches
        );
    }
    // And target by target (`replay --as-probe`): the same rules give the same answers.
    let mut runs = rdpdiag::report::build::ProbeRuns::new(30);
    for r in replayed {
        assert!(runs.add(r).is_ok_and(|judged| judged.is_empty()));
    }
    let targets = runs.finish();
    assert_eq!(targets.len(), 1);
    let (live, replayed) = (&probed.report, &targets[0]);
    assert_eq!(live.verdict, replayed.verdict);
    assert_eq!(live.reached, replayed.reached);
    assert_eq!(live.nla, replayed.nla);
    assert_eq!(live.protocols, replayed.protocols);
    assert_eq!(live.tls_versions, replayed.tls_versions);
    assert_eq!(live.tls, replayed.tls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cipher_suites_one_by_one() {
    let x = start("ciphers", "negotiate", Cert::Valid, "TLSv1.2, TLSv1.3");
    let (t, opts) = target_and_opts(&x);
    let opts = ProbeOptions {
        ciphers: true,
        deadline: Duration::from_secs(60),
        ..opts
    };
    let r = probe_target(t, Arc::new(opts)).await.report;
    let answer = |suite: &str| {
        r.ciphers
            .iter()
            .find(|c| c.suite == suite)
            .map(|c| c.answer.clone())
            .unwrap_or_else(|| panic!("{suite} not asked: {:?}", r.ciphers))
    };
    assert_eq!(answer("TLS_AES_128_GCM_SHA256"), "accepted");
    assert_eq!(answer("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"), "accepted");
    // The certificate is RSA: no ECDSA suite can be chosen.
    assert_ne!(
        answer("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        "accepted"
    );
    let names: Vec<&str> = r.ciphers.iter().map(|c| c.suite.as_str()).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "each suite asked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls10_only() {
    // Debian's OpenSSL 3 refuses TLS 1.0 at its default security level; SECLEVEL=0 lets xrdp speak it.
    let x = start_with(
        "tls10",
        "negotiate",
        Cert::Valid,
        "TLSv1",
        Some("DEFAULT:@SECLEVEL=0"),
    );
    let r = probe(&x).await;
    assert_eq!(version(&r, "TLS 1.0"), "accepted", "{:?}", r.tls_versions);
    // A hello offering up to TLS 1.2 is answered with TLS 1.0 (the version is a maximum); one offering only
    // TLS 1.3 (supported_versions) shares nothing with the server.
    assert_eq!(
        version(&r, "TLS 1.2"),
        "server chose TLS 1.0",
        "{:?}",
        r.tls_versions
    );
    assert!(
        version(&r, "TLS 1.3").starts_with("alert protocol_version"),
        "{:?}",
        r.tls_versions
    );
    // A modern client (the default path uses rustls: TLS 1.2 and 1.3 only) cannot agree on a version.
    assert_eq!(r.verdict, "tls-version-mismatch", "{r:#?}");
    assert!(
        r.findings.iter().any(|f| f.id == "tls-legacy-version"),
        "{:?}",
        ids(&r)
    );
}
