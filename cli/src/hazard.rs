//! `gridpatrol hazard …`: show a hazard with its history, raise one, or record a lifecycle
//! transition. Every transition goes through the same state machine the devices fold with.

use std::fmt::Write as _;
use std::path::Path;

use gridpatrol_core::checklist::{check_photo_ref, library};
use gridpatrol_core::error::{Field, InvalidInput, Problem};
use gridpatrol_core::hazard::form::{decision_code, event_from_form};
use gridpatrol_core::hazard::{NewHazard, Verb};
use gridpatrol_core::op::short_id;
use gridpatrol_core::patrol::GpsSample;
use gridpatrol_core::photo::CaptureInput;
use gridpatrol_core::{Day, Error, Result, Store};

use crate::args::HazardCmd;
use crate::commands::{json, open};

pub(crate) fn run(db: &Path, as_json: bool, cmd: HazardCmd) -> Result<String> {
    let store = open(db)?;
    if let HazardCmd::Show { id } = &cmd {
        let d = store.hazard(store.find_hazard(id)?)?;
        if as_json {
            return json(&d);
        }
        let h = &d.hazard;
        let mut s = format!(
            "隐患 {}\n{} · {} · {} · 由{}处理\n{}\n",
            h.id,
            library().category_zh(&h.report.category),
            h.severity.zh(),
            h.status.zh(),
            h.level.zh(),
            h.report.description
        );
        if let Some(d) = h.deadline {
            let _ = writeln!(s, "整改期限 deadline {d}");
        }
        if let Some(n) = d.days_overdue {
            let _ = writeln!(s, "逾期 overdue {n} 天");
        }
        if let Some(r) = d.escalation_due {
            let _ = writeln!(s, "建议上报 escalation proposed: {}", r.zh());
        }
        for p in store.photo_pairs(h.id)? {
            let _ = writeln!(
                s,
                "整改前后照片 before/after {} → {}，相距 {}",
                short_id(&p.before),
                short_id(&p.after),
                p.distance_m
                    .map_or("位置不明 / no position".into(), |m| format!("{m:.0} m"))
            );
        }
        if !d.repeat_of.is_empty() {
            let _ = writeln!(s, "重复隐患 repeat of {} closed case(s)", d.repeat_of.len());
        }
        for e in &d.events {
            let mark = e
                .conflict
                .as_ref()
                .map_or(String::new(), |c| format!("  ✗ 冲突 conflict: {c}"));
            let _ = writeln!(
                s,
                "  {} {} {}{mark}",
                Day::from_ms(e.hlc.wall_ms()),
                e.actor_id,
                e.event.verb()
            );
        }
        return Ok(s);
    }
    if let HazardCmd::Photo {
        t,
        file,
        kind,
        lat,
        lon,
        accuracy,
    } = cmd
    {
        let actor = store.actor(&t.who.user)?;
        let hazard = store.hazard(store.find_hazard(&t.id)?)?.hazard;
        let bytes = std::fs::read(&file)
            .map_err(|_| Error::Invalid(InvalidInput::new(Field::Photo, Problem::Malformed)))?;
        let hash = store.capture_photo(
            &actor,
            &bytes,
            CaptureInput {
                place_id: hazard.report.place_id,
                hazard_id: Some(hazard.id),
                role: kind,
                taken_at: store.device_wall_ms(),
                gps: GpsSample {
                    lat,
                    lon,
                    accuracy_m: accuracy,
                    mock: false,
                },
            },
        )?;
        return if as_json {
            json(&serde_json::json!({"hash": hash}))
        } else {
            Ok(format!(
                "照片已保存，同步时上传 / photo kept, sent at the next sync: {hash}"
            ))
        };
    }
    if let HazardCmd::Report {
        who,
        place,
        category,
        severity,
        description,
        photos,
    } = cmd
    {
        let actor = store.actor(&who.user)?;
        let place_id = store.find_place(&place)?;
        let place = store.place(place_id)?;
        let id = store.report_hazard(
            &actor,
            NewHazard {
                place_id,
                category,
                severity,
                description,
                photos: photo_refs(&store, &photos)?,
                location: place.place.location,
                source: None,
                legal_basis: None,
            },
        )?;
        return if as_json {
            json(&serde_json::json!({"id": id}))
        } else {
            Ok(format!("隐患已上报 / hazard reported {id}"))
        };
    }
    // Each transition is written as the form fields the core's one builder reads.
    let (t, verb, fields): (_, _, Vec<(&str, String)>) = match cmd {
        HazardCmd::Show { .. } | HazardCmd::Report { .. } | HazardCmd::Photo { .. } => {
            return Ok(String::new())
        }
        HazardCmd::Notify {
            t,
            party,
            deadline,
            note,
        } => (
            t,
            Verb::Notify,
            vec![
                ("responsible_party", party),
                ("deadline", deadline),
                ("note", note),
            ],
        ),
        HazardCmd::Start { t, note } => (t, Verb::StartRectification, vec![("note", note)]),
        HazardCmd::Submit { t, note, photos } => {
            let mut f = vec![("note", note)];
            for p in photo_refs(&store, &photos)? {
                f.push(("photo", p));
            }
            (t, Verb::SubmitRectification, f)
        }
        HazardCmd::FixOnSpot {
            t,
            before,
            after,
            note,
        } => {
            let mut f = vec![("note", note)];
            if let Some(p) = before {
                f.push(("before_photo", photo_ref(&store, &p)?));
            }
            if let Some(p) = after {
                f.push(("after_photo", photo_ref(&store, &p)?));
            }
            (t, Verb::FixOnSpot, f)
        }
        HazardCmd::Review {
            t,
            pass,
            fail,
            new_deadline,
            note,
        } => {
            let mut f = vec![("note", note)];
            if pass || fail {
                f.push(("passed", decision_code(pass).to_string()));
            }
            if let Some(d) = new_deadline {
                f.push(("new_deadline", d));
            }
            (t, Verb::Review, f)
        }
        HazardCmd::Extend {
            t,
            reason,
            proposed,
            measures,
        } => (
            t,
            Verb::RequestExtension,
            vec![
                ("reason", reason),
                ("proposed_deadline", proposed),
                ("interim_measures", measures),
            ],
        ),
        HazardCmd::DecideExtension {
            t,
            approve,
            reject,
            basis,
        } => {
            let mut f = vec![("basis", basis)];
            if approve || reject {
                f.push(("approved", decision_code(approve).to_string()));
            }
            (t, Verb::DecideExtension, f)
        }
        HazardCmd::Escalate {
            t,
            to,
            reason,
            note,
        } => (
            t,
            Verb::Escalate,
            vec![("to", to), ("reason", reason), ("note", note)],
        ),
        HazardCmd::HandBack {
            t,
            to,
            guidance,
            deadline,
        } => (
            t,
            Verb::HandBack,
            vec![("to", to), ("guidance", guidance), ("deadline", deadline)],
        ),
        HazardCmd::JointEnforcement {
            t,
            departments,
            note,
        } => (
            t,
            Verb::JointEnforcement,
            vec![("departments", departments), ("note", note)],
        ),
        HazardCmd::Refer {
            t,
            department,
            case_number,
            note,
        } => (
            t,
            Verb::Refer,
            vec![
                ("department", department),
                ("case_number", case_number),
                ("note", note),
            ],
        ),
        HazardCmd::Outcome { t, outcome } => (t, Verb::RecordOutcome, vec![("outcome", outcome)]),
        HazardCmd::Supervise { t, note } => (t, Verb::Supervise, vec![("note", note)]),
        HazardCmd::Withdraw { t, reason } => (t, Verb::Withdraw, vec![("reason", reason)]),
    };
    let event = event_from_form(verb.code(), fields)?;
    let actor = store.actor(&t.who.user)?;
    let id = store.find_hazard(&t.id)?;
    store.hazard_event(&actor, id, event)?;
    let h = store.hazard(id)?.hazard;
    if as_json {
        return json(&h);
    }
    Ok(format!(
        "{verb}: 隐患 {} → {}{}",
        short_id(&id.to_string()),
        h.status.zh(),
        h.deadline.map_or(String::new(), |d| format!("，期限 {d}"))
    ))
}

/// A photo as typed: the hash of one already kept here, or a file to keep (its original bytes
/// are stored by their hash, which is what the op cites).
pub(crate) fn photo_ref(store: &Store, arg: &str) -> Result<String> {
    if check_photo_ref(arg).is_ok() {
        return Ok(arg.to_string());
    }
    let path = Path::new(arg);
    if !path.is_file() {
        return Err(InvalidInput::new(Field::Photo, Problem::Malformed).into());
    }
    store.add_photo_file(path)
}

fn photo_refs(store: &Store, args: &[String]) -> Result<Vec<String>> {
    args.iter().map(|a| photo_ref(store, a)).collect()
}
