//! `gridpatrol-sync-server`: the sync server. It keeps accounts and device tokens, takes
//! pushed ops (authorised by role × scope × kind, stored idempotently), serves pulls and
//! bootstrap snapshots by the user's scope, and compacts superseded history older than the
//! retention window. `--demo` seeds the demo township; every demo user's password is
//! `gridpatrol`. `user ...` manages accounts (safe while the server runs); `backup`, `verify`
//! and `migrate` (to PostgreSQL) work on the files without opening them as a server. The data
//! lives in SQLite files in `--data-dir`, or with `--database-url` in PostgreSQL, where any
//! number of instances serve the same data (photos stay in `--data-dir`, which they then share).

use gridpatrol_sync_server::backend::{seed_demo, Admin, Backend};
use gridpatrol_sync_server::health::{Health, Monitoring};
use gridpatrol_sync_server::metrics::Metrics;
use gridpatrol_sync_server::serve::check_password;
use gridpatrol_sync_server::tokens::PHONE_TOKEN_LIFETIME;
use gridpatrol_sync_server::{backup, http, import, migrate_pg, pg, setup, sqlite, DEMO_PASSWORD};

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gridpatrol_core::org::{Actor, Role, User};

#[derive(Parser)]
#[command(
    name = "gridpatrol-sync-server",
    version,
    about = "网格消防巡查 GridPatrol sync server"
)]
struct Args {
    /// Where the server keeps its databases and photos (photos only, with --database-url).
    #[arg(long, default_value = "gridpatrol-data", global = true)]
    data_dir: PathBuf,
    /// Keep the data in PostgreSQL (postgres://user@host:port/db) instead of SQLite files.
    #[arg(long, env = "GRIDPATROL_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Connections each instance opens to PostgreSQL at most.
    #[arg(long, default_value_t = 16, global = true)]
    database_connections: u32,
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Seed the demo township (org tree, users with password `gridpatrol`, 200 places).
    #[arg(long)]
    demo: bool,
    /// With --demo, also the demo's two months of patrols and cases (so the console has
    /// something to show); `--demo-history false` seeds people and places only.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    demo_history: bool,
    /// With --demo, this many more grids, each with a worker (xw0000...) and 10 places, for
    /// load tests (`gridpatrol-load`).
    #[arg(long, default_value_t = 0)]
    demo_grids: usize,
    /// Largest request body accepted, in bytes, after decompression (larger ones get 413).
    #[arg(long, default_value_t = 8 << 20)]
    max_body_bytes: usize,
    /// Largest photo accepted, in bytes (larger ones are refused with a message the phone shows).
    #[arg(long, default_value_t = 20 << 20)]
    max_photo_bytes: u64,
    /// Photo bytes the records of one user may hold on the server, every copy and unfinished
    /// uploads included (beyond it their uploads are refused with a reason the phone shows).
    #[arg(long, default_value_t = gridpatrol_sync_server::photos::PHOTO_QUOTA_BYTES)]
    photo_quota_bytes: u64,
    /// A reverse proxy in front of the server (repeatable): from it, the client's address is
    /// read from `X-Forwarded-For`, so that sign-in limits apply per real client and not to
    /// everyone behind the proxy at once. Never name an address anyone else can connect from.
    #[arg(long = "trusted-proxy", value_name = "IP")]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Hours a sign-in to the township console lasts before it must be made again.
    #[arg(long, default_value_t = 12)]
    console_session_hours: u32,
    /// Days a phone's sign-in lasts unused [default: 30]: each sync starts the count again,
    /// and a phone idle for longer must sign in again (what it has not sent stays on it).
    /// Fractions are allowed (0.5 is twelve hours).
    #[arg(long, value_parser = days)]
    phone_token_days: Option<Duration>,
    /// Superseded history older than this many days is compacted; a device away longer
    /// starts again from a snapshot (keeping its unsynced records).
    #[arg(long, default_value_t = 90)]
    retention_days: u64,
    /// `/readyz` answers 503 when the disk holding --data-dir has less free space than this,
    /// in MiB, so that a balancer sends phones elsewhere before photos and the database fill it.
    #[arg(long, default_value_t = gridpatrol_sync_server::health::MIN_FREE_DISK_MB)]
    min_free_disk_mb: u64,
    /// How the server logs to standard error: `text` lines, or `json` objects (one a line) for
    /// a log collector.
    #[arg(long, value_enum, default_value = "text", global = true)]
    log_format: gridpatrol_sync_server::log::LogFormat,
    /// The least severe log lines written: `info` (every request), `warn` (refusals and
    /// lock-outs), `error`.
    #[arg(
        long,
        value_enum,
        env = "GRIDPATROL_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    log_level: gridpatrol_sync_server::log::LogLevel,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// A township's first start: creates the county and township and the first township
    /// officer (password read from standard input, one line), then exits. The server then
    /// starts without --demo and the officer signs in to the console.
    Init {
        /// The county's name (县、市、区).
        #[arg(long)]
        county: String,
        /// The county's id, as typed in imports and commands.
        #[arg(long, default_value = "c01")]
        county_id: String,
        /// The township's name (乡镇、街道).
        #[arg(long)]
        township: String,
        #[arg(long, default_value = "t01")]
        township_id: String,
        /// The first township officer's user id.
        #[arg(long)]
        admin: String,
        #[arg(long)]
        admin_name: String,
        #[arg(long)]
        admin_phone: Option<String>,
    },
    /// Import the township's 底数清单 (villages, grids, places, people) from the template's
    /// XLSX, or CSV files of its sheets, as a township officer. Every row is checked first; a
    /// file with any bad row imports nothing. Prints what changes, and the first password of
    /// each person added (shown only this once).
    Import {
        /// The importing township officer's user id.
        #[arg(long = "as")]
        officer: String,
        /// Only check the file(s) and show what would change.
        #[arg(long)]
        dry_run: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write the 底数清单 template (XLSX) to a file.
    Template {
        #[arg(long)]
        to: PathBuf,
    },
    /// Manage accounts: passwords are read from standard input, one line.
    #[command(subcommand)]
    User(UserCommand),
    /// Back up the data folder to one file, safe while the server runs: the op log and the
    /// accounts (SQLite's online backup) and every complete photo. With --database-url, the
    /// photos only (the database is backed up with `pg_dump`, docs/deploy.md).
    Backup {
        /// The backup file; written as FILE.tmp and renamed once complete.
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data folder (the server stopped), checked first as
    /// `verify` does, and begin a new epoch: at its next sync every phone sends again what the
    /// server forgot and starts again from a snapshot. With --database-url, restore the
    /// database with `pg_restore` first (docs/deploy.md); this restores the photos and begins
    /// the epoch.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// When the backup was made, read from it before the server's storage opens.
        #[arg(skip)]
        made_ms: Option<i64>,
    },
    /// Check a backup file: every member against its manifest, the databases' integrity, each
    /// photo against its name. Exits non-zero on any fault.
    Verify { file: PathBuf },
    /// Move a SQLite township (its server stopped) into an empty PostgreSQL database: the op
    /// log at its positions, accounts, device tokens and photos, so phones carry on syncing
    /// without signing in again.
    Migrate {
        /// The SQLite data folder to move.
        #[arg(long)]
        from_data_dir: PathBuf,
        /// The empty PostgreSQL database (postgres://user@host:port/db).
        #[arg(long)]
        to_database_url: String,
        /// The PostgreSQL deployment's --data-dir, where its photos are kept [default: the
        /// folder moved from, whose photos then stay where they are].
        #[arg(long)]
        to_data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// List users with their role and org nodes.
    List,
    /// Add a user (or replace their record) and set their password.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// grid_worker, village_leader, township_officer or brigade_advisor.
        #[arg(long)]
        role: String,
        /// Org node the user answers for (repeat for several grids).
        #[arg(long = "org", required = true)]
        orgs: Vec<String>,
        #[arg(long)]
        phone: Option<String>,
    },
    /// Reassign a user to other org nodes; their devices resync to the new scope.
    Assign {
        id: String,
        #[arg(long = "org", required = true)]
        orgs: Vec<String>,
    },
    /// Set a user's password.
    Password { id: String },
    /// Revoke every device token of a user (a lost phone); they must sign in again.
    Revoke { id: String },
    /// Disable a user (someone who left): no sign-in, every device token revoked, their records
    /// kept. `user password` enables them again.
    Disable { id: String },
}

/// How often a running server compacts.
const COMPACT_EVERY: Duration = Duration::from_secs(24 * 3600);

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

/// A positive number of days, as a duration.
fn days(text: &str) -> Result<Duration, String> {
    let days: f64 = text.parse().map_err(|_| format!("not a number: {text}"))?;
    (days > 0.0)
        .then(|| Duration::try_from_secs_f64(days * 24.0 * 3600.0).ok())
        .flatten()
        .ok_or_else(|| format!("not a positive number of days: {text}"))
}

fn read_password() -> AnyResult<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn user_command(b: &impl Admin, cmd: UserCommand) -> AnyResult<()> {
    let sys = Actor::provisioner();
    match cmd {
        UserCommand::List => {
            let records = b.records()?;
            for (id, name, role) in records.users()? {
                let orgs = records.user(&id)?.org_ids.join(",");
                println!("{id}\t{name}\t{}\t{orgs}", role.zh());
            }
        }
        UserCommand::Add {
            id,
            name,
            role,
            orgs,
            phone,
        } => {
            let role: Role = role.parse()?;
            let password = read_password()?;
            check_password(&password)?;
            let user = User {
                id: id.clone(),
                name,
                phone,
                role,
                org_ids: orgs,
            };
            b.author(|store| store.put_user(&sys, user))?;
            b.set_password(&id, &password)?;
            println!("已添加用户 / user added: {id}");
        }
        UserCommand::Assign { id, orgs } => {
            b.author(|store| {
                let mut user = store.user(&id)?;
                user.org_ids = orgs;
                store.put_user(&sys, user)
            })?;
            println!("已调整负责范围 / reassigned: {id}");
        }
        UserCommand::Password { id } => {
            let password = read_password()?;
            check_password(&password)?;
            b.set_password(&id, &password)?;
            println!("已设置密码 / password set: {id}");
        }
        UserCommand::Revoke { id } => {
            let n = b.revoke_user(&id)?;
            println!("已注销 {n} 台设备的登录 / revoked {n} device token(s): {id}");
        }
        UserCommand::Disable { id } => {
            let n = b.disable_user(&id)?;
            println!("已停用，注销 {n} 台设备的登录 / disabled, {n} device token(s) revoked: {id}");
        }
    }
    Ok(())
}

fn import_files(b: &impl Admin, officer: &str, dry_run: bool, files: &[PathBuf]) -> AnyResult<()> {
    let mut book = import::Book::default();
    let mut problems = Vec::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Err(p) = book.add_file(&name.unwrap_or_default(), &std::fs::read(f)?) {
            problems.push(p);
        }
    }
    let plan = if problems.is_empty() {
        import::check(b.records()?, officer, &book).map_err(|p| problems = p)
    } else {
        Err(())
    };
    let Ok(plan) = plan else {
        for p in &problems {
            eprintln!("{} / {}", p.zh_line(), p.en_line());
        }
        return Err(format!(
            "{} 处问题，未导入任何内容 / {} problem(s), nothing imported",
            problems.len(),
            problems.len()
        )
        .into());
    };
    let summary = plan.summary();
    println!("{} / {}", summary.zh(), summary.en());
    if dry_run || summary.is_empty() {
        println!("未写入 / nothing written");
        return Ok(());
    }
    for (id, password) in import::apply(b, plan)? {
        println!("初始密码 / first password\t{id}\t{password}");
    }
    println!("已导入 / imported");
    Ok(())
}

/// Starts the HTTP server on a runtime of its own, outside which the backend was opened and is
/// dropped at the end (a PostgreSQL client blocks on a runtime of its own, which must never run
/// on one of this runtime's threads).
fn serve<B: Backend + Admin + Health>(args: Args, backend: B) -> AnyResult<()> {
    if args.demo {
        seed_demo(&backend, DEMO_PASSWORD, args.demo_grids, args.demo_history)?;
    }
    let retention = Duration::from_secs(args.retention_days.saturating_mul(24 * 3600));
    backend.compact(retention)?;
    let backend = Arc::new(backend);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let served = runtime.block_on(listen(args, backend.clone(), retention));
    drop(runtime);
    drop(backend);
    served
}

async fn listen<B: Backend + Admin + Health>(
    args: Args,
    backend: Arc<B>,
    retention: Duration,
) -> AnyResult<()> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr().map_or(args.listen, |a| a);
    println!("listening on http://{addr}");
    let compactor = backend.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(COMPACT_EVERY);
        every.tick().await;
        loop {
            every.tick().await;
            let b = compactor.clone();
            if tokio::task::spawn_blocking(move || b.compact(retention))
                .await
                .map_or(true, |r| r.is_err())
            {
                tracing::error!("compaction failed; will try again");
            }
        }
    });
    let console = gridpatrol_sync_server::console::Config {
        session_seconds: args.console_session_hours.saturating_mul(3600),
    };
    let proxies = gridpatrol_sync_server::client::TrustedProxies(args.trusted_proxies.clone());
    let monitoring = Monitoring {
        metrics: Arc::new(Metrics::default()),
        health: backend.clone(),
        data_dir: args.data_dir.clone(),
        min_free_bytes: args.min_free_disk_mb.saturating_mul(1 << 20),
    };
    let app = http::router(backend, args.max_body_bytes, console, proxies, monitoring);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // Sign-ins are limited per client address too, so handlers see who connected.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

fn run<B: Backend + Admin + Health>(mut args: Args, backend: B) -> AnyResult<()> {
    match args.command.take() {
        Some(Command::User(cmd)) => user_command(&backend, cmd),
        Some(Command::Import {
            officer,
            dry_run,
            files,
        }) => import_files(&backend, &officer, dry_run, &files),
        Some(Command::Template { to }) => {
            std::fs::write(&to, import::template::xlsx()?)?;
            println!("已写出导入模板 / template written: {}", to.display());
            Ok(())
        }
        Some(Command::Init {
            county,
            county_id,
            township,
            township_id,
            admin,
            admin_name,
            admin_phone,
        }) => {
            let start = setup::FirstStart {
                county_id,
                county,
                township_id,
                township,
                admin_id: admin,
                admin_name,
                admin_phone,
            };
            setup::init_township(&backend, &start, &read_password()?)?;
            println!(
                "已创建 {}（{}）及乡镇管理员 {}；不带 --demo 启动服务器后即可登录管理后台 / created {} ({}) \
                 and township officer {}; start the server without --demo and sign in to the console",
                start.township, start.township_id, start.admin_id,
                start.township, start.township_id, start.admin_id
            );
            Ok(())
        }
        // PostgreSQL: the photos are back (`main`), the database was put back by pg_restore;
        // the new epoch begins here.
        Some(Command::Restore { made_ms, .. }) => {
            restored(backend.begin_epoch(made_ms)?);
            Ok(())
        }
        // Run by `offline` before any backend opens; never reaches here.
        Some(Command::Backup { .. } | Command::Verify { .. } | Command::Migrate { .. }) => {
            Err("not a server command".into())
        }
        None => serve(args, backend),
    }
}

/// The commands that read or write a data folder or database without opening it as a server
/// would (a running server owns it): `None` for every other command.
fn offline(args: &Args) -> Option<AnyResult<()>> {
    let done = match args.command.as_ref()? {
        Command::Backup { to } => match &args.database_url {
            None => backup::backup_sqlite(&args.data_dir, to)
                .map(|s| print_summary(("已备份", "backed up"), &s)),
            Some(_) => backup::backup_photos(&args.data_dir, to).map(|s| {
                print_summary(("已备份", "backed up"), &s);
                println!(
                    "PostgreSQL 数据库请用 pg_dump 备份（见 docs/deploy.md） / back up the \
                     PostgreSQL database with pg_dump (see docs/deploy.md)"
                );
            }),
        }
        .map_err(Into::into),
        Command::Restore { from, .. } if args.database_url.is_none() => {
            backup::restore_sqlite(from, &args.data_dir).map(|(summary, epoch)| {
                print_summary(("已恢复备份", "backup put back"), &summary);
                restored(epoch);
            })
        }
        .map_err(Into::into),
        Command::Verify { file } => backup::verify(file)
            .map(|s| print_summary(("备份完好", "the backup is sound"), &s))
            .map_err(Into::into),
        Command::Migrate {
            from_data_dir,
            to_database_url,
            to_data_dir,
        } => {
            let photos_to = to_data_dir.as_ref().unwrap_or(from_data_dir);
            migrate_pg::migrate(from_data_dir, to_database_url, photos_to)
                .map(|m| {
                    println!("{} / {}", m.zh(), m.en());
                    println!(
                        "请用 --database-url 启动服务器，--data-dir {} / start the server with \
                         --database-url and --data-dir {}",
                        photos_to.display(),
                        photos_to.display()
                    );
                })
                .map_err(Into::into)
        }
        _ => return None,
    };
    Some(done)
}

fn restored(epoch: i64) {
    println!(
        "已从备份恢复，新纪元 {epoch}：各手机下次同步时会重新上传服务器缺少的记录；\
         备份之后在管理台所做的操作需重新办理 / restored from the backup, new epoch {epoch}: at \
         their next sync the phones send again what the server lacks; what was done in the \
         console after the backup must be done again"
    );
}

fn print_summary((zh, en): (&str, &str), s: &backup::Summary) {
    println!("{zh}：{} / {en}: {}", s.zh(), s.en());
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    gridpatrol_sync_server::log::init(args.log_format, args.log_level);
    if let Some(done) = offline(&args) {
        return exit(done);
    }
    if let Some(Command::Restore { from, made_ms }) = &mut args.command {
        match backup::restore_photos(from, &args.data_dir) {
            Ok((summary, made)) => {
                print_summary(("已恢复照片", "photos put back"), &summary);
                *made_ms = Some(made);
            }
            Err(e) => return exit(Err(e.into())),
        }
    }
    let phone_tokens = args.phone_token_days.unwrap_or(PHONE_TOKEN_LIFETIME);
    let quota = args.photo_quota_bytes;
    let result = match args.database_url.clone() {
        None => match sqlite::SqliteBackend::open(&args.data_dir, args.max_photo_bytes) {
            Ok(b) => run(
                args,
                b.with_phone_token_lifetime(phone_tokens)
                    .with_photo_quota(quota),
            ),
            Err(e) => Err(format!("cannot open {}: {e}", args.data_dir.display()).into()),
        },
        Some(url) => {
            let photos = args.data_dir.join("photos");
            match pg::PgBackend::open(
                &url,
                args.database_connections,
                photos,
                args.max_photo_bytes,
            ) {
                Ok(b) => run(
                    args,
                    b.with_phone_token_lifetime(phone_tokens)
                        .with_photo_quota(quota),
                ),
                Err(e) => Err(format!("cannot open the PostgreSQL database: {e}").into()),
            }
        }
    };
    exit(result)
}

fn exit(result: AnyResult<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 / error: {e}");
            ExitCode::FAILURE
        }
    }
}
