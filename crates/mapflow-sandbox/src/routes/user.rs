//! The account: `GET /user/status`.

use std::sync::Arc;

use axum::extract::{Extension, State};
use axum::routing::get;
use axum::{Json, Router};

use super::Caller;
use crate::state::Shared;
use crate::{members, seed};
use mapflow_api::{BillingType, UserStatus};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/user/status", get(status))
}

/// The account with every documented key: balance, limits, models and providers.
async fn status(State(shared): State<Arc<Shared>>, Extension(caller): Extension<Caller>) -> Json<UserStatus> {
    Json(user_status(&shared, &caller))
}

/// The caller's account as `/user/status` answers it: the team account's has its own
/// balance, its smaller AOI limit and the review workflow on.
pub(crate) fn user_status(shared: &Shared, caller: &Caller) -> UserStatus {
    let account = shared.read(|s| members::account_of(s, caller.key()));
    let (remaining_credits, processed_area) = (account.remaining_credits, account.processed_area);
    let limits = members::limits_of(caller.key());
    UserStatus {
        email: caller.email.clone(),
        billing_type: BillingType::Credits,
        remaining_credits,
        remaining_area: Some((limits.area_limit - processed_area).max(0)),
        processed_area,
        area_limit: Some(limits.area_limit),
        aoi_area_limit: Some(limits.aoi_area_limit),
        template_area_limit: Some(seed::TEMPLATE_AREA_LIMIT),
        search_area_limit: Some(seed::SEARCH_AREA_LIMIT),
        max_aois_per_processing: Some(seed::MAX_AOIS_PER_PROCESSING),
        memory_limit: Some(seed::MEMORY_LIMIT),
        review_workflow_enabled: limits.review,
        teams: Vec::new(),
        models: seed::models(),
        data_providers: seed::data_providers(&shared.base_url),
        search_data_providers: seed::search_data_providers(),
    }
}
