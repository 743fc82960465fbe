//! The active driver: asks each target every question a failing RDP client would, each on its own
//! connection, and diagnoses its own traffic with the same session and rules as a capture.

pub mod capture_file;
pub mod conn;
pub mod pace;
pub mod questions;
pub mod target;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::diagnose::target::Question as Asking;
use crate::report::build::{self, InsideTls, TargetObservations};
use crate::report::target::TargetReport;
use crate::session::CertEntry;
use crate::wire::rdp_neg::SecurityProtocols;
use crate::wire::tls::ProtocolVersion;
use questions::{Asked, Timing};
use target::{Exclusions, Host, Target, TargetError};

/// What a probe run may do.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Targets probed at once.
    pub concurrency: usize,
    /// Connections to one target at once (kept low: servers rate-limit connection bursts).
    pub per_target: usize,
    pub connect_timeout: Duration,
    /// One step (an answer awaited) at most this long.
    pub step_timeout: Duration,
    /// All questions to one target within this.
    pub deadline: Duration,
    /// SNI and certificate name, instead of the target's name.
    pub sni: Option<String>,
    pub warn_days: i64,
    /// Ask only the default client's path (no offers, no version enumeration).
    pub quick: bool,
    /// Also enumerate cipher suites, one connection per suite.
    pub ciphers: bool,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            concurrency: 32,
            per_target: 4,
            connect_timeout: Duration::from_secs(3),
            step_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(30),
            sni: None,
            warn_days: 30,
            quick: false,
            ciphers: false,
        }
    }
}

/// Most targets probed at once by default. Measured on loopback with 2,003 servers (2 vCPUs, 2% silent):
/// 32 at once 12.2 s, 256 at once 7.5 s (51 MB), 1024 at once 6.9 s (118 MB): past a few hundred the
/// silent servers' step timeout, not the number of targets in flight, bounds a run.
pub const MAX_AUTO_CONCURRENCY: usize = 256;

/// Open files kept free for everything else (standard streams, the runtime, `--capture`, a lookup).
const SPARE_FILES: u64 = 64;

/// The default `--concurrency`: [`MAX_AUTO_CONCURRENCY`], fewer if the soft open-file limit could not
/// hold `per_target` connections (and one for a resolver) for each target in flight: a connect failing
/// with "too many open files" would read as a fault of the target.
pub fn auto_concurrency() -> usize {
    let per_target = ProbeOptions::default().per_target as u64 + 1;
    let limit = soft_open_file_limit().unwrap_or(256);
    let fit = limit.saturating_sub(SPARE_FILES) / per_target;
    usize::try_from(fit)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_AUTO_CONCURRENCY)
}

/// The soft limit on open files, where the system says (Linux: `/proc/self/limits`).
fn soft_open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_open_files_limit(&text)
}

fn parse_open_files_limit(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    match line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
    {
        "unlimited" => Some(u64::MAX),
        n => n.parse().ok(),
    }
}

/// What a target gave, with the raw material of its connections.
pub struct Probed {
    pub report: TargetReport,
    /// Each question's bytes and facts, the default path first (for `--capture`).
    pub captures: Vec<Capture>,
    pub address: Option<SocketAddr>,
}

/// Resolves a target to one address (the first the resolver gives).
pub async fn resolve(t: &Target) -> Result<SocketAddr, String> {
    match &t.host {
        Host::Ip(ip) => Ok(SocketAddr::new(*ip, t.port)),
        Host::Name(name) => match tokio::net::lookup_host((name.as_str(), t.port)).await {
            Ok(mut addrs) => addrs
                .next()
                .ok_or_else(|| "the name resolves to no address".to_string()),
            Err(e) => Err(e.to_string()),
        },
    }
}

/// Probes one target: every question, within the deadline. A name that does not resolve gives a
/// report with the error (the CLI's runner reports it as an error line instead: see [`run`]).
pub async fn probe_target(t: Target, opts: Arc<ProbeOptions>) -> Probed {
    match resolve(&t).await {
        Ok(addr) => probe_address(t, addr, opts).await,
        Err(e) => {
            let e = format!("{}: {e}", t.given);
            Probed {
                report: build::unasked_target(&t.given, None, Some(e)),
                captures: Vec::new(),
                address: None,
            }
        }
    }
}

/// Probes one target at an address already resolved.
pub async fn probe_address(t: Target, addr: SocketAddr, opts: Arc<ProbeOptions>) -> Probed {
    let name = opts.sni.clone().unwrap_or_else(|| match &t.host {
        Host::Name(n) => n.clone(),
        Host::Ip(ip) => ip.to_string(),
    });
    let sni = match (&opts.sni, &t.host) {
        (Some(s), _) => Some(s.clone()),
        (None, Host::Name(n)) => Some(n.clone()),
        (None, Host::Ip(_)) => None,
    };
    let timing = Timing {
        connect: opts.connect_timeout,
        step: opts.step_timeout,
    };
    match tokio::time::timeout(opts.deadline, ask_all(addr, sni, timing, &opts)).await {
        Ok(p) => {
            let (observed, captures) = observations(&t, addr, &name, p);
            Probed {
                report: build::target(observed),
                captures,
                address: Some(addr),
            }
        }
        Err(_) => {
            let e = format!(
                "the questions took longer than the {} s deadline per target",
                opts.deadline.as_secs()
            );
            Probed {
                report: build::unasked_target(&t.given, Some(addr.to_string()), Some(e)),
                captures: Vec::new(),
                address: Some(addr),
            }
        }
    }
}

/// Everything asked of one target.
struct AllAnswers {
    ciphers: Vec<(ProtocolVersion, crate::wire::tls::CipherSuite, Asked)>,
    default: questions::DefaultPath,
    offers: Vec<(String, Option<SecurityProtocols>, Asked)>,
    versions: Vec<(ProtocolVersion, Asked)>,
    warn_days: i64,
}

async fn ask_all(
    addr: SocketAddr,
    sni: Option<String>,
    t: Timing,
    opts: &ProbeOptions,
) -> AllAnswers {
    let default = questions::ask_default(addr, sni.as_deref(), t).await;
    let entries = &default.asked.observation.timeline.entries;
    let tcp_up = entries
        .iter()
        .any(|e| matches!(e.event, crate::session::Event::TcpConnected { .. }));
    // A server that let the step timeout pass without answering the Connection Request at all would
    // make every further question wait the same timeout (three timeouts in a row, `per_target` at a
    // time) to learn nothing new: like a refused connect, silence ends the questions.
    let silent = !conn::x224_answered(entries)
        && entries
            .iter()
            .any(|e| matches!(e.event, crate::session::Event::Timeout { .. }));
    let mut all = AllAnswers {
        default,
        offers: Vec::new(),
        versions: Vec::new(),
        ciphers: Vec::new(),
        warn_days: opts.warn_days,
    };
    if !tcp_up || silent || opts.quick {
        return all;
    }
    let uses_tls = questions::selected(&all.default.asked.observation)
        .is_some_and(SecurityProtocols::uses_tls);
    let versions: Vec<ProtocolVersion> = if uses_tls {
        vec![
            ProtocolVersion::TLS1_0,
            ProtocolVersion::TLS1_1,
            ProtocolVersion::TLS1_2,
            ProtocolVersion::TLS1_3,
        ]
    } else {
        Vec::new()
    };
    // Each question on its own connection, `per_target` at once; answers put back in question order.
    let limit = Arc::new(Semaphore::new(opts.per_target.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (n, (label, req)) in questions::offers().into_iter().enumerate() {
        let limit = limit.clone();
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (
                n,
                Question::Offer(
                    label.to_string(),
                    req,
                    questions::ask_offer(addr, label, req, t).await,
                ),
            )
        });
    }
    for (n, v) in versions.into_iter().enumerate() {
        let (limit, sni) = (limit.clone(), sni.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (
                n,
                Question::Version(
                    v,
                    questions::ask_tls_version(addr, v, sni.as_deref(), t).await,
                ),
            )
        });
    }
    if opts.ciphers && uses_tls {
        for (n, (v, suite)) in questions::cipher_questions().into_iter().enumerate() {
            let (limit, sni) = (limit.clone(), sni.clone());
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (
                    n,
                    Question::Cipher(
                        v,
                        suite,
                        questions::ask_cipher(addr, v, suite, sni.as_deref(), t).await,
                    ),
                )
            });
        }
    }
    let mut offers = Vec::new();
    let mut versions = Vec::new();
    let mut ciphers = Vec::new();
    while let Some(Ok((n, q))) = set.join_next().await {
        match q {
            Question::Offer(label, req, asked) => offers.push((n, (label, req, asked))),
            Question::Version(v, asked) => versions.push((n, (v, asked))),
            Question::Cipher(v, suite, asked) => ciphers.push((n, (v, suite, asked))),
        }
    }
    offers.sort_by_key(|(n, _)| *n);
    versions.sort_by_key(|(n, _)| *n);
    ciphers.sort_by_key(|(n, _)| *n);
    all.offers = offers.into_iter().map(|(_, o)| o).collect();
    all.versions = versions.into_iter().map(|(_, v)| v).collect();
    all.ciphers = ciphers.into_iter().map(|(_, c)| c).collect();
    all
}

enum Question {
    Offer(String, Option<SecurityProtocols>, Asked),
    Version(ProtocolVersion, Asked),
    Cipher(ProtocolVersion, crate::wire::tls::CipherSuite, Asked),
}

/// The raw material of one question's connection, for `--capture`.
pub struct Capture {
    pub label: String,
    /// The probe's own address on this connection.
    pub local: Option<SocketAddr>,
    pub segments: Vec<(
        crate::session::Timestamp,
        crate::session::Direction,
        Vec<u8>,
    )>,
    pub facts: Vec<(crate::session::Timestamp, crate::session::TransportFact)>,
}

/// What the target's questions observed, handed to the core ([`build::target`]) to judge, and each
/// question's raw record for `--capture`.
fn observations(
    t: &Target,
    addr: SocketAddr,
    name: &str,
    all: AllAnswers,
) -> (TargetObservations, Vec<Capture>) {
    let inside = InsideTls {
        chain: chain_entries(&all.default.chain),
        tls: all.default.tls,
        server_info: all.default.ntlm,
    };
    let questions = std::iter::once((Asking::Default, all.default.asked))
        .chain(
            all.offers
                .into_iter()
                .map(|(_, req, a)| (Asking::Offer(req), a)),
        )
        .chain(
            all.versions
                .into_iter()
                .map(|(v, a)| (Asking::Version(v), a)),
        )
        .chain(
            all.ciphers
                .into_iter()
                .map(|(v, suite, a)| (Asking::Cipher(v, suite), a)),
        );
    let mut asked = Vec::new();
    let mut captures = Vec::new();
    for (question, a) in questions {
        captures.push(Capture {
            label: a.label,
            local: a.record.local,
            segments: a.record.segments,
            facts: a.record.facts,
        });
        asked.push(build::Asked {
            question,
            client: a.record.local.map(|l| l.to_string()),
            observation: a.observation,
        });
    }
    let observed = TargetObservations {
        target: t.given.clone(),
        address: Some(addr.to_string()),
        name: name.to_string(),
        source: "probe".to_string(),
        warn_days: all.warn_days,
        now: conn::now(),
        asked,
        inside,
    };
    (observed, captures)
}

/// How a run paces itself, and what it skips once names are resolved.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// New connections per second across all targets (`--rate`); `None`: as fast as they come.
    pub rate: Option<f64>,
    /// Excluded addresses: a name that resolves into them is skipped (`--exclude`).
    pub exclude: Arc<Exclusions>,
}

/// Targets read ahead of the runner (the reader waits when this many are queued).
pub const TARGET_QUEUE: usize = 1024;

/// The connections one target takes with these options (the default path, each offer, each TLS
/// version, each cipher suite).
fn connections_per_target(opts: &ProbeOptions) -> usize {
    if opts.quick {
        return 1;
    }
    let ciphers = if opts.ciphers {
        questions::cipher_questions().len()
    } else {
        0
    };
    1 + questions::offers().len() + 4 + ciphers
}

/// Targets in flight under `--rate`: no more than the rate can serve within half the deadline, so a
/// target is never cut off by its deadline while it waits for tokens the others took.
fn paced_concurrency(opts: &ProbeOptions, rate: f64) -> usize {
    let per_target = connections_per_target(opts) as f64;
    let fit = rate * opts.deadline.as_secs_f64() / (2.0 * per_target);
    if fit.is_finite() && fit >= 1.0 {
        // `fit` is finite and at least 1 here; the cast saturates at usize::MAX.
        (fit.floor() as usize).min(opts.concurrency.max(1))
    } else {
        1
    }
}

/// Probes every target, `opts.concurrency` at once, handing each result to `sink` as it finishes (in
/// completion order). Targets are pulled from `targets` on a thread of their own as slots free up
/// (at most [`TARGET_QUEUE`] wait), so a stream of any length — standard input from a scanner — is
/// probed as it arrives, in bounded memory. Unparsable input lines and names that do not resolve reach
/// `sink` as errors, never as diagnoses.
pub async fn run<I>(
    targets: I,
    opts: ProbeOptions,
    run: RunOptions,
    mut sink: impl FnMut(Result<Probed, TargetError>),
) where
    I: Iterator<Item = Result<Target, TargetError>> + Send + 'static,
{
    let concurrency = match run.rate {
        Some(rate) => paced_concurrency(&opts, rate),
        None => opts.concurrency.max(1),
    };
    let _gate = run.rate.map(pace::install);
    let (tx, mut rx) = tokio::sync::mpsc::channel(TARGET_QUEUE);
    let reader = std::thread::Builder::new()
        .name("targets".to_string())
        .spawn(move || {
            for item in targets {
                if tx.blocking_send(item).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = reader {
        sink(Err(TargetError::Read {
            source_name: "targets".to_string(),
            why: format!("cannot start the reader: {e}"),
        }));
        return;
    }
    let opts = Arc::new(opts);
    let mut set = tokio::task::JoinSet::new();
    let mut input_done = false;
    loop {
        tokio::select! {
            item = rx.recv(), if !input_done && set.len() < concurrency => match item {
                None => input_done = true,
                Some(Err(e)) => sink(Err(e)),
                Some(Ok(t)) => {
                    let (opts, exclude) = (opts.clone(), run.exclude.clone());
                    set.spawn(async move {
                        let addr = match resolve(&t).await {
                            Ok(addr) => addr,
                            Err(why) => {
                                return Some(Err(TargetError::Unresolvable { given: t.given, why }))
                            }
                        };
                        if matches!(t.host, Host::Name(_)) && exclude.excludes_ip(addr.ip()) {
                            return None;
                        }
                        Some(Ok(probe_address(t, addr, opts).await))
                    });
                }
            },
            Some(done) = set.join_next(), if !set.is_empty() => {
                if let Ok(Some(result)) = done {
                    sink(result);
                }
            }
            else => break,
        }
    }
}

/// The certificate entries of a DER chain (re-exported for drivers and tests).
pub fn chain_entries(chain: &[Vec<u8>]) -> Vec<CertEntry> {
    chain
        .iter()
        .map(|d| crate::session::cert_entry(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_file_limit_from_proc_limits() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             63671                63671                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_open_files_limit(text), Some(1024));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_open_files_limit(unlimited), Some(u64::MAX));
        assert_eq!(
            parse_open_files_limit("Max processes 5 5 processes\n"),
            None
        );
    }

    #[test]
    fn auto_concurrency_is_bounded() {
        let c = auto_concurrency();
        assert!((1..=MAX_AUTO_CONCURRENCY).contains(&c));
    }
}
