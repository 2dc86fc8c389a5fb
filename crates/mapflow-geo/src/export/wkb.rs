//! Well-known binary (ISO 19125, little-endian, 2D) of `geo_types` geometries.

use geo_types::{Coord, Geometry, LineString, Polygon};

/// The WKB of `g`.
pub(crate) fn wkb(g: &Geometry<f64>) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, g);
    out
}

fn header(out: &mut Vec<u8>, kind: u32) {
    out.push(1);
    out.extend_from_slice(&kind.to_le_bytes());
}

fn count(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn coord(out: &mut Vec<u8>, c: Coord<f64>) {
    out.extend_from_slice(&c.x.to_le_bytes());
    out.extend_from_slice(&c.y.to_le_bytes());
}

fn points(out: &mut Vec<u8>, line: &LineString<f64>) {
    count(out, line.0.len());
    line.0.iter().for_each(|c| coord(out, *c));
}

fn polygon_body(out: &mut Vec<u8>, p: &Polygon<f64>) {
    if p.exterior().0.is_empty() {
        count(out, 0);
        return;
    }
    count(out, 1 + p.interiors().len());
    points(out, p.exterior());
    p.interiors().iter().for_each(|r| points(out, r));
}

fn write(out: &mut Vec<u8>, g: &Geometry<f64>) {
    match g {
        Geometry::Point(p) => {
            header(out, 1);
            coord(out, p.0);
        }
        Geometry::Line(l) => {
            header(out, 2);
            count(out, 2);
            coord(out, l.start);
            coord(out, l.end);
        }
        Geometry::LineString(l) => {
            header(out, 2);
            points(out, l);
        }
        Geometry::Polygon(p) => {
            header(out, 3);
            polygon_body(out, p);
        }
        Geometry::MultiPoint(m) => {
            header(out, 4);
            count(out, m.0.len());
            for p in &m.0 {
                write(out, &Geometry::Point(*p));
            }
        }
        Geometry::MultiLineString(m) => {
            header(out, 5);
            count(out, m.0.len());
            for l in &m.0 {
                header(out, 2);
                points(out, l);
            }
        }
        Geometry::MultiPolygon(m) => {
            header(out, 6);
            count(out, m.0.len());
            for p in &m.0 {
                header(out, 3);
                polygon_body(out, p);
            }
        }
        Geometry::GeometryCollection(c) => {
            header(out, 7);
            count(out, c.0.len());
            c.0.iter().for_each(|g| write(out, g));
        }
        Geometry::Rect(r) => write(out, &Geometry::Polygon(r.to_polygon())),
        Geometry::Triangle(t) => write(out, &Geometry::Polygon(t.to_polygon())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_is_21_bytes_in_little_endian() {
        let bytes = wkb(&Geometry::Point(geo_types::point!(x: 1.0, y: 2.0)));
        assert_eq!(bytes.len(), 21);
        assert_eq!(&bytes[..5], &[1, 1, 0, 0, 0]);
        assert_eq!(f64::from_le_bytes(bytes[5..13].try_into().unwrap()), 1.0);
        assert_eq!(f64::from_le_bytes(bytes[13..21].try_into().unwrap()), 2.0);
    }
}
