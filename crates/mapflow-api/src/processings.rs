//! Processing calls: create, estimate, watch, edit, rate, results.

use super::client::{Client, Idempotency, decode, path_segment, timeouts, to_body};
use super::error::{ApiError, ErrorKind};
use super::models::*;
use reqwest::Method;
use serde::{Deserialize, Serialize};

/// Where the imagery of a processing comes from: exactly one of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SourceParams {
    /// A provider from `/user/status.dataProviders`, by its `name`.
    DataProvider {
        provider_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zoom: Option<u8>,
    },
    /// The user's uploaded imagery: a list of images or a whole mosaic.
    MyImagery {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image_ids: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mosaic_id: Option<String>,
    },
    /// Images picked from a catalog search.
    ImagerySearch {
        data_provider: String,
        image_ids: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zoom: Option<u8>,
    },
    /// A tile service of the user's.
    UserDefined {
        source_type: UserSourceType,
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        zoom: Option<u8>,
        crs: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raster_login: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raster_password: Option<super::Secret>,
    },
}

/// Kinds of user-defined imagery sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserSourceType {
    #[serde(rename = "XYZ")]
    Xyz,
    #[serde(rename = "TMS")]
    Tms,
    #[serde(rename = "QUADKEY")]
    Quadkey,
    #[serde(rename = "SENTINEL_L2A")]
    SentinelL2a,
    #[serde(rename = "LOCAL")]
    Local,
}

/// `params` of a processing request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingParams {
    pub source_params: SourceParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_params: Option<serde_json::Value>,
}

/// An optional block switched on or off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockToggle {
    pub name: String,
    pub enabled: bool,
}

/// Body of `POST /processings/v2` and `POST /processing/cost/v2`; nulls are omitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingRequest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wd_id: Option<WorkflowDefId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wd_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geometry: Option<serde_json::Value>,
    /// For estimates only: the area instead of the geometry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_sq_km: Option<f64>,
    pub params: ProcessingParams,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<BlockToggle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<serde_json::Value>,
}

/// The `meta` every processing created by this app carries.
pub fn app_meta() -> serde_json::Value {
    serde_json::json!({"source-app": "mapflow-desktop", "version": env!("CARGO_PKG_VERSION")})
}

/// Body of `POST /projects/{id}/processings/v2/page`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingPageQuery {
    pub limit: i64,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terms: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<ProcessingSortBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
}

impl Default for ProcessingPageQuery {
    fn default() -> Self {
        Self {
            limit: 50,
            offset: 0,
            terms: None,
            sort_by: Some(ProcessingSortBy::Created),
            sort_order: Some(SortOrder::Desc),
        }
    }
}

/// Sort fields of the processings page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessingSortBy {
    Name,
    Created,
    Updated,
    Status,
    Area,
    Cost,
}

/// Body of `PUT /processings/{id}`: rename and/or move to another project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingEdit {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
}

/// One AOI of a processing, as `GET /processings/{id}/aois` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProcessingAoi {
    pub id: String,
    pub status: ProcessingStatus,
    pub percent_completed: i64,
    pub area: i64,
    pub messages: Vec<ProcessingMessage>,
    pub geometry: Option<serde_json::Value>,
}

impl Client {
    fn processing_path(id: &ProcessingId, suffix: &str) -> Result<String, ApiError> {
        Ok(format!("/processings/{}{suffix}", path_segment(&id.0)?))
    }

    /// `POST /processings/v2`. Never retried: a repeat could start (and charge) twice.
    pub async fn create_processing(&self, request: &ProcessingRequest) -> Result<Processing, ApiError> {
        check_request(request, true)?;
        let body = to_body(request)?;
        self.call(Method::POST, "/processings/v2", Some(&body), timeouts::CREATE, Idempotency::Once).await
    }

    /// `POST /processing/cost/v2`: the estimate in credits (a bare number). A read, so retried.
    pub async fn processing_cost(&self, request: &ProcessingRequest) -> Result<f64, ApiError> {
        check_request(request, false)?;
        let body = to_body(request)?;
        let (_, text) = self
            .send_raw(Method::POST, "/processing/cost/v2", Some(&body), timeouts::DEFAULT, Idempotency::Safe)
            .await?;
        decode_cost(&text)
    }

    /// `GET /processings/{id}/v2`.
    pub async fn processing(&self, id: &ProcessingId) -> Result<Processing, ApiError> {
        let path = Self::processing_path(id, "/v2")?;
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `POST /projects/{id}/processings/v2/page`. A read, so retried.
    pub async fn processings_page(
        &self,
        project: &ProjectId,
        query: &ProcessingPageQuery,
    ) -> Result<Page<Processing>, ApiError> {
        if query.limit <= 0 || query.offset < 0 {
            return Err(ApiError::new(ErrorKind::InvalidArgument(
                "page limit must be positive and offset not negative".into(),
            )));
        }
        let path = format!("/projects/{}/processings/v2/page", path_segment(&project.0)?);
        let body = to_body(query)?;
        self.call(Method::POST, &path, Some(&body), timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /projects/{id}/processings/v2`: all of a project's processings.
    pub async fn project_processings(&self, project: &ProjectId) -> Result<Vec<Processing>, ApiError> {
        let path = format!("/projects/{}/processings/v2", path_segment(&project.0)?);
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /processings/v2`: all of the user's processings.
    pub async fn all_processings(&self) -> Result<Vec<Processing>, ApiError> {
        self.call(Method::GET, "/processings/v2", None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `PUT /processings/{id}`: rename and/or move to another project.
    pub async fn update_processing(&self, id: &ProcessingId, edit: &ProcessingEdit) -> Result<Processing, ApiError> {
        if edit.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(ApiError::new(ErrorKind::InvalidArgument("a name is required".into())));
        }
        let path = Self::processing_path(id, "")?;
        let body = to_body(edit)?;
        self.call(Method::PUT, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `DELETE /processings/{id}`.
    pub async fn delete_processing(&self, id: &ProcessingId) -> Result<(), ApiError> {
        let path = Self::processing_path(id, "")?;
        self.call_unit(Method::DELETE, &path, None, timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `POST /processings/{id}/restart/v2`: re-runs the failed parts of a FAILED processing.
    pub async fn restart_processing(&self, id: &ProcessingId) -> Result<(), ApiError> {
        let path = Self::processing_path(id, "/restart/v2")?;
        self.call_unit(Method::POST, &path, None, timeouts::CREATE, Idempotency::Once).await
    }

    /// `PUT /processings/{id}/rate`: 1 to 5 with feedback, for finished processings.
    pub async fn rate_processing(&self, id: &ProcessingId, rating: u8, feedback: &str) -> Result<(), ApiError> {
        if !(1..=5).contains(&rating) {
            return Err(ApiError::new(ErrorKind::InvalidArgument("the rating is 1 to 5".into())));
        }
        let path = Self::processing_path(id, "/rate")?;
        let body = serde_json::json!({"rating": rating, "feedback": feedback});
        self.call_unit(Method::PUT, &path, Some(&body), timeouts::DEFAULT, Idempotency::Once).await
    }

    /// `GET /processings/{id}/aois`.
    pub async fn processing_aois(&self, id: &ProcessingId) -> Result<Vec<ProcessingAoi>, ApiError> {
        let path = Self::processing_path(id, "/aois")?;
        self.call(Method::GET, &path, None, timeouts::DEFAULT, Idempotency::Safe).await
    }

    /// `GET /processings/{id}/result`, streamed into `dest` (written atomically: a temp file
    /// beside it, renamed when complete). `progress` gets the bytes received so far.
    pub async fn download_result(
        &self,
        id: &ProcessingId,
        dest: &std::path::Path,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<u64, ApiError> {
        let path = Self::processing_path(id, "/result")?;
        let resp = self.get_stream(&path, timeouts::DOWNLOAD).await?;
        super::client::stream_to_file(resp, dest, &mut progress).await
    }

    /// `GET /processings/{id}/result` into memory, for drawing.
    pub async fn result_bytes(&self, id: &ProcessingId) -> Result<Vec<u8>, ApiError> {
        let path = Self::processing_path(id, "/result")?;
        let mut resp = self.get_stream(&path, timeouts::DOWNLOAD).await?;
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| ApiError::from_reqwest(&e))? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// The whole processing history (`POST /processings/stats?type=JSON`, every page, at
    /// most [`HISTORY_MAX_ROWS`] rows), newest first; `filter` as the API takes it
    /// (`status=OK&model=…`).
    pub async fn processing_history(&self, filter: Option<&str>) -> Result<Vec<HistoryRow>, ApiError> {
        let mut rows = Vec::new();
        for page in 1.. {
            let body = history_page(page, filter);
            let answer: HistoryPage = self
                .call(Method::POST, "/processings/stats?type=JSON", Some(&body), timeouts::DEFAULT, Idempotency::Safe)
                .await?;
            let got = answer.results.len();
            rows.extend(answer.results);
            if got < HISTORY_PAGE as usize || rows.len() as i64 >= answer.total || rows.len() >= HISTORY_MAX_ROWS {
                break;
            }
        }
        rows.truncate(HISTORY_MAX_ROWS);
        Ok(rows)
    }

    /// The processing history as the server's CSV (`type=CSV`), every page, one header row.
    pub async fn processing_history_csv(&self, filter: Option<&str>) -> Result<String, ApiError> {
        let mut out = String::new();
        for page in 1.. {
            let body = history_page(page, filter);
            let (_, text) = self
                .send_raw(
                    Method::POST,
                    "/processings/stats?type=CSV",
                    Some(&body),
                    timeouts::DEFAULT,
                    Idempotency::Safe,
                )
                .await?;
            let mut lines = text.split_inclusive('\n');
            let header = lines.next().unwrap_or_default();
            if out.is_empty() {
                out.push_str(header);
            }
            let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
            rows.iter().for_each(|l| out.push_str(l));
            if rows.len() < HISTORY_PAGE as usize || page * HISTORY_PAGE as usize >= HISTORY_MAX_ROWS {
                break;
            }
        }
        Ok(out)
    }
}

/// Checks a request before sending: a name, a project, a model, a geometry or area.
fn check_request(request: &ProcessingRequest, create: bool) -> Result<(), ApiError> {
    let bad = |m: &str| Err(ApiError::new(ErrorKind::InvalidArgument(m.to_owned())));
    if create && request.name.trim().is_empty() {
        return bad("a name is required");
    }
    if request.project_id.0.is_empty() {
        return bad("a project is required");
    }
    if request.wd_id.is_none() && request.wd_name.is_none() {
        return bad("a model is required");
    }
    if request.geometry.is_none() && (create || request.area_sq_km.is_none()) {
        return bad("an area of interest is required");
    }
    Ok(())
}

/// Decodes the bare-number answer of the cost estimate (`150`, `150.0`, or `"150"`).
pub fn decode_cost(text: &str) -> Result<f64, ApiError> {
    let v: serde_json::Value = decode(200, text)?;
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .ok_or_else(|| ApiError::decode(200, String::new(), "expected a number".into(), text))
}

/// The body of `POST /processings/stats` for one page, newest first.
fn history_page(page: usize, filter: Option<&str>) -> serde_json::Value {
    let mut body = serde_json::json!({"page": page, "perPage": HISTORY_PAGE, "sort": "created:desc"});
    if let Some(f) = filter {
        body["filter"] = serde_json::Value::String(f.to_owned());
    }
    body
}

/// Rows per history page asked for.
const HISTORY_PAGE: i64 = 1000;
/// The most history rows read.
pub const HISTORY_MAX_ROWS: usize = 20_000;

/// A page of `POST /processings/stats`.
#[derive(Debug, Clone, Deserialize)]
struct HistoryPage {
    #[serde(default)]
    results: Vec<HistoryRow>,
    #[serde(default, deserialize_with = "lenient_i64")]
    total: i64,
}

/// One processing of the history (`POST /processings/stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRow {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub project_id: String,
    #[serde(default)]
    pub project_name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub source: String,
    /// m².
    #[serde(default, deserialize_with = "lenient_i64")]
    pub area: i64,
    #[serde(default, deserialize_with = "lenient_i64")]
    pub cost: i64,
    #[serde(default)]
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}
