//! Classes of result features: which attribute decides a feature's class, what the class is
//! called, its colour, and the order the legend lists classes in.

use rust_i18n::t;

use super::attributes::Row;

/// The colour a class is drawn in (opaque sRGB); the UI turns it into its own colour type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClassColor {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl ClassColor {
    pub const fn from_rgb(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }

    /// As RGBA bytes (opaque).
    pub const fn to_array(self) -> [u8; 4] {
        [self.r, self.g, self.b, 255]
    }
}

/// Building classes of the building models (`class_id`).
const BUILDING_CLASSES: [u64; 5] = [101, 102, 103, 104, 105];

/// Tree height bands of the forest models (`class_id`).
const HEIGHT_BANDS: [&str; 3] = ["00m-04m", "04m-10m", "10m-99m"];

/// Class of features that carry no styling attribute.
pub const UNCLASSIFIED: &str = "unclassified";

/// Class of lines without a styling attribute: lines in Mapflow results are roads.
pub const ROADS: &str = "object_type=roads";

/// The classes Mapflow's models produce, in legend order, with their colours.
const KNOWN: [(&str, ClassColor); 15] = [
    ("class_id=101", ClassColor::from_rgb(0xff, 0xa6, 0x00)),
    ("class_id=102", ClassColor::from_rgb(0xe6, 0x4a, 0x19)),
    ("class_id=103", ClassColor::from_rgb(0x8e, 0x5c, 0xc4)),
    ("class_id=104", ClassColor::from_rgb(0x1e, 0x88, 0xe5)),
    ("class_id=105", ClassColor::from_rgb(0x9e, 0x9e, 0x9e)),
    ("object_type=building", ClassColor::from_rgb(0xff, 0x70, 0x43)),
    ("class_id=00m-04m", ClassColor::from_rgb(0xc5, 0xe1, 0xa5)),
    ("class_id=04m-10m", ClassColor::from_rgb(0x7c, 0xb3, 0x42)),
    ("class_id=10m-99m", ClassColor::from_rgb(0x2e, 0x7d, 0x32)),
    ("object_type=crown", ClassColor::from_rgb(0x43, 0xa0, 0x47)),
    ("object_type=forest", ClassColor::from_rgb(0x1b, 0x5e, 0x20)),
    ("object_type=roads", ClassColor::from_rgb(0xff, 0xd6, 0x00)),
    ("object_type=road", ClassColor::from_rgb(0xff, 0xd6, 0x00)),
    ("object_type=construction", ClassColor::from_rgb(0xd8, 0x1b, 0x60)),
    (UNCLASSIFIED, ClassColor::from_rgb(0x00, 0xbc, 0xd4)),
];

/// Writes the class key of a feature with these attributes into `key` (cleared first), e.g.
/// `class_id=101` or `object_type=forest`.
///
/// Building classes and tree height bands in `class_id` come first, then `object_type` (the
/// combined models), then any other `class_id`; lines without any of them are roads.
pub fn class_key(properties: Row<'_>, is_line: bool, key: &mut String) {
    key.clear();
    let class_text = properties.get("class_id").scalar_text();
    if let Some(text) = &class_text {
        let trimmed = text.trim();
        let building = trimmed
            .parse::<f64>()
            .ok()
            .filter(|code| code.fract() == 0.0)
            .map(|code| code as u64)
            .filter(|code| BUILDING_CLASSES.contains(code));
        if let Some(code) = building {
            key.push_str("class_id=");
            key.push_str(&code.to_string());
            return;
        }
        if let Some(band) = HEIGHT_BANDS.iter().find(|band| band.eq_ignore_ascii_case(trimmed)) {
            key.push_str("class_id=");
            key.push_str(band);
            return;
        }
    }
    if let Some(object_type) = properties.get("object_type").scalar_text().filter(|text| !text.trim().is_empty()) {
        key.push_str("object_type=");
        key.push_str(&object_type.trim().to_lowercase());
        return;
    }
    if let Some(text) = class_text.filter(|text| !text.trim().is_empty()) {
        key.push_str("class_id=");
        key.push_str(text.trim());
        return;
    }
    key.push_str(if is_line { ROADS } else { UNCLASSIFIED });
}

/// Where a class goes in the legend: known classes in model order, then the others by key.
pub fn legend_rank(key: &str) -> (usize, &str) {
    let known = KNOWN.iter().position(|(known, _)| *known == key);
    (known.unwrap_or(KNOWN.len()), key)
}

/// The colour of a class: fixed for the known ones, derived from the key for the others so
/// that a class keeps its colour from one result to the next.
pub fn class_color(key: &str) -> ClassColor {
    if let Some((_, color)) = KNOWN.iter().find(|(known, _)| *known == key) {
        return *color;
    }
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    let hue = (hash % 360) as f32;
    let saturation = 0.55 + ((hash >> 16) % 30) as f32 / 100.0;
    hsv(hue, saturation, 0.9)
}

fn hsv(hue: f32, saturation: f32, value: f32) -> ClassColor {
    let chroma = value * saturation;
    let sector = hue / 60.0;
    let x = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, x, 0.0),
        1 => (x, chroma, 0.0),
        2 => (0.0, chroma, x),
        3 => (0.0, x, chroma),
        4 => (x, 0.0, chroma),
        _ => (chroma, 0.0, x),
    };
    let m = value - chroma;
    let byte = |channel: f32| ((channel + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    ClassColor::from_rgb(byte(r), byte(g), byte(b))
}

/// The name of a class in the current language.
pub fn class_label(key: &str) -> String {
    let known = match key {
        "class_id=101" => Some(t!("results.residential")),
        "class_id=102" => Some(t!("results.housing")),
        "class_id=103" => Some(t!("results.industrial")),
        "class_id=104" => Some(t!("results.commercial")),
        "class_id=105" => Some(t!("results.other_building")),
        "object_type=building" => Some(t!("results.building")),
        "class_id=00m-04m" => Some(t!("results.trees_0_4")),
        "class_id=04m-10m" => Some(t!("results.trees_4_10")),
        "class_id=10m-99m" => Some(t!("results.trees_10_plus")),
        "object_type=crown" => Some(t!("results.crown")),
        "object_type=forest" => Some(t!("results.forest")),
        "object_type=roads" | "object_type=road" => Some(t!("results.roads")),
        "object_type=construction" => Some(t!("results.construction")),
        UNCLASSIFIED => Some(t!("results.unclassified")),
        _ => None,
    };
    if let Some(label) = known {
        return label.into_owned();
    }
    if let Some(object_type) = key.strip_prefix("object_type=") {
        let mut chars = object_type.chars();
        return match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
            None => object_type.to_owned(),
        }
        .replace('_', " ");
    }
    if let Some(class_id) = key.strip_prefix("class_id=") {
        return t!("results.class", id = class_id).into_owned();
    }
    key.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(properties: serde_json::Value, is_line: bool) -> String {
        let mut table = super::super::attributes::Attributes::default();
        table.push_properties(properties.as_object().expect("test attributes must be an object"));
        let mut key = String::new();
        class_key(table.row(0), is_line, &mut key);
        key
    }

    #[test]
    fn classes_follow_the_models_attributes() {
        use serde_json::json;
        assert_eq!(key_of(json!({"class_id": 101}), false), "class_id=101");
        assert_eq!(key_of(json!({"class_id": "104"}), false), "class_id=104");
        assert_eq!(key_of(json!({"class_id": 103.0}), false), "class_id=103");
        assert_eq!(key_of(json!({"class_id": "04m-10m", "object_type": "forest"}), false), "class_id=04m-10m");
        assert_eq!(key_of(json!({"object_type": "Construction"}), false), "object_type=construction");
        assert_eq!(key_of(json!({"class_id": 7}), false), "class_id=7");
        assert_eq!(key_of(json!({}), true), ROADS);
        assert_eq!(key_of(json!({"name": "x"}), false), UNCLASSIFIED);
    }

    #[test]
    fn unknown_classes_keep_their_colour() {
        assert_eq!(class_color("object_type=quarry"), class_color("object_type=quarry"));
        assert_ne!(class_color("object_type=quarry"), class_color("object_type=pier"));
        assert_eq!(class_color("class_id=101"), KNOWN[0].1);
    }

    #[test]
    fn legend_lists_known_classes_first() {
        let mut keys = vec!["object_type=zeta", "class_id=104", "object_type=alpha", "class_id=101"];
        keys.sort_by_key(|key| legend_rank(key));
        assert_eq!(keys, ["class_id=101", "class_id=104", "object_type=alpha", "object_type=zeta"]);
    }
}
