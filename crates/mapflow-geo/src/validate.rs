//! The checks the service would otherwise fail a processing for, done before Start is enabled:
//! a valid geometry inside lon [-180, 180] / lat [-90, 90], each polygon and the total within
//! `aoiAreaLimit`, at most `maxAoisPerProcessing` polygons, and not below the imagery
//! provider's minimum area.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ::geo::{BooleanOps, MakeValid};
use geo_types::{MultiPolygon, Polygon};

use super::validity::{distinct_points, invalidity};
use super::{Aoi, polygon_area_m2};

/// Repaired parts smaller than this (m²) are slivers left by the repair and are dropped.
const MIN_PART_AREA_M2: f64 = 1.0;

/// The account's limits that apply to an AOI, in m² unless named otherwise.
///
/// From `/user/status` (`maxAoisPerProcessing`, `aoiAreaLimit`) and the project's
/// `user.aoiAreaLimit`, which wins in a shared project; the provider's `minAreaSqKm` is in km².
/// `None`, zero or a negative value means "no limit".
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AoiLimits {
    /// The largest area of one polygon, and of all of them together, in m².
    pub aoi_area_limit_m2: Option<f64>,
    /// The most polygons one processing may have.
    pub max_aois: Option<usize>,
    /// The selected imagery provider's minimum order area, in km².
    pub provider_min_area_km2: Option<f64>,
}

/// One problem with an AOI. [`AoiIssue::blocks_start`] says whether Start must stay disabled.
///
/// `polygon` is an index (from 0) into the AOI that [`validate`] returns; messages count from 1.
#[derive(Clone, Debug, PartialEq)]
pub enum AoiIssue {
    /// There is no polygon.
    Empty,
    /// A coordinate is outside lon [-180, 180] or lat [-90, 90] (often a projected CRS).
    OutOfRange { polygon: usize },
    /// The polygon is invalid and could not be repaired. `reason` is a short code
    /// (`self_intersection`, `rings_cross`, `hole_outside`, `too_few_points`, `not_finite`,
    /// `no_area`, `repair_failed`) that [`AoiIssue::message`] translates.
    Invalid { polygon: usize, reason: String },
    /// The polygon crossed itself (or was otherwise invalid) and was repaired into valid
    /// parts, starting at this index. A notice: it does not block.
    Repaired { polygon: usize },
    /// More polygons than the account allows in one processing.
    TooManyPolygons { count: usize, max: usize },
    /// One polygon is larger than the AOI area limit.
    PolygonTooLarge { polygon: usize, area_m2: f64, limit_m2: f64 },
    /// All polygons together are larger than the AOI area limit.
    TotalTooLarge { area_m2: f64, limit_m2: f64 },
    /// The AOI is smaller than the imagery provider's minimum order area.
    BelowProviderMinimum { area_m2: f64, min_km2: f64 },
}

impl AoiIssue {
    /// Whether Start must stay disabled: every issue but a repair notice.
    pub fn blocks_start(&self) -> bool {
        !matches!(self, AoiIssue::Repaired { .. })
    }

    /// The message in the user's language, with areas in km² (2 decimals) and what to do.
    pub fn message(&self) -> String {
        match self {
            AoiIssue::Empty => rust_i18n::t!("geo.issue.empty").into_owned(),
            AoiIssue::OutOfRange { polygon } => rust_i18n::t!("geo.issue.out_of_range", n = polygon + 1).into_owned(),
            AoiIssue::Invalid { polygon, reason } => {
                rust_i18n::t!("geo.issue.invalid", n = polygon + 1, reason = reason_text(reason)).into_owned()
            }
            AoiIssue::Repaired { polygon } => rust_i18n::t!("geo.issue.repaired", n = polygon + 1).into_owned(),
            AoiIssue::TooManyPolygons { count, max } => {
                rust_i18n::t!("geo.issue.too_many", count = count, max = max).into_owned()
            }
            AoiIssue::PolygonTooLarge { polygon, area_m2, limit_m2 } => rust_i18n::t!(
                "geo.issue.polygon_too_large",
                n = polygon + 1,
                area = km2(*area_m2),
                limit = km2(*limit_m2)
            )
            .into_owned(),
            AoiIssue::TotalTooLarge { area_m2, limit_m2 } => {
                rust_i18n::t!("geo.issue.total_too_large", area = km2(*area_m2), limit = km2(*limit_m2)).into_owned()
            }
            AoiIssue::BelowProviderMinimum { area_m2, min_km2 } => {
                rust_i18n::t!("geo.issue.below_provider_minimum", area = km2(*area_m2), min = format!("{min_km2:.2}"))
                    .into_owned()
            }
        }
    }
}

/// m² as km² with two decimals.
fn km2(m2: f64) -> String {
    format!("{:.2}", m2 / 1e6)
}

/// The translated words for an [`AoiIssue::Invalid`] reason code; unknown codes as they are.
fn reason_text(reason: &str) -> String {
    match reason {
        "self_intersection" => rust_i18n::t!("geo.reason.self_intersection").into_owned(),
        "rings_cross" => rust_i18n::t!("geo.reason.rings_cross").into_owned(),
        "hole_outside" => rust_i18n::t!("geo.reason.hole_outside").into_owned(),
        "too_few_points" => rust_i18n::t!("geo.reason.too_few_points").into_owned(),
        "not_finite" => rust_i18n::t!("geo.reason.not_finite").into_owned(),
        "no_area" => rust_i18n::t!("geo.reason.no_area").into_owned(),
        "repair_failed" => rust_i18n::t!("geo.reason.repair_failed").into_owned(),
        "crosses_antimeridian" => rust_i18n::t!("geo.reason.crosses_antimeridian").into_owned(),
        other => other.to_owned(),
    }
}

/// What became of one input polygon.
enum Checked {
    /// Valid as it is.
    Valid,
    /// Some coordinate is outside lon/lat range.
    OutOfRange,
    /// Invalid; repaired into these valid parts.
    Repaired(Vec<Polygon<f64>>),
    /// Invalid and not repairable, with the reason code.
    Invalid(&'static str),
}

/// Validates and repairs an AOI; returns the AOI to use and every issue found.
///
/// Polygons keep their order. A self-intersecting (or otherwise invalid) polygon is repaired
/// with geo's [`BooleanOps`] (a union with nothing, which i_overlay resolves with the even-odd
/// rule: a bow-tie becomes its two triangles), falling back to [`MakeValid`]; the valid parts
/// replace it in place, slivers under 1 m² dropped, with an [`AoiIssue::Repaired`] notice.
/// Polygons that are out of range or cannot be repaired are kept as they are, so the user sees
/// what to fix, and block.
///
/// Issues come in a stable order: per polygon (out of range, invalid, repaired) in polygon
/// order, then the polygon count, then each polygon's area, the total area, and the provider
/// minimum. The area checks run only once every polygon is valid and in range, since areas of
/// broken geometry mean nothing; the total is reported only for more than one polygon (for
/// one, it is the polygon's own check).
pub fn validate(aoi: &Aoi, limits: &AoiLimits) -> (Aoi, Vec<AoiIssue>) {
    if aoi.is_empty() {
        return (Aoi::default(), vec![AoiIssue::Empty]);
    }
    let mut issues = Vec::new();
    let mut polygons: Vec<Polygon<f64>> = Vec::with_capacity(aoi.polygons.len());
    let mut geometry_ok = true;
    for polygon in &aoi.polygons {
        let index = polygons.len();
        match check(polygon) {
            Checked::Valid => polygons.push(polygon.clone()),
            Checked::OutOfRange => {
                geometry_ok = false;
                issues.push(AoiIssue::OutOfRange { polygon: index });
                polygons.push(polygon.clone());
            }
            Checked::Invalid(reason) => {
                geometry_ok = false;
                issues.push(AoiIssue::Invalid { polygon: index, reason: reason.to_owned() });
                polygons.push(polygon.clone());
            }
            Checked::Repaired(parts) => {
                issues.push(AoiIssue::Repaired { polygon: index });
                polygons.extend(parts);
            }
        }
    }
    let out = Aoi { polygons };

    if let Some(max) = limits.max_aois.filter(|&m| m > 0)
        && out.polygons.len() > max
    {
        issues.push(AoiIssue::TooManyPolygons { count: out.polygons.len(), max });
    }
    if !geometry_ok {
        return (out, issues);
    }

    let areas = out.areas_m2();
    let total: f64 = areas.iter().sum();
    if let Some(limit) = limits.aoi_area_limit_m2.filter(|&l| l > 0.0) {
        for (polygon, &area_m2) in areas.iter().enumerate() {
            if area_m2 > limit {
                issues.push(AoiIssue::PolygonTooLarge { polygon, area_m2, limit_m2: limit });
            }
        }
        if areas.len() > 1 && total > limit {
            issues.push(AoiIssue::TotalTooLarge { area_m2: total, limit_m2: limit });
        }
    }
    if let Some(min_km2) = limits.provider_min_area_km2.filter(|&m| m > 0.0)
        && total < min_km2 * 1e6
    {
        issues.push(AoiIssue::BelowProviderMinimum { area_m2: total, min_km2 });
    }
    (out, issues)
}

/// Checks one polygon, repairing it when it is invalid.
///
/// The checks and repairs are third-party geometry code fed with whatever a file held: they run
/// inside `catch_unwind`, and a panic there makes the polygon "could not be checked", not a
/// crash of the app.
fn check(polygon: &Polygon<f64>) -> Checked {
    let coords = || polygon.exterior().coords().chain(polygon.interiors().iter().flat_map(|r| r.coords()));
    if coords().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return Checked::Invalid("not_finite");
    }
    if coords().any(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y)) {
        return Checked::OutOfRange;
    }
    // An edge over half the world in longitude means the polygon crosses the 180° meridian:
    // measured the short way, searched and processed the long way round. It is refused with
    // what to do rather than read one way here and another on the server.
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    if rings.flat_map(|r| r.lines()).any(|l| (l.end.x - l.start.x).abs() > 180.0) {
        return Checked::Invalid("crosses_antimeridian");
    }
    // Nothing can be made of an outline with fewer than three points.
    if distinct_points(polygon.exterior()).len() < 3 {
        return Checked::Invalid("too_few_points");
    }
    let problem = catch_unwind(AssertUnwindSafe(|| invalidity(polygon)));
    match problem {
        Err(_) => Checked::Invalid("repair_failed"),
        Ok(None) if polygon_area_m2(polygon) >= MIN_PART_AREA_M2 => Checked::Valid,
        Ok(None) => Checked::Invalid("no_area"),
        Ok(Some(reason)) => match repair(polygon) {
            Some(parts) if parts.is_empty() => Checked::Invalid("no_area"),
            Some(parts) => Checked::Repaired(parts),
            None => Checked::Invalid(reason),
        },
    }
}

/// Repairs an invalid polygon into valid parts (possibly none, when it has no area), or `None`
/// when neither method gives a valid result (or one panics).
fn repair(polygon: &Polygon<f64>) -> Option<Vec<Polygon<f64>>> {
    let by_union = catch_unwind(AssertUnwindSafe(|| polygon.union(&MultiPolygon::<f64>::new(Vec::new()))));
    if let Some(parts) = by_union.ok().and_then(valid_parts) {
        return Some(parts);
    }
    let by_triangulation = catch_unwind(AssertUnwindSafe(|| polygon.make_valid()));
    by_triangulation.ok()?.ok().and_then(valid_parts)
}

/// The parts larger than a sliver, if every one of them is valid.
fn valid_parts(repaired: MultiPolygon<f64>) -> Option<Vec<Polygon<f64>>> {
    let parts: Vec<Polygon<f64>> = repaired.0.into_iter().filter(|p| polygon_area_m2(p) >= MIN_PART_AREA_M2).collect();
    let checked = catch_unwind(AssertUnwindSafe(|| parts.iter().all(|p| invalidity(p).is_none())));
    matches!(checked, Ok(true)).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::LineString;

    fn polygon(points: &[(f64, f64)]) -> Polygon<f64> {
        Polygon::new(LineString::from(points.to_vec()), vec![])
    }

    #[test]
    fn collinear_polygon_is_invalid_with_no_area() {
        let aoi = Aoi { polygons: vec![polygon(&[(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0)])] };
        let (_, issues) = validate(&aoi, &AoiLimits::default());
        assert!(
            matches!(issues.as_slice(), [AoiIssue::Invalid { polygon: 0, reason }] if reason == "no_area"),
            "{issues:?}"
        );
        assert!(issues[0].blocks_start());
    }

    #[test]
    fn nan_is_invalid_not_a_panic() {
        let aoi = Aoi { polygons: vec![polygon(&[(0.0, 0.0), (f64::NAN, 0.0), (1.0, 1.0), (0.0, 0.0)])] };
        let (_, issues) = validate(&aoi, &AoiLimits::default());
        assert_eq!(issues, vec![AoiIssue::Invalid { polygon: 0, reason: "not_finite".to_owned() }]);
    }

    #[test]
    fn repaired_parts_replace_the_polygon_in_place() {
        let square = polygon(&[(10.0, 10.0), (10.1, 10.0), (10.1, 10.1), (10.0, 10.1)]);
        let bowtie = polygon(&[(0.0, 0.0), (0.0, 0.1), (0.1, 0.0), (0.1, 0.1), (0.0, 0.0)]);
        let aoi = Aoi { polygons: vec![bowtie, square.clone()] };
        let (fixed, issues) = validate(&aoi, &AoiLimits::default());
        assert_eq!(issues, vec![AoiIssue::Repaired { polygon: 0 }]);
        assert_eq!(fixed.polygons.len(), 3);
        assert_eq!(fixed.polygons[2], square);
        assert!(fixed.polygons.iter().all(|p| invalidity(p).is_none()));
    }

    #[test]
    fn zero_limits_mean_no_limit() {
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.1, 0.1]);
        let limits = AoiLimits { aoi_area_limit_m2: Some(0.0), max_aois: Some(0), provider_min_area_km2: Some(0.0) };
        assert_eq!(validate(&aoi, &limits).1, vec![]);
    }

    #[test]
    fn russian_messages_are_loaded_with_their_numbers() {
        let text =
            rust_i18n::t!("geo.issue.polygon_too_large", locale = "ru", n = 2, area = km2(150e6), limit = km2(100e6));
        assert!(text.contains("Полигон 2") && text.contains("150.00 км²"), "{text}");
        assert!(text.contains("100.00 км²"), "{text}");
    }

    #[test]
    fn unknown_reason_is_shown_as_is() {
        let issue = AoiIssue::Invalid { polygon: 0, reason: "odd thing".to_owned() };
        assert!(issue.message().contains("odd thing"));
    }

    #[test]
    fn a_polygon_across_the_antimeridian_is_refused_with_what_to_do() {
        let ring = vec![(179.9, 0.0), (-179.9, 0.0), (-179.9, 0.1), (179.9, 0.1), (179.9, 0.0)];
        let aoi = Aoi { polygons: vec![Polygon::new(LineString::from(ring), vec![])] };
        let (_, issues) = validate(&aoi, &AoiLimits::default());
        assert_eq!(issues, vec![AoiIssue::Invalid { polygon: 0, reason: "crosses_antimeridian".into() }]);
        assert!(issues[0].message().contains("180°"), "{}", issues[0].message());
        // One on each side is fine.
        let east = Aoi::from_bbox([179.9, 0.0, 180.0, 0.1]);
        assert!(validate(&east, &AoiLimits::default()).1.is_empty());
    }
}
