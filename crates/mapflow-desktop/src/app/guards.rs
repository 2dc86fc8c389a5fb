//! What a model and an imagery source can run with, checked before Start so that a run that
//! must fail never costs credits: the zoom range, the coarsest pixel size, and which failures
//! come from a parameter (a restart repeats those; a duplicate with the parameter fixed does not).

use crate::api::{ProcessingMessage, Provider, WorkflowDef};
use std::ops::RangeInclusive;

/// The highest zoom any imagery is asked for.
pub const MAX_ZOOM: u8 = 22;

/// The lowest zoom a satellite model reads (about 1.2 m per pixel at the equator, 0.5 m at
/// mid latitudes, as the service's models want).
pub const SATELLITE_MIN_ZOOM: u8 = 17;

/// The lowest zoom an aerial or drone model reads (about 0.3 m per pixel).
pub const AERIAL_MIN_ZOOM: u8 = 19;

/// Metres per pixel of zoom `zoom` at latitude `lat` (degrees).
pub fn ground_resolution(zoom: u8, lat: f64) -> f64 {
    crate::geo::mercator::metres_per_pixel(lat, f64::from(zoom))
}

/// A model's name without the emoji the service puts before it, for sentences.
pub fn plain_name(name: &str) -> String {
    name.trim_start_matches(|c: char| !c.is_alphanumeric()).trim().to_owned()
}

/// Whether a model is one for aerial or drone imagery; the service names them so.
fn is_aerial(model: &WorkflowDef) -> bool {
    let name = model.name.to_lowercase();
    ["aerial", "drone", "uav"].iter().any(|w| name.contains(w))
}

/// The lowest zoom `model` gives results at.
pub fn model_min_zoom(model: &WorkflowDef) -> u8 {
    if is_aerial(model) { AERIAL_MIN_ZOOM } else { SATELLITE_MIN_ZOOM }
}

/// The coarsest imagery `model` reads, m per pixel: its lowest zoom at the equator, to 0.1 m
/// (1.2 m for satellite models, 0.3 m for aerial ones), as the service's validator has it.
pub fn model_max_pixel_size(model: &WorkflowDef) -> f64 {
    (ground_resolution(model_min_zoom(model), 0.0) * 10.0).round() / 10.0
}

/// Why scenes of `pixel_size` (m/px, the coarsest picked) are too coarse for `model`: a
/// processing on them would be charged and then fail. `None` when they will do.
pub fn coarse_imagery(model: &WorkflowDef, pixel_size: Option<f64>) -> Option<String> {
    let actual = pixel_size?;
    let max = model_max_pixel_size(model);
    (actual > max + 1e-9)
        .then(|| super::form::FormProblem::CoarseImagery { model: plain_name(&model.name), actual, max }.message())
}

/// The highest zoom a provider serves: its highest price step, else its preview's.
pub fn provider_max_zoom(provider: &Provider) -> Option<u8> {
    let from_price = provider.price.iter().map(|s| s.zoom).max();
    from_price.or(provider.preview_url_max_zoom).and_then(|z| u8::try_from(z.clamp(0, i64::from(MAX_ZOOM))).ok())
}

/// A provider's price per km² at `zoom`: its step for that zoom, else the highest step below
/// it; with no zoom, its highest step (what the service uses when none is sent).
pub fn provider_price(provider: &Provider, zoom: Option<u8>) -> f64 {
    let zoom = zoom.map(i64::from).or_else(|| provider.price.iter().map(|s| s.zoom).max());
    let Some(zoom) = zoom else { return 0.0 };
    provider.price.iter().filter(|s| s.zoom <= zoom).max_by_key(|s| s.zoom).map_or(0.0, |s| s.price_sq_km)
}

/// The zooms `model` can run at on imagery that goes up to `max` (a provider's, or
/// [`MAX_ZOOM`] for the user's own tile service). `None` when none fits: the imagery stops
/// below what the model needs.
pub fn zoom_range(model: Option<&WorkflowDef>, max: Option<u8>) -> Option<RangeInclusive<u8>> {
    let min = model.map_or(10, model_min_zoom);
    let max = max.unwrap_or(MAX_ZOOM);
    (min <= max).then_some(min..=max)
}

/// `zoom` moved into `range`; the same when it is already inside.
pub fn clamp_zoom(zoom: u8, range: &RangeInclusive<u8>) -> u8 {
    zoom.clamp(*range.start(), *range.end())
}

/// What the user has to change when a run failed because of what it was asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterFix {
    Zoom,
    Imagery,
    Url,
    Aoi,
}

impl ParameterFix {
    /// "the zoom", "the imagery"… in the user's language.
    pub fn what(self) -> String {
        use rust_i18n::t;
        match self {
            Self::Zoom => t!("guards.fix.zoom"),
            Self::Imagery => t!("guards.fix.imagery"),
            Self::Url => t!("guards.fix.url"),
            Self::Aoi => t!("guards.fix.aoi"),
        }
        .into_owned()
    }
}

/// The parameter that made a run fail, if its messages say one did: a restart would
/// repeat the same request and fail the same way.
pub fn parameter_failure(messages: &[ProcessingMessage]) -> Option<ParameterFix> {
    messages.iter().find_map(|m| {
        let name = m.code.rsplit('.').next().unwrap_or(&m.code);
        Some(match name {
            "TooLowZoom" | "TooHighZoom" | "InvalidZoomValue" | "ZoomMustBeInteger" => ParameterFix::Zoom,
            "PixelSizeTooHigh"
            | "PixelSizeTooLow"
            | "NChannelsNotAllowed"
            | "DtypeNotAllowed"
            | "SourceTypeIsNotAllowed"
            | "WrongChannelsNum"
            | "BadImageProfile"
            | "CrsIsNotSupported" => ParameterFix::Imagery,
            "UrlMustBeString"
            | "UrlBlacklisted"
            | "UrlMustBeLink"
            | "UrlFormatInvalid"
            | "XYZLinkFormatError"
            | "TMSLinkFormatError"
            | "QuadkeyLinkFormatError" => ParameterFix::Url,
            "NoDataInAOI" | "AOINotInCell" | "TaskMustContainAoi" | "GridCellOutOfBound" => ParameterFix::Aoi,
            _ => return None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ProviderPrice;

    fn model(name: &str) -> WorkflowDef {
        WorkflowDef { name: name.into(), ..WorkflowDef::default() }
    }

    fn provider(steps: &[(i64, f64)]) -> Provider {
        Provider {
            price: steps.iter().map(|&(zoom, price_sq_km)| ProviderPrice { zoom, price_sq_km }).collect(),
            ..Provider::default()
        }
    }

    #[test]
    fn zoom_ranges_follow_model_and_provider() {
        let mapbox = provider(&[(17, 0.5), (18, 1.0)]);
        let buildings = model("🏠 Buildings");
        let aerial = model("🏠 Buildings (Aerial)");
        assert_eq!(zoom_range(Some(&buildings), provider_max_zoom(&mapbox)), Some(17..=18));
        assert_eq!(zoom_range(Some(&aerial), provider_max_zoom(&mapbox)), None, "Mapbox stops at 18");
        assert_eq!(zoom_range(Some(&aerial), None), Some(19..=22));
        assert_eq!(clamp_zoom(12, &(17..=18)), 17);
        assert_eq!(clamp_zoom(18, &(17..=18)), 18);
    }

    #[test]
    fn pixel_sizes_and_resolutions() {
        assert_eq!(model_max_pixel_size(&model("🏠 Buildings")), 1.2);
        assert_eq!(model_max_pixel_size(&model("🏠 Buildings (Aerial)")), 0.3);
        assert!((ground_resolution(17, 0.0) - 1.194).abs() < 1e-3);
        assert!((ground_resolution(18, 60.0) - 0.299).abs() < 1e-3);
    }

    #[test]
    fn provider_price_takes_the_step_at_or_below_the_zoom() {
        let p = provider(&[(17, 0.5), (18, 1.0)]);
        assert_eq!(provider_price(&p, Some(17)), 0.5);
        assert_eq!(provider_price(&p, Some(20)), 1.0);
        assert_eq!(provider_price(&p, Some(15)), 0.0);
        assert_eq!(provider_price(&p, None), 1.0);
    }

    #[test]
    fn parameter_failures_name_what_to_fix() {
        let msg = |code: &str| ProcessingMessage { code: code.into(), ..ProcessingMessage::default() };
        assert_eq!(parameter_failure(&[msg("source-validator.TooLowZoom")]), Some(ParameterFix::Zoom));
        assert_eq!(parameter_failure(&[msg("source-validator.PixelSizeTooHigh")]), Some(ParameterFix::Imagery));
        assert_eq!(parameter_failure(&[msg("source-validator.XYZLinkFormatError")]), Some(ParameterFix::Url));
        assert_eq!(parameter_failure(&[msg("inference.internalError")]), None, "worth a restart");
        assert_eq!(parameter_failure(&[]), None);
    }
}
