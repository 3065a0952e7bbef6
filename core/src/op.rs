//! Operations: the only way anything changes. Every change a person makes becomes one op with an
//! id made on the device (UUIDv7), the device id and its own sequence number, an HLC timestamp
//! and the acting user with their role at that moment. An op is appended to the op log in the
//! same transaction as its effect, and a local op is thereby in the outbox (see `store::schema`);
//! current state is a fold over the log (see `apply`). The acting role is carried in the op so that every replica folds the
//! same history to the same state, whatever it knows about users today.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::activity::Activity;
use crate::checklist::Template;
use crate::clock::Hlc;
use crate::hazard::{HazardEvent, Verb};
use crate::org::{OrgNode, Role, User};
use crate::patrol::PatrolRecord;
use crate::place::{Place, PlaceChanges};
use crate::plan::PatrolPlan;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub id: Uuid,
    pub device_id: Uuid,
    pub seq: i64,
    pub hlc: Hlc,
    /// The device's own wall clock when the op was made: shown to people, never used to order.
    pub wall_ms: i64,
    pub actor_id: String,
    pub actor_role: Role,
    pub body: OpBody,
}

/// Internally tagged by `kind`: no record carried here may have a field of that name (a test
/// round-trips every variant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpBody {
    OrgNode(OrgNode),
    User(User),
    Template(Template),
    PlaceCreate(Place),
    PlaceUpdate(PlaceChanges),
    Patrol(PatrolRecord),
    Hazard { hazard_id: Uuid, event: HazardEvent },
    Activity(Activity),
    Plan(PatrolPlan),
    Photo(crate::photo::PhotoCapture),
    Campaign(crate::campaign::Campaign),
    Fire(crate::registers::fire::Fire),
    FireWithdrawn(crate::registers::fire::FireWithdrawal),
    Letter(crate::registers::letter::Letter),
    Group(crate::registers::group::Group),
    EquipmentCheck(crate::registers::group::EquipmentCheck),
}

impl OpBody {
    /// The record the op belongs to; all ops of one record are folded together.
    pub fn entity(&self) -> String {
        match self {
            OpBody::OrgNode(n) => format!("org:{}", n.id),
            OpBody::User(u) => format!("user:{}", u.id),
            OpBody::Template(t) => format!("template:{}:{}", t.id, t.version),
            OpBody::PlaceCreate(p) => format!("place:{}", p.id),
            OpBody::PlaceUpdate(c) => format!("place:{}", c.place_id),
            OpBody::Patrol(p) => format!("patrol:{}", p.id),
            OpBody::Hazard { hazard_id, .. } => format!("hazard:{hazard_id}"),
            OpBody::Activity(a) => format!("activity:{}", a.id),
            OpBody::Plan(p) => format!("plan:{}", p.id),
            OpBody::Photo(c) => format!("photo:{}", c.id),
            OpBody::Campaign(c) => format!("campaign:{}", c.id),
            OpBody::Fire(f) => format!("fire:{}", f.id),
            OpBody::FireWithdrawn(w) => format!("fire:{}", w.fire_id),
            OpBody::Letter(l) => format!("letter:{}", l.id),
            OpBody::Group(g) => format!("group:{}", g.id),
            OpBody::EquipmentCheck(c) => format!("check:{}", c.id),
        }
    }

    /// The id of the record an op creates under an id of its device's making.
    pub fn record_id(&self) -> Option<Uuid> {
        match self {
            OpBody::PlaceCreate(p) => Some(p.id),
            OpBody::Patrol(p) => Some(p.id),
            OpBody::Activity(a) => Some(a.id),
            OpBody::Photo(c) => Some(c.id),
            OpBody::Fire(f) => Some(f.id),
            OpBody::Letter(l) => Some(l.id),
            OpBody::EquipmentCheck(c) => Some(c.id),
            OpBody::Hazard {
                hazard_id,
                event: HazardEvent::Report(_),
            } => Some(*hazard_id),
            _ => None,
        }
    }

    /// Whether the op creates a new record under an id made on the device (rather than
    /// changing one, or upserting reference data under a chosen id).
    pub fn creates_record(&self) -> bool {
        matches!(
            self,
            OpBody::PlaceCreate(_)
                | OpBody::Patrol(_)
                | OpBody::Activity(_)
                | OpBody::Photo(_)
                | OpBody::Fire(_)
                | OpBody::Letter(_)
                | OpBody::EquipmentCheck(_)
                | OpBody::Hazard {
                    event: HazardEvent::Report(_),
                    ..
                }
        )
    }

    pub fn kind(&self) -> &'static str {
        match self {
            OpBody::OrgNode(_) => "org_node",
            OpBody::User(_) => "user",
            OpBody::Template(_) => "template",
            OpBody::PlaceCreate(_) => "place_create",
            OpBody::PlaceUpdate(_) => "place_update",
            OpBody::Patrol(_) => "patrol",
            OpBody::Hazard { event, .. } => Verb::of(event).kind(),
            OpBody::Activity(_) => "activity",
            OpBody::Plan(_) => "plan",
            OpBody::Photo(_) => "photo",
            OpBody::Campaign(_) => "campaign",
            OpBody::Fire(_) => "fire",
            OpBody::FireWithdrawn(_) => "fire_withdrawn",
            OpBody::Letter(_) => "letter",
            OpBody::Group(_) => "group",
            OpBody::EquipmentCheck(_) => "equipment_check",
        }
    }
}

/// How many characters of an id a person is shown. The last twelve characters of a UUID are its
/// whole last group, and in a UUIDv7 they are random (the front is a timestamp shared by ids
/// made the same millisecond), so twelve tell apart every case a township will ever hold
/// (48 random bits), where with eight (32 bits) a clash among a township's cases becomes likely
/// in the tens of thousands. The console and the CLI show the same short id; any unique tail of
/// 6 or more characters is accepted back.
pub const SHORT_ID_LEN: usize = 12;

/// The short form of an id (or of a photo's hash): its last `SHORT_ID_LEN` characters.
pub fn short_id(id: &str) -> &str {
    id.get(id.len().saturating_sub(SHORT_ID_LEN)..)
        .unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_id_is_the_last_group_of_a_uuid() {
        let id = "0192f3a4-5b6c-7d8e-9f01-23456789abcd";
        assert_eq!(short_id(id), "23456789abcd");
        assert_eq!(short_id("abc"), "abc");
    }
}
