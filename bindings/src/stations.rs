//! Stations, teams and committees from the phone (微型消防站、志愿消防队、消防安全委员会、村消防安全
//! 领导小组): a village leader or the township keeps each as a whole record, its members, duty
//! roster and equipment retyped and sent again (`put_group`, last writer wins); whoever holds a
//! group's whole area checks its equipment (`check_equipment`), and each item falls due again
//! after its cycle, in that person's own list (`equipment_due`) as places fall due in 今日巡查.
//! Who may write and what a group may hold are the core's rules
//! (`gridpatrol_core::registers::group`), the same the server applies; `groups` is refused
//! outside the user's scope as `report` is. Drills and meetings are activity drafts naming their
//! group (`start_activity_draft`). The only thing decided here is the key of an equipment item
//! added on the phone, which the screen does not type.

use std::collections::HashMap;

use gridpatrol_core::op::OpBody;
use gridpatrol_core::registers::group::{self, Equipment, Group, ItemCheck, ItemDue, Member};
use uuid::Uuid;

use crate::error::GridPatrolError;
use crate::registers::day;
use crate::store::{id, PatrolStore};

type Result<T> = std::result::Result<T, GridPatrolError>;

/// A standing group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum GroupKind {
    /// 微型消防站
    MicroStation,
    /// 志愿消防队
    VolunteerTeam,
    /// 消防安全委员会
    SafetyCommittee,
    /// 村消防安全领导小组
    LeadingGroup,
}

impl From<GroupKind> for group::GroupKind {
    fn from(k: GroupKind) -> Self {
        use group::GroupKind as K;
        match k {
            GroupKind::MicroStation => K::MicroStation,
            GroupKind::VolunteerTeam => K::VolunteerTeam,
            GroupKind::SafetyCommittee => K::SafetyCommittee,
            GroupKind::LeadingGroup => K::LeadingGroup,
        }
    }
}

impl From<group::GroupKind> for GroupKind {
    fn from(k: group::GroupKind) -> Self {
        use group::GroupKind as K;
        match k {
            K::MicroStation => GroupKind::MicroStation,
            K::VolunteerTeam => GroupKind::VolunteerTeam,
            K::SafetyCommittee => GroupKind::SafetyCommittee,
            K::LeadingGroup => GroupKind::LeadingGroup,
        }
    }
}

/// A kind of group the screen offers.
#[derive(Debug, Clone, uniffi::Record)]
pub struct GroupKindChoice {
    pub kind: GroupKind,
    pub code: String,
    pub zh: String,
    /// A station or team: keeps equipment and holds drills (a committee holds meetings).
    pub keeps_equipment: bool,
}

/// An area the user answers for (a worker's grids, a leader's village, an officer's
/// township): where a group they keep, or an activity they log, belongs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OrgChoice {
    pub org_id: String,
    pub name: String,
    /// 网格, 村（社区）, 乡镇（街道）…
    pub level_zh: String,
}

/// A member of a group, as listed and as entered.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct GroupMember {
    pub name: String,
    /// The member's account, where they have one.
    pub user_id: Option<String>,
    /// 职务 (站长、队员、主任委员…); may be empty.
    pub duty: String,
}

/// An equipment item as the group lists it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EquipmentItem {
    /// Stable within the group: checks name the item by it.
    pub key: String,
    /// 器材类型 (灭火器、消防水带…).
    pub kind: String,
    pub count: u32,
    pub check_every_days: u32,
    /// 有效期至 (`YYYY-MM-DD`), if it has one.
    pub expires_on: Option<String>,
}

/// An equipment item as the screen enters it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EquipmentInput {
    /// The item's key from `GroupEntry` when editing one; None for an item added now, which
    /// is given a key of its own.
    pub key: Option<String>,
    pub kind: String,
    pub count: u32,
    pub check_every_days: u32,
    pub expires_on: Option<String>,
}

/// A group as the screen sends it, whole: a new one (no `group_id`), or one edited (its id,
/// with every member and item as they now are: what is left out is dropped).
#[derive(Debug, Clone, uniffi::Record)]
pub struct GroupInput {
    pub group_id: Option<String>,
    pub kind: GroupKind,
    /// The village (or township, or grid) it belongs to.
    pub org_id: String,
    pub name: String,
    pub members: Vec<GroupMember>,
    /// 值班安排, as the station writes it.
    pub roster: String,
    /// A station's or team's only; a committee keeps none.
    pub equipment: Vec<EquipmentInput>,
    /// False when the group is disbanded.
    pub active: bool,
}

/// A group as listed.
#[derive(Debug, Clone, uniffi::Record)]
pub struct GroupEntry {
    pub group_id: String,
    pub kind: GroupKind,
    pub kind_zh: String,
    pub org_id: String,
    pub org_name: String,
    pub name: String,
    pub members: Vec<GroupMember>,
    pub roster: String,
    pub equipment: Vec<EquipmentItem>,
    pub active: bool,
}

/// One item as checked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ItemCheckInput {
    pub key: String,
    /// 完好 (true) or 损坏/缺失 (false).
    pub ok: bool,
    pub note: String,
}

/// An item due for its check today.
#[derive(Debug, Clone, uniffi::Record)]
pub struct EquipmentDue {
    pub group_id: String,
    pub group_name: String,
    pub org_id: String,
    pub item: EquipmentItem,
    /// The last check (`YYYY-MM-DD`) and what it found; None when never checked.
    pub last_checked: Option<String>,
    pub last_ok: Option<bool>,
    /// 完好, 损坏或缺失 or 未检查, as the station ledger says it.
    pub last_result_zh: String,
    /// None when never checked (due now).
    pub next_due: Option<String>,
    /// Past its refill or replacement date.
    pub expired: bool,
}

fn member(m: Member) -> GroupMember {
    GroupMember {
        name: m.name,
        user_id: m.user_id,
        duty: m.duty,
    }
}

fn item(e: Equipment) -> EquipmentItem {
    EquipmentItem {
        key: e.key,
        kind: e.kind,
        count: e.count,
        check_every_days: e.check_every_days,
        expires_on: e.expires_on.map(|d| d.to_string()),
    }
}

fn equipment(e: EquipmentInput) -> Result<Equipment> {
    Ok(Equipment {
        key: e.key.unwrap_or_else(|| Uuid::now_v7().simple().to_string()),
        kind: e.kind.trim().to_string(),
        count: e.count,
        check_every_days: e.check_every_days,
        expires_on: e.expires_on.as_deref().map(day).transpose()?,
    })
}

fn due(i: ItemDue) -> EquipmentDue {
    EquipmentDue {
        group_id: i.group_id.to_string(),
        group_name: i.group_name,
        org_id: i.org_id,
        item: item(i.item),
        last_checked: i.last_checked.map(|d| d.to_string()),
        last_ok: i.last_ok,
        last_result_zh: match i.last_ok {
            Some(true) => "完好",
            Some(false) => "损坏或缺失",
            None => "未检查",
        }
        .into(),
        next_due: i.next_due.map(|d| d.to_string()),
        expired: i.expired,
    }
}

#[uniffi::export]
impl PatrolStore {
    /// The kinds of group, stations first.
    pub fn group_kinds(&self) -> Vec<GroupKindChoice> {
        group::GroupKind::ALL
            .iter()
            .map(|&k| GroupKindChoice {
                kind: k.into(),
                code: k.code().into(),
                zh: k.zh().into(),
                keeps_equipment: k.keeps_equipment(),
            })
            .collect()
    }

    /// The areas the user answers for, as their account lists them.
    pub fn user_orgs(&self, user_id: String) -> Result<Vec<OrgChoice>> {
        let user = self.store.user(&user_id)?;
        user.org_ids
            .iter()
            .map(|o| {
                let node = self.store.org_node(o)?;
                Ok(OrgChoice {
                    org_id: node.id,
                    name: node.name,
                    level_zh: node.level.zh().into(),
                })
            })
            .collect()
    }

    /// Whether the user's role keeps groups at all (village leaders and the township), so the
    /// app offers 新建 and 编辑 only to them: the core's rule, asked of a group.
    pub fn may_keep_groups(&self, user_id: String) -> Result<bool> {
        let actor = self.actor(&user_id)?;
        // `writers` decides by the kind of op alone for a group, so any group will do.
        let any = OpBody::Group(Group {
            id: Uuid::nil(),
            kind: group::GroupKind::MicroStation,
            org_id: String::new(),
            name: String::new(),
            members: Vec::new(),
            roster: String::new(),
            equipment: Vec::new(),
            active: true,
        });
        Ok(gridpatrol_core::sync::authz::writers(&any).contains(&actor.role))
    }

    /// 消防站登记: records a group whole, new or edited (a village leader or the township, for
    /// an area wholly theirs; a grid worker is refused); returns its id.
    pub fn put_group(&self, user_id: String, group: GroupInput) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let record = Group {
            id: match group.group_id.as_deref() {
                Some(g) => id(g)?,
                None => Uuid::now_v7(),
            },
            kind: group.kind.into(),
            org_id: group.org_id,
            name: group.name,
            members: group
                .members
                .into_iter()
                .map(|m| Member {
                    name: m.name.trim().to_string(),
                    user_id: m.user_id,
                    duty: m.duty.trim().to_string(),
                })
                .collect(),
            roster: group.roster,
            equipment: group
                .equipment
                .into_iter()
                .map(equipment)
                .collect::<Result<_>>()?,
            active: group.active,
        };
        Ok(self.store.put_group(&actor, record)?.to_string())
    }

    /// The groups under `scope_id` (the user's own area or within it), disbanded ones included
    /// (`active` false).
    pub fn groups(&self, user_id: String, scope_id: String) -> Result<Vec<GroupEntry>> {
        self.store
            .require_scope(&self.actor(&user_id)?, &scope_id)?;
        let mut names: HashMap<String, String> = HashMap::new();
        let mut out = Vec::new();
        for g in self.store.groups(&scope_id)? {
            let org_name = match names.get(&g.org_id) {
                Some(n) => n.clone(),
                None => {
                    let n = self.store.org_node(&g.org_id)?.name;
                    names.insert(g.org_id.clone(), n.clone());
                    n
                }
            };
            out.push(GroupEntry {
                group_id: g.id.to_string(),
                kind: g.kind.into(),
                kind_zh: g.kind.zh().into(),
                org_id: g.org_id,
                org_name,
                name: g.name,
                members: g.members.into_iter().map(member).collect(),
                roster: g.roster,
                equipment: g.equipment.into_iter().map(item).collect(),
                active: g.active,
            });
        }
        Ok(out)
    }

    /// 器材检查: records a check of some of a group's items on `checked_on` (`YYYY-MM-DD`, today
    /// or earlier), with photos by SHA-256; returns its id. The user must hold the group's
    /// whole area.
    pub fn check_equipment(
        &self,
        user_id: String,
        group_id: String,
        checked_on: String,
        items: Vec<ItemCheckInput>,
        photos: Vec<String>,
    ) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let items = items
            .into_iter()
            .map(|i| ItemCheck {
                key: i.key,
                ok: i.ok,
                note: i.note.trim().to_string(),
            })
            .collect();
        let check =
            self.store
                .check_equipment(&actor, id(&group_id)?, day(&checked_on)?, items, photos)?;
        Ok(check.to_string())
    }

    /// 器材待检查: the items the user may check that are due today, soonest first (never
    /// checked before any other).
    pub fn equipment_due(&self, user_id: String) -> Result<Vec<EquipmentDue>> {
        let rows = self.store.equipment_due_for(&self.actor(&user_id)?)?;
        Ok(rows.into_iter().map(due).collect())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::drafts::{ActivityType, DraftOutcome};
    use crate::testing::{demo, refused};

    #[test]
    fn every_kind_crosses_both_ways() {
        for k in group::GroupKind::ALL {
            assert_eq!(group::GroupKind::from(GroupKind::from(k)), k);
        }
    }

    fn station(org: &str) -> GroupInput {
        let item = |kind: &str, every| EquipmentInput {
            key: None,
            kind: kind.into(),
            count: 4,
            check_every_days: every,
            expires_on: None,
        };
        GroupInput {
            group_id: None,
            kind: GroupKind::MicroStation,
            org_id: org.into(),
            name: "东沟村微型消防站".into(),
            members: vec![GroupMember {
                name: "站长甲".into(),
                user_id: None,
                duty: "站长".into(),
            }],
            roster: "每日两人值班".into(),
            equipment: vec![item("灭火器", 30), item("消防水带", 90)],
            active: true,
        }
    }

    #[test]
    fn a_leader_keeps_a_station_and_checks_its_equipment() {
        let d = demo("station");
        let s = &d.store;
        let today = s.today();
        assert_eq!(
            s.user_orgs("l01".into()).unwrap(),
            vec![OrgChoice {
                org_id: "v01".into(),
                name: s.store.org_node("v01").unwrap().name,
                level_zh: "村（社区）".into(),
            }]
        );
        assert!(
            !s.may_keep_groups("w01".into()).unwrap() && !s.may_keep_groups("b01".into()).unwrap()
        );
        assert!(
            s.may_keep_groups("l01".into()).unwrap() && s.may_keep_groups("o01".into()).unwrap()
        );
        let err = s.put_group("w01".into(), station("g01")).unwrap_err();
        assert_eq!(refused(err), "role_not_allowed");
        let id = s.put_group("l01".into(), station("v01")).unwrap();
        let [g] = s
            .groups("l01".into(), "v01".into())
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(
            (g.group_id.as_str(), g.kind_zh.as_str()),
            (id.as_str(), "微型消防站")
        );
        assert_eq!(g.equipment.len(), 2);
        assert_ne!(g.equipment[0].key, g.equipment[1].key);
        assert_eq!(
            refused(s.groups("w04".into(), "v01".into()).unwrap_err()),
            "out_of_scope"
        );

        let due = s.equipment_due("l01".into()).unwrap();
        assert_eq!(due.len(), 2);
        assert!(due
            .iter()
            .all(|i| i.last_result_zh == "未检查" && i.next_due.is_none()));
        assert_eq!(s.reminders("l01".into()).unwrap().equipment_due, 2);
        assert!(s.equipment_due("w04".into()).unwrap().is_empty());
        let first = &g.equipment[0];
        let check = vec![ItemCheckInput {
            key: first.key.clone(),
            ok: true,
            note: String::new(),
        }];
        s.check_equipment("l01".into(), id.clone(), today.clone(), check, Vec::new())
            .unwrap();
        let [left] = s.equipment_due("l01".into()).unwrap().try_into().unwrap();
        assert_eq!(left.item.kind, "消防水带");
        let unknown = vec![ItemCheckInput {
            key: "nope".into(),
            ok: true,
            note: String::new(),
        }];
        assert!(s
            .check_equipment("l01".into(), id.clone(), today.clone(), unknown, Vec::new())
            .is_err());

        // An edit re-sends the same id and keeps the keys: the check stays with its item.
        let mut edit = station("v01");
        edit.group_id = Some(id.clone());
        edit.name = "东沟村微型消防站（一站）".into();
        edit.equipment = g
            .equipment
            .iter()
            .map(|e| EquipmentInput {
                key: Some(e.key.clone()),
                kind: e.kind.clone(),
                count: e.count,
                check_every_days: e.check_every_days,
                expires_on: e.expires_on.clone(),
            })
            .collect();
        assert_eq!(s.put_group("l01".into(), edit).unwrap(), id);
        assert_eq!(s.equipment_due("l01".into()).unwrap().len(), 1);

        // A drill names the station, and its draft gives the group back.
        let draft = s
            .start_activity_draft(
                "l01".into(),
                ActivityType::Drill,
                "v01".into(),
                today.clone(),
                Some(id.clone()),
            )
            .unwrap();
        assert_eq!(
            s.activity_draft("l01".into(), draft.clone())
                .unwrap()
                .group_id,
            Some(id.clone())
        );
        s.save_activity_draft(
            "l01".into(),
            draft.clone(),
            "灭火器实操演练".into(),
            12,
            String::new(),
            None,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        )
        .unwrap();
        assert!(matches!(
            s.submit_draft("l01".into(), draft).unwrap(),
            DraftOutcome::Activity { .. }
        ));
        let r = s
            .report("l01".into(), "v01".into(), today.clone(), today)
            .unwrap();
        assert_eq!((r.micro_stations, r.equipment_items), (1, 2));
        assert_eq!((r.drills, r.drill_attendance, r.members), (1, 12, 1));
        assert_eq!(r.equipment_due, 1);
    }
}
