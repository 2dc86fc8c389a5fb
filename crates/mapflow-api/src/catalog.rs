//! Imagery catalog search, and fetching previews without leaking credentials.

use super::client::{Client, Idempotency, timeouts, to_body};
use super::error::{ApiError, ErrorKind};
use super::models::{CatalogImage, SortOrder};
use reqwest::Method;
use serde::{Deserialize, Deserializer, Serialize};

/// Sort fields of a catalog search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CatalogSortBy {
    ProviderName,
    SatId,
    CloudCover,
    OffNadirAngle,
    AcquisitionDate,
    Zoom,
    PixelResolution,
}

/// Body of `POST /catalog/meta`; nulls are omitted, and so is an empty provider list
/// (which would mean "no providers").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogQuery {
    /// The search area: a GeoJSON Polygon or MultiPolygon.
    pub aoi: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_date_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_date_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_resolution: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cloud_cover: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_off_nadir_angle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_off_nadir_angle: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_aoi_intersection_percent: Option<f64>,
    pub limit: i64,
    pub offset: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_unavailable: Option<bool>,
    /// `MOSAIC` and/or `IMAGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_providers: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<CatalogSortBy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
}

impl CatalogQuery {
    /// A first page of 100 over `aoi` with no filters.
    pub fn new(aoi: serde_json::Value) -> Self {
        Self {
            aoi,
            acquisition_date_from: None,
            acquisition_date_to: None,
            min_resolution: None,
            max_resolution: None,
            max_cloud_cover: None,
            min_off_nadir_angle: None,
            max_off_nadir_angle: None,
            min_aoi_intersection_percent: None,
            limit: 100,
            offset: 0,
            hide_unavailable: None,
            product_types: None,
            data_providers: None,
            sort_by: None,
            sort_order: None,
        }
    }
}

/// One page of search results: `{images, total, limit, offset}`, or a bare array from older servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CatalogPage {
    pub images: Vec<CatalogImage>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

impl<'de> Deserialize<'de> for CatalogPage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Paged {
                #[serde(default)]
                images: Vec<serde_json::Value>,
                #[serde(default)]
                total: Option<i64>,
                #[serde(default)]
                limit: Option<i64>,
                #[serde(default)]
                offset: Option<i64>,
            },
            Bare(Vec<serde_json::Value>),
        }
        let (raw, total, limit, offset) = match Shape::deserialize(d)? {
            Shape::Paged { images, total, limit, offset } => (images, total, limit, offset),
            Shape::Bare(images) => (images, None, None, None),
        };
        // One odd image never sinks the page.
        let images: Vec<CatalogImage> = raw.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect();
        let n = images.len() as i64;
        Ok(Self { total: total.unwrap_or(n), limit: limit.unwrap_or(n), offset: offset.unwrap_or(0), images })
    }
}

impl Client {
    /// `POST /catalog/meta`. A search is a read, so it is retried like a GET.
    pub async fn catalog_search(&self, query: &CatalogQuery) -> Result<CatalogPage, ApiError> {
        if query.limit <= 0 || query.offset < 0 {
            return Err(ApiError::new(ErrorKind::InvalidArgument(
                "page limit must be positive and offset not negative".into(),
            )));
        }
        let mut body = to_body(query)?;
        if query.data_providers.as_ref().is_some_and(Vec::is_empty)
            && let Some(obj) = body.as_object_mut()
        {
            obj.remove("dataProviders");
        }
        self.call(Method::POST, "/catalog/meta", Some(&body), timeouts::CATALOG, Idempotency::Safe).await
    }

    /// Fetches a preview or thumbnail. The credentials go only to the API's own host: catalog
    /// previews are presigned or foreign URLs and get a plain request.
    pub async fn fetch_preview(&self, url: &str) -> Result<Vec<u8>, ApiError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| ApiError::new(ErrorKind::InvalidArgument(format!("preview URL `{url}`: {e}"))))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ApiError::new(ErrorKind::InvalidArgument(format!("preview URL `{url}` is not http(s)"))));
        }
        let mut req = self.http().get(parsed).timeout(timeouts::DEFAULT);
        if self.is_own_host(url) {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Basic {}", self.token().expose()));
        }
        let resp = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let text = resp.text().await.unwrap_or_default();
            return Err(ApiError::from_status(status, &text));
        }
        Ok(resp.bytes().await.map_err(|e| self.transport_error(&e))?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_omits_nulls_and_empty_providers_are_dropped_by_search() {
        let q = CatalogQuery::new(serde_json::json!({"type": "Polygon", "coordinates": []}));
        let v = serde_json::to_value(&q).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 3, "aoi, limit, offset: {v}");
        assert_eq!(v["limit"], 100);
    }

    #[test]
    fn accepts_paged_and_bare_answers() {
        let paged: CatalogPage = serde_json::from_str(
            r#"{"images":[{"id":"a","cloudCover":"12.5"},{"id":5}],"total":7,"limit":100,"offset":0}"#,
        )
        .unwrap();
        assert_eq!(paged.total, 7);
        assert_eq!(paged.images.len(), 1, "the odd image is dropped, not the page");
        assert_eq!(paged.images[0].cloud_cover, Some(12.5));
        let bare: CatalogPage = serde_json::from_str(r#"[{"id":"a"},{"id":"b"}]"#).unwrap();
        assert_eq!(bare.total, 2);
    }
}
