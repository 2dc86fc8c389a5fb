//! The attribute table's data: a layer's columns, a filter expression over attributes, and
//! the rows that pass it in a chosen order, with summaries of them (all, and by class). Pure
//! and synchronous; the UI runs [`rows`] on a helper thread, so a million features never
//! hold up a frame.

use std::cmp::Ordering;

use super::ResultLayer;
use super::attributes::{AttrValue, Attributes, Row};

/// The attribute names of a layer, in the order they first appear.
pub fn columns(layer: &ResultLayer) -> Vec<String> {
    layer.attribute_table().names().map(str::to_owned).collect()
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

/// Count, area and height of some features.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub count: usize,
    /// Total ground area of the polygons, m².
    pub area_m2: f64,
    /// The mean of the heights (`building_height`, else `height`), where there are any.
    pub mean_height: Option<f64>,
}

impl Summary {
    /// The mean area of a feature, m²; `None` without features.
    pub fn mean_area_m2(&self) -> Option<f64> {
        (self.count > 0).then(|| self.area_m2 / self.count as f64)
    }
}

/// The rows of a [`Query`], with a summary of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Rows {
    /// Feature indices, in table order.
    pub features: Vec<u32>,
    /// All the rows.
    pub total: Summary,
    /// The rows by class: legend index and its summary, in legend order, classes with rows only.
    pub by_class: Vec<(usize, Summary)>,
}

/// Some features of a layer: sorted, with a bit per feature for quick membership tests.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeatureSet {
    sorted: Vec<u32>,
    bits: Vec<u64>,
}

impl FeatureSet {
    pub fn new(features: impl IntoIterator<Item = u32>) -> Self {
        let mut sorted: Vec<u32> = features.into_iter().collect();
        sorted.sort_unstable();
        sorted.dedup();
        let words = sorted.last().map_or(0, |&last| last as usize / 64 + 1);
        let mut bits = vec![0u64; words];
        for &f in &sorted {
            bits[f as usize / 64] |= 1 << (f % 64);
        }
        Self { sorted, bits }
    }

    pub fn contains(&self, feature: usize) -> bool {
        self.bits.get(feature / 64).is_some_and(|word| word & (1 << (feature % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The features, ascending.
    pub fn as_slice(&self) -> &[u32] {
        &self.sorted
    }

    /// The set with `feature` added, or taken out when it was in.
    pub fn toggled(&self, feature: u32) -> Self {
        if self.contains(feature as usize) {
            Self::new(self.sorted.iter().copied().filter(|&f| f != feature))
        } else {
            Self::new(self.sorted.iter().copied().chain([feature]))
        }
    }

    /// Lon/lat bounds `[w, s, e, n]` of the features in `layer`.
    pub fn bbox(&self, layer: &ResultLayer) -> Option<[f64; 4]> {
        self.sorted
            .iter()
            .filter_map(|&f| layer.feature_bbox(f as usize))
            .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
    }
}

/// A layer and some of its features, to be written out (equal when they are the same ones).
#[derive(Clone)]
pub struct SelectedFeatures {
    pub layer: std::sync::Arc<ResultLayer>,
    pub features: std::sync::Arc<FeatureSet>,
}

impl PartialEq for SelectedFeatures {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&self.layer, &other.layer) && std::sync::Arc::ptr_eq(&self.features, &other.features)
    }
}

impl std::fmt::Debug for SelectedFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} features", self.features.len(), self.layer.feature_count())
    }
}

/// The height attributes the models write, first found first.
const HEIGHTS: [&str; 2] = ["building_height", "height"];

/// Adds features up: count, area, and heights.
struct Tally {
    count: usize,
    area_m2: f64,
    heights: f64,
    with_height: usize,
}

impl Tally {
    const ZERO: Self = Self { count: 0, area_m2: 0.0, heights: 0.0, with_height: 0 };

    fn add(&mut self, area_m2: f64, height: Option<f64>) {
        self.count += 1;
        self.area_m2 += area_m2;
        if let Some(h) = height {
            self.heights += h;
            self.with_height += 1;
        }
    }

    fn summary(&self) -> Summary {
        Summary {
            count: self.count,
            // An empty sum of floats is -0.0.
            area_m2: self.area_m2 + 0.0,
            mean_height: (self.with_height > 0).then(|| self.heights / self.with_height as f64),
        }
    }
}

/// Summaries of `features`: all of them, and by class (legend index, in legend order).
pub fn summarize(layer: &ResultLayer, features: &[u32]) -> (Summary, Vec<(usize, Summary)>) {
    let table = layer.attribute_table();
    let heights: Vec<usize> = HEIGHTS.iter().filter_map(|k| table.column_index(k)).collect();
    let height = |f: usize| heights.iter().find_map(|&c| table.value(c, f).as_f64().filter(|h| h.is_finite()));
    let mut total = Tally::ZERO;
    let mut by_class: Vec<Tally> = (0..layer.legend().len()).map(|_| Tally::ZERO).collect();
    for &f in features {
        let f = f as usize;
        let (area, h) = (layer.feature_area_m2(f), height(f));
        total.add(area, h);
        if let Some(tally) = layer.class_index(f).and_then(|c| by_class.get_mut(c)) {
            tally.add(area, h);
        }
    }
    let by_class = by_class.iter().enumerate().filter(|(_, t)| t.count > 0).map(|(c, t)| (c, t.summary())).collect();
    (total.summary(), by_class)
}

/// The rows of `query` over `layer`, or why its filter cannot be read.
pub fn rows(layer: &ResultLayer, query: &Query) -> Result<Rows, String> {
    let filter = parse(&query.filter)?;
    let table = layer.attribute_table();
    let compiled = filter.as_ref().map(|e| Compiled::new(e, table));
    let in_view = |f: usize| {
        query.within.is_none_or(|[w, s, e, n]| {
            layer.feature_bbox(f).is_some_and(|[fw, fs, fe, fn_]| fw <= e && fe >= w && fs <= n && fn_ >= s)
        })
    };
    let mut features: Vec<u32> = (0..layer.feature_count())
        .filter(|&f| in_view(f) && compiled.as_ref().is_none_or(|e| e.matches(table, f)))
        .map(|f| f as u32)
        .collect();
    if let Some((column, descending)) = &query.sort {
        sort(table, &mut features, column, *descending);
    }
    let (total, by_class) = summarize(layer, &features);
    Ok(Rows { features, total, by_class })
}

/// Sorts rows by a column: numbers (and text that reads as one), then booleans, then text
/// (without case), then empty cells, which stay last either way; ties keep their order.
fn sort(table: &Attributes, features: &mut [u32], column: &str, descending: bool) {
    let Some(c) = table.column_index(column) else { return };
    // Each distinct text is ranked once: as its number, or by its place among the texts.
    let mut text_keys: std::collections::HashMap<u32, (u8, f64)> = std::collections::HashMap::new();
    let mut words: Vec<(String, u32)> = Vec::new();
    for &f in features.iter() {
        if let Some(id) = table.text_id(c, f as usize)
            && let std::collections::hash_map::Entry::Vacant(slot) = text_keys.entry(id)
        {
            let text = table.texts().get(id);
            match text.parse::<f64>() {
                Ok(n) => {
                    slot.insert((0, n));
                }
                Err(_) => {
                    slot.insert((2, 0.0));
                    words.push((text.to_lowercase(), id));
                }
            }
        }
    }
    words.sort();
    for (place, (_, id)) in words.iter().enumerate() {
        text_keys.insert(*id, (2, place as f64));
    }
    let key = |f: u32| -> (u8, f64) {
        let f = f as usize;
        if let Some(id) = table.text_id(c, f) {
            return text_keys.get(&id).copied().unwrap_or((3, 0.0));
        }
        match table.value(c, f) {
            AttrValue::Int(n) => (0, n as f64),
            AttrValue::Float(x) => (0, x),
            AttrValue::Bool(b) => (1, f64::from(u8::from(b))),
            // Objects and arrays sort among the texts, after them.
            AttrValue::Json(_) | AttrValue::Text(_) => (2, f64::MAX),
            AttrValue::Null => (3, 0.0),
        }
    };
    // Grouped by kind, each group sorted by its values as integers that order like them.
    let mut groups: [Vec<(u64, u32)>; 4] = Default::default();
    for &f in features.iter() {
        let (rank, value) = key(f);
        let bits = value.to_bits();
        let ordered = if bits >> 63 == 1 { !bits } else { bits | (1 << 63) };
        groups[usize::from(rank.min(3))].push((if descending && rank != 3 { !ordered } else { ordered }, f));
    }
    let mut at = 0;
    for group in &mut groups {
        group.sort_unstable();
        for &(_, f) in group.iter() {
            features[at] = f;
            at += 1;
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

/// Whether `cell` compares to `value` as `op` says.
fn compare(cell: AttrValue<'_>, op: Op, value: &Literal) -> bool {
    if cell.is_null() {
        return op == Op::Ne;
    }
    let ordering = match (value, cell) {
        (Literal::Number(n), AttrValue::Int(c)) => Some((c as f64).total_cmp(n)),
        (Literal::Number(n), AttrValue::Float(c)) => Some(c.total_cmp(n)),
        (Literal::Number(n), AttrValue::Text(s)) => s.parse::<f64>().ok().map(|c| c.total_cmp(n)),
        (Literal::Text(t), AttrValue::Text(s)) => Some(s.to_lowercase().cmp(&t.to_lowercase())),
        (Literal::Text(t), other) => Some(other.to_string().as_str().cmp(t.as_str())),
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

impl Expr {
    /// Whether a feature's attributes pass.
    pub fn matches(&self, row: Row<'_>) -> bool {
        match self {
            Self::And(all) => all.iter().all(|e| e.matches(row)),
            Self::Or(any) => any.iter().any(|e| e.matches(row)),
            Self::Compare { column, op, value } => compare(row.get(column), *op, value),
        }
    }
}

/// An expression with its columns looked up once, for a table of many rows.
enum Compiled<'e> {
    Compare { column: Option<usize>, op: Op, value: &'e Literal },
    And(Vec<Compiled<'e>>),
    Or(Vec<Compiled<'e>>),
}

impl<'e> Compiled<'e> {
    fn new(expr: &'e Expr, table: &Attributes) -> Self {
        match expr {
            Expr::Compare { column, op, value } => Self::Compare { column: table.column_index(column), op: *op, value },
            Expr::And(all) => Self::And(all.iter().map(|e| Self::new(e, table)).collect()),
            Expr::Or(any) => Self::Or(any.iter().map(|e| Self::new(e, table)).collect()),
        }
    }

    fn matches(&self, table: &Attributes, row: usize) -> bool {
        match self {
            Self::And(all) => all.iter().all(|e| e.matches(table, row)),
            Self::Or(any) => any.iter().any(|e| e.matches(table, row)),
            Self::Compare { column, op, value } => {
                let cell = column.map_or(AttrValue::Null, |c| table.value(c, row));
                compare(cell, *op, value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn matches(e: &Expr, v: Value) -> bool {
        let mut t = Attributes::default();
        t.push_properties(v.as_object().unwrap());
        t.finish();
        let by_name = e.matches(t.row(0));
        assert_eq!(by_name, Compiled::new(e, &t).matches(&t, 0), "both ways agree");
        by_name
    }

    #[test]
    fn filters_read_and_match_as_written() {
        let e = parse("class_id = 101 and building_height > 20").unwrap().unwrap();
        assert!(matches(&e, json!({"class_id": 101, "building_height": 25.5})));
        assert!(!matches(&e, json!({"class_id": 101, "building_height": 20})));
        assert!(!matches(&e, json!({"class_id": 102, "building_height": 30})));
        let e = parse("class_id == 'forest' OR height >= 10").unwrap().unwrap();
        assert!(matches(&e, json!({"class_id": "Forest"})), "text compares without case");
        assert!(matches(&e, json!({"class_id": "x", "height": "10"})), "numbers in text compare as numbers");
        assert!(!matches(&e, json!({"class_id": "x"})));
        let e = parse("name != road").unwrap().unwrap();
        assert!(matches(&e, json!({"other": 1})), "a missing value is not equal");
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
        assert!(all.total.area_m2 > 0.0);
        assert_eq!(all.total.count, 6);
        assert_eq!(all.total.mean_height, None, "no height attribute");
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
        assert_eq!(
            rows(&layer, &Query::default()).unwrap().total.mean_height,
            Some(15.0),
            "the unreadable one left out"
        );
    }
}
