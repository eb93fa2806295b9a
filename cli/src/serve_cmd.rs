//! `feedpipe serve`: the Step Functions API (AWS JSON 1.0) over the local executions, in one
//! long-running process that also runs the executions it starts (and, with `--schedule`, the
//! local scheduler). It listens on loopback unless told otherwise; any other address needs a
//! token. SIGINT or SIGTERM stops it; executions it was running are aborted (redrivable), and
//! any it could not close are marked FAILED by the next command.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::run_cmd::{local, runtime};

/// Serve the Step Functions API for local runs.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// The configuration file (default ./feedpipe.toml, else the embedded example).
    #[arg(long, env = "FEEDPIPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where to listen (port 0: any free port; the address is printed on the first line).
    #[arg(long, default_value = "127.0.0.1:8083")]
    pub listen: SocketAddr,
    /// Required to listen on an address other than loopback: clients send it as their access
    /// key id (`AWS_ACCESS_KEY_ID`).
    #[arg(long, env = "FEEDPIPE_TOKEN")]
    pub token: Option<String>,
    /// Also run the local scheduler (as `feedpipe schedule`).
    #[arg(long)]
    pub schedule: bool,
}

/// Runs `feedpipe serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !args.listen.ip().is_loopback() && args.token.is_none() {
        bail!(
            "listening on {} (not loopback) needs a token: --token T or FEEDPIPE_TOKEN; clients then use T as their access key id",
            args.listen
        );
    }
    let local = Arc::new(local(args.config.as_deref(), true)?);
    runtime()?.block_on(async move {
        local.recover().await?;
        for m in local.machines().list()? {
            local
                .recover_in(&local.machines().executions(&m.name))
                .await?;
        }
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!("http://{addr}");
        eprintln!(
            "feedpipe serve: the Step Functions API on http://{addr} (e.g. aws stepfunctions --endpoint-url http://{addr} list-executions --state-machine-arn arn:aws:states:us-east-1:123456789012:stateMachine:feedpipe)"
        );
        let server = Arc::new(serve::Server::new(local.clone(), args.token.clone()));
        let app = serve::router(server).into_make_service_with_connect_info::<SocketAddr>();
        let http = axum::serve(listener, app).with_graceful_shutdown(shutdown());
        if args.schedule {
            let clock = runs::clock::SystemClock;
            let scheduler = runs::scheduler::run(
                &local,
                &clock,
                None,
                None,
                &crate::schedule_cmd::Printer,
                None,
                shutdown(),
            );
            let (served, scheduled) = tokio::join!(http, scheduler);
            served?;
            scheduled?;
        } else {
            http.await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
