//! Bar charts drawn as inline SVG on the server (no script, nothing fetched). Each chart has a
//! title and description for screen readers, and every page that shows one also shows the
//! same numbers in a table. SVG elements are closed explicitly: in HTML only its own void
//! elements may go unclosed.

use maud::{html, Markup};

/// One group of bars: its label and one value per series.
pub struct Group {
    pub label: String,
    pub values: Vec<u32>,
}

/// Series colours, distinguishable in greyscale print too (dark, then light).
const COLOURS: [&str; 2] = ["#8f1d17", "#e8a09a"];

/// A coordinate to one decimal place.
fn at(x: f64) -> String {
    format!("{x:.1}")
}

/// Grouped vertical bars: `series` names the bars of each group, in order.
pub fn bars(title: &str, series: &[&str], groups: &[Group]) -> Markup {
    let (w, h, left, bottom, top) = (620.0_f64, 240.0_f64, 36.0_f64, 40.0_f64, 26.0_f64);
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let plot_h = h - bottom - top;
    let slot = (w - left) / groups.len().max(1) as f64;
    let bar = (slot * 0.8 / series.len().max(1) as f64).min(28.0);
    let colour = |j: usize| COLOURS[j % COLOURS.len()];
    html! {
        svg role="img" viewBox={ "0 0 " (w) " " (h) } width="100%" aria-label=(title) {
            title { (title) }
            desc { (describe(series, groups)) }
            // Gridlines at quarters of the largest value.
            @for q in 0..=4 {
                @let v = (f64::from(max) * f64::from(q) / 4.0).round();
                @let y = top + plot_h - plot_h * v / f64::from(max);
                line x1=(left) x2=(w) y1=(at(y)) y2=(at(y)) stroke="#d4dae1" {}
                text x=(at(left - 4.0)) y=(at(y + 4.0)) text-anchor="end" { (v) }
            }
            @for (i, g) in groups.iter().enumerate() {
                @let x0 = left + slot * i as f64 + (slot - bar * series.len() as f64) / 2.0;
                @for (j, v) in g.values.iter().enumerate() {
                    @let bh = plot_h * f64::from(*v) / f64::from(max);
                    rect x=(at(x0 + bar * j as f64)) y=(at(top + plot_h - bh)) width=(at(bar))
                        height=(at(bh)) fill=(colour(j)) {
                        title { (g.label) " " (series.get(j).copied().unwrap_or("")) "：" (v) }
                    }
                }
                text x=(at(left + slot * (i as f64 + 0.5))) y=(at(h - bottom + 16.0))
                    text-anchor="middle" { (g.label) }
            }
            @for (j, name) in series.iter().enumerate() {
                @let x = left + 120.0 * j as f64;
                rect x=(x) y="4" width="12" height="12" fill=(colour(j)) {}
                text x=(at(x + 16.0)) y="15" { (name) }
            }
        }
    }
}

fn describe(series: &[&str], groups: &[Group]) -> String {
    groups
        .iter()
        .map(|g| {
            let vals: Vec<String> = series
                .iter()
                .zip(&g.values)
                .map(|(n, v)| format!("{n} {v}"))
                .collect();
            format!("{}：{}", g.label, vals.join("，"))
        })
        .collect::<Vec<_>>()
        .join("；")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_scales_to_its_largest_value_and_describes_itself() {
        let svg = bars(
            "趋势",
            &["发现", "销号"],
            &[
                Group {
                    label: "2026-01".into(),
                    values: vec![4, 2],
                },
                Group {
                    label: "<b>".into(),
                    values: vec![0, 1],
                },
            ],
        )
        .into_string();
        assert!(svg.contains("2026-01：发现 4，销号 2"));
        assert!(!svg.contains("<b>"), "labels are escaped");
        // The tallest bar fills the plot: 240 - 40 - 26 = 174.
        assert!(svg.contains("height=\"174.0\""));
    }
}
