//! `gridpatrol-sync-server`: the sync server. It keeps accounts and device tokens, takes
//! pushed ops (authorised by role × scope × kind, stored idempotently) and serves pulls by the
//! user's scope. `--demo` seeds the demo township; every demo user's password is `gridpatrol`.

mod backend;
mod http;
mod sqlite;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "gridpatrol-sync-server",
    version,
    about = "网格消防巡查 GridPatrol sync server"
)]
struct Args {
    /// Where the server keeps its databases.
    #[arg(long, default_value = "gridpatrol-data")]
    data_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Seed the demo township (org tree, users with password `gridpatrol`, 200 places).
    #[arg(long)]
    demo: bool,
    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, default_value_t = 8 << 20)]
    max_body_bytes: usize,
}

/// The demo users' password: printed in the README, for trying the product only.
pub const DEMO_PASSWORD: &str = "gridpatrol";

fn seed_demo(b: &sqlite::SqliteBackend) -> Result<(), Box<dyn std::error::Error>> {
    if b.store().users()?.is_empty() {
        gridpatrol_core::demo::seed(b.store())?;
    }
    for (id, _, _) in b.store().users()? {
        b.set_password(&id, DEMO_PASSWORD)?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let backend = match sqlite::SqliteBackend::open(&args.data_dir) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("错误 / error: cannot open {}: {e}", args.data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    if args.demo {
        if let Err(e) = seed_demo(&backend) {
            eprintln!("错误 / error: demo seed failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("错误 / error: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map_or(args.listen, |a| a);
    println!("listening on http://{addr}");
    let app = http::router(Arc::new(backend), args.max_body_bytes);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 / error: {e}");
            ExitCode::FAILURE
        }
    }
}
