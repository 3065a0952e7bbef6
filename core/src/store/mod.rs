//! The device database: one writer connection behind a mutex, a small pool of read-only
//! connections, WAL mode so reads never wait for a write. Writes go through `write`, which
//! commits when the closure returns `Ok` and rolls back on `Err`, so a failed call changes
//! nothing. `commit_local` turns a change into an op (sequence number, HLC) and applies it through
//! the one apply function inside the caller's transaction; the outbox is this device's ops above
//! the acknowledged sequence number, so recording an op and queueing it are one insert.
//!
//! `interrupt` cancels what is running (SQLite statements and long loops); `shutdown` closes the
//! connections and every later call gets `Error::ShutDown`.

mod redate;
pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{
    Connection, InterruptHandle, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use uuid::Uuid;

use crate::apply::{self, Mode};
use crate::checklist::TemplateCache;
use crate::clock::{Clock, Day, Hlc};
use crate::error::{Entity, Error, Result};
use crate::op::{Op, OpBody};
use crate::org::Actor;

const MAX_IDLE_READERS: usize = 4;

pub struct Store {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    readers: Mutex<Vec<Connection>>,
    interrupts: Mutex<Vec<InterruptHandle>>,
    generation: AtomicU64,
    shut: AtomicBool,
    clock: Clock,
    device_id: Uuid,
    templates: TemplateCache,
    /// Set when the running write transaction applied a template op.
    templates_touched: AtomicBool,
    /// This device's last (sequence number, HLC): `committed` as of the last commit (read from
    /// the log the first time it is needed), `staged` by the running write transaction.
    cursor: Mutex<Cursor>,
    /// The server's clock minus this device's, as last learnt from a sync (`device` row).
    clock_offset_ms: AtomicI64,
}

/// What applying a pulled page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pulled {
    pub applied: usize,
    pub duplicates: usize,
}

#[derive(Default)]
struct Cursor {
    committed: Option<(i64, Hlc)>,
    staged: Option<(i64, Hlc)>,
    /// SQLite's `data_version` as the writer last saw it: it moves when another process
    /// commits to the file (an account command beside a running server), whose ops may have
    /// used this device's next sequence numbers, so `committed` is then read again.
    data_version: Option<i64>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave SQLite half-written (the transaction rolls
    // back on drop), so a poisoned lock is safe to keep using.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Pages are read through a memory map: a reader's page cache is dropped whenever another
/// connection commits, and with a map re-reading a page is a memory access, not a copy.
const MMAP_BYTES: i64 = 1 << 30;

/// Statements the store prepares with `prepare_cached`. rusqlite keeps 16 by default; the
/// patrol write path alone uses more, and an evicted statement is parsed again on every call.
const STATEMENT_CACHE: usize = 128;

/// The writer's page cache, in KiB (as SQLite's negative `cache_size` means).
const CACHE_KIB: i64 = -16 * 1024;

fn configure(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A pulled page or a pushed batch dirties thousands of pages in one transaction: a larger
    // cache keeps them from spilling into the WAL before commit, and statement journals (each
    // pushed op's savepoint) stay in memory instead of a temporary file.
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

fn map_interrupt(e: Error) -> Error {
    match e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::OperationInterrupted =>
        {
            Error::Interrupted
        }
        e => e,
    }
}

/// A handle on a long operation: `check` fails once `Store::interrupt` has been called since.
pub struct InterruptScope<'a> {
    store: &'a Store,
    started: u64,
}

impl InterruptScope<'_> {
    pub fn check(&self) -> Result<()> {
        if self.store.generation.load(Ordering::SeqCst) != self.started {
            return Err(Error::Interrupted);
        }
        if self.store.shut.load(Ordering::SeqCst) {
            return Err(Error::ShutDown);
        }
        Ok(())
    }
}

impl Store {
    /// Opens (creating or upgrading) the database at `path`, reading time from `clock`.
    pub fn open(path: impl AsRef<Path>, clock: Clock) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let mut writer = Connection::open(&path)?;
        configure(&writer)?;
        schema::init(&mut writer, &Uuid::now_v7().to_string())?;
        let device: String =
            writer.query_row("SELECT device_id FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let device_id = Uuid::parse_str(&device)
            .map_err(|_| Error::not_found(crate::error::Entity::Device, "device"))?;
        let offset: i64 =
            writer.query_row("SELECT clock_offset_ms FROM device WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        let interrupts = vec![writer.get_interrupt_handle()];
        Ok(Store {
            path,
            writer: Mutex::new(Some(writer)),
            readers: Mutex::new(Vec::new()),
            interrupts: Mutex::new(interrupts),
            generation: AtomicU64::new(0),
            shut: AtomicBool::new(false),
            clock,
            device_id,
            templates: TemplateCache::default(),
            templates_touched: AtomicBool::new(false),
            cursor: Mutex::new(Cursor::default()),
            clock_offset_ms: AtomicI64::new(offset),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }
    pub fn clock(&self) -> &Clock {
        &self.clock
    }
    /// The best estimate of the true time: this device's clock corrected by what the last sync
    /// learnt of the server's. HLCs, deadlines and "today" use it, so a phone whose clock is
    /// days fast does not stamp its ops days ahead once it has synced.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms() + self.clock_offset_ms.load(Ordering::SeqCst)
    }
    /// The device's own clock, uncorrected: shown to people next to what they recorded.
    pub fn device_wall_ms(&self) -> i64 {
        self.clock.now_ms()
    }
    pub fn today(&self) -> Day {
        Day::from_ms(self.now_ms())
    }

    fn check_open(&self) -> Result<()> {
        if self.shut.load(Ordering::SeqCst) {
            Err(Error::ShutDown)
        } else {
            Ok(())
        }
    }

    pub fn interrupt_scope(&self) -> InterruptScope<'_> {
        InterruptScope {
            store: self,
            started: self.generation.load(Ordering::SeqCst),
        }
    }

    /// Cancels running statements and long loops; calls made afterwards run normally.
    pub fn interrupt(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for h in lock(&self.interrupts).iter() {
            h.interrupt();
        }
    }

    /// Interrupts what is running and closes the database. Later calls fail with `ShutDown`.
    pub fn shutdown(&self) {
        self.shut.store(true, Ordering::SeqCst);
        self.interrupt();
        lock(&self.writer).take();
        lock(&self.readers).clear();
    }

    /// Runs `f` in one write transaction: committed on `Ok`, rolled back on `Err`.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        self.check_open()?;
        let mut guard = lock(&self.writer);
        let conn = guard.as_mut().ok_or(Error::ShutDown)?;
        let run = || -> Result<T> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let version: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
            {
                let mut cursor = lock(&self.cursor);
                if cursor.data_version.replace(version) != Some(version) {
                    cursor.committed = None;
                    self.templates.invalidate();
                }
            }
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        let out = run().map_err(map_interrupt);
        {
            let mut cursor = lock(&self.cursor);
            let staged = cursor.staged.take();
            if out.is_ok() && staged.is_some() {
                cursor.committed = staged;
            }
        }
        if self.templates_touched.swap(false, Ordering::SeqCst) {
            self.templates.invalidate();
        }
        out
    }

    pub(crate) fn templates(&self) -> &TemplateCache {
        &self.templates
    }

    /// This device's last op (sequence number, HLC), continuing within the running transaction.
    fn last_local(&self, tx: &Transaction) -> Result<(i64, Hlc)> {
        let known = {
            let cursor = lock(&self.cursor);
            cursor.staged.or(cursor.committed)
        };
        if let Some(k) = known {
            return Ok(k);
        }
        let last: Option<(i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, hlc FROM ops WHERE device_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([self.device_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (seq, hlc) = last.unwrap_or((0, 0));
        Ok((seq, Hlc(hlc)))
    }

    /// Applies an op through the one apply function, keeping the template cache honest.
    fn apply(&self, tx: &Transaction, op: &Op, mode: Mode) -> Result<apply::Applied> {
        if matches!(op.body, OpBody::Template(_)) {
            self.templates_touched.store(true, Ordering::SeqCst);
            self.templates.invalidate();
        }
        apply::apply_op(tx, op, mode)
    }

    /// Runs `f` on a read-only connection; it sees the last committed state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.check_open()?;
        let conn = match lock(&self.readers).pop() {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.pragma_update(None, "mmap_size", MMAP_BYTES)?;
                c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
                lock(&self.interrupts).push(c.get_interrupt_handle());
                c
            }
        };
        let out = f(&conn).map_err(map_interrupt);
        let mut idle = lock(&self.readers);
        if idle.len() < MAX_IDLE_READERS && !self.shut.load(Ordering::SeqCst) {
            idle.push(conn);
        }
        out
    }

    /// Makes `body` into an op by `actor` and applies it inside `tx`; being this device's op above
    /// the acknowledged sequence number, it is queued for upload by the same insert.
    /// The op is checked by the same apply function remote ops go through; an op that would be
    /// a conflict is refused with its reason and the transaction rolls back.
    pub(crate) fn commit_local(&self, tx: &Transaction, actor: &Actor, body: OpBody) -> Result<Op> {
        let now = self.now_ms();
        let wall_ms = self.device_wall_ms();
        let (last_seq, last_hlc) = self.last_local(tx)?;
        // The device row holds floors: remote HLCs seen, and what survives a compaction.
        let (floor_seq, floor_hlc): (i64, i64) = tx
            .prepare_cached("SELECT next_seq, hlc FROM device WHERE id = 1")?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let seq = floor_seq.max(last_seq + 1);
        let hlc = Hlc(floor_hlc).max(last_hlc).capped(now).tick(now);
        lock(&self.cursor).staged = Some((seq, hlc));
        let op = Op {
            id: Uuid::now_v7(),
            device_id: self.device_id,
            seq,
            hlc,
            wall_ms,
            actor_id: actor.user_id.clone(),
            actor_role: actor.role,
            body,
        };
        crate::rules::check(&op)?;
        self.apply(tx, &op, Mode::Local)?;
        Ok(op)
    }

    /// Applies an op that was made elsewhere (another device, via sync). A duplicate is a no-op;
    /// an op invalid at its position is kept and marked conflicted.
    pub fn apply_remote(&self, op: &Op) -> Result<apply::Applied> {
        self.write(|tx| self.apply_remote_in(tx, op))
    }

    pub(crate) fn apply_remote_in(&self, tx: &Transaction, op: &Op) -> Result<apply::Applied> {
        let out = self.apply(tx, op, Mode::Remote)?;
        // Later local ops must sort after every op this device has seen.
        tx.prepare_cached("UPDATE device SET hlc = max(hlc, ?1) WHERE id = 1")?
            .execute([op.hlc.0])?;
        Ok(out)
    }

    /// Applies one page of pulled ops and moves the pull cursor, in one transaction: a crash
    /// or an error leaves neither half done, and the page is pulled again. The server's clock
    /// from the same response corrects this device's clock from now on.
    pub fn apply_pulled(&self, ops: &[Op], cursor: &str, server_time_ms: i64) -> Result<Pulled> {
        self.apply_page(ops, server_time_ms, |tx| {
            tx.prepare_cached("UPDATE device SET pull_cursor = ?1 WHERE id = 1")?
                .execute([cursor])?;
            Ok(())
        })
    }

    /// Applies a page of ops from the server and, in the same transaction, `advance` (which
    /// moves whichever cursor the page came with) and the clock correction.
    pub(crate) fn apply_page(
        &self,
        ops: &[Op],
        server_time_ms: i64,
        advance: impl FnOnce(&Transaction) -> Result<()>,
    ) -> Result<Pulled> {
        let offset = self.offset_from(server_time_ms);
        let pulled = self.write(|tx| {
            let mut pulled = Pulled::default();
            for op in ops {
                match self.apply_remote_in(tx, op)? {
                    apply::Applied::Applied => pulled.applied += 1,
                    apply::Applied::Duplicate => pulled.duplicates += 1,
                }
            }
            advance(tx)?;
            tx.prepare_cached("UPDATE device SET clock_offset_ms = ?1 WHERE id = 1")?
                .execute([offset])?;
            Ok(pulled)
        })?;
        self.clock_offset_ms.store(offset, Ordering::SeqCst);
        Ok(pulled)
    }

    /// The correction of this device's clock that `server_time_ms`, just read from the server,
    /// implies.
    pub(crate) fn offset_from(&self, server_time_ms: i64) -> i64 {
        server_time_ms.saturating_sub(self.device_wall_ms())
    }

    /// Corrects this device's clock by the server's, from now on (see `now_ms`).
    pub fn learn_server_time(&self, server_time_ms: i64) -> Result<()> {
        let offset = self.offset_from(server_time_ms);
        self.write(|tx| {
            tx.prepare_cached("UPDATE device SET clock_offset_ms = ?1 WHERE id = 1")?
                .execute([offset])?;
            Ok(())
        })?;
        self.clock_offset_ms.store(offset, Ordering::SeqCst);
        Ok(())
    }

    /// Where the next pull starts (`None` before the first).
    pub fn pull_cursor(&self) -> Result<Option<String>> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT pull_cursor FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Number of local ops not yet acknowledged by a server.
    pub fn pending_ops(&self) -> Result<i64> {
        self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT count(*) FROM ops WHERE device_id = ?1
                 AND seq > (SELECT acked_seq FROM device WHERE id = 1)",
            )?
            .query_row([self.device_id.to_string()], |r| r.get(0))?)
        })
    }

    /// Every op in the log, in (HLC, id) order: the audit trail, and what sync sends.
    pub fn ops(&self) -> Result<Vec<Op>> {
        self.read(apply::all_ops)
    }

    /// Resolves an id typed by a person in `table`: the full id, or a unique tail of at least 6
    /// characters (the tail of a UUIDv7 is random, its head is a timestamp).
    pub(crate) fn resolve_id(&self, table: &str, id_or_tail: &str, what: Entity) -> Result<Uuid> {
        let s = id_or_tail.trim().to_ascii_lowercase();
        if let Ok(id) = Uuid::parse_str(&s) {
            return Ok(id);
        }
        let not_found = || Error::not_found(what, id_or_tail.chars().take(40).collect::<String>());
        if s.len() < 6 || !s.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(not_found());
        }
        let ids: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT id FROM {table} WHERE id LIKE '%' || ?1 LIMIT 2"
            ))?;
            let ids = stmt
                .query_map([&s], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(ids)
        })?;
        match ids.as_slice() {
            [one] => Uuid::parse_str(one).map_err(|_| not_found()),
            _ => Err(not_found()),
        }
    }

    /// Marks the template cache stale once the running write transaction ends.
    pub(crate) fn templates_changed(&self) {
        self.templates_touched.store(true, Ordering::SeqCst);
    }

    /// Recomputes all derived state from the op log.
    pub fn rebuild(&self) -> Result<()> {
        let scope = self.interrupt_scope();
        self.templates_touched.store(true, Ordering::SeqCst);
        self.write(|tx| apply::rebuild(tx, &scope))
    }
}
