//! GeoPackage 1.3 (OGC 12-128r18): one feature table in EPSG:4326, written with SQLite.

use std::path::Path;

use rusqlite::{Connection, params_from_iter, types::Value as Sql};

use super::{Cell, Dataset, Kind};

/// The WKT of EPSG:4326 as GDAL writes it into `gpkg_spatial_ref_sys`.
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// `"name"` with inner quotes doubled: an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Column names for the properties, none equal (ignoring case) to `fid`, `geom` or one
/// another: a clash gets `_2`, `_3`…
pub(crate) fn column_names(dataset: &Dataset, reserved: &[&str]) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> = reserved.iter().map(|r| r.to_lowercase()).collect();
    dataset
        .columns
        .iter()
        .map(|c| {
            let mut name = c.name.clone();
            let mut n = 2;
            while taken.contains(&name.to_lowercase()) {
                name = format!("{}_{n}", c.name);
                n += 1;
            }
            taken.insert(name.to_lowercase());
            name
        })
        .collect()
}

/// The geometry type name of the table: the one type all geometries share, else GEOMETRY.
fn geometry_type(dataset: &Dataset) -> &'static str {
    let mut kinds = dataset.features.iter().filter_map(|f| f.geometry.as_ref()).map(type_name);
    let Some(first) = kinds.next() else { return "GEOMETRY" };
    if kinds.all(|k| k == first) { first } else { "GEOMETRY" }
}

fn type_name(g: &geo_types::Geometry<f64>) -> &'static str {
    use geo_types::Geometry as G;
    match g {
        G::Point(_) => "POINT",
        G::Line(_) | G::LineString(_) => "LINESTRING",
        G::Polygon(_) | G::Rect(_) | G::Triangle(_) => "POLYGON",
        G::MultiPoint(_) => "MULTIPOINT",
        G::MultiLineString(_) => "MULTILINESTRING",
        G::MultiPolygon(_) => "MULTIPOLYGON",
        G::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    }
}

/// The GeoPackage binary of a geometry: the `GP` header with the srs id and an xy
/// envelope (none for an empty geometry), then its WKB.
fn blob(g: &geo_types::Geometry<f64>) -> Vec<u8> {
    use geo::BoundingRect as _;
    let mut out = vec![b'G', b'P', 0];
    match g.bounding_rect() {
        Some(r) => {
            out.push(0b0000_0011); // little-endian, xy envelope
            out.extend_from_slice(&4326i32.to_le_bytes());
            for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        None => {
            out.push(0b0001_0001); // little-endian, empty, no envelope
            out.extend_from_slice(&4326i32.to_le_bytes());
        }
    }
    out.extend_from_slice(&super::wkb::wkb(g));
    out
}

pub(crate) fn write(dataset: &Dataset, path: &Path) -> rusqlite::Result<()> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300; PRAGMA journal_mode = MEMORY;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY,
           organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
           description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
           identifier TEXT UNIQUE, description TEXT DEFAULT '',
           last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
           min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
           CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
           geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
           CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
           CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
           CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));",
    )?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        [WGS84_WKT],
    )?;
    // The GeoPackage and SQLite keep names starting gpkg_, rtree_ and sqlite_ for themselves.
    let name = dataset.name.trim();
    let reserved = ["gpkg", "rtree", "sqlite"].iter().any(|p| name.to_lowercase().starts_with(p));
    let table = match (name.is_empty(), reserved) {
        (true, _) => "layer".to_owned(),
        (false, true) => format!("layer_{name}"),
        (false, false) => name.to_owned(),
    };
    let table = table.as_str();
    let names = column_names(dataset, &["fid", "geom"]);
    let mut create =
        format!("CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom GEOMETRY", ident(table));
    for (name, c) in names.iter().zip(&dataset.columns) {
        let sql = match c.kind {
            Kind::Integer => "INTEGER",
            Kind::Real => "REAL",
            Kind::Boolean => "BOOLEAN",
            Kind::Text => "TEXT",
        };
        create.push_str(&format!(", {} {sql}", ident(name)));
    }
    create.push(')');
    tx.execute(&create, [])?;
    let bbox = dataset.bbox();
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, 4326)",
        rusqlite::params![table, bbox.map(|b| b[0]), bbox.map(|b| b[1]), bbox.map(|b| b[2]), bbox.map(|b| b[3])],
    )?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, 4326, 0, 0)",
        rusqlite::params![table, geometry_type(dataset)],
    )?;
    {
        let placeholders: String = (0..names.len()).map(|i| format!(", ?{}", i + 2)).collect();
        let columns: String = names.iter().map(|n| format!(", {}", ident(n))).collect();
        let mut insert =
            tx.prepare(&format!("INSERT INTO {} (geom{columns}) VALUES (?1{placeholders})", ident(table)))?;
        let rtree = format!("rtree_{table}_geom");
        tx.execute_batch(&format!("CREATE VIRTUAL TABLE {} USING rtree(id, minx, maxx, miny, maxy);", ident(&rtree)))?;
        let mut index = tx.prepare(&format!("INSERT INTO {} VALUES (?1, ?2, ?3, ?4, ?5)", ident(&rtree)))?;
        for f in &dataset.features {
            let mut values = Vec::with_capacity(names.len() + 1);
            values.push(f.geometry.as_ref().map_or(Sql::Null, |g| Sql::Blob(blob(g))));
            values.extend(f.cells.iter().map(|c| match c {
                Cell::Null => Sql::Null,
                Cell::Integer(i) => Sql::Integer(*i),
                Cell::Real(r) => Sql::Real(*r),
                Cell::Boolean(b) => Sql::Integer(i64::from(*b)),
                Cell::Text(s) | Cell::Json(s) => Sql::Text(s.clone()),
            }));
            insert.execute(params_from_iter(values))?;
            if let Some(rect) = f.geometry.as_ref().and_then(geo::BoundingRect::bounding_rect) {
                let fid = tx.last_insert_rowid();
                index.execute(rusqlite::params![fid, rect.min().x, rect.max().x, rect.min().y, rect.max().y])?;
            }
        }
    }
    rtree_extension(&tx, table)?;
    tx.commit()?;
    conn.close().map_err(|(_, e)| e)
}

/// Registers the spatial index (the GeoPackage R-tree extension) and the triggers that keep
/// it in step when another tool edits the table; they are made after the features are in,
/// as they call functions only GIS tools provide.
fn rtree_extension(tx: &rusqlite::Transaction<'_>, table: &str) -> rusqlite::Result<()> {
    let (t, r) = (ident(table), ident(&format!("rtree_{table}_geom")));
    let name = |suffix: &str| ident(&format!("rtree_{table}_geom_{suffix}"));
    let values = "NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)";
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
           definition TEXT NOT NULL, scope TEXT NOT NULL,
           CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
         CREATE TRIGGER {insert} AFTER INSERT ON {t} WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update1} AFTER UPDATE OF geom ON {t}
           WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update2} AFTER UPDATE OF geom ON {t}
           WHEN OLD.fid = NEW.fid AND (NEW.geom IS NULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;
         CREATE TRIGGER {update3} AFTER UPDATE ON {t}
           WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; INSERT OR REPLACE INTO {r} VALUES ({values}); END;
         CREATE TRIGGER {update4} AFTER UPDATE ON {t}
           WHEN OLD.fid != NEW.fid AND (NEW.geom IS NULL OR ST_IsEmpty(NEW.geom))
           BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END;
         CREATE TRIGGER {delete} AFTER DELETE ON {t} WHEN OLD.geom NOT NULL
           BEGIN DELETE FROM {r} WHERE id = OLD.fid; END;",
        insert = name("insert"),
        update1 = name("update1"),
        update2 = name("update2"),
        update3 = name("update3"),
        update4 = name("update4"),
        delete = name("delete"),
    ))?;
    tx.execute(
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', 'gpkg_rtree_index',
           'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        [table],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_the_format_keeps_for_itself_is_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        let geojson = br#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":{"type":"Point","coordinates":[1,2]}}]}"#;
        let dataset = Dataset::from_geojson(geojson, "gpkg_contents").unwrap();
        let path = dir.path().join("x.gpkg");
        write(&dataset, &path).unwrap();
        let conn = Connection::open(&path).unwrap();
        let table: String = conn.query_row("SELECT table_name FROM gpkg_contents", [], |r| r.get(0)).unwrap();
        assert_eq!(table, "layer_gpkg_contents");
        let n: i64 = conn.query_row("SELECT count(*) FROM layer_gpkg_contents", [], |r| r.get(0)).unwrap();
        // The spatial index holds every feature's box and is registered as an extension.
        let indexed: i64 =
            conn.query_row("SELECT count(*) FROM rtree_layer_gpkg_contents_geom", [], |r| r.get(0)).unwrap();
        assert_eq!(indexed, n);
        let extension: String = conn
            .query_row("SELECT extension_name FROM gpkg_extensions WHERE table_name = 'layer_gpkg_contents'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(extension, "gpkg_rtree_index");
        assert_eq!(n, 1);
    }
}
