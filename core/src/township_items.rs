//! A township's own checklists: items of a built-in template switched off or back on, items
//! of the township's own added, each edit published as the template's next version, so a patrol
//! keeps the version it was made with and phones use the new one from their next sync.
//! Township officers only.

use crate::checklist::{library, Item, ItemKind, Template};
use crate::error::{self, Field, InvalidInput, Problem, Result};
use crate::hazard::lifecycle::Rejection;
use crate::hazard::Severity;
use crate::org::{Actor, Role};
use crate::store::Store;

/// An item a township adds: a pass/fail question whose failure is a hazard of `category`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub label: String,
    pub category: String,
    pub severity: Severity,
    pub deadline_days: u32,
    pub fixable_on_spot: bool,
}

/// An edit of one template: the keys of the items to keep (of the built-in ones and the current
/// version's), and an item to add.
#[derive(Debug, Clone, PartialEq)]
pub struct ChecklistEdit {
    pub template_id: String,
    pub keep: Vec<String>,
    pub add: Option<NewItem>,
}

/// The items a township may choose from for a template: the built-in ones, then its own in the
/// current version; with whether the current version has each.
pub fn choices(current: &Template) -> Vec<(Item, bool)> {
    let builtin: Vec<Item> = library()
        .templates
        .iter()
        .find(|t| t.id == current.id)
        .map(|t| t.items.clone())
        .unwrap_or_default();
    let has = |key: &str| current.items.iter().any(|i| i.key == key);
    let mut out: Vec<(Item, bool)> = builtin.iter().map(|i| (i.clone(), has(&i.key))).collect();
    for own in &current.items {
        if !builtin.iter().any(|b| b.key == own.key) {
            out.push((own.clone(), true));
        }
    }
    out
}

impl NewItem {
    fn into_item(self, key: String) -> Result<Item, InvalidInput> {
        library().category(&self.category)?;
        if !(1..=90).contains(&self.deadline_days) {
            return Err(InvalidInput::new(
                Field::Deadline,
                Problem::OutOfRange {
                    min: "1".into(),
                    max: "90".into(),
                },
            ));
        }
        Ok(Item {
            key,
            kind: ItemKind::PassFail,
            label: error::text(Field::Name, &self.label, 200)?,
            category: self.category,
            severity: self.severity,
            fixable_on_spot: self.fixable_on_spot,
            deadline_days: self.deadline_days,
            legal_basis: None,
            photo_on_fail: true,
            min: None,
            max: None,
            unit: None,
            options: Vec::new(),
            fail_options: Vec::new(),
        })
    }
}

impl Store {
    /// Publishes `edit` as the template's next version; returns that version, or the current
    /// one when the edit changes nothing.
    pub fn edit_checklist(&self, actor: &Actor, edit: ChecklistEdit) -> Result<u32> {
        if actor.role != Role::TownshipOfficer {
            return Err(Rejection::RoleNotAllowed {
                event: "template".into(),
                role: actor.role,
            }
            .into());
        }
        let current = self.template(&edit.template_id, None)?;
        let mut items: Vec<Item> = choices(&current)
            .into_iter()
            .map(|(i, _)| i)
            .filter(|i| edit.keep.contains(&i.key))
            .collect();
        if let Some(new) = edit.add {
            // Unique across versions: an item switched off and added again is a new question.
            let key = format!("own_v{}_{}", current.version + 1, items.len() + 1);
            items.push(new.into_item(key)?);
        }
        if items == current.items {
            return Ok(current.version);
        }
        self.publish_template(actor, Template { items, ..current })
    }
}
