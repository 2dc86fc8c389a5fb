//! The processing history of every project (`POST /processings/stats`): what the History
//! pane shows, with its totals and its charts' series.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, Utc};
use rust_i18n::t;

use super::remote::Remote;
use super::state::AppState;
use crate::api::HistoryRow;
use crate::worker::{Command, Event};

/// Periods the charts add up over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Period {
    Week,
    #[default]
    Month,
}

/// What the History pane shows and asks for.
#[derive(Debug)]
pub struct HistoryState {
    /// The rows of the last request (the server's filter: status, model).
    pub rows: Remote<Vec<HistoryRow>>,
    /// The serial of the latest request: an answer to an earlier one (another filter, or
    /// before a sign-in to another account) is dropped.
    pub asked: u64,
    /// `status=…` of the server's filter; `None` for every status.
    pub status: Option<String>,
    /// `model=…` of the server's filter.
    pub model: Option<String>,
    /// The dates shown (by `created`), inclusive; `None` for no bound.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub period: Period,
    /// Chart credits (else km²).
    pub chart_credits: bool,
    /// Bumped whenever `rows` change, for [`Self::view`].
    rows_version: u64,
    view: Option<(ViewKey, HistoryView)>,
}

/// What a [`HistoryView`] was computed from.
#[derive(Clone, Debug, PartialEq)]
struct ViewKey {
    rows: u64,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    period: Period,
    chart_credits: bool,
}

/// What the pane draws, computed once per change of rows or controls, not every frame.
#[derive(Clone, Debug, Default)]
pub struct HistoryView {
    pub totals: Totals,
    pub series: Vec<Series>,
    /// The models of the rows, sorted.
    pub models: Vec<String>,
}

impl Default for HistoryState {
    fn default() -> Self {
        Self {
            rows: Remote::default(),
            asked: 0,
            status: None,
            model: None,
            from: None,
            to: None,
            period: Period::default(),
            chart_credits: true,
            rows_version: 0,
            view: None,
        }
    }
}

/// Totals of the rows shown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub processings: usize,
    pub km2: f64,
    pub credits: i64,
    /// Processings by status, most first.
    pub by_status: Vec<(String, usize)>,
}

/// One chart series: a model's values per period (`(period start as days since the Unix
/// epoch, value)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub model: String,
    pub points: Vec<(i64, f64)>,
}

impl HistoryState {
    /// The totals, chart series and models of what is shown, recomputed only when the rows
    /// or the controls changed.
    pub fn view(&mut self) -> &HistoryView {
        let key = ViewKey {
            rows: self.rows_version,
            from: self.from,
            to: self.to,
            period: self.period,
            chart_credits: self.chart_credits,
        };
        if self.view.as_ref().is_none_or(|(k, _)| *k != key) {
            let mut models: Vec<String> =
                self.rows.value().map(|r| r.iter().map(|r| r.model.clone()).collect()).unwrap_or_default();
            models.sort();
            models.dedup();
            let view = HistoryView { totals: self.totals(), series: self.series(), models };
            self.view = Some((key, view));
        }
        &self.view.as_ref().expect("set above").1
    }

    /// The server-side filter of the controls: `status=OK&model=…`.
    pub fn filter(&self) -> Option<String> {
        let parts: Vec<String> = [("status", &self.status), ("model", &self.model)]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join("&"))
    }

    /// The rows within the date range.
    pub fn shown(&self) -> Vec<&HistoryRow> {
        let Some(rows) = self.rows.value() else { return Vec::new() };
        rows.iter()
            .filter(|r| {
                let Some(day) = r.created.map(|c| c.date_naive()) else {
                    return self.from.is_none() && self.to.is_none();
                };
                self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
            })
            .collect()
    }

    pub fn totals(&self) -> Totals {
        let rows = self.shown();
        let mut by_status: Vec<(String, usize)> = Vec::new();
        for r in &rows {
            match by_status.iter_mut().find(|(s, _)| *s == r.status) {
                Some((_, n)) => *n += 1,
                None => by_status.push((r.status.clone(), 1)),
            }
        }
        by_status.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Totals {
            processings: rows.len(),
            // An empty sum is -0.0 in Rust; + 0.0 makes it read "0.00".
            km2: rows.iter().map(|r| r.area as f64 / 1e6).sum::<f64>() + 0.0,
            credits: rows.iter().map(|r| r.cost).sum(),
            by_status,
        }
    }

    /// Credits (or km²) per period, one series per model, models by their total.
    pub fn series(&self) -> Vec<Series> {
        // Model → period start → value; both ordered, so the points come out sorted.
        let mut sums: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
        for r in self.shown() {
            let Some(created) = r.created else { continue };
            let value = if self.chart_credits { r.cost as f64 } else { r.area as f64 / 1e6 };
            *sums.entry(&r.model).or_default().entry(period_start(created, self.period)).or_default() += value;
        }
        let mut out: Vec<Series> = sums
            .into_iter()
            .map(|(model, points)| Series { model: model.to_owned(), points: points.into_iter().collect() })
            .collect();
        let total = |s: &Series| s.points.iter().map(|(_, v)| v).sum::<f64>();
        out.sort_by(|a, b| total(b).total_cmp(&total(a)).then(a.model.cmp(&b.model)));
        out
    }
}

/// The first day of the period holding `t`, as days since 1970-01-01.
pub fn period_start(t: DateTime<Utc>, period: Period) -> i64 {
    let day = t.date_naive();
    let start = match period {
        Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        Period::Month => day.with_day(1).unwrap_or(day),
    };
    (start - NaiveDate::default()).num_days()
}

impl AppState {
    /// Asks for the history with the controls' filter.
    pub fn load_history(&mut self) -> Command {
        let filter = self.history.filter();
        self.history.asked += 1;
        self.history.rows.start();
        Command::LoadHistory { filter, serial: self.history.asked }
    }

    pub(super) fn apply_history_event(&mut self, event: Event) {
        match event {
            // An answer for a filter no longer asked for is dropped.
            Event::History { serial, result } if serial == self.history.asked => {
                self.history.rows.finish(result);
                self.history.rows_version += 1;
            }
            Event::HistorySaved { path, result } => match result {
                Ok(bytes) => self.notify(t!(
                    "history.saved",
                    path = path.display().to_string(),
                    size = format!("{:.1}", bytes as f64 / 1024.0)
                )),
                Err(e) => self.notify_error(t!("history.save_failed", reason = e)),
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, status: &str, day: &str, area: i64, cost: i64) -> HistoryRow {
        HistoryRow {
            id: format!("{model}{day}"),
            name: "n".into(),
            project_id: String::new(),
            project_name: String::new(),
            status: status.into(),
            model: model.into(),
            source: String::new(),
            area,
            cost,
            created: Some(DateTime::parse_from_rfc3339(&format!("{day}T10:00:00Z")).unwrap().with_timezone(&Utc)),
        }
    }

    #[test]
    fn totals_and_series_add_up_within_the_dates() {
        let mut h = HistoryState::default();
        h.rows.finish(Ok(vec![
            row("Buildings", "OK", "2026-10-02", 2_000_000, 20),
            row("Buildings", "FAILED", "2026-10-20", 1_000_000, 0),
            row("Forest", "OK", "2026-11-05", 5_000_000, 15),
            row("Buildings", "OK", "2026-11-06", 1_000_000, 10),
        ]));
        let t = h.totals();
        assert_eq!((t.processings, t.credits), (4, 45));
        assert!((t.km2 - 9.0).abs() < 1e-9);
        assert_eq!(t.by_status, [("OK".to_owned(), 3), ("FAILED".to_owned(), 1)]);
        h.chart_credits = true;
        let s = h.series();
        assert_eq!(s[0].model, "Buildings");
        let oct = period_start(row("", "", "2026-10-01", 0, 0).created.unwrap(), Period::Month);
        let nov = period_start(row("", "", "2026-11-01", 0, 0).created.unwrap(), Period::Month);
        assert_eq!(s[0].points, [(oct, 20.0), (nov, 10.0)]);
        assert_eq!(s[1].points, [(nov, 15.0)]);
        // A date range keeps only its rows.
        h.from = NaiveDate::from_ymd_opt(2026, 11, 1);
        assert_eq!(h.totals().credits, 25);
        // Weeks start on Monday: 2026-11-05 is a Thursday, its week starts on the 2nd.
        h.period = Period::Week;
        let monday = period_start(row("", "", "2026-11-02", 0, 0).created.unwrap(), Period::Week);
        let forest = h.series().into_iter().find(|s| s.model == "Forest").unwrap();
        assert_eq!(forest.points, [(monday, 15.0)]);
        assert_eq!(
            HistoryState { status: Some("OK".into()), ..Default::default() }.filter().as_deref(),
            Some("status=OK")
        );
    }

    #[test]
    fn only_the_latest_request_is_answered() {
        let mut state = AppState::new(Default::default());
        let serial = |c: &Command| match c {
            Command::LoadHistory { serial, .. } => *serial,
            _ => unreachable!(),
        };
        let first = serial(&state.load_history());
        let second = serial(&state.load_history());
        state.apply(Event::History { serial: first, result: Ok(vec![row("Buildings", "OK", "2026-10-02", 1, 1)]) });
        assert!(state.history.rows.is_pending(), "the earlier request's answer is dropped");
        state.apply(Event::History { serial: second, result: Ok(Vec::new()) });
        assert_eq!(state.history.rows.value().map(Vec::len), Some(0));
        assert_eq!(state.history.view().totals.processings, 0);
    }
}
