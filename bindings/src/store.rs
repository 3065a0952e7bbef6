//! `PatrolStore`: one device database, with a blocking method per thing a screen needs. Every
//! call runs to completion on the caller's thread (apps call from a background thread or a
//! coroutine dispatcher); `interrupt` cancels what is running and `shutdown` closes it.

use std::sync::Arc;

use gridpatrol_core::clock::Clock;
use gridpatrol_core::hazard::HazardRow;
use gridpatrol_core::org::Actor;
use gridpatrol_core::patrol::{GpsSample, PatrolInput, RaiseHazard};
use gridpatrol_core::{Day, Error, Store};
use uuid::Uuid;

use crate::error::{bad_id, GridPatrolError};
use crate::hazards::*;
use crate::records::*;

type Result<T> = std::result::Result<T, GridPatrolError>;

/// Told how a sync is going, for a progress bar. Called on the syncing thread.
#[uniffi::export(callback_interface)]
pub trait SyncListener: Send + Sync {
    fn on_progress(&self, progress: SyncProgress);
}

#[derive(uniffi::Object)]
pub struct PatrolStore {
    pub(crate) store: Store,
}

/// A record outside the acting user's grids: refused as the core refuses it.
pub(crate) fn out_of_scope() -> GridPatrolError {
    Error::from(gridpatrol_core::hazard::lifecycle::Rejection::OutOfScope).into()
}

pub(crate) fn id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s.trim()).map_err(|_| bad_id(&s.chars().take(40).collect::<String>()))
}

fn summary(h: HazardRow) -> HazardSummary {
    HazardSummary {
        id: h.id.to_string(),
        place_id: h.place_id.to_string(),
        grid_id: h.grid_id,
        category_zh: category_zh(&h.category),
        category: h.category,
        severity: h.severity.into(),
        status: h.status.code().into(),
        status_zh: h.status.zh().into(),
        level: h.level.into(),
        deadline: h.deadline.map(|d| d.to_string()),
        days_overdue: h.days_overdue,
        reported_at_ms: h.reported_at,
        case_label: gridpatrol_core::hazard::case_label(h.case_number.as_deref(), &h.id),
    }
}

impl PatrolStore {
    pub(crate) fn actor(&self, user_id: &str) -> Result<Actor> {
        Ok(self.store.actor(user_id)?)
    }

    fn sync_photos(&self, listener: Box<dyn SyncListener>, originals: bool) -> Result<SyncReport> {
        let options = gridpatrol_core::sync::engine::SyncOptions {
            send_originals: originals,
        };
        let r = self
            .store
            .sync_with(options, &mut |p| listener.on_progress(p.into()))?;
        Ok(SyncReport {
            pushed: r.pushed as u64,
            refused: r.refused as u64,
            pulled: r.pulled as u64,
            photos_sent: r.photos_sent as u64,
            photos_failed: r.photos_failed as u64,
        })
    }
}

#[uniffi::export]
impl PatrolStore {
    /// Opens (creating or upgrading) the device database at `path`.
    #[uniffi::constructor]
    pub fn open(path: String, config: DeviceConfig) -> Result<Arc<Self>> {
        let clock = config.fixed_clock_ms.map_or(Clock::System, Clock::manual);
        Ok(Arc::new(PatrolStore {
            store: Store::open(path, clock)?,
        }))
    }

    /// Fills an empty database with the demo township (for training and trying the app).
    pub fn load_demo(&self) -> Result<()> {
        if self.store.users()?.is_empty() {
            gridpatrol_core::demo::seed(&self.store)?;
        }
        Ok(())
    }

    pub fn device_id(&self) -> String {
        self.store.device_id().to_string()
    }

    /// Today (China Standard Time, by the corrected clock), as `YYYY-MM-DD`.
    pub fn today(&self) -> String {
        self.store.today().to_string()
    }

    /// 今日巡查: the user's places due for a patrol, most overdue first.
    pub fn due_patrols(&self, user_id: String) -> Result<Vec<DuePatrol>> {
        let today = self.store.today();
        let rows = self.store.due_patrols(&self.actor(&user_id)?)?;
        Ok(rows
            .into_iter()
            .map(|r| DuePatrol {
                days_overdue: r.days_overdue(today),
                place_id: r.place.id.to_string(),
                place_type_zh: place_type_zh(&r.place.place_type),
                name: r.place.name,
                address: r.place.address,
                grid_id: r.place.grid_id,
                risk_zh: r.place.risk_level.zh().into(),
                next_due: r.next_due.to_string(),
                last_patrol_ms: r.last_patrol_at,
                pending: r.pending,
            })
            .collect())
    }

    /// 巡查表: the checklist to run at a place, with last time's answers and failures and
    /// the plan's focus.
    pub fn patrol_form(&self, user_id: String, place_id: String) -> Result<PatrolForm> {
        let actor = self.actor(&user_id)?;
        let form = self.store.patrol_form(id(&place_id)?)?;
        if !actor.covers(&form.place.place.grid_id) {
            return Err(out_of_scope());
        }
        let mut last: std::collections::HashMap<String, gridpatrol_core::checklist::AnswerValue> =
            form.last_answers.into_iter().collect();
        let template_id = form.template.id.clone();
        Ok(PatrolForm {
            place_id,
            place_name: form.place.place.name,
            template_name: form.template.name,
            template_version: form.template.version,
            items: form
                .template
                .items
                .into_iter()
                .map(|i| ChecklistItem {
                    failure_wording: gridpatrol_core::checklist::library()
                        .failure_wording(&template_id, &i),
                    last_answer: last.remove(&i.key).map(Answer::from),
                    failed_last_time: form.failed_last_time.contains(&i.key),
                    focus: form.focus_items.contains(&i.key),
                    item_type: i.kind.into(),
                    key: i.key,
                    label: i.label,
                    options: i.options,
                    unit: i.unit,
                    photo_on_fail: i.photo_on_fail,
                })
                .collect(),
        })
    }

    /// Records a finished visit in one transaction, raising the chosen failed items.
    pub fn record_patrol(&self, user_id: String, draft: PatrolDraft) -> Result<PatrolResult> {
        let actor = self.actor(&user_id)?;
        let out = self.store.record_patrol(
            &actor,
            PatrolInput {
                place_id: id(&draft.place_id)?,
                started_at: draft.started_at_ms,
                gps: GpsSample {
                    lat: draft.latitude,
                    lon: draft.longitude,
                    accuracy_m: draft.accuracy_m,
                    mock: false,
                },
                answers: draft
                    .answers
                    .into_iter()
                    .map(|a| (a.key, a.answer.into()))
                    .collect(),
                raise: RaiseHazard::with_photos(
                    draft.raise_items,
                    draft
                        .item_photos
                        .into_iter()
                        .map(|p| (p.key, p.sha256))
                        .collect(),
                ),
                note: draft.note,
            },
        )?;
        Ok(crate::drafts::patrol_result(out))
    }

    /// 隐患上报: reports a hazard found outside a checklist; returns its id.
    pub fn report_hazard(&self, user_id: String, hazard: NewHazard) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let mut h = gridpatrol_core::hazard::NewHazard::new(
            id(&hazard.place_id)?,
            &hazard.category,
            hazard.severity.into(),
            &hazard.description,
        );
        h.photos = hazard.photos;
        Ok(self.store.report_hazard(&actor, h)?.to_string())
    }

    /// The hazards in the user's scope, newest first.
    pub fn hazards(&self, user_id: String) -> Result<Vec<HazardSummary>> {
        let rows = self.store.hazards(&self.actor(&user_id)?, None)?;
        Ok(rows.into_iter().map(summary).collect())
    }

    /// 隐患详情: state, timeline (conflicted entries marked) and what the user may do next.
    pub fn hazard(&self, user_id: String, hazard_id: String) -> Result<HazardDetail> {
        let actor = self.actor(&user_id)?;
        let hid = id(&hazard_id)?;
        let d = self.store.hazard(hid)?;
        if !actor.covers(&d.hazard.report.grid_id) {
            return Err(out_of_scope());
        }
        let allowed = self.store.allowed_transitions(&actor, hid)?;
        let photo_pairs = self
            .store
            .photo_pairs(hid)?
            .into_iter()
            .map(|p| PhotoPair {
                before: p.before,
                after: p.after,
                distance_m: p.distance_m,
            })
            .collect();
        let h = d.hazard;
        let row = HazardRow {
            id: h.id,
            place_id: h.report.place_id,
            grid_id: h.report.grid_id.clone(),
            category: h.report.category.clone(),
            severity: h.severity,
            status: h.status,
            level: h.level,
            deadline: h.deadline,
            reported_at: h.reported_at,
            days_overdue: d.days_overdue,
            case_number: h.case_number.clone(),
            description: h.report.description.clone(),
        };
        Ok(HazardDetail {
            summary: summary(row),
            description: h.report.description,
            responsible_party: h.responsible_party,
            photos: h.report.photos,
            rework_count: h.rework_count,
            escalation_due_zh: d.escalation_due.map(|r| r.zh().to_string()),
            timeline: d
                .events
                .into_iter()
                .map(|e| TimelineEvent {
                    op_id: e.op_id.to_string(),
                    verb: e.event.verb().into(),
                    actor_role_zh: e.actor_role.zh().into(),
                    actor_id: e.actor_id,
                    device_time_ms: e.device_wall_ms,
                    conflict_zh: e.conflict.as_ref().map(|c| c.zh()),
                    conflict_en: e.conflict.as_ref().map(|c| c.en()),
                })
                .collect(),
            photo_pairs,
            allowed: allowed.into_iter().map(str::to_string).collect(),
        })
    }

    /// Makes a transition and returns the hazard as it now stands.
    pub fn transition(
        &self,
        user_id: String,
        hazard_id: String,
        transition: Transition,
    ) -> Result<HazardDetail> {
        let actor = self.actor(&user_id)?;
        let event = transition.into_event()?;
        self.store.hazard_event(&actor, id(&hazard_id)?, event)?;
        self.hazard(user_id, hazard_id)
    }

    /// The figures for a grid, village or township over `from`..=`to` (`YYYY-MM-DD`).
    pub fn report(
        &self,
        user_id: String,
        scope_id: String,
        from: String,
        to: String,
    ) -> Result<ReportFigures> {
        self.store
            .require_scope(&self.actor(&user_id)?, &scope_id)?;
        let r = self.store.report(
            &scope_id,
            from.parse::<Day>().map_err(Error::from)?,
            to.parse::<Day>().map_err(Error::from)?,
        )?;
        let (overdue_as_of, coverage_rate) = (r.overdue_as_of().to_string(), r.coverage_rate());
        let (fires, training, letters, groups) = (r.fires, r.training, r.letters, r.groups);
        Ok(ReportFigures {
            scope_id: r.scope_id,
            scope_name: r.scope_name,
            from: r.from.to_string(),
            to: r.to.to_string(),
            hazards_reported: r.hazards_reported,
            withdrawn: r.withdrawn,
            closed: r.closed,
            closed_on_time: r.closed_on_time,
            closed_without_deadline: r.closed_without_deadline,
            general_closed: r.general_closed,
            general_closed_in_grid: r.general_closed_in_grid,
            escalated: r.escalated,
            overdue_count: r.overdue_count,
            overdue_as_of,
            patrols: r.patrols,
            coverage_rate,
            closure_rate: r.closure_rate,
            on_time_rate: r.on_time_rate,
            in_grid_closure_rate: r.in_grid_closure_rate,
            fires: fires.fires,
            deaths: fires.deaths,
            injuries: fires.injuries,
            loss_yuan: fires.loss_yuan,
            grid_workers: training.grid_workers,
            grid_workers_trained: training.grid_workers_trained,
            trained_rate: training.trained_rate,
            assessed: training.assessed,
            passed: training.passed,
            pass_rate: training.pass_rate,
            places: letters.places,
            places_signed: letters.places_signed,
            signed_rate: letters.signed_rate,
            villages: letters.villages,
            villages_with_pact: letters.villages_with_pact,
            micro_stations: groups.micro_stations,
            volunteer_teams: groups.volunteer_teams,
            committees: groups.committees,
            members: groups.members,
            equipment_items: groups.equipment_items,
            equipment_due: groups.equipment_due,
            equipment_expired: groups.equipment_expired,
            drills: groups.drills,
            drill_attendance: groups.drill_attendance,
            meetings: groups.meetings,
        })
    }

    /// Signs this device in to a sync server. True when the password is a first one (from an
    /// import or a reset) that must be changed now (`change_password`) before the console takes
    /// it; the phone syncs meanwhile.
    pub fn sign_in(&self, server: String, user_id: String, password: String) -> Result<bool> {
        Ok(self
            .store
            .sign_in(&server, &user_id, &password)?
            .must_change_password)
    }

    /// Changes the signed-in user's password on the server (the old one is checked).
    pub fn change_password(&self, old_password: String, new_password: String) -> Result<()> {
        Ok(self.store.change_password(&old_password, &new_password)?)
    }

    /// Signs out; refused while records are unsent unless `force`. Returns whether the server
    /// revoked the token (false when it could not be reached).
    pub fn sign_out(&self, force: bool) -> Result<bool> {
        Ok(self.store.sign_out(force)?)
    }

    /// Sends what is pending and receives what is new, then photos, originals included;
    /// reports progress to `listener`.
    pub fn sync_now(&self, listener: Box<dyn SyncListener>) -> Result<SyncReport> {
        self.sync_photos(listener, true)
    }

    /// `sync_now` for a metered link: photos' thumbnails and display copies go, originals
    /// wait (queued) for an unmetered one.
    pub fn sync_metered(&self, listener: Box<dyn SyncListener>) -> Result<SyncReport> {
        self.sync_photos(listener, false)
    }

    /// A photo file for showing: held here, or fetched (thumbnails first for lists).
    pub fn fetch_photo(
        &self,
        user_id: String,
        sha256: String,
        variant: PhotoVariant,
    ) -> Result<String> {
        let actor = self.actor(&user_id)?;
        Ok(self
            .store
            .fetch_photo_as(&actor, &sha256, variant.into())?
            .to_string_lossy()
            .into_owned())
    }

    /// 同步: who is signed in, what waits to be sent, what was refused, conflicts to sort out.
    pub fn sync_status(&self, user_id: Option<String>) -> Result<SyncStatus> {
        let session = self.store.signed_in()?;
        let conflicts = match user_id {
            Some(u) => self.store.conflicts(&self.actor(&u)?)?.len() as u64,
            None => 0,
        };
        Ok(SyncStatus {
            user_id: session.as_ref().map(|(s, _)| s.user_id.clone()),
            server: session.as_ref().map(|(s, _)| s.server.clone()),
            last_sync_ms: session.and_then(|(_, t)| t),
            pending_ops: u64::try_from(self.store.pending_ops()?).unwrap_or(0),
            refused_ops: self.store.refused_ops()?.len() as u64,
            conflicts,
            photos_pending: self.store.photo_queue()?.len() as u64,
        })
    }

    /// Keeps a photo file (as the camera wrote it) unmodified under its SHA-256 and returns the
    /// hash, which is what records cite.
    pub fn add_photo_file(&self, path: String) -> Result<String> {
        Ok(self.store.add_photo_file(std::path::Path::new(&path))?)
    }

    /// Keeps a photo just taken and records where, when and what it shows; returns its hash.
    pub fn capture_photo(&self, user_id: String, photo: PhotoCaptureInput) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let bytes = std::fs::read(&photo.path).map_err(|_| GridPatrolError::InvalidInput {
            field: "photo".into(),
            zh: "找不到照片文件".into(),
            en: "the photo file cannot be read".into(),
        })?;
        let input = gridpatrol_core::photo::CaptureInput {
            place_id: id(&photo.place_id)?,
            hazard_id: photo.hazard_id.as_deref().map(id).transpose()?,
            role: photo.kind.into(),
            taken_at: photo.taken_at_ms,
            gps: GpsSample {
                lat: photo.latitude,
                lon: photo.longitude,
                accuracy_m: photo.accuracy_m,
                mock: photo.mock_location,
            },
        };
        Ok(self.store.capture_photo(&actor, &bytes, input)?)
    }

    /// Makes the display copy (footer burned in, longest side 1600 px) and the thumbnail of a
    /// captured photo with the font at `font_path` (the phone's CJK system font); returns
    /// their paths, display first.
    pub fn make_display_copy(&self, sha256: String, font_path: String) -> Result<Vec<String>> {
        let font = std::fs::read(&font_path).map_err(|_| GridPatrolError::InvalidInput {
            field: "font".into(),
            zh: "找不到字体文件".into(),
            en: "the font file cannot be read".into(),
        })?;
        let copy = self.store.make_display_copy(&sha256, &font)?;
        Ok([copy.display, copy.thumbnail]
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect())
    }

    /// This device's photos not yet sent, with the reason when one keeps failing.
    pub fn pending_photos(&self) -> Result<Vec<PendingPhoto>> {
        Ok(self
            .store
            .photo_queue()?
            .into_iter()
            .map(|p| PendingPhoto {
                sha256: p.hash,
                sent_bytes: p.sent,
                size: p.size,
                attempts: p.attempts,
                last_error: p.last_error,
            })
            .collect())
    }

    /// Records the server refused, kept here with its reasons.
    pub fn refused_ops(&self) -> Result<Vec<RefusedOp>> {
        Ok(self
            .store
            .refused_ops()?
            .into_iter()
            .map(|r| RefusedOp {
                op_id: r.op.id.to_string(),
                kind: r.op.body.kind().into(),
                code: r.code,
                zh: r.zh,
                en: r.en,
            })
            .collect())
    }

    /// The conflicts for this user's level to sort out.
    pub fn conflicts(&self, user_id: String) -> Result<Vec<ConflictItem>> {
        let list = self.store.conflicts(&self.actor(&user_id)?)?;
        Ok(list
            .into_iter()
            .map(|c| {
                let why = c.event.conflict.clone();
                ConflictItem {
                    hazard_id: c.hazard_id.to_string(),
                    verb: c.event.event.verb().into(),
                    actor_id: c.event.actor_id,
                    rival_actor_id: c.rival.as_ref().map(|r| r.actor_id.clone()),
                    rival_verb: c.rival.as_ref().map(|r| r.event.verb().into()),
                    listed_for_zh: c.listed_for.zh().into(),
                    reason_zh: why.as_ref().map(|w| w.zh()).unwrap_or_default(),
                    reason_en: why.as_ref().map(|w| w.en()).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Cancels what is running on this store (a long sync, a report); later calls run.
    pub fn interrupt(&self) {
        self.store.interrupt();
    }

    /// Closes the database; later calls fail with a storage error.
    pub fn shutdown(&self) {
        self.store.shutdown();
    }
}
