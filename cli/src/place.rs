//! `gridpatrol place …`: a place's file (一户一档), or registering and correcting a place as a
//! grid worker does on patrol. Place types and risk levels are read by the core's own rules,
//! codes or the Chinese names people write.

use std::fmt::Write as _;
use std::path::Path;

use gridpatrol_core::checklist::library;
use gridpatrol_core::error::{Field, InvalidInput, Problem};
use gridpatrol_core::op::short_id;
use gridpatrol_core::place::{GeoPoint, NewPlace, PlaceChanges, RiskLevel};
use gridpatrol_core::Result;

use crate::args::{PlaceArgs, PlaceCmd};
use crate::commands::{json, open};

pub(crate) fn run(db: &Path, as_json: bool, a: PlaceArgs) -> Result<String> {
    let store = open(db)?;
    let out = |text: String, value: &serde_json::Value| -> Result<String> {
        if as_json {
            json(value)
        } else {
            Ok(text)
        }
    };
    match (a.action, a.place) {
        (
            Some(PlaceCmd::Add {
                who,
                grid,
                place_type,
                name,
                address,
                risk: level,
                responsible,
                phone,
                lat,
                lon,
            }),
            _,
        ) => {
            let actor = store.actor(&who.user)?;
            let place_type = library().place_type_named(&place_type)?.code.clone();
            let id = store.create_place(
                &actor,
                NewPlace {
                    place_type,
                    name,
                    address,
                    location: lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }),
                    grid_id: grid,
                    responsible_name: responsible,
                    responsible_phone: phone,
                    risk_level: RiskLevel::named(&level)?,
                    patrol_every_days: None,
                },
            )?;
            out(
                format!("已登记场所 / place registered: {id}"),
                &serde_json::json!({ "place_id": id }),
            )
        }
        (
            Some(PlaceCmd::Edit {
                who,
                place,
                name,
                address,
                risk: level,
                responsible,
                phone,
            }),
            _,
        ) => {
            let actor = store.actor(&who.user)?;
            let place_id = store.find_place(&place)?;
            store.update_place(
                &actor,
                PlaceChanges {
                    place_id,
                    name,
                    address,
                    risk_level: level.as_deref().map(RiskLevel::named).transpose()?,
                    responsible_name: responsible,
                    responsible_phone: phone,
                    ..PlaceChanges::default()
                },
            )?;
            out(
                format!("已更新场所 / place updated: {place_id}"),
                &serde_json::json!({ "place_id": place_id }),
            )
        }
        (None, Some(place)) => {
            let file = store.place_file(store.find_place(&place)?)?;
            if as_json {
                return json(&file);
            }
            let p = &file.place.place;
            let mut s = format!(
                "{}（{}，{}）网格 {}\n地址 {}  负责人 {}\n巡查 {} 次，隐患 {} 条\n",
                p.name,
                library().place_type_zh(&p.place_type),
                p.risk_level.zh(),
                p.grid_id,
                p.address,
                p.responsible_name,
                file.patrols.len(),
                file.hazards.len()
            );
            for h in &file.hazards {
                let _ = writeln!(
                    s,
                    "  隐患 {} {} {}",
                    short_id(&h.id.to_string()),
                    library().category_zh(&h.category),
                    h.status.zh()
                );
            }
            Ok(s)
        }
        (None, None) => Err(InvalidInput::new(Field::Id, Problem::Empty).into()),
    }
}
