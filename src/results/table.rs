//! The attribute table's data: a layer's columns, a filter expression over attributes, and
//! the rows that pass it in a chosen order. Pure and synchronous; the UI runs
//! [`rows`] on a helper thread, so a million features never hold up a frame.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::ResultLayer;

/// The attribute names of a layer, in the order they first appear.
pub fn columns(layer: &ResultLayer) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in 0..layer.feature_count() {
        for key in layer.attributes(f).keys() {
            if !seen.contains(key.as_str()) {
                seen.insert(key.clone());
                out.push(key.clone());
            }
        }
    }
    out
}

/// What the table shows: the rows the filter keeps, sorted by a column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    /// The filter expression; empty keeps every row.
    pub filter: String,
    /// The column sorted by, and whether descending; `None` keeps the features' order.
    pub sort: Option<(String, bool)>,
    /// Only the features whose bbox meets this lon/lat bbox `[w, s, e, n]` (the map's view).
    pub within: Option<[f64; 4]>,
}

/// The rows of a [`Query`], with a summary of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    /// Feature indices, in table order.
    pub features: Vec<u32>,
    /// Total ground area of the rows' polygons, m².
    pub area_m2: f64,
    /// The mean of the rows' heights (`building_height`, else `height`), where they have one.
    pub mean_height: Option<f64>,
}

/// The height attributes the models write, first found first.
const HEIGHTS: [&str; 2] = ["building_height", "height"];

fn height(attributes: &Map<String, Value>) -> Option<f64> {
    HEIGHTS.iter().find_map(|k| match attributes.get(*k)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// The rows of `query` over `layer`, or why its filter cannot be read.
pub fn rows(layer: &ResultLayer, query: &Query) -> Result<Rows, String> {
    let filter = parse(&query.filter)?;
    let in_view = |f: usize| {
        query.within.is_none_or(|[w, s, e, n]| {
            layer.feature_bbox(f).is_some_and(|[fw, fs, fe, fn_]| fw <= e && fe >= w && fs <= n && fn_ >= s)
        })
    };
    let mut features: Vec<u32> = (0..layer.feature_count())
        .filter(|&f| in_view(f) && filter.as_ref().is_none_or(|e| e.matches(layer.attributes(f))))
        .map(|f| f as u32)
        .collect();
    if let Some((column, descending)) = &query.sort {
        let keys: Vec<Key> = features.iter().map(|&f| Key::of(layer.attributes(f as usize).get(column))).collect();
        let mut order: Vec<usize> = (0..features.len()).collect();
        order.sort_by(|&a, &b| {
            let o = keys[a].cmp(&keys[b]);
            // Empty cells stay last either way.
            let o = if *descending && !keys[a].is_null() && !keys[b].is_null() { o.reverse() } else { o };
            o.then(a.cmp(&b))
        });
        features = order.into_iter().map(|i| features[i]).collect();
    }
    let area_m2 = features.iter().map(|&f| layer.feature_area_m2(f as usize)).sum::<f64>() + 0.0;
    let heights: Vec<f64> = features.iter().filter_map(|&f| height(layer.attributes(f as usize))).collect();
    let mean_height = (!heights.is_empty()).then(|| heights.iter().sum::<f64>() / heights.len() as f64);
    Ok(Rows { features, area_m2, mean_height })
}

/// A cell as a sort key: numbers, then booleans, then text, then empty cells.
#[derive(Debug, PartialEq)]
enum Key {
    Number(f64),
    Bool(bool),
    Text(String),
    Null,
}

impl Key {
    fn of(value: Option<&Value>) -> Self {
        match value {
            None | Some(Value::Null) => Self::Null,
            Some(Value::Number(n)) => n.as_f64().map_or(Self::Null, Self::Number),
            Some(Value::Bool(b)) => Self::Bool(*b),
            Some(Value::String(s)) => s.parse::<f64>().map_or_else(|_| Self::Text(s.to_lowercase()), Self::Number),
            Some(other) => Self::Text(other.to_string()),
        }
    }

    fn is_null(&self) -> bool {
        *self == Self::Null
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Number(_) => 0,
            Self::Bool(_) => 1,
            Self::Text(_) => 2,
            Self::Null => 3,
        }
    }

    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Number(a), Self::Number(b)) => a.total_cmp(b),
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Text(a), Self::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

// ---- Filter expressions ----

/// `name op value`, joined by `and` (binding tighter) and `or`: `class_id = 101 and
/// building_height > 20`. Operators `=`, `==`, `!=`, `<>`, `<`, `<=`, `>`, `>=`; values are
/// numbers, `'quoted'` or `"quoted"` text, or bare words.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Compare { column: String, op: Op, value: Literal },
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    Op(Op),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '\'' || c == '"' {
            let end = chars[i + 1..].iter().position(|&d| d == c).ok_or_else(|| format!("unclosed {c}"))?;
            out.push(Token::Text(chars[i + 1..i + 1 + end].iter().collect()));
            i += end + 2;
        } else if "=!<>".contains(c) {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let (op, len) = match two.as_str() {
                "==" => (Op::Eq, 2),
                "!=" | "<>" => (Op::Ne, 2),
                "<=" => (Op::Le, 2),
                ">=" => (Op::Ge, 2),
                _ => match c {
                    '=' => (Op::Eq, 1),
                    '<' => (Op::Lt, 1),
                    '>' => (Op::Gt, 1),
                    _ => return Err("“!” must be followed by “=”".to_owned()),
                },
            };
            out.push(Token::Op(op));
            i += len;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"=!<>'\"".contains(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        }
    }
    Ok(out)
}

fn is_keyword(t: &Token, word: &str) -> bool {
    matches!(t, Token::Word(w) if w.eq_ignore_ascii_case(word))
}

/// Reads a filter; `None` for an empty one (every row).
pub fn parse(text: &str) -> Result<Option<Expr>, String> {
    let tokens = tokens(text)?;
    if tokens.is_empty() {
        return Ok(None);
    }
    let mut ors = Vec::new();
    for part in tokens.split(|t| is_keyword(t, "or")) {
        let mut ands = Vec::new();
        for clause in part.split(|t| is_keyword(t, "and")) {
            ands.push(comparison(clause)?);
        }
        ors.push(if ands.len() == 1 { ands.remove(0) } else { Expr::And(ands) });
    }
    Ok(Some(if ors.len() == 1 { ors.remove(0) } else { Expr::Or(ors) }))
}

fn comparison(clause: &[Token]) -> Result<Expr, String> {
    match clause {
        [Token::Word(column), Token::Op(op), value] => {
            let value = match value {
                Token::Word(w) => w.parse::<f64>().map_or_else(|_| Literal::Text(w.clone()), Literal::Number),
                Token::Text(t) => Literal::Text(t.clone()),
                Token::Op(_) => return Err(format!("a value is missing after {column}")),
            };
            Ok(Expr::Compare { column: column.clone(), op: *op, value })
        }
        [] => Err("a condition is missing around “and” or “or”".to_owned()),
        _ => Err("write conditions as: name = value, joined by “and” or “or”".to_owned()),
    }
}

impl Expr {
    /// Whether a feature's attributes pass.
    pub fn matches(&self, attributes: &Map<String, Value>) -> bool {
        match self {
            Self::And(all) => all.iter().all(|e| e.matches(attributes)),
            Self::Or(any) => any.iter().any(|e| e.matches(attributes)),
            Self::Compare { column, op, value } => {
                let Some(cell) = attributes.get(column).filter(|v| !v.is_null()) else { return *op == Op::Ne };
                let ordering = match (value, cell) {
                    (Literal::Number(n), Value::Number(c)) => c.as_f64().map(|c| c.total_cmp(n)),
                    (Literal::Number(n), Value::String(s)) => s.parse::<f64>().ok().map(|c| c.total_cmp(n)),
                    (Literal::Text(t), Value::String(s)) => Some(s.to_lowercase().cmp(&t.to_lowercase())),
                    (Literal::Text(t), other) => Some(other.to_string().cmp(t)),
                    (Literal::Number(_), _) => None,
                };
                match (ordering, op) {
                    (None, Op::Ne) => true,
                    (None, _) => false,
                    (Some(o), Op::Eq) => o == Ordering::Equal,
                    (Some(o), Op::Ne) => o != Ordering::Equal,
                    (Some(o), Op::Lt) => o == Ordering::Less,
                    (Some(o), Op::Le) => o != Ordering::Greater,
                    (Some(o), Op::Gt) => o == Ordering::Greater,
                    (Some(o), Op::Ge) => o != Ordering::Less,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn filters_read_and_match_as_written() {
        let e = parse("class_id = 101 and building_height > 20").unwrap().unwrap();
        assert!(e.matches(&attrs(json!({"class_id": 101, "building_height": 25.5}))));
        assert!(!e.matches(&attrs(json!({"class_id": 101, "building_height": 20}))));
        assert!(!e.matches(&attrs(json!({"class_id": 102, "building_height": 30}))));
        let e = parse("class_id == 'forest' OR height >= 10").unwrap().unwrap();
        assert!(e.matches(&attrs(json!({"class_id": "Forest"}))), "text compares without case");
        assert!(e.matches(&attrs(json!({"class_id": "x", "height": "10"}))), "numbers in text compare as numbers");
        assert!(!e.matches(&attrs(json!({"class_id": "x"}))));
        let e = parse("name != road").unwrap().unwrap();
        assert!(e.matches(&attrs(json!({"other": 1}))), "a missing value is not equal");
        assert_eq!(parse("  ").unwrap(), None);
        for bad in ["class_id", "class_id =", "a = 1 and", "a ! 1", "a = 'open"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rows_filter_and_sort_a_layer() {
        let fc = json!({"type": "FeatureCollection", "features": (0..6).map(|i| json!({
            "type": "Feature",
            "properties": if i == 5 { json!({"class_id": 101}) } else { json!({"class_id": 100 + i % 2, "h": (i * 7) % 5}) },
            "geometry": {"type": "Polygon", "coordinates": [[[37.0 + f64::from(i) * 0.01, 55.0], [37.005 + f64::from(i) * 0.01, 55.0],
                [37.005 + f64::from(i) * 0.01, 55.005], [37.0 + f64::from(i) * 0.01, 55.0]]]}
        })).collect::<Vec<_>>()});
        let layer = crate::results::load_result(&serde_json::to_vec(&fc).unwrap()).unwrap();
        assert_eq!(columns(&layer), ["class_id", "h"]);
        let all = rows(&layer, &Query::default()).unwrap();
        assert_eq!(all.features, [0, 1, 2, 3, 4, 5]);
        assert!(all.area_m2 > 0.0);
        assert_eq!(all.mean_height, None, "no height attribute");
        let q = Query { filter: "class_id = 101".into(), sort: Some(("h".into(), false)), within: None };
        // h of 1, 3 are 2, 1; feature 5 has no h and goes last.
        assert_eq!(rows(&layer, &q).unwrap().features, [3, 1, 5]);
        let q = Query { filter: String::new(), sort: Some(("h".into(), true)), within: None };
        // h: 0, 2, 4, 1, 3 for features 0..5; descending, the empty one still last.
        assert_eq!(rows(&layer, &q).unwrap().features, [2, 4, 1, 3, 0, 5]);
        assert!(rows(&layer, &Query { filter: "h >".into(), sort: None, within: None }).is_err());
        // Features 1 and 2 lie between 37.01 and 37.025.
        let q = Query { within: Some([37.012, 54.9, 37.022, 55.1]), ..Query::default() };
        assert_eq!(rows(&layer, &q).unwrap().features, [1, 2]);

        let features: Vec<Value> = [Some(10.0), Some(20.0), None]
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let height = h.map_or(json!("unknown"), |h| json!(h));
                let x = 37.0 + i as f64 * 0.01;
                let ring = json!([[[x, 55.0], [x + 0.001, 55.0], [x + 0.001, 55.001], [x, 55.0]]]);
                json!({"type": "Feature", "properties": {"building_height": height},
                       "geometry": {"type": "Polygon", "coordinates": ring}})
            })
            .collect();
        let tall = json!({"type": "FeatureCollection", "features": features});
        let layer = crate::results::load_result(&serde_json::to_vec(&tall).unwrap()).unwrap();
        assert_eq!(rows(&layer, &Query::default()).unwrap().mean_height, Some(15.0), "the unreadable one left out");
    }
}
