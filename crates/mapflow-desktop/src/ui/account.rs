//! The account: models with their prices and blocks, and the imagery providers.

use crate::app::AppState;
use rust_i18n::t;

pub fn account_ui(ui: &mut egui::Ui, state: &AppState) {
    egui::CollapsingHeader::new(t!("account.title")).id_salt("account").default_open(false).show(ui, |ui| {
        if let Some(e) = state.status.error() {
            ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(e));
        }
        let Some(status) = state.status.value() else {
            if state.status.is_pending() {
                ui.spinner();
            }
            return;
        };
        if let Some(limit) = status.aoi_area_limit {
            ui.label(t!("account.aoi_limit", area = super::km2(limit)));
        }
        ui.label(t!("account.processed", area = super::km2(status.processed_area)));
        let models = match state.open_project.value() {
            Some(p) if !p.workflow_defs.is_empty() => &p.workflow_defs,
            _ => &status.models,
        };
        ui.strong(t!("account.models"));
        for m in models {
            ui.label(format!(
                "{} — {}",
                super::drawable(ui.ctx(), &m.name),
                t!("account.price_per_km2", price = format!("{:.1}", m.price_per_sq_km))
            ))
            .on_hover_text(m.description.clone().unwrap_or_default());
        }
        ui.strong(t!("account.providers"));
        for p in &status.data_providers {
            let min = p
                .min_area_sq_km
                .map(|m| format!(" · {}", t!("account.min_area", area = format!("{m}"))))
                .unwrap_or_default();
            ui.label(format!("{}{min}", super::drawable(ui.ctx(), p.label())));
        }
    });
}
