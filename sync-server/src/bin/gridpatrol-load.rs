//! `gridpatrol-load`: simulates many devices syncing with one or more server instances (each
//! device picks an instance at random for each request, as behind a load balancer) and
//! reports throughput, latency percentiles and errors.
//!
//! Devices speak the sync protocol over HTTP themselves, so the machine's effort goes to the
//! server rather than to a thousand device databases. A device signs in as a demo user (most
//! are grid workers, some village leaders and township officers), takes a snapshot, then
//! syncs every `--interval` seconds on average (exponentially spread): workers record patrols
//! first (one to five, more in the first fifth of the run: the morning round), one device in
//! twenty comes back after days offline with a hundred to three hundred patrols, and one sync
//! in a hundred is a phone starting afresh (a whole snapshot). A sync is a push when there is
//! anything to push, then pulls until the server has nothing more. Exits with an error if any
//! request failed.
//!
//! Patrols are real: one is recorded through the core on a scratch device, and the rest are
//! copies of it under new ids, workers, places and times.
//!
//! Run against a server started with `--demo --demo-grids 1000` (a county's worth of grids,
//! one worker each, so that a device pulls what a real one would):
//! `gridpatrol-load --server http://127.0.0.1:8787 --devices 1000 --seconds 60`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use gridpatrol_core::demo::Rng;
use gridpatrol_core::op::Op;
use gridpatrol_core::org::Role;
use gridpatrol_core::sync::protocol::{
    PullResponse, PushOutcome, PushRequest, PushResponse, SnapshotPage, PROTOCOL_VERSION,
};
use gridpatrol_core::{Clock, Store};
use gridpatrol_sync_server::synthetic::{example_patrol, Numbering, PLACE_TYPE};
use serde::Deserialize;
use tokio::sync::Mutex;
use uuid::Uuid;

#[derive(Parser)]
#[command(
    name = "gridpatrol-load",
    about = "网格消防巡查 GridPatrol sync load generator"
)]
struct Args {
    /// Server instance URL (repeat for several instances).
    #[arg(long = "server", required = true)]
    servers: Vec<String>,
    #[arg(long, default_value_t = 1000)]
    devices: usize,
    /// How long to measure, after every device has signed in and taken its snapshot.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Mean seconds between one device's syncs.
    #[arg(long, default_value_t = 10.0)]
    interval: f64,
    #[arg(long, default_value = "gridpatrol")]
    password: String,
}

type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// One of `n` (0 when `n` is 0), from a device's own generator: one per device, whose
/// splitmix64 keeps devices of neighbouring seeds out of step.
fn pick(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// Where a worker patrols: places of their grids of the example patrol's place type.
type Beats = HashMap<String, Vec<(Uuid, String)>>;
#[derive(Deserialize)]
struct LoginReply {
    token: String,
}

#[derive(Default)]
struct Stats {
    latencies: HashMap<&'static str, Vec<f64>>,
    errors: HashMap<String, usize>,
    syncs: usize,
    ops_pushed: usize,
    ops_pulled: usize,
    /// Ops pulled (and taken in snapshots) by devices of each role.
    pulled_by: HashMap<&'static str, usize>,
}

impl Stats {
    fn pulled(&mut self, user: &str, n: usize) {
        self.ops_pulled += n;
        let role = match user.as_bytes().first() {
            Some(b'o') => "officers",
            Some(b'l') => "leaders",
            _ => "workers",
        };
        *self.pulled_by.entry(role).or_default() += n;
    }
}

struct Device {
    user: String,
    id: Uuid,
    token: String,
    cursor: String,
    numbering: Numbering,
    rng: Rng,
    offline_once: bool,
}

struct Shared {
    http: reqwest::Client,
    servers: Vec<String>,
    example: Op,
    beats: Beats,
    stats: Mutex<Stats>,
}

impl Shared {
    fn server(&self, rng: &mut Rng) -> &str {
        &self.servers[pick(rng, self.servers.len())]
    }

    async fn timed<T>(
        &self,
        kind: &'static str,
        request: impl std::future::Future<Output = AnyResult<T>>,
    ) -> AnyResult<T> {
        let t = Instant::now();
        let out = request.await;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut stats = self.stats.lock().await;
        match &out {
            Ok(_) => stats.latencies.entry(kind).or_default().push(ms),
            Err(e) => *stats.errors.entry(format!("{kind}: {e}")).or_default() += 1,
        }
        out
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    sh: &Shared,
    url: String,
    token: &str,
) -> AnyResult<T> {
    let res = sh.http.get(url).bearer_auth(token).send().await?;
    let status = res.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}").into());
    }
    Ok(res.json().await?)
}

async fn sign_in(sh: &Shared, d: &mut Device, password: &str) -> AnyResult<()> {
    let url = format!("{}/v1/login", sh.server(&mut d.rng));
    let body = serde_json::json!({"user_id": d.user, "password": password, "device_id": d.id});
    let res = sh.http.post(url).json(&body).send().await?;
    if !res.status().is_success() {
        return Err(format!("sign-in HTTP {}", res.status()).into());
    }
    d.token = res.json::<LoginReply>().await?.token;
    Ok(())
}

/// A whole snapshot, page by page; leaves the device's pull cursor where it ends.
async fn bootstrap(sh: &Shared, d: &mut Device) -> AnyResult<usize> {
    let mut cursor = String::new();
    let mut ops = 0;
    loop {
        let url = format!(
            "{}/v1/snapshot?limit=1000&cursor={cursor}",
            sh.server(&mut d.rng)
        );
        let page: SnapshotPage = sh.timed("snapshot", get_json(sh, url, &d.token)).await?;
        ops += page.ops.len();
        cursor = page.cursor;
        if !page.more {
            d.cursor = page.pull_cursor.unwrap_or_default();
            return Ok(ops);
        }
    }
}

/// `n` new patrols by the device's user, as ops of the device.
fn patrols(sh: &Shared, d: &mut Device, n: usize) -> Vec<Op> {
    let Some(places) = sh.beats.get(&d.user).filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    (0..n)
        .map(|_| {
            let (place, grid) = &places[pick(&mut d.rng, places.len())];
            d.numbering.patrol(&sh.example, &d.user, *place, grid)
        })
        .collect()
}

async fn sync(sh: &Shared, d: &mut Device, morning: bool) -> AnyResult<()> {
    if d.rng.unit() < 0.01 {
        let n = bootstrap(sh, d).await?;
        sh.stats.lock().await.pulled(&d.user, n);
        return Ok(());
    }
    let made = if !d.offline_once && d.rng.unit() < 0.05 {
        d.offline_once = true;
        100 + pick(&mut d.rng, 201)
    } else if morning {
        1 + pick(&mut d.rng, 5)
    } else {
        pick(&mut d.rng, 3)
    };
    let ops = patrols(sh, d, made);
    for batch in ops.chunks(2000) {
        let url = format!("{}/v1/push", sh.server(&mut d.rng));
        let req = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: d.id,
            ops: batch.to_vec(),
            sent_at_ms: None,
            epoch: None,
        };
        let token = d.token.clone();
        let res: PushResponse = sh
            .timed("push", async {
                let res = sh
                    .http
                    .post(url)
                    .bearer_auth(token)
                    .json(&req)
                    .send()
                    .await?;
                if !res.status().is_success() {
                    return Err(format!("HTTP {}", res.status()).into());
                }
                Ok(res.json().await?)
            })
            .await?;
        let mut stats = sh.stats.lock().await;
        stats.ops_pushed += res.results.len();
        // A refused op is an error of the simulation (its ops should all be valid).
        for r in &res.results {
            if let PushOutcome::Refused { code, .. } = &r.outcome {
                *stats
                    .errors
                    .entry(format!("push refused: {code}"))
                    .or_default() += 1;
            }
        }
    }
    loop {
        let url = format!(
            "{}/v1/pull?limit=1000&cursor={}",
            sh.server(&mut d.rng),
            d.cursor
        );
        let page: PullResponse = sh.timed("pull", get_json(sh, url, &d.token)).await?;
        d.cursor = page.cursor;
        sh.stats.lock().await.pulled(&d.user, page.ops.len());
        if !page.more {
            return Ok(());
        }
    }
}

/// One real patrol, recorded through the core by w01 on a scratch device, and where every
/// worker can patrol: the places of their grids of the same type, as the township sees them.
fn example_and_beats(server: &str, password: &str) -> AnyResult<(Op, Beats)> {
    let dir = tempfile::tempdir()?;
    let worker = Store::open(dir.path().join("w01.db"), Clock::System)?;
    worker.sign_in(server, "w01", password)?;
    worker.sync(&mut |_| {})?;
    let example = example_patrol(&worker, "w01")?;

    let officer = Store::open(dir.path().join("o01.db"), Clock::System)?;
    officer.sign_in(server, "o01", password)?;
    officer.sync(&mut |_| {})?;
    let mut by_grid: HashMap<String, Vec<(Uuid, String)>> = HashMap::new();
    for row in officer.places(&officer.actor("o01")?)? {
        if row.place.place_type == PLACE_TYPE {
            by_grid
                .entry(row.place.grid_id.clone())
                .or_default()
                .push((row.place.id, row.place.grid_id));
        }
    }
    let mut beats = Beats::new();
    for (user, _, role) in officer.users()? {
        if role == Role::GridWorker {
            let grids = officer.actor(&user)?.grids;
            let places = grids
                .iter()
                .flat_map(|g| by_grid.get(g).cloned().unwrap_or_default());
            beats.insert(user, places.collect());
        }
    }
    Ok((example, beats))
}

/// Who the devices sign in as: one in fifty a township officer, one in fifty a village leader,
/// the rest grid workers, one device each while there are workers enough.
fn cast(beats: &Beats, devices: usize) -> Vec<String> {
    let mut workers: Vec<&String> = beats
        .iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(u, _)| u)
        .collect();
    workers.sort();
    (0..devices)
        .map(|i| match i % 50 {
            0 => ["o01", "o02"][i / 50 % 2].to_string(),
            1 => ["l01", "l02", "l03"][i / 50 % 3].to_string(),
            _ => workers[i % workers.len().max(1)].clone(),
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 / error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> AnyResult<()> {
    let servers: Vec<String> = args
        .servers
        .iter()
        .map(|s| s.trim_end_matches('/').to_string())
        .collect();
    // The core's sync client blocks, so the example is made before the runtime starts.
    let (example, beats) = example_and_beats(&servers[0], &args.password)?;
    let users = cast(&beats, args.devices);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(simulate(args, servers, example, beats, users))
}

async fn simulate(
    args: Args,
    servers: Vec<String>,
    example: Op,
    beats: Beats,
    users: Vec<String>,
) -> AnyResult<()> {
    let sh = Arc::new(Shared {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(args.devices)
            .timeout(Duration::from_secs(60))
            .build()?,
        servers,
        example,
        beats,
        stats: Mutex::new(Stats::default()),
    });

    // Sign in and take a snapshot, a few devices at a time (not measured).
    let t = Instant::now();
    let mut devices = Vec::with_capacity(users.len());
    for chunk in users.chunks(16).enumerate() {
        let (n, chunk) = chunk;
        let mut set = tokio::task::JoinSet::new();
        for (k, user) in chunk.iter().enumerate() {
            let sh = sh.clone();
            let password = args.password.clone();
            let id = Uuid::new_v4();
            let mut d = Device {
                user: user.clone(),
                id,
                token: String::new(),
                cursor: String::new(),
                numbering: Numbering::new(id),
                rng: Rng((n * 16 + k) as u64),
                offline_once: false,
            };
            set.spawn(async move {
                sign_in(&sh, &mut d, &password).await?;
                bootstrap(&sh, &mut d).await?;
                AnyResult::Ok(d)
            });
        }
        while let Some(d) = set.join_next().await {
            devices.push(d??);
        }
    }
    *sh.stats.lock().await = Stats::default();
    println!(
        "{} devices signed in and bootstrapped in {:.1} s",
        devices.len(),
        t.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let run_for = Duration::from_secs(args.seconds);
    let mut set = tokio::task::JoinSet::new();
    for mut d in devices {
        let sh = sh.clone();
        let interval = args.interval;
        set.spawn(async move {
            loop {
                let wait = Duration::from_secs_f64(-interval * (1.0 - d.rng.unit()).ln());
                let Some(left) = run_for.checked_sub(started.elapsed()) else {
                    return;
                };
                if wait >= left {
                    return;
                }
                tokio::time::sleep(wait).await;
                let morning = started.elapsed() < run_for / 5;
                let t = Instant::now();
                let ok = sync(&sh, &mut d, morning).await.is_ok();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let mut stats = sh.stats.lock().await;
                if ok {
                    stats.syncs += 1;
                    stats.latencies.entry("sync").or_default().push(ms);
                }
            }
        });
    }
    while set.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();

    let mut stats = sh.stats.lock().await;
    let errors: usize = stats.errors.values().sum();
    println!(
        "{} devices, {} instance(s), {:.0} s: {} syncs ({:.1}/s), {} ops pushed, {} ops pulled, {} errors",
        args.devices,
        sh.servers.len(),
        secs,
        stats.syncs,
        stats.syncs as f64 / secs,
        stats.ops_pushed,
        stats.ops_pulled,
        errors
    );
    let mut by_role: Vec<_> = stats.pulled_by.iter().collect();
    by_role.sort();
    println!("   pulled by role: {by_role:?}");
    for kind in ["sync", "push", "pull", "snapshot"] {
        let Some(v) = stats.latencies.get_mut(kind) else {
            continue;
        };
        v.sort_by(f64::total_cmp);
        println!(
            "{kind:>8}: {:>6} times, p50 {:>7.1} ms, p99 {:>7.1} ms, max {:>7.1} ms",
            v.len(),
            percentile(v, 0.5),
            percentile(v, 0.99),
            v.last().copied().unwrap_or(0.0)
        );
    }
    let mut errs: Vec<_> = stats.errors.iter().collect();
    errs.sort();
    for (what, n) in errs {
        println!("   error: {n} × {what}");
    }
    if errors > 0 || stats.syncs == 0 {
        return Err(format!("{errors} errors, {} syncs", stats.syncs).into());
    }
    Ok(())
}
