//! The catalog search: filters, results, selection and previews.

use super::remote::Remote;
use super::state::AppState;
use crate::api::{CatalogImage, CatalogPage, CatalogQuery, CatalogSortBy, SortOrder};
use crate::worker::{Command, Event};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// The search filters as the user set them; they persist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogFilters {
    /// `YYYY-MM-DD`, empty for no bound.
    pub date_from: String,
    pub date_to: String,
    /// 100 means any.
    pub max_cloud: f64,
    pub off_nadir: [f64; 2],
    pub min_intersection: f64,
    /// Pixel size range, m/px.
    pub resolution: [f64; 2],
    pub images: bool,
    pub mosaics: bool,
    /// Provider names; empty means every provider.
    pub providers: BTreeSet<String>,
    pub only_available: bool,
    pub sort_by: Option<CatalogSortBy>,
    pub sort_order: SortOrder,
}

pub const MAX_OFF_NADIR: f64 = 60.0;
pub const MAX_RESOLUTION: f64 = 30.0;

impl Default for CatalogFilters {
    fn default() -> Self {
        Self {
            date_from: String::new(),
            date_to: String::new(),
            max_cloud: 100.0,
            off_nadir: [0.0, MAX_OFF_NADIR],
            min_intersection: 0.0,
            resolution: [0.0, MAX_RESOLUTION],
            images: true,
            mosaics: true,
            providers: BTreeSet::new(),
            only_available: false,
            sort_by: Some(CatalogSortBy::AcquisitionDate),
            sort_order: SortOrder::Desc,
        }
    }
}

fn date_bound(s: &str, end_of_day: bool) -> Option<String> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    let t = if end_of_day { "23:59:59" } else { "00:00:00" };
    Some(format!("{d}T{t}Z"))
}

impl CatalogFilters {
    /// Why a date field cannot be used, if it cannot.
    pub fn date_problem(&self) -> Option<String> {
        for s in [&self.date_from, &self.date_to] {
            if !s.trim().is_empty() && date_bound(s, false).is_none() {
                return Some(rust_i18n::t!("catalog.bad_date", value = s.trim()).into_owned());
            }
        }
        None
    }

    /// The request for page `offset` over `aoi` (a GeoJSON geometry); unset bounds are omitted.
    pub fn query(&self, aoi: serde_json::Value, offset: i64) -> CatalogQuery {
        let mut q = CatalogQuery::new(aoi);
        q.offset = offset;
        q.acquisition_date_from = date_bound(&self.date_from, false);
        q.acquisition_date_to = date_bound(&self.date_to, true);
        q.max_cloud_cover = (self.max_cloud < 100.0).then_some(self.max_cloud);
        q.min_off_nadir_angle = (self.off_nadir[0] > 0.0).then_some(self.off_nadir[0]);
        q.max_off_nadir_angle = (self.off_nadir[1] < MAX_OFF_NADIR).then_some(self.off_nadir[1]);
        q.min_aoi_intersection_percent = (self.min_intersection > 0.0).then_some(self.min_intersection);
        q.min_resolution = (self.resolution[0] > 0.0).then_some(self.resolution[0]);
        q.max_resolution = (self.resolution[1] < MAX_RESOLUTION).then_some(self.resolution[1]);
        q.product_types = match (self.images, self.mosaics) {
            (true, false) => Some(vec!["IMAGE".into()]),
            (false, true) => Some(vec!["MOSAIC".into()]),
            _ => None,
        };
        q.data_providers = (!self.providers.is_empty()).then(|| self.providers.iter().cloned().collect());
        q.hide_unavailable = self.only_available.then_some(true);
        q.sort_by = self.sort_by;
        q.sort_order = self.sort_by.map(|_| self.sort_order);
        q
    }

    /// Whether `image` passes the filters as they are now; missing metadata passes.
    pub fn matches(&self, image: &CatalogImage) -> bool {
        let within = |v: Option<f64>, lo: f64, hi: f64| v.is_none_or(|v| v >= lo && v <= hi);
        let date_ok = image.acquisition_date.as_deref().is_none_or(|d| {
            let day = d.get(..10).unwrap_or(d);
            (self.date_from.trim().is_empty() || day >= self.date_from.trim())
                && (self.date_to.trim().is_empty() || day <= self.date_to.trim())
        });
        let kind_ok = image
            .product_type
            .as_deref()
            .is_none_or(|t| if t.eq_ignore_ascii_case("mosaic") { self.mosaics } else { self.images });
        let provider_ok =
            self.providers.is_empty() || image.provider_name.as_deref().is_none_or(|p| self.providers.contains(p));
        date_ok
            && kind_ok
            && provider_ok
            && within(image.cloud_cover, 0.0, self.max_cloud)
            && within(
                image.off_nadir_angle,
                self.off_nadir[0],
                if self.off_nadir[1] >= MAX_OFF_NADIR { f64::INFINITY } else { self.off_nadir[1] },
            )
            && within(image.aoi_intersection_percent, self.min_intersection, f64::INFINITY)
            && within(
                image.pixel_resolution,
                self.resolution[0],
                if self.resolution[1] >= MAX_RESOLUTION { f64::INFINITY } else { self.resolution[1] },
            )
    }
}

/// A preview image: loading, decoded (the UI makes a texture of it), or why it failed.
pub type PreviewState = Remote<Arc<egui::ColorImage>, String>;

/// What the catalog panel shows.
#[derive(Default)]
pub struct CatalogState {
    pub results: Remote<CatalogPage>,
    /// The query of the results shown (paging and sorting start from it).
    pub query: Option<CatalogQuery>,
    pub selected: BTreeSet<String>,
    /// The row highlighted and zoomed to.
    pub focused: Option<String>,
    pub previews: HashMap<String, PreviewState>,
    /// The image whose preview is laid on the map, and its opacity.
    pub on_map: Option<String>,
    pub on_map_opacity: f32,
    /// A search refused before it was sent (area over the limit, bad date).
    pub refused: Option<String>,
}

impl CatalogState {
    /// The image with `id` in the results.
    pub fn image(&self, id: &str) -> Option<&CatalogImage> {
        self.results.value().and_then(|p| p.images.iter().find(|i| i.id == id))
    }

    /// Asks for a preview unless it is known already.
    pub fn want_preview(&mut self, url: &str) -> Option<Command> {
        if self.previews.contains_key(url) {
            return None;
        }
        self.previews.insert(url.to_owned(), PreviewState::pending());
        Some(Command::FetchPreview { url: url.to_owned() })
    }
}

impl AppState {
    /// Searches over the current AOI with the current filters, from page `offset`.
    pub fn search_catalog(&mut self, offset: i64) -> Option<Command> {
        // The user's own search wins over the one a first run would make.
        self.first_look_search = None;
        let limits = self.aoi_limits();
        let (aoi, _) = self.settings.aoi.checked(&limits);
        let aoi = aoi.clone();
        self.search_catalog_over(&aoi, offset)
    }

    /// Searches over `aoi` with the current filters, from page `offset`.
    pub fn search_catalog_over(&mut self, aoi: &crate::geo::Aoi, offset: i64) -> Option<Command> {
        self.catalog.refused = None;
        let search_limit = self.status.value().and_then(|s| s.search_area_limit);
        if aoi.is_empty() {
            self.catalog.refused = Some(rust_i18n::t!("catalog.no_aoi").into_owned());
            return None;
        }
        let area = aoi.total_area_m2();
        if let Some(limit) = search_limit
            && limit > 0
            && area > limit as f64
        {
            // Too large to search now: a planned search runs in the background instead.
            self.templates.offer_for_large_aoi = true;
            self.catalog.refused = Some(
                rust_i18n::t!(
                    "catalog.too_large",
                    area = super::messages::km2_text(area),
                    limit = super::messages::km2_text(limit as f64)
                )
                .into_owned(),
            );
            return None;
        }
        if let Some(p) = self.settings.catalog.date_problem() {
            self.catalog.refused = Some(p);
            return None;
        }
        let geometry = serde_json::to_value(aoi.to_geometry()).ok()?;
        let query = self.settings.catalog.query(geometry, offset);
        self.catalog.query = Some(query.clone());
        self.catalog.results.start();
        Some(Command::SearchCatalog { query })
    }

    /// Applies catalog events.
    pub(super) fn apply_catalog_event(&mut self, event: Event) {
        match event {
            Event::CatalogResults { query, result } => {
                if self.catalog.query.as_ref() != Some(&*query) {
                    return;
                }
                if let Ok(page) = &result {
                    let ids: BTreeSet<&str> = page.images.iter().map(|i| i.id.as_str()).collect();
                    self.catalog.selected.retain(|id| ids.contains(id.as_str()));
                    self.settings.catalog_last = Some((query.as_ref().clone(), page.clone()));
                }
                self.catalog.results.finish(result);
            }
            // Only a preview still wanted (one asked for and not cleared since) is kept.
            Event::Preview { url, result } => {
                if let Some(preview) = self.catalog.previews.get_mut(&url) {
                    preview.finish(result);
                }
            }
            other => tracing::error!("event not handled here: {other:?}"),
        }
    }

    /// Forgets the search: its results, selection and the scene on the map. An answer still
    /// coming for it is dropped (no query is wanted any more).
    pub fn clear_catalog(&mut self) {
        self.catalog.results.reset();
        self.catalog.query = None;
        self.catalog.selected.clear();
        self.catalog.on_map = None;
        self.settings.catalog_last = None;
    }

    /// Restores the last search's results (from the settings) after a restart.
    pub fn restore_catalog(&mut self) {
        if let Some((query, page)) = self.settings.catalog_last.clone() {
            self.catalog.query = Some(query);
            self.catalog.results = Remote::ready(page);
        }
    }

    /// Makes the selected images the processing source and clips the AOI to their footprints.
    pub fn process_selected(&mut self) -> Result<(), String> {
        use rust_i18n::t;
        let images: Vec<CatalogImage> =
            self.catalog.selected.iter().filter_map(|id| self.catalog.image(id)).cloned().collect();
        if images.is_empty() {
            return Err(t!("catalog.select_first").into_owned());
        }
        let kinds: BTreeSet<String> =
            images.iter().map(|i| i.product_type.clone().unwrap_or_default().to_lowercase()).collect();
        if kinds.len() > 1 {
            return Err(t!("catalog.one_kind").into_owned());
        }
        let providers: BTreeSet<String> = images.iter().filter_map(|i| i.provider_name.clone()).collect();
        let mosaics = kinds.iter().next().is_some_and(|k| k == "mosaic");
        if providers.len() > 1 && !mosaics {
            return Err(t!("catalog.one_provider").into_owned());
        }
        let footprints: Vec<geo_types::Polygon<f64>> = images
            .iter()
            .filter_map(|i| i.footprint.as_ref())
            .filter_map(|f| crate::geo::parse_geojson(&f.to_string()).ok())
            .flat_map(|a| a.polygons)
            .collect();
        let clipped = crate::geo::clip_to(&self.settings.aoi.aoi, &footprints);
        if clipped.is_empty() {
            return Err(t!("catalog.no_overlap").into_owned());
        }
        // Scenes too coarse for the chosen model would be charged and then fail.
        let pixel_size = images.iter().filter_map(|i| i.pixel_resolution).reduce(f64::max);
        let models = self.models();
        if let Some(why) = self.settings.form.model(&models).and_then(|m| super::guards::coarse_imagery(m, pixel_size))
        {
            return Err(why);
        }
        let form = &mut self.settings.form;
        form.source = super::form::SourceKind::Catalog;
        form.catalog = super::form::CatalogSource {
            provider: providers.iter().next().cloned().unwrap_or_default(),
            image_ids: images.iter().map(|i| i.id.clone()).collect(),
            zoom: images.iter().filter_map(|i| i.zoom).min().and_then(|z| u8::try_from(z).ok()),
            pixel_size,
            coverage: Some(crate::geo::Aoi { polygons: footprints }),
        };
        self.settings.aoi.replace(clipped);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(cloud: Option<f64>, nadir: Option<f64>, kind: &str, date: &str) -> CatalogImage {
        CatalogImage {
            id: "x".into(),
            cloud_cover: cloud,
            off_nadir_angle: nadir,
            product_type: Some(kind.into()),
            acquisition_date: Some(date.into()),
            ..CatalogImage::default()
        }
    }

    #[test]
    fn local_matching_follows_the_filters_and_null_passes() {
        let mut f = CatalogFilters { max_cloud: 20.0, ..CatalogFilters::default() };
        assert!(f.matches(&image(Some(10.0), None, "Image", "2025-01-01")));
        assert!(!f.matches(&image(Some(30.0), None, "Image", "2025-01-01")));
        assert!(f.matches(&image(None, None, "Image", "2025-01-01")), "missing metadata matches");
        f.mosaics = false;
        assert!(!f.matches(&image(None, None, "MOSAIC", "2025-01-01")));
        f.date_from = "2025-02-01".into();
        assert!(!f.matches(&image(None, None, "Image", "2025-01-31T10:00:00Z")));
        assert!(f.matches(&image(None, None, "Image", "2025-02-01T00:00:00Z")));
        f.off_nadir = [5.0, 20.0];
        assert!(!f.matches(&image(None, Some(25.0), "Image", "2025-03-01")));
    }

    #[test]
    fn query_sends_only_set_bounds() {
        let f = CatalogFilters { max_cloud: 30.0, images: true, mosaics: false, ..CatalogFilters::default() };
        let q = f.query(serde_json::json!({}), 100);
        let v = serde_json::to_value(&q).unwrap();
        assert_eq!(v["maxCloudCover"], 30.0);
        assert_eq!(v["productTypes"], serde_json::json!(["IMAGE"]));
        assert_eq!(v["offset"], 100);
        assert!(v.get("maxOffNadirAngle").is_none());
        assert!(v.get("dataProviders").is_none());
        let bad = CatalogFilters { date_from: "yesterday".into(), ..CatalogFilters::default() };
        assert!(bad.date_problem().is_some());
    }
}
