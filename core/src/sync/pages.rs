//! The receiving half of a sync: snapshot pages until a bootstrap ends, then pull pages until
//! the server has nothing more. The next page is fetched and decoded on a second thread while
//! the current one is applied, so the phone's database work and the server's reading overlap
//! instead of taking turns (a fresh phone's bootstrap is hundreds of pages). Pages are still
//! applied one at a time, in order, each with its cursor in its own transaction: a page fetched
//! ahead is used only if the device's position after the current page is the one it was fetched
//! for, and is simply dropped when the sync stops.

use reqwest::blocking::Response;

use super::engine::{json, Progress, SyncReport};
use super::protocol::{routes, PullResponse, SnapshotPage, RESYNC_REQUIRED};
use crate::error::{Error, Result};
use crate::store::Store;

/// A GET of one page at a cursor (path, cursor), shared with the thread that reads ahead.
pub(super) type Get<'a> = dyn Fn(&str, &str) -> Result<Response> + Sync + 'a;

/// Where the device reads next: a snapshot page, or a pull page after the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    Snapshot(String),
    Pull(String),
}

enum Page {
    Snapshot(SnapshotPage),
    Pull(PullResponse),
}

impl Page {
    fn ops(&self) -> usize {
        match self {
            Page::Snapshot(p) => p.ops.len(),
            Page::Pull(p) => p.ops.len(),
        }
    }

    /// Where the page after this one is read; `None` when this is the last.
    fn next(&self) -> Option<Position> {
        match self {
            Page::Snapshot(p) => Some(match &p.pull_cursor {
                Some(c) => Position::Pull(c.clone()),
                None => Position::Snapshot(p.cursor.clone()),
            }),
            Page::Pull(p) => p.more.then(|| Position::Pull(p.cursor.clone())),
        }
    }
}

fn fetch(get: &Get<'_>, at: &Position) -> Result<Page> {
    Ok(match at {
        Position::Snapshot(c) => Page::Snapshot(json(get(routes::SNAPSHOT, c)?)?),
        Position::Pull(c) => Page::Pull(json(get(routes::PULL, c)?)?),
    })
}

impl Store {
    fn position(&self) -> Result<Position> {
        Ok(match self.pull_cursor()? {
            Some(c) => Position::Pull(c),
            None => Position::Snapshot(self.snapshot_cursor()?.unwrap_or_default()),
        })
    }

    fn apply_fetched(&self, page: &Page) -> Result<()> {
        match page {
            Page::Snapshot(p) => self.apply_snapshot_page(
                &p.ops,
                &p.cursor,
                p.pull_cursor.as_deref(),
                p.server_time_ms,
            )?,
            Page::Pull(p) => self.apply_pulled(&p.ops, &p.cursor, p.server_time_ms)?,
        };
        Ok(())
    }

    /// Receives everything new in the device's scope: the snapshot first when it has none.
    /// Returns whether it found the server restored (`SERVER_RESTORED`), this device's own ops
    /// then queued to be sent again.
    pub(super) fn receive(
        &self,
        get: &Get<'_>,
        report: &mut SyncReport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool> {
        // The server sends a device back to a snapshot at most once per sync; a second
        // refusal in a row is an error rather than a loop.
        let mut resynced = false;
        let mut restored = false;
        let mut ahead: Option<(Position, Result<Page>)> = None;
        loop {
            let at = self.position()?;
            let fetched = match ahead.take() {
                Some((fetched_at, page)) if fetched_at == at => page,
                _ => fetch(get, &at),
            };
            let page = match fetched {
                Ok(page) => page,
                Err(Error::Remote {
                    status: 410,
                    code,
                    epoch,
                    ..
                }) if code == RESYNC_REQUIRED && !resynced => {
                    resynced = true;
                    let known = self.server_epoch()?;
                    match epoch.filter(|e| *e != known) {
                        Some(epoch) => {
                            restored = true;
                            self.forget_restored_server(epoch)?;
                        }
                        None => {
                            self.reset_for_snapshot()?;
                        }
                    }
                    progress(Progress::Restarted);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let n = page.ops();
            progress(Progress::Received { ops: n });
            let next = page.next();
            let (applied, read_ahead) = std::thread::scope(|s| {
                let reader = next.clone().map(|to| {
                    s.spawn(move || {
                        let page = fetch(get, &to);
                        (to, page)
                    })
                });
                let applied = self.apply_fetched(&page);
                (applied, reader.map(|r| r.join()))
            });
            applied?;
            ahead = match read_ahead {
                Some(Ok(fetched)) => Some(fetched),
                Some(Err(panic)) => std::panic::resume_unwind(panic),
                None => None,
            };
            report.pulled += n;
            progress(Progress::Pulled { ops: report.pulled });
            if next.is_none() {
                return Ok(restored);
            }
        }
    }
}
