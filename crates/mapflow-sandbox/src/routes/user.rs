//! The account: `GET /user/status`.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::seed;
use crate::state::Shared;
use mapflow_api::{BillingType, UserStatus};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/user/status", get(status))
}

/// The account with every documented key: balance, limits, models and providers.
async fn status(State(shared): State<Arc<Shared>>) -> Json<UserStatus> {
    Json(user_status(&shared))
}

/// The account as `/user/status` answers it.
pub(crate) fn user_status(shared: &Shared) -> UserStatus {
    let (remaining_credits, processed_area) = shared.read(|s| (s.account.remaining_credits, s.account.processed_area));
    UserStatus {
        email: shared.email().to_owned(),
        billing_type: BillingType::Credits,
        remaining_credits,
        remaining_area: Some((seed::AREA_LIMIT - processed_area).max(0)),
        processed_area,
        area_limit: Some(seed::AREA_LIMIT),
        aoi_area_limit: Some(seed::AOI_AREA_LIMIT),
        template_area_limit: Some(seed::TEMPLATE_AREA_LIMIT),
        search_area_limit: Some(seed::SEARCH_AREA_LIMIT),
        max_aois_per_processing: Some(seed::MAX_AOIS_PER_PROCESSING),
        memory_limit: Some(seed::MEMORY_LIMIT),
        review_workflow_enabled: false,
        teams: Vec::new(),
        models: seed::models(),
        data_providers: seed::data_providers(&shared.base_url),
        search_data_providers: seed::search_data_providers(),
    }
}
