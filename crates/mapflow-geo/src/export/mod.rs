//! Results (and any GeoJSON) as files GIS tools read: GeoJSON, GeoPackage, FlatGeobuf and
//! Shapefile, in EPSG:4326.
//!
//! [`Dataset::from_geojson`] reads a FeatureCollection into typed columns: a property whose
//! values are all integers becomes an integer column, all numbers a real one, all booleans a
//! boolean one; anything else is text, objects and arrays as their JSON (as the QGIS plugin
//! writes them). [`write`] writes it in a [`Format`] atomically: into temporary files beside
//! the target, renamed into place only once whole.

mod gpkg;
pub mod read;
mod shp;
mod wkb;

use std::path::{Path, PathBuf};

use geo_types::Geometry;
use serde_json::Value;

/// A file format a dataset can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    GeoPackage,
    FlatGeobuf,
    Shapefile,
}

impl Format {
    /// The format a file name asks for, by its extension.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Some(Self::GeoJson),
            "gpkg" => Some(Self::GeoPackage),
            "fgb" => Some(Self::FlatGeobuf),
            "shp" => Some(Self::Shapefile),
            _ => None,
        }
    }

    /// The usual extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::GeoJson => "geojson",
            Self::GeoPackage => "gpkg",
            Self::FlatGeobuf => "fgb",
            Self::Shapefile => "shp",
        }
    }

    /// The format's name as GIS tools give it.
    pub fn name(self) -> &'static str {
        match self {
            Self::GeoJson => "GeoJSON",
            Self::GeoPackage => "GeoPackage",
            Self::FlatGeobuf => "FlatGeobuf",
            Self::Shapefile => "Shapefile",
        }
    }
}

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Integer,
    Real,
    Boolean,
    Text,
}

/// A column: a property name and the type its values share.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// A value of a cell, of its column's kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Boolean(bool),
    Text(String),
    /// An object or array, as JSON text: GeoJSON keeps it as JSON, other formats as text.
    Json(String),
}

/// One feature: its geometry (none for a null geometry) and a cell per column.
#[derive(Clone, Debug)]
pub struct Feature {
    pub geometry: Option<Geometry<f64>>,
    pub cells: Vec<Cell>,
}

/// Features with typed columns, ready to be written.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    /// The layer's name inside formats that name it (GeoPackage table, FlatGeobuf title).
    pub name: String,
    pub columns: Vec<Column>,
    pub features: Vec<Feature>,
}

/// A GeoJSON text to be written out in another format (the AOI, catalog footprints);
/// `Debug` gives its size only.
#[derive(Clone, PartialEq)]
pub struct GeoJsonText(pub std::sync::Arc<str>);

impl std::fmt::Debug for GeoJsonText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GeoJSON of {} bytes", self.0.len())
    }
}

/// Why a dataset could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("not GeoJSON: {0}")]
    NotGeoJson(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{format}: {message}")]
    Format { format: &'static str, message: String },
    #[error("unknown file type {0:?}: choose .geojson, .gpkg, .fgb or .shp")]
    UnknownFormat(String),
}

impl ExportError {
    fn format(format: Format, message: impl std::fmt::Display) -> Self {
        Self::Format { format: format.name(), message: message.to_string() }
    }
}

/// What [`write`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// Every file made, the main one first.
    pub files: Vec<PathBuf>,
    /// Features written.
    pub features: usize,
    /// Features the format could not hold (a Shapefile has no null geometries).
    pub left_out: usize,
}

impl Dataset {
    /// Reads a GeoJSON FeatureCollection (or a single Feature).
    pub fn from_geojson(bytes: &[u8], name: &str) -> Result<Self, ExportError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ExportError::NotGeoJson(e.to_string()))?;
        let parsed: geojson::GeoJson =
            text.parse().map_err(|e: geojson::Error| ExportError::NotGeoJson(e.to_string()))?;
        let features = match parsed {
            geojson::GeoJson::FeatureCollection(fc) => fc.features,
            geojson::GeoJson::Feature(f) => vec![f],
            geojson::GeoJson::Geometry(g) => vec![geojson::Feature { geometry: Some(g), ..Default::default() }],
        };
        // Columns in the order properties first appear.
        let mut columns: Vec<(String, Option<Kind>)> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for feature in &features {
            for (key, value) in feature.properties.iter().flatten() {
                let at = *index.entry(key.clone()).or_insert_with(|| {
                    columns.push((key.clone(), None));
                    columns.len() - 1
                });
                columns[at].1 = merge(columns[at].1, value);
            }
        }
        let columns: Vec<Column> =
            columns.into_iter().map(|(name, kind)| Column { name, kind: kind.unwrap_or(Kind::Text) }).collect();
        let mut out = Vec::with_capacity(features.len());
        for feature in features {
            let geometry = match feature.geometry {
                Some(g) => Some(Geometry::<f64>::try_from(g).map_err(|e| ExportError::NotGeoJson(e.to_string()))?),
                None => None,
            };
            let props = feature.properties.unwrap_or_default();
            let cells = columns.iter().map(|c| cell(c.kind, props.get(&c.name))).collect();
            out.push(Feature { geometry, cells });
        }
        Ok(Self { name: name.to_owned(), columns, features: out })
    }

    /// Some features of a loaded layer, as drawn (lon/lat), with their attributes typed as
    /// their columns are.
    pub fn from_layer(layer: &crate::results::ResultLayer, features: &[u32], name: &str) -> Self {
        use crate::results::{AttrValue, ColumnKind};
        let table = layer.attribute_table();
        let columns: Vec<Column> = table
            .names()
            .enumerate()
            .map(|(c, name)| Column {
                name: name.to_owned(),
                kind: match table.column_kind(c) {
                    Some(ColumnKind::Bool) => Kind::Boolean,
                    Some(ColumnKind::Int) => Kind::Integer,
                    Some(ColumnKind::Float) => Kind::Real,
                    Some(ColumnKind::Text | ColumnKind::Mixed) | None => Kind::Text,
                },
            })
            .collect();
        let out = features
            .iter()
            .map(|&f| {
                let f = f as usize;
                let cells = columns
                    .iter()
                    .enumerate()
                    .map(|(c, column)| match (table.value(c, f), column.kind) {
                        (AttrValue::Null, _) => Cell::Null,
                        (AttrValue::Bool(b), Kind::Boolean) => Cell::Boolean(b),
                        (AttrValue::Int(n), Kind::Integer) => Cell::Integer(n),
                        (AttrValue::Int(n), Kind::Real) => Cell::Real(n as f64),
                        (AttrValue::Float(x), Kind::Real) => Cell::Real(x),
                        (AttrValue::Json(j), _) => Cell::Json(j.to_owned()),
                        (other, _) => Cell::Text(other.to_string()),
                    })
                    .collect();
                Feature { geometry: layer.feature_geometry(f), cells }
            })
            .collect();
        Self { name: name.to_owned(), columns, features: out }
    }

    /// `[min lon, min lat, max lon, max lat]` of every geometry, if any.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        use geo::BoundingRect as _;
        self.features.iter().filter_map(|f| f.geometry.as_ref()?.bounding_rect()).fold(None, |acc, r| {
            let b = [r.min().x, r.min().y, r.max().x, r.max().y];
            Some(match acc {
                None => b,
                Some(a) => [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])],
            })
        })
    }
}

/// The kind of a column so far, given one more value.
fn merge(kind: Option<Kind>, value: &Value) -> Option<Kind> {
    let this = match value {
        Value::Null => return kind,
        Value::Bool(_) => Kind::Boolean,
        Value::Number(n) if n.is_i64() => Kind::Integer,
        Value::Number(_) => Kind::Real,
        _ => Kind::Text,
    };
    Some(match (kind, this) {
        (None, k) => k,
        (Some(a), b) if a == b => a,
        (Some(Kind::Integer | Kind::Real), Kind::Integer | Kind::Real) => Kind::Real,
        _ => Kind::Text,
    })
}

/// A property's value as a cell of a column of `kind`.
fn cell(kind: Kind, value: Option<&Value>) -> Cell {
    match (kind, value) {
        (_, None | Some(Value::Null)) => Cell::Null,
        (Kind::Integer, Some(Value::Number(n))) => n.as_i64().map_or(Cell::Null, Cell::Integer),
        (Kind::Real, Some(Value::Number(n))) => n.as_f64().map_or(Cell::Null, Cell::Real),
        (Kind::Boolean, Some(Value::Bool(b))) => Cell::Boolean(*b),
        (_, Some(Value::String(s))) => Cell::Text(s.clone()),
        (_, Some(v @ (Value::Object(_) | Value::Array(_)))) => Cell::Json(v.to_string()),
        (_, Some(other)) => Cell::Text(other.to_string()),
    }
}

/// Converts the GeoJSON file `geojson` into `out` in `format` (from `out`'s extension when
/// `None`, GeoJSON for an unknown one); `name` names the layer.
pub fn convert_file(geojson: &Path, name: &str, format: Option<Format>, out: &Path) -> Result<Written, ExportError> {
    let format = format.or_else(|| Format::from_path(out)).unwrap_or(Format::GeoJson);
    let bytes = std::fs::read(geojson)?;
    let dataset = Dataset::from_geojson(&bytes, name)?;
    drop(bytes);
    write(&dataset, format, out)
}

/// A layer name from a processing's name: letters, digits, `_` and `-`, never empty.
pub fn layer_name(name: &str) -> String {
    let cleaned: String = name.trim().chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '_' }).collect();
    if cleaned.trim_matches('_').is_empty() { "result".to_owned() } else { cleaned }
}

/// Writes `dataset` to `path` in `format`, atomically (see the module's text).
pub fn write(dataset: &Dataset, format: Format, path: &Path) -> Result<Written, ExportError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("layer").to_owned();
    let work = tempfile::Builder::new().prefix(".mapflow-export-").tempdir_in(&dir)?;
    let staged = work.path().join(path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "layer".into()));
    let (files, left_out) = match format {
        Format::GeoJson => {
            write_geojson(dataset, &staged)?;
            (vec![staged], 0)
        }
        Format::GeoPackage => {
            gpkg::write(dataset, &staged).map_err(|e| ExportError::format(format, e))?;
            (vec![staged], 0)
        }
        Format::FlatGeobuf => {
            write_fgb(dataset, &staged)?;
            (vec![staged], 0)
        }
        Format::Shapefile => shp::write(dataset, work.path(), &stem)?,
    };
    let mut placed = Vec::new();
    for file in files {
        let target = dir.join(file.file_name().unwrap_or_default());
        std::fs::rename(&file, &target)?;
        placed.push(target);
    }
    Ok(Written { files: placed, features: dataset.features.len() - left_out, left_out })
}

impl Dataset {
    /// The features as GeoJSON Feature objects (RFC 7946), typed cells keeping their types:
    /// what an API body carries (a rejection's marked features).
    pub fn feature_values(&self) -> Vec<Value> {
        self.features
            .iter()
            .map(|f| {
                let properties: serde_json::Map<String, Value> =
                    self.columns.iter().zip(&f.cells).map(|(c, v)| (c.name.clone(), cell_json(v))).collect();
                let geometry = f.geometry.as_ref().map(|g| geojson::Geometry::new(geojson::GeometryValue::from(g)));
                let feature = geojson::Feature { geometry, properties: Some(properties), ..Default::default() };
                serde_json::to_value(feature).unwrap_or(Value::Null)
            })
            .collect()
    }
}

/// GeoJSON, as RFC 7946 gives it; typed cells keep their types.
fn write_geojson(dataset: &Dataset, path: &Path) -> Result<(), ExportError> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (i, f) in dataset.features.iter().enumerate() {
        let properties: serde_json::Map<String, Value> =
            dataset.columns.iter().zip(&f.cells).map(|(c, v)| (c.name.clone(), cell_json(v))).collect();
        let geometry = f.geometry.as_ref().map(|g| geojson::Geometry::new(geojson::GeometryValue::from(g)));
        let feature = geojson::Feature { geometry, properties: Some(properties), ..Default::default() };
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut out, &feature).map_err(std::io::Error::other)?;
    }
    out.write_all(b"\n]}\n")?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Integer(i) => Value::from(*i),
        Cell::Real(r) => serde_json::Number::from_f64(*r).map_or(Value::Null, Value::Number),
        Cell::Boolean(b) => Value::Bool(*b),
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
    }
}

/// An empty line string, what FlatGeobuf gets for a feature without geometry.
struct EmptyLine;

impl geozero::GeozeroGeometry for EmptyLine {
    fn process_geom<P: geozero::GeomProcessor>(&self, processor: &mut P) -> geozero::error::Result<()> {
        processor.linestring_begin(false, 0, 0)?;
        processor.linestring_end(false, 0)
    }
}

/// FlatGeobuf with a spatial index, each feature keeping its own geometry type.
fn write_fgb(dataset: &Dataset, path: &Path) -> Result<(), ExportError> {
    use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
    use geozero::{ColumnValue, PropertyProcessor as _};
    let err = |e: &dyn std::fmt::Display| ExportError::format(Format::FlatGeobuf, e);
    let options = FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs { code: 4326, ..Default::default() },
        title: Some(&dataset.name),
        ..Default::default()
    };
    let mut fgb = FgbWriter::create_with_options(&dataset.name, GeometryType::Unknown, options).map_err(|e| err(&e))?;
    for c in &dataset.columns {
        let kind = match c.kind {
            Kind::Integer => ColumnType::Long,
            Kind::Real => ColumnType::Double,
            Kind::Boolean => ColumnType::Bool,
            Kind::Text => ColumnType::String,
        };
        fgb.add_column(&c.name, kind, |_, col| col.nullable = true);
    }
    for f in &dataset.features {
        let props: Vec<(usize, &str, ColumnValue)> = dataset
            .columns
            .iter()
            .zip(&f.cells)
            .enumerate()
            .filter_map(|(i, (c, v))| {
                let value = match v {
                    Cell::Null => return None,
                    Cell::Integer(n) => ColumnValue::Long(*n),
                    Cell::Real(r) => ColumnValue::Double(*r),
                    Cell::Boolean(b) => ColumnValue::Bool(*b),
                    Cell::Text(s) | Cell::Json(s) => ColumnValue::String(s),
                };
                Some((i, c.name.as_str(), value))
            })
            .collect();
        let result = match &f.geometry {
            Some(g) => fgb.add_feature_geom(g.clone(), |w| {
                for (i, name, value) in &props {
                    let _ = w.property(*i, name, value);
                }
            }),
            // The writer gives every feature a geometry: an empty line (the one empty geometry GDAL reads back from it) stands for none.
            None => fgb.add_feature_geom(EmptyLine, |w| {
                for (i, name, value) in &props {
                    let _ = w.property(*i, name, value);
                }
            }),
        };
        result.map_err(|e| err(&e))?;
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    fgb.write(&mut out).map_err(|e| err(&e))?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(())
}
