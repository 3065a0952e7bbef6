//! People to pick on a screen: the grid workers a training held for an area may name as
//! trainees (消防培训 参训人员). The rule of who qualifies is the core's
//! (`Actor::works_within`, which `Activity::check_trainees` applies), so the list offers
//! exactly those the save will accept.

use gridpatrol_core::org::Role;

use crate::error::GridPatrolError;
use crate::store::PatrolStore;

type Result<T> = std::result::Result<T, GridPatrolError>;

/// A person by account, for a choice list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonChoice {
    pub user_id: String,
    pub name: String,
}

#[uniffi::export]
impl PatrolStore {
    /// The grid workers whose grids all lie under `org_id`, by name: those a training held
    /// for `org_id` may name as trainees. Refused unless `user_id` may read `org_id`.
    pub fn grid_workers_in(&self, user_id: String, org_id: String) -> Result<Vec<PersonChoice>> {
        self.store.require_scope(&self.actor(&user_id)?, &org_id)?;
        let area = self.store.grids_under(&org_id)?;
        let mut out = Vec::new();
        for (id, name, role) in self.store.users()? {
            if role != Role::GridWorker {
                continue;
            }
            if self.store.actor(&id)?.works_within(&area) {
                out.push(PersonChoice { user_id: id, name });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.user_id.cmp(&b.user_id)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::testing::{demo, refused};

    fn ids(d: &crate::testing::Demo, user: &str, org: &str) -> Vec<String> {
        let mut v: Vec<String> = d
            .store
            .grid_workers_in(user.into(), org.into())
            .unwrap()
            .into_iter()
            .map(|p| p.user_id)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_training_may_name_the_workers_of_its_area() {
        let d = demo("people");
        let all = ["w01", "w03", "w04", "w05", "w06", "w07", "w08", "w09"];
        assert_eq!(ids(&d, "b01", "t01"), all);
        assert_eq!(ids(&d, "o01", "t01"), all);
        assert_eq!(ids(&d, "l01", "v01"), ["w01", "w03", "w09"]);
        let names: Vec<String> = d
            .store
            .grid_workers_in("o01".into(), "t01".into())
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let e = d
            .store
            .grid_workers_in("w04".into(), "v01".into())
            .unwrap_err();
        assert_eq!(refused(e), "out_of_scope");
    }
}
