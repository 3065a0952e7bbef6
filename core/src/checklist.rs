//! Checklists: the built-in library (place types, hazard categories, patrol cycles and the
//! version-1 templates, all read from `data/library.json`), versioned templates, and how an
//! answer is judged pass or fail. A template is never edited in place: an edit publishes the next
//! version, and every patrol keeps the (template, version) it was made with, so an old record
//! still reads the way it was answered.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::clock::Hlc;
use crate::error::{self, Entity, Error, Field, InvalidInput, Problem, Result};
use crate::hazard::Severity;
use crate::op::{Op, OpBody};
use crate::org::Actor;
use crate::place::RiskLevel;
use crate::store::Store;
use crate::vocab::unknown;

const LIBRARY_JSON: &str = include_str!("../data/library.json");

#[derive(Debug, Clone, Deserialize)]
pub struct Library {
    pub categories: Vec<Category>,
    pub place_types: Vec<PlaceType>,
    patrol_every_days: CycleRules,
    pub templates: Vec<Template>,
    /// What a failed item says of the place, by template and item key: the hazard's wording
    /// (the item's own label says what is right). Kept beside the released templates, which
    /// are never edited.
    #[serde(default)]
    fail_labels: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Category {
    pub code: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PlaceType {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub group: String,
    pub template: String,
}

#[derive(Debug, Clone, Deserialize)]
struct CycleRules {
    default: BTreeMap<RiskLevel, u32>,
    by_group: BTreeMap<String, BTreeMap<RiskLevel, u32>>,
}

/// Place-type names people write that are not the library's own, and the type each means.
const PLACE_TYPE_ALIASES: [(&str, &str); 26] = [
    ("医疗诊所", "small_clinic"),
    ("诊所", "small_clinic"),
    ("卫生院", "small_clinic"),
    ("乡镇卫生院", "small_clinic"),
    ("卫生室", "small_clinic"),
    ("村卫生室", "small_clinic"),
    ("社区卫生服务站", "small_clinic"),
    ("幼儿园", "small_school"),
    ("小学校", "small_school"),
    ("小学", "small_school"),
    ("学校", "school"),
    ("中小学校", "school"),
    ("中小学", "school"),
    ("中学", "school"),
    ("养老院", "nursing_home"),
    ("敬老院", "nursing_home"),
    ("福利院", "nursing_home"),
    ("老年公寓", "nursing_home"),
    ("培训机构", "tutoring_centre"),
    ("培训班", "tutoring_centre"),
    ("辅导班", "tutoring_centre"),
    ("民宿", "homestay"),
    ("文物建筑", "heritage_building"),
    ("博物馆", "heritage_building"),
    ("自建房", "business_self_built"),
    ("商铺", "street_shop"),
];

/// The built-in library. It is compiled into the binary, and a broken file fails every test, so
/// reaching the fallback would mean a build that never passed CI.
pub fn library() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| {
        serde_json::from_str(LIBRARY_JSON).unwrap_or_else(|_| Library {
            categories: Vec::new(),
            place_types: Vec::new(),
            patrol_every_days: CycleRules {
                default: BTreeMap::new(),
                by_group: BTreeMap::new(),
            },
            templates: Vec::new(),
            fail_labels: BTreeMap::new(),
        })
    })
}

impl Library {
    /// The place type a person means by `label`: its code, its Chinese name, or a name people
    /// commonly write for it (医疗诊所, 敬老院, ...).
    pub fn place_type_named(&self, label: &str) -> Result<&PlaceType, InvalidInput> {
        let label = label.trim();
        let code = PLACE_TYPE_ALIASES
            .iter()
            .find(|(l, _)| *l == label)
            .map_or(label, |(_, code)| code);
        self.place_types
            .iter()
            .find(|t| t.code == code || t.zh == label)
            .ok_or_else(|| unknown(Field::PlaceType, label))
    }
    pub fn place_type(&self, code: &str) -> Result<&PlaceType, InvalidInput> {
        self.place_types
            .iter()
            .find(|t| t.code == code)
            .ok_or_else(|| unknown(Field::PlaceType, code))
    }
    pub fn category(&self, code: &str) -> Result<&Category, InvalidInput> {
        self.categories
            .iter()
            .find(|c| c.code == code)
            .ok_or_else(|| unknown(Field::Category, code))
    }
    pub fn category_zh<'a>(&'a self, code: &'a str) -> &'a str {
        self.category(code).map(|c| c.zh.as_str()).unwrap_or(code)
    }
    pub fn place_type_zh<'a>(&'a self, code: &'a str) -> &'a str {
        self.place_type(code).map(|t| t.zh.as_str()).unwrap_or(code)
    }
    /// How a hazard raised from `item` of template `template_id` is described: the library's
    /// failure wording, or for an item of the township's own, its label marked as not met.
    pub fn failure_wording(&self, template_id: &str, item: &Item) -> String {
        self.fail_labels
            .get(template_id)
            .and_then(|items| items.get(&item.key))
            .cloned()
            .unwrap_or_else(|| format!("未做到：{}", item.label))
    }

    /// Days between patrols for a place type at a risk level (place type × risk rule).
    pub fn patrol_every_days(&self, place_type: &str, risk: RiskLevel) -> u32 {
        let group = self.place_type(place_type).map(|t| t.group.as_str()).ok();
        group
            .and_then(|g| self.patrol_every_days.by_group.get(g))
            .and_then(|rules| rules.get(&risk))
            .or_else(|| self.patrol_every_days.default.get(&risk))
            .copied()
            .unwrap_or(30)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    PassFail,
    Number,
    Select,
    Text,
    Photo,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: String,
    pub kind: ItemKind,
    pub label: String,
    pub category: String,
    pub severity: Severity,
    pub fixable_on_spot: bool,
    pub deadline_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_basis: Option<String>,
    pub photo_on_fail: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fail_options: Vec<String>,
}

/// What a worker answered for one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum AnswerValue {
    Pass,
    Fail,
    NotApplicable,
    Number(f64),
    Choice(String),
    Text(String),
    /// A photo, by the content hash of its original file.
    Photo(String),
}

impl AnswerValue {
    /// How an answer is shown beside its item ("上次：不合格"): the verdicts by their zh-CN
    /// names, values as they were given.
    pub fn zh(&self) -> String {
        match self {
            AnswerValue::Pass => "合格".into(),
            AnswerValue::Fail => "不合格".into(),
            AnswerValue::NotApplicable => "不适用".into(),
            AnswerValue::Number(n) => n.to_string(),
            AnswerValue::Choice(s) | AnswerValue::Text(s) => s.clone(),
            AnswerValue::Photo(_) => "照片".into(),
        }
    }

    /// Parses the compact form used on the command line: `pass`, `fail`, `na`, a number, or
    /// free text / a choice / a photo hash depending on the item.
    pub fn parse_for(item: &Item, s: &str) -> Result<AnswerValue, InvalidInput> {
        let s = s.trim();
        match (item.kind, s) {
            (_, "na") => Ok(AnswerValue::NotApplicable),
            (ItemKind::PassFail, "pass" | "ok" | "是") => Ok(AnswerValue::Pass),
            (ItemKind::PassFail, "fail" | "no" | "否") => Ok(AnswerValue::Fail),
            (ItemKind::Number, n) => n
                .parse()
                .map(AnswerValue::Number)
                .map_err(|_| InvalidInput::new(Field::Answer, Problem::Malformed)),
            (ItemKind::Select, c) => Ok(AnswerValue::Choice(c.to_string())),
            (ItemKind::Text, t) => Ok(AnswerValue::Text(t.to_string())),
            (ItemKind::Photo, h) => Ok(AnswerValue::Photo(h.to_string())),
            _ => Err(InvalidInput::new(Field::Answer, Problem::Malformed)),
        }
    }
}

impl Item {
    /// Checks an answer fits this item, and says whether it is a failure.
    pub fn judge(&self, a: &AnswerValue) -> Result<bool, InvalidInput> {
        let bad = || InvalidInput::new(Field::Answer, Problem::Malformed);
        match (self.kind, a) {
            (_, AnswerValue::NotApplicable) => Ok(false),
            (ItemKind::PassFail, AnswerValue::Pass) => Ok(false),
            (ItemKind::PassFail, AnswerValue::Fail) => Ok(true),
            (ItemKind::Number, AnswerValue::Number(n)) => {
                if !n.is_finite() || *n < 0.0 || *n > 1.0e6 {
                    return Err(InvalidInput::new(
                        Field::Answer,
                        Problem::OutOfRange {
                            min: "0".into(),
                            max: "1000000".into(),
                        },
                    ));
                }
                Ok(self.min.is_some_and(|m| *n < m) || self.max.is_some_and(|m| *n > m))
            }
            (ItemKind::Select, AnswerValue::Choice(c)) => {
                if !self.options.contains(c) {
                    return Err(unknown(Field::Answer, c));
                }
                Ok(self.fail_options.contains(c))
            }
            (ItemKind::Text, AnswerValue::Text(t)) => {
                error::optional_text(Field::Answer, t, 500)?;
                Ok(false)
            }
            (ItemKind::Photo, AnswerValue::Photo(h)) => {
                check_photo_ref(h)?;
                Ok(false)
            }
            _ => Err(bad()),
        }
    }
}

/// Photos are referred to by the hex SHA-256 of the original file (the photo pipeline stores
/// the file itself); a reference is 64 lowercase hex characters.
pub fn check_photo_ref(h: &str) -> Result<(), InvalidInput> {
    if h.len() == 64
        && h.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        Ok(())
    } else {
        Err(InvalidInput::new(Field::Photo, Problem::Malformed))
    }
}

impl Template {
    pub fn item(&self, key: &str) -> Result<&Item, InvalidInput> {
        self.items
            .iter()
            .find(|i| i.key == key)
            .ok_or_else(|| unknown(Field::Answer, key))
    }

    pub(crate) fn validated(self) -> Result<Self, InvalidInput> {
        crate::org::check_code(Field::Template, &self.id)?;
        error::text(Field::Name, &self.name, 80)?;
        if self.items.is_empty() {
            return Err(InvalidInput::new(Field::Answer, Problem::Empty));
        }
        let mut keys: Vec<&str> = self.items.iter().map(|i| i.key.as_str()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(InvalidInput::new(Field::Answer, Problem::Malformed));
        }
        for item in &self.items {
            crate::org::check_code(Field::Answer, &item.key)?;
            error::text(Field::Name, &item.label, 200)?;
            library().category(&item.category)?;
            if item.kind == ItemKind::Select && item.options.is_empty() {
                return Err(InvalidInput::new(Field::Answer, Problem::Empty));
            }
        }
        Ok(self)
    }
}

pub(crate) fn put_template(tx: &Transaction, t: &Template) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO templates (id, version, name, body) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![t.id, t.version, t.name, serde_json::to_string(t)?])?;
    Ok(())
}

pub(crate) fn load_template(conn: &Connection, id: &str, version: u32) -> Result<Template> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM templates WHERE id = ?1 AND version = ?2")?
        .query_row(params![id, version], |r| r.get(0))
        .optional()?;
    match body {
        Some(b) => Ok(serde_json::from_str(&b)?),
        None => Err(Error::not_found(
            Entity::Template,
            format!("{id} v{version}"),
        )),
    }
}

/// Refuses a focus item (of a plan, a campaign) that no checklist in use has: the built-in
/// items and the township's own, in each template's latest version.
pub(crate) fn require_items_known(conn: &Connection, keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let mut stmt = conn.prepare_cached("SELECT id, max(version) FROM templates GROUP BY id")?;
    let latest = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut known = std::collections::HashSet::new();
    for (id, v) in latest {
        known.extend(
            load_template(conn, &id, v)?
                .items
                .into_iter()
                .map(|i| i.key),
        );
    }
    match keys.iter().find(|k| !known.contains(*k)) {
        Some(k) => Err(unknown(Field::Answer, k).into()),
        None => Ok(()),
    }
}

pub(crate) fn latest_version(conn: &Connection, id: &str) -> Result<Option<u32>> {
    Ok(conn
        .prepare_cached("SELECT max(version) FROM templates WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

/// The built-in library as ops that are identical wherever they are made: a name-based id, the
/// nil device, the library's position as sequence number (the library only ever grows at the
/// end) and an HLC at the epoch, so they sort before anything a person did.
pub fn builtin_template_ops() -> Vec<Op> {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6772_6964_7061_7472_6f6c_2d6c_6962_7279);
    library()
        .templates
        .iter()
        .enumerate()
        .map(|(i, t)| Op {
            id: Uuid::new_v5(
                &NAMESPACE,
                format!("template:{}:{}", t.id, t.version).as_bytes(),
            ),
            device_id: Uuid::nil(),
            seq: i as i64 + 1,
            hlc: Hlc::new(0, i as i64),
            wall_ms: 0,
            actor_id: crate::org::SYSTEM_USER.into(),
            actor_role: crate::org::Role::TownshipOfficer,
            body: OpBody::Template(t.clone()),
        })
        .collect()
}

/// The latest version of each template, parsed, so a patrol does not read and decode its
/// checklist every time. Emptied whenever a template op is applied and again when that
/// transaction ends; the generation stops a reader that raced such a write from putting back
/// what it read before.
#[derive(Default)]
pub(crate) struct TemplateCache {
    generation: AtomicU64,
    latest: Mutex<HashMap<String, Arc<Template>>>,
}

impl TemplateCache {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Template>>> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn latest(&self, c: &Connection, id: &str) -> Result<Arc<Template>> {
        let seen = self.generation.load(Ordering::SeqCst);
        if let Some(t) = self.map().get(id) {
            return Ok(Arc::clone(t));
        }
        let version =
            latest_version(c, id)?.ok_or_else(|| Error::not_found(Entity::Template, id))?;
        let t = Arc::new(load_template(c, id, version)?);
        let mut map = self.map();
        if self.generation.load(Ordering::SeqCst) == seen {
            map.insert(id.to_string(), Arc::clone(&t));
        }
        Ok(t)
    }

    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.map().clear();
    }
}

impl Store {
    /// Installs the built-in library's templates. They go in as the same ops on every device
    /// and on the server (see `builtin_template_ops`), so a device that syncs receives them as
    /// duplicates and none is ever uploaded. Returns how many were new here.
    pub fn install_library(&self) -> Result<usize> {
        self.write(|tx| {
            let mut n = 0;
            for op in builtin_template_ops() {
                if self.apply_remote_in(tx, &op)? == crate::apply::Applied::Applied {
                    n += 1;
                }
            }
            Ok(n)
        })
    }

    /// Publishes an edited template as the next version of its id; returns that version.
    pub fn publish_template(&self, actor: &Actor, mut template: Template) -> Result<u32> {
        self.write(|tx| {
            template.version = latest_version(tx, &template.id)?
                .unwrap_or(0)
                .saturating_add(1);
            let template = template.clone().validated()?;
            let v = template.version;
            self.commit_local(tx, actor, OpBody::Template(template))?;
            Ok(v)
        })
    }

    pub fn template(&self, id: &str, version: Option<u32>) -> Result<Template> {
        self.read(|c| {
            let v = match version {
                Some(v) => v,
                None => {
                    latest_version(c, id)?.ok_or_else(|| Error::not_found(Entity::Template, id))?
                }
            };
            load_template(c, id, v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_loads_and_covers_the_required_place_types() {
        let lib = library();
        for code in [
            "small_shop",
            "small_restaurant",
            "rental_house",
            "shared_rental",
            "business_self_built",
            "farm_household",
            "street_shop",
            "high_rise",
            "heritage_building",
        ] {
            let t = lib.place_type(code).map(|t| t.template.clone());
            let t = t.unwrap_or_default();
            assert!(lib.templates.iter().any(|x| x.id == t), "{code} → {t}");
        }
        for t in &lib.templates {
            assert!(t.clone().validated().is_ok(), "{}", t.id);
        }
        let nine = lib.templates.iter().find(|t| t.id == "nine_small");
        assert!(nine.is_some_and(|t| t.items.len() >= 10));
    }

    #[test]
    fn clinics_nursing_homes_schools_and_tutoring_have_their_own_checklists() {
        let lib = library();
        for (code, template) in [
            ("small_clinic", "clinic"),
            ("nursing_home", "nursing_home"),
            ("small_school", "school"),
            ("school", "school"),
            ("tutoring_centre", "tutoring"),
        ] {
            let t = lib.place_type(code).map(|t| t.template.as_str());
            assert_eq!(t, Ok(template), "{code}");
            let items = lib
                .templates
                .iter()
                .find(|x| x.id == template)
                .map(|x| x.items.len());
            assert!(items.is_some_and(|n| n >= 8), "{template}: {items:?}");
        }
        assert_eq!(lib.patrol_every_days("nursing_home", RiskLevel::Medium), 15);
        assert_eq!(lib.patrol_every_days("school", RiskLevel::Low), 30);
    }

    #[test]
    fn the_library_only_grows_at_the_end() {
        // A template's position is the sequence number of its op on every device.
        let ids: Vec<&str> = library().templates.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(
            ids.get(..8),
            Some(
                &[
                    "nine_small",
                    "rental",
                    "business_self_built",
                    "farm_household",
                    "street_shop",
                    "high_rise",
                    "heritage",
                    "general",
                ][..]
            )
        );
    }

    #[test]
    fn cycle_rules_by_type_and_risk() {
        let lib = library();
        assert_eq!(lib.patrol_every_days("small_shop", RiskLevel::Medium), 15);
        assert_eq!(lib.patrol_every_days("farm_household", RiskLevel::Low), 180);
        assert_eq!(lib.patrol_every_days("high_rise", RiskLevel::High), 7);
    }

    #[test]
    fn judging_answers() {
        let lib = library();
        let t = &lib.templates[0];
        let count = t.item("extinguisher_count");
        let count = count.unwrap_or(&t.items[0]);
        assert_eq!(count.judge(&AnswerValue::Number(1.0)), Ok(true));
        assert_eq!(count.judge(&AnswerValue::Number(2.0)), Ok(false));
        assert!(count.judge(&AnswerValue::Pass).is_err());
        assert!(count.judge(&AnswerValue::Number(f64::NAN)).is_err());
        let staff = t.item("staff_knowledge").unwrap_or(&t.items[0]);
        assert_eq!(staff.judge(&AnswerValue::Choice("不会".into())), Ok(true));
        assert!(staff.judge(&AnswerValue::Choice("maybe".into())).is_err());
    }
}
