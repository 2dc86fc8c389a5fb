//! Lenient models of the Mapflow API objects.
//!
//! Every field defaults when missing and unknown fields are ignored, because real
//! responses carry more (and sometimes fewer) fields than documented. The same types
//! serialize every documented key (with `null` where there is no value), which is what
//! the sandbox sends and what clients written against the real service expect.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_newtype!(
    /// A project's id.
    ProjectId
);
id_newtype!(
    /// A processing's id.
    ProcessingId
);
id_newtype!(
    /// A workflow definition's (model's) id.
    WorkflowDefId
);
id_newtype!(
    /// A mosaic's id (Data API).
    MosaicId
);
id_newtype!(
    /// An uploaded image's id (Data API).
    ImageId
);

/// A number as the service may send it: a number, a numeric string, or null (None).
/// Anything else (a list, an object, a word) is a decode error naming the field.
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    use serde::de::Error as _;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => Ok(n.as_f64()),
        serde_json::Value::String(s) if s.trim().is_empty() => Ok(None),
        serde_json::Value::String(s) => {
            s.trim().parse::<f64>().map(Some).map_err(|_| D::Error::custom(format!("expected a number, got \"{s}\"")))
        }
        serde_json::Value::Null => Ok(None),
        other => Err(D::Error::custom(format!("expected a number, got {other}"))),
    }
}

pub(crate) fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(number(d)?.map(|f| f.round() as i64).unwrap_or_default())
}

pub(crate) fn lenient_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(number(d)?.map(|f| f.round() as i64))
}

pub(crate) fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(number(d)?.unwrap_or_default())
}

pub(crate) fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d)
}

/// Null and missing both become the default value.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list whose items are decoded one by one: an item of an odd shape is dropped
/// instead of failing the whole list.
pub(crate) fn lenient_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let v = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(v.into_iter()
        .filter_map(|item| match serde_json::from_value(item) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!("skipping a list item of an unexpected shape: {e}");
                None
            }
        })
        .collect())
}

/// How the account is billed. Old servers send a number; compare case-insensitively.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum BillingType {
    #[serde(rename = "CREDITS")]
    Credits,
    #[serde(rename = "AREA")]
    Area,
    #[default]
    #[serde(rename = "NONE")]
    None,
}

impl<'de> Deserialize<'de> for BillingType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(match v {
            serde_json::Value::String(s) => match s.to_ascii_uppercase().as_str() {
                "CREDITS" => Self::Credits,
                "AREA" => Self::Area,
                _ => Self::None,
            },
            // The numeric form of old servers: 0 none, 1 area, 2 credits.
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(1) => Self::Area,
                Some(2) => Self::Credits,
                _ => Self::None,
            },
            _ => Self::None,
        })
    }
}

/// One step of a model's workflow, some of which the user may switch off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Block {
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub display_name: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_f64")]
    pub price: f64,
    #[serde(deserialize_with = "null_default")]
    pub optional: bool,
}

/// A model (workflow definition) the user can run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkflowDef {
    pub id: WorkflowDefId,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_f64")]
    pub price_per_sq_km: f64,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub style_name: Option<String>,
    #[serde(deserialize_with = "lenient_vec")]
    pub blocks: Vec<Block>,
}

impl WorkflowDef {
    /// Price per km² with the given optional blocks enabled: the required blocks'
    /// prices plus the enabled optional ones.
    pub fn price_with(&self, enabled_optional: &[&str]) -> f64 {
        self.blocks.iter().filter(|b| !b.optional || enabled_optional.contains(&b.name.as_str())).map(|b| b.price).sum()
    }
}

/// A price step of a provider by zoom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProviderPrice {
    #[serde(deserialize_with = "lenient_i64")]
    pub zoom: i64,
    #[serde(deserialize_with = "lenient_f64")]
    pub price_sq_km: f64,
}

/// An imagery provider. Show `display_name`, send `name`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Provider {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub display_name: String,
    #[serde(deserialize_with = "lenient_vec")]
    pub price: Vec<ProviderPrice>,
    pub preview_url: Option<String>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub preview_url_max_zoom: Option<i64>,
    /// Spelled `minAreaSqKm` or `minAreaSqkm` depending on the server.
    #[serde(alias = "minAreaSqkm", deserialize_with = "lenient_opt_f64")]
    pub min_area_sq_km: Option<f64>,
}

impl Provider {
    /// The name to show: `displayName`, or `name` when that is empty.
    pub fn label(&self) -> &str {
        if self.display_name.is_empty() { &self.name } else { &self.display_name }
    }
}

/// A team the user belongs to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    pub id: Option<String>,
    pub name: Option<String>,
}

/// The account, as `GET /user/status` answers it. Areas are in m², memory in bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UserStatus {
    #[serde(deserialize_with = "null_default")]
    pub email: String,
    pub billing_type: BillingType,
    #[serde(deserialize_with = "lenient_i64")]
    pub remaining_credits: i64,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub remaining_area: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub processed_area: i64,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub aoi_area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub template_area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub search_area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub max_aois_per_processing: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub memory_limit: Option<i64>,
    #[serde(deserialize_with = "null_default")]
    pub review_workflow_enabled: bool,
    #[serde(deserialize_with = "lenient_vec")]
    pub teams: Vec<Team>,
    #[serde(deserialize_with = "lenient_vec")]
    pub models: Vec<WorkflowDef>,
    #[serde(deserialize_with = "lenient_vec")]
    pub data_providers: Vec<Provider>,
    #[serde(deserialize_with = "lenient_vec")]
    pub search_data_providers: Vec<Provider>,
}

/// A member of a shared project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareMember {
    #[serde(deserialize_with = "null_default")]
    pub email: String,
    #[serde(deserialize_with = "null_default")]
    pub role: String,
}

/// Who a project is shared with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShareProject {
    #[serde(deserialize_with = "lenient_vec")]
    pub owners: Vec<ShareMember>,
    #[serde(deserialize_with = "lenient_vec")]
    pub users: Vec<ShareMember>,
}

/// The current user as seen by a project; in a shared project the limits are the owner's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectUser {
    pub id: Option<String>,
    pub email: Option<String>,
    pub role: Option<String>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub aoi_area_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub processed_area: Option<i64>,
    #[serde(deserialize_with = "null_default")]
    pub review_workflow_enabled: bool,
}

/// Processing counts of a project by status (lower-case keys: `succeeded`, `failed`, …).
pub type ProcessingCounts = BTreeMap<String, i64>;

/// A project: a container of processings with its own set of models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Project {
    pub id: ProjectId,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    pub description: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub is_default: bool,
    pub created: Option<String>,
    pub updated: Option<String>,
    #[serde(deserialize_with = "lenient_vec")]
    pub workflow_defs: Vec<WorkflowDef>,
    pub share_project: Option<ShareProject>,
    pub user: Option<ProjectUser>,
    #[serde(deserialize_with = "lenient_counts")]
    pub processing_counts: ProcessingCounts,
    #[serde(deserialize_with = "lenient_i64")]
    pub templates_count: i64,
}

fn lenient_counts<'de, D: Deserializer<'de>>(d: D) -> Result<ProcessingCounts, D::Error> {
    let v = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(v.into_iter().filter_map(|(k, v)| v.as_f64().map(|n| (k, n.round() as i64))).collect())
}

/// A page of results: `{results, total, count}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Page<T> {
    #[serde(deserialize_with = "lenient_vec", bound(deserialize = "T: serde::de::DeserializeOwned"))]
    pub results: Vec<T>,
    #[serde(deserialize_with = "lenient_i64")]
    pub total: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub count: i64,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self { results: Vec::new(), total: 0, count: 0 }
    }
}

/// Sort field of the projects page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ProjectSortBy {
    Name,
    #[default]
    Created,
    Updated,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// Body of `POST /projects/page`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectPageQuery {
    pub limit: i64,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default)]
    pub sort_by: ProjectSortBy,
    #[serde(default)]
    pub sort_order: SortOrder,
}

impl Default for ProjectPageQuery {
    fn default() -> Self {
        Self { limit: 50, offset: 0, filter: None, sort_by: ProjectSortBy::default(), sort_order: SortOrder::default() }
    }
}

/// Body of `POST /projects` and `PUT /projects/{id}`; nulls are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One message of a processing: a code and its parameters, all strings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessingMessage {
    #[serde(deserialize_with = "null_default")]
    pub code: String,
    #[serde(deserialize_with = "lenient_string_map")]
    pub parameters: BTreeMap<String, String>,
}

/// A map whose values should be strings but may arrive as numbers or booleans.
pub(crate) fn lenient_string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let v = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(v.into_iter()
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, s)
        })
        .collect())
}

/// A tile layer the service renders: imagery used or results.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TileLayer {
    pub id: Option<String>,
    pub name: Option<String>,
    #[serde(deserialize_with = "null_default")]
    pub tile_url: String,
    pub tile_json_url: Option<String>,
}

/// The review state of a processing, when the review workflow is on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ReviewStatus {
    pub review_status: Option<String>,
    pub in_review_until: Option<String>,
}

/// The user's rating of a finished processing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rating {
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub rating: Option<i64>,
    pub feedback: Option<String>,
}

/// A processing's block with its on/off state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProcessingBlock {
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub enabled: bool,
    pub display_name: Option<String>,
}

/// Status of a processing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ProcessingStatus {
    #[default]
    Unprocessed,
    InProgress,
    Awaiting,
    Ok,
    Failed,
    Cancelled,
    Refunded,
    /// A status this client does not know yet.
    Other(String),
}

impl From<String> for ProcessingStatus {
    fn from(s: String) -> Self {
        match s.to_ascii_uppercase().as_str() {
            "UNPROCESSED" => Self::Unprocessed,
            "IN_PROGRESS" => Self::InProgress,
            "AWAITING" => Self::Awaiting,
            "OK" => Self::Ok,
            "FAILED" => Self::Failed,
            "CANCELLED" => Self::Cancelled,
            "REFUNDED" => Self::Refunded,
            _ => Self::Other(s),
        }
    }
}

impl From<ProcessingStatus> for String {
    fn from(s: ProcessingStatus) -> Self {
        s.as_str().to_owned()
    }
}

impl ProcessingStatus {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Unprocessed => "UNPROCESSED",
            Self::InProgress => "IN_PROGRESS",
            Self::Awaiting => "AWAITING",
            Self::Ok => "OK",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
            Self::Refunded => "REFUNDED",
            Self::Other(s) => s,
        }
    }

    /// OK, FAILED, CANCELLED and REFUNDED never change again.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Ok | Self::Failed | Self::Cancelled | Self::Refunded)
    }
}

/// A processing: one run of a model over an AOI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Processing {
    pub id: ProcessingId,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    pub description: Option<String>,
    pub project_id: ProjectId,
    #[serde(deserialize_with = "null_default")]
    pub status: ProcessingStatus,
    #[serde(deserialize_with = "lenient_i64")]
    pub percent_completed: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub aoi_count: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub aoi_area: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub area: i64,
    #[serde(deserialize_with = "lenient_i64")]
    pub cost: i64,
    pub workflow_def: Option<WorkflowDef>,
    #[serde(deserialize_with = "null_default")]
    pub params: serde_json::Value,
    #[serde(deserialize_with = "lenient_vec")]
    pub blocks: Vec<ProcessingBlock>,
    #[serde(deserialize_with = "null_default")]
    pub meta: serde_json::Value,
    #[serde(deserialize_with = "lenient_vec")]
    pub messages: Vec<ProcessingMessage>,
    pub raster_layer: Option<TileLayer>,
    pub vector_layer: Option<TileLayer>,
    pub review_status: Option<ReviewStatus>,
    pub rating: Option<Rating>,
    pub created: Option<String>,
    pub updated: Option<String>,
}

/// A catalog image (scene or mosaic) found by `POST /catalog/meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CatalogImage {
    #[serde(deserialize_with = "null_default")]
    pub id: String,
    pub footprint: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub pixel_resolution: Option<f64>,
    pub acquisition_date: Option<String>,
    pub product_type: Option<String>,
    pub sensor: Option<String>,
    pub sat_id: Option<String>,
    pub color_band_order: Option<String>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub cloud_cover: Option<f64>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub off_nadir_angle: Option<f64>,
    pub preview_type: Option<String>,
    pub preview_url: Option<String>,
    pub provider_name: Option<String>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub zoom: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub min_area_sqkm: Option<f64>,
    #[serde(deserialize_with = "lenient_opt_f64")]
    pub aoi_intersection_percent: Option<f64>,
}

/// A mosaic (imagery collection) of the Data API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Mosaic {
    pub id: MosaicId,
    #[serde(deserialize_with = "null_default")]
    pub name: String,
    #[serde(deserialize_with = "null_default")]
    pub tags: Vec<String>,
    pub created_at: Option<String>,
    pub footprint: Option<String>,
    #[serde(rename = "sizeInBytes", deserialize_with = "lenient_i64")]
    pub size_in_bytes: i64,
    #[serde(rename = "rasterLayer")]
    pub raster_layer: Option<TileLayer>,
}

/// Storage accounting of the Data API, in bytes and pixels; `None` limits are unlimited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Memory {
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub memory_limit: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub memory_used: i64,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub memory_free: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub max_upload_file_size: Option<i64>,
    #[serde(deserialize_with = "lenient_opt_i64")]
    pub max_pixel_count: Option<i64>,
}
