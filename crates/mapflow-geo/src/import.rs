//! Reading an AOI from a GeoJSON file a user picked.
//!
//! The file is walked as plain JSON rather than deserialized into geojson's types: real files
//! mix geometry types, carry `null` geometries, 3D positions and foreign members, and one odd
//! feature must not make the whole file unreadable. Only polygons are taken; everything else
//! is noted (for the error message when nothing polygonal is left) and skipped.

use geo_types::{Coord, LineString, Polygon};
use serde_json::Value;

use super::Aoi;

/// Why a file could not be read as an AOI. `polygon` indices count the polygons read so far
/// from 0, in file order (a MultiPolygon contributes one per part); messages count from 1.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum AoiError {
    /// The file is empty or holds only whitespace.
    #[error("the file is empty")]
    Empty,
    /// The bytes are not UTF-8 text (a binary file, or a legacy encoding).
    #[error("the file is not UTF-8 text")]
    NotUtf8,
    /// The text is not JSON; `line` and `column` count from 1, as editors do.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json { line: usize, column: usize, message: String },
    /// The JSON is not GeoJSON; the text says where and what (technical, in English).
    #[error("not GeoJSON: {0}")]
    NotGeoJson(String),
    /// Valid GeoJSON without a Polygon or MultiPolygon; `found` lists the geometry types seen.
    #[error("no polygons (found: {found:?})")]
    NoPolygons { found: Vec<String> },
    /// A ring of this polygon has fewer than three distinct points.
    #[error("polygon {polygon} has a ring with fewer than 3 distinct points")]
    TooFewPoints { polygon: usize },
    /// A coordinate of this polygon is not a finite number.
    #[error("polygon {polygon} has a non-finite coordinate")]
    NotFinite { polygon: usize },
}

impl AoiError {
    /// The message in the user's language: what is wrong and what to do about it.
    pub fn message(&self) -> String {
        match self {
            AoiError::Empty => rust_i18n::t!("geo.error.empty").into_owned(),
            AoiError::NotUtf8 => rust_i18n::t!("geo.error.not_utf8").into_owned(),
            AoiError::Json { line, column, message } => {
                rust_i18n::t!("geo.error.json", line = line, column = column, message = message).into_owned()
            }
            AoiError::NotGeoJson(detail) => rust_i18n::t!("geo.error.not_geojson", detail = detail).into_owned(),
            AoiError::NoPolygons { found } if found.is_empty() => rust_i18n::t!("geo.error.no_geometries").into_owned(),
            AoiError::NoPolygons { found } => {
                rust_i18n::t!("geo.error.no_polygons", found = found.join(", ")).into_owned()
            }
            AoiError::TooFewPoints { polygon } => {
                rust_i18n::t!("geo.error.too_few_points", n = polygon + 1).into_owned()
            }
            AoiError::NotFinite { polygon } => rust_i18n::t!("geo.error.not_finite", n = polygon + 1).into_owned(),
        }
    }
}

/// Reads an AOI from GeoJSON text: a Geometry, Feature or FeatureCollection.
///
/// Polygons and MultiPolygons are taken (also inside GeometryCollections); other geometry types
/// are skipped, and if nothing polygonal remains it is [`AoiError::NoPolygons`]. Rings are
/// closed when the file left them open, consecutive repeated points are dropped, and a third
/// (height) coordinate is ignored. Never panics.
pub fn parse_geojson(text: &str) -> Result<Aoi, AoiError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(AoiError::Empty);
    }
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let mut reader = Reader::default();
    reader.object(&value, "", true)?;
    if reader.polygons.is_empty() {
        return Err(AoiError::NoPolygons { found: reader.found });
    }
    Ok(Aoi { polygons: reader.polygons })
}

/// [`parse_geojson`] on a file's bytes: refuses an empty file, strips a UTF-8 byte order mark,
/// decodes UTF-16 text that starts with its byte order mark (as some Windows editors save),
/// and otherwise requires UTF-8.
pub fn parse_geojson_bytes(bytes: &[u8]) -> Result<Aoi, AoiError> {
    if bytes.is_empty() {
        return Err(AoiError::Empty);
    }
    let text = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest).map_err(|_| AoiError::NotUtf8)?.to_owned(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes)?,
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes)?,
        _ => std::str::from_utf8(bytes).map_err(|_| AoiError::NotUtf8)?.to_owned(),
    };
    parse_geojson(&text)
}

/// Decodes UTF-16 code units built by `unit` from byte pairs.
fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, AoiError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(AoiError::NotUtf8);
    }
    let units: Vec<u16> = bytes.chunks_exact(2).map(|p| unit([p[0], p[1]])).collect();
    String::from_utf16(&units).map_err(|_| AoiError::NotUtf8)
}

/// serde_json's error without its " at line L column C" tail, which goes into the fields.
fn json_error(e: &serde_json::Error) -> AoiError {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&tail).unwrap_or(&full).to_owned();
    AoiError::Json { line: e.line(), column: e.column(), message }
}

/// Collects polygons and the other geometry types while walking the JSON.
#[derive(Default)]
struct Reader {
    polygons: Vec<Polygon<f64>>,
    found: Vec<String>,
}

impl Reader {
    /// Reads any GeoJSON object at `path` (a JSON pointer, for messages). `top` is true for
    /// the document itself, where a Feature's missing geometry is still fine but a non-object
    /// is not GeoJSON at all.
    fn object(&mut self, value: &Value, path: &str, top: bool) -> Result<(), AoiError> {
        let Some(object) = value.as_object() else {
            let what = if top { "the file" } else { path };
            return Err(AoiError::NotGeoJson(format!("{what} is {}, not a GeoJSON object", kind(value))));
        };
        let Some(kind_name) = object.get("type").and_then(Value::as_str) else {
            return Err(AoiError::NotGeoJson(format!(
                "no \"type\" member at {}",
                if path.is_empty() { "/" } else { path }
            )));
        };
        match kind_name {
            "FeatureCollection" => {
                let Some(features) = object.get("features").and_then(Value::as_array) else {
                    return Err(AoiError::NotGeoJson(format!("{path}/features is not an array")));
                };
                for (i, feature) in features.iter().enumerate() {
                    self.object(feature, &format!("{path}/features/{i}"), false)?;
                }
                Ok(())
            }
            "Feature" => match object.get("geometry") {
                None | Some(Value::Null) => Ok(()),
                Some(geometry) => self.object(geometry, &format!("{path}/geometry"), false),
            },
            "GeometryCollection" => {
                let Some(geometries) = object.get("geometries").and_then(Value::as_array) else {
                    return Err(AoiError::NotGeoJson(format!("{path}/geometries is not an array")));
                };
                for (i, geometry) in geometries.iter().enumerate() {
                    self.object(geometry, &format!("{path}/geometries/{i}"), false)?;
                }
                Ok(())
            }
            "Polygon" => {
                let coordinates = coordinates(object, path)?;
                let polygon = self.polygon(coordinates, &format!("{path}/coordinates"))?;
                self.polygons.push(polygon);
                Ok(())
            }
            "MultiPolygon" => {
                let coordinates = coordinates(object, path)?;
                let Some(parts) = coordinates.as_array() else {
                    return Err(AoiError::NotGeoJson(format!("{path}/coordinates is not an array of polygons")));
                };
                for (i, part) in parts.iter().enumerate() {
                    let polygon = self.polygon(part, &format!("{path}/coordinates/{i}"))?;
                    self.polygons.push(polygon);
                }
                Ok(())
            }
            "Point" | "MultiPoint" | "LineString" | "MultiLineString" => {
                if !self.found.iter().any(|f| f == kind_name) {
                    self.found.push(kind_name.to_owned());
                }
                Ok(())
            }
            other => Err(AoiError::NotGeoJson(format!(
                "unknown type \"{other}\" at {}",
                if path.is_empty() { "/" } else { path }
            ))),
        }
    }

    /// A polygon from its `coordinates` (an array of rings), numbered as the next polygon.
    fn polygon(&self, value: &Value, path: &str) -> Result<Polygon<f64>, AoiError> {
        let index = self.polygons.len();
        let Some(rings) = value.as_array() else {
            return Err(AoiError::NotGeoJson(format!("{path} is not an array of rings")));
        };
        let mut lines = Vec::with_capacity(rings.len());
        for (r, ring) in rings.iter().enumerate() {
            let coords = ring_coords(ring, &format!("{path}/{r}"))?;
            if coords.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
                return Err(AoiError::NotFinite { polygon: index });
            }
            lines.push(close_ring(coords).ok_or(AoiError::TooFewPoints { polygon: index })?);
        }
        let mut lines = lines.into_iter();
        let Some(exterior) = lines.next() else {
            return Err(AoiError::TooFewPoints { polygon: index });
        };
        Ok(Polygon::new(exterior, lines.collect()))
    }
}

/// The `coordinates` member of a geometry object.
fn coordinates<'a>(object: &'a serde_json::Map<String, Value>, path: &str) -> Result<&'a Value, AoiError> {
    object.get("coordinates").ok_or_else(|| AoiError::NotGeoJson(format!("no \"coordinates\" at {path}")))
}

/// The positions of a ring; each must be an array of at least two numbers (lon, lat).
fn ring_coords(value: &Value, path: &str) -> Result<Vec<Coord<f64>>, AoiError> {
    let Some(positions) = value.as_array() else {
        return Err(AoiError::NotGeoJson(format!("{path} is not an array of positions")));
    };
    positions
        .iter()
        .enumerate()
        .map(|(i, position)| {
            let numbers =
                position.as_array().map(|a| a.iter().take(2).map(Value::as_f64).collect::<Option<Vec<f64>>>());
            match numbers {
                Some(Some(xy)) if xy.len() == 2 => Ok(Coord { x: xy[0], y: xy[1] }),
                _ => Err(AoiError::NotGeoJson(format!("{path}/{i} is not a [longitude, latitude] position"))),
            }
        })
        .collect()
}

/// The ring without consecutive repeats and closed, or `None` with fewer than three distinct
/// points.
fn close_ring(coords: Vec<Coord<f64>>) -> Option<LineString<f64>> {
    let mut ring: Vec<Coord<f64>> = Vec::with_capacity(coords.len() + 1);
    for c in coords {
        if ring.last() != Some(&c) {
            ring.push(c);
        }
    }
    if ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    if ring.len() < 3 {
        return None;
    }
    let first = ring[0];
    ring.push(first);
    Some(LineString::new(ring))
}

/// What a JSON value is, in words, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_message_has_no_position_tail() {
        let Err(AoiError::Json { line, column, message }) = parse_geojson("{\n  \"type\": }") else {
            panic!("expected a JSON error");
        };
        assert_eq!((line, column), (2, 11));
        assert!(!message.contains("line"), "{message}");
    }

    #[test]
    fn utf16_with_bom_is_read() {
        let text = r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#;
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(parse_geojson_bytes(&bytes).map(|a| a.polygons.len()), Ok(1));
    }

    #[test]
    fn malformed_positions_are_not_geojson() {
        let text = r#"{"type":"Polygon","coordinates":[[[0,0],["a",0],[1,1],[0,0]]]}"#;
        let err = parse_geojson(text);
        assert!(matches!(&err, Err(AoiError::NotGeoJson(d)) if d.contains("/coordinates/0/1")), "{err:?}");
        let topo = r#"{"type":"Topology","objects":{}}"#;
        assert!(matches!(parse_geojson(topo), Err(AoiError::NotGeoJson(_))));
        assert!(matches!(parse_geojson("[1, 2]"), Err(AoiError::NotGeoJson(_))));
    }

    #[test]
    fn a_hole_of_two_points_is_too_few() {
        let text = r#"{"type":"MultiPolygon","coordinates":[
            [[[0,0],[1,0],[1,1],[0,0]]],
            [[[5,5],[6,5],[6,6],[5,5]], [[5.1,5.1],[5.2,5.1],[5.1,5.1]]]
        ]}"#;
        assert_eq!(parse_geojson(text), Err(AoiError::TooFewPoints { polygon: 1 }));
    }

    #[test]
    fn z_coordinates_and_null_geometries_are_accepted() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":null,"properties":{}},
            {"type":"Feature","properties":{},"geometry":
                {"type":"Polygon","coordinates":[[[0,0,10],[1,0,10],[1,1,10],[0,0,10]]]}}
        ]}"#;
        let aoi = parse_geojson(text).map(|a| a.polygons);
        assert_eq!(aoi.map(|p| p[0].exterior().0.len()), Ok(4));
    }
}
