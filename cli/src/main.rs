//! `gridpatrol`: the terminal client over the GridPatrol core. Every command opens the device
//! database, does one thing as the user named by `--as`, and prints the result as text (zh-CN
//! first) or, with `--json`, as JSON for scripts. It is how a person tries the product on a
//! laptop, and how end-to-end tests drive a device.

mod args;
mod commands;
mod hazard;
mod place;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "gridpatrol",
    version,
    about = "网格消防巡查 GridPatrol: offline fire-safety grid patrol"
)]
struct Cli {
    /// The device database (created by `init`).
    #[arg(
        long,
        global = true,
        env = "GRIDPATROL_DB",
        default_value = "gridpatrol.db"
    )]
    db: PathBuf,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the device database and install the built-in checklist library.
    Init,
    /// Load the demo township (org tree, users, 200 places) into the database.
    LoadDemo,
    /// Build a demo township in a temporary database, drive every lifecycle path, print the report.
    Demo {
        /// Keep the demo database at this path instead of a temporary file.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// List users and their roles.
    Users,
    /// List the places in your grids.
    Places(args::AsUser),
    /// List places due or overdue for a patrol.
    Due(args::AsUser),
    /// Add or replace a patrol plan (巡查计划): who patrols which places, how often, what first.
    Plan(args::PlanArgs),
    /// List the patrol plans of your grids.
    Plans(args::AsUser),
    /// Show a place's file (一户一档): visits and hazards; or `place add` / `place edit`.
    Place(args::PlaceArgs),
    /// Show the checklist for a place, with the items that failed last time.
    Form(args::PlaceRef),
    /// Record a patrol: answer items, raise hazards from failed ones, finish.
    Patrol(args::PatrolArgs),
    /// List hazards in your grids.
    Hazards(args::HazardsArgs),
    /// Show one hazard, or record a lifecycle transition.
    #[command(subcommand)]
    Hazard(args::HazardCmd),
    /// Overdue hazards of a township, most overdue first.
    Overdue {
        #[arg(long)]
        township: String,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Conflicted events for your level to sort out (offline edits that collided), with
    /// whose action each collided with; `--all` lists every conflict in your area.
    Conflicts {
        #[command(flatten)]
        who: args::AsUser,
        #[arg(long)]
        all: bool,
    },
    /// Log a publicity (宣传) or training (培训) activity.
    Log(args::LogArgs),
    /// Print a report for a grid, village or township, and optionally export the ledger.
    Report(args::ReportArgs),
    /// Sign this device in to a sync server.
    Login {
        #[arg(long)]
        server: String,
        #[arg(long)]
        user: String,
        /// The password (or set GRIDPATROL_PASSWORD).
        #[arg(long, env = "GRIDPATROL_PASSWORD", hide_env_values = true)]
        password: String,
        /// Accept a plain http:// server that is not this machine (password and records then
        /// cross the network unencrypted).
        #[arg(long)]
        insecure_http: bool,
    },
    /// Change the signed-in user's password on the server (a first one must be changed).
    Password {
        /// The current password (or set GRIDPATROL_PASSWORD).
        #[arg(long, env = "GRIDPATROL_PASSWORD", hide_env_values = true)]
        old: String,
        /// The new password, 8 to 256 characters (or set GRIDPATROL_NEW_PASSWORD).
        #[arg(long, env = "GRIDPATROL_NEW_PASSWORD", hide_env_values = true)]
        new: String,
    },
    /// Send this device's work and receive everyone else's (push, then pull).
    Sync,
    /// This device: ops waiting to be sent, ops the server refused (with why), and, with
    /// `--as`, conflicts in that user's grids.
    Status {
        #[arg(long = "as", env = "GRIDPATROL_USER")]
        user: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli.db, cli.json, cli.command) {
        Ok(out) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            if !out.is_empty() {
                let _ = writeln!(std::io::stdout(), "{out}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("错误 / error [{}]: {e}", e.code());
            match e {
                gridpatrol_core::Error::Invalid(_)
                | gridpatrol_core::Error::Rejected(_)
                | gridpatrol_core::Error::NotFound { .. }
                | gridpatrol_core::Error::InsecureServer => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
