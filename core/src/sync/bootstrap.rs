//! Bootstrap, device side: a device with nothing pulled yet, or one the server sends back to
//! the start (its scope changed, or it was away longer than the retention window), receives a
//! compacted snapshot of its scope page by page. Each page commits with its resume cursor, so
//! a cut connection or a killed app continues where it stopped; the last page hands over to
//! pull. A reset before it keeps every op made here that the server has not taken (pending,
//! or refused with a reason) and everything needed to number and stamp later ops; all else,
//! including what has left the user's scope, is dropped and comes back from the snapshot if
//! the user may still see it. A server restored from a backup (a new epoch) sends the device
//! back to the start too, having first queued every op of the device's own again.

use rusqlite::{params, Transaction};

use crate::apply;
use crate::error::Result;
use crate::op::Op;
use crate::store::{Pulled, Store};

impl Store {
    /// Where an unfinished bootstrap resumes (`None`: none under way).
    pub fn snapshot_cursor(&self) -> Result<Option<String>> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT snapshot_cursor FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// Applies one snapshot page and its resume cursor in one transaction; on the last page
    /// (`pull_cursor` given) the bootstrap ends and pulls continue from there.
    pub fn apply_snapshot_page(
        &self,
        ops: &[Op],
        cursor: &str,
        pull_cursor: Option<&str>,
        server_time_ms: i64,
    ) -> Result<Pulled> {
        self.apply_page(ops, server_time_ms, |tx| {
            match pull_cursor {
                Some(p) => tx.execute(
                    "UPDATE device SET snapshot_cursor = NULL, pull_cursor = ?1 WHERE id = 1",
                    [p],
                )?,
                None => tx.execute(
                    "UPDATE device SET snapshot_cursor = ?1 WHERE id = 1",
                    [cursor],
                )?,
            };
            Ok(())
        })
    }

    /// Forgets everything received from the server so that a snapshot can start afresh.
    /// Returns how many of this device's own ops were kept (pending or refused).
    pub fn reset_for_snapshot(&self) -> Result<usize> {
        let scope = self.interrupt_scope();
        self.templates_changed();
        let me = self.device_id().to_string();
        self.write(|tx| {
            keep_numbering(tx, &me)?;
            tx.execute(
                "DELETE FROM ops WHERE NOT (device_id = ?1 AND (
                     seq > (SELECT acked_seq FROM device WHERE id = 1)
                     OR id IN (SELECT op_id FROM push_rejections)))",
                [&me],
            )?;
            tx.execute(
                "UPDATE device SET pull_cursor = NULL, snapshot_cursor = NULL WHERE id = 1",
                [],
            )?;
            apply::rebuild(tx, &scope)?;
            let kept: i64 = tx.query_row("SELECT count(*) FROM ops", [], |r| r.get(0))?;
            Ok(usize::try_from(kept).unwrap_or(0))
        })
    }
}

impl Store {
    /// The epoch of the server this device's acknowledged ops were sent in (0 for every
    /// server from before epochs).
    pub fn server_epoch(&self) -> Result<i64> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT server_epoch FROM device WHERE id = 1", [], |r| {
                    r.get(0)
                })?,
            )
        })
    }

    /// The server was restored from a backup (it is now in `epoch`) and has forgotten what it
    /// acknowledged after it: every op and photo of this device's own is queued to be sent
    /// again (the server takes each once), and everything else is forgotten until a snapshot brings the
    /// server's log again, as `reset_for_snapshot` does. Other devices' ops the server lost
    /// come back from the devices that made them; ops it lost for good (the console's, the
    /// numbers it gave) are gone from every device alike, so all end up holding the same.
    /// Returns how many ops were queued.
    pub fn forget_restored_server(&self, epoch: i64) -> Result<usize> {
        let scope = self.interrupt_scope();
        self.templates_changed();
        let me = self.device_id().to_string();
        self.write(|tx| {
            keep_numbering(tx, &me)?;
            tx.execute("DELETE FROM ops WHERE device_id <> ?1", [&me])?;
            tx.execute(
                "UPDATE device SET acked_seq = 0, pull_cursor = NULL, snapshot_cursor = NULL,
                     server_epoch = ?1
                 WHERE id = 1",
                [epoch],
            )?;
            // Every op is judged again as it arrives; what is refused again is noted again.
            tx.execute("DELETE FROM push_rejections", [])?;
            // Photos too: the upload asks the server what it holds before sending the rest.
            tx.execute(
                "UPDATE photo_uploads SET sent = 0, done = 0, attempts = 0, last_error = NULL",
                [],
            )?;
            apply::rebuild(tx, &scope)?;
            let queued: i64 = tx.query_row("SELECT count(*) FROM ops", [], |r| r.get(0))?;
            Ok(usize::try_from(queued).unwrap_or(0))
        })
    }
}

/// Raises the floors under this device's next sequence number and HLC to what the log holds
/// now, before ops that carried them are deleted.
fn keep_numbering(tx: &Transaction, me: &str) -> Result<()> {
    tx.execute(
        "UPDATE device SET
             next_seq = max(next_seq,
                 (SELECT coalesce(max(seq), 0) + 1 FROM ops WHERE device_id = ?1)),
             hlc = max(hlc, (SELECT coalesce(max(hlc), 0) FROM ops))
         WHERE id = 1",
        params![me],
    )?;
    Ok(())
}
