//! The documents a case produces on paper: the 整改通知书 (rectification notice) handed to the
//! owner, and the 复查意见书 (re-inspection opinion) after the check. What they say is worked
//! out here, once, from the case and its events; the console prints it and an app can show it.
//! Each carries the case number and a verification code (the first eight hex digits of a
//! SHA-256 over the case's id and number) in text and in its QR code, so a paper copy can be
//! matched with the record.

use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{case_label, HazardEvent};
use crate::clock::Day;
use crate::error::Result;
use crate::store::Store;

/// One thing to put right, with the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeItem {
    pub what: String,
    pub legal_basis: Option<String>,
}

/// The result of the re-inspection, for the 复查意见书.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewOpinion {
    pub passed: bool,
    pub note: String,
    pub reviewer: String,
    pub on: Day,
    /// A failed check's new deadline.
    pub new_deadline: Option<Day>,
}

/// Everything a notice says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The township that issues it.
    pub issuing_unit: String,
    pub case_number: String,
    pub verification: String,
    /// What the QR code holds: `GRIDPATROL|<case number>|<verification>`.
    pub qr_text: String,
    pub place: String,
    pub address: String,
    pub responsible: String,
    pub category: String,
    pub items: Vec<NoticeItem>,
    pub deadline: Option<Day>,
    /// 临时管控措施 asked of the owner until the deadline (what an extension request stated,
    /// else the standing requirement).
    pub interim_measures: String,
    pub inspector: String,
    /// The day the notice was issued (the notify event), else the day found.
    pub issued_on: Day,
    /// The last re-inspection, when there was one.
    pub review: Option<ReviewOpinion>,
}

/// The standing requirement while a hazard waits to be put right.
const STANDING_MEASURES: &str =
    "整改期间，应当落实专人看护、设置警示标志等临时防范措施，确保消防安全；不能保证安全的，应当停止使用相关部位。";

/// The verification code of a case: eight hex digits that only its id and number give.
pub fn verification_code(id: &Uuid, case_number: &str) -> String {
    let digest = Sha256::digest(format!("{id}|{case_number}").as_bytes());
    hex::encode(&digest[..4])
}

impl Store {
    /// The notice of a case (整改通知书, with the 复查意见书's content when it has been checked).
    pub fn notice(&self, id: Uuid) -> Result<Notice> {
        let detail = self.hazard(id)?;
        let h = &detail.hazard;
        let (place, address, owner, phone) = self.read(|c| {
            Ok(c.prepare_cached(
                "SELECT name, address, responsible_name, coalesce(responsible_phone, '')
                 FROM places WHERE id = ?1",
            )?
            .query_row([h.report.place_id.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
            })?)
        })?;
        let unit = self
            .read(|c| crate::org::node(c, &h.report.township_id))
            .map_or_else(|_| h.report.township_id.clone(), |n| n.name);
        let name = |user: &str| {
            self.user(user)
                .map_or_else(|_| user.to_string(), |u| u.name)
        };
        let mut issued_on = Day::from_ms(h.reported_at);
        let mut interim = None;
        let mut review = None;
        for e in detail.events.iter().filter(|e| e.conflict.is_none()) {
            match &e.event {
                HazardEvent::Notify { .. } => issued_on = e.hlc.day(),
                HazardEvent::RequestExtension {
                    interim_measures, ..
                } => interim = Some(interim_measures.clone()),
                HazardEvent::Review {
                    passed,
                    note,
                    new_deadline,
                } => {
                    review = Some(ReviewOpinion {
                        passed: *passed,
                        note: note.clone(),
                        reviewer: name(&e.actor_id),
                        on: e.hlc.day(),
                        new_deadline: *new_deadline,
                    })
                }
                _ => {}
            }
        }
        let number = case_label(h.case_number.as_deref(), &h.id);
        let verification = verification_code(&h.id, &number);
        let lib = crate::checklist::library();
        // One hazard raised from several failed items of a category says each (`；`).
        let items = h
            .report
            .description
            .split('；')
            .map(|what| NoticeItem {
                what: what.to_string(),
                legal_basis: h.report.legal_basis.clone(),
            })
            .collect();
        let responsible = h.responsible_party.clone().unwrap_or(owner);
        Ok(Notice {
            issuing_unit: unit,
            qr_text: format!("GRIDPATROL|{number}|{verification}"),
            case_number: number,
            verification,
            place,
            address,
            responsible: format!("{responsible} {phone}").trim().to_string(),
            category: lib.category_zh(&h.report.category).to_string(),
            items,
            deadline: h.deadline,
            interim_measures: interim.unwrap_or_else(|| STANDING_MEASURES.to_string()),
            inspector: name(&h.reporter_id),
            issued_on,
            review,
        })
    }
}
