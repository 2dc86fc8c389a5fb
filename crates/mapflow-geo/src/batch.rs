//! A file of many polygons read as the items of a batch: one processing per feature, or per
//! group of features sharing an attribute's value, each named from an attribute.
//!
//! Plain data: the caller reads the file (any format, as GeoJSON) and passes its bytes in.

use serde_json::Value;

use super::{Aoi, AoiError, AoiIssue, AoiLimits, parse_geojson, validate};

/// One feature of the file: its attributes and its polygons (or why it has none usable).
#[derive(Clone, Debug, PartialEq)]
pub struct SourceFeature {
    /// The attributes as text (numbers and booleans as written, null as empty), in file order.
    pub attributes: Vec<(String, String)>,
    pub aoi: Result<Aoi, AoiError>,
}

impl SourceFeature {
    /// The value of attribute `name`, trimmed; `None` when absent or empty.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The features of a GeoJSON FeatureCollection (or of one Feature), in file order.
pub fn read_features(bytes: &[u8]) -> Result<Vec<SourceFeature>, AoiError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(AoiError::Empty);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| AoiError::NotUtf8)?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        // The same message as an AOI file's, line and column in the fields.
        match parse_geojson(text) {
            Err(err @ AoiError::Json { .. }) => err,
            _ => AoiError::NotGeoJson(e.to_string()),
        }
    })?;
    let features: Vec<&Value> = match value.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => value
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| AoiError::NotGeoJson("/features is not an array".into()))?
            .iter()
            .collect(),
        Some("Feature") => vec![&value],
        _ => return Err(AoiError::NotGeoJson("not a FeatureCollection of features".into())),
    };
    if features.is_empty() {
        return Err(AoiError::NoPolygons { found: Vec::new() });
    }
    Ok(features.into_iter().map(feature).collect())
}

fn feature(value: &Value) -> SourceFeature {
    let attributes = value
        .get("properties")
        .and_then(Value::as_object)
        .map(|props| props.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default();
    let aoi = match value.get("geometry") {
        None | Some(Value::Null) => Err(AoiError::NoPolygons { found: Vec::new() }),
        Some(geometry) => parse_geojson(&geometry.to_string()),
    };
    SourceFeature { attributes, aoi }
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every attribute name of the features, in the order first seen.
pub fn attribute_names(features: &[SourceFeature]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (k, _) in features.iter().flat_map(|f| &f.attributes) {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    names
}

/// The attribute most likely to hold names: `name` (any case), else the first one whose
/// values are text and mostly distinct.
pub fn guess_name_attribute(features: &[SourceFeature]) -> Option<String> {
    let names = attribute_names(features);
    if let Some(n) = names.iter().find(|n| n.eq_ignore_ascii_case("name")) {
        return Some(n.clone());
    }
    names
        .iter()
        .find(|n| {
            let values: Vec<&str> = features.iter().filter_map(|f| f.value(n)).collect();
            let distinct: std::collections::BTreeSet<&str> = values.iter().copied().collect();
            values.iter().any(|v| v.parse::<f64>().is_err()) && distinct.len() * 2 > features.len()
        })
        .cloned()
        .or_else(|| names.first().cloned())
}

/// One processing the batch would start: over one feature, or a group of them.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedItem {
    /// What identifies it across runs of the app: `feature:<index>` or `group:<value>`.
    pub key: String,
    /// The processing's name: the attribute's value, made unique within the batch.
    pub name: String,
    /// The features it covers (indices into the file's).
    pub features: Vec<usize>,
    /// The polygons to process (repaired where the check repaired them), or why there are none.
    pub aoi: Result<Aoi, AoiError>,
}

/// The items of a batch: one per feature named from `name_attribute`, or with `group_by` one
/// per distinct value of that attribute (named by the value, its features' polygons
/// together). A feature without a value is named `<fallback> <n>` (n its place in the file,
/// from 1), or grouped under that name. Names repeated are made unique with " (2)", " (3)"…,
/// since a processing's name is how a create whose answer was lost is found again.
pub fn plan(
    features: &[SourceFeature],
    name_attribute: Option<&str>,
    group_by: Option<&str>,
    fallback: &str,
) -> Vec<PlannedItem> {
    let unnamed = |i: usize| format!("{fallback} {}", i + 1);
    let mut items: Vec<PlannedItem> = Vec::new();
    match group_by {
        None => {
            for (i, f) in features.iter().enumerate() {
                let name = name_attribute.and_then(|a| f.value(a)).map_or_else(|| unnamed(i), str::to_owned);
                items.push(PlannedItem { key: format!("feature:{i}"), name, features: vec![i], aoi: f.aoi.clone() });
            }
        }
        Some(attribute) => {
            let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
            for (i, f) in features.iter().enumerate() {
                let value = f.value(attribute).map_or_else(|| unnamed(i), str::to_owned);
                let at = *index.entry(value.clone()).or_insert_with(|| {
                    items.push(PlannedItem {
                        key: format!("group:{value}"),
                        name: value.clone(),
                        features: Vec::new(),
                        aoi: Ok(Aoi::default()),
                    });
                    items.len() - 1
                });
                let item = &mut items[at];
                item.features.push(i);
                item.aoi = match (std::mem::replace(&mut item.aoi, Ok(Aoi::default())), &f.aoi) {
                    (Ok(mut acc), Ok(more)) => {
                        acc.polygons.extend(more.polygons.iter().cloned());
                        Ok(acc)
                    }
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(e.clone()),
                };
            }
        }
    }
    // Unique against every name given so far, the made-up ones too: "A", "A", "A (2)" become
    // "A", "A (2)", "A (2) (2)", never two "A (2)".
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for item in &mut items {
        if !taken.insert(item.name.clone()) {
            let name = (2..)
                .map(|n| format!("{} ({n})", item.name))
                .find(|candidate| !taken.contains(candidate))
                .unwrap_or_default();
            taken.insert(name.clone());
            item.name = name;
        }
    }
    items
}

/// The checks of one item before anything is charged: the AOI rules of one processing, and
/// no polygon that crosses itself (a batch starts without the user looking at each AOI, so a
/// shape that would need repairing is refused rather than changed). `Ok` with the AOI to send,
/// else why not, in the user's language.
pub fn check_item(aoi: &Aoi, limits: &AoiLimits) -> Result<Aoi, Vec<String>> {
    let (fixed, issues) = validate(aoi, limits);
    if issues.is_empty() {
        return Ok(fixed);
    }
    Err(issues
        .iter()
        .map(|i| match i {
            AoiIssue::Repaired { polygon } => rust_i18n::t!("batch.crosses_itself", n = polygon + 1).into_owned(),
            other => other.message(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, side: f64) -> Value {
        serde_json::json!({"type": "Polygon", "coordinates": [[[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]]})
    }

    fn collection(features: Vec<(Value, Value)>) -> Vec<u8> {
        let features: Vec<Value> = features
            .into_iter()
            .map(|(props, geometry)| serde_json::json!({"type": "Feature", "properties": props, "geometry": geometry}))
            .collect();
        serde_json::to_vec(&serde_json::json!({"type": "FeatureCollection", "features": features})).unwrap()
    }

    #[test]
    fn names_made_unique_never_meet_a_name_in_the_file() {
        let named = |name: &str| SourceFeature {
            attributes: vec![("name".to_owned(), name.to_owned())],
            aoi: Ok(Aoi::default()),
        };
        let features = [named("A"), named("A"), named("A (2)"), named("A")];
        let names: Vec<String> = plan(&features, Some("name"), None, "Feature").into_iter().map(|i| i.name).collect();
        let unique: std::collections::HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[0], "A");
    }

    #[test]
    fn one_item_per_feature_named_from_the_attribute_made_unique() {
        let bytes = collection(vec![
            (serde_json::json!({"name": "Field A", "farm": "North", "n": 1}), square(10.0, 10.0, 0.01)),
            (serde_json::json!({"name": "Field A", "farm": "North", "n": 2}), square(10.1, 10.0, 0.01)),
            (serde_json::json!({"name": null, "farm": "South", "n": 3}), square(10.2, 10.0, 0.01)),
            (
                serde_json::json!({"name": "Road", "farm": "South"}),
                serde_json::json!({"type": "Point", "coordinates": [1, 2]}),
            ),
        ]);
        let features = read_features(&bytes).unwrap();
        assert_eq!(attribute_names(&features), ["farm", "n", "name"]);
        assert_eq!(guess_name_attribute(&features).as_deref(), Some("name"));
        assert_eq!(features[0].value("n"), Some("1"));
        let items = plan(&features, Some("name"), None, "Feature");
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["Field A", "Field A (2)", "Feature 3", "Road"]);
        assert_eq!(items[1].key, "feature:1");
        assert!(matches!(items[3].aoi, Err(AoiError::NoPolygons { .. })));
    }

    #[test]
    fn group_by_makes_one_item_per_value_with_its_polygons() {
        let bytes = collection(vec![
            (serde_json::json!({"farm": "North"}), square(10.0, 10.0, 0.01)),
            (serde_json::json!({"farm": "South"}), square(10.1, 10.0, 0.01)),
            (serde_json::json!({"farm": "North"}), square(10.2, 10.0, 0.01)),
        ]);
        let features = read_features(&bytes).unwrap();
        let items = plan(&features, None, Some("farm"), "Feature");
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].name.as_str(), items[0].key.as_str()), ("North", "group:North"));
        assert_eq!(items[0].features, [0, 2]);
        assert_eq!(items[0].aoi.as_ref().unwrap().polygons.len(), 2);
    }

    #[test]
    fn too_big_and_self_crossing_items_are_refused_with_the_reason() {
        let limits = AoiLimits { aoi_area_limit_m2: Some(5e6), ..AoiLimits::default() };
        let small: Aoi = parse_geojson(&square(10.0, 10.0, 0.01).to_string()).unwrap();
        assert!(check_item(&small, &limits).is_ok());
        let big: Aoi = parse_geojson(&square(10.0, 10.0, 0.5).to_string()).unwrap();
        let why = check_item(&big, &limits).unwrap_err();
        assert!(why.len() == 1 && why[0].contains("more than"), "{why:?}");
        let bowtie = serde_json::json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [0.0, 0.01], [0.01, 0.0], [0.01, 0.01], [0.0, 0.0]]]});
        let bowtie = parse_geojson(&bowtie.to_string()).unwrap();
        let why = check_item(&bowtie, &limits).unwrap_err();
        assert!(why.len() == 1 && why[0].contains("crosses itself"), "{why:?}");
    }

    #[test]
    fn a_file_that_is_not_features_says_so() {
        assert!(matches!(read_features(b""), Err(AoiError::Empty)));
        assert!(matches!(read_features(b"{\"type\": 1"), Err(AoiError::Json { .. })));
        assert!(matches!(read_features(b"{\"type\": \"Polygon\"}"), Err(AoiError::NotGeoJson(_))));
    }
}
