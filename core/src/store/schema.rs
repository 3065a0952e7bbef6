//! The device database schema: numbered SQL steps (`migrations/V<n>__<name>.sql`), run by the
//! workspace's one migration runner (`gridpatrol-migrate`, refinery underneath), which keeps
//! their history in the database and `PRAGMA user_version` equal to `VERSION`. A new database
//! runs every step in order, so the steps that upgrade an installed database are the very ones
//! every fresh install runs too; a database from before the runner (user_version 1 to 4) has its
//! versions recorded as applied, then runs the rest. A released step is never edited (the runner
//! refuses a database whose recorded step differs, and a test pins their checksums).
//!
//! `CURRENT` is the same schema written out whole, with a word on each table, for reading; a
//! test checks the steps make exactly it, and the upgrade tests open frozen databases of every
//! released version and check they end equal to a fresh one.
//!
//! Tables fall in two kinds. The op log (`ops`, `device`) is the truth: nothing in it
//! is rewritten except `ops.conflict`, which the fold recomputes. Every other table is state
//! derived from the log by `apply`, and could be rebuilt from it (`Store::rebuild`).

use gridpatrol_migrate::{sqlite, Step};
use rusqlite::Connection;

use crate::error::{Error, Result};

/// The steps, in order. Each is frozen once released: a change is a new step.
const STEPS: &[Step] = &[
    Step::new(
        1,
        "first_schema",
        include_str!("migrations/V1__first_schema.sql"),
    ),
    Step::new(
        2,
        "logs_plans_and_sync",
        include_str!("migrations/V2__logs_plans_and_sync.sql"),
    ),
    Step::new(3, "bootstrap", include_str!("migrations/V3__bootstrap.sql")),
    // `photo_refs` is derived from the log, which SQL cannot read: `init` fills it.
    Step::new(4, "photos", include_str!("migrations/V4__photos.sql")).refills_derived_state(),
    Step::new(
        5,
        "new_places_and_campaigns",
        include_str!("migrations/V5__new_places_and_campaigns.sql"),
    ),
    // The hazard fold changed (on-time, township deadlines): `init` refolds the hazards.
    Step::new(
        6,
        "township_deadlines",
        include_str!("migrations/V6__township_deadlines.sql"),
    )
    .refills_derived_state(),
    Step::new(7, "drafts", include_str!("migrations/V7__drafts.sql")),
    Step::new(
        8,
        "fires_and_letters",
        include_str!("migrations/V8__fires_and_letters.sql"),
    ),
    Step::new(
        9,
        "server_epoch",
        include_str!("migrations/V9__server_epoch.sql"),
    ),
];

pub const VERSION: u32 = STEPS.len() as u32;

/// The whole schema at `VERSION`, for reading (what runs is `STEPS`; a test keeps them equal).
pub const CURRENT: &str = r#"
-- This device. Its next sequence number and HLC continue from its own last op in the log;
-- `next_seq` and `hlc` here are floors under them: the highest remote HLC seen, and what must
-- survive if old ops are ever compacted away. The outbox is this device's ops with a sequence
-- number above `acked_seq`: an op is queued for upload by the same insert that records it.
-- `clock_offset_ms` is the server's clock minus this device's, learnt at each sync, and
-- `pull_cursor` is where the next pull starts, `snapshot_cursor` where an unfinished bootstrap
-- resumes; `server_epoch` the epoch of the server its acknowledged ops were sent in (see
-- `protocol::SERVER_RESTORED`). Written rarely, never once per op.
CREATE TABLE device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device_id TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    pull_cursor TEXT,
    snapshot_cursor TEXT,
    server_epoch INTEGER NOT NULL DEFAULT 0
);

-- Every op made here or received. `conflict` holds the rejection (JSON) when the fold found the
-- op invalid at its position; such ops stay here, visible, and are never dropped.
CREATE TABLE ops (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hlc INTEGER NOT NULL,
    wall_ms INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    body TEXT NOT NULL,
    conflict TEXT,
    UNIQUE (device_id, seq)
);
CREATE INDEX ops_entity ON ops (entity, hlc, id);
CREATE INDEX ops_conflicted ON ops (entity) WHERE conflict IS NOT NULL;

CREATE TABLE org_nodes (
    id TEXT PRIMARY KEY,
    level TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL
);
CREATE INDEX org_nodes_parent ON org_nodes (parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    phone TEXT,
    role TEXT NOT NULL
);

-- The org nodes a user answers for: a grid worker's grids, a leader's village, and so on.
CREATE TABLE user_orgs (
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    PRIMARY KEY (user_id, org_id)
);

-- Checklist templates, one row per published version; never updated.
CREATE TABLE templates (
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (id, version)
);

-- Places, with their fields folded last-writer-wins from the log; `pending`: registered by a
-- grid worker and not yet confirmed by the village or township (新增).
CREATE TABLE places (
    id TEXT PRIMARY KEY,
    place_type TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    lat REAL,
    lon REAL,
    grid_id TEXT NOT NULL,
    responsible_name TEXT NOT NULL,
    responsible_phone TEXT,
    risk_level TEXT NOT NULL,
    patrol_every_days INTEGER,
    archived INTEGER NOT NULL DEFAULT 0,
    pending INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX places_grid ON places (grid_id);

CREATE TABLE patrols (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL,
    grid_id TEXT NOT NULL,
    worker_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    mock INTEGER NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX patrols_place ON patrols (place_id, ended_at);
CREATE INDEX patrols_grid ON patrols (grid_id, ended_at);

CREATE TABLE patrol_answers (
    patrol_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    value TEXT NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (patrol_id, item_key)
) WITHOUT ROWID;

-- The folded state of each hazard (the whole state is in `body`; the other columns are what
-- lists, reports and indexes need). Rewritten whole by the fold. `case_number` is the server's
-- short number (编号), NULL until the case has reached the server.
CREATE TABLE hazards (
    id TEXT PRIMARY KEY,
    place_id TEXT NOT NULL,
    grid_id TEXT NOT NULL,
    village_id TEXT NOT NULL,
    township_id TEXT NOT NULL,
    place_type TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    level TEXT NOT NULL,
    deadline INTEGER,
    reported_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_on_time INTEGER,
    escalated INTEGER NOT NULL,
    rework_count INTEGER NOT NULL,
    supervised INTEGER NOT NULL,
    body TEXT NOT NULL,
    case_number TEXT
);
CREATE INDEX hazards_open_by_grid ON hazards (grid_id, reported_at)
    WHERE status NOT IN ('closed', 'withdrawn');
CREATE INDEX hazards_place ON hazards (place_id, category);
CREATE INDEX hazards_grid_reported ON hazards (grid_id, reported_at);
CREATE INDEX hazards_village_reported ON hazards (village_id, reported_at);
CREATE INDEX hazards_township_reported ON hazards (township_id, reported_at);
CREATE INDEX hazards_township_overdue ON hazards (township_id, deadline)
    WHERE status IN ('notified', 'rectifying', 'joint_enforcement', 'referred');
CREATE INDEX hazards_unnumbered ON hazards (reported_at) WHERE case_number IS NULL;

-- Publicity and training log.
-- Publicity's channel (宣传"五进"); training's attendance (by name, and grid workers by
-- account with their assessment) and either's photos, as JSON lists.
CREATE TABLE activities (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    held_on INTEGER NOT NULL,
    title TEXT NOT NULL,
    audience INTEGER NOT NULL,
    note TEXT NOT NULL,
    user_id TEXT NOT NULL,
    channel TEXT,
    attendees TEXT NOT NULL DEFAULT '[]',
    photos TEXT NOT NULL DEFAULT '[]',
    trainees TEXT NOT NULL DEFAULT '[]',
    group_id TEXT
);
CREATE INDEX activities_org ON activities (org_id, held_on);

-- Fires (火灾情况), written once from their ops; `occurred_on` is the China day.
CREATE TABLE fires (
    id TEXT PRIMARY KEY,
    grid_id TEXT NOT NULL,
    place_id TEXT,
    address TEXT NOT NULL,
    occurred_at INTEGER NOT NULL,
    occurred_on INTEGER NOT NULL,
    cause TEXT NOT NULL,
    deaths INTEGER NOT NULL,
    injuries INTEGER NOT NULL,
    loss_yuan INTEGER NOT NULL,
    brigade_attended INTEGER NOT NULL,
    note TEXT NOT NULL,
    photos TEXT NOT NULL,
    user_id TEXT NOT NULL,
    withdrawn_reason TEXT
);
CREATE INDEX fires_grid ON fires (grid_id, occurred_on);
CREATE INDEX fires_place ON fires (place_id);

-- Signed letters and pledges of places, and village fire pacts (`org_id`: the place's grid,
-- or the village), written once from their ops.
CREATE TABLE letters (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    place_id TEXT,
    signed_on INTEGER NOT NULL,
    signed_by TEXT NOT NULL,
    note TEXT NOT NULL,
    photos TEXT NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX letters_org ON letters (org_id, signed_on);
CREATE INDEX letters_place ON letters (place_id, signed_on);

-- 微型消防站, 志愿消防队 and committees, folded last-writer-wins as whole records; and each
-- item of an equipment check, written once from its op.
CREATE TABLE fire_groups (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    org_id TEXT NOT NULL,
    active INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX fire_groups_org ON fire_groups (org_id);
CREATE TABLE equipment_checks (
    check_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    item_key TEXT NOT NULL,
    checked_on INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (check_id, item_key)
);
CREATE INDEX equipment_checks_item ON equipment_checks (group_id, item_key, checked_on);

-- Patrol plans, folded last-writer-wins as whole records.
CREATE TABLE patrol_plans (
    id TEXT PRIMARY KEY,
    grid_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX patrol_plans_grid ON patrol_plans (grid_id);
-- Campaigns (专项行动), folded last-writer-wins as whole records.
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    township_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX campaigns_township ON campaigns (township_id);
-- Work in progress on this device (a patrol half answered, a hazard or an activity being
-- written), saved at every answer; not derived from the log, never synced, kept by a rebuild.
-- A draft becomes ops when submitted, in the transaction that deletes it.
CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('patrol', 'hazard', 'activity')),
    place_id TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX drafts_user ON drafts (user_id, updated_at);
-- Local ops the server refused, with its reason; they stay in the log and in front of people.
CREATE TABLE push_rejections (
    op_id TEXT PRIMARY KEY REFERENCES ops (id),
    code TEXT NOT NULL,
    zh TEXT NOT NULL,
    en TEXT NOT NULL
);
-- The server this device syncs with, who signed in on it, and the device token (a secret the
-- server keeps only as a hash).
CREATE TABLE sync_session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server TEXT NOT NULL,
    user_id TEXT NOT NULL,
    token TEXT NOT NULL,
    last_sync_ms INTEGER
);

-- Photo captures: which file (by hash) was taken when, where, by whom, for which place and
-- hazard and as what (before, after, notice, document). Derived from the log, written once.
CREATE TABLE photos (
    id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    place_id TEXT NOT NULL,
    hazard_id TEXT,
    role TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    lat REAL,
    lon REAL,
    accuracy_m REAL,
    mock INTEGER NOT NULL,
    user_id TEXT NOT NULL
);
CREATE INDEX photos_hazard ON photos (hazard_id) WHERE hazard_id IS NOT NULL;
-- Which ops cite which photo (by the SHA-256 of the original), derived from the log.
CREATE TABLE photo_refs (
    hash TEXT NOT NULL,
    op_id TEXT NOT NULL,
    PRIMARY KEY (hash, op_id)
) WITHOUT ROWID;
-- This device's photos to send, each as its variants (the original; the display copy and the
-- thumbnail once made), in the order they were taken: bytes the server holds, the file's size
-- once known, attempts and the last failure. Device state, not derived.
CREATE TABLE photo_uploads (
    hash TEXT NOT NULL,
    variant TEXT NOT NULL DEFAULT 'original',
    sent INTEGER NOT NULL DEFAULT 0,
    size INTEGER,
    done INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (hash, variant)
);
"#;

/// Brings a database to `VERSION`: creates it when new, upgrades it when old, and refuses one
/// written by a newer app (so an old app can never damage newer data). All in one transaction.
pub(crate) fn init(conn: &mut Connection, device_id: &str) -> Result<()> {
    sqlite::migrate(conn, STEPS, sqlite::user_version, |tx, outcome| {
        if outcome.found == 0 {
            tx.execute(
                "INSERT INTO device (id, device_id, next_seq, hlc) VALUES (1, ?1, 1, 0)",
                [device_id],
            )?;
        }
        if outcome.refill {
            // Step 4 adds `photo_refs`; step 6 changes how a hazard folds.
            crate::photo::rebuild_refs(tx)?;
            crate::apply::refold_kind(tx, "hazard")?;
        }
        Ok::<(), Error>(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn schema(c: &Connection) -> Vec<(String, String)> {
        let mut stmt = c
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| {
            let sql: String = r.get(1)?;
            let sql = sql.split_whitespace().collect::<Vec<_>>().join(" ");
            Ok((
                r.get(0)?,
                sql.replace("( ", "(").replace(" )", ")").replace(" ,", ","),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    #[test]
    fn the_steps_make_exactly_the_current_schema() {
        let mut stepped = Connection::open_in_memory().unwrap();
        init(&mut stepped, "d").unwrap();
        let whole = Connection::open_in_memory().unwrap();
        whole.execute_batch(CURRENT).unwrap();
        let history = gridpatrol_migrate::HISTORY_TABLE;
        let mut expected = schema(&whole);
        expected.extend(
            schema(&stepped)
                .into_iter()
                .filter(|(n, _)| n.contains(history)),
        );
        expected.sort();
        assert_eq!(schema(&stepped), expected);
        assert_eq!(sqlite::user_version(&stepped).unwrap(), VERSION as i32);
    }

    /// Released steps are frozen: each checksum is what installed databases have recorded.
    /// A failure here means a released step was edited; make the change a new step instead.
    #[test]
    fn released_steps_are_unchanged() {
        let sums: Vec<u64> = STEPS.iter().map(|s| s.checksum().unwrap()).collect();
        assert_eq!(sums[..RELEASED.len()], RELEASED);
    }

    const RELEASED: [u64; 8] = [
        3788741896221393347,
        2985357427706537856,
        4326763136171566518,
        954918460368293697,
        13038097376230242559,
        11660313095761821739,
        1999731375947814795,
        1737609348592636748,
    ];
}
