//! The top bar: session badge, account, balance, sign in/out, settings; and the settings window.

use crate::api::BillingType;
use crate::app::{AppState, Language};
use crate::map::MapView;
use crate::worker::{Command, SessionKind};
use rust_i18n::t;

pub fn top_bar_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &mut super::UiState,
    _map: &mut MapView,
    out: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.strong(t!("app_name"));
        view_menu(ui, ui_state);
        ui.separator();
        match &state.session {
            None if state.connecting => {
                ui.spinner();
                ui.label(t!("session.connecting"));
            }
            None => {
                ui.label(t!("session.none"));
            }
            Some(session) => {
                let (badge, color) = match session.kind {
                    SessionKind::Sandbox => (t!("session.sandbox").into_owned(), egui::Color32::from_rgb(230, 150, 30)),
                    SessionKind::Remote => {
                        let host = reqwest::Url::parse(&session.server)
                            .ok()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_else(|| session.server.clone());
                        (host, egui::Color32::from_rgb(40, 140, 90))
                    }
                };
                egui::Frame::new().fill(color).corner_radius(4.0).inner_margin(egui::Margin::symmetric(6, 2)).show(
                    ui,
                    |ui| {
                        ui.colored_label(egui::Color32::WHITE, badge).on_hover_text(&session.server);
                    },
                );
                match &state.reach {
                    Some(crate::api::Reach::NotAnswering { since, error }) => {
                        let local = since.with_timezone(&chrono::Local).format("%H:%M:%S").to_string();
                        ui.colored_label(ui.visuals().error_fg_color, t!("reach.down", since = local))
                            .on_hover_text(crate::app::messages::error_text(error));
                        if ui.button(t!("common.retry")).clicked() {
                            out.push(Command::RefreshStatus);
                        }
                    }
                    _ => {
                        ui.label(&session.email);
                        balance_ui(ui, state);
                    }
                }
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(t!("about.open")).clicked() {
                ui_state.about_open = true;
            }
            if ui.button(t!("settings.open")).clicked() {
                ui_state.settings_open = true;
            }
            let signed_in_remote = state.session.as_ref().is_some_and(|s| s.kind == SessionKind::Remote);
            if signed_in_remote {
                if ui.button(t!("signin.sign_out")).clicked() {
                    out.push(Command::SignOut);
                }
            } else if ui.button(t!("signin.open")).clicked() {
                state.sign_in.open = true;
                state.sign_in.error = None;
            }
            super::notices::bell_ui(ui, state, ui_state);
        });
    });
}

/// The View menu: every pane with a check to show or hide it, and Reset layout.
fn view_menu(ui: &mut egui::Ui, ui_state: &mut super::UiState) {
    use crate::app::layout::Pane;
    ui.menu_button(t!("view.menu"), |ui| {
        for pane in Pane::ALL {
            let Some(id) = ui_state.layout.tiles.find_pane(&pane) else { continue };
            let mut visible = ui_state.layout.is_visible(id);
            let toggle = ui.add_enabled(pane != Pane::Map, egui::Checkbox::new(&mut visible, t!(pane.title_key())));
            if toggle.changed() {
                ui_state.layout.set_visible(id, visible);
                if visible {
                    ui_state.show_pane(pane);
                }
            }
        }
        ui.separator();
        if ui.button(t!("view.reset_layout")).clicked() {
            ui_state.layout = crate::app::layout::default_layout();
            ui.close();
        }
    });
}

fn balance_ui(ui: &mut egui::Ui, state: &AppState) {
    if let Some(e) = state.status.error() {
        ui.colored_label(ui.visuals().error_fg_color, t!("account.status_failed"))
            .on_hover_text(crate::app::messages::error_text(e));
    }
    let Some(status) = state.status.value() else { return };
    let text = match status.billing_type {
        BillingType::Credits => super::credits_text(status.remaining_credits as f64),
        BillingType::Area => match status.remaining_area {
            Some(a) => t!("account.area_left", area = super::km2(a)).into_owned(),
            None => t!("account.area_unlimited").into_owned(),
        },
        BillingType::None => return,
    };
    ui.label(text);
}

/// Language and where the token is kept.
pub fn settings_ui(ctx: &egui::Context, state: &mut AppState, ui_state: &mut super::UiState, _map: &mut MapView) {
    let mut open = ui_state.settings_open;
    super::dialog(ctx, t!("settings.title")).open(&mut open).show(ctx, |ui| {
        egui::Grid::new("settings_grid").num_columns(2).show(ui, |ui| {
            let l = ui.label(t!("settings.language"));
            let current = state.settings.language;
            egui::ComboBox::from_id_salt("language")
                .selected_text(current.native_name())
                .show_ui(ui, |ui| {
                    for lang in Language::ALL {
                        if ui.selectable_label(lang == current, lang.native_name()).clicked() {
                            state.settings.language = lang;
                            lang.activate();
                        }
                    }
                })
                .response
                .labelled_by(l.id);
            ui.end_row();
            ui.label(t!("settings.token_kept"));
            let where_text = match (&state.session, &state.credentials) {
                (Some(s), _) if s.kind == SessionKind::Sandbox => t!("settings.token_sandbox").into_owned(),
                (_, Some(Err(e))) => t!("signin.store_failed", reason = e).into_owned(),
                (Some(s), _) => match &s.stored {
                    Some(crate::app::credentials::StoreLocation::Keychain) => {
                        t!("settings.token_keychain").into_owned()
                    }
                    Some(crate::app::credentials::StoreLocation::File(p)) => {
                        t!("settings.token_file", path = p.display().to_string()).into_owned()
                    }
                    None => t!("settings.token_not_saved").into_owned(),
                },
                (None, _) => t!("settings.token_not_saved").into_owned(),
            };
            ui.label(where_text);
            ui.end_row();
            super::file_chooser::settings_row(ui, state);
            cache_row(ui, state);
        });
    });
    ui_state.settings_open = open;
}

/// The result cache: what it holds, its cap, and Clear cache.
fn cache_row(ui: &mut egui::Ui, state: &mut AppState) {
    let l = ui.label(t!("settings.cache"));
    ui.horizontal_wrapped(|ui| {
        let held = state.cache_size.map_or_else(|| "—".to_owned(), |b| format!("{:.1}", b as f64 / 1_048_576.0));
        ui.label(t!("settings.cache_held", mb = held));
        let cap = ui
            .add(egui::DragValue::new(&mut state.settings.cache_limit_mb).range(16..=102_400).suffix(" MB"))
            .labelled_by(l.id)
            .on_hover_text(t!("settings.cache_limit"));
        if cap.drag_stopped() || cap.lost_focus() {
            let bytes = state.settings.cache_limit_mb.saturating_mul(1024 * 1024);
            state.follow_up.push(crate::worker::Command::SetCacheLimit { bytes });
        }
        if ui.button(t!("settings.cache_clear")).clicked() {
            state.follow_up.push(crate::worker::Command::ClearCache);
        }
    });
    ui.end_row();
}

/// The version and the credits of the bundled data and the tile providers.
pub fn about_ui(ctx: &egui::Context, ui_state: &mut super::UiState) {
    let mut open = ui_state.about_open;
    super::dialog(ctx, t!("about.title")).open(&mut open).show(ctx, |ui| {
        ui.strong(format!("{} {}", t!("app_name"), env!("CARGO_PKG_VERSION")));
        ui.label(t!("about.what"));
        ui.separator();
        ui.strong(t!("about.credits"));
        ui.hyperlink_to(t!("about.natural_earth"), "https://www.naturalearthdata.com/");
        ui.hyperlink_to(t!("about.geonames"), "https://www.geonames.org/");
        ui.hyperlink_to(t!("map.attribution_osm"), "https://www.openstreetmap.org/copyright");
    });
    ui_state.about_open = open;
}
