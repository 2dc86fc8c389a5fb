//! My imagery: storage, mosaics, the selected mosaic's images, and uploads.

use crate::api::{ImageId, MosaicId, RasterImage};
use crate::app::AppState;
use crate::worker::{Command, UploadStatus, UploadTarget};
use rust_i18n::t;
use std::collections::BTreeSet;

/// Half-typed fields and dialogs of the panel.
#[derive(Default)]
pub struct ImageryUi {
    pub new_name: String,
    pub new_tags: String,
    pub edit: Option<(MosaicId, String, String)>,
    pub checked: BTreeSet<MosaicId>,
    pub confirm_delete: bool,
    pub renaming: Option<(ImageId, String)>,
    /// Footprints of the selected mosaic's images, parsed once per set of images.
    footprints: Option<(Vec<(ImageId, usize)>, crate::geo::Aoi)>,
    /// The image waiting for a delete confirmation, with its file name.
    pub deleting_image: Option<(ImageId, String)>,
    requested: bool,
}

fn tags_of(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

/// Bytes in the largest unit that keeps the number readable.
pub fn bytes_text(n: i64) -> String {
    let n = n.max(0) as f64;
    let (v, unit) = if n >= 1024f64.powi(3) {
        (n / 1024f64.powi(3), "GiB")
    } else if n >= 1024f64.powi(2) {
        (n / 1024f64.powi(2), "MiB")
    } else if n >= 1024.0 {
        (n / 1024.0, "KiB")
    } else {
        (n, "B")
    };
    format!("{v:.1} {unit}")
}

pub fn imagery_ui(ui: &mut egui::Ui, state: &mut AppState, iui: &mut ImageryUi, out: &mut Vec<Command>) {
    if !iui.requested && state.session.is_some() {
        iui.requested = true;
        out.extend(state.reload_imagery());
    }
    ui.horizontal(|ui| {
        if ui.small_button(t!("common.refresh")).clicked() {
            out.extend(state.reload_imagery());
        }
    });
    storage_bar(ui, state);
    ui.separator();

    ui.strong(t!("imagery.new_mosaic"));
    egui::Grid::new("new_mosaic").num_columns(2).show(ui, |ui| {
        let l = ui.label(t!("imagery.mosaic_name"));
        ui.add(egui::TextEdit::singleline(&mut iui.new_name).desired_width(180.0)).labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("imagery.tags"));
        ui.add(egui::TextEdit::singleline(&mut iui.new_tags).desired_width(180.0).hint_text("survey, 2026"))
            .labelled_by(l.id);
        ui.end_row();
    });
    ui.horizontal(|ui| {
        let ok = !iui.new_name.trim().is_empty();
        if ui.add_enabled(ok, egui::Button::new(t!("imagery.create"))).clicked() {
            out.push(Command::CreateMosaic { name: iui.new_name.trim().to_owned(), tags: tags_of(&iui.new_tags) });
            iui.new_name.clear();
            iui.new_tags.clear();
        }
        if ui.add_enabled(ok && !state.imagery.uploading, egui::Button::new(t!("imagery.create_and_upload"))).clicked()
        {
            state.imagery.uploads.clear();
            state.imagery.uploading = true;
            out.push(Command::Upload {
                target: UploadTarget::NewMosaic { name: iui.new_name.trim().to_owned(), tags: tags_of(&iui.new_tags) },
                paths: None,
            });
        }
    });
    ui.separator();
    mosaics_table(ui, state, iui, out);
    uploads_ui(ui, state, out);
    ui.separator();
    selected_mosaic_ui(ui, state, iui, out);
}

fn storage_bar(ui: &mut egui::Ui, state: &AppState) {
    if let Some(e) = state.imagery.memory.error() {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(e));
    }
    let Some(m) = state.imagery.memory.value() else { return };
    match m.memory_limit {
        Some(limit) if limit > 0 => {
            let share = (m.memory_used as f32 / limit as f32).clamp(0.0, 1.0);
            ui.add(egui::ProgressBar::new(share).text(t!(
                "imagery.storage",
                used = bytes_text(m.memory_used),
                limit = bytes_text(limit)
            )));
        }
        _ => {
            ui.label(t!("imagery.storage_unlimited", used = bytes_text(m.memory_used)));
        }
    }
}

fn mosaics_table(ui: &mut egui::Ui, state: &mut AppState, iui: &mut ImageryUi, out: &mut Vec<Command>) {
    if let Some(e) = state.imagery.mosaics.error().cloned()
        && super::error_box(ui, &e)
    {
        out.extend(state.reload_imagery());
    }
    let Some(mosaics) = state.imagery.mosaics.value().cloned() else {
        if state.imagery.mosaics.is_pending() {
            ui.spinner();
        }
        return;
    };
    if mosaics.is_empty() {
        ui.weak(t!("imagery.no_mosaics"));
        return;
    }
    let mut select = None;
    egui::Grid::new("mosaics_grid").striped(true).num_columns(5).show(ui, |ui| {
        ui.label("");
        ui.strong(t!("imagery.col_name"));
        ui.strong(t!("imagery.tags"));
        ui.strong(t!("imagery.col_size"));
        ui.strong(t!("imagery.col_created"));
        ui.end_row();
        for m in &mosaics {
            let mut checked = iui.checked.contains(&m.id);
            if ui.checkbox(&mut checked, "").changed() {
                if checked {
                    iui.checked.insert(m.id.clone());
                } else {
                    iui.checked.remove(&m.id);
                }
            }
            let selected = state.imagery.selected.as_ref() == Some(&m.id);
            let row = ui.selectable_label(selected, super::drawable(ui.ctx(), &m.name));
            if row.clicked() && !selected {
                select = Some(m.id.clone());
            }
            row.context_menu(|ui| {
                if ui.add_enabled(!selected, egui::Button::new(t!("projects.open_action"))).clicked() {
                    select = Some(m.id.clone());
                    ui.close();
                }
                if ui.button(t!("imagery.edit_mosaic")).clicked() {
                    iui.edit = Some((m.id.clone(), m.name.clone(), m.tags.join(", ")));
                    ui.close();
                }
                if ui.button(t!("imagery.delete_mosaic")).clicked() {
                    iui.checked = std::iter::once(m.id.clone()).collect();
                    iui.confirm_delete = true;
                    ui.close();
                }
            });
            ui.label(m.tags.join(", "));
            ui.label(bytes_text(m.size_in_bytes));
            ui.label(m.created_at.as_deref().map(super::local_time).unwrap_or_default());
            ui.end_row();
        }
    });
    if let Some(id) = select {
        out.push(state.select_mosaic(id));
    }
    iui.checked.retain(|id| mosaics.iter().any(|m| &m.id == id));
    if ui
        .add_enabled(!iui.checked.is_empty(), egui::Button::new(t!("imagery.delete_checked", n = iui.checked.len())))
        .clicked()
    {
        iui.confirm_delete = true;
    }
}

fn uploads_ui(ui: &mut egui::Ui, state: &AppState, out: &mut Vec<Command>) {
    if state.imagery.uploads.is_empty() {
        return;
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.strong(t!("imagery.uploads"));
        if state.imagery.uploading && ui.button(t!("imagery.cancel_upload")).clicked() {
            out.push(Command::CancelUpload);
        }
    });
    for (path, status) in &state.imagery.uploads {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match status {
            UploadStatus::Uploading { sent, total, bytes_per_sec } => {
                let share = if *total > 0 { *sent as f32 / *total as f32 } else { 0.0 };
                let left = if *bytes_per_sec > 0.0 { (*total - *sent) as f64 / bytes_per_sec } else { 0.0 };
                ui.label(&name);
                ui.add(egui::ProgressBar::new(share).text(t!(
                    "imagery.progress",
                    speed = format!("{:.1}", bytes_per_sec / 1_048_576.0),
                    left = format!("{left:.0}")
                )));
            }
            UploadStatus::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("{name}: {e}"));
            }
            other => {
                let text = match other {
                    UploadStatus::Checking => t!("imagery.checking"),
                    UploadStatus::Done => t!("imagery.done"),
                    UploadStatus::Cancelled => t!("imagery.cancelled"),
                    _ => t!("imagery.skipped"),
                };
                ui.label(format!("{name}: {text}"));
            }
        }
    }
}

fn selected_mosaic_ui(ui: &mut egui::Ui, state: &mut AppState, iui: &mut ImageryUi, out: &mut Vec<Command>) {
    let Some(id) = state.imagery.selected.clone() else {
        ui.weak(t!("imagery.pick_mosaic"));
        return;
    };
    let Some(mosaic) = state.imagery.mosaic(&id).cloned() else { return };
    ui.strong(super::drawable(ui.ctx(), &mosaic.name));
    ui.horizontal_wrapped(|ui| {
        if ui.add_enabled(!state.imagery.uploading, egui::Button::new(t!("imagery.upload"))).clicked() {
            state.imagery.uploads.clear();
            state.imagery.uploading = true;
            out.push(Command::Upload { target: UploadTarget::Mosaic(id.clone()), paths: None });
        }
        if ui.button(t!("imagery.edit")).clicked() {
            iui.edit = Some((id.clone(), mosaic.name.clone(), mosaic.tags.join(", ")));
        }
        if ui.button(t!("imagery.process_mosaic")).clicked() {
            // The footprints of the mosaic's images, once they are loaded for it.
            let coverage = match (&state.imagery.selected, state.imagery.images.value()) {
                (Some(selected), Some(images)) if selected == &id => images_coverage(images),
                _ => None,
            };
            let form = &mut state.settings.form;
            form.source = crate::app::form::SourceKind::MyImagery;
            form.my_imagery = crate::app::form::MyImagerySource {
                mosaic_id: Some(id.0.clone()),
                image_ids: Vec::new(),
                label: mosaic.name.clone(),
                coverage,
            };
            state.notify(t!("imagery.source_set", name = mosaic.name));
        }
    });
    if let Some((eid, name, tags)) = &mut iui.edit {
        let mut close = false;
        egui::Grid::new("edit_mosaic").num_columns(2).show(ui, |ui| {
            let l = ui.label(t!("imagery.mosaic_name"));
            ui.add(egui::TextEdit::singleline(name)).labelled_by(l.id);
            ui.end_row();
            let l = ui.label(t!("imagery.tags"));
            ui.add(egui::TextEdit::singleline(tags)).labelled_by(l.id);
            ui.end_row();
        });
        ui.horizontal(|ui| {
            if ui.add_enabled(!name.trim().is_empty(), egui::Button::new(t!("common.save"))).clicked() {
                out.push(Command::UpdateMosaic { id: eid.clone(), name: name.trim().to_owned(), tags: tags_of(tags) });
                close = true;
            }
            if ui.button(t!("common.cancel")).clicked() {
                close = true;
            }
        });
        if close {
            iui.edit = None;
        }
    }
    if let Some(e) = state.imagery.images.error() {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(e));
    }
    let images = state.imagery.images.value().cloned().unwrap_or_default();
    if images.is_empty() && !state.imagery.images.is_pending() {
        ui.weak(t!("imagery.no_images"));
    }
    for img in &images {
        image_row(ui, state, iui, img, out);
    }
}

/// The rename and delete dialogs, drawn whether or not the imagery pane is on screen.
pub fn dialogs(ctx: &egui::Context, iui: &mut ImageryUi, out: &mut Vec<Command>) {
    if iui.confirm_delete {
        let question = t!("imagery.delete_confirm", n = iui.checked.len());
        if let Some(answer) = super::confirm_delete(ctx, "imagery.delete", t!("imagery.delete_title"), &question) {
            if answer == super::Answer::Delete {
                out.push(Command::DeleteMosaics { ids: iui.checked.iter().cloned().collect() });
                iui.checked.clear();
            }
            iui.confirm_delete = false;
        }
    }
    if let Some((iid, name)) = &mut iui.renaming {
        let mut close = false;
        super::dialog(ctx, t!("imagery.rename_title")).show(ctx, |ui| {
            let l = ui.label(t!("imagery.file_name"));
            ui.add(egui::TextEdit::singleline(name)).labelled_by(l.id);
            ui.horizontal(|ui| {
                if ui.add_enabled(!name.trim().is_empty(), egui::Button::new(t!("common.save"))).clicked() {
                    out.push(Command::RenameImage { id: iid.clone(), name: name.trim().to_owned() });
                    close = true;
                }
                if ui.button(t!("common.cancel")).clicked() {
                    close = true;
                }
            });
        });
        if close {
            iui.renaming = None;
        }
    }
    if let Some((iid, name)) = &iui.deleting_image {
        let question = t!("imagery.delete_image_confirm", name = name);
        let title = t!("imagery.delete_image_title");
        if let Some(answer) = super::confirm_delete(ctx, "imagery.delete_image", title, &question) {
            if answer == super::Answer::Delete {
                out.push(Command::DeleteImage { id: iid.clone() });
            }
            iui.deleting_image = None;
        }
    }
}

fn image_row(ui: &mut egui::Ui, state: &mut AppState, iui: &mut ImageryUi, img: &RasterImage, out: &mut Vec<Command>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.strong(&img.filename);
        let m = &img.meta_data;
        ui.label(t!(
            "imagery.meta",
            crs = m.crs.clone().unwrap_or_else(|| "?".into()),
            width = m.width,
            height = m.height,
            bands = m.count,
            dtypes = m.dtypes.join("/"),
            px = format!(
                "{:.3}×{:.3}",
                m.pixel_size.first().copied().unwrap_or_default(),
                m.pixel_size.get(1).copied().unwrap_or_default()
            )
        ));
        if let Some(nodata) = m.nodata {
            ui.weak(t!("imagery.nodata", value = nodata));
        }
        ui.weak(bytes_text(img.file_size));
        ui.horizontal_wrapped(|ui| {
            if ui.button(t!("imagery.use_footprint")).clicked() {
                match crate::geo::parse_wkt_polygons(img.footprint.as_deref().unwrap_or_default()) {
                    Ok(polygons) if !polygons.is_empty() => {
                        let aoi = crate::geo::Aoi { polygons };
                        state.zoom_request = aoi.bbox();
                        state.settings.aoi.replace(aoi);
                    }
                    _ => state.notify_error(t!("imagery.bad_footprint")),
                }
            }
            if ui.button(t!("imagery.process_image")).clicked() {
                let form = &mut state.settings.form;
                form.source = crate::app::form::SourceKind::MyImagery;
                form.my_imagery = crate::app::form::MyImagerySource {
                    mosaic_id: None,
                    image_ids: vec![img.id.0.clone()],
                    label: img.filename.clone(),
                    coverage: images_coverage(std::slice::from_ref(img)),
                };
                state.notify(t!("imagery.source_set", name = img.filename));
            }
            if ui.button(t!("imagery.download")).clicked() {
                out.push(Command::DownloadImage { id: img.id.clone(), filename: img.filename.clone(), path: None });
            }
            if ui.button(t!("imagery.rename")).clicked() {
                iui.renaming = Some((img.id.clone(), img.filename.clone()));
            }
            if ui.button(t!("imagery.delete_image")).clicked() {
                iui.deleting_image = Some((img.id.clone(), img.filename.clone()));
            }
        });
    });
}

impl ImageryUi {
    /// The footprints of the selected mosaic's images, reparsed only when the images change.
    pub fn footprints(&mut self, state: &AppState) -> &crate::geo::Aoi {
        let key: Vec<(ImageId, usize)> = state
            .imagery
            .images
            .value()
            .map(|imgs| imgs.iter().map(|i| (i.id.clone(), i.footprint.as_deref().map_or(0, str::len))).collect())
            .unwrap_or_default();
        if self.footprints.as_ref().is_none_or(|(k, _)| *k != key) {
            self.footprints = Some((key, footprints(state)));
        }
        &self.footprints.get_or_insert_with(|| (Vec::new(), crate::geo::Aoi::default())).1
    }
}

/// Footprints of the selected mosaic's images, for the map.
pub fn footprints(state: &AppState) -> crate::geo::Aoi {
    let polygons = state
        .imagery
        .images
        .value()
        .map(|imgs| {
            imgs.iter().filter_map(|i| crate::geo::parse_wkt_polygons(i.footprint.as_deref()?).ok()).flatten().collect()
        })
        .unwrap_or_default();
    crate::geo::Aoi { polygons }
}

/// The images' footprints as one AOI-shaped coverage; an unreadable footprint covers nothing.
fn images_coverage(images: &[crate::api::RasterImage]) -> Option<crate::geo::Aoi> {
    // Unknown unless every image has a readable outline: a missing one must not shrink it.
    let mut polygons = Vec::new();
    for image in images {
        let parts = crate::geo::parse_wkt_polygons(image.footprint.as_deref()?).ok()?;
        if parts.is_empty() {
            return None;
        }
        polygons.extend(parts);
    }
    (!polygons.is_empty()).then_some(crate::geo::Aoi { polygons })
}
