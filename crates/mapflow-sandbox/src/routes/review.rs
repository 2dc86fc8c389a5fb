//! The review workflow: `PUT /processings/{id}/acceptation` and
//! `PUT /processings/{id}/rejection {comment, features}`. Both need the maintainer role in the
//! processing's project and a processing IN_REVIEW; the rules are in
//! [`crate::members`].

use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::routing::put;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::Value;

use super::{Caller, JsonBody};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, Action, ReviewDecision};
use crate::processing;
use crate::state::Shared;
use mapflow_api::Processing;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/processings/{id}/acceptation", put(accept)).route("/processings/{id}/rejection", put(reject))
}

/// Records `decision` on the processing `id` if the caller may review it and it is in review.
fn decide(shared: &Shared, caller: &Caller, id: &str, decision: ReviewDecision) -> ApiResult<Json<Processing>> {
    let now = Utc::now();
    shared.write(|s| {
        let p = members::check_processing(s, caller, id, Action::Edit)?;
        let review = processing::to_api("", p, now).review_status.and_then(|r| r.review_status);
        if review.as_deref() != Some("IN_REVIEW") {
            return Err(ApiError::bad_request(format!(
                "Only a processing in review can be accepted or rejected; this one is {}",
                review.as_deref().unwrap_or("not under review")
            )));
        }
        let p = s.processing_mut(id).ok_or_else(|| ApiError::not_found(format!("Processing {id} not found")))?;
        p.review_decision = Some(decision);
        p.updated = now;
        Ok(Json(processing::to_api(&shared.base_url, p, now)))
    })
}

/// `PUT /processings/{id}/acceptation`: the results are accepted.
async fn accept(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Processing>> {
    let decision = ReviewDecision { status: "ACCEPTED".to_owned(), at: Utc::now(), comment: None, features: None };
    decide(&shared, &caller, &id, decision)
}

/// `PUT /processings/{id}/rejection {comment, features}`: the results are rejected, with
/// what is wrong in words and the wrong features as a GeoJSON FeatureCollection.
async fn reject(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Processing>> {
    let comment = match body.get("comment") {
        Some(Value::String(c)) => c.clone(),
        None | Some(Value::Null) => return Err(ApiError::bad_request("comment is required")),
        Some(_) => return Err(ApiError::bad_request("comment must be a string")),
    };
    crate::text::checked_description("Rejection", Some(comment.clone())).map_err(ApiError::bad_request)?;
    let features = body.get("features").cloned().unwrap_or(Value::Null);
    let is_collection = features.get("type").and_then(Value::as_str) == Some("FeatureCollection")
        && features.get("features").is_some_and(Value::is_array);
    if !is_collection {
        return Err(ApiError::bad_request("features must be a GeoJSON FeatureCollection"));
    }
    let decision = ReviewDecision {
        status: "NOT_ACCEPTED".to_owned(),
        at: Utc::now(),
        comment: Some(comment),
        features: Some(features),
    };
    decide(&shared, &caller, &id, decision)
}
