//! A real CredSSP/NLA peer for the tests: FreeRDP's shadow server (`freerdp-shadow-cli`, Debian
//! `freerdp2-shadow-x11`) sharing its own Xvfb display, bound to a free 127.0.0.1 port, with a SAM file
//! made by `winpr-hash` for NLA. Both processes are stopped by PID when the [`Shadow`] is dropped (also when
//! a test panics). `.ci/run` installs the three packages; on a machine without them [`Shadow::start`]
//! returns `None` and says why, so the test can skip.
//!
//! As root the server runs in its own UTS namespace (`unshare -u`) with the host name [`SHADOW_HOST`],
//! so the names its NTLM CHALLENGE carries are known in advance; otherwise it carries this machine's name.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The host name the shadow server gets when the test may give it one (root).
pub const SHADOW_HOST: &str = "rdpdiag-shadow";
/// The account in the SAM file (user, domain, password).
pub const USER: &str = "alice";
pub const DOMAIN: &str = "LABDOM";
pub const PASSWORD: &str = "Corr3ct-Horse";

/// The security the server is forced to (`/sec:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sec {
    Nla,
    Tls,
    Rdp,
}

impl Sec {
    pub fn arg(self) -> &'static str {
        match self {
            Sec::Nla => "/sec:nla",
            Sec::Tls => "/sec:tls",
            Sec::Rdp => "/sec:rdp",
        }
    }
}

/// A running shadow server and its display.
pub struct Shadow {
    pub addr: SocketAddr,
    /// A private directory (HOME of the server: its generated certificate, the SAM file, logs).
    pub dir: PathBuf,
    /// The display number of its Xvfb (clients run against it too).
    pub display: u32,
    /// The host name the server runs under (what its CHALLENGE names).
    pub host_name: String,
    server: Option<Child>,
    xvfb: Option<Child>,
}

impl Drop for Shadow {
    fn drop(&mut self) {
        for child in [self.server.take(), self.xvfb.take()].into_iter().flatten() {
            stop(child);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops a process we started, by its PID: SIGTERM first (Xvfb then removes its lock file and socket),
/// SIGKILL if it is still there after a second.
fn stop(mut child: Child) {
    if let Ok(None) = child.try_wait() {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(1) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Is `tool` on the PATH?
fn installed(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// This machine's host name as the shadow server reads it.
fn machine_host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

fn log_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Starts Xvfb on a free display (the first whose socket and lock do not exist, from a number derived from
/// our PID), waiting for its socket.
fn start_xvfb(dir: &Path) -> (Child, u32) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 100 + (std::process::id() % 400) * 8;
    for _ in 0..64 {
        let n = base + NEXT.fetch_add(1, Ordering::Relaxed) % 3000;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        if socket.exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let log = std::fs::File::create(dir.join(format!("xvfb-{n}.log"))).unwrap();
        let mut child = Command::new("Xvfb")
            .arg(format!(":{n}"))
            // -noreset: without it Xvfb resets when its first client (the server probing the display)
            // disconnects, and the server's next XOpenDisplay can fall into the reset and fail.
            .args(["-noreset", "-nolisten", "tcp", "-screen", "0", "640x480x24"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("Xvfb: {e}"));
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if socket.exists() {
                return (child, n);
            }
            if let Ok(Some(_)) = child.try_wait() {
                break; // another server took the display at the same moment: try the next one
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        stop(child);
    }
    panic!("no free X display for Xvfb");
}

impl Shadow {
    /// Starts a shadow server forced to `sec` (NLA against a SAM file holding [`USER`] / [`DOMAIN`] /
    /// [`PASSWORD`]), or `None` with a message on stderr when the binaries are not installed.
    pub fn start(name: &str, sec: Sec) -> Option<Shadow> {
        let missing: Vec<&str> = ["freerdp-shadow-cli", "Xvfb", "winpr-hash"]
            .into_iter()
            .filter(|t| !installed(t))
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "skipped: {} not installed (.ci/run installs freerdp2-shadow-x11, xvfb, winpr-utils)",
                missing.join(", ")
            );
            return None;
        }
        let dir =
            std::env::temp_dir().join(format!("rdpdiag-shadow-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sam = dir.join("SAM");
        let hash = Command::new("winpr-hash")
            .args(["-u", USER, "-p", PASSWORD, "-d", DOMAIN, "-f", "sam"])
            .output()
            .unwrap_or_else(|e| panic!("winpr-hash: {e}"));
        assert!(hash.status.success(), "winpr-hash: {hash:?}");
        std::fs::write(&sam, &hash.stdout).unwrap();

        let mut shadow = Shadow {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir: dir.clone(),
            display: 0,
            host_name: String::new(),
            server: None,
            xvfb: None,
        };
        // A UTS namespace needs root and a kernel/container that allows it: tried, not assumed.
        let own_uts = is_root()
            && installed("hostname")
            && Command::new("unshare")
                .args(["-u", "true"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        shadow.host_name = if own_uts {
            SHADOW_HOST.to_string()
        } else {
            machine_host_name()
        };
        // Should the server still fail to open its display, both start again, on a new display.
        for attempt in 0..5 {
            if let Some(old) = shadow.xvfb.take() {
                stop(old);
            }
            let (xvfb, display) = start_xvfb(&dir);
            shadow.xvfb = Some(xvfb);
            shadow.display = display;
            let port = free_port();
            let log_path = dir.join(format!("shadow-{attempt}.log"));
            let log = std::fs::File::create(&log_path).unwrap();
            let mut args = vec![
                "/bind-address:127.0.0.1".to_string(),
                format!("/port:{port}"),
                sec.arg().to_string(),
            ];
            if sec == Sec::Nla {
                args.push(format!("/sam-file:{}", sam.display()));
            }
            let mut cmd = if own_uts {
                // unshare and sh exec into the server: the child's PID is the server's.
                let mut c = Command::new("unshare");
                c.args([
                    "-u",
                    "sh",
                    "-c",
                    "hostname \"$0\" && exec freerdp-shadow-cli \"$@\"",
                ])
                .arg(SHADOW_HOST)
                .args(&args);
                c
            } else {
                let mut c = Command::new("freerdp-shadow-cli");
                c.args(&args);
                c
            };
            let mut child = cmd
                .env("DISPLAY", format!(":{display}"))
                .env("HOME", &dir)
                .env("XDG_CONFIG_HOME", dir.join(".config"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("freerdp-shadow-cli: {e}"));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let started = Instant::now();
            let mut exited = false;
            while started.elapsed() < Duration::from_secs(15) {
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    shadow.addr = addr;
                    shadow.server = Some(child);
                    return Some(shadow);
                }
                if let Ok(Some(_)) = child.try_wait() {
                    exited = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            stop(child);
            if !exited {
                panic!(
                    "freerdp-shadow-cli did not listen on {addr}: {}",
                    log_of(&log_path)
                );
            }
            eprintln!(
                "freerdp-shadow-cli exited at start (attempt {}): {}",
                attempt + 1,
                log_of(&log_path)
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("freerdp-shadow-cli did not start in 5 attempts");
    }

    /// The NetBIOS name the server's NTLM CHALLENGE carries: its host name up to the first dot, in
    /// capitals (as winpr's NTLM builds it; FreeRDP also sends it as the NetBIOS domain).
    pub fn netbios_name(&self) -> String {
        self.dns_name().to_uppercase()
    }

    /// The DNS computer (and DNS domain) name it carries: the host name up to the first dot.
    pub fn dns_name(&self) -> String {
        self.host_name
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string()
    }
}
