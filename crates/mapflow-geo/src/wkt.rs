//! A small WKT reader for the footprints the Data API returns (`POLYGON`, `MULTIPOLYGON`).
//!
//! The `wkt` crate is not a dependency, and footprints use a tiny part of the grammar, so this
//! is a hand-written recursive-descent parser. It accepts an EWKT `SRID=…;` prefix, `Z`/`M`/`ZM`
//! tags (extra ordinates are dropped), `EMPTY`, any case and whitespace, and a
//! `GEOMETRYCOLLECTION` of polygons. It closes unclosed rings and never panics.

use geo_types::{Coord, LineString, Polygon};

/// Parses WKT POLYGON / MULTIPOLYGON (also a GEOMETRYCOLLECTION of them) into polygons.
///
/// Empty geometries give no polygons. The error says what was expected and at which
/// character (counted from 1), in English: it is meant for logs, not for users.
pub fn parse_wkt_polygons(wkt: &str) -> Result<Vec<Polygon<f64>>, String> {
    let mut parser = Parser { text: wkt, pos: 0 };
    parser.skip_srid();
    let mut polygons = Vec::new();
    parser.geometry(&mut polygons, 0)?;
    parser.skip_space();
    if parser.peek() == Some(';') {
        parser.pos += 1;
        parser.skip_space();
    }
    if parser.pos < parser.text.len() {
        return Err(parser.error("the end of the text"));
    }
    Ok(polygons)
}

/// GEOMETRYCOLLECTIONs nested deeper than this are refused (no stack overflow on hostile text).
const MAX_DEPTH: usize = 32;

/// A cursor over the text; `pos` is a byte offset on a char boundary.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_space(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    /// An error naming what was expected and where (character position from 1).
    fn error(&self, expected: &str) -> String {
        let at = self.text[..self.pos].chars().count() + 1;
        let found: String = self.rest().chars().take(12).collect();
        if found.is_empty() {
            format!("WKT: expected {expected} at character {at}, found the end of the text")
        } else {
            format!("WKT: expected {expected} at character {at}, found \"{found}\"")
        }
    }

    /// Skips an EWKT `SRID=4326;` prefix.
    fn skip_srid(&mut self) {
        self.skip_space();
        let rest = self.rest();
        if rest.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("SRID="))
            && let Some(end) = rest.find(';')
        {
            self.pos += end + 1;
        }
    }

    /// The next word (letters only), upper-cased; empty when there is none.
    fn word(&mut self) -> String {
        self.skip_space();
        let len = self.rest().find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(self.rest().len());
        let word = self.rest()[..len].to_ascii_uppercase();
        self.pos += len;
        word
    }

    /// Consumes `c` (after whitespace) or fails naming it.
    fn expect(&mut self, c: char) -> Result<(), String> {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            Ok(())
        } else {
            Err(self.error(&format!("'{c}'")))
        }
    }

    /// Consumes `c` if it comes next (after whitespace).
    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    /// After a geometry keyword: skips a `Z`/`M`/`ZM` tag and reports whether the geometry is
    /// `EMPTY`.
    fn tag_and_empty(&mut self) -> Result<bool, String> {
        let start = self.pos;
        let mut word = self.word();
        if matches!(word.as_str(), "Z" | "M" | "ZM") {
            word = self.word();
        }
        match word.as_str() {
            "EMPTY" => Ok(true),
            "" => Ok(false),
            _ => {
                self.pos = start;
                self.skip_space();
                Err(self.error("'(' or EMPTY"))
            }
        }
    }

    /// One geometry: a keyword and its body; polygons are appended to `out`.
    fn geometry(&mut self, out: &mut Vec<Polygon<f64>>, depth: usize) -> Result<(), String> {
        let keyword = self.word();
        match keyword.as_str() {
            "POLYGON" => {
                if !self.tag_and_empty()? {
                    out.push(self.polygon_body()?);
                }
            }
            "MULTIPOLYGON" => {
                if !self.tag_and_empty()? {
                    self.expect('(')?;
                    loop {
                        self.skip_space();
                        let is_empty = self.rest().get(..5).is_some_and(|w| w.eq_ignore_ascii_case("EMPTY"));
                        if is_empty {
                            self.word();
                        } else {
                            out.push(self.polygon_body()?);
                        }
                        if !self.eat(',') {
                            break;
                        }
                    }
                    self.expect(')')?;
                }
            }
            "GEOMETRYCOLLECTION" if depth < MAX_DEPTH => {
                if !self.tag_and_empty()? {
                    self.expect('(')?;
                    loop {
                        self.geometry(out, depth + 1)?;
                        if !self.eat(',') {
                            break;
                        }
                    }
                    self.expect(')')?;
                }
            }
            "GEOMETRYCOLLECTION" => {
                return Err(format!("WKT: collections nested deeper than {MAX_DEPTH}"));
            }
            "" => return Err(self.error("POLYGON or MULTIPOLYGON")),
            other => {
                return Err(format!("WKT: {other} is not supported here, only POLYGON and MULTIPOLYGON"));
            }
        }
        Ok(())
    }

    /// `( ring, ring, … )`: the exterior, then the holes.
    fn polygon_body(&mut self) -> Result<Polygon<f64>, String> {
        self.expect('(')?;
        let exterior = self.ring()?;
        let mut holes = Vec::new();
        while self.eat(',') {
            holes.push(self.ring()?);
        }
        self.expect(')')?;
        Ok(Polygon::new(exterior, holes))
    }

    /// `( x y, x y, … )`, closed if it was left open; at least three distinct points.
    fn ring(&mut self) -> Result<LineString<f64>, String> {
        self.expect('(')?;
        let start = self.pos;
        let mut coords: Vec<Coord<f64>> = Vec::new();
        loop {
            let x = self.number()?;
            let y = self.number()?;
            // Z and M ordinates, if any, are read and dropped.
            for _ in 0..2 {
                self.skip_space();
                if matches!(self.peek(), Some(c) if c.is_ascii_digit() || "+-.".contains(c)) {
                    self.number()?;
                }
            }
            if coords.last() != Some(&Coord { x, y }) {
                coords.push(Coord { x, y });
            }
            if !self.eat(',') {
                break;
            }
        }
        self.expect(')')?;
        if coords.len() > 1 && coords.first() == coords.last() {
            coords.pop();
        }
        if coords.len() < 3 {
            self.pos = start;
            return Err(self.error("a ring of at least 3 distinct points"));
        }
        let first = coords[0];
        coords.push(first);
        Ok(LineString::new(coords))
    }

    /// A finite decimal number.
    fn number(&mut self) -> Result<f64, String> {
        self.skip_space();
        let len = self.rest().find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(self.rest().len());
        match self.rest()[..len].parse::<f64>() {
            Ok(n) if n.is_finite() => {
                self.pos += len;
                Ok(n)
            }
            _ => Err(self.error("a number")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ewkt_z_and_empty() {
        let p = parse_wkt_polygons("SRID=4326;POLYGON Z ((0 0 1, 1 0 1, 1 1 1, 0 0 1))");
        assert_eq!(p.map(|p| p[0].exterior().0.len()), Ok(4));
        assert_eq!(parse_wkt_polygons("POLYGON EMPTY"), Ok(vec![]));
        assert_eq!(parse_wkt_polygons("MULTIPOLYGON EMPTY"), Ok(vec![]));
        let mixed = parse_wkt_polygons("MULTIPOLYGON (EMPTY, ((0 0, 1 0, 1 1, 0 0)))");
        assert_eq!(mixed.map(|p| p.len()), Ok(1));
    }

    #[test]
    fn collections_of_polygons() {
        let wkt = "GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1)), MULTIPOLYGON (((5 5, 6 5, 6 6))))";
        assert_eq!(parse_wkt_polygons(wkt).map(|p| p.len()), Ok(2));
        let point = parse_wkt_polygons("GEOMETRYCOLLECTION (POINT (1 2))");
        assert!(point.is_err_and(|e| e.contains("POINT")));
    }

    #[test]
    fn errors_never_panic() {
        for bad in [
            "",
            "POLYGON",
            "POLYGON (",
            "POLYGON ((0 0, 1 0))",
            "POLYGON ((0 0, 1 0, 1 1)) trailing",
            "POLYGON ((0 0, 1 x, 1 1))",
            "POLYGON ((0 0, 1 1e999, 1 1))",
            "POLYGON ((0 0, 1 0, 1 1)",
            "POLYGON ((0 0, 1 0, 1 1),)",
            "MULTIPOLYGON ((0 0, 1 0, 1 1))",
            "POLYGON ((0 0, 1 0, 1 1 нет))",
            "SRID=4326",
            "ПОЛИГОН ((0 0, 1 0, 1 1))",
            "LINESTRING (0 0, 1 1)",
            &"GEOMETRYCOLLECTION (".repeat(100),
        ] {
            assert!(parse_wkt_polygons(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
