//! `rdpdiag serve`: a Prometheus exporter for RDP endpoints, in `blackbox_exporter`'s multi-target
//! pattern. `GET /probe?target=host[:port][&ciphers=1]` runs one probe — the same questions and rules
//! as `rdpdiag probe` — and answers with its metrics; `GET /metrics` gives the exporter's own
//! counters; `GET /` a page of recent probes and how to scrape. Only targets in `--allow` are probed
//! (403 otherwise), a malformed target is a 400 with one line, more than `--max-concurrent` probes at
//! once get 429, and `--timeout` (or the scraper's own timeout, when shorter) caps each probe. A probe
//! never sends credentials.

pub mod allow;
pub mod metrics;
pub mod page;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;
use tokio::sync::Semaphore;

use crate::probe::target::{parse_spec, Host};
use crate::probe::{probe_address, resolve, ProbeOptions};
use crate::session::CertEntry;
use allow::AllowList;
use metrics::{ExporterMetrics, Format};

/// The default listening address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9833";
/// Recent probes listed on the page.
const RECENT: usize = 50;
/// The header Prometheus sends with its scrape timeout.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";
/// Time kept free of a scraper's timeout to encode and send the answer.
const SCRAPE_MARGIN: Duration = Duration::from_millis(500);

/// What the exporter may do.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub allow: AllowList,
    /// The longest a probe may take (shortened to the scraper's timeout when it sends one).
    pub timeout: Duration,
    pub max_concurrent: usize,
    /// Certificates expiring within this many days get an advisory.
    pub warn_days: i64,
}

/// One probe as the page lists it.
#[derive(Debug, Clone)]
struct Recent {
    at: Instant,
    target: String,
    address: Option<String>,
    verdict: String,
    success: bool,
    nla: String,
    not_after: Option<String>,
    took: Duration,
}

struct Shared {
    config: ServeConfig,
    limit: Arc<Semaphore>,
    metrics: ExporterMetrics,
    registry: Registry,
    recent: Mutex<VecDeque<Recent>>,
}

/// The exporter's routes.
pub fn router(config: ServeConfig) -> Router {
    let (metrics, registry) = ExporterMetrics::new();
    let shared = Arc::new(Shared {
        limit: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
        config,
        metrics,
        registry,
        recent: Mutex::new(VecDeque::with_capacity(RECENT)),
    });
    Router::new()
        .route("/", get(index))
        .route("/probe", get(probe))
        .route("/metrics", get(own_metrics))
        .fallback(not_found)
        .with_state(shared)
}

/// Serves until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, config: ServeConfig) -> std::io::Result<()> {
    axum::serve(listener, router(config)).await
}

/// A one-line plain-text answer.
fn line(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

fn exposition(registries: &[&Registry], format: Format) -> Response {
    match metrics::encode(registries, format) {
        Ok(body) => ([(header::CONTENT_TYPE, format.content_type())], body).into_response(),
        Err(_) => line(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics".to_string(),
        ),
    }
}

fn format_of(headers: &HeaderMap) -> Format {
    Format::from_accept(
        headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok()),
    )
}

async fn not_found() -> Response {
    line(
        StatusCode::NOT_FOUND,
        "not found: GET /probe?target=host[:port], /metrics or /".to_string(),
    )
}

async fn own_metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    exposition(&[&s.registry], format_of(&headers))
}

async fn index(State(s): State<Arc<Shared>>) -> Html<String> {
    let recent: Vec<Recent> = s
        .recent
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default();
    Html(page::render(&recent, &s.config))
}

/// The probe's deadline: `--timeout`, or the scraper's timeout less a margin when that is shorter.
fn deadline(config: &ServeConfig, headers: &HeaderMap) -> Duration {
    let scraper = headers
        .get(SCRAPE_TIMEOUT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .map(|d| d.saturating_sub(SCRAPE_MARGIN).max(Duration::from_secs(1)));
    scraper.map_or(config.timeout, |d| d.min(config.timeout))
}

async fn probe(
    State(s): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let format = format_of(&headers);
    let bad = |s: &Shared, text: String| {
        s.metrics.rejected("bad_request");
        line(StatusCode::BAD_REQUEST, text)
    };
    let Some(given) = query.get("target") else {
        return bad(&s, "missing target: GET /probe?target=host[:port]".to_string());
    };
    let spec = match parse_spec(given, false) {
        Ok(spec) => spec,
        Err(e) => return bad(&s, e.to_string()),
    };
    let Some(target) = spec.targets().next().filter(|_| spec.is_single()) else {
        return bad(
            &s,
            format!("target '{}': one host per probe, not a range", spec.given),
        );
    };
    let ciphers = match query.get("ciphers").map(String::as_str) {
        None | Some("0" | "false" | "") => false,
        Some("1" | "true") => true,
        Some(other) => return bad(&s, format!("ciphers '{other}': expected 1 or 0")),
    };
    let name = match &target.host {
        Host::Name(n) => Some(n.clone()),
        Host::Ip(_) => None,
    };
    let started = Instant::now();
    let deadline = deadline(&s.config, &headers);
    let addr: Option<SocketAddr> = match tokio::time::timeout(deadline, resolve(&target)).await {
        Ok(Ok(addr)) => Some(addr),
        Ok(Err(_)) | Err(_) => None,
    };
    let allowed = match addr {
        Some(a) => s.config.allow.allows(name.as_deref(), a.ip()),
        // A name that does not resolve is probed (as a failure) only when the name itself is allowed.
        None => name.as_deref().is_some_and(|n| s.config.allow.allows_name(n)),
    };
    if !allowed {
        s.metrics.rejected("forbidden");
        let at = addr.map(|a| format!(" ({})", a.ip())).unwrap_or_default();
        return line(
            StatusCode::FORBIDDEN,
            format!("target '{given}'{at} is not in --allow"),
        );
    }
    let Ok(_permit) = s.limit.clone().try_acquire_owned() else {
        s.metrics.rejected("too_many");
        return line(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "more than {} probes at once (--max-concurrent)",
                s.config.max_concurrent
            ),
        );
    };
    let Some(addr) = addr else {
        // Allowed by name, but it does not resolve: a failed probe, not a bad request.
        let took = started.elapsed();
        s.metrics.probes.get_or_create(&vec![("result", "failure")]).inc();
        s.metrics.durations.observe(took.as_secs_f64());
        let reg = metrics::unresolved_registry(took);
        return exposition(&[&reg], format);
    };
    let opts = ProbeOptions {
        concurrency: 1,
        connect_timeout: deadline.min(ProbeOptions::default().connect_timeout),
        step_timeout: deadline.min(ProbeOptions::default().step_timeout),
        deadline,
        warn_days: s.config.warn_days,
        ciphers,
        ..ProbeOptions::default()
    };
    s.metrics.in_flight.inc();
    let probed = probe_address(target, addr, Arc::new(opts)).await;
    s.metrics.in_flight.dec();
    let took = started.elapsed();
    let report = probed.report;
    let success = metrics::success(&report);
    s.metrics
        .probes
        .get_or_create(&vec![(
            "result",
            if success { "success" } else { "failure" },
        )])
        .inc();
    s.metrics.durations.observe(took.as_secs_f64());
    if let Ok(mut recent) = s.recent.lock() {
        if recent.len() >= RECENT {
            recent.pop_back();
        }
        recent.push_front(Recent {
            at: Instant::now(),
            target: report.target.clone(),
            address: report.address.clone(),
            verdict: report.verdict.to_string(),
            success,
            nla: report.nla.to_string(),
            not_after: match report.certificate.first() {
                Some(CertEntry::Parsed(c)) => Some(c.not_after_display.clone()),
                _ => None,
            },
            took,
        });
    }
    let reg = metrics::probe_registry(&report, took);
    exposition(&[&reg], format)
}
