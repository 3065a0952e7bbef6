//! From what a person typed to a lifecycle event: a verb code and named string fields, as a web
//! form, a command line or an app screen gives them. This is the only place where form text
//! becomes a `HazardEvent`, so the console, the CLI and the FFI read days, levels, reasons and
//! decisions the same way and fail with the same typed errors.
//!
//! The builder checks shape (the verb, days, codes, yes/no); what the content must satisfy
//! (required text, lengths, deadlines not in the past) is the lifecycle's, checked by the same
//! `step` that folds the event, so it is said once.
//!
//! Field names, per verb (values are trimmed; a missing text field is empty):
//! - `notify`: `responsible_party`, `deadline`, `note`
//! - `start_rectification`: `note`
//! - `submit_rectification`: `note`, `photo` (repeatable, a photo's SHA-256)
//! - `fix_on_spot`: `note`, `before_photo`, `after_photo` (each optional)
//! - `review`: `passed` (`yes`/`no`), `note`, `new_deadline` (required when `passed` is `no`)
//! - `request_extension`: `reason`, `proposed_deadline`, `interim_measures`
//! - `decide_extension`: `approved` (`yes`/`no`), `basis`
//! - `escalate`: `to` (a `Level` code), `reason` (an `EscalationReason` code), `note`
//! - `hand_back`: `to` (a `Level` code), `guidance`, `deadline`
//! - `joint_enforcement`: `departments`, `note`, `deadline` (the 办结期限)
//! - `refer`: `department`, `case_number`, `note`, `deadline` (the 办结期限)
//! - `record_outcome`: `outcome`
//! - `supervise`: `note`, `deadline` (the 督办期限)
//! - `reclassify`: `severity` (a `Severity` code), `reason`
//! - `settle_conflict`: `op_id` (the conflicted event's op), `note`
//! - `withdraw`: `reason`
//!
//! Days are `YYYY-MM-DD`. `report` is not built here: raising a hazard needs its place looked
//! up, which `NewHazard` does.

use std::collections::BTreeMap;

use crate::clock::Day;
use crate::error::{Field, InvalidInput, Problem};

use super::{HazardEvent, Verb};

/// The fields of one form, by name; a repeated name keeps every value in order.
struct Fields(BTreeMap<String, Vec<String>>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// A text field; a missing one is empty (the lifecycle says whether it may be).
    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    fn optional(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .get(name)
            .map(|v| v.iter().filter(|s| !s.is_empty()).cloned().collect())
            .unwrap_or_default()
    }

    /// A required field read as a code of `T`; missing or blank is `Empty` for `field`.
    fn code<T>(&self, name: &str, field: Field) -> Result<T, InvalidInput>
    where
        T: std::str::FromStr<Err = InvalidInput>,
    {
        match self.get(name) {
            None | Some("") => Err(InvalidInput::new(field, Problem::Empty)),
            Some(s) => s.parse(),
        }
    }

    /// A required day. Every day on a hazard form is a deadline of some kind, and is reported
    /// as one, so the person sees which box to correct.
    fn day(&self, name: &str) -> Result<Day, InvalidInput> {
        match self.get(name) {
            None | Some("") => Err(InvalidInput::new(Field::Deadline, Problem::Empty)),
            Some(s) => s
                .parse()
                .map_err(|_| InvalidInput::new(Field::Deadline, Problem::NotADay)),
        }
    }

    /// A yes/no decision, written `yes` or `no`.
    fn decision(&self, name: &str) -> Result<bool, InvalidInput> {
        match self.get(name) {
            Some("yes") => Ok(true),
            Some("no") => Ok(false),
            None | Some("") => Err(InvalidInput::new(Field::Decision, Problem::Empty)),
            Some(other) => Err(crate::vocab::unknown(Field::Decision, other)),
        }
    }
}

/// How a form writes a yes/no decision (`passed`, `approved`).
pub fn decision_code(yes: bool) -> &'static str {
    if yes {
        "yes"
    } else {
        "no"
    }
}

/// Builds the event `verb` names from the form's fields (see the module for their names).
pub fn event_from_form<K, V>(
    verb: &str,
    fields: impl IntoIterator<Item = (K, V)>,
) -> Result<HazardEvent, InvalidInput>
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in fields {
        map.entry(k.as_ref().to_string())
            .or_default()
            .push(v.as_ref().trim().to_string());
    }
    let f = Fields(map);
    Ok(match verb.parse::<Verb>()? {
        // A report needs its place looked up; a number is the server's to give.
        Verb::Report | Verb::CaseNumber => return Err(crate::vocab::unknown(Field::Verb, verb)),
        Verb::Notify => HazardEvent::Notify {
            responsible_party: f.text("responsible_party"),
            deadline: f.day("deadline")?,
            note: f.text("note"),
        },
        Verb::StartRectification => HazardEvent::StartRectification {
            note: f.text("note"),
        },
        Verb::SubmitRectification => HazardEvent::SubmitRectification {
            note: f.text("note"),
            photos: f.all("photo"),
        },
        Verb::FixOnSpot => HazardEvent::FixOnSpot {
            note: f.text("note"),
            before_photo: f.optional("before_photo"),
            after_photo: f.optional("after_photo"),
        },
        Verb::Review => {
            let passed = f.decision("passed")?;
            HazardEvent::Review {
                passed,
                note: f.text("note"),
                new_deadline: if passed {
                    None
                } else {
                    Some(f.day("new_deadline")?)
                },
            }
        }
        Verb::RequestExtension => HazardEvent::RequestExtension {
            reason: f.text("reason"),
            proposed_deadline: f.day("proposed_deadline")?,
            interim_measures: f.text("interim_measures"),
        },
        Verb::DecideExtension => HazardEvent::DecideExtension {
            approved: f.decision("approved")?,
            basis: f.text("basis"),
        },
        Verb::Escalate => HazardEvent::Escalate {
            to: f.code("to", Field::Level)?,
            reason: f.code("reason", Field::Cause)?,
            note: f.text("note"),
        },
        Verb::HandBack => HazardEvent::HandBack {
            to: f.code("to", Field::Level)?,
            guidance: f.text("guidance"),
            deadline: f.day("deadline")?,
        },
        // Every case the township holds runs to a deadline it sets.
        Verb::JointEnforcement => HazardEvent::JointEnforcement {
            departments: f.text("departments"),
            note: f.text("note"),
            deadline: Some(f.day("deadline")?),
        },
        Verb::Refer => HazardEvent::Refer {
            department: f.text("department"),
            case_number: f.text("case_number"),
            note: f.text("note"),
            deadline: Some(f.day("deadline")?),
        },
        Verb::RecordOutcome => HazardEvent::RecordOutcome {
            outcome: f.text("outcome"),
        },
        Verb::Supervise => HazardEvent::Supervise {
            note: f.text("note"),
            deadline: Some(f.day("deadline")?),
        },
        Verb::SettleConflict => HazardEvent::SettleConflict {
            op_id: f
                .get("op_id")
                .and_then(|s| uuid::Uuid::parse_str(s).ok())
                .ok_or_else(|| InvalidInput::new(Field::Id, Problem::Malformed))?,
            note: f.text("note"),
        },
        Verb::Reclassify => HazardEvent::Reclassify {
            severity: f.code("severity", Field::Severity)?,
            reason: f.text("reason"),
        },
        Verb::Withdraw => HazardEvent::Withdraw {
            reason: f.text("reason"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::{EscalationReason, Level};

    fn build(verb: &str, fields: &[(&str, &str)]) -> Result<HazardEvent, InvalidInput> {
        event_from_form(verb, fields.iter().copied())
    }

    fn failure(verb: &str, fields: &[(&str, &str)]) -> InvalidInput {
        match build(verb, fields) {
            Ok(ev) => panic!("{verb} built {ev:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn every_verb_but_report_builds_from_its_fields() {
        let day = |s: &str| s.parse::<Day>().ok();
        assert_eq!(
            build(
                "hand_back",
                &[
                    ("to", "grid"),
                    ("guidance", " 清理通道 "),
                    ("deadline", "2026-12-10")
                ]
            )
            .ok(),
            Some(HazardEvent::HandBack {
                to: Level::Grid,
                guidance: "清理通道".into(),
                deadline: day("2026-12-10").unwrap_or(Day(0)),
            })
        );
        assert_eq!(
            build(
                "escalate",
                &[("to", "township"), ("reason", "owner_refuses")]
            )
            .ok(),
            Some(HazardEvent::Escalate {
                to: Level::Township,
                reason: EscalationReason::OwnerRefuses,
                note: String::new(),
            })
        );
        assert_eq!(
            build("review", &[("passed", "yes"), ("new_deadline", "nonsense")]).ok(),
            Some(HazardEvent::Review {
                passed: true,
                note: String::new(),
                new_deadline: None,
            })
        );
        assert_eq!(
            build("submit_rectification", &[("photo", "a"), ("photo", "b")]).ok(),
            Some(HazardEvent::SubmitRectification {
                note: String::new(),
                photos: vec!["a".into(), "b".into()],
            })
        );
        assert_eq!(
            build("fix_on_spot", &[("after_photo", "x")]).ok(),
            Some(HazardEvent::FixOnSpot {
                note: String::new(),
                before_photo: None,
                after_photo: Some("x".into()),
            })
        );
        let fields = [
            ("responsible_party", "店主"),
            ("deadline", "2026-12-10"),
            ("new_deadline", "2026-12-10"),
            ("proposed_deadline", "2026-12-10"),
            ("passed", "no"),
            ("approved", "yes"),
            ("to", "village"),
            ("reason", "major"),
            ("severity", "major"),
            ("op_id", "0190a0a0-0000-7000-8000-000000000000"),
        ];
        for verb in Verb::ALL {
            let built = build(verb.code(), &fields);
            if matches!(verb, Verb::Report | Verb::CaseNumber) {
                assert!(built.is_err());
            } else {
                assert_eq!(built.map(|e| e.verb()).ok(), Some(verb.code()));
            }
        }
    }

    #[test]
    fn bad_fields_are_typed_errors_in_both_languages() {
        let e = failure("hand_back", &[("to", "grid"), ("deadline", "2026-02-30")]);
        assert_eq!((e.field, &e.problem), (Field::Deadline, &Problem::NotADay));
        assert!(e.zh().contains("日期格式不正确"), "{}", e.zh());
        assert!(
            e.en().contains("dates are written YYYY-MM-DD"),
            "{}",
            e.en()
        );

        let e = failure("notify", &[("responsible_party", "店主")]);
        assert_eq!((e.field, e.problem), (Field::Deadline, Problem::Empty));
        let e = failure("review", &[("passed", "no")]);
        assert_eq!((e.field, e.problem), (Field::Deadline, Problem::Empty));
        let e = failure("review", &[("passed", "maybe")]);
        assert_eq!(e.field, Field::Decision);
        assert_eq!(e.zh(), "未知的结论：maybe");
        let e = failure("decide_extension", &[]);
        assert_eq!((e.field, e.problem), (Field::Decision, Problem::Empty));
        let e = failure("hand_back", &[("to", "county"), ("deadline", "2026-12-10")]);
        assert_eq!(e.field, Field::Level);
        let e = failure("escalate", &[("to", "village"), ("reason", "tired")]);
        assert_eq!(e.field, Field::Cause);
        let e = failure("escalate", &[("reason", "major")]);
        assert_eq!((e.field, e.problem), (Field::Level, Problem::Empty));
        let e = failure("approve", &[]);
        assert_eq!(e.field, Field::Verb);
        assert_eq!(e.en(), "unknown action: approve");
        assert_eq!(failure("report", &[]).field, Field::Verb);
    }
}
