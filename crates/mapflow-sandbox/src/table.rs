//! [`Table`]: a list of records that remembers which of them changed, so the store
//! writes only those (see [`super::store`]).
//!
//! Every way of changing a table goes through a method that notes the record's id: the
//! rows themselves are private. A read never notes anything.

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A record with a stable id, its key in the store.
pub(crate) trait Row {
    fn id(&self) -> &str;
}

/// Records in the order they were added, with the ids changed since the last save.
#[derive(Debug, Clone)]
pub(crate) struct Table<T> {
    rows: Vec<T>,
    changed: Changed,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self { rows: Vec::new(), changed: Changed::default() }
    }
}

/// Ids in the order they first changed, so new records reach the store in the order they
/// were added (their place there).
#[derive(Debug, Clone, Default)]
pub(crate) struct Changed {
    order: Vec<String>,
    seen: HashSet<String>,
}

impl Changed {
    fn insert(&mut self, id: String) {
        if self.seen.insert(id.clone()) {
            self.order.push(id);
        }
    }

    fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        ids.into_iter().for_each(|id| self.insert(id));
    }

    fn clear(&mut self) {
        self.order.clear();
        self.seen.clear();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, String> {
        self.order.iter()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

impl<'a> IntoIterator for &'a Changed {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Row> Table<T> {
    /// A table of rows read from the store: nothing to save yet.
    pub fn loaded(rows: Vec<T>) -> Self {
        Self { rows, changed: Changed::default() }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.rows.iter()
    }

    /// The record with this id.
    pub fn get(&self, id: &str) -> Option<&T> {
        self.rows.iter().find(|r| r.id() == id)
    }

    /// The record with this id, to change it (noted as changed).
    pub fn get_mut(&mut self, id: &str) -> Option<&mut T> {
        let row = self.rows.iter_mut().find(|r| r.id() == id)?;
        self.changed.insert(row.id().to_owned());
        Some(row)
    }

    /// Adds a record at the end.
    pub fn push(&mut self, row: T) {
        self.changed.insert(row.id().to_owned());
        self.rows.push(row);
    }

    /// Removes the record with this id and returns it.
    pub fn remove(&mut self, id: &str) -> Option<T> {
        let index = self.rows.iter().position(|r| r.id() == id)?;
        self.changed.insert(id.to_owned());
        Some(self.rows.remove(index))
    }

    /// Keeps only the records `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let changed = &mut self.changed;
        self.rows.retain(|r| {
            let kept = keep(r);
            if !kept {
                changed.insert(r.id().to_owned());
            }
            kept
        });
    }

    /// Calls `f` on every record; those it returns `true` for are noted as changed.
    pub fn update_each(&mut self, mut f: impl FnMut(&mut T) -> bool) {
        for row in &mut self.rows {
            if f(row) {
                self.changed.insert(row.id().to_owned());
            }
        }
    }

    /// Notes every record as changed (a state not read from the store), in row order, so
    /// they reach the store in the order they are in.
    pub fn mark_all(&mut self) {
        self.changed.clear();
        self.changed.extend(self.rows.iter().map(|r| r.id().to_owned()));
    }

    /// The ids changed since the last [`Self::saved`].
    pub fn changed(&self) -> &Changed {
        &self.changed
    }

    /// Forgets the changes, once the store holds them.
    pub fn saved(&mut self) {
        self.changed.clear();
    }
}

impl<T> std::ops::Index<usize> for Table<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        &self.rows[index]
    }
}

impl<'a, T: Row> IntoIterator for &'a Table<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: Serialize> Serialize for Table<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.rows.serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self { rows: Vec::deserialize(deserializer)?, changed: Changed::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct R(String, u32);
    impl Row for R {
        fn id(&self) -> &str {
            &self.0
        }
    }

    fn ids(t: &Table<R>) -> Vec<&str> {
        t.changed().iter().map(String::as_str).collect()
    }

    #[test]
    fn only_what_changed_is_noted() {
        let mut t = Table::loaded(vec![R("a".into(), 1), R("b".into(), 2), R("c".into(), 3)]);
        assert!(t.changed().is_empty());
        assert_eq!(t.get("b").map(|r| r.1), Some(2));
        assert!(t.changed().is_empty(), "reads note nothing");
        t.get_mut("b").unwrap().1 = 20;
        t.push(R("d".into(), 4));
        assert_eq!(ids(&t), ["b", "d"]);
        t.saved();
        assert_eq!(t.remove("a").map(|r| r.1), Some(1));
        t.retain(|r| r.1 != 3);
        assert_eq!(ids(&t), ["a", "c"]);
        t.saved();
        t.push(R("z".into(), 9));
        t.push(R("e".into(), 5));
        t.get_mut("z").unwrap().1 = 10;
        assert_eq!(ids(&t), ["z", "e"], "in the order of the first change");
        t.remove("z");
        t.remove("e");
        assert_eq!(t.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["b", "d"]);
        t.saved();
        t.update_each(|r| {
            r.1 += 1;
            r.0 == "d"
        });
        assert_eq!(ids(&t), ["d"]);
        assert!(t.get_mut("zz").is_none() && t.remove("zz").is_none());
        assert_eq!(ids(&t), ["d"], "a missing id notes nothing");
    }
}
