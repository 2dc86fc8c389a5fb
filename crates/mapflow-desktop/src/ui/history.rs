//! The History pane: every project's processings over a date range, by status and model,
//! with totals, a chart of credits or km² per week or month stacked by model, and the
//! server's CSV export.

use chrono::NaiveDate;
use egui_plot::{Bar, BarChart, Legend, Plot};
use rust_i18n::t;

use crate::app::AppState;
use crate::app::history::Period;
use crate::worker::Command;

/// The date fields as typed.
#[derive(Default)]
pub struct HistoryUi {
    pub from: String,
    pub to: String,
}

/// Colours of the stacked series, in order.
const COLORS: [egui::Color32; 6] = [
    egui::Color32::from_rgb(66, 133, 244),
    egui::Color32::from_rgb(52, 168, 83),
    egui::Color32::from_rgb(251, 188, 5),
    egui::Color32::from_rgb(234, 67, 53),
    egui::Color32::from_rgb(155, 89, 182),
    egui::Color32::from_rgb(120, 144, 156),
];

fn date(text: &str) -> Result<Option<NaiveDate>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(Some).map_err(|_| ())
}

pub fn history_ui(ui: &mut egui::Ui, state: &mut AppState, hui: &mut HistoryUi, out: &mut Vec<Command>) {
    if state.session.is_none() {
        return;
    }
    if !state.history.rows.is_requested() {
        out.push(state.load_history());
    }
    // Models are few; copied so the controls below can change the state.
    let models = state.history.view().models.clone();
    let mut requery = false;
    ui.horizontal_wrapped(|ui| {
        let h = &mut state.history;
        let all = t!("history.all");
        let l = ui.label(t!("history.status"));
        egui::ComboBox::from_id_salt("history_status")
            .selected_text(h.status.as_ref().map_or_else(
                || all.to_string(),
                |s| super::processings::status_word(&crate::api::ProcessingStatus::from(s.clone())),
            ))
            .show_ui(ui, |ui| {
                for s in [None, Some("OK"), Some("FAILED"), Some("IN_PROGRESS"), Some("UNPROCESSED")] {
                    let label = s.map_or_else(
                        || all.to_string(),
                        |s| super::processings::status_word(&crate::api::ProcessingStatus::from(s.to_owned())),
                    );
                    if ui.selectable_label(h.status.as_deref() == s, label).clicked() {
                        h.status = s.map(str::to_owned);
                        requery = true;
                    }
                }
            })
            .response
            .labelled_by(l.id);
        let l = ui.label(t!("history.model"));
        egui::ComboBox::from_id_salt("history_model")
            .selected_text(h.model.clone().unwrap_or_else(|| all.to_string()))
            .show_ui(ui, |ui| {
                if ui.selectable_label(h.model.is_none(), all.as_ref()).clicked() {
                    h.model = None;
                    requery = true;
                }
                for m in &models {
                    if ui.selectable_label(h.model.as_ref() == Some(m), super::drawable(ui.ctx(), m)).clicked() {
                        h.model = Some(m.clone());
                        requery = true;
                    }
                }
            })
            .response
            .labelled_by(l.id);
    });
    let mut bad_date = false;
    ui.horizontal_wrapped(|ui| {
        for (label, text, bound) in [
            (t!("history.from"), &mut hui.from, &mut state.history.from),
            (t!("history.to"), &mut hui.to, &mut state.history.to),
        ] {
            let l = ui.label(label);
            ui.add(egui::TextEdit::singleline(text).hint_text("YYYY-MM-DD").desired_width(96.0)).labelled_by(l.id);
            match date(text) {
                Ok(d) => *bound = d,
                Err(()) => bad_date = true,
            }
        }
        if ui.button(t!("common.refresh")).clicked() {
            requery = true;
        }
        if ui.button(t!("history.export")).clicked() {
            out.push(Command::SaveHistory { filter: state.history.filter(), path: None });
        }
    });
    if bad_date {
        ui.colored_label(ui.visuals().error_fg_color, t!("history.bad_date"));
    }
    if requery {
        out.push(state.load_history());
    }
    // A failure says why (over the last rows, if any); Retry asks again.
    if let Some(e) = state.history.rows.error() {
        let text = crate::app::messages::error_text(e);
        ui.colored_label(ui.visuals().error_fg_color, text);
        if ui.button(t!("common.retry")).clicked() {
            out.push(state.load_history());
        }
    }
    if state.history.rows.is_pending() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(t!("history.loading"));
        });
    }
    if state.history.rows.value().is_none() {
        return;
    }
    let totals = state.history.view().totals.clone();
    ui.strong(t!(
        "history.totals",
        count = totals.processings,
        km2 = format!("{:.2}", totals.km2),
        credits = totals.credits
    ));
    if totals.processings == 0 {
        ui.weak(t!("history.empty"));
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for (status, n) in &totals.by_status {
            let word = super::processings::status_word(&crate::api::ProcessingStatus::from(status.clone()));
            ui.label(format!("{word}: {n}"));
        }
    });
    ui.horizontal(|ui| {
        let h = &mut state.history;
        ui.selectable_value(&mut h.period, Period::Week, t!("history.week"));
        ui.selectable_value(&mut h.period, Period::Month, t!("history.month"));
        ui.separator();
        ui.selectable_value(&mut h.chart_credits, true, t!("history.credits"));
        ui.selectable_value(&mut h.chart_credits, false, t!("history.km2"));
    });
    let series = state.history.view().series.clone();
    let width = match state.history.period {
        Period::Week => 5.0,
        Period::Month => 22.0,
    };
    let mut charts: Vec<BarChart> = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let bars = s.points.iter().map(|&(day, v)| Bar::new(day as f64 + width / 2.0, v).width(width)).collect();
        let mut chart = BarChart::new(super::drawable(ui.ctx(), &s.model), bars).color(COLORS[i % COLORS.len()]);
        let below: Vec<&BarChart> = charts.iter().collect();
        chart = chart.stack_on(&below);
        charts.push(chart);
    }
    Plot::new("history_plot")
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        // Tall enough to read in a short pane (which then scrolls).
        .height(ui.available_height().max(200.0))
        .allow_scroll(false)
        .allow_zoom(false)
        .allow_drag(false)
        .x_axis_formatter(|mark, _| {
            let day = NaiveDate::default() + chrono::Duration::days(mark.value.round() as i64);
            day.format("%Y-%m-%d").to_string()
        })
        .show(ui, |plot| {
            for chart in charts {
                plot.bar_chart(chart);
            }
        });
}
