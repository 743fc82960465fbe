//! `rdpdiag serve`: the Prometheus exporter (`rdpdiag::serve`) on a tokio runtime.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use rdpdiag::serve::allow::AllowList;
use rdpdiag::serve::{ServeConfig, DEFAULT_LISTEN};

/// `rdpdiag serve` arguments.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback unless told otherwise).
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
    /// Targets that may be probed: an address, CIDR block, nmap range or host name (repeatable, or
    /// comma-separated). Required unless --allow-any.
    #[arg(long, value_name = "CIDR|HOST", required_unless_present = "allow_any")]
    allow: Vec<String>,
    /// Probe whatever a request names (an open scanner: only behind other access control).
    #[arg(long, conflicts_with = "allow")]
    allow_any: bool,
    /// The longest one probe may take, seconds (the scraper's own timeout, when shorter, wins).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Probes at once; more get HTTP 429.
    #[arg(long, value_name = "N", default_value_t = 16)]
    max_concurrent: usize,
    /// Certificates expiring within this many days get an advisory (`rdp_advisory`).
    #[arg(long, value_name = "DAYS", default_value_t = 30)]
    warn_days: i64,
}

pub fn run_serve(args: ServeArgs) -> ExitCode {
    let fail = |why: String| {
        eprintln!("rdpdiag: serve: {why}");
        ExitCode::from(2)
    };
    let allow = if args.allow_any {
        AllowList::any()
    } else {
        let entries: Vec<String> = args
            .allow
            .iter()
            .flat_map(|a| a.split(','))
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        match AllowList::parse(&entries) {
            Ok(list) if !list.is_empty() => list,
            Ok(_) => return fail("--allow: no entries".to_string()),
            Err(e) => return fail(format!("--allow: {e}")),
        }
    };
    let Some(timeout) = Duration::try_from_secs_f64(args.timeout)
        .ok()
        .filter(|d| !d.is_zero())
    else {
        return fail(format!(
            "--timeout {}: expected a positive number of seconds",
            args.timeout
        ));
    };
    if args.max_concurrent == 0 {
        return fail("--max-concurrent 0: expected at least 1".to_string());
    }
    let config = ServeConfig {
        allow,
        timeout,
        max_concurrent: args.max_concurrent,
        warn_days: args.warn_days,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(e) => return fail(format!("--listen {}: {e}", args.listen)),
        };
        let local = listener.local_addr().unwrap_or(args.listen);
        eprintln!(
            "rdpdiag: serve: listening on http://{local}/ (probe: /probe?target=host[:port], own metrics: /metrics)"
        );
        match rdpdiag::serve::serve(listener, config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(e.to_string()),
        }
    })
}
