//! The server's schemas on the migration runner: every released `accounts.db` shape and every
//! released PostgreSQL `schema_version`, frozen in `tests/data/`, opened with today's code end
//! with the schema of a new database and keep their rows; a database from a newer server is
//! refused and left unchanged; PostgreSQL instances starting together migrate once.
//! PostgreSQL tests need `GRIDPATROL_TEST_PG` (see `tests/postgres.sh`) and skip without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use gridpatrol_migrate::Error;
use gridpatrol_sync_server::pg::PgBackend;
use gridpatrol_sync_server::sqlite::SqliteBackend;
use gridpatrol_sync_server::storage::schema::{migrate_accounts, migrate_postgres};
use rusqlite::Connection;

const MAX_PHOTO: u64 = 1 << 20;
/// The steps each schema has today.
const ACCOUNTS_LATEST: i32 = 5;
const PG_LATEST: i32 = 4;

fn sqlite_schema(c: &Connection) -> Vec<(String, String)> {
    c.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| {
            let sql: String = r.get(1)?;
            Ok((
                r.get(0)?,
                sql.split_whitespace().collect::<Vec<_>>().join(" "),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn history(c: &Connection) -> Vec<(i32, String)> {
    c.prepare("SELECT version, checksum FROM refinery_schema_history ORDER BY version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(c: &Connection, table: &str) -> i64 {
    c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn every_released_accounts_db_is_baselined_then_upgraded() {
    let fresh = {
        let mut c = Connection::open_in_memory().unwrap();
        let o = migrate_accounts(&mut c).unwrap();
        assert_eq!(
            (o.found, o.applied.clone()),
            (0, (1..=ACCOUNTS_LATEST).collect::<Vec<_>>())
        );
        c
    };
    for (had, sql) in [
        (1, include_str!("data/accounts-v1.sql")),
        (2, include_str!("data/accounts-v2.sql")),
        (3, include_str!("data/accounts-v3.sql")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.db");
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let o = migrate_accounts(&mut Connection::open(&path).unwrap()).unwrap();
        assert_eq!(o.found, had);
        assert_eq!(o.baselined, (1..=had).collect::<Vec<_>>());
        assert_eq!(o.applied, (had + 1..=ACCOUNTS_LATEST).collect::<Vec<_>>());

        let c = Connection::open(&path).unwrap();
        assert_eq!(sqlite_schema(&c), sqlite_schema(&fresh), "from shape {had}");
        assert_eq!(history(&c), history(&fresh));
        assert_eq!(
            gridpatrol_migrate::sqlite::user_version(&c).unwrap(),
            ACCOUNTS_LATEST
        );
        assert_eq!((count(&c, "passwords"), count(&c, "tokens")), (1, 1));
        let (kind, renewed): (String, i64) = c
            .query_row("SELECT kind, renewed_at FROM tokens", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(kind, "phone");
        assert!(
            renewed > 1_772_413_200_000,
            "the lifetime starts at the upgrade"
        );
        let bound: (String, String) = c
            .query_row("SELECT device_id, user_id FROM devices", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(
            bound,
            ("01a222f0-4b04-74e5-b334-6f34e72991e7".into(), "w1".into()),
            "a token's device is its user's"
        );
        assert_eq!(count(&c, "meta"), i64::from(had >= 2));
        assert_eq!(count(&c, "refused_ops"), i64::from(had >= 3));
        drop(c);

        // The backend opens it as it is now, and opening again changes nothing.
        let before = (
            sqlite_schema(&fresh),
            history(&Connection::open(&path).unwrap()),
        );
        SqliteBackend::open(dir.path(), MAX_PHOTO).unwrap();
        let c = Connection::open(&path).unwrap();
        assert_eq!(before, (sqlite_schema(&c), history(&c)));
    }
}

#[test]
fn an_accounts_db_from_a_newer_server_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.db");
    let mut c = Connection::open(&path).unwrap();
    migrate_accounts(&mut c).unwrap();
    c.execute(
        "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
         SELECT 6, 'from_the_future', applied_on, '1' FROM refinery_schema_history
         WHERE version = 5",
        [],
    )
    .unwrap();
    c.execute_batch("CREATE TABLE from_the_future (x); PRAGMA user_version = 6;")
        .unwrap();
    let before = (sqlite_schema(&c), history(&c));
    let e = migrate_accounts(&mut c).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooNew {
                found: 6,
                supported: 5
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("比本程序支持的 5 新"), "{e}");
    assert_eq!(before, (sqlite_schema(&c), history(&c)));
    drop(c);
    let e = SqliteBackend::open(dir.path(), MAX_PHOTO).err().unwrap();
    assert!(e.to_string().contains("newer than this program"), "{e}");
}

fn pg(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

/// Tables, columns, indexes and sequences of the public schema, minus the runner's own tables.
fn pg_schema(c: &mut postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for row in c
        .query(
            "SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
             FROM information_schema.columns WHERE table_schema = 'public'
             ORDER BY table_name, column_name",
            &[],
        )
        .unwrap()
    {
        let f: Vec<String> = (0..5).map(|i| row.get(i)).collect();
        out.push(f.join(" "));
    }
    for row in c
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname",
            &[],
        )
        .unwrap()
    {
        out.push(row.get(0));
    }
    for row in c
        .query(
            "SELECT sequence_name FROM information_schema.sequences ORDER BY 1",
            &[],
        )
        .unwrap()
    {
        out.push(row.get(0));
    }
    out
}

fn pg_history(c: &mut postgres::Client) -> Vec<(i32, String)> {
    c.query(
        "SELECT version, checksum FROM refinery_schema_history ORDER BY version",
        &[],
    )
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

fn pg_count(c: &mut postgres::Client, table: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .get(0)
}

fn schema_version(c: &mut postgres::Client) -> i32 {
    c.query_one("SELECT version FROM schema_version", &[])
        .unwrap()
        .get(0)
}

#[test]
fn every_released_postgres_schema_is_baselined_then_upgraded() {
    let Some(fresh_url) = common::pg_database() else {
        return;
    };
    let mut fresh = pg(&fresh_url);
    let o = migrate_postgres(&mut fresh).unwrap();
    assert_eq!(
        (o.found, o.applied),
        (0, (1..=PG_LATEST).collect::<Vec<_>>())
    );
    assert_eq!(schema_version(&mut fresh), PG_LATEST);

    for (had, sql) in [
        (1, include_str!("data/pg-schema-v1.sql")),
        (2, include_str!("data/pg-schema-v2.sql")),
    ] {
        let url = common::pg_database().unwrap();
        let mut c = pg(&url);
        c.batch_execute(sql).unwrap();
        let o = migrate_postgres(&mut c).unwrap();
        assert_eq!(o.found, had);
        assert_eq!(o.baselined, (1..=had).collect::<Vec<_>>());
        assert_eq!(o.applied, (had + 1..=PG_LATEST).collect::<Vec<_>>());
        assert_eq!(
            pg_schema(&mut c),
            pg_schema(&mut fresh),
            "from version {had}"
        );
        assert_eq!(pg_history(&mut c), pg_history(&mut fresh));
        assert_eq!(schema_version(&mut c), PG_LATEST);
        for table in ["ops", "passwords", "tokens", "meta", "devices"] {
            assert_eq!(pg_count(&mut c, table), 1, "{table} from version {had}");
        }
        assert_eq!(pg_count(&mut c, "refused_ops"), i64::from(had >= 2));

        // The backend opens it and keeps appending to the log after the old positions.
        let dir = tempfile::tempdir().unwrap();
        PgBackend::open(&url, 2, dir.path().join("photos"), MAX_PHOTO).unwrap();
        let positions: Vec<i64> = c
            .query("SELECT pos FROM ops ORDER BY pos", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(positions.len() > 1 && positions[0] == 1, "{positions:?}");
        assert_eq!(pg_history(&mut c), pg_history(&mut fresh));
    }
}

#[test]
fn a_postgres_schema_from_a_newer_server_is_refused_and_left_unchanged() {
    let Some(url) = common::pg_database() else {
        return;
    };
    for newer_history in [false, true] {
        let mut c = pg(&url);
        if newer_history {
            c.batch_execute(
                "DROP TABLE IF EXISTS schema_version, refinery_schema_history, refused_ops, ops,
                     passwords, tokens, meta, devices, sign_in_attempts;
                 DROP SEQUENCE IF EXISTS op_position;",
            )
            .unwrap();
            migrate_postgres(&mut c).unwrap();
            c.batch_execute(
                "INSERT INTO refinery_schema_history (version, name, applied_on, checksum)
                 SELECT 5, 'from_the_future', applied_on, '1' FROM refinery_schema_history
                 WHERE version = 4;
                 CREATE TABLE from_the_future (x INTEGER);",
            )
            .unwrap();
        } else {
            // A server from before the runner that knew five steps.
            c.batch_execute(include_str!("data/pg-schema-v2.sql"))
                .unwrap();
            c.batch_execute("UPDATE schema_version SET version = 5")
                .unwrap();
        }
        let before = (pg_schema(&mut c), pg_count(&mut c, "ops"));
        let e = migrate_postgres(&mut c).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooNew {
                    found: 5,
                    supported: 4
                }
            ),
            "{e}"
        );
        assert_eq!(before, (pg_schema(&mut c), pg_count(&mut c, "ops")));
        let history_exists: bool = c
            .query_one(
                "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(history_exists, newer_history, "a refusal writes nothing");
        let dir = tempfile::tempdir().unwrap();
        let e = PgBackend::open(&url, 2, dir.path().join("photos"), MAX_PHOTO)
            .err()
            .unwrap();
        assert!(e.to_string().contains("newer than this program"), "{e}");
    }
}

#[test]
fn postgres_instances_starting_together_migrate_once() {
    let Some(url) = common::pg_database() else {
        return;
    };
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut c = pg(&url);
                barrier.wait();
                migrate_postgres(&mut c).unwrap()
            })
        })
        .collect();
    let mut applied: Vec<Vec<i32>> = runs
        .into_iter()
        .map(|t| t.join().unwrap().applied)
        .collect();
    applied.sort();
    assert_eq!(
        applied,
        vec![vec![], vec![], vec![], (1..=PG_LATEST).collect::<Vec<_>>()]
    );
    let mut c = pg(&url);
    assert_eq!(pg_history(&mut c).len(), PG_LATEST as usize);
    assert_eq!(schema_version(&mut c), PG_LATEST);
}
