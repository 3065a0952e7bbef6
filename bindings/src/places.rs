//! Places from the phone: a grid worker registers a place found on patrol and corrects its
//! responsible person. Place types and risk levels are read by the core's rules, codes or the
//! Chinese names people write.

use gridpatrol_core::checklist::library;
use gridpatrol_core::place::{GeoPoint, PlaceChanges, RiskLevel};

use crate::error::GridPatrolError;
use crate::store::{id, PatrolStore};

type Result<T> = std::result::Result<T, GridPatrolError>;

/// A place found on patrol, as the registration screen collects it.
#[derive(Debug, Clone, uniffi::Record)]
pub struct NewPlaceInput {
    pub grid_id: String,
    /// A place type code or its Chinese name (出租房, 小饭店, ...).
    pub place_type: String,
    pub name: String,
    pub address: String,
    /// high, medium or low, or 高风险, 中风险, 低风险.
    pub risk_level: String,
    pub responsible_name: String,
    pub responsible_phone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

/// A correction of a place; `None` leaves a field as it is.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlaceEdit {
    pub place_id: String,
    pub name: Option<String>,
    pub address: Option<String>,
    pub risk_level: Option<String>,
    pub responsible_name: Option<String>,
    pub responsible_phone: Option<String>,
}

/// A place type the registration screen offers.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlaceTypeChoice {
    pub code: String,
    pub zh: String,
    /// The group it is patrolled as (九小场所, 出租房, 农户, ...).
    pub group: String,
}

/// A place to pick on a form (a fire's place): every active place of the user's grids.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PlaceChoice {
    pub place_id: String,
    pub grid_id: String,
    pub name: String,
    pub address: String,
    pub place_type_zh: String,
}

fn risk(text: &str) -> Result<RiskLevel> {
    Ok(RiskLevel::named(text).map_err(gridpatrol_core::Error::from)?)
}

#[uniffi::export]
impl PatrolStore {
    /// The place types a place can be registered as, in the library's order.
    pub fn place_types(&self) -> Vec<PlaceTypeChoice> {
        library()
            .place_types
            .iter()
            .map(|t| PlaceTypeChoice {
                code: t.code.clone(),
                zh: t.zh.clone(),
                group: t.group.clone(),
            })
            .collect()
    }

    /// The active places of the user's grids, by grid and name, for a form that names one
    /// (a fire); the places due for a patrol are `due_patrols`.
    pub fn places(&self, user_id: String) -> Result<Vec<PlaceChoice>> {
        let rows = self.store.places(&self.actor(&user_id)?)?;
        let mut out: Vec<PlaceChoice> = rows
            .into_iter()
            .map(|r| PlaceChoice {
                place_id: r.place.id.to_string(),
                place_type_zh: crate::records::place_type_zh(&r.place.place_type),
                grid_id: r.place.grid_id,
                name: r.place.name,
                address: r.place.address,
            })
            .collect();
        out.sort_by(|a, b| (&a.grid_id, &a.name).cmp(&(&b.grid_id, &b.name)));
        Ok(out)
    }

    /// 新增场所: registers a place found on patrol in one of the user's grids; returns its id.
    pub fn add_place(&self, user_id: String, place: NewPlaceInput) -> Result<String> {
        let actor = self.actor(&user_id)?;
        let place_type = library()
            .place_type_named(&place.place_type)
            .map_err(gridpatrol_core::Error::from)?
            .code
            .clone();
        let location = match (place.latitude, place.longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint { lat, lon }),
            _ => None,
        };
        let new = gridpatrol_core::place::NewPlace {
            place_type,
            name: place.name,
            address: place.address,
            location,
            grid_id: place.grid_id,
            responsible_name: place.responsible_name,
            responsible_phone: place.responsible_phone,
            risk_level: risk(&place.risk_level)?,
            patrol_every_days: None,
        };
        Ok(self.store.create_place(&actor, new)?.to_string())
    }

    /// Corrects a place in the user's grids (its responsible person and phone, most often).
    pub fn edit_place(&self, user_id: String, edit: PlaceEdit) -> Result<()> {
        let actor = self.actor(&user_id)?;
        let changes = PlaceChanges {
            place_id: id(&edit.place_id)?,
            name: edit.name,
            address: edit.address,
            risk_level: edit.risk_level.as_deref().map(risk).transpose()?,
            responsible_name: edit.responsible_name,
            responsible_phone: edit.responsible_phone,
            ..PlaceChanges::default()
        };
        Ok(self.store.update_place(&actor, changes)?)
    }
}
