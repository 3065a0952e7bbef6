//! What part of the township a page is about: the org tree as the server's records hold it,
//! the areas a user may choose within it, and the period asked for. Every page cuts what it
//! shows to these.

use std::collections::{BTreeMap, HashMap};

use gridpatrol_core::clock::Day;
use gridpatrol_core::org::{Actor, OrgLevel, OrgNode};
use gridpatrol_core::Store;

use super::{not_visible, ApiError};

/// The org tree as the server's records hold it, for naming nodes and cutting scope.
pub(crate) struct Tree {
    nodes: HashMap<String, OrgNode>,
    children: BTreeMap<String, Vec<String>>,
    /// The org nodes the viewer answers for, as their record names them.
    own: Vec<String>,
}

impl Tree {
    /// The tree, as `viewer` (a user id) sees it.
    pub fn load(store: &Store, viewer: &str) -> gridpatrol_core::Result<Tree> {
        let mut nodes = HashMap::new();
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for level in [
            OrgLevel::County,
            OrgLevel::Township,
            OrgLevel::Village,
            OrgLevel::Grid,
        ] {
            for n in store.org_nodes(level)? {
                if let Some(p) = &n.parent_id {
                    children.entry(p.clone()).or_default().push(n.id.clone());
                }
                nodes.insert(n.id.clone(), n);
            }
        }
        for v in children.values_mut() {
            v.sort();
        }
        let own = store.user(viewer).map(|u| u.org_ids).unwrap_or_default();
        Ok(Tree {
            nodes,
            children,
            own,
        })
    }

    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.nodes.get(id).map_or(id, |n| n.name.as_str())
    }

    pub fn children(&self, id: &str) -> Vec<&OrgNode> {
        self.children
            .get(id)
            .map(|c| c.iter().filter_map(|id| self.nodes.get(id)).collect())
            .unwrap_or_default()
    }

    pub fn grids_under(&self, id: &str) -> Vec<String> {
        match self.nodes.get(id) {
            Some(n) if n.level == OrgLevel::Grid => vec![n.id.clone()],
            Some(_) => self
                .children(id)
                .iter()
                .flat_map(|c| self.grids_under(&c.id))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Whether `id` is one of the viewer's own nodes or lies under one.
    fn under_own(&self, id: &str) -> bool {
        let mut at = self.nodes.get(id);
        while let Some(n) = at {
            if self.own.contains(&n.id) {
                return true;
            }
            at = n.parent_id.as_ref().and_then(|p| self.nodes.get(p));
        }
        false
    }

    /// The township a node is in (itself, for a township); none above one.
    pub fn township_of(&self, id: &str) -> Option<&str> {
        let mut at = self.nodes.get(id);
        while let Some(n) = at {
            if n.level == OrgLevel::Township {
                return Some(&n.id);
            }
            at = n.parent_id.as_ref().and_then(|p| self.nodes.get(p));
        }
        None
    }

    /// The village a grid belongs to.
    pub fn village_of(&self, grid: &str) -> Option<&str> {
        self.nodes.get(grid).and_then(|n| n.parent_id.as_deref())
    }

    /// The nodes wholly inside `actor`'s scope (every grid under them is theirs) and not above
    /// the level their role answers for, broadest first: what they may choose for a dashboard
    /// or an export. (A township officer of the county's only township sees the township, not
    /// the county.) A node with no grids yet (a township just set up) is theirs when it is
    /// one of their own nodes or under one.
    pub fn scopes(&self, actor: &Actor) -> Vec<&OrgNode> {
        let top = actor.role.anchor_level();
        let mut out: Vec<&OrgNode> = self
            .nodes
            .values()
            .filter(|n| {
                if n.level < top {
                    return false;
                }
                let grids = self.grids_under(&n.id);
                if grids.is_empty() {
                    self.under_own(&n.id)
                } else {
                    grids.iter().all(|g| actor.covers(g))
                }
            })
            .collect();
        out.sort_by(|a, b| a.level.cmp(&b.level).then(a.id.cmp(&b.id)));
        out
    }

    /// `requested` when it is within scope, else the broadest node that is.
    pub fn scope_for<'a>(
        &'a self,
        actor: &Actor,
        requested: Option<&str>,
    ) -> Result<&'a OrgNode, ApiError> {
        let scopes = self.scopes(actor);
        match requested.filter(|r| !r.is_empty()) {
            Some(r) => scopes
                .into_iter()
                .find(|n| n.id == r)
                .ok_or_else(not_visible),
            None => scopes.into_iter().next().ok_or_else(|| {
                ApiError::new(
                    403,
                    "no_scope",
                    "您的账号尚未分配负责范围",
                    "your account has no area assigned",
                )
            }),
        }
    }
}

/// A period from the query (`YYYY-MM-DD`), defaulting to this year so far.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: Day,
) -> Result<(Day, Day), ApiError> {
    let parse = |s: Option<&str>, default: Day| -> Result<Day, ApiError> {
        match s.filter(|s| !s.is_empty()) {
            None => Ok(default),
            Some(s) => s.parse().map_err(|_| {
                ApiError::new(
                    400,
                    "bad_date",
                    &format!(
                        "日期格式不正确：{}（应为 年-月-日）",
                        s.chars().take(20).collect::<String>()
                    ),
                    "dates are written YYYY-MM-DD",
                )
            }),
        }
    };
    let year_start: Day = format!("{}-01-01", &today.to_string()[..4])
        .parse()
        .unwrap_or(today);
    let (from, to) = (parse(from, year_start)?, parse(to, today)?);
    if to < from {
        return Err(ApiError::new(
            400,
            "bad_period",
            "结束日期早于开始日期",
            "the period ends before it starts",
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_period_defaults_to_the_year_so_far_and_refuses_nonsense() {
        let today: Day = "2026-11-29".parse().unwrap();
        let (from, to) = period(None, None, today).unwrap();
        assert_eq!((from.to_string(), to), ("2026-01-01".to_string(), today));
        assert_eq!(
            period(Some("2026-13-01"), None, today).unwrap_err().code,
            "bad_date"
        );
        assert_eq!(
            period(Some("2026-05-02"), Some("2026-05-01"), today)
                .unwrap_err()
                .code,
            "bad_period"
        );
    }
}
