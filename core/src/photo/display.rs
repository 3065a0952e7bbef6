//! The display copy of a photo: resized (longest side at most 1600 px), with a footer burned
//! in (when and where it was taken, the place, the grid, who took it) in Chinese, plus a small
//! thumbnail for lists. The original is never touched: the copy is what people look at, the
//! original is the evidence, and its hash stays the one the op log cites. The font is the
//! caller's (the phone's system CJK font, or one the app ships), so the core carries none.

use std::path::PathBuf;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use image::imageops::FilterType;
use image::{Rgb, RgbImage};
use rusqlite::OptionalExtension;

use crate::clock::{Day, CST_OFFSET_MS};
use crate::error::{Entity, Error, Field, InvalidInput, Problem, Result};
use crate::store::Store;

use super::Variant;

const DISPLAY_MAX: u32 = 1600;
const THUMB_MAX: u32 = 320;

/// Where the display copy and the thumbnail of a photo were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayCopy {
    pub display: PathBuf,
    pub thumbnail: PathBuf,
}

fn bad_photo() -> Error {
    InvalidInput::new(Field::Photo, Problem::Malformed).into()
}

/// `taken_at` as China Standard Time, to the minute.
fn cst(ms: i64) -> String {
    let day = Day::from_ms(ms);
    let minutes = (ms + CST_OFFSET_MS).rem_euclid(86_400_000) / 60_000;
    format!("{day} {:02}:{:02}", minutes / 60, minutes % 60)
}

/// Draws `text` in white from `(x, baseline)`.
fn draw_text(img: &mut RgbImage, font: &FontRef<'_>, px: f32, x: f32, baseline: f32, text: &str) {
    let scale = PxScale::from(px);
    let scaled = font.as_scaled(scale);
    let mut caret = x;
    for ch in text.chars() {
        let id = font.glyph_id(ch);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(caret, baseline));
        caret += scaled.h_advance(id);
        let Some(outlined) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outlined.px_bounds();
        outlined.draw(|gx, gy, coverage| {
            let (px, py) = (
                b.min.x as i64 + i64::from(gx),
                b.min.y as i64 + i64::from(gy),
            );
            if px < 0 || py < 0 || px >= i64::from(img.width()) || py >= i64::from(img.height()) {
                return;
            }
            let p = img.get_pixel_mut(px as u32, py as u32);
            for c in 0..3 {
                let v = f32::from(p.0[c]);
                p.0[c] = (v + (255.0 - v) * coverage.clamp(0.0, 1.0)) as u8;
            }
        });
    }
}

fn fit(w: u32, h: u32, max: u32) -> (u32, u32) {
    let longest = w.max(h);
    if longest <= max {
        return (w, h);
    }
    let k = f64::from(max) / f64::from(longest);
    (
        ((f64::from(w) * k) as u32).max(1),
        ((f64::from(h) * k) as u32).max(1),
    )
}

/// The footer's two lines: when and where, then who and the position.
fn footer_lines(
    taken: i64,
    position: Option<(f64, f64)>,
    accuracy: Option<f64>,
    place: &str,
    grid: &str,
    who: &str,
) -> [String; 2] {
    let position = match position {
        Some((la, lo)) => format!(
            "{la:.5}, {lo:.5}{}",
            accuracy.map_or(String::new(), |a| format!(" ±{a:.0}米"))
        ),
        None => "无定位".to_string(),
    };
    [
        format!("{}  {place}  网格 {grid}", cst(taken)),
        format!("巡查人 {who}  位置 {position}"),
    ]
}

impl Store {
    /// Makes (or makes again) the display copy and thumbnail of a captured photo, with its
    /// footer written in `font` (TrueType or a collection's first face).
    pub fn make_display_copy(&self, hash: &str, font: &[u8]) -> Result<DisplayCopy> {
        let original = self.photo_path(hash)?;
        let lines = self.read(|c| {
            let lines = c
                .prepare_cached(
                    "SELECT p.taken_at, p.lat, p.lon, p.accuracy_m, coalesce(pl.name, ''),
                         coalesce(pl.grid_id, ''), coalesce(u.name, p.user_id)
                     FROM photos p LEFT JOIN places pl ON pl.id = p.place_id
                     LEFT JOIN users u ON u.id = p.user_id
                     WHERE p.hash = ?1 ORDER BY p.taken_at LIMIT 1",
                )?
                .query_row([hash], |r| {
                    let (lat, lon, acc): (Option<f64>, Option<f64>, Option<f64>) =
                        (r.get(1)?, r.get(2)?, r.get(3)?);
                    let (place, grid, who): (String, String, String) =
                        (r.get(4)?, r.get(5)?, r.get(6)?);
                    Ok(footer_lines(
                        r.get(0)?,
                        lat.zip(lon),
                        acc,
                        &place,
                        &grid,
                        &who,
                    ))
                })
                .optional()?;
            lines.ok_or_else(|| Error::not_found(Entity::Photo, hash))
        })?;
        let font = FontRef::try_from_slice_and_index(font, 0).map_err(|_| bad_photo())?;
        // A font without Chinese would draw empty boxes: refuse it rather than burn those in.
        if lines
            .iter()
            .flat_map(|l| l.chars())
            .any(|c| !c.is_whitespace() && font.glyph_id(c).0 == 0)
        {
            return Err(bad_photo());
        }
        // By content: originals are named by hash, with no extension to go by.
        let source = image::load_from_memory(&std::fs::read(&original)?)
            .map_err(|_| bad_photo())?
            .to_rgb8();
        let (w, h) = fit(source.width(), source.height(), DISPLAY_MAX);
        let mut img = image::imageops::resize(&source, w, h, FilterType::Triangle);

        // A dark band across the bottom, two lines of text in it.
        let band = (h / 9).clamp(36, 160).min(h);
        for y in h - band..h {
            for x in 0..w {
                let p = img.get_pixel_mut(x, y);
                *p = Rgb(p.0.map(|v| v / 4));
            }
        }
        let px = band as f32 * 0.34;
        let top = (h - band) as f32;
        for (i, line) in lines.iter().enumerate() {
            let baseline = top + px * (1.1 + 1.25 * i as f32);
            draw_text(&mut img, &font, px, px * 0.4, baseline, line);
        }

        let display = self.photo_variant_path(hash, Variant::Display)?;
        let thumbnail = self.photo_variant_path(hash, Variant::Thumb)?;
        for (path, picture) in [
            (&display, img.clone()),
            (&thumbnail, {
                let (tw, th) = fit(w, h, THUMB_MAX);
                image::imageops::resize(&img, tw, th, FilterType::Triangle)
            }),
        ] {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82)
                .encode_image(&picture)
                .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))?;
        }
        // A photo of this device's: its copies go before its original.
        self.write(|tx| {
            tx.execute(
                "INSERT OR IGNORE INTO photo_uploads (hash, variant)
                 SELECT ?1, v FROM (SELECT 'thumb' AS v UNION ALL SELECT 'display')
                 WHERE EXISTS (SELECT 1 FROM photo_uploads WHERE hash = ?1 AND variant = 'original')",
                [hash],
            )?;
            Ok(())
        })?;
        Ok(DisplayCopy { display, thumbnail })
    }
}
