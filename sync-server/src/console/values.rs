//! How values read on a console page and in its links: moments in China Standard Time, rates
//! as percentages, people by name and role, query values percent-encoded. All of them are
//! plain text; the templates escape them where they land.

use std::collections::HashMap;
use std::fmt::Write;

use gridpatrol_core::clock::{Day, MS_PER_DAY};
use gridpatrol_core::org::Role;
use gridpatrol_core::Store;

/// Text a person typed (on a phone or in a form), escaped as maud escapes everything and the
/// single quote as well, as OWASP asks of untrusted text: it is inert wherever it lands.
pub(crate) struct Typed<'a>(pub &'a str);

impl maud::Render for Typed<'_> {
    fn render_to(&self, out: &mut String) {
        for (i, part) in self.0.split('\'').enumerate() {
            if i > 0 {
                out.push_str("&#39;");
            }
            part.render_to(out);
        }
    }
}

/// Percent-encodes a query value.
pub(crate) fn url(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A moment as the township reads it (China Standard Time), to the minute.
pub(crate) fn when(ms: i64) -> String {
    let day = Day::from_ms(ms);
    let minutes = (ms - day.start_ms()).rem_euclid(MS_PER_DAY) / 60_000;
    format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
}

/// Users' names and roles by id.
pub(crate) type Names = HashMap<String, (String, Role)>;

/// Users' names by id, for timelines and lists (an unknown id shows as itself).
pub(crate) fn names(store: &Store) -> gridpatrol_core::Result<Names> {
    Ok(store
        .users()?
        .into_iter()
        .map(|(id, name, role)| (id, (name, role)))
        .collect())
}

/// A user by name and role (an unknown id shows as itself).
pub(crate) fn person(names: &HashMap<String, (String, Role)>, id: &str) -> String {
    names
        .get(id)
        .map_or_else(|| id.to_string(), |(n, r)| format!("{n}（{}）", r.zh()))
}

pub(crate) fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// A hazard id as lists and headings show it: the core's one short form.
pub(crate) fn tail(id: &uuid::Uuid) -> String {
    gridpatrol_core::op::short_id(&id.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_in_china_standard_time() {
        // 2026-01-01T00:30:00Z is 08:30 in Beijing.
        assert_eq!(when(1_767_227_400_000), "2026-01-01 08:30");
    }
}
