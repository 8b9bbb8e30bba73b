//! `rastro serve`: the HTTP API on a tokio runtime, until Ctrl-C or SIGTERM.

use super::Global;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default: put a reverse proxy or --tls in front
    /// before exposing it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// PEM certificate chain; with --tls-key, serve HTTPS.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 16)]
    pub max_body_mib: usize,
    /// Store connections (and so requests doing store work at once).
    #[arg(long, default_value_t = 8)]
    pub pool_size: usize,
    /// Pull peers' TAXII collections on a schedule: a TOML file of `[[pull]]` tables (`from`,
    /// `collection`, `peer`, `token_file` or `basic_auth_file`, `every_s`; see
    /// docs/federation.md).
    #[arg(long)]
    pub federate: Option<PathBuf>,
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Runs the server; `banner` is printed (to stdout) once it listens.
pub fn run_server(
    g: &Global,
    a: &ServeArgs,
    banner: impl FnOnce(SocketAddr) + Send,
) -> anyhow::Result<()> {
    let tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        _ => None,
    };
    let opts = rastro_server::ServeOptions {
        db: g.db.clone(),
        addr: a.addr,
        tls,
        limits: rastro_server::Limits {
            max_body_bytes: a.max_body_mib.max(1) << 20,
            pool_size: a.pool_size.max(1),
            ..Default::default()
        },
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(rastro_server::serve(opts, shutdown_signal(), banner))?;
    Ok(())
}

pub fn serve(g: &Global, a: ServeArgs) -> anyhow::Result<ExitCode> {
    super::ctx::operator_only(g, "serve")?;
    if let Some(f) = &a.federate {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("reading the federation file {}", f.display()))?;
        let file: super::federate::FederationFile = toml::from_str(&text)
            .with_context(|| format!("{}: not a federation file", f.display()))?;
        super::federate::schedule(g.db.clone(), file);
    }
    let scheme = if a.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    run_server(g, &a, |addr| {
        println!(
            "serving {scheme}://{addr}/api/v1 (OpenAPI at /api/v1/openapi.json); Ctrl-C stops"
        );
    })?;
    Ok(ExitCode::SUCCESS)
}
