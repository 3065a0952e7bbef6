//! The field rules every op obeys, whoever made it: lengths, ranges, dates and numbers of each
//! record an op carries. A local command's op is checked here before it is applied, and a sync
//! server checks every pushed op here before storing it, so a phone cannot send what it could
//! not have recorded, and nothing stored can break a report or a phone that receives it.
//! (A hazard event's fields depend on the case's state and are checked by its fold.)

use crate::checklist::{check_photo_ref, AnswerValue};
use crate::clock::{Day, Hlc, MS_PER_DAY};
use crate::error::{self, Field, InvalidInput, Problem};
use crate::op::{Op, OpBody};
use crate::org;
use crate::patrol::PatrolRecord;

/// The earliest moment a record may claim (2000-01-01, UTC): no phone running this app
/// recorded anything before.
pub const EARLIEST_MS: i64 = 946_684_800_000;
/// How far past its op's HLC a time inside a record may lie (a photo's clock and the op's
/// clock differ by the phone's correction at most).
const AHEAD_OF_OP_MS: i64 = MS_PER_DAY;
/// The most answers one patrol may carry (the longest checklist has a few dozen items).
pub const MAX_ANSWERS: usize = 500;
/// The largest audience an activity may claim.
pub const MAX_AUDIENCE: u32 = 100_000;

fn out_of_range(field: Field, min: impl ToString, max: impl ToString) -> InvalidInput {
    InvalidInput::new(
        field,
        Problem::OutOfRange {
            min: min.to_string(),
            max: max.to_string(),
        },
    )
}

/// A moment recorded in a body: after `EARLIEST_MS`, not later than a day past the op.
fn moment(field: Field, ms: i64, op_at: Hlc) -> Result<(), InvalidInput> {
    let latest = op_at.wall_ms().saturating_add(AHEAD_OF_OP_MS);
    if (EARLIEST_MS..=latest).contains(&ms) {
        Ok(())
    } else {
        Err(out_of_range(
            field,
            Day::from_ms(EARLIEST_MS),
            Day::from_ms(latest),
        ))
    }
}

fn patrol(p: &PatrolRecord, at: Hlc) -> Result<(), InvalidInput> {
    moment(Field::Date, p.started_at, at)?;
    moment(Field::Date, p.ended_at, at)?;
    if p.started_at > p.ended_at {
        return Err(InvalidInput::new(Field::Date, Problem::Malformed));
    }
    p.gps.validated()?;
    error::optional_text(Field::Note, &p.note, 500)?;
    org::check_code(Field::Template, &p.template_id)?;
    org::check_code(Field::Id, &p.worker_id)?;
    // A visit with nothing checked is no visit: it would clear the place from the due list.
    if p.answers.is_empty() {
        return Err(InvalidInput::new(Field::Answer, Problem::Empty));
    }
    if p.answers.len() > MAX_ANSWERS {
        return Err(out_of_range(Field::Answer, 0, MAX_ANSWERS));
    }
    for a in &p.answers {
        org::check_code(Field::Answer, &a.key)?;
        match &a.value {
            AnswerValue::Number(n) if !(n.is_finite() && (0.0..=1.0e6).contains(n)) => {
                return Err(out_of_range(Field::Answer, 0, 1_000_000));
            }
            AnswerValue::Choice(c) => {
                error::text(Field::Answer, c, 100)?;
            }
            AnswerValue::Text(t) => {
                error::optional_text(Field::Answer, t, 500)?;
            }
            AnswerValue::Photo(h) => check_photo_ref(h)?,
            _ => {}
        }
    }
    Ok(())
}

/// Checks the record `op` carries by the rules its local command applies.
pub fn check(op: &Op) -> Result<(), InvalidInput> {
    let at = op.hlc;
    match &op.body {
        OpBody::OrgNode(n) => {
            n.clone().validated()?;
        }
        OpBody::User(u) => {
            u.clone().validated()?;
        }
        OpBody::Template(t) => {
            t.clone().validated()?;
        }
        OpBody::PlaceCreate(p) => {
            org::check_code(Field::Grid, &p.grid_id)?;
            p.clone().validated()?;
        }
        OpBody::PlaceUpdate(c) => {
            if let Some(g) = &c.grid_id {
                org::check_code(Field::Grid, g)?;
            }
            c.clone().validated()?;
        }
        OpBody::Patrol(p) => patrol(p, at)?,
        OpBody::Activity(a) => {
            org::check_code(Field::Grid, &a.org_id)?;
            if a.held_on > at.day().plus(1) || a.held_on.start_ms() < EARLIEST_MS {
                return Err(InvalidInput::new(Field::Date, Problem::Malformed));
            }
            if a.audience > MAX_AUDIENCE {
                return Err(out_of_range(Field::Count, 0, MAX_AUDIENCE));
            }
            error::text(Field::Name, &a.title, 100)?;
            error::optional_text(Field::Note, &a.note, 500)?;
            a.check_evidence()?;
        }
        OpBody::Plan(p) => {
            org::check_code(Field::Grid, &p.grid_id)?;
            p.clone().validated()?;
        }
        OpBody::Campaign(x) => {
            x.clone().validated()?;
        }
        OpBody::Photo(c) => {
            check_photo_ref(&c.hash)?;
            org::check_code(Field::Grid, &c.grid_id)?;
            moment(Field::Date, c.taken_at, at)?;
            c.gps.validated()?;
        }
        OpBody::Fire(f) => f.check(at)?,
        OpBody::FireWithdrawn(w) => w.check()?,
        OpBody::Letter(l) => l.check(at)?,
        OpBody::Group(g) => g.check()?,
        OpBody::EquipmentCheck(c) => c.check(at)?,
        OpBody::Hazard { .. } => {}
    }
    Ok(())
}
