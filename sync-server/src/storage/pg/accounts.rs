//! Accounts, device tokens and refused ops in PostgreSQL, shared by every instance.

use super::{Conn, Pool};
use crate::storage::{AccountStore, Refusal, Result, TokenRecord};

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
             ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash",
            &[&user_id, &hash],
        )?;
        Ok(())
    }

    fn remove_password(&self, user_id: &str) -> Result<()> {
        self.conn()?
            .execute("DELETE FROM passwords WHERE user_id = $1", &[&user_id])?;
        Ok(())
    }

    fn add_token(&self, token_hash: &str, t: &TokenRecord) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, issued_at)
             VALUES ($1, $2, $3, $4)",
            &[&token_hash, &t.user_id, &t.device_id, &t.issued_at_ms],
        )?;
        Ok(())
    }

    fn live_token(&self, token_hash: &str) -> Result<Option<TokenRecord>> {
        let row = self.conn()?.query_opt(
            "SELECT user_id, device_id, issued_at FROM tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
            &[&token_hash],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(TokenRecord {
            user_id: r.try_get(0)?,
            device_id: r.try_get(1)?,
            issued_at_ms: r.try_get(2)?,
        }))
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

    fn refusals(&self, limit: usize) -> Result<Vec<Refusal>> {
        let rows = self.conn()?.query(
            "SELECT at_ms, op_id, user_id, device_id, kind, entity, grids, code, zh, en
             FROM refused_ops ORDER BY at_ms DESC, op_id LIMIT $1",
            &[&i64::try_from(limit).unwrap_or(i64::MAX)],
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
