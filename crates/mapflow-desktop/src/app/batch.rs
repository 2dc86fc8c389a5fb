//! The batch in `AppState`: a file of polygons planned as one processing per feature (or per
//! group), each checked and estimated before anything is charged, then the batch's progress
//! as the worker reports it, and the unfinished batches offered again after a restart.

use super::form::{FormProblem, ProcessingForm};
use super::state::AppState;
use crate::api::{BillingType, ProcessingRequest, ProjectId};
use crate::geo::AoiLimits;
use crate::geo::batch::SourceFeature;
use crate::worker::batch::{BatchItem, BatchRecord, BatchStop, ItemState};
use crate::worker::{Command, Event};
use rust_i18n::t;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the plan must stay unchanged before its items are estimated.
const ESTIMATE_DEBOUNCE: Duration = Duration::from_millis(600);

/// One row of the plan: an item, and whether it can be started (the request) or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    pub key: String,
    pub name: String,
    /// The area processed, m² (0 when the geometry is refused).
    pub area_m2: f64,
    /// How many features of the file it covers.
    pub features: usize,
    pub check: Result<ProcessingRequest, String>,
}

/// What the plan was built from; a change rebuilds it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PlanKey {
    features: usize,
    name_attribute: Option<String>,
    group_by: Option<String>,
    form: ProcessingForm,
    project: Option<ProjectId>,
    limits: AoiLimits,
}

/// The batch pane's state.
#[derive(Debug, Default)]
pub struct BatchState {
    /// The batch window is shown.
    pub open: bool,
    /// The file read (or being read).
    pub file: Option<PathBuf>,
    pub reading: bool,
    pub read_error: Option<String>,
    pub features: Option<Arc<Vec<SourceFeature>>>,
    pub attributes: Vec<String>,
    pub name_attribute: Option<String>,
    pub group_by: Option<String>,
    pub rows: Vec<PlanRow>,
    /// Why no item can be built from the form (no model, no imagery…), for all of them.
    pub form_problem: Option<String>,
    /// Items the user left out, by key.
    pub excluded: BTreeSet<String>,
    pub(super) plan_key: Option<PlanKey>,
    /// The serial of the estimates asked for the plan shown; answers of another are dropped.
    pub serial: u64,
    /// When the plan last changed, while its estimates wait to be asked for.
    estimate_due: Option<Instant>,
    /// Each item's estimate, or why the server would not give one.
    pub costs: HashMap<String, Result<f64, String>>,
    /// The batch started (or offered to resume), as last reported.
    pub record: Option<Arc<BatchRecord>>,
    /// The worker is running it.
    pub running: bool,
    /// Why it stopped before its end.
    pub stop: Option<BatchStop>,
    /// Unfinished batches of this account, found at sign-in, to resume or discard.
    pub found: Vec<BatchRecord>,
    /// The start is to be confirmed.
    pub confirming: bool,
}

/// Totals of a plan: what would be started, and for how much.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlanTotals {
    pub to_start: usize,
    pub refused: usize,
    pub skipped: usize,
    /// Estimates still on their way.
    pub estimating: usize,
    pub cost: f64,
}

impl BatchState {
    /// Forgets the file and the plan (not a batch under way).
    pub fn clear_file(&mut self) {
        *self = Self {
            open: self.open,
            record: self.record.take(),
            running: self.running,
            stop: self.stop.take(),
            found: std::mem::take(&mut self.found),
            serial: self.serial + 1,
            ..Self::default()
        };
    }

    /// The estimate of `key`: `None` while it is on its way (or not asked for).
    pub fn cost(&self, key: &str) -> Option<&Result<f64, String>> {
        self.costs.get(key)
    }

    /// What the plan would start, refuse and skip, with the total estimate.
    pub fn totals(&self, billed: bool) -> PlanTotals {
        let mut t = PlanTotals::default();
        for row in &self.rows {
            if self.excluded.contains(&row.key) {
                t.skipped += 1;
                continue;
            }
            match (&row.check, self.cost(&row.key)) {
                (Err(_), _) => t.refused += 1,
                (Ok(_), Some(Err(_))) if billed => t.refused += 1,
                (Ok(_), Some(Ok(c))) if billed => {
                    t.to_start += 1;
                    t.cost += c;
                }
                (Ok(_), None) if billed => {
                    t.to_start += 1;
                    t.estimating += 1;
                }
                (Ok(_), _) => t.to_start += 1,
            }
        }
        t
    }

    /// A batch that is running or stopped before its end.
    pub fn under_way(&self) -> bool {
        self.record.as_ref().is_some_and(|r| !r.is_finished())
    }
}

impl AppState {
    /// Opens the batch window.
    pub fn open_batch(&mut self) {
        self.batch.open = true;
    }

    /// Asks for a file to plan a batch from.
    pub fn choose_batch_file(&mut self) -> Command {
        self.batch.read_error = None;
        Command::ReadBatchFile { path: None }
    }

    fn billed(&self) -> bool {
        self.status.value().map(|s| s.billing_type).unwrap_or_default() == BillingType::Credits
    }

    /// Rebuilds the plan when the file, the attributes, the form, the project or the limits
    /// changed, and once it has settled asks for its estimates. Called every frame the window
    /// is shown; cheap when nothing changed.
    pub fn refresh_batch_plan(&mut self) -> Option<Command> {
        let features = self.batch.features.clone()?;
        let limits = self.aoi_limits();
        // The name typed in the form is not the batch's: its items are named from the file.
        let form = ProcessingForm { name: String::new(), ..self.settings.form.clone() };
        let key = PlanKey {
            features: Arc::as_ptr(&features) as usize,
            name_attribute: self.batch.name_attribute.clone(),
            group_by: self.batch.group_by.clone(),
            form,
            project: self.open_project_id().cloned(),
            limits: limits.clone(),
        };
        if self.batch.plan_key.as_ref() != Some(&key) {
            let (rows, problem) = self.plan_rows(&features, &key);
            self.batch.rows = rows;
            self.batch.form_problem = problem;
            self.batch.plan_key = Some(key);
            self.batch.serial += 1;
            self.batch.costs.clear();
            self.batch.estimate_due = Some(Instant::now());
        }
        let due = self.batch.estimate_due?;
        if due.elapsed() < ESTIMATE_DEBOUNCE {
            return None;
        }
        self.batch.estimate_due = None;
        if !self.billed() {
            return None;
        }
        let requests: Vec<(String, ProcessingRequest)> =
            self.batch.rows.iter().filter_map(|r| r.check.as_ref().ok().map(|q| (r.key.clone(), q.clone()))).collect();
        (!requests.is_empty()).then(|| Command::EstimateBatch { serial: self.batch.serial, requests })
    }

    /// How long until the estimates are asked for, to wake the UI then.
    pub fn batch_estimate_wait(&self) -> Option<Duration> {
        self.batch.estimate_due.map(|at| ESTIMATE_DEBOUNCE.saturating_sub(at.elapsed()))
    }

    fn plan_rows(&self, features: &[SourceFeature], key: &PlanKey) -> (Vec<PlanRow>, Option<String>) {
        let models = self.models();
        let providers = self.providers();
        let fallback = t!("batch.unnamed").into_owned();
        let items =
            crate::geo::batch::plan(features, key.name_attribute.as_deref(), key.group_by.as_deref(), &fallback);
        let mut form_problem = None;
        let rows = items
            .into_iter()
            .map(|item| {
                let checked = item
                    .aoi
                    .map_err(|e| e.message())
                    .and_then(|aoi| crate::geo::batch::check_item(&aoi, &key.limits).map_err(|why| why.join(" ")));
                let (area_m2, check) = match checked {
                    Err(why) => (0.0, Err(why)),
                    Ok(aoi) => {
                        let form = ProcessingForm { name: item.name.clone(), ..key.form.clone() };
                        let area = form.covered(&aoi).total_area_m2();
                        match form.request(key.project.as_ref(), &models, &providers, &aoi, false) {
                            Ok(request) => (area, Ok(request)),
                            Err(FormProblem::OutsideImagery) => (area, Err(FormProblem::OutsideImagery.message())),
                            Err(p) => {
                                form_problem.get_or_insert_with(|| p.message());
                                (area, Err(t!("batch.form_first").into_owned()))
                            }
                        }
                    }
                };
                PlanRow { key: item.key, name: item.name, area_m2, features: item.features.len(), check }
            })
            .collect();
        (rows, form_problem)
    }

    /// The batch to start from the plan: the items to create, those refused with the reason,
    /// those left out. `None` without a session or an open project.
    pub fn batch_record(&self) -> Option<BatchRecord> {
        let session = self.session.as_ref()?;
        let project = self.open_project.value()?;
        let billed = self.billed();
        let mut withheld = false;
        let items = self
            .batch
            .rows
            .iter()
            .map(|row| {
                let cost = self.batch.cost(&row.key);
                let state = if self.batch.excluded.contains(&row.key) {
                    ItemState::Skipped
                } else {
                    match (&row.check, cost) {
                        (Err(why), _) => ItemState::Refused { reason: why.clone() },
                        (Ok(_), Some(Err(why))) if billed => {
                            ItemState::Refused { reason: t!("batch.no_estimate", reason = why).into_owned() }
                        }
                        (Ok(_), _) => ItemState::Waiting,
                    }
                };
                let request = row.check.as_ref().ok().filter(|_| state == ItemState::Waiting).cloned();
                withheld |= request.as_ref().is_some_and(has_password);
                BatchItem {
                    key: row.key.clone(),
                    name: row.name.clone(),
                    area_m2: row.area_m2,
                    cost: cost.and_then(|c| c.as_ref().ok()).copied(),
                    request,
                    state,
                }
            })
            .collect();
        let file_name = self
            .batch
            .file
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Some(crate::worker::batch::new_record(
            &session.server,
            &session.email,
            project.id.clone(),
            project.name.clone(),
            file_name,
            withheld,
            items,
        ))
    }

    /// Starts the planned batch (after the user confirmed its cost).
    pub fn start_batch(&mut self) -> Option<Command> {
        let record = self.batch_record()?;
        self.batch.confirming = false;
        self.batch.stop = None;
        self.batch.running = true;
        self.batch.record = Some(Arc::new(record.clone()));
        Some(Command::RunBatch { record: Box::new(record) })
    }

    /// Why a batch cannot be resumed now (an imagery password not typed), if it cannot.
    pub fn resume_blocked(&self, record: &BatchRecord) -> Option<String> {
        let needs = record.password_withheld
            && record.items.iter().any(|i| i.state.is_open())
            && self.settings.form.custom.password.trim().is_empty();
        needs.then(|| t!("batch.password_needed").into_owned())
    }

    /// Resumes `record` (the one shown, or one found at sign-in) where it stopped.
    pub fn resume_batch(&mut self, mut record: BatchRecord) -> Option<Command> {
        if self.resume_blocked(&record).is_some() {
            return None;
        }
        if record.password_withheld {
            let password = self.settings.form.custom.password.trim().to_owned();
            for item in &mut record.items {
                if let Some(crate::api::SourceParams::UserDefined { raster_password, .. }) =
                    item.request.as_mut().map(|r| &mut r.params.source_params)
                    && raster_password.is_none()
                {
                    *raster_password = Some(crate::api::Secret::new(password.clone()));
                }
            }
        }
        self.batch.found.retain(|r| r.id != record.id);
        self.batch.stop = None;
        self.batch.running = true;
        self.batch.open = true;
        self.batch.record = Some(Arc::new(record.clone()));
        Some(Command::RunBatch { record: Box::new(record) })
    }

    /// Forgets a batch found at sign-in (its processings stay).
    pub fn discard_batch(&mut self, id: &str) -> Command {
        self.batch.found.retain(|r| r.id != id);
        if self.batch.record.as_ref().is_some_and(|r| r.id == id) && !self.batch.running {
            self.batch.record = None;
            self.batch.stop = None;
        }
        Command::DiscardBatch { id: id.to_owned() }
    }

    /// Applies the batch's events.
    pub(super) fn apply_batch_event(&mut self, event: Event) {
        match event {
            Event::BatchFileReading { .. } => self.batch.reading = true,
            Event::BatchFileRead { path, result } => {
                self.batch.reading = false;
                match result {
                    Ok(features) => {
                        self.batch.clear_file();
                        self.batch.attributes = crate::geo::batch::attribute_names(&features);
                        self.batch.name_attribute = crate::geo::batch::guess_name_attribute(&features);
                        self.batch.features = Some(features);
                        self.batch.file = Some(path);
                        self.batch.open = true;
                    }
                    Err(e) => self.batch.read_error = Some(e),
                }
            }
            Event::BatchCost { serial, key, result } if serial == self.batch.serial => {
                self.batch.costs.insert(key, result.map_err(|e| super::messages::error_text(&e)));
            }
            Event::BatchProgress { record, stop } => {
                let ours = self.batch.record.as_ref().is_none_or(|r| r.id == record.id);
                if !ours {
                    return;
                }
                let finished = record.is_finished();
                let was_running = self.batch.running;
                self.batch.running = stop.is_none() && !finished;
                if let Some(BatchStop::Failed(why)) = &stop {
                    self.notify_error(t!("batch.stopped", reason = why));
                }
                if finished && was_running {
                    let c = record.counts();
                    self.notify(t!("batch.done", created = c.created, refused = c.refused, skipped = c.skipped));
                }
                // The table shows what the batch started, once it stops or ends.
                let show = !self.batch.running && self.open_project_id() == Some(&record.project_id);
                self.batch.stop = stop;
                self.batch.record = Some(record);
                if show {
                    self.refresh_summary();
                    if let Some(cmd) = self.watch_processings() {
                        self.follow_up.push(cmd);
                    }
                }
            }
            Event::BatchesFound { records, problems } => {
                for p in problems {
                    self.notify_error(t!("batch.unreadable", reason = p));
                }
                let shown = self.batch.record.as_ref().map(|r| r.id.clone());
                self.batch.found = records.into_iter().filter(|r| Some(&r.id) != shown.as_ref()).collect();
                if !self.batch.found.is_empty() {
                    self.batch.open = true;
                }
            }
            Event::BatchDiscarded { id: _, result: Err(e) } => {
                self.notify_error(t!("batch.discard_failed", reason = e));
            }
            _ => {}
        }
    }
}

fn has_password(request: &ProcessingRequest) -> bool {
    matches!(&request.params.source_params, crate::api::SourceParams::UserDefined { raster_password: Some(_), .. })
}
