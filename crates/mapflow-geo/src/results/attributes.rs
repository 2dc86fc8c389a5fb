//! A layer's attributes stored by column: one typed vector per property name (integers,
//! reals, booleans, or interned text), so a million features cost a few bytes per cell
//! instead of a JSON map each.
//!
//! A column's type is inferred from its values: integers stay integers until a real comes,
//! text is interned (a class name repeated a million times is kept once), and a column whose
//! values disagree (numbers and text) keeps each cell's own type. Objects and arrays are kept
//! as their JSON text, as the QGIS plugin writes them. A missing property and `null` are the
//! same: an empty cell.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use serde_json::{Map, Value};

/// One cell, borrowed from its table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AttrValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    /// An object or array, as its JSON text.
    Json(&'a str),
}

impl<'a> AttrValue<'a> {
    pub fn is_null(self) -> bool {
        matches!(self, Self::Null)
    }

    /// The cell as a number: numbers, and text that reads as one.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Self::Int(n) => Some(n as f64),
            Self::Float(f) => Some(f),
            Self::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Text and numbers as text (what names a class); `None` for other cells.
    pub fn scalar_text(self) -> Option<std::borrow::Cow<'a, str>> {
        match self {
            Self::Text(s) => Some(std::borrow::Cow::Borrowed(s)),
            Self::Int(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            Self::Float(f) => Some(std::borrow::Cow::Owned(float_text(f))),
            _ => None,
        }
    }

    /// The cell as JSON.
    pub fn to_json(self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(b),
            Self::Int(n) => Value::from(n),
            Self::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Self::Text(s) => Value::String(s.to_owned()),
            Self::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned())),
        }
    }
}

/// As a table shows it: text as it is, numbers as JSON writes them, empty for null.
impl fmt::Display for AttrValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Null => Ok(()),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(n) => write!(f, "{n}"),
            Self::Float(x) => f.write_str(&float_text(x)),
            Self::Text(s) | Self::Json(s) => f.write_str(s),
        }
    }
}

/// A real as JSON writes it (`12.0`, `0.1`).
fn float_text(x: f64) -> String {
    serde_json::Number::from_f64(x).map_or_else(String::new, |n| n.to_string())
}

/// Interned texts: each distinct text kept once, in one buffer.
#[derive(Clone, Default)]
pub(crate) struct Texts {
    buffer: String,
    /// End offsets into `buffer`, by id.
    ends: Vec<u32>,
    ids: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl Texts {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn get(&self, id: u32) -> &str {
        text_at(&self.buffer, &self.ends, id)
    }

    /// The id of `text`, adding it when new.
    pub(crate) fn intern(&mut self, text: &str) -> u32 {
        let hash = self.hasher.hash_one(text);
        if let Some(&id) = self.ids.find(hash, |&id| text_at(&self.buffer, &self.ends, id) == text) {
            return id;
        }
        let id = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.buffer.push_str(text);
        self.ends.push(u32::try_from(self.buffer.len()).unwrap_or(u32::MAX));
        let (buffer, ends, hasher) = (&self.buffer, &self.ends, &self.hasher);
        self.ids.insert_unique(hash, id, |&id| hasher.hash_one(text_at(buffer, ends, id)));
        id
    }
}

/// Text `id` of a buffer of texts ending at `ends`; empty for an unknown id.
fn text_at<'a>(buffer: &'a str, ends: &[u32], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends.get(id - 1).copied().unwrap_or(0) as usize };
    let end = ends.get(id).copied().unwrap_or(0) as usize;
    buffer.get(start..end).unwrap_or("")
}

/// Null in an integer column.
const NULL_INT: i64 = i64::MIN;
/// Null in a text column.
const NULL_TEXT: u32 = u32::MAX;
/// Null in a boolean column.
const NULL_BOOL: u8 = 2;

/// A cell of a column whose values disagree in type.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(u32),
    Json(u32),
}

/// A column's values; nulls are `NULL_*`, NaN, or `Cell::Null`.
#[derive(Clone, Debug)]
enum Data {
    /// Only nulls so far (the length is the table's).
    Empty,
    Bool(Vec<u8>),
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<u32>),
    Mixed(Vec<Cell>),
}

/// The type of a column's values; `Mixed` when they disagree.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Bool,
    Int,
    Float,
    Text,
    Mixed,
}

impl Data {
    fn len(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::Bool(v) => v.len(),
            Self::Int(v) => v.len(),
            Self::Float(v) => v.len(),
            Self::Text(v) => v.len(),
            Self::Mixed(v) => v.len(),
        }
    }

    fn kind(&self) -> Option<Kind> {
        Some(match self {
            Self::Empty => return None,
            Self::Bool(_) => Kind::Bool,
            Self::Int(_) => Kind::Int,
            Self::Float(_) => Kind::Float,
            Self::Text(_) => Kind::Text,
            Self::Mixed(_) => Kind::Mixed,
        })
    }

    fn cell(&self, row: usize) -> Cell {
        match self {
            Self::Empty => Cell::Null,
            Self::Bool(v) => match v.get(row) {
                Some(&b) if b != NULL_BOOL => Cell::Bool(b == 1),
                _ => Cell::Null,
            },
            Self::Int(v) => match v.get(row) {
                Some(&n) if n != NULL_INT => Cell::Int(n),
                _ => Cell::Null,
            },
            Self::Float(v) => match v.get(row) {
                Some(&f) if !f.is_nan() => Cell::Float(f),
                _ => Cell::Null,
            },
            Self::Text(v) => match v.get(row) {
                Some(&t) if t != NULL_TEXT => Cell::Text(t),
                _ => Cell::Null,
            },
            Self::Mixed(v) => v.get(row).copied().unwrap_or(Cell::Null),
        }
    }

    /// Empty cells up to `len`.
    fn pad(&mut self, len: usize) {
        match self {
            Self::Empty => {}
            Self::Bool(v) => v.resize(len.max(v.len()), NULL_BOOL),
            Self::Int(v) => v.resize(len.max(v.len()), NULL_INT),
            Self::Float(v) => v.resize(len.max(v.len()), f64::NAN),
            Self::Text(v) => v.resize(len.max(v.len()), NULL_TEXT),
            Self::Mixed(v) => v.resize(len.max(v.len()), Cell::Null),
        }
    }

    fn truncate(&mut self, len: usize) {
        match self {
            Self::Empty => {}
            Self::Bool(v) => v.truncate(len),
            Self::Int(v) => v.truncate(len),
            Self::Float(v) => v.truncate(len),
            Self::Text(v) => v.truncate(len),
            Self::Mixed(v) => v.truncate(len),
        }
    }

    /// Changes the column to `kind` (a wider one), keeping its values.
    fn widen(&mut self, kind: Kind, rows: usize) {
        if self.kind() == Some(kind) {
            return;
        }
        let len = self.len();
        let cells: Vec<Cell> = (0..len).map(|row| self.cell(row)).collect();
        *self = match kind {
            Kind::Bool => Self::Bool(Vec::with_capacity(rows)),
            Kind::Int => Self::Int(Vec::with_capacity(rows)),
            Kind::Float => Self::Float(Vec::with_capacity(rows)),
            Kind::Text => Self::Text(Vec::with_capacity(rows)),
            Kind::Mixed => Self::Mixed(Vec::with_capacity(rows)),
        };
        for cell in cells {
            self.push_fitting(cell);
        }
    }

    /// Appends a cell the column's type holds (`Int` into a real column included).
    fn push_fitting(&mut self, cell: Cell) {
        match (self, cell) {
            (Self::Bool(v), Cell::Bool(b)) => v.push(u8::from(b)),
            (Self::Bool(v), _) => v.push(NULL_BOOL),
            (Self::Int(v), Cell::Int(n)) => v.push(n),
            (Self::Int(v), _) => v.push(NULL_INT),
            (Self::Float(v), Cell::Float(f)) => v.push(f),
            (Self::Float(v), Cell::Int(n)) => v.push(n as f64),
            (Self::Float(v), _) => v.push(f64::NAN),
            (Self::Text(v), Cell::Text(t)) => v.push(t),
            (Self::Text(v), _) => v.push(NULL_TEXT),
            (Self::Mixed(v), cell) => v.push(cell),
            (Self::Empty, _) => {}
        }
    }
}

/// The kind a cell needs, alone.
fn kind_of(cell: Cell) -> Option<Kind> {
    match cell {
        Cell::Null => None,
        Cell::Bool(_) => Some(Kind::Bool),
        Cell::Int(n) if n == NULL_INT => Some(Kind::Mixed),
        Cell::Int(_) => Some(Kind::Int),
        Cell::Float(_) => Some(Kind::Float),
        Cell::Text(_) => Some(Kind::Text),
        Cell::Json(_) => Some(Kind::Mixed),
    }
}

/// The kind that holds both.
fn wider(a: Kind, b: Kind) -> Kind {
    match (a, b) {
        _ if a == b => a,
        (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
        _ => Kind::Mixed,
    }
}

#[derive(Clone, Debug)]
struct Column {
    name: Box<str>,
    data: Data,
}

/// The attributes of a layer's features, by column; row `n` is feature `n`.
#[derive(Clone, Default)]
pub struct Attributes {
    columns: Vec<Column>,
    by_name: std::collections::HashMap<Box<str>, usize>,
    texts: Texts,
    rows: usize,
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attributes")
            .field("rows", &self.rows)
            .field("columns", &self.columns.iter().map(|c| &*c.name).collect::<Vec<_>>())
            .field("texts", &self.texts.len())
            .finish()
    }
}

impl Attributes {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Column names, in the order they first appear.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| &*c.name)
    }

    /// The index of a column.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// One cell by column index.
    pub fn value(&self, column: usize, row: usize) -> AttrValue<'_> {
        let Some(c) = self.columns.get(column) else { return AttrValue::Null };
        if row >= self.rows {
            return AttrValue::Null;
        }
        self.resolve(c.data.cell(row))
    }

    /// The type of a column; `None` when it holds only empty cells.
    pub fn column_kind(&self, column: usize) -> Option<Kind> {
        self.columns.get(column)?.data.kind()
    }

    /// One cell by column name.
    pub fn get(&self, row: usize, name: &str) -> AttrValue<'_> {
        self.column_index(name).map_or(AttrValue::Null, |c| self.value(c, row))
    }

    fn resolve(&self, cell: Cell) -> AttrValue<'_> {
        match cell {
            Cell::Null => AttrValue::Null,
            Cell::Bool(b) => AttrValue::Bool(b),
            Cell::Int(n) => AttrValue::Int(n),
            Cell::Float(f) => AttrValue::Float(f),
            Cell::Text(t) => AttrValue::Text(self.texts.get(t)),
            Cell::Json(t) => AttrValue::Json(self.texts.get(t)),
        }
    }

    /// A text column's interned id of a cell, for sorting by text once per distinct value:
    /// `Some(id)` for a text cell.
    pub(crate) fn text_id(&self, column: usize, row: usize) -> Option<u32> {
        match self.columns.get(column)?.data.cell(row) {
            Cell::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The interned texts (ids as [`Self::text_id`] gives them).
    pub(crate) fn texts(&self) -> &Texts {
        &self.texts
    }

    /// A row, to read cells by name.
    pub fn row(&self, row: usize) -> Row<'_> {
        Row { table: self, row }
    }

    /// Bytes held, roughly: for memory reports.
    pub fn heap_bytes(&self) -> usize {
        let data: usize = self
            .columns
            .iter()
            .map(|c| match &c.data {
                Data::Empty => 0,
                Data::Bool(v) => v.capacity(),
                Data::Int(v) => v.capacity() * 8,
                Data::Float(v) => v.capacity() * 8,
                Data::Text(v) => v.capacity() * 4,
                Data::Mixed(v) => v.capacity() * std::mem::size_of::<Cell>(),
            })
            .sum();
        data + self.texts.buffer.capacity() + self.texts.ends.capacity() * 4 + self.texts.ids.capacity() * 4
    }

    // ---- Building ----

    /// Starts a new row (all empty).
    pub(crate) fn push_row(&mut self) {
        self.rows += 1;
    }

    /// Drops the last row (a feature that turned out to have no drawable geometry).
    pub(crate) fn pop_row(&mut self) {
        if self.rows == 0 {
            return;
        }
        self.rows -= 1;
        for c in &mut self.columns {
            c.data.truncate(self.rows);
        }
    }

    /// The index of a column, added when new.
    pub(crate) fn column_for(&mut self, name: &str) -> usize {
        if let Some(&c) = self.by_name.get(name) {
            return c;
        }
        let c = self.columns.len();
        self.columns.push(Column { name: name.into(), data: Data::Empty });
        self.by_name.insert(name.into(), c);
        c
    }

    /// Sets a cell of the last row.
    fn set(&mut self, column: usize, cell: Cell) {
        let Some(row) = self.rows.checked_sub(1) else { return };
        let rows = self.rows;
        let Some(c) = self.columns.get_mut(column) else { return };
        let Some(kind) = kind_of(cell) else {
            if c.data.len() > row {
                c.data.truncate(row);
                c.data.pad(row + 1);
            }
            return;
        };
        match c.data.kind() {
            None => c.data.widen(kind, rows),
            Some(have) if wider(have, kind) != have => c.data.widen(wider(have, kind), rows),
            Some(_) => {}
        }
        c.data.truncate(row);
        c.data.pad(row);
        c.data.push_fitting(cell);
    }

    pub(crate) fn set_null(&mut self, column: usize) {
        self.set(column, Cell::Null);
    }

    pub(crate) fn set_bool(&mut self, column: usize, value: bool) {
        self.set(column, Cell::Bool(value));
    }

    pub(crate) fn set_int(&mut self, column: usize, value: i64) {
        self.set(column, Cell::Int(value));
    }

    pub(crate) fn set_float(&mut self, column: usize, value: f64) {
        if value.is_finite() {
            self.set(column, Cell::Float(value));
        } else {
            self.set(column, Cell::Null);
        }
    }

    pub(crate) fn set_text(&mut self, column: usize, value: &str) {
        let id = self.texts.intern(value);
        self.set(column, Cell::Text(id));
    }

    /// An object or array, kept as its JSON text.
    pub(crate) fn set_json(&mut self, column: usize, json: &str) {
        let id = self.texts.intern(json);
        self.set(column, Cell::Json(id));
    }

    /// Sets a cell of the last row from a JSON value.
    pub(crate) fn set_value(&mut self, column: usize, value: &Value) {
        match value {
            Value::Null => self.set_null(column),
            Value::Bool(b) => self.set_bool(column, *b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => self.set_int(column, i),
                None => self.set_float(column, n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => self.set_text(column, s),
            other => self.set_json(column, &other.to_string()),
        }
    }

    /// Appends a row of these properties.
    pub fn push_properties(&mut self, properties: &Map<String, Value>) {
        self.push_row();
        for (key, value) in properties {
            let c = self.column_for(key);
            self.set_value(c, value);
        }
    }

    /// Keeps only the rows `keep` says yes to.
    pub(crate) fn retain_rows(&mut self, keep: &[bool]) {
        fn retain<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            let mut row = 0;
            v.retain(|_| {
                let k = keep.get(row).copied().unwrap_or(false);
                row += 1;
                k
            });
        }
        for c in &mut self.columns {
            match &mut c.data {
                Data::Empty => {}
                Data::Bool(v) => retain(v, keep),
                Data::Int(v) => retain(v, keep),
                Data::Float(v) => retain(v, keep),
                Data::Text(v) => retain(v, keep),
                Data::Mixed(v) => retain(v, keep),
            }
        }
        self.rows = keep.iter().take(self.rows).filter(|&&k| k).count();
    }

    /// Appends the rows of `other` below these, columns matched by name.
    pub(crate) fn append(&mut self, other: Self) {
        let base = self.rows;
        let total = base + other.rows;
        let mut remap: Vec<u32> = vec![NULL_TEXT; other.texts.len()];
        for column in other.columns {
            let c = self.column_for(&column.name);
            let mine = &mut self.columns[c].data;
            let kind = match (mine.kind(), column.data.kind()) {
                (_, None) => continue,
                (None, Some(k)) => k,
                (Some(a), Some(b)) => wider(a, b),
            };
            mine.widen(kind, total);
            mine.pad(base);
            let texts = &mut self.texts;
            let mut text = |t: u32| {
                let slot = &mut remap[t as usize];
                if *slot == NULL_TEXT {
                    *slot = texts.intern(other.texts.get(t));
                }
                *slot
            };
            match (mine, column.data) {
                (Data::Int(v), Data::Int(o)) => v.extend_from_slice(&o),
                (Data::Float(v), Data::Float(o)) => v.extend_from_slice(&o),
                (Data::Bool(v), Data::Bool(o)) => v.extend_from_slice(&o),
                (Data::Text(v), Data::Text(o)) => {
                    v.extend(o.iter().map(|&t| if t == NULL_TEXT { NULL_TEXT } else { text(t) }));
                }
                (mine, data) => {
                    for row in 0..data.len() {
                        let cell = match data.cell(row) {
                            Cell::Text(t) => Cell::Text(text(t)),
                            Cell::Json(t) => Cell::Json(text(t)),
                            cell => cell,
                        };
                        mine.push_fitting(cell);
                    }
                }
            }
        }
        self.rows = total;
        for c in &mut self.columns {
            c.data.truncate(total);
        }
    }

    /// Pads every column to the number of rows (after building).
    pub(crate) fn finish(&mut self) {
        let rows = self.rows;
        for c in &mut self.columns {
            c.data.pad(rows);
            match &mut c.data {
                Data::Empty => {}
                Data::Bool(v) => v.shrink_to_fit(),
                Data::Int(v) => v.shrink_to_fit(),
                Data::Float(v) => v.shrink_to_fit(),
                Data::Text(v) => v.shrink_to_fit(),
                Data::Mixed(v) => v.shrink_to_fit(),
            }
        }
    }
}

/// One row of an [`Attributes`] table.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    table: &'a Attributes,
    row: usize,
}

impl<'a> Row<'a> {
    /// The cell of `name`; [`AttrValue::Null`] when empty or unknown.
    pub fn get(&self, name: &str) -> AttrValue<'a> {
        self.table.get(self.row, name)
    }

    /// The non-empty cells, in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, AttrValue<'a>)> + use<'a> {
        let (table, row) = (self.table, self.row);
        table
            .columns
            .iter()
            .enumerate()
            .map(move |(c, column)| (&*column.name, table.value(c, row)))
            .filter(|(_, v)| !v.is_null())
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The row as GeoJSON `properties`.
    pub fn to_json(&self) -> Map<String, Value> {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_json())).collect()
    }
}

impl fmt::Debug for Row<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(rows: &[Value]) -> Attributes {
        let mut t = Attributes::default();
        for r in rows {
            t.push_properties(r.as_object().unwrap());
        }
        t.finish();
        t
    }

    #[test]
    fn types_are_inferred_and_widened() {
        let t = table(&[
            json!({"id": 1, "h": 3, "name": "a", "ok": true}),
            json!({"id": 2, "h": 4.5, "name": "b", "mix": 1}),
            json!({"id": 3, "name": "a", "mix": "x", "obj": {"k": [1]}}),
        ]);
        assert_eq!(t.rows(), 3);
        // serde_json's maps list keys in order; a parsed file keeps the file's order.
        assert_eq!(t.names().collect::<Vec<_>>(), ["h", "id", "name", "ok", "mix", "obj"]);
        assert_eq!(t.get(0, "h"), AttrValue::Float(3.0), "the integer became a real with the column");
        assert_eq!(t.get(1, "h"), AttrValue::Float(4.5));
        assert_eq!(t.get(2, "h"), AttrValue::Null);
        assert_eq!(t.get(2, "id"), AttrValue::Int(3));
        assert_eq!(t.get(2, "name"), AttrValue::Text("a"));
        assert_eq!(t.texts().len(), 4, "a, b, x and the object's JSON, each once");
        assert_eq!(t.get(1, "mix"), AttrValue::Int(1));
        assert_eq!(t.get(2, "mix"), AttrValue::Text("x"));
        assert_eq!(t.get(2, "obj"), AttrValue::Json(r#"{"k":[1]}"#));
        assert_eq!(t.row(2).get("obj").to_json(), json!({"k": [1]}));
        assert_eq!(t.get(1, "ok"), AttrValue::Null);
        assert_eq!(t.get(9, "id"), AttrValue::Null);
        assert_eq!(t.get(0, "nope"), AttrValue::Null);
        assert_eq!(Value::Object(t.row(0).to_json()), json!({"id": 1, "h": 3.0, "name": "a", "ok": true}));
    }

    #[test]
    fn rows_can_be_dropped_and_tables_appended() {
        let mut a = Attributes::default();
        a.push_properties(json!({"id": 1, "s": "x"}).as_object().unwrap());
        a.push_properties(json!({"id": 2, "s": "gone"}).as_object().unwrap());
        a.pop_row();
        let mut b = Attributes::default();
        b.push_properties(json!({"s": "y", "id": 2.5}).as_object().unwrap());
        b.push_properties(json!({"other": "x", "s": null}).as_object().unwrap());
        b.push_properties(json!({"id": 4}).as_object().unwrap());
        b.retain_rows(&[true, true, false]);
        a.append(b);
        a.finish();
        assert_eq!(a.rows(), 3);
        let ids: Vec<AttrValue> = (0..3).map(|r| a.get(r, "id")).collect();
        assert_eq!(ids, [AttrValue::Float(1.0), AttrValue::Float(2.5), AttrValue::Null]);
        let s: Vec<AttrValue> = (0..3).map(|r| a.get(r, "s")).collect();
        assert_eq!(s, [AttrValue::Text("x"), AttrValue::Text("y"), AttrValue::Null]);
        assert_eq!(a.get(2, "other"), AttrValue::Text("x"));
        assert_eq!(a.get(0, "other"), AttrValue::Null);
    }

    #[test]
    fn edge_values_keep_their_meaning() {
        let t = table(&[json!({"n": i64::MIN}), json!({"n": 5}), json!({"n": u64::MAX})]);
        assert_eq!(t.get(0, "n"), AttrValue::Int(i64::MIN), "the null marker itself is kept as a value");
        assert_eq!(t.get(1, "n"), AttrValue::Int(5));
        assert_eq!(t.get(2, "n"), AttrValue::Float(u64::MAX as f64));
        assert_eq!(AttrValue::Float(12.0).to_string(), "12.0");
        assert_eq!(AttrValue::Text(" 7 ").as_f64(), Some(7.0));
    }
}
