//! The new-processing form: what the user picked, and the request it becomes.

use super::guards;
use crate::api::{
    BlockToggle, ProcessingParams, ProcessingRequest, ProjectId, Provider, SourceParams, UserSourceType, WorkflowDef,
    WorkflowDefId, app_meta,
};
use crate::geo::Aoi;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Which kind of imagery the processing uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceKind {
    #[default]
    Provider,
    MyImagery,
    Catalog,
    Custom,
}

/// A user-defined tile service. The password is never written to disk nor printed.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomSource {
    pub source_type: UserSourceType,
    pub url: String,
    pub zoom: u8,
    /// `epsg:3857` or `epsg:3395`.
    pub crs: String,
    pub login: String,
    #[serde(skip)]
    pub password: String,
}

impl std::fmt::Debug for CustomSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomSource")
            .field("source_type", &self.source_type)
            .field("url", &self.url)
            .field("zoom", &self.zoom)
            .field("crs", &self.crs)
            .field("login", &self.login)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .finish()
    }
}

impl Default for CustomSource {
    fn default() -> Self {
        Self {
            source_type: UserSourceType::Xyz,
            url: String::new(),
            zoom: 18,
            crs: "epsg:3857".into(),
            login: String::new(),
            password: String::new(),
        }
    }
}

/// The user's own imagery: a whole mosaic or some of its images.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MyImagerySource {
    pub mosaic_id: Option<String>,
    pub image_ids: Vec<String>,
    /// What to show for the choice (the mosaic's name, file names).
    pub label: String,
    /// The images' footprints, when known: only the AOI inside them is processed.
    pub coverage: Option<Aoi>,
}

/// Images picked from a catalog search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CatalogSource {
    pub provider: String,
    pub image_ids: Vec<String>,
    pub zoom: Option<u8>,
    /// The coarsest pixel size of the images picked, m.
    pub pixel_size: Option<f64>,
    /// The images' footprints, when known: only the AOI inside them is processed.
    pub coverage: Option<Aoi>,
}

/// What the form holds; it persists with the settings (the custom password excepted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessingForm {
    pub name: String,
    pub model: Option<WorkflowDefId>,
    /// Optional blocks switched on.
    pub enabled_blocks: BTreeSet<String>,
    pub source: SourceKind,
    pub provider: String,
    pub provider_zoom: u8,
    pub my_imagery: MyImagerySource,
    pub catalog: CatalogSource,
    pub custom: CustomSource,
}

impl Default for ProcessingForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            model: None,
            enabled_blocks: BTreeSet::new(),
            source: SourceKind::default(),
            provider: String::new(),
            provider_zoom: 18,
            my_imagery: MyImagerySource::default(),
            catalog: CatalogSource::default(),
            custom: CustomSource::default(),
        }
    }
}

/// Why the form cannot become a request yet; each names the field to fix.
#[derive(Debug, Clone, PartialEq)]
pub enum FormProblem {
    NoProject,
    NoName,
    NoModel,
    NoProvider,
    NoImagery,
    NoCatalogImages,
    BadUrl,
    NoAoi,
    /// The zoom is outside what the model and the imagery support.
    ZoomOutOfRange {
        zoom: u8,
        min: u8,
        max: u8,
        model: String,
    },
    /// The imagery stops below the zoom the model needs.
    NoZoomFits {
        model: String,
        min: u8,
        provider: String,
        max: u8,
    },
    /// The images picked are coarser than the model reads.
    CoarseImagery {
        model: String,
        actual: f64,
        max: f64,
    },
    /// The AOI does not overlap the chosen imagery.
    OutsideImagery,
}

impl FormProblem {
    pub fn message(&self) -> String {
        use rust_i18n::t;
        match self {
            Self::NoProject => t!("form.problem.no_project"),
            Self::NoName => t!("form.problem.no_name"),
            Self::NoModel => t!("form.problem.no_model"),
            Self::NoProvider => t!("form.problem.no_provider"),
            Self::NoImagery => t!("form.problem.no_imagery"),
            Self::NoCatalogImages => t!("form.problem.no_catalog"),
            Self::BadUrl => t!("form.problem.bad_url"),
            Self::NoAoi => t!("form.problem.no_aoi"),
            Self::ZoomOutOfRange { zoom, min, max, model } => {
                t!("guards.zoom_out_of_range", zoom = zoom, min = min, max = max, model = model)
            }
            Self::NoZoomFits { model, min, provider, max } => {
                t!("guards.no_zoom_fits", model = model, min = min, provider = provider, max = max)
            }
            Self::CoarseImagery { model, actual, max } => {
                t!("guards.coarse_imagery", model = model, actual = format!("{actual:.2}"), max = format!("{max:.1}"))
            }
            Self::OutsideImagery => t!("guards.outside_imagery"),
        }
        .into_owned()
    }
}

impl ProcessingForm {
    /// The chosen model among `models`, if it is still offered.
    pub fn model<'a>(&self, models: &'a [WorkflowDef]) -> Option<&'a WorkflowDef> {
        self.model.as_ref().and_then(|id| models.iter().find(|m| &m.id == id))
    }

    /// Price per km² of the chosen model with the enabled optional blocks.
    pub fn price_per_km2(&self, models: &[WorkflowDef]) -> Option<f64> {
        let model = self.model(models)?;
        let enabled: Vec<&str> = self.enabled_blocks.iter().map(String::as_str).collect();
        Some(model.price_with(&enabled))
    }

    /// Picks sensible defaults for what is unset: the first model and provider.
    pub fn fill_defaults(&mut self, models: &[WorkflowDef], providers: &[Provider]) {
        if self.model(models).is_none()
            && let Some(m) = models.first()
        {
            self.model = Some(m.id.clone());
            self.enabled_blocks = m.blocks.iter().filter(|b| b.optional).map(|b| b.name.clone()).collect();
        }
        if !providers.iter().any(|p| p.name == self.provider)
            && let Some(p) = providers.first()
        {
            self.provider = p.name.clone();
        }
    }

    /// The zooms the chosen model can run at with the chosen imagery: `Ok(None)` when the
    /// source has no zoom to choose, `Err` when no zoom fits.
    pub fn zoom_range(
        &self,
        models: &[WorkflowDef],
        providers: &[Provider],
    ) -> Result<Option<std::ops::RangeInclusive<u8>>, FormProblem> {
        let model = self.model(models);
        let max = match self.source {
            SourceKind::Provider => {
                let Some(p) = providers.iter().find(|p| p.name == self.provider) else { return Ok(None) };
                (guards::provider_max_zoom(p), p.label().to_owned())
            }
            SourceKind::Custom => (None, String::new()),
            SourceKind::MyImagery | SourceKind::Catalog => return Ok(None),
        };
        match guards::zoom_range(model, max.0) {
            Some(r) => Ok(Some(r)),
            None => Err(FormProblem::NoZoomFits {
                model: model.map(|m| guards::plain_name(&m.name)).unwrap_or_default(),
                min: model.map_or(0, guards::model_min_zoom),
                provider: max.1,
                max: max.0.unwrap_or(guards::MAX_ZOOM),
            }),
        }
    }

    /// The zoom the source asks for, if the user chooses one.
    pub fn zoom(&self) -> Option<u8> {
        match self.source {
            SourceKind::Provider => Some(self.provider_zoom),
            SourceKind::Custom => Some(self.custom.zoom),
            SourceKind::MyImagery | SourceKind::Catalog => None,
        }
    }

    /// Moves a zoom the model or the imagery cannot run at (one saved before, or left from
    /// another model) into their range; the old zoom when it changed.
    pub fn correct_zoom(&mut self, models: &[WorkflowDef], providers: &[Provider]) -> Option<u8> {
        let Ok(Some(range)) = self.zoom_range(models, providers) else { return None };
        let zoom = match self.source {
            SourceKind::Provider => &mut self.provider_zoom,
            SourceKind::Custom => &mut self.custom.zoom,
            SourceKind::MyImagery | SourceKind::Catalog => return None,
        };
        let fixed = guards::clamp_zoom(*zoom, &range);
        (fixed != *zoom).then(|| std::mem::replace(zoom, fixed))
    }

    /// The footprints of the chosen imagery, when the source has them.
    pub fn coverage(&self) -> Option<&Aoi> {
        match self.source {
            SourceKind::MyImagery => self.my_imagery.coverage.as_ref(),
            SourceKind::Catalog => self.catalog.coverage.as_ref(),
            SourceKind::Provider | SourceKind::Custom => None,
        }
    }

    /// The part of `aoi` that the chosen imagery covers: what is processed and charged.
    /// The whole AOI when the imagery's footprints are not known.
    pub fn covered(&self, aoi: &Aoi) -> Aoi {
        match self.coverage() {
            Some(cover) => crate::geo::clip_to(aoi, &cover.polygons),
            None => aoi.clone(),
        }
    }

    /// The checks of the model against the imagery: zoom range and pixel size.
    fn check_imagery(&self, model: &WorkflowDef, providers: &[Provider]) -> Result<(), FormProblem> {
        let models = std::slice::from_ref(model);
        if let Some(range) = self.zoom_range(models, providers)?
            && let Some(zoom) = self.zoom()
            && !range.contains(&zoom)
        {
            return Err(FormProblem::ZoomOutOfRange {
                zoom,
                min: *range.start(),
                max: *range.end(),
                model: guards::plain_name(&model.name),
            });
        }
        let max = guards::model_max_pixel_size(model);
        if self.source == SourceKind::Catalog
            && let Some(actual) = self.catalog.pixel_size
            && actual > max + 1e-9
        {
            return Err(FormProblem::CoarseImagery { model: guards::plain_name(&model.name), actual, max });
        }
        Ok(())
    }

    fn source_params(&self) -> Result<SourceParams, FormProblem> {
        Ok(match self.source {
            SourceKind::Provider => {
                if self.provider.is_empty() {
                    return Err(FormProblem::NoProvider);
                }
                SourceParams::DataProvider { provider_name: self.provider.clone(), zoom: Some(self.provider_zoom) }
            }
            SourceKind::MyImagery => match (&self.my_imagery.mosaic_id, self.my_imagery.image_ids.is_empty()) {
                (_, false) => {
                    SourceParams::MyImagery { image_ids: Some(self.my_imagery.image_ids.clone()), mosaic_id: None }
                }
                (Some(m), true) => SourceParams::MyImagery { image_ids: None, mosaic_id: Some(m.clone()) },
                (None, true) => return Err(FormProblem::NoImagery),
            },
            SourceKind::Catalog => {
                if self.catalog.image_ids.is_empty() || self.catalog.provider.is_empty() {
                    return Err(FormProblem::NoCatalogImages);
                }
                SourceParams::ImagerySearch {
                    data_provider: self.catalog.provider.clone(),
                    image_ids: self.catalog.image_ids.clone(),
                    zoom: self.catalog.zoom,
                }
            }
            SourceKind::Custom => {
                let c = &self.custom;
                if !custom_url_ok(c.source_type, &c.url) {
                    return Err(FormProblem::BadUrl);
                }
                let nonempty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
                SourceParams::UserDefined {
                    source_type: c.source_type,
                    url: c.url.trim().to_owned(),
                    zoom: Some(c.zoom),
                    crs: c.crs.clone(),
                    raster_login: nonempty(&c.login),
                    raster_password: nonempty(&c.password).map(crate::api::Secret::new),
                }
            }
        })
    }

    /// The request to create (or, with `for_cost`, estimate) the processing over the part
    /// of `aoi` its imagery covers.
    pub fn request(
        &self,
        project: Option<&ProjectId>,
        models: &[WorkflowDef],
        providers: &[Provider],
        aoi: &Aoi,
        for_cost: bool,
    ) -> Result<ProcessingRequest, FormProblem> {
        let project = project.ok_or(FormProblem::NoProject)?;
        if !for_cost && self.name.trim().is_empty() {
            return Err(FormProblem::NoName);
        }
        let model = self.model(models).ok_or(FormProblem::NoModel)?;
        if aoi.is_empty() {
            return Err(FormProblem::NoAoi);
        }
        let source_params = self.source_params()?;
        self.check_imagery(model, providers)?;
        let aoi = &self.covered(aoi);
        if aoi.is_empty() {
            return Err(FormProblem::OutsideImagery);
        }
        let blocks = model
            .blocks
            .iter()
            .filter(|b| b.optional)
            .map(|b| BlockToggle { name: b.name.clone(), enabled: self.enabled_blocks.contains(&b.name) })
            .collect();
        let geometry = serde_json::to_value(aoi.to_geometry()).map_err(|_| FormProblem::NoAoi)?;
        Ok(ProcessingRequest {
            // The name does not change the price: an estimate never waits for one.
            name: if for_cost { "estimate".into() } else { self.name.trim().to_owned() },
            description: None,
            project_id: project.clone(),
            wd_id: Some(model.id.clone()),
            wd_name: None,
            geometry: Some(geometry),
            area_sq_km: None,
            params: ProcessingParams { source_params, inference_params: None },
            blocks,
            meta: Some(app_meta()),
        })
    }
}

/// Whether a custom imagery URL has the placeholders its type needs.
pub fn custom_url_ok(kind: UserSourceType, url: &str) -> bool {
    let url = url.trim();
    let http = url.starts_with("http://") || url.starts_with("https://");
    match kind {
        UserSourceType::Xyz => http && url.contains("{z}") && url.contains("{x}") && url.contains("{y}"),
        UserSourceType::Tms => {
            http && url.contains("{z}") && url.contains("{x}") && (url.contains("{y}") || url.contains("{-y}"))
        }
        UserSourceType::Quadkey => http && url.contains("{q}"),
        UserSourceType::SentinelL2a | UserSourceType::Local => !url.is_empty(),
    }
}

impl super::AppState {
    /// The limits that apply to the AOI: the project's (the owner's, when shared), the account's
    /// and the chosen provider's minimum.
    pub fn aoi_limits(&self) -> crate::geo::AoiLimits {
        let status = self.status.value();
        let project_limit = self.open_project.value().and_then(|p| p.user.as_ref()).and_then(|u| u.aoi_area_limit);
        let provider_min = match self.settings.form.source {
            SourceKind::Provider => status
                .and_then(|s| s.data_providers.iter().find(|p| p.name == self.settings.form.provider))
                .and_then(|p| p.min_area_sq_km),
            _ => None,
        };
        crate::geo::AoiLimits {
            aoi_area_limit_m2: project_limit.or(status.and_then(|s| s.aoi_area_limit)).map(|v| v as f64),
            max_aois: status.and_then(|s| s.max_aois_per_processing).map(|v| v.max(0) as usize),
            provider_min_area_km2: provider_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Block;

    fn model() -> WorkflowDef {
        WorkflowDef {
            id: WorkflowDefId("m1".into()),
            name: "Buildings".into(),
            blocks: vec![
                Block { name: "Segmentation".into(), price: 5.0, optional: false, ..Block::default() },
                Block { name: "Classification".into(), price: 2.0, optional: true, ..Block::default() },
                Block { name: "Heights".into(), price: 3.0, optional: true, ..Block::default() },
            ],
            ..WorkflowDef::default()
        }
    }

    #[test]
    fn builds_a_provider_request_with_block_toggles() {
        let models = vec![model()];
        let providers = vec![Provider { name: "Mapbox".into(), ..Provider::default() }];
        let mut form = ProcessingForm { name: "Run".into(), ..ProcessingForm::default() };
        form.fill_defaults(&models, &providers);
        form.enabled_blocks.remove("Heights");
        assert_eq!(form.price_per_km2(&models), Some(7.0));
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.01, 0.01]);
        let req = form.request(Some(&ProjectId("p".into())), &models, &providers, &aoi, false).unwrap();
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["params"]["sourceParams"]["dataProvider"]["providerName"], "Mapbox");
        assert_eq!(json["params"]["sourceParams"]["dataProvider"]["zoom"], 18);
        assert_eq!(json["wdId"], "m1");
        assert_eq!(json["geometry"]["type"], "Polygon");
        assert_eq!(
            json["blocks"],
            serde_json::json!([{"name": "Classification", "enabled": true}, {"name": "Heights", "enabled": false}])
        );
        assert!(json.get("description").is_none(), "nulls are omitted");
        assert_eq!(json["meta"]["source-app"], "mapflow-desktop");
    }

    #[test]
    fn each_missing_piece_is_named() {
        let models = vec![model()];
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.01, 0.01]);
        let p = ProjectId("p".into());
        let mut form = ProcessingForm::default();
        assert_eq!(form.request(None, &models, &[], &aoi, false), Err(FormProblem::NoProject));
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::NoName));
        form.name = "x".into();
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::NoModel));
        form.model = Some(WorkflowDefId("m1".into()));
        assert_eq!(form.request(Some(&p), &models, &[], &Aoi::default(), false), Err(FormProblem::NoAoi));
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::NoProvider));
        form.source = SourceKind::Custom;
        form.custom.url = "https://tiles.example/{z}/{x}.png".into();
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::BadUrl));
        form.custom.url = "https://tiles.example/{z}/{x}/{y}.png".into();
        form.custom.password = "secret".into();
        let req = form.request(Some(&p), &models, &[], &aoi, false).unwrap();
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(json["params"]["sourceParams"]["userDefined"]["sourceType"], "XYZ");
        assert_eq!(json["params"]["sourceParams"]["userDefined"]["rasterPassword"], "secret");
        let saved = serde_json::to_string(&form).unwrap();
        assert!(!saved.contains("secret"), "the password is never saved");
        assert!(!format!("{form:?}").contains("secret"), "nor printed");
        assert!(!format!("{req:?}").contains("secret"), "nor printed in the request");
        form.source = SourceKind::MyImagery;
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::NoImagery));
        form.my_imagery.mosaic_id = Some("mo".into());
        let json = serde_json::to_value(form.request(Some(&p), &models, &[], &aoi, false).unwrap()).unwrap();
        assert_eq!(json["params"]["sourceParams"]["myImagery"], serde_json::json!({"mosaicId": "mo"}));
    }

    fn priced(name: &str, steps: &[(i64, f64)]) -> Provider {
        Provider {
            name: name.into(),
            price: steps.iter().map(|&(zoom, price_sq_km)| crate::api::ProviderPrice { zoom, price_sq_km }).collect(),
            ..Provider::default()
        }
    }

    #[test]
    fn zoom_is_kept_to_what_model_and_provider_support() {
        let models = vec![model()];
        let providers = vec![priced("Mapbox", &[(17, 0.5), (18, 1.0)])];
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.01, 0.01]);
        let p = ProjectId("p".into());
        let mut form = ProcessingForm { name: "x".into(), provider_zoom: 12, ..ProcessingForm::default() };
        form.fill_defaults(&models, &providers);
        assert_eq!(form.zoom_range(&models, &providers), Ok(Some(17..=18)));
        let problem = form.request(Some(&p), &models, &providers, &aoi, false);
        assert!(matches!(problem, Err(FormProblem::ZoomOutOfRange { zoom: 12, min: 17, max: 18, .. })), "{problem:?}");
        assert_eq!(form.correct_zoom(&models, &providers), Some(12));
        assert_eq!(form.provider_zoom, 17);
        assert_eq!(form.correct_zoom(&models, &providers), None, "nothing left to correct");
        assert!(form.request(Some(&p), &models, &providers, &aoi, false).is_ok());

        let aerial = WorkflowDef { name: "🏠 Buildings (Aerial)".into(), ..model() };
        form.model = Some(aerial.id.clone());
        let aerial = vec![aerial];
        let problem = form.request(Some(&p), &aerial, &providers, &aoi, false);
        assert!(matches!(problem, Err(FormProblem::NoZoomFits { min: 19, max: 18, .. })), "{problem:?}");
        assert!(problem.unwrap_err().message().contains("Buildings (Aerial)"));
    }

    #[test]
    fn coarse_scenes_and_uncovered_areas_are_refused() {
        let models = vec![model()];
        let p = ProjectId("p".into());
        let aoi = Aoi::from_bbox([0.0, 0.0, 0.02, 0.02]);
        let mut form = ProcessingForm { name: "x".into(), source: SourceKind::Catalog, ..ProcessingForm::default() };
        form.model = Some(WorkflowDefId("m1".into()));
        form.catalog = CatalogSource {
            provider: "Sentinel-2".into(),
            image_ids: vec!["s2".into()],
            pixel_size: Some(10.0),
            ..CatalogSource::default()
        };
        let problem = form.request(Some(&p), &models, &[], &aoi, false);
        assert!(matches!(problem, Err(FormProblem::CoarseImagery { max: 1.2, .. })), "{problem:?}");
        assert!(problem.unwrap_err().message().contains("10.00"));

        form.source = SourceKind::MyImagery;
        form.my_imagery = MyImagerySource {
            image_ids: vec!["i".into()],
            coverage: Some(Aoi::from_bbox([0.01, 0.0, 0.05, 0.05])),
            ..MyImagerySource::default()
        };
        let covered = form.covered(&aoi).total_area_m2() / aoi.total_area_m2();
        assert!((covered - 0.5).abs() < 0.01, "{covered}");
        let req = form.request(Some(&p), &models, &[], &aoi, false).unwrap();
        let sent = crate::geo::parse_geojson(&req.geometry.unwrap().to_string()).unwrap();
        assert!((sent.total_area_m2() / aoi.total_area_m2() - 0.5).abs() < 0.01, "only the covered half is sent");
        form.my_imagery.coverage = Some(Aoi::from_bbox([1.0, 1.0, 1.1, 1.1]));
        assert_eq!(form.request(Some(&p), &models, &[], &aoi, false), Err(FormProblem::OutsideImagery));
    }
}
