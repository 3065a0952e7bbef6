//! Accounts, device tokens and whose each device is, sign-in attempts and refused ops in
//! PostgreSQL, shared by every instance.

use super::{Conn, Pool};
use crate::storage::RefusalQuery;
use crate::storage::{AccountStore, Attempts, Refusal, Result, TokenKind, TokenRecord};

pub struct PgAccounts {
    pool: Pool,
}

impl PgAccounts {
    pub(super) fn new(pool: Pool) -> Self {
        PgAccounts { pool }
    }

    fn conn(&self) -> Result<Conn> {
        Ok(self.pool.get()?)
    }
}

impl AccountStore for PgAccounts {
    fn password_hash(&self, user_id: &str) -> Result<Option<String>> {
        let row = self
            .conn()?
            .query_opt("SELECT hash FROM passwords WHERE user_id = $1", &[&user_id])?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn set_password_hash(&self, user_id: &str, hash: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO passwords (user_id, hash) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, must_change = FALSE",
            &[&user_id, &hash],
        )?;
        Ok(())
    }

    fn require_password_change(&self, user_id: &str) -> Result<()> {
        self.conn()?.execute(
            "UPDATE passwords SET must_change = TRUE WHERE user_id = $1",
            &[&user_id],
        )?;
        Ok(())
    }

    fn must_change_password(&self, user_id: &str) -> Result<bool> {
        let row = self.conn()?.query_opt(
            "SELECT must_change FROM passwords WHERE user_id = $1",
            &[&user_id],
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?.unwrap_or(false))
    }

    fn remove_password(&self, user_id: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM passwords WHERE user_id = $1", &[&user_id])?;
        Ok(())
    }

    fn add_token(&self, token_hash: &str, t: &TokenRecord) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, kind, issued_at, renewed_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &token_hash,
                &t.user_id,
                &t.device_id,
                &t.kind.code(),
                &t.issued_at_ms,
                &t.renewed_at_ms,
            ],
        )?;
        Ok(())
    }

    fn live_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row = self.conn()?.query_opt(
            "SELECT user_id, device_id, kind, issued_at, renewed_at FROM tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(TokenRecord {
            user_id: r.try_get(0)?,
            device_id: r.try_get(1)?,
            kind: TokenKind::parse(r.try_get(2)?)?,
            issued_at_ms: r.try_get(3)?,
            renewed_at_ms: r.try_get(4)?,
        }))
    }

    fn renew_token(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE tokens SET renewed_at = GREATEST(renewed_at, $2)
             WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash, &at_ms],
        )?;
        Ok(())
    }

    /// The no-op update on conflict locks the row and returns it, so every racing sign-in
    /// reads the one owner that won.
    fn bind_device(&self, device_id: &str, user_id: &str, at_ms: i64) -> Result<String> {
        let row = self.conn()?.query_one(
            "INSERT INTO devices (device_id, user_id, bound_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO UPDATE SET user_id = devices.user_id
             RETURNING user_id",
            &[&device_id, &user_id, &at_ms],
        )?;
        Ok(row.try_get(0)?)
    }

    fn device_bound_at(&self, device_id: &str) -> Result<Option<i64>> {
        let row = self.conn()?.query_opt(
            "SELECT bound_at_ms FROM devices WHERE device_id = $1",
            &[&device_id],
        )?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    fn claim_device(&self, device_id: &str, owner: &str, at_ms: i64) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        tx.execute(
            "INSERT INTO devices (device_id, user_id, bound_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (device_id) DO UPDATE SET user_id = excluded.user_id,
                 bound_at_ms = excluded.bound_at_ms
             WHERE devices.user_id <> excluded.user_id",
            &[&device_id, &owner, &at_ms],
        )?;
        tx.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE device_id = $1 AND revoked_at IS NULL",
            &[&device_id, &at_ms],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Shared by every instance, so a lock-out made through one holds at the others. Racing
    /// attempts of one key meet at the row: one inserts it, the others count on it. The two
    /// statements are not one transaction, so that concurrent clean-ups never hold row locks
    /// while waiting for each other; each attempt's own stale row is gone before it counts.
    fn count_attempt(&self, key: &str, now_ms: i64, window_ms: i64) -> Result<Attempts> {
        let mut c = self.conn()?;
        c.execute(
            "DELETE FROM sign_in_attempts WHERE since_ms <= $1",
            &[&now_ms.saturating_sub(window_ms)],
        )?;
        let row = c.query_one(
            "INSERT INTO sign_in_attempts (key, since_ms, attempts) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET attempts = sign_in_attempts.attempts + 1
             RETURNING attempts, since_ms",
            &[&key, &now_ms],
        )?;
        Ok(Attempts {
            count: i64::from(row.try_get::<_, i32>(0)?),
            since_ms: row.try_get(1)?,
        })
    }

    fn forget_attempts(&self, key: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM sign_in_attempts WHERE key = $1", &[&key])?;
        Ok(())
    }

    fn revoke_token(&self, token_hash: &str, at_ms: i64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash, &at_ms],
        )?;
        Ok(())
    }

    fn revoke_user(&self, user_id: &str, at_ms: i64) -> Result<usize> {
        let n = self.conn()?.execute(
            "UPDATE tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            &[&user_id, &at_ms],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn keep_refusals(&self, refused: &[Refusal]) -> Result<()> {
        let mut c = self.conn()?;
        let mut tx = c.transaction()?;
        for r in refused {
            tx.execute(
                "INSERT INTO refused_ops (op_id, at_ms, user_id, device_id, kind, entity,
                     grids, code, zh, en)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 ON CONFLICT (op_id) DO NOTHING",
                &[
                    &r.op_id.to_string(),
                    &r.at_ms,
                    &r.user_id,
                    &r.device_id.to_string(),
                    &r.kind,
                    &r.entity,
                    &r.grids,
                    &r.code,
                    &r.zh,
                    &r.en,
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn refusals(&self, q: &RefusalQuery) -> Result<Vec<Refusal>> {
        let rows = self.conn()?.query(
            "SELECT at_ms, op_id, user_id, device_id, kind, entity, grids, code, zh, en
             FROM refused_ops
             WHERE ($1::text[] IS NULL OR grids && $1::text[]
                    OR ($2 AND cardinality(grids) = 0))
               AND ($3::bigint IS NULL OR at_ms < $3 OR (at_ms = $3 AND op_id > $4))
             ORDER BY at_ms DESC, op_id LIMIT $5",
            &[
                &q.grids,
                &q.ungridded,
                &q.after.map(|k| k.at_ms),
                &q.after.map(|k| k.op_id.to_string()).unwrap_or_default(),
                &i64::try_from(q.limit).unwrap_or(i64::MAX),
            ],
        )?;
        let read = |r: &postgres::Row| -> std::result::Result<Refusal, postgres::Error> {
            Ok(Refusal {
                at_ms: r.try_get(0)?,
                op_id: r.try_get::<_, String>(1)?.parse().unwrap_or_default(),
                user_id: r.try_get(2)?,
                device_id: r.try_get::<_, String>(3)?.parse().unwrap_or_default(),
                kind: r.try_get(4)?,
                entity: r.try_get(5)?,
                grids: r.try_get(6)?,
                code: r.try_get(7)?,
                zh: r.try_get(8)?,
                en: r.try_get(9)?,
            })
        };
        Ok(rows
            .iter()
            .map(read)
            .collect::<std::result::Result<_, _>>()?)
    }

    fn forget_refusals_before(&self, at_ms: i64) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM refused_ops WHERE at_ms < $1", &[&at_ms])?;
        Ok(())
    }
}
