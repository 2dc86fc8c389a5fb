//! ESRI Shapefile: one set of `.shp .shx .dbf .prj .cpg` per kind of geometry (a
//! shapefile holds one), attributes in UTF-8 under dBase field names.

use std::path::{Path, PathBuf};

use geo_types::{Coord, Geometry, LineString};
use shapefile::dbase::{FieldName, FieldValue, Record, TableWriterBuilder};
use shapefile::{Point, Polygon, PolygonRing, Polyline};

use super::{Cell, Dataset, ExportError, Format, Kind};

/// WGS 84 as ESRI's `.prj` gives it.
const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// The longest text a dBase character field holds.
const TEXT_BYTES: u8 = 254;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Points,
    Lines,
    Polygons,
}

impl Family {
    fn of(g: &Geometry<f64>) -> Option<Self> {
        match g {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(Self::Points),
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => Some(Self::Lines),
            Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => {
                Some(Self::Polygons)
            }
            Geometry::GeometryCollection(_) => None,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::Points => "points",
            Self::Lines => "lines",
            Self::Polygons => "polygons",
        }
    }
}

/// dBase field names: at most 10 ASCII characters, unique.
fn field_names(dataset: &Dataset) -> Vec<String> {
    let mut taken = std::collections::HashSet::new();
    dataset
        .columns
        .iter()
        .map(|c| {
            let ascii: String =
                c.name.chars().map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' }).collect();
            let base: String = ascii.chars().take(10).collect();
            let base = if base.is_empty() { "field".to_owned() } else { base };
            let mut name = base.clone();
            let mut n = 1;
            while !taken.insert(name.to_ascii_lowercase()) {
                let tail = format!("_{n}");
                name = format!("{}{tail}", base.chars().take(10 - tail.len()).collect::<String>());
                n += 1;
            }
            name
        })
        .collect()
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn points(line: &LineString<f64>) -> Vec<Point> {
    line.0.iter().map(|c: &Coord<f64>| Point::new(c.x, c.y)).collect()
}

fn polygon_rings(p: &geo_types::Polygon<f64>, rings: &mut Vec<PolygonRing<Point>>) {
    if p.exterior().0.len() < 4 {
        return;
    }
    rings.push(PolygonRing::Outer(points(p.exterior())));
    rings.extend(p.interiors().iter().filter(|r| r.0.len() >= 4).map(|r| PolygonRing::Inner(points(r))));
}

/// Writes the shapefiles of `dataset` into `dir` as `<stem>.shp` (one kind of geometry) or
/// `<stem>_<kind>.shp` (several); the files made, and the features left out (null and
/// empty geometries, which a shapefile cannot hold).
pub(crate) fn write(dataset: &Dataset, dir: &Path, stem: &str) -> Result<(Vec<PathBuf>, usize), ExportError> {
    let err = |e: &dyn std::fmt::Display| ExportError::format(Format::Shapefile, e);
    let mut families: Vec<Family> = Vec::new();
    for f in &dataset.features {
        if let Some(family) = f.geometry.as_ref().and_then(Family::of)
            && !families.contains(&family)
        {
            families.push(family);
        }
    }
    if families.is_empty() {
        families.push(Family::Polygons);
    }
    let names = field_names(dataset);
    let mut files = Vec::new();
    let mut written = 0;
    for &family in &families {
        let file_stem = if families.len() == 1 { stem.to_owned() } else { format!("{stem}_{}", family.suffix()) };
        let shp = dir.join(format!("{file_stem}.shp"));
        let mut table = TableWriterBuilder::new();
        for (name, c) in names.iter().zip(&dataset.columns) {
            let field = FieldName::try_from(name.as_str()).map_err(|e| err(&format!("{e:?}")))?;
            table = match c.kind {
                Kind::Integer => table.add_numeric_field(field, 18, 0),
                Kind::Real => table.add_numeric_field(field, 24, 15),
                Kind::Boolean => table.add_logical_field(field),
                Kind::Text => table.add_character_field(field, TEXT_BYTES),
            };
        }
        let mut writer = shapefile::Writer::from_path(&shp, table).map_err(|e| err(&e))?;
        for f in &dataset.features {
            let Some(g) = &f.geometry else { continue };
            if Family::of(g) != Some(family) {
                continue;
            }
            let mut record = Record::default();
            for ((name, c), cell) in names.iter().zip(&dataset.columns).zip(&f.cells) {
                let value = match (c.kind, cell) {
                    (Kind::Integer, Cell::Integer(i)) => FieldValue::Numeric(Some(*i as f64)),
                    (Kind::Real, Cell::Real(r)) => FieldValue::Numeric(Some(*r)),
                    (Kind::Integer | Kind::Real, _) => FieldValue::Numeric(None),
                    (Kind::Boolean, Cell::Boolean(b)) => FieldValue::Logical(Some(*b)),
                    (Kind::Boolean, _) => FieldValue::Logical(None),
                    (Kind::Text, Cell::Text(s) | Cell::Json(s)) => {
                        FieldValue::Character(Some(cut(s, TEXT_BYTES.into())))
                    }
                    (Kind::Text, _) => FieldValue::Character(None),
                };
                record.insert(name.clone(), value);
            }
            let done = match (family, g) {
                (Family::Points, Geometry::Point(p)) => {
                    writer.write_shape_and_record(&Point::new(p.x(), p.y()), &record).map(|()| true)
                }
                (Family::Points, Geometry::MultiPoint(m)) => {
                    let pts: Vec<Point> = m.0.iter().map(|p| Point::new(p.x(), p.y())).collect();
                    if pts.is_empty() {
                        Ok(false)
                    } else {
                        writer.write_shape_and_record(&shapefile::Multipoint::new(pts), &record).map(|()| true)
                    }
                }
                (Family::Lines, _) => {
                    let parts: Vec<Vec<Point>> = match g {
                        Geometry::Line(l) => vec![vec![Point::new(l.start.x, l.start.y), Point::new(l.end.x, l.end.y)]],
                        Geometry::LineString(l) => vec![points(l)],
                        Geometry::MultiLineString(m) => m.0.iter().map(points).collect(),
                        _ => Vec::new(),
                    };
                    let parts: Vec<Vec<Point>> = parts.into_iter().filter(|p| p.len() >= 2).collect();
                    if parts.is_empty() {
                        Ok(false)
                    } else {
                        writer.write_shape_and_record(&Polyline::with_parts(parts), &record).map(|()| true)
                    }
                }
                (Family::Polygons, _) => {
                    let mut rings = Vec::new();
                    match g {
                        Geometry::Polygon(p) => polygon_rings(p, &mut rings),
                        Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| polygon_rings(p, &mut rings)),
                        Geometry::Rect(r) => polygon_rings(&r.to_polygon(), &mut rings),
                        Geometry::Triangle(t) => polygon_rings(&t.to_polygon(), &mut rings),
                        _ => {}
                    }
                    if rings.is_empty() {
                        Ok(false)
                    } else {
                        writer.write_shape_and_record(&Polygon::with_rings(rings), &record).map(|()| true)
                    }
                }
                _ => Ok(false),
            }
            .map_err(|e| err(&e))?;
            written += usize::from(done);
        }
        drop(writer);
        std::fs::write(dir.join(format!("{file_stem}.prj")), WGS84_PRJ)?;
        std::fs::write(dir.join(format!("{file_stem}.cpg")), "UTF-8")?;
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            files.push(dir.join(format!("{file_stem}.{ext}")));
        }
    }
    Ok((files, dataset.features.len() - written))
}
