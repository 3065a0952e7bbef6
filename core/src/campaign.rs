//! Campaigns (专项行动): a dated drive a township officer starts for the township (电动自行车,
//! 冬春火灾防控 ...), naming the place types it looks at and the checklist items to look at
//! first. While it runs, a patrol of such a place shows its focus items beside the plans'; its
//! figures (places in reach, patrolled, hazards found and closed at them within its dates) come
//! from one function, `Store::campaign_figures`, which the dashboard, the export and a phone
//! all read. Campaigns arrive as ops and are last-writer-wins as whole records.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::checklist::library;
use crate::clock::Day;
use crate::error::{self, Entity, Error, Field, InvalidInput, Problem, Result};
use crate::hazard::lifecycle::Rejection;
use crate::op::OpBody;
use crate::org::{self, Actor, OrgLevel, Role};
use crate::place::Place;
use crate::store::Store;

/// The longest a campaign runs: a year and a day.
pub const MAX_DAYS: i32 = 366;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: Uuid,
    pub township_id: String,
    pub name: String,
    pub starts_on: Day,
    pub ends_on: Day,
    /// Place types it looks at; empty: every place.
    #[serde(default)]
    pub place_types: Vec<String>,
    /// Checklist items to look at first during it.
    #[serde(default)]
    pub focus_items: Vec<String>,
    #[serde(default)]
    pub note: String,
    /// False once called off: it then shows no focus items, and keeps its figures.
    pub active: bool,
}

impl Campaign {
    /// The campaign as the rules allow it: a name, known place types and item codes, an end
    /// on or after its start and at most `MAX_DAYS` later.
    pub fn validated(mut self) -> Result<Self, InvalidInput> {
        org::check_code(Field::Grid, &self.township_id)?;
        self.name = error::text(Field::Name, &self.name, 40)?;
        for t in &self.place_types {
            library().place_type(t)?;
        }
        for k in &self.focus_items {
            org::check_code(Field::Answer, k)?;
        }
        if self.ends_on < self.starts_on {
            return Err(InvalidInput::new(
                Field::Period,
                Problem::NotAfter {
                    other: self.starts_on.to_string(),
                },
            ));
        }
        if self.ends_on.days_since(self.starts_on) > MAX_DAYS {
            return Err(InvalidInput::new(
                Field::Period,
                Problem::OutOfRange {
                    min: "1".into(),
                    max: MAX_DAYS.to_string(),
                },
            ));
        }
        self.note = error::optional_text(Field::Note, &self.note, 200)?;
        Ok(self)
    }

    fn reaches(&self, place_type: &str) -> bool {
        self.place_types.is_empty() || self.place_types.iter().any(|t| t == place_type)
    }

    /// Running on `day`.
    pub fn runs_on(&self, day: Day) -> bool {
        self.active && self.starts_on <= day && day <= self.ends_on
    }
}

pub(crate) fn put_campaign(tx: &Transaction, c: &Campaign) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO campaigns (id, township_id, body) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET township_id = excluded.township_id, body = excluded.body",
    )?
    .execute(params![
        c.id.to_string(),
        c.township_id,
        serde_json::to_string(c)?
    ])?;
    Ok(())
}

/// The township a campaign is stored under now (an edit may not move it elsewhere).
pub(crate) fn township_of(c: &Connection, id: &Uuid) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT township_id FROM campaigns WHERE id = ?1")?
            .query_row([id.to_string()], |r| r.get(0))
            .optional()?,
    )
}

fn campaigns_of(c: &Connection, township: &str) -> Result<Vec<Campaign>> {
    let mut stmt = c.prepare_cached("SELECT body FROM campaigns WHERE township_id = ?1")?;
    let mut out = Vec::new();
    for body in stmt.query_map([township], |r| r.get::<_, String>(0))? {
        out.push(serde_json::from_str::<Campaign>(&body?)?);
    }
    out.sort_by(|a, b| b.starts_on.cmp(&a.starts_on).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// The focus items of the campaigns running on `day` that reach the place.
pub(crate) fn focus_items(c: &Connection, p: &Place, day: Day) -> Result<Vec<String>> {
    let (_, township) = org::ancestors_of_grid(c, &p.grid_id)?;
    Ok(campaigns_of(c, &township)?
        .into_iter()
        .filter(|x| x.runs_on(day) && x.reaches(&p.place_type))
        .flat_map(|x| x.focus_items)
        .collect())
}

/// A campaign's figures in an area, over its dates up to today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignFigures {
    pub campaign: Campaign,
    /// The area counted (a grid, village or the township).
    pub scope_id: String,
    /// Places of its types in the area (archived ones left out).
    pub places: u32,
    /// Of those, the places patrolled at least once within its dates.
    pub patrolled: u32,
    /// Patrols of those places within its dates.
    pub patrols: u32,
    /// Hazards found at those places within its dates (withdrawn ones left out).
    pub hazards: u32,
    /// Of those, the ones closed.
    pub closed: u32,
}

impl CampaignFigures {
    pub fn coverage_rate(&self) -> Option<f64> {
        (self.places > 0).then(|| f64::from(self.patrolled) / f64::from(self.places))
    }
    pub fn closure_rate(&self) -> Option<f64> {
        (self.hazards > 0).then(|| f64::from(self.closed) / f64::from(self.hazards))
    }
}

fn figures(c: &Connection, x: Campaign, scope_id: &str, today: Day) -> Result<CampaignFigures> {
    // An area above the township (the county) counts the township's grids only.
    let home = org::grids_under(c, &x.township_id)?;
    let mut grids = org::grids_under(c, scope_id)?;
    grids.retain(|g| home.contains(g));
    let start = x.starts_on.start_ms();
    let end = x.ends_on.min(today).plus(1).start_ms();
    let mut f = CampaignFigures {
        campaign: x,
        scope_id: scope_id.to_string(),
        places: 0,
        patrolled: 0,
        patrols: 0,
        hazards: 0,
        closed: 0,
    };
    let mut places = c.prepare_cached(
        "SELECT place_type,
             (SELECT count(*) FROM patrols t
              WHERE t.place_id = p.id AND t.ended_at >= ?2 AND t.ended_at < ?3)
         FROM places p WHERE grid_id = ?1 AND NOT archived",
    )?;
    let mut hazards = c.prepare_cached(
        "SELECT place_type, status FROM hazards
         WHERE grid_id = ?1 AND reported_at >= ?2 AND reported_at < ?3 AND status != 'withdrawn'",
    )?;
    for g in &grids {
        let mut rows = places.query(params![g, start, end])?;
        while let Some(r) = rows.next()? {
            if f.campaign.reaches(&r.get::<_, String>(0)?) {
                let n: u32 = r.get(1)?;
                f.places += 1;
                f.patrolled += u32::from(n > 0);
                f.patrols += n;
            }
        }
        let mut rows = hazards.query(params![g, start, end])?;
        while let Some(r) = rows.next()? {
            if f.campaign.reaches(&r.get::<_, String>(0)?) {
                f.hazards += 1;
                f.closed += u32::from(r.get::<_, String>(1)? == "closed");
            }
        }
    }
    Ok(f)
}

impl Store {
    /// Starts, changes or calls off a campaign: township officers, for their own township.
    pub fn put_campaign(&self, actor: &Actor, campaign: Campaign) -> Result<Uuid> {
        if actor.role != Role::TownshipOfficer {
            return Err(Rejection::RoleNotAllowed {
                event: "campaign".into(),
                role: actor.role,
            }
            .into());
        }
        let campaign = campaign.validated()?;
        let id = campaign.id;
        self.write(|tx| {
            let node = org::node(tx, &campaign.township_id)?;
            let before = township_of(tx, &id)?;
            let mine = |t: &str| -> Result<bool> {
                let grids = org::grids_under(tx, t)?;
                Ok(!grids.is_empty() && grids.iter().all(|g| actor.covers(g)))
            };
            if node.level != OrgLevel::Township
                || !mine(&campaign.township_id)?
                || before.as_deref().map(mine).transpose()? == Some(false)
            {
                return Err(Rejection::OutOfScope.into());
            }
            // Calling a campaign off never fails on an item switched off since it began.
            if campaign.active {
                crate::checklist::require_items_known(tx, &campaign.focus_items)?;
            }
            self.commit_local(tx, actor, OpBody::Campaign(campaign))?;
            Ok(id)
        })
    }

    /// The campaigns of a township, the latest start first.
    pub fn campaigns(&self, township_id: &str) -> Result<Vec<Campaign>> {
        self.read(|c| campaigns_of(c, township_id))
    }

    pub fn campaign(&self, id: Uuid) -> Result<Campaign> {
        self.read(|c| {
            let body: Option<String> = c
                .prepare_cached("SELECT body FROM campaigns WHERE id = ?1")?
                .query_row([id.to_string()], |r| r.get(0))
                .optional()?;
            let body = body.ok_or_else(|| Error::not_found(Entity::Campaign, id.to_string()))?;
            Ok(serde_json::from_str(&body)?)
        })
    }

    /// The campaign's figures in the area `scope_id` (at or below its township).
    pub fn campaign_figures(&self, id: Uuid, scope_id: &str) -> Result<CampaignFigures> {
        let campaign = self.campaign(id)?;
        let today = self.today();
        self.read(|c| figures(c, campaign, scope_id, today))
    }
}

impl Store {
    /// The campaign's figures as CSV (UTF-8 with a BOM): the area asked for, then each village
    /// and grid under it, each row from `campaign_figures`.
    pub fn campaign_csv(&self, id: Uuid, scope_id: &str) -> Result<Vec<u8>> {
        let mut areas = vec![self.org_node(scope_id)?];
        let mut i = 0;
        while i < areas.len() {
            let under: Vec<org::OrgNode> = self.read(|c| org::children(c, &areas[i].id))?;
            areas.splice(i + 1..i + 1, under);
            i += 1;
        }
        let pct = |x: Option<f64>| x.map_or_else(String::new, |r| format!("{:.1}%", r * 100.0));
        let mut rows = Vec::with_capacity(areas.len());
        for a in &areas {
            let f = self.campaign_figures(id, &a.id)?;
            rows.push(vec![
                f.campaign.name.clone(),
                a.name.clone(),
                a.level.zh().to_string(),
                f.places.to_string(),
                f.patrolled.to_string(),
                pct(f.coverage_rate()),
                f.patrols.to_string(),
                f.hazards.to_string(),
                f.closed.to_string(),
                pct(f.closure_rate()),
            ]);
        }
        crate::report::export::csv_with_bom(
            &[
                "专项行动",
                "区域",
                "层级",
                "场所数",
                "已检查场所",
                "检查覆盖率",
                "巡查次数",
                "发现隐患",
                "已整改销号",
                "整改率",
            ],
            &rows,
        )
    }
}
