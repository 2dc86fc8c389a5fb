//! Web tile sources described by a URL template, so that any XYZ, TMS or Bing-style server can
//! be used without writing code for it.

use std::sync::{Mutex, OnceLock};

use walkers::TileId;
use walkers::sources::{Attribution, TileSource};

/// One piece of a parsed URL template.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    Literal(String),
    /// `{z}`: zoom level.
    Zoom,
    /// `{x}`: column.
    X,
    /// `{y}`: row, counted from the north (XYZ).
    Y,
    /// `{-y}`: row, counted from the south (TMS).
    FlippedY,
    /// `{q}`: Bing quadkey.
    Quadkey,
    /// `{s}`: one of the `a`, `b`, `c` subdomains, spreading load across them.
    Subdomain,
}

/// A tile source from a URL template such as `https://tile.openstreetmap.org/{z}/{x}/{y}.png`.
///
/// Placeholders: `{z}` `{x}` `{y}`, `{-y}` (TMS, the row flipped), `{q}` (Bing quadkey) and `{s}`
/// (subdomain `a`, `b` or `c`). Only `http` and `https` URLs are accepted: tile servers needing
/// authentication headers cannot be used, as walkers sends none.
#[derive(Clone, Debug)]
pub struct TemplateSource {
    template: String,
    parts: Vec<Part>,
    attribution: String,
    max_zoom: u8,
}

impl TemplateSource {
    /// Parses `template`; the error is a translated message fit to show the user.
    pub fn parse(template: &str, attribution: &str) -> Result<Self, String> {
        let template = template.trim();
        if template.is_empty() {
            return Err(rust_i18n::t!("map.template_empty").into_owned());
        }

        let lower = template.to_ascii_lowercase();
        let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
        match rest {
            Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {}
            _ => return Err(rust_i18n::t!("map.template_not_http").into_owned()),
        }

        let parts = split_placeholders(template)?;
        let has = |part: &Part| parts.contains(part);
        let xyz = has(&Part::Zoom) && has(&Part::X) && (has(&Part::Y) || has(&Part::FlippedY));
        if !xyz && !has(&Part::Quadkey) {
            return Err(rust_i18n::t!("map.template_missing_placeholders").into_owned());
        }

        Ok(Self { template: template.to_owned(), parts, attribution: attribution.to_owned(), max_zoom: 19 })
    }

    /// Highest zoom level the server has tiles for; walkers scales up the last level beyond it.
    #[must_use]
    pub fn with_max_zoom(mut self, max_zoom: u8) -> Self {
        self.max_zoom = max_zoom;
        self
    }

    /// The template as given (trimmed).
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The attribution text given to [`Self::parse`].
    pub fn attribution_text(&self) -> &str {
        &self.attribution
    }

    /// The URL of one tile.
    pub fn url(&self, tile: TileId) -> String {
        use std::fmt::Write as _;

        let mut url = String::with_capacity(self.template.len() + 16);
        for part in &self.parts {
            let written = match part {
                Part::Literal(text) => {
                    url.push_str(text);
                    Ok(())
                }
                Part::Zoom => write!(url, "{}", tile.zoom),
                Part::X => write!(url, "{}", tile.x),
                Part::Y => write!(url, "{}", tile.y),
                Part::FlippedY => write!(url, "{}", flipped_y(tile)),
                Part::Quadkey => {
                    url.push_str(&quadkey(tile));
                    Ok(())
                }
                Part::Subdomain => {
                    const SUBDOMAINS: [&str; 3] = ["a", "b", "c"];
                    let index = (u64::from(tile.x) + u64::from(tile.y)) % 3;
                    url.push_str(SUBDOMAINS[index as usize]);
                    Ok(())
                }
            };
            debug_assert!(written.is_ok(), "writing into a String cannot fail");
        }
        url
    }
}

impl TileSource for TemplateSource {
    fn tile_url(&self, tile_id: TileId) -> String {
        self.url(tile_id)
    }

    fn attribution(&self) -> Attribution {
        Attribution { text: intern(&self.attribution), url: "", logo_light: None, logo_dark: None }
    }

    fn max_zoom(&self) -> u8 {
        self.max_zoom
    }
}

/// Splits a template into literals and placeholders, rejecting unknown or unclosed ones.
fn split_placeholders(template: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(rust_i18n::t!("map.template_unclosed").into_owned());
        };
        let name = &after[..close];
        parts.push(match name {
            "z" => Part::Zoom,
            "x" => Part::X,
            "y" => Part::Y,
            "-y" => Part::FlippedY,
            "q" => Part::Quadkey,
            "s" => Part::Subdomain,
            _ => {
                return Err(rust_i18n::t!("map.template_unknown_placeholder", name = name).into_owned());
            }
        });
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    Ok(parts)
}

/// The TMS row: TMS counts rows from the south, XYZ from the north.
fn flipped_y(tile: TileId) -> u64 {
    let rows = 1u64 << tile.zoom.min(63);
    rows.saturating_sub(1).saturating_sub(u64::from(tile.y))
}

/// The Bing Maps quadkey: one base-4 digit per zoom level, x in the low bit, y in the high one.
fn quadkey(tile: TileId) -> String {
    (1..=tile.zoom.min(32))
        .rev()
        .map(|level| {
            let mask = 1u64 << (level - 1);
            let mut digit = b'0';
            if u64::from(tile.x) & mask != 0 {
                digit += 1;
            }
            if u64::from(tile.y) & mask != 0 {
                digit += 2;
            }
            char::from(digit)
        })
        .collect()
}

/// A `'static` copy of `text`, as walkers' [`Attribution`] wants one. Each distinct text is
/// leaked once, so switching back and forth between basemaps does not grow memory.
fn intern(text: &str) -> &'static str {
    static INTERNED: OnceLock<Mutex<Vec<&'static str>>> = OnceLock::new();
    let mut interned = INTERNED.get_or_init(Mutex::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(found) = interned.iter().find(|known| **known == text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_owned().into_boxed_str());
    interned.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn subdomains_rotate() {
        let source = TemplateSource::parse("https://{s}.tile.example/{z}/{x}/{y}.png", "").unwrap();
        let url = source.url(TileId { x: 1, y: 1, zoom: 2 });
        assert_eq!(url, "https://c.tile.example/2/1/1.png");
    }

    #[test]
    fn interning_reuses_text() {
        assert!(std::ptr::eq(intern("same"), intern("same")));
    }
}
