//! Planned processings (search templates): a background catalog search over saved AOIs
//! that keeps finding new imagery, and the processings started from what it finds.
//!
//! Shapes as the service answers them, read leniently: a template `{id, name, status,
//! isActive, isArchived, createdAt, userId, projectId, activeUntil, lastCheckedAt,
//! searchParams, processingParams, searchResults, area, newImagesCount}`, its AOIs in
//! `searchParams.aoiDetails` (a FeatureCollection of Polygon features with `{id, name,
//! processings, hasNewImages}`). The by-project list (what a poll reads) has no
//! `searchParams`.

use super::client::{Client, Idempotency, path_segment, timeouts, to_body};
use super::error::{ApiError, ErrorKind};
use super::models::*;
use super::processings::{BlockToggle, ProcessingParams};
use reqwest::Method;
use serde::{Deserialize, Serialize};

/// Longest AOI name a template accepts, in characters.
pub const MAX_TEMPLATE_AOI_NAME_CHARS: usize = 64;

/// A template's id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TemplateId(pub String);

impl std::fmt::Display for TemplateId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TemplateId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// Where a template's search is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum TemplateStatus {
    /// A search runs.
    Searching,
    /// Ready; not checked for new imagery yet.
    #[default]
    Created,
    /// Checked for new imagery at least once.
    Updated,
    /// The search failed; it may be resumed.
    Failed,
    /// Paused (or past `activeUntil`).
    Inactive,
    /// A status this client does not know, as sent.
    Other(String),
}

impl From<String> for TemplateStatus {
    fn from(s: String) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "SEARCHING" => Self::Searching,
            "CREATED" => Self::Created,
            "UPDATED" => Self::Updated,
            "FAILED" => Self::Failed,
            "INACTIVE" => Self::Inactive,
            _ => Self::Other(s),
        }
    }
}

impl From<TemplateStatus> for String {
    fn from(s: TemplateStatus) -> String {
        match s {
            TemplateStatus::Searching => "SEARCHING".into(),
            TemplateStatus::Created => "CREATED".into(),
            TemplateStatus::Updated => "UPDATED".into(),
            TemplateStatus::Failed => "FAILED".into(),
            TemplateStatus::Inactive => "INACTIVE".into(),
            TemplateStatus::Other(s) => s,
        }
    }
}

/// A processing as an AOI of a template lists it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AoiProcessing {
    #[serde(deserialize_with = "null_default")]
    pub processing_id: ProcessingId,
    #[serde(deserialize_with = "null_default")]
    pub processing_name: String,
    #[serde(deserialize_with = "null_default")]
    pub processing_status: ProcessingStatus,
    #[serde(deserialize_with = "lenient_i64")]
    pub area: i64,
    /// The processing's footprint (GeoJSON).
    pub geometry: Option<serde_json::Value>,
    pub project_id: Option<ProjectId>,
}

/// The properties of an AOI feature: `{id?, name?, processings, hasNewImages}`. A create
/// request sends only `name` (and `id` when known).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AoiProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    // `name?`: an AOI without one is sent without the key, not with `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_vec")]
    pub processings: Option<Vec<AoiProcessing>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_new_images: Option<bool>,
}

/// One AOI of a template: a Polygon feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AoiFeature {
    #[serde(rename = "type", default = "feature_type")]
    pub kind: String,
    #[serde(default)]
    pub geometry: serde_json::Value,
    #[serde(default, deserialize_with = "null_default")]
    pub properties: AoiProperties,
}

fn feature_type() -> String {
    "Feature".into()
}

fn collection_type() -> String {
    "FeatureCollection".into()
}

impl AoiFeature {
    /// A Polygon AOI, with a name or none, as a create request sends it.
    pub fn new(polygon: serde_json::Value, name: Option<String>) -> Self {
        Self { kind: feature_type(), geometry: polygon, properties: AoiProperties { name, ..AoiProperties::default() } }
    }

    /// The AOI's id, when the service has given it one.
    pub fn id(&self) -> Option<&str> {
        self.properties.id.as_deref()
    }

    pub fn processings(&self) -> &[AoiProcessing] {
        self.properties.processings.as_deref().unwrap_or_default()
    }
}

/// `aoiDetails`: the AOIs as a FeatureCollection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AoiDetails {
    #[serde(rename = "type", default = "collection_type")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub features: Vec<AoiFeature>,
}

impl AoiDetails {
    /// One Polygon feature per part of each (geometry, name): a MultiPolygon AOI is sent
    /// as one feature per part, each with the same name.
    pub fn from_aois(aois: impl IntoIterator<Item = (serde_json::Value, Option<String>)>) -> Self {
        let mut features = Vec::new();
        for (geometry, name) in aois {
            for polygon in polygon_parts(&geometry) {
                features.push(AoiFeature::new(polygon, name.clone()));
            }
        }
        Self { kind: collection_type(), features }
    }
}

/// The Polygon parts of a GeoJSON Polygon or MultiPolygon (nothing for other types).
pub fn polygon_parts(geometry: &serde_json::Value) -> Vec<serde_json::Value> {
    match geometry.get("type").and_then(|t| t.as_str()) {
        Some("Polygon") => vec![geometry.clone()],
        Some("MultiPolygon") => geometry
            .get("coordinates")
            .and_then(|c| c.as_array())
            .map(|parts| {
                parts.iter().map(|rings| serde_json::json!({"type": "Polygon", "coordinates": rings})).collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// `searchParams`: the catalog filters of `/catalog/meta` and the AOIs. Nulls are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemplateSearchParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_date_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_date_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub min_resolution: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub max_resolution: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub max_cloud_cover: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub min_off_nadir_angle: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub max_off_nadir_angle: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_f64")]
    pub min_aoi_intersection_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_providers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_unavailable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aoi_details: Option<AoiDetails>,
}

impl TemplateSearchParams {
    /// The filters of a catalog query, without its AOI.
    pub fn from_query(q: &super::catalog::CatalogQuery) -> Self {
        Self {
            acquisition_date_from: q.acquisition_date_from.clone(),
            acquisition_date_to: q.acquisition_date_to.clone(),
            min_resolution: q.min_resolution,
            max_resolution: q.max_resolution,
            max_cloud_cover: q.max_cloud_cover,
            min_off_nadir_angle: q.min_off_nadir_angle,
            max_off_nadir_angle: q.max_off_nadir_angle,
            min_aoi_intersection_percent: q.min_aoi_intersection_percent,
            data_providers: q.data_providers.clone().filter(|p| !p.is_empty()),
            product_types: q.product_types.clone(),
            hide_unavailable: q.hide_unavailable,
            aoi_details: None,
        }
    }

    /// The AOIs, none when the answer has no `aoiDetails`.
    pub fn aois(&self) -> &[AoiFeature] {
        self.aoi_details.as_ref().map(|d| d.features.as_slice()).unwrap_or_default()
    }
}

/// An image a template's search found: `{id, metadata}` (the catalog image), and whether
/// it is new (not seen yet) and the AOIs it covers, when the service says.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemplateImage {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub metadata: CatalogImage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_new: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aoi_ids: Option<Vec<String>>,
}

/// A planned processing (search template).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Template {
    #[serde(deserialize_with = "null_default")]
    pub id: TemplateId,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub status: TemplateStatus,
    #[serde(deserialize_with = "null_default")]
    pub is_active: bool,
    #[serde(deserialize_with = "null_default")]
    pub is_archived: bool,
    pub created_at: Option<String>,
    pub user_id: Option<String>,
    pub project_id: Option<ProjectId>,
    pub active_until: Option<String>,
    pub last_checked_at: Option<String>,
    /// Absent from the by-project list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_params: Option<TemplateSearchParams>,
    pub processing_params: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "lenient_opt_vec")]
    pub search_results: Option<Vec<TemplateImage>>,
    /// m².
    #[serde(deserialize_with = "lenient_i64")]
    pub area: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub new_images_count: i64,
}

impl Template {
    /// The AOIs, when the answer carried `searchParams` (not the by-project list).
    pub fn aois(&self) -> &[AoiFeature] {
        self.search_params.as_ref().map(TemplateSearchParams::aois).unwrap_or_default()
    }

    pub fn is_searching(&self) -> bool {
        self.status == TemplateStatus::Searching
    }
}

/// `{template, searchResults}`: what create, get, pause and resume answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemplateWithResults {
    #[serde(deserialize_with = "null_default")]
    pub template: Template,
    #[serde(deserialize_with = "lenient_vec")]
    pub search_results: Vec<TemplateImage>,
}

/// Body of `POST /processings/template`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateCreate {
    pub name: String,
    pub search_params: TemplateSearchParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_params: Option<serde_json::Value>,
    pub project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_until: Option<String>,
}

/// Body of `PUT /processings/template/{id}`: only what changes; `searchParams` are merged
/// into the stored ones and must not carry AOIs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemplateUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_params: Option<TemplateSearchParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_params: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active_until: Option<String>,
}

/// Body of `POST /processings/template/{id}/v2`: a processing started from the template, in
/// its project. Nulls are omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRun {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wd_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wd_id: Option<WorkflowDefId>,
    pub geometry: serde_json::Value,
    pub params: ProcessingParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<BlockToggle>,
    /// Take the processed area out of the template's AOIs.
    #[serde(default)]
    pub update_template_geometry: bool,
}

/// One AOI to add: `{geometry, name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateAoiInput {
    pub geometry: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Body of `POST …/aoi` with several AOIs: `{aois: [{geometry, name}]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateAoisInput {
    pub aois: Vec<TemplateAoiInput>,
}

/// Answer of `POST …/aoi`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AoisAdded {
    #[serde(deserialize_with = "lenient_i64")]
    pub added_count: i64,
    #[serde(deserialize_with = "null_default")]
    pub partitioning_triggered: bool,
}

/// Body of `POST …/aoi/{aoiId}`: a new name and/or geometry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemplateAoiUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
}

/// Body of `DELETE …/aoi`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateAoisDelete {
    pub aoi_ids: Vec<String>,
}

/// Answer of `DELETE …/aoi`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AoisDeleted {
    #[serde(deserialize_with = "lenient_i64")]
    pub deleted_count: i64,
}

/// Body of `POST …/images`: a page of what was found, over some AOIs (all when none), with
/// the filters that view may narrow it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateImagesQuery {
    pub limit: i64,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aoi_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_date_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_date_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cloud_cover: Option<f64>,
}

impl TemplateImagesQuery {
    pub fn page(limit: i64, offset: i64) -> Self {
        Self {
            limit,
            offset,
            aoi_ids: None,
            acquisition_date_from: None,
            acquisition_date_to: None,
            max_cloud_cover: None,
        }
    }
}

/// A page of found images: `{results, total, limit, offset}` (`images` read as `results`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TemplateImagesPage {
    #[serde(alias = "images", deserialize_with = "lenient_vec")]
    pub results: Vec<TemplateImage>,
    #[serde(deserialize_with = "lenient_i64")]
    pub total: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub limit: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub offset: i64,
}

/// A list whose items are decoded one by one, `null` read as none.
fn lenient_opt_vec<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Array(items)) => {
            Some(items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect())
        }
        _ => None,
    })
}

impl Processing {
    /// The flat v1 `params` of `GET …/template/{id}/processings` (`{url, zoom,
    /// data_provider}`), values as strings; empty for the v2 shape.
    pub fn flat_params(&self) -> std::collections::BTreeMap<String, String> {
        let Some(map) = self.params.as_object() else { return Default::default() };
        map.iter()
            .filter(|(_, v)| !v.is_object() && !v.is_null())
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())))
            .collect()
    }
}

fn check_aoi_name(name: Option<&str>) -> Result<(), ApiError> {
    match name {
        Some(n) if n.chars().count() > MAX_TEMPLATE_AOI_NAME_CHARS => Err(ApiError::new(ErrorKind::InvalidArgument(
            format!("an AOI name must be at most {MAX_TEMPLATE_AOI_NAME_CHARS} characters"),
        ))),
        _ => Ok(()),
    }
}

fn template_path(id: &TemplateId, rest: &str) -> Result<String, ApiError> {
    Ok(format!("/processings/template/{}{rest}", path_segment(&id.0)?))
}

impl Client {
    /// `POST /processings/template`: the search starts at once. Sent once.
    pub async fn create_template(&self, create: &TemplateCreate) -> Result<TemplateWithResults, ApiError> {
        if create.name.trim().is_empty() {
            return Err(ApiError::new(ErrorKind::InvalidArgument("a planned search needs a name".into())));
        }
        if create.search_params.aois().is_empty() {
            return Err(ApiError::new(ErrorKind::InvalidArgument("a planned search needs an AOI".into())));
        }
        for aoi in create.search_params.aois() {
            check_aoi_name(aoi.properties.name.as_deref())?;
        }
        let body = to_body(create)?;
        self.call(Method::POST, "/processings/template", Some(&body), timeouts::CREATE, Idempotency::Once).await
    }

    /// `GET /processings/template`: every template, with its `searchParams`.
    pub async fn templates(&self) -> Result<Vec<Template>, ApiError> {
        self.call(Method::GET, "/processings/template", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /processings/template/{id}` → `{template, searchResults}`.
    pub async fn template(&self, id: &TemplateId) -> Result<TemplateWithResults, ApiError> {
        self.call(Method::GET, &template_path(id, "")?, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /processings/template/project/{projectId}`: the project's templates, short
    /// (without `searchParams`): what a poll reads.
    pub async fn project_templates(&self, project: &ProjectId) -> Result<Vec<Template>, ApiError> {
        let path = format!("/processings/template/project/{}", path_segment(&project.0)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /processings/template/user/{userId}`.
    pub async fn user_templates(&self, user_id: &str) -> Result<Vec<Template>, ApiError> {
        let path = format!("/processings/template/user/{}", path_segment(user_id)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `PUT /processings/template/{id}`: a partial update. AOIs are changed through the
    /// AOI calls: `searchParams` with `aoiDetails` are refused here, as the service would.
    pub async fn update_template(&self, id: &TemplateId, update: &TemplateUpdate) -> Result<Template, ApiError> {
        if update.search_params.as_ref().is_some_and(|p| p.aoi_details.is_some()) {
            return Err(ApiError::new(ErrorKind::InvalidArgument(
                "a template's AOIs are changed with the AOI calls, not with an update".into(),
            )));
        }
        let body = to_body(update)?;
        self.call(Method::PUT, &template_path(id, "")?, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `DELETE /processings/template/{id}`.
    pub async fn delete_template(&self, id: &TemplateId) -> Result<(), ApiError> {
        self.call_unit(Method::DELETE, &template_path(id, "")?, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /processings/template/{id}/pause` → `{template, searchResults}`.
    pub async fn pause_template(&self, id: &TemplateId) -> Result<TemplateWithResults, ApiError> {
        self.call(Method::POST, &template_path(id, "/pause")?, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /processings/template/{id}/resume` → `{template, searchResults}`.
    pub async fn resume_template(&self, id: &TemplateId) -> Result<TemplateWithResults, ApiError> {
        self.call(Method::POST, &template_path(id, "/resume")?, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `GET /processings/template/{id}/processings`: the processings started from it, in
    /// the v1 shape (see [`Processing::flat_params`]).
    pub async fn template_processings(&self, id: &TemplateId) -> Result<Vec<Processing>, ApiError> {
        self.call(Method::GET, &template_path(id, "/processings")?, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `POST /processings/template/{id}/v2`: starts a processing from the template. Sent once.
    pub async fn run_template(&self, id: &TemplateId, run: &TemplateRun) -> Result<Processing, ApiError> {
        if run.name.trim().is_empty() {
            return Err(ApiError::new(ErrorKind::InvalidArgument("a processing needs a name".into())));
        }
        let body = to_body(run)?;
        self.call(Method::POST, &template_path(id, "/v2")?, Some(&body), timeouts::CREATE, Idempotency::Once).await
    }

    /// `POST /processings/template/{id}/aoi`: one AOI as `{geometry, name}`, several as
    /// `{aois: […]}`.
    pub async fn add_template_aois(&self, id: &TemplateId, aois: &[TemplateAoiInput]) -> Result<AoisAdded, ApiError> {
        for aoi in aois {
            check_aoi_name(aoi.name.as_deref())?;
        }
        let body = match aois {
            [] => return Err(ApiError::new(ErrorKind::InvalidArgument("no AOI to add".into()))),
            [one] => to_body(one)?,
            many => to_body(&TemplateAoisInput { aois: many.to_vec() })?,
        };
        self.call(Method::POST, &template_path(id, "/aoi")?, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /processings/template/{id}/aoi/{aoiId}`: renames and/or reshapes one AOI; the
    /// answer is the AOI feature.
    pub async fn update_template_aoi(
        &self,
        id: &TemplateId,
        aoi_id: &str,
        update: &TemplateAoiUpdate,
    ) -> Result<AoiFeature, ApiError> {
        check_aoi_name(update.name.as_deref())?;
        let path = template_path(id, &format!("/aoi/{}", path_segment(aoi_id)?))?;
        let body = to_body(update)?;
        self.call(Method::POST, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `DELETE /processings/template/{id}/aoi {aoiIds}`.
    pub async fn delete_template_aois(&self, id: &TemplateId, aoi_ids: &[String]) -> Result<AoisDeleted, ApiError> {
        let body = to_body(&TemplateAoisDelete { aoi_ids: aoi_ids.to_vec() })?;
        self.call(Method::DELETE, &template_path(id, "/aoi")?, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /processings/template/{id}/image/{imageId}/seen`.
    pub async fn mark_template_image_seen(&self, id: &TemplateId, image_id: &str) -> Result<(), ApiError> {
        let path = template_path(id, &format!("/image/{}/seen", path_segment(image_id)?))?;
        self.call_unit(Method::POST, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `PUT /processings/template/{id}/image/seenAll`: `newImagesCount` back to 0.
    pub async fn mark_all_template_images_seen(&self, id: &TemplateId) -> Result<(), ApiError> {
        self.call_unit(Method::PUT, &template_path(id, "/image/seenAll")?, None, timeouts::DEFAULT, Idempotency::Safe)
            .await
    }

    /// `POST /processings/template/{id}/images`: a page of what was found. A read.
    pub async fn template_images(
        &self,
        id: &TemplateId,
        query: &TemplateImagesQuery,
    ) -> Result<TemplateImagesPage, ApiError> {
        if query.limit <= 0 || query.offset < 0 {
            return Err(ApiError::new(ErrorKind::InvalidArgument(
                "page limit must be positive and offset not negative".into(),
            )));
        }
        let body = to_body(query)?;
        self.call(Method::POST, &template_path(id, "/images")?, Some(&body), timeouts::CATALOG, Idempotency::Safe).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipolygon_aoi_is_sent_as_one_polygon_feature_per_part() {
        let multi = serde_json::json!({"type": "MultiPolygon", "coordinates": [
            [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
            [[[2.0, 0.0], [3.0, 0.0], [3.0, 1.0], [2.0, 0.0]]],
        ]});
        let details = AoiDetails::from_aois([(multi, Some("Fields".to_owned()))]);
        assert_eq!(details.features.len(), 2);
        let sent = serde_json::to_value(&details).unwrap();
        assert_eq!(sent["features"][1]["geometry"]["type"], "Polygon");
        assert_eq!(sent["features"][1]["properties"], serde_json::json!({"name": "Fields"}));
    }

    #[test]
    fn an_unknown_status_is_kept() {
        let t: Template = serde_json::from_value(serde_json::json!({"status": "queued", "area": 12.6})).unwrap();
        assert_eq!(t.status, TemplateStatus::Other("queued".into()));
        assert_eq!(t.area, 13);
        assert!(t.aois().is_empty());
    }
}
