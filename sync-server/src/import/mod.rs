//! The township's 底数清单 (villages, grids, places, people): the template to fill in, reading
//! the filled file, checking every row against the rules and the records before anything is
//! written, a preview of what would change, and applying it as the importing officer's ops,
//! which phones receive at their next sync like any other change.

mod plan;
pub mod sheets;
pub mod template;

pub use plan::{check, Change, Plan, Summary, RISK_CHOICES, ROLE_CHOICES};
pub use sheets::Book;

use serde::Serialize;

use crate::backend::{Admin, ApiError};

/// Why a file, or a row of it, cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub sheet: Option<&'static str>,
    pub row: Option<usize>,
    pub zh: String,
    pub en: String,
}

impl Problem {
    pub(crate) fn file(zh: &str, en: &str) -> Problem {
        Problem {
            sheet: None,
            row: None,
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub(crate) fn at(sheet: &'static str, row: usize, zh: String, en: String) -> Problem {
        Problem {
            sheet: Some(sheet),
            row: Some(row),
            zh,
            en,
        }
    }

    /// `场所 第 12 行：…`, as a person reads it.
    pub fn zh_line(&self) -> String {
        match (self.sheet, self.row) {
            (Some(s), Some(r)) => format!("{s} 第 {r} 行：{}", self.zh),
            _ => self.zh.clone(),
        }
    }

    pub fn en_line(&self) -> String {
        match (self.sheet, self.row) {
            (Some(s), Some(r)) => format!("{s} row {r}: {}", self.en),
            _ => self.en.clone(),
        }
    }
}

/// A first password for a person the import adds, shown once to the officer who hands it on:
/// ten characters that cannot be mistaken for one another when read aloud or copied by hand.
pub(crate) fn initial_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(10)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Records `plan` as its officer's ops, in order (areas, then places, then people), and sets a
/// first password for each person added: the (account, password) pairs, to be shown once.
pub fn apply(b: &impl Admin, plan: Plan) -> Result<Vec<(String, String)>, ApiError> {
    let added: Vec<String> = plan
        .people
        .iter()
        .filter(|(_, c)| *c == Change::Added)
        .map(|(u, _)| u.id.clone())
        .collect();
    let officer = plan.officer.clone();
    b.author(|store| {
        let actor = store.actor(&officer)?;
        for (node, _) in &plan.nodes {
            store.put_org_node(&actor, node.clone())?;
        }
        // The grids just added are the officer's too.
        let actor = store.actor(&officer)?;
        for place in plan.new_places {
            store.add_place(&actor, place)?;
        }
        for change in plan.changed_places {
            store.update_place(&actor, change)?;
        }
        for (user, _) in plan.people {
            store.put_user(&actor, user)?;
        }
        Ok(())
    })?;
    let mut passwords = Vec::with_capacity(added.len());
    for id in added {
        let password = initial_password();
        b.set_password(&id, &password)?;
        b.require_password_change(&id)?;
        passwords.push((id, password));
    }
    Ok(passwords)
}
