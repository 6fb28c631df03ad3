//! `quietline-relay serve`: see docs/relay.md.

use axum::serve::ListenerExt;
use clap::Parser;
use quietline_relay::{router, spawn_retention, state, tls, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// quietline-relay: the untrusted mailbox between IT staff and phones, and the fleet view.
#[derive(Debug, Parser)]
#[command(name = "quietline-relay", version)]
struct Cli {
    /// Database: `sqlite:PATH` (created if missing; WAL) or `postgres://user@host/db`.
    #[arg(long, default_value = "sqlite:relay.db")]
    db: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// TLS certificate chain (PEM). Without --tls-cert/--tls-key the relay speaks plain HTTP,
    /// which it allows only on a loopback address.
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// An organisation and its root public key: ORG=ROOT.pub (a file) or ORG=HEX. Repeatable.
    #[arg(long = "org", value_name = "ORG=ROOT", required = true)]
    orgs: Vec<String>,
    /// Days receipts, silent devices and push tokens are kept.
    #[arg(long, default_value_t = 90)]
    retention_days: u32,
    /// Requests a minute per device (and per staff key).
    #[arg(long, default_value_t = 60)]
    rate_per_device: u32,
    /// Requests a minute per client address.
    #[arg(long, default_value_t = 1200)]
    rate_per_addr: u32,
    /// Suggested seconds between polls (the QL-Poll-After header).
    #[arg(long, default_value_t = 900)]
    poll_after: u32,
    /// A private key whose only role in the organisation's policy is `checkin` (FILE, or
    /// ORG=FILE for one organisation): the relay then acknowledges each verified check-in in the
    /// next queue answer, which resets the phone's offline check-in timer. Repeatable.
    #[arg(long = "heartbeat-key", value_name = "[ORG=]KEY")]
    heartbeat_keys: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

fn parse_org(spec: &str) -> Result<(String, [u8; 32]), String> {
    let (org, root) = spec.split_once('=').ok_or_else(|| format!("--org {spec:?}: expected ORG=ROOT.pub"))?;
    if org.is_empty() || !org.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err("--org: an org id is letters, digits, '-', '_' or '.'".into());
    }
    let hex = match quietline_core::wire::unhex::<32>(root.trim()) {
        Some(k) => return Ok((org.to_string(), k)),
        None => std::fs::read_to_string(root).map_err(|e| format!("--org {org}: cannot read {root}: {e}"))?,
    };
    let k = quietline_core::wire::unhex::<32>(hex.trim())
        .ok_or_else(|| format!("--org {org}: {root} is not a public key"))?;
    Ok((org.to_string(), k))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let orgs = cli.orgs.iter().map(|s| parse_org(s)).collect::<Result<Vec<_>, _>>()?;
    let tls = match (&cli.tls_cert, &cli.tls_key) {
        (Some(c), Some(k)) => Some(tls::server_config(c, k).map_err(|e| e.to_string())?),
        _ if cli.listen.ip().is_loopback() => None,
        _ => return Err("plain HTTP is only allowed on a loopback address: give --tls-cert and --tls-key".into()),
    };
    let cfg = Config {
        orgs,
        retention_days: cli.retention_days,
        rate_per_device: cli.rate_per_device,
        rate_per_addr: cli.rate_per_addr,
        poll_after_secs: cli.poll_after,
        heartbeat_keys: cli
            .heartbeat_keys
            .iter()
            .map(|s| quietline_relay::heartbeat::HeartbeatKey::from_spec(s))
            .collect::<Result<_, _>>()?,
        ..Config::default()
    };
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = cli.threads {
        rt.worker_threads(n.max(1));
    }
    let rt = rt.enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let st = state(&cli.db, cfg).await.map_err(|e| format!("database: {e}"))?;
        spawn_retention(st.clone());
        let app = router(st).into_make_service_with_connect_info::<SocketAddr>();
        let tcp = tokio::net::TcpListener::bind(cli.listen).await.map_err(|e| format!("{}: {e}", cli.listen))?;
        let addr = tcp.local_addr().map_err(|e| e.to_string())?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match tls {
            Some(cfg) => {
                println!("quietline-relay listening on https://{addr}");
                // tap_io: axum provides ConnectInfo<SocketAddr> for tapped listeners of any kind.
                let l = tls::TlsListener::new(tcp, cfg).map_err(|e| e.to_string())?.tap_io(|_| {});
                axum::serve(l, app).with_graceful_shutdown(shutdown).await.map_err(|e| e.to_string())
            }
            None => {
                println!("quietline-relay listening on http://{addr}");
                axum::serve(tcp, app).with_graceful_shutdown(shutdown).await.map_err(|e| e.to_string())
            }
        }
    })
}
