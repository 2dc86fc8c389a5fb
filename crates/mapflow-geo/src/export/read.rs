//! Local GIS files read as a GeoJSON FeatureCollection, for layers and AOIs: GeoJSON as it
//! is, and GeoPackage (its first feature table), FlatGeobuf and Shapefile converted.

use std::path::Path;

use serde_json::{Map, Value, json};

use super::{ExportError, Format};

/// The biggest local file read.
pub const MAX_FILE: u64 = 2 * 1024 * 1024 * 1024;

/// Reads `path` as GeoJSON bytes, by its extension.
pub fn to_geojson(path: &Path) -> Result<Vec<u8>, ExportError> {
    let format = Format::from_path(path).ok_or_else(|| {
        ExportError::UnknownFormat(path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default())
    })?;
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE {
        return Err(ExportError::format(
            format,
            format!("the file is {} MB, more than can be opened", size / 1_000_000),
        ));
    }
    let features = match format {
        Format::GeoJson => return Ok(std::fs::read(path)?),
        Format::GeoPackage => gpkg(path).map_err(|e| ExportError::format(format, e))?,
        Format::FlatGeobuf => fgb(path).map_err(|e| ExportError::format(format, e))?,
        Format::Shapefile => shp(path).map_err(|e| ExportError::format(format, e))?,
    };
    serde_json::to_vec(&json!({"type": "FeatureCollection", "features": features}))
        .map_err(|e| ExportError::format(format, e))
}

fn feature(geometry: Option<geo_types::Geometry<f64>>, properties: Map<String, Value>) -> Value {
    let geometry = geometry
        .map(|g| serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(&g))).unwrap_or(Value::Null));
    json!({"type": "Feature", "geometry": geometry.unwrap_or(Value::Null), "properties": properties})
}

/// The first feature table of a GeoPackage, every column but the geometry as a property.
fn gpkg(path: &Path) -> Result<Vec<Value>, String> {
    use geozero::ToGeo as _;
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let (table, column): (String, String) = conn
        .query_row(
            "SELECT c.table_name, g.column_name FROM gpkg_contents c JOIN gpkg_geometry_columns g
             ON g.table_name = c.table_name WHERE c.data_type = 'features' ORDER BY c.table_name LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| format!("no feature table ({e})"))?;
    let quoted = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let mut statement = conn.prepare(&format!("SELECT * FROM {}", quoted(&table))).map_err(|e| e.to_string())?;
    let names: Vec<String> = statement.column_names().map(str::to_owned).collect();
    let mut rows = statement.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut properties = Map::new();
        let mut geometry = None;
        for (i, name) in names.iter().enumerate() {
            let value = row.get_ref(i).map_err(|e| e.to_string())?;
            use rusqlite::types::ValueRef as V;
            if *name == column {
                if let V::Blob(b) = value {
                    geometry = geozero::wkb::GpkgWkb(b.to_vec()).to_geo().ok();
                }
                continue;
            }
            if name.eq_ignore_ascii_case("fid") {
                continue;
            }
            let v = match value {
                V::Null => Value::Null,
                V::Integer(i) => Value::from(i),
                V::Real(r) => serde_json::Number::from_f64(r).map_or(Value::Null, Value::Number),
                V::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                V::Blob(_) => continue,
            };
            properties.insert(name.clone(), v);
        }
        out.push(feature(geometry, properties));
    }
    Ok(out)
}

/// A feature's FlatGeobuf properties with their types.
#[derive(Default)]
struct Properties(Map<String, Value>);

impl geozero::PropertyProcessor for Properties {
    fn property(&mut self, _i: usize, name: &str, value: &geozero::ColumnValue) -> geozero::error::Result<bool> {
        use geozero::ColumnValue as C;
        let v = match value {
            C::Byte(n) => Value::from(*n),
            C::UByte(n) => Value::from(*n),
            C::Bool(b) => Value::Bool(*b),
            C::Short(n) => Value::from(*n),
            C::UShort(n) => Value::from(*n),
            C::Int(n) => Value::from(*n),
            C::UInt(n) => Value::from(*n),
            C::Long(n) => Value::from(*n),
            C::ULong(n) => Value::from(*n),
            C::Float(f) => json!(f),
            C::Double(f) => json!(f),
            C::String(s) | C::Json(s) | C::DateTime(s) => Value::String((*s).to_owned()),
            C::Binary(_) => return Ok(false),
        };
        self.0.insert(name.to_owned(), v);
        Ok(false)
    }
}

fn fgb(path: &Path) -> Result<Vec<Value>, String> {
    use flatgeobuf::FallibleStreamingIterator as _;
    use geozero::{FeatureProperties as _, ToGeo as _};
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(|e| e.to_string())?);
    let mut features =
        flatgeobuf::FgbReader::open(&mut file).map_err(|e| e.to_string())?.select_all().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(f) = features.next().map_err(|e| e.to_string())? {
        let mut properties = Properties::default();
        f.process_properties(&mut properties).map_err(|e| e.to_string())?;
        // An empty geometry (how FlatGeobuf is written without one) reads as none.
        let geometry = f.to_geo().ok().filter(|g| geo::BoundingRect::bounding_rect(g).is_some());
        out.push(feature(geometry, properties.0));
    }
    Ok(out)
}

fn shp(path: &Path) -> Result<Vec<Value>, String> {
    use shapefile::dbase::FieldValue as F;
    let mut reader = shapefile::Reader::from_path(path).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for item in reader.iter_shapes_and_records() {
        let (shape, record) = item.map_err(|e| e.to_string())?;
        let geometry = geo_types::Geometry::<f64>::try_from(shape).ok();
        let mut properties = Map::new();
        for (name, value) in record {
            let v = match value {
                F::Character(s) => s.map_or(Value::Null, |s| Value::String(s.trim_end().to_owned())),
                F::Numeric(n) => n.map_or(Value::Null, |n| {
                    if n.fract() == 0.0 && n.abs() < 9e15 { Value::from(n as i64) } else { json!(n) }
                }),
                F::Float(f) => f.map_or(Value::Null, |f| json!(f)),
                F::Logical(b) => b.map_or(Value::Null, Value::Bool),
                F::Integer(i) => Value::from(i),
                F::Double(d) => json!(d),
                F::Currency(c) => json!(c),
                other => Value::String(format!("{other:?}")),
            };
            properties.insert(name, v);
        }
        out.push(feature(geometry, properties));
    }
    Ok(out)
}
