-- Version 5: a place a grid worker registers on patrol awaits the village's or township's
-- confirmation (新增); campaigns (专项行动). A place made before is pending when a grid worker
-- made it, as a fold of its ops would say (no op confirmed one before this version).
-- Released: never edit; a change is a new version.
ALTER TABLE places ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
UPDATE places SET pending = 1 WHERE 'place:' || id IN (
    SELECT entity FROM ops
    WHERE kind = 'place_create' AND actor_role = 'grid_worker' AND conflict IS NULL);
CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    township_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX campaigns_township ON campaigns (township_id);
