//! The review workflow and sharing in the worker: accept, reject with the marked features
//! (gathered into a FeatureCollection off the async workers), share a project.

use super::{Event, Worker};
use crate::api::{ProcessingId, ProjectId, ProjectRole, Rejection, ShareRequest};

/// What a reviewer marked as wrong: result features picked on the map or in the attribute
/// table, and areas drawn on the map. `Debug` gives the counts only.
#[derive(Clone, Default, PartialEq)]
pub struct MarkedFeatures {
    pub picked: Option<crate::results::table::SelectedFeatures>,
    pub drawn: Vec<geo_types::Polygon<f64>>,
}

impl std::fmt::Debug for MarkedFeatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} picked, {} drawn", self.picked_count(), self.drawn.len())
    }
}

impl MarkedFeatures {
    /// How many result features are picked.
    pub fn picked_count(&self) -> usize {
        self.picked.as_ref().map_or(0, |p| p.features.len())
    }

    /// How many features the rejection will carry.
    pub fn len(&self) -> usize {
        self.picked_count() + self.drawn.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The marked features as one GeoJSON FeatureCollection: the picked ones with their
    /// attributes, then each drawn area as a polygon feature (`{"marked": "drawn"}`).
    pub fn feature_collection(&self) -> serde_json::Value {
        let mut features = match &self.picked {
            Some(p) => {
                let dataset = crate::export::Dataset::from_layer(&p.layer, p.features.as_slice(), "rejection");
                dataset.feature_values()
            }
            None => Vec::new(),
        };
        for polygon in &self.drawn {
            let geometry = geojson::Geometry::new(geojson::GeometryValue::from(polygon));
            let mut properties = serde_json::Map::new();
            properties.insert("marked".into(), "drawn".into());
            let feature =
                geojson::Feature { geometry: Some(geometry), properties: Some(properties), ..Default::default() };
            features.push(serde_json::to_value(feature).unwrap_or_default());
        }
        serde_json::json!({"type": "FeatureCollection", "features": features})
    }
}

impl Worker {
    /// `PUT /processings/{id}/acceptation`.
    pub(super) fn accept(&self, id: ProcessingId) {
        self.spawn_keyed(
            id,
            |c, id| async move { c.accept_processing(&id).await },
            |id, result| Event::ProcessingReviewed { id, accepted: true, result },
        );
    }

    /// `PUT /processings/{id}/rejection`, the features gathered on a blocking thread.
    pub(super) fn reject(&self, id: ProcessingId, comment: String, marked: MarkedFeatures) {
        self.spawn_keyed(
            id,
            move |c, id| async move {
                let features = tokio::task::spawn_blocking(move || marked.feature_collection()).await.map_err(|e| {
                    crate::api::ApiError::new(crate::api::ErrorKind::InvalidArgument(format!(
                        "the marked features could not be gathered: {e}"
                    )))
                })?;
                c.reject_processing(&id, &Rejection { comment, features }).await
            },
            |id, result| Event::ProcessingReviewed { id, accepted: false, result },
        );
    }

    /// `POST /projects/share`.
    pub(super) fn share(&self, project: ProjectId, email: String, role: ProjectRole) {
        let request = ShareRequest { project_id: project.clone(), email: email.clone(), role };
        self.spawn_call(
            move |c| async move { c.share_project(&request).await },
            move |result| Event::ProjectShared { project, email, role, result },
        );
    }
}
