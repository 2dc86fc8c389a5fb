//! Streaming parse of a result FeatureCollection into flat coordinate buffers.
//!
//! `serde_json::Value` would allocate a node per coordinate, and the geojson crate a `Vec` per
//! position; here coordinates go straight into one `Vec<[f64; 2]>` per chunk of features, with
//! the nesting (rings, polygons) recorded as end offsets. Complete chunks are handed to a sink
//! while parsing goes on, so that they can be prepared on other threads meanwhile.
//!
//! Parsing is lenient below the collection: a feature with null, malformed or unsupported
//! geometry is skipped and counted, and odd `properties` become an empty map. Only broken JSON,
//! or JSON that is not a FeatureCollection, is an error.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::attributes::Attributes;

/// Geometry types drawn from a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GeomKind {
    Polygon,
    MultiPolygon,
    LineString,
    MultiLineString,
}

impl GeomKind {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "Polygon" => Some(Self::Polygon),
            "MultiPolygon" => Some(Self::MultiPolygon),
            "LineString" => Some(Self::LineString),
            "MultiLineString" => Some(Self::MultiLineString),
            _ => None,
        }
    }

    /// Nesting depth of the `coordinates` array: a position is 1.
    fn depth(self) -> u8 {
        match self {
            Self::LineString => 2,
            Self::Polygon | Self::MultiLineString => 3,
            Self::MultiPolygon => 4,
        }
    }

    pub(crate) fn is_line(self) -> bool {
        matches!(self, Self::LineString | Self::MultiLineString)
    }
}

/// One parsed feature: its geometry as ranges of the chunk's buffers.
#[derive(Debug)]
pub(crate) struct ParsedFeature {
    pub kind: GeomKind,
    /// Where the feature starts in `points`, `ends[0]`, `ends[1]` and `ends[2]`.
    pub start: [u32; 4],
    /// Where it ends in the same buffers.
    pub end: [u32; 4],
}

/// Features parsed in a row, with their coordinates in shared buffers.
#[derive(Debug, Default)]
pub(crate) struct ParsedChunk {
    /// Position of the chunk in the file, to put prepared chunks back in order.
    pub index: usize,
    /// Lon/lat of every position.
    pub points: Vec<[f64; 2]>,
    /// End offsets of nested arrays: `ends[0]` of arrays of positions (rings, lines) into
    /// `points`, `ends[1]` of arrays of those (polygons) into `ends[0]`, `ends[2]` of arrays of
    /// polygons into `ends[1]`.
    pub ends: [Vec<u32>; 3],
    pub features: Vec<ParsedFeature>,
    /// The features' `properties`, a row each.
    pub attributes: Attributes,
    /// Lon/lat of the first position in the file, the origin of the layer's local coordinates.
    pub origin: Option<[f64; 2]>,
}

impl ParsedChunk {
    fn marks(&self) -> [u32; 4] {
        [len32(self.points.len()), len32(self.ends[0].len()), len32(self.ends[1].len()), len32(self.ends[2].len())]
    }

    fn truncate(&mut self, marks: [u32; 4]) {
        self.points.truncate(marks[0] as usize);
        for (ends, mark) in self.ends.iter_mut().zip(&marks[1..]) {
            ends.truncate(*mark as usize);
        }
    }
}

fn len32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Features left out, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkippedFeatures {
    /// `"geometry": null`, or no geometry at all.
    pub null_geometry: usize,
    /// Malformed coordinates, a ring with fewer than three points, a non-finite coordinate, or
    /// an element of `features` that is not an object.
    pub broken_geometry: usize,
    /// Points, multipoints and geometry collections, which results do not use.
    pub unsupported_geometry: usize,
}

impl SkippedFeatures {
    /// All features left out.
    pub fn total(&self) -> usize {
        self.null_geometry + self.broken_geometry + self.unsupported_geometry
    }
}

/// What the top level of the file turned out to be.
#[derive(Debug)]
pub(crate) struct Collection {
    /// The `type` member: `None` when missing, `Some("")` when not a string.
    pub kind: Option<String>,
    pub skipped: SkippedFeatures,
    pub feature_count: usize,
}

/// Parses a JSON array of features into one chunk numbered `index` (empty when no feature
/// has a drawable geometry), with the count of features read and those left out.
pub(crate) fn parse_features(bytes: &[u8], index: usize) -> Result<(ParsedChunk, Counts), serde_json::Error> {
    let mut out = None;
    let mut sink = |chunk: ParsedChunk| out = Some(chunk);
    let mut builder = Builder {
        chunk: ParsedChunk { index, ..ParsedChunk::default() },
        chunk_size: usize::MAX,
        sink: &mut sink,
        skipped: SkippedFeatures::default(),
        feature_count: 0,
        origin: None,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    FeaturesSeed(&mut builder).deserialize(&mut deserializer)?;
    deserializer.end()?;
    builder.flush();
    let counts = Counts { features: builder.feature_count, skipped: builder.skipped };
    drop(builder);
    Ok((out.unwrap_or_else(|| ParsedChunk { index, ..ParsedChunk::default() }), counts))
}

/// Features read from a batch, and those left out.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counts {
    pub features: usize,
    pub skipped: SkippedFeatures,
}

/// Parses `bytes`, handing each complete chunk of about `chunk_size` features to `sink`.
pub(crate) fn parse(
    bytes: &[u8],
    chunk_size: usize,
    sink: &mut dyn FnMut(ParsedChunk),
) -> Result<Collection, serde_json::Error> {
    let mut builder = Builder {
        chunk: ParsedChunk::default(),
        chunk_size: chunk_size.max(1),
        sink,
        skipped: SkippedFeatures::default(),
        feature_count: 0,
        origin: None,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let kind = CollectionSeed(&mut builder).deserialize(&mut deserializer)?;
    deserializer.end()?;
    builder.flush();
    Ok(Collection { kind, skipped: builder.skipped, feature_count: builder.feature_count })
}

struct Builder<'s> {
    chunk: ParsedChunk,
    chunk_size: usize,
    sink: &'s mut dyn FnMut(ParsedChunk),
    skipped: SkippedFeatures,
    feature_count: usize,
    origin: Option<[f64; 2]>,
}

impl Builder<'_> {
    fn flush(&mut self) {
        if self.chunk.features.is_empty() {
            self.chunk.truncate([0; 4]);
            return;
        }
        let index = self.chunk.index;
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.origin = self.origin;
        self.chunk.index = index + 1;
        (self.sink)(chunk);
    }
}

/// Object keys the parser looks at; everything else is skipped unparsed.
enum Key {
    Type,
    Features,
    Geometry,
    Properties,
    Coordinates,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "type" => Key::Type,
                    "features" => Key::Features,
                    "geometry" => Key::Geometry,
                    "properties" => Key::Properties,
                    "coordinates" => Key::Coordinates,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Consumes the rest of a map or sequence whose content does not matter.
fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// A string value, or `""` for any other JSON value (consumed).
struct LenientString;

impl<'de> DeserializeSeed<'de> for LenientString {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LenientString {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<String, E> {
        Ok(value.to_owned())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<String, A::Error> {
        drain_seq(seq)?;
        Ok(String::new())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<String, A::Error> {
        drain_map(map)?;
        Ok(String::new())
    }
}

/// The top-level object. Anything but an object is a data error ("not a FeatureCollection").
struct CollectionSeed<'b, 's>(&'b mut Builder<'s>);

impl<'de> DeserializeSeed<'de> for CollectionSeed<'_, '_> {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for CollectionSeed<'_, '_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => kind = Some(map.next_value_seed(LenientString)?),
                Key::Features => map.next_value_seed(FeaturesSeed(&mut *self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(kind)
    }
}

/// The `features` array; a `null` there is an empty collection.
struct FeaturesSeed<'b, 's>(&'b mut Builder<'s>);

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(FeatureSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// How a feature's geometry turned out.
enum GeomOutcome {
    Null,
    Broken,
    Unsupported,
    Kind(GeomKind),
}

/// One element of `features`: recorded in the current chunk, or counted as skipped.
struct FeatureSeed<'b, 's>(&'b mut Builder<'s>);

impl<'de> DeserializeSeed<'de> for FeatureSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl FeatureSeed<'_, '_> {
    fn skip_broken(self) {
        self.0.feature_count += 1;
        self.0.skipped.broken_geometry += 1;
    }
}

impl<'de> Visitor<'de> for FeatureSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON Feature")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let builder = self.0;
        let start = builder.chunk.marks();
        let mut outcome = GeomOutcome::Null;
        builder.chunk.attributes.push_row();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Geometry => {
                    builder.chunk.truncate(start);
                    outcome = map.next_value_seed(GeometrySeed(&mut *builder))?;
                }
                Key::Properties => map.next_value_seed(PropertiesSeed(&mut builder.chunk.attributes))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        builder.feature_count += 1;
        match outcome {
            GeomOutcome::Kind(kind) => {
                let end = builder.chunk.marks();
                builder.chunk.features.push(ParsedFeature { kind, start, end });
                if builder.chunk.features.len() >= builder.chunk_size {
                    builder.flush();
                }
            }
            GeomOutcome::Null => {
                builder.chunk.attributes.pop_row();
                builder.chunk.truncate(start);
                builder.skipped.null_geometry += 1;
            }
            GeomOutcome::Broken => {
                builder.chunk.attributes.pop_row();
                builder.chunk.truncate(start);
                builder.skipped.broken_geometry += 1;
            }
            GeomOutcome::Unsupported => {
                builder.chunk.attributes.pop_row();
                builder.chunk.truncate(start);
                builder.skipped.unsupported_geometry += 1;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain_seq(seq)?;
        self.skip_broken();
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.skip_broken();
        Ok(())
    }
}

/// A feature's `properties` into the last row of the chunk's attributes: an object's members
/// become cells; anything else leaves the row empty.
struct PropertiesSeed<'a>(&'a mut Attributes);

impl<'de> DeserializeSeed<'de> for PropertiesSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PropertiesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of attributes")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(column) = map.next_key_seed(ColumnSeed(&mut *self.0))? {
            map.next_value_seed(CellSeed(&mut *self.0, column))?;
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain_seq(seq)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A property name: the index of its column (added when new).
struct ColumnSeed<'a>(&'a mut Attributes);

impl<'de> DeserializeSeed<'de> for ColumnSeed<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for ColumnSeed<'_> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property name")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        Ok(self.0.column_for(name))
    }
}

/// A property value, set in its column of the last row.
struct CellSeed<'a>(&'a mut Attributes, usize);

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a property value")
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.0.set_bool(self.1, value);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        self.0.set_int(self.1, value);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        match i64::try_from(value) {
            Ok(value) => self.0.set_int(self.1, value),
            Err(_) => self.0.set_float(self.1, value as f64),
        }
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        self.0.set_float(self.1, value);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<(), E> {
        self.0.set_text(self.1, value);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.set_null(self.1);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value: Value = de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        self.0.set_json(self.1, &value.to_string());
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value: Value = de::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        self.0.set_json(self.1, &value.to_string());
        Ok(())
    }
}

/// A feature's `geometry` object, its coordinates recorded in the chunk.
struct GeometrySeed<'b, 's>(&'b mut Builder<'s>);

impl<'de> DeserializeSeed<'de> for GeometrySeed<'_, '_> {
    type Value = GeomOutcome;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<GeomOutcome, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GeometrySeed<'_, '_> {
    type Value = GeomOutcome;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON geometry")
    }
    fn visit_unit<E: de::Error>(self) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GeomOutcome, A::Error> {
        let builder = self.0;
        let mut name = None;
        let mut shape = Shape::Empty;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Type => name = Some(map.next_value_seed(LenientString)?),
                Key::Coordinates => shape = map.next_value_seed(CoordSeed(&mut *builder))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(name) = name else {
            return Ok(GeomOutcome::Broken);
        };
        let Some(kind) = GeomKind::from_name(&name) else {
            return Ok(match name.as_str() {
                "Point" | "MultiPoint" | "GeometryCollection" => GeomOutcome::Unsupported,
                _ => GeomOutcome::Broken,
            });
        };
        Ok(match shape {
            Shape::Depth(depth) if depth == kind.depth() => GeomOutcome::Kind(kind),
            _ => GeomOutcome::Broken,
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<GeomOutcome, A::Error> {
        drain_seq(seq)?;
        Ok(GeomOutcome::Broken)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Broken)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Broken)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Broken)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Broken)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<GeomOutcome, E> {
        Ok(GeomOutcome::Broken)
    }
}

/// The nesting of a coordinates array, found while recording it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `[]`.
    Empty,
    /// Well nested to this depth (a position is 1).
    Depth(u8),
    /// Mixed depths, non-numbers, short or non-finite positions, or nesting deeper than 4.
    Broken,
}

/// A `coordinates` value, or one element inside it.
struct CoordSeed<'b, 's>(&'b mut Builder<'s>);

impl<'de> DeserializeSeed<'de> for CoordSeed<'_, '_> {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// A number inside a position, reported as its value through `Shape::Depth(0)`.
const NUMBER: Shape = Shape::Depth(0);

impl<'de> Visitor<'de> for CoordSeed<'_, '_> {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("GeoJSON coordinates")
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Shape, E> {
        self.0.chunk.points.push([value, f64::NAN]);
        Ok(NUMBER)
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Shape, E> {
        self.visit_f64(value as f64)
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Shape, E> {
        self.visit_f64(value as f64)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let builder = self.0;
        // Numbers are pushed to `points` as they come (one slot each) and folded into a single
        // position at the end of their array; nested arrays record their own ends.
        let first = builder.chunk.points.len();
        let mut numbers = 0usize;
        let mut child: Option<u8> = None;
        let mut broken = false;
        while let Some(shape) = seq.next_element_seed(CoordSeed(&mut *builder))? {
            match shape {
                NUMBER => {
                    numbers += 1;
                    broken |= child.is_some();
                }
                Shape::Depth(depth) => {
                    broken |= numbers > 0 || child.is_some_and(|child| child != depth);
                    child = Some(depth);
                }
                Shape::Empty | Shape::Broken => broken = true,
            }
        }
        if broken {
            return Ok(Shape::Broken);
        }
        if numbers > 0 {
            let points = &mut builder.chunk.points;
            let lon = points[first][0];
            let lat = points.get(first + 1).map_or(f64::NAN, |point| point[0]);
            points.truncate(first);
            if numbers < 2 || !lon.is_finite() || !lat.is_finite() {
                return Ok(Shape::Broken);
            }
            points.push([lon, lat]);
            if builder.origin.is_none() {
                builder.origin = Some([lon, lat]);
            }
            return Ok(Shape::Depth(1));
        }
        let Some(child) = child else {
            return Ok(Shape::Empty);
        };
        let depth = child + 1;
        if depth > 4 {
            return Ok(Shape::Broken);
        }
        let level = usize::from(depth - 2);
        let below = match level {
            0 => builder.chunk.points.len(),
            _ => builder.chunk.ends[level - 1].len(),
        };
        builder.chunk.ends[level].push(len32(below));
        Ok(Shape::Depth(depth))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shape, A::Error> {
        drain_map(map)?;
        Ok(Shape::Broken)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Broken)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Broken)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape::Broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> (Collection, Vec<ParsedChunk>) {
        let mut chunks = Vec::new();
        let collection = parse(text.as_bytes(), 2, &mut |chunk| chunks.push(chunk))
            .unwrap_or_else(|err| panic!("parse failed: {err}"));
        (collection, chunks)
    }

    #[test]
    fn records_nesting_of_every_kind() {
        let text = r#"{"features": [
            {"type": "Feature", "properties": {"a": 1}, "geometry": {"coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]], [[0.2, 0.2], [0.3, 0.2], [0.3, 0.3], [0.2, 0.2]]], "type": "Polygon"}},
            {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]]}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, 0, 12.5], [1, 1]]}},
            {"type": "Feature", "geometry": null},
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[0, 0], [1, 1]]}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [0, 0]}},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[0, "x"], [1, 1]]}},
            {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 4]]]}}
        ], "type": "FeatureCollection", "bbox": [0, 0, 1, 1]}"#;
        let (collection, chunks) = parse_all(text);
        assert_eq!(collection.kind.as_deref(), Some("FeatureCollection"));
        assert_eq!(collection.feature_count, 8);
        assert_eq!(collection.skipped.null_geometry, 1);
        assert_eq!(collection.skipped.broken_geometry, 2);
        assert_eq!(collection.skipped.unsupported_geometry, 1);
        let kinds: Vec<GeomKind> = chunks.iter().flat_map(|chunk| chunk.features.iter().map(|f| f.kind)).collect();
        assert_eq!(kinds, [GeomKind::Polygon, GeomKind::MultiPolygon, GeomKind::LineString, GeomKind::MultiLineString]);
        let first = &chunks[0];
        assert_eq!(first.points.len(), 8 + 8);
        assert_eq!(first.ends[0], [4, 8, 12, 16]);
        assert_eq!(first.ends[1], [2, 3, 4]);
        assert_eq!(first.ends[2], [3]);
        assert_eq!(first.attributes.rows(), 2, "a row per feature of the chunk");
        assert_eq!(first.attributes.get(0, "a"), super::super::attributes::AttrValue::Int(1));
        let last = &chunks[1];
        assert_eq!(last.points, [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]);
        assert_eq!(last.origin, Some([0.0, 0.0]));
    }

    #[test]
    fn top_level_must_be_an_object() {
        let err = parse(b"[1, 2]", 10, &mut |_| {}).err();
        assert!(err.is_some_and(|err| err.classify() == serde_json::error::Category::Data));
        let err = parse(b"{\"features\": [", 10, &mut |_| {}).err();
        assert!(err.is_some_and(|err| err.classify() == serde_json::error::Category::Eof));
    }
}
