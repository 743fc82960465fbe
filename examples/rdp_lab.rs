//! A lab of scripted RDP servers on loopback, for benchmarks and demonstrations:
//!
//! ```sh
//! cargo run --release --example rdp_lab -- --count 64 --first 127.0.0.2 --for 120
//! ```
//!
//! Starts `--count` listeners on consecutive loopback addresses from `--first` (each on every `--port`,
//! 3389 by default, one listener per address and port), each with one behaviour of the mix, taken in
//! turn: RDP_NEG_FAILURE codes 1–6 and an unknown 7, SSL selected whatever was offered and a real TLS
//! handshake (rustls, a self-signed certificate from `openssl req`), standard RDP security selected, SSL
//! selected then a hang-up after the ClientHello, RST after the request, silence. `--mix a,b,…` gives
//! another mix by name, each name optionally weighted (`select-ssl-tls*10,silent`: ten SSL servers, then
//! one silent, in turn); `nla-challenge` (HYBRID selected, TLS, an NTLM CHALLENGE) is available by name.
//! Addresses run on across octets (127.0.0.255, 127.0.1.0, …), so thousands fit. Prints one line per listener (`address:port behaviour`) once all are bound, then
//! serves until killed or for `--for SECONDS`. Only 127.0.0.0/8 addresses are accepted.
//!
//! The behaviours are those of `tests/probe_scripted.rs` (the same file, `tests/common/scripted_server.rs`).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "../tests/common/scripted_server.rs"]
mod scripted_server;

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Parser;
use scripted_server::Behaviour;

#[derive(Parser)]
#[command(about = "Scripted RDP servers on loopback addresses")]
struct Args {
    /// How many addresses get listeners.
    #[arg(long, default_value_t = 64)]
    count: u32,
    /// The first address (then the next ones, all in 127.0.0.0/8).
    #[arg(long, default_value = "127.0.0.2")]
    first: Ipv4Addr,
    /// Ports to listen on, on every address (repeatable).
    #[arg(long = "port", default_values_t = [3389u16])]
    ports: Vec<u16>,
    /// Behaviours by name, comma separated, taken in turn (default: the whole mix).
    #[arg(long, value_delimiter = ',')]
    mix: Vec<String>,
    /// Stop after this many seconds (default: serve until killed).
    #[arg(long = "for", value_name = "SECONDS")]
    for_secs: Option<u64>,
}

fn default_mix() -> Vec<Behaviour> {
    let mut mix: Vec<Behaviour> = (1..=7).map(Behaviour::Refuse).collect();
    mix.extend([
        Behaviour::SslHandshake,
        Behaviour::Select(0),
        Behaviour::TlsThenHangUp,
        Behaviour::ResetAfterRequest,
        Behaviour::Silent,
    ]);
    mix
}

fn by_name(name: &str) -> Option<Behaviour> {
    let all = default_mix().into_iter().chain([
        Behaviour::Banner,
        Behaviour::Drip,
        Behaviour::Endless,
        Behaviour::GiantLength,
        Behaviour::NlaChallenge,
    ]);
    all.into_iter().find(|b| b.name() == name)
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("rdp_lab: {what}");
    std::process::exit(2)
}

fn main() {
    let args = Args::parse();
    let mix = if args.mix.is_empty() {
        default_mix()
    } else {
        let mut mix = Vec::new();
        for item in &args.mix {
            let (n, weight) = match item.split_once('*') {
                Some((n, w)) => (
                    n,
                    w.parse::<usize>()
                        .ok()
                        .filter(|w| *w > 0)
                        .unwrap_or_else(|| fail(format!("bad weight in {item}"))),
                ),
                None => (item.as_str(), 1),
            };
            let b = by_name(n).unwrap_or_else(|| fail(format!("unknown behaviour {n}")));
            mix.extend(std::iter::repeat_n(b, weight));
        }
        mix
    };
    let first = u32::from(args.first);
    let last = first.saturating_add(args.count.saturating_sub(1));
    if !args.first.is_loopback() || !Ipv4Addr::from(last).is_loopback() || args.count == 0 {
        fail("every address must be in 127.0.0.0/8");
    }
    let dir = std::env::temp_dir().join(format!("rdp-lab-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(format!("{}: {e}", dir.display())));
    let tls = scripted_server::openssl_self_signed(&dir)
        .and_then(|(chain, key)| scripted_server::acceptor(chain, key).map_err(|e| e.to_string()));
    let _ = std::fs::remove_dir_all(&dir);
    let tls = tls.unwrap_or_else(|e| fail(e));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(e));
    runtime.block_on(async move {
        let mut lines = String::new();
        let mut n = 0usize;
        for a in first..=last {
            for port in &args.ports {
                let addr = SocketAddr::from((Ipv4Addr::from(a), *port));
                let b = mix[n % mix.len()];
                n += 1;
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .unwrap_or_else(|e| fail(format!("bind {addr}: {e}")));
                let acceptor = matches!(b, Behaviour::SslHandshake | Behaviour::NlaChallenge)
                    .then(|| tls.clone());
                scripted_server::spawn_listener(listener, b, acceptor);
                lines.push_str(&format!("{addr} {}\n", b.name()));
            }
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(lines.as_bytes()).and_then(|()| out.flush());
        drop(out);
        match args.for_secs {
            Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
            None => std::future::pending().await,
        }
    });
    // Connections still being served end with the runtime.
    runtime.shutdown_timeout(Duration::from_millis(100));
}
