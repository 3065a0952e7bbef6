//! What the server's tests and its bench share: starting the real server binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod browser;
pub mod registers;
#[allow(unused_imports)]
pub use browser::Browser;

/// The `gridpatrol` binary. It belongs to another package (gridpatrol-cli), so Cargo does not
/// build it for this one's tests: it is built here, with the profile and into the target
/// directory of this run (an up-to-date build is a no-op).
pub fn gridpatrol_binary() -> PathBuf {
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .parent()
        .unwrap();
    let profile = profile_dir.file_name().unwrap().to_str().unwrap();
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--locked", "-p", "gridpatrol-cli"])
        .args(["--bin", "gridpatrol"])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--target-dir")
        .arg(profile_dir.parent().unwrap());
    if profile != "debug" {
        cargo.args(["--profile", profile]);
    }
    let out = cargo.output().unwrap();
    assert!(
        out.status.success(),
        "building gridpatrol: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "gridpatrol")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the gridpatrol executable")
}

/// Starts `gridpatrol-sync-server --demo` on `listen` (port 0: any free port) with its data in
/// `dir`, waits until it listens, and returns the process and its URL. The demo has people
/// and places only, unless `extra` asks for its history (`--demo-history true`).
pub fn start_server(dir: &Path, listen: &str, extra: &[&str]) -> (Child, String) {
    start_server_with(dir, listen, extra, Stdio::inherit())
}

/// `start_server`, with the server's standard error (its log) going to `stderr`. A log that
/// lands among the tests' own output has its warnings and errors only.
pub fn start_server_with(
    dir: &Path,
    listen: &str,
    extra: &[&str],
    stderr: Stdio,
) -> (Child, String) {
    let quiet = !extra.contains(&"--log-level");
    let history = if extra.contains(&"--demo-history") {
        &[][..]
    } else {
        &["--demo-history", "false"][..]
    };
    listening(
        Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
            .args(["--demo", "--listen", listen])
            .args(history)
            .args(extra)
            .arg("--data-dir")
            .arg(dir)
            .stderr(stderr)
            .env("GRIDPATROL_LOG_LEVEL", if quiet { "warn" } else { "info" }),
    )
}

/// Starts the server on `dir` without the demo (a township's own data), on any free port.
pub fn start_plain_server(dir: &Path) -> (Child, String) {
    listening(
        Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .env("GRIDPATROL_LOG_LEVEL", "warn"),
    )
}

/// Spawns `server` and waits until it says where it listens: the process and its URL.
fn listening(server: &mut Command) -> (Child, String) {
    let mut child = server.stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_string();
    (child, url)
}

/// A port nothing listens on now, for a server that must come back on the same address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `gridpatrol-sync-server <args> --data-dir <dir>` (an admin command) to completion,
/// with `stdin` as its input; panics unless it succeeds.
pub fn admin(dir: &Path, args: &[&str], stdin: &str) -> String {
    let out = admin_output(dir, args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `admin`, succeeding or not: the command's output.
pub fn admin_output(dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_gridpatrol-sync-server"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Pushes `ops` for `device` with `token` as a modified app would (saying nothing of its
/// clock): the HTTP status and the answer's body.
pub fn raw_push(
    url: &str,
    token: &str,
    device: uuid::Uuid,
    ops: Vec<gridpatrol_core::op::Op>,
) -> (u16, String) {
    use gridpatrol_core::sync::protocol::{routes, PushRequest, PROTOCOL_VERSION};
    let res = reqwest::blocking::Client::new()
        .post(format!("{url}{}", routes::PUSH))
        .bearer_auth(token)
        .json(&PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: device,
            ops,
            sent_at_ms: None,
            epoch: None,
        })
        .send()
        .unwrap();
    (res.status().as_u16(), res.text().unwrap())
}

/// `raw_push`, answered op by op: the code of each answer ("" when stored).
/// `op` as a new op of its device, as a modified app would make it: a fresh id, and the
/// sequence number and HLC `bump` above it.
pub fn forged(
    op: &gridpatrol_core::op::Op,
    bump: i64,
    body: gridpatrol_core::op::OpBody,
) -> gridpatrol_core::op::Op {
    gridpatrol_core::op::Op {
        id: uuid::Uuid::now_v7(),
        seq: op.seq + bump,
        hlc: gridpatrol_core::Hlc(op.hlc.0 + bump),
        body,
        ..op.clone()
    }
}

pub fn push_codes(
    url: &str,
    token: &str,
    device: uuid::Uuid,
    ops: Vec<gridpatrol_core::op::Op>,
) -> Vec<String> {
    use gridpatrol_core::sync::protocol::{PushOutcome, PushResponse};
    let (status, body) = raw_push(url, token, device, ops);
    assert_eq!(status, 200, "{body}");
    let res: PushResponse = serde_json::from_str(&body).unwrap();
    res.results
        .into_iter()
        .map(|r| match r.outcome {
            PushOutcome::Refused { code, .. } => code,
            _ => String::new(),
        })
        .collect()
}

/// Waits until `phone`'s clock, as corrected by the server, has passed this moment: the phone's
/// clock trails the server's by the latency of the answer it learnt the server's time from, so
/// what it records right after a change on the server (a reassignment) could otherwise be
/// ordered before that change and judged by the assignment it replaced.
pub fn after_now(phone: &gridpatrol_core::Store) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    while phone.now_ms() <= now {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// The first place of `grid` that `user` sees on `store`.
pub fn place_in(
    store: &gridpatrol_core::Store,
    user: &str,
    grid: &str,
) -> gridpatrol_core::place::Place {
    let who = store.actor(user).unwrap();
    store
        .places(&who)
        .unwrap()
        .into_iter()
        .find(|p| p.place.grid_id == grid)
        .unwrap()
        .place
}

/// Records a visit at `place` by `user` (its first item answered 不适用), started a minute ago.
pub fn visit(store: &gridpatrol_core::Store, user: &str, place: uuid::Uuid) -> uuid::Uuid {
    let who = store.actor(user).unwrap();
    store
        .record_patrol(
            &who,
            gridpatrol_core::patrol::PatrolInput {
                place_id: place,
                started_at: store.device_wall_ms() - 60_000,
                gps: Default::default(),
                answers: vec![(
                    store.patrol_form(place).unwrap().template.items[0]
                        .key
                        .clone(),
                    gridpatrol_core::checklist::AnswerValue::NotApplicable,
                )],
                raise: vec![],
                note: String::new(),
            },
        )
        .unwrap()
        .patrol_id
}

/// Runs the ignored test `name` of this test binary as a child process with the device
/// database `db` in its environment (for tests that kill a client mid-sync).
pub fn run_child_test(name: &str, db: &Path) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--ignored", "--nocapture"])
        .env("GRIDPATROL_CHILD_DB", db)
        .output()
        .unwrap()
}

/// A loopback proxy that carries at most so many bytes a second each way, like a weak
/// mobile link, counting them.
#[allow(unused_imports)]
pub use gridpatrol_bench_peers::throttled_proxy;

/// `len` bytes that do not compress, like a JPEG's, different for each `seed`.
pub fn photo_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed * 2 + 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A new empty PostgreSQL database on the test cluster (`GRIDPATROL_TEST_PG`, a URL with the
/// right to create databases), as a URL. Without a cluster the caller skips, unless
/// `GRIDPATROL_REQUIRE_PG` is set (as `tests/run-all.sh` sets it): then a missing cluster fails.
pub fn pg_database() -> Option<String> {
    let Ok(admin) = std::env::var("GRIDPATROL_TEST_PG") else {
        assert!(
            std::env::var_os("GRIDPATROL_REQUIRE_PG").is_none(),
            "GRIDPATROL_REQUIRE_PG is set but GRIDPATROL_TEST_PG is not"
        );
        eprintln!("skipped: set GRIDPATROL_TEST_PG to a PostgreSQL URL to run this test");
        return None;
    };
    let name = format!("gp_{}", uuid::Uuid::new_v4().simple());
    let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

/// A loopback TCP load balancer in front of server `targets` (http URLs): each connection goes
/// to one target, chosen at random when `random`, else the first in the list, moving on to the
/// next when a target refuses the connection (a killed instance). Returns its URL.
pub fn balancer(targets: Vec<String>, random: bool) -> String {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let targets: Vec<String> = targets
        .iter()
        .map(|t| t.trim_start_matches("http://").to_string())
        .collect();
    std::thread::spawn(move || {
        for (n, client) in listener.incoming().enumerate() {
            let Ok(client) = client else { break };
            // A cheap spread of connections: rotate the starting target by a random step.
            let first = if random {
                (uuid::Uuid::new_v4().as_u128() as usize).wrapping_add(n) % targets.len()
            } else {
                0
            };
            let upstream = (0..targets.len())
                .map(|i| &targets[(first + i) % targets.len()])
                .find_map(|t| TcpStream::connect(t).ok());
            let Some(upstream) = upstream else { continue };
            for (mut from, mut to) in [
                (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                (upstream, client),
            ] {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        }
    });
    url
}

/// Two tests of `$body(database)`: `$sqlite` with `None`, and `$postgres` with a fresh
/// PostgreSQL database when there is a cluster (see `pg_database`).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $body:ident) => {
        #[test]
        fn $sqlite() {
            $body(None);
        }
        #[test]
        fn $postgres() {
            if let Some(db) = common::pg_database() {
                $body(Some(db));
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;

/// A real server process on a fixed free port (so that it can come back on the same address),
/// with its data in a folder of its own: SQLite, or PostgreSQL with `database`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub url: String,
    pub dir: tempfile::TempDir,
    /// `--database-url <url>` for PostgreSQL; empty for SQLite.
    pub backend: Vec<String>,
}

impl Server {
    pub fn start(database: Option<String>, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let backend: Vec<String> = database
            .map(|url| vec!["--database-url".to_string(), url])
            .unwrap_or_default();
        let args: Vec<&str> = backend
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        let child = start_server(dir.path(), &format!("127.0.0.1:{port}"), &args).0;
        Server {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            dir,
            backend,
        }
    }

    /// Stops the server and starts it again on the same address and data, with `extra`.
    pub fn restart(&mut self, extra: &[&str]) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let listen = format!("127.0.0.1:{}", self.port);
        let args: Vec<&str> = self
            .backend
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        self.child = start_server(self.dir.path(), &listen, &args).0;
    }

    /// Runs an admin command (`user ...`) on this server's data.
    pub fn admin(&self, args: &[&str]) -> String {
        self.admin_with_input(args, "")
    }

    /// Runs an admin command on this server's data with `stdin` as its input (a password).
    pub fn admin_with_input(&self, args: &[&str], stdin: &str) -> String {
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain(self.backend.iter().map(String::as_str))
            .collect();
        admin(self.dir.path(), &args, stdin)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// The township console as a browser and a worker's phone see it.

use gridpatrol_core::hazard::{EscalationReason, HazardEvent, Level, NewHazard, Severity};
use reqwest::blocking::Client;

/// A phone of `user` in `dir` (database `name`), signed in to the server at `url` and synced.
pub fn device_at(dir: &Path, name: &str, url: &str, user: &str) -> gridpatrol_core::Store {
    let store =
        gridpatrol_core::Store::open(dir.join(name), gridpatrol_core::Clock::System).unwrap();
    store.sign_in(url, user, "gridpatrol").unwrap();
    store.sync(&mut |_| {}).unwrap();
    store
}

/// A device token for `user` on `device_id`, signed in over HTTP as a phone does.
pub fn login(
    http: &Client,
    url: &str,
    user: &str,
    device_id: uuid::Uuid,
) -> gridpatrol_core::sync::protocol::LoginResponse {
    use gridpatrol_core::sync::protocol::{routes, LoginRequest};
    http.post(format!("{url}{}", routes::LOGIN))
        .json(&LoginRequest {
            user_id: user.into(),
            password: "gridpatrol".into(),
            device_id,
        })
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// A phone of `user`, signed in to `server` and synced.
pub fn device(server: &Server, user: &str) -> gridpatrol_core::Store {
    device_at(server.dir.path(), &format!("{user}.db"), &server.url, user)
}

/// A general hazard `what` reported by `user` at the first place of `grid` on `phone`, citing
/// `photos` (not yet synced).
pub fn report_at(
    phone: &gridpatrol_core::Store,
    user: &str,
    grid: &str,
    what: &str,
    photos: &[String],
) -> uuid::Uuid {
    let who = phone.actor(user).unwrap();
    let mut h = NewHazard::new(
        place_in(phone, user, grid).id,
        "extinguisher",
        Severity::General,
        what,
    );
    h.photos = photos.to_vec();
    phone.report_hazard(&who, h).unwrap()
}

/// A major hazard raised at a place of `grid` by `worker`'s phone and escalated to the
/// township, then synced.
pub fn escalated_case(phone: &gridpatrol_core::Store, worker: &str, grid: &str) -> uuid::Uuid {
    let who = phone.actor(worker).unwrap();
    let place = place_in(phone, worker, grid);
    let id = phone
        .report_hazard(
            &who,
            NewHazard::new(
                place.id,
                "exit_blocked",
                Severity::Major,
                "安全出口被杂物堵塞",
            ),
        )
        .unwrap();
    phone
        .hazard_event(
            &who,
            id,
            HazardEvent::Escalate {
                to: Level::Township,
                reason: EscalationReason::Major,
                note: String::new(),
            },
        )
        .unwrap();
    phone.sync(&mut |_| {}).unwrap();
    id
}

/// The day `n` days from today (the servers here run on the system clock), as a form writes it.
pub fn in_days(n: i32) -> String {
    gridpatrol_core::clock::Day::from_ms(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    )
    .plus(n)
    .to_string()
}
