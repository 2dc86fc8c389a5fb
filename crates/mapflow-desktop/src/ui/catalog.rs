//! Catalog search: the filters panel, the results table with thumbnails, and the footprints
//! and previews on the map.

use crate::api::{CatalogImage, CatalogSortBy, SortOrder};
use crate::app::AppState;
use crate::app::catalog::{CatalogFilters, MAX_OFF_NADIR, MAX_RESOLUTION, PreviewState};
use crate::worker::Command;
use egui::{Color32, Pos2, Stroke};
use rust_i18n::t;
use std::collections::HashMap;
use walkers::{MapMemory, Plugin, Projector, lon_lat};

/// Textures made from decoded previews (on the UI thread, once each).
#[derive(Default)]
pub struct CatalogUi {
    textures: HashMap<String, egui::TextureHandle>,
    pub message: Option<String>,
    /// Footprint rings of the results shown, parsed once per result set.
    rings: Vec<(String, Vec<[f64; 2]>)>,
    /// The query and whether it was pending when the rings were last parsed.
    rings_of: Option<(Option<crate::api::CatalogQuery>, bool)>,
    /// The row to scroll the results table to on its next frame (a footprint was clicked).
    pub scroll_to: Option<String>,
}

impl CatalogUi {
    /// The footprints of the current results, as of the last [`Self::update_rings`].
    pub fn rings(&self) -> &[(String, Vec<[f64; 2]>)] {
        &self.rings
    }

    /// Reparses the footprints when the results changed: a new query, or an answer that
    /// arrived for the one pending.
    pub fn update_rings(&mut self, state: &AppState) {
        let key = (state.catalog.query.clone(), state.catalog.results.is_pending());
        if self.rings_of.as_ref() != Some(&key) {
            self.rings = state
                .catalog
                .results
                .value()
                .map(|p| p.images.iter().filter_map(|i| Some((i.id.clone(), footprint_ring(i)?))).collect())
                .unwrap_or_default();
            self.rings_of = Some(key);
        }
    }

    /// The picture preview to lay on the map: its texture, footprint and opacity.
    pub fn map_preview(
        &mut self,
        ctx: &egui::Context,
        state: &AppState,
    ) -> Option<(egui::TextureId, Vec<[f64; 2]>, f32)> {
        let img = state.catalog.on_map.as_deref().and_then(|id| state.catalog.image(id))?;
        if !is_picture(img) {
            return None;
        }
        let tex = self.texture(ctx, state, img.preview_url.as_deref()?)?;
        Some((tex.id(), footprint_ring(img)?, state.catalog.on_map_opacity))
    }

    fn texture(&mut self, ctx: &egui::Context, state: &AppState, url: &str) -> Option<egui::TextureHandle> {
        if let Some(t) = self.textures.get(url) {
            return Some(t.clone());
        }
        let img = state.catalog.previews.get(url).and_then(PreviewState::value)?;
        let tex = ctx.load_texture(url, (**img).clone(), egui::TextureOptions::LINEAR);
        self.textures.insert(url.to_owned(), tex.clone());
        Some(tex)
    }
}

/// Whether the preview is one picture (laid over the footprint) rather than tiles.
pub fn is_picture(image: &CatalogImage) -> bool {
    image.preview_type.as_deref().is_some_and(|t| matches!(t.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

/// A tile preview's URL template, with TMS rows flipped.
pub fn tile_template(image: &CatalogImage) -> Option<String> {
    let url = image.preview_url.clone()?;
    match image.preview_type.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("xyz") => Some(url),
        Some("tms") => Some(if url.contains("{-y}") { url } else { url.replace("{y}", "{-y}") }),
        _ => None,
    }
}

/// The found images as a GeoJSON FeatureCollection: each footprint with the image's
/// metadata (what the catalog lists) as properties.
pub fn footprints_geojson(images: &[CatalogImage]) -> String {
    let features: Vec<serde_json::Value> = images
        .iter()
        .filter_map(|image| {
            let geometry = image.footprint.clone()?;
            let mut properties = match serde_json::to_value(image) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => serde_json::Map::new(),
            };
            for key in ["footprint", "previewUrl", "previewType"] {
                properties.remove(key);
            }
            properties.retain(|_, v| !v.is_null());
            Some(serde_json::json!({"type": "Feature", "geometry": geometry, "properties": properties}))
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// The exterior ring of an image's footprint, lon/lat.
pub fn footprint_ring(image: &CatalogImage) -> Option<Vec<[f64; 2]>> {
    let aoi = crate::geo::parse_geojson(&image.footprint.as_ref()?.to_string()).ok()?;
    let p = aoi.polygons.into_iter().next()?;
    Some(p.exterior().0.iter().map(|c| [c.x, c.y]).collect())
}

pub fn filters_ui(ui: &mut egui::Ui, state: &mut AppState, cui: &mut CatalogUi, out: &mut Vec<Command>) {
    ui.weak(t!("catalog.over_aoi"));
    let providers = state.status.value().map(|s| s.search_data_providers.clone()).unwrap_or_default();
    let f = &mut state.settings.catalog;
    egui::Grid::new("catalog_filters").num_columns(2).spacing([8.0, 6.0]).show(ui, |ui| {
        let l = ui.label(t!("catalog.date_from"));
        ui.add(egui::TextEdit::singleline(&mut f.date_from).hint_text("YYYY-MM-DD").desired_width(110.0))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("catalog.date_to"));
        ui.add(egui::TextEdit::singleline(&mut f.date_to).hint_text("YYYY-MM-DD").desired_width(110.0))
            .labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("catalog.max_cloud"));
        ui.add(egui::Slider::new(&mut f.max_cloud, 0.0..=100.0).suffix(" %")).labelled_by(l.id);
        ui.end_row();
        let l = ui.label(t!("catalog.off_nadir"));
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut f.off_nadir[0]).range(0.0..=MAX_OFF_NADIR).suffix("°")).labelled_by(l.id);
            ui.label("–");
            ui.add(egui::DragValue::new(&mut f.off_nadir[1]).range(0.0..=MAX_OFF_NADIR).suffix("°")).labelled_by(l.id);
        });
        ui.end_row();
        let l = ui.label(t!("catalog.resolution"));
        ui.horizontal(|ui| {
            ui.add(egui::DragValue::new(&mut f.resolution[0]).range(0.0..=MAX_RESOLUTION).speed(0.05).suffix(" m"))
                .labelled_by(l.id);
            ui.label("–");
            ui.add(egui::DragValue::new(&mut f.resolution[1]).range(0.0..=MAX_RESOLUTION).speed(0.05).suffix(" m"))
                .labelled_by(l.id);
        });
        ui.end_row();
        let l = ui.label(t!("catalog.min_intersection"));
        ui.add(egui::Slider::new(&mut f.min_intersection, 0.0..=100.0).suffix(" %")).labelled_by(l.id);
        ui.end_row();
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut f.images, t!("catalog.images"));
        ui.checkbox(&mut f.mosaics, t!("catalog.mosaics"));
        ui.checkbox(&mut f.only_available, t!("catalog.only_available"));
    });
    if !providers.is_empty() {
        ui.label(t!("catalog.providers"));
        ui.horizontal_wrapped(|ui| {
            for p in &providers {
                let mut on = f.providers.contains(&p.name);
                if ui.checkbox(&mut on, super::drawable(ui.ctx(), p.label())).changed() {
                    if on {
                        f.providers.insert(p.name.clone());
                    } else {
                        f.providers.remove(&p.name);
                    }
                }
            }
        });
        if f.providers.is_empty() {
            ui.weak(t!("catalog.all_providers"));
        }
    }
    ui.horizontal(|ui| {
        if ui.button(t!("catalog.search")).clicked()
            && let Some(cmd) = state.search_catalog(0)
        {
            out.push(cmd);
        }
        if ui.button(t!("catalog.reset")).clicked() {
            state.settings.catalog = CatalogFilters::default();
        }
        if ui.button(t!("catalog.clear")).clicked() {
            state.clear_catalog();
        }
        if state.catalog.results.is_pending() {
            ui.spinner();
        }
    });
    if let Some(r) = &state.catalog.refused {
        ui.colored_label(ui.visuals().error_fg_color, r);
    }
    if let Some(e) = state.catalog.results.error() {
        ui.colored_label(ui.visuals().error_fg_color, crate::app::messages::error_text(e));
    }
    if let Some(m) = &cui.message {
        ui.colored_label(ui.visuals().error_fg_color, m);
    }
}

fn sort_header(ui: &mut egui::Ui, state: &mut AppState, label: &str, sort: CatalogSortBy, out: &mut Vec<Command>) {
    let f = &mut state.settings.catalog;
    let active = f.sort_by == Some(sort);
    let arrow = match (active, f.sort_order) {
        (true, SortOrder::Asc) => " ⬆",
        (true, SortOrder::Desc) => " ⬇",
        _ => "",
    };
    if ui.add(egui::Button::new(egui::RichText::new(format!("{label}{arrow}")).strong()).frame(false)).clicked() {
        if active {
            f.sort_order = if f.sort_order == SortOrder::Asc { SortOrder::Desc } else { SortOrder::Asc };
        } else {
            f.sort_by = Some(sort);
            f.sort_order = SortOrder::Desc;
        }
        // Sorting is the server's: a new first page, sorted.
        if let Some(cmd) = state.search_catalog(0) {
            out.push(cmd);
        }
    }
}

fn num(v: Option<f64>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_else(|| "—".into())
}

/// The results table; true when "Process selected…" just filled the processing form.
pub fn results_ui(ui: &mut egui::Ui, state: &mut AppState, cui: &mut CatalogUi, out: &mut Vec<Command>) -> bool {
    let Some(page) = state.catalog.results.value().cloned() else {
        ui.weak(t!("catalog.no_results_yet"));
        return false;
    };
    let mut processed = false;
    ui.horizontal(|ui| {
        ui.strong(t!("catalog.found", n = page.total));
        let n = state.catalog.selected.len();
        if ui.add_enabled(n > 0, egui::Button::new(t!("catalog.process_selected", n = n))).clicked() {
            cui.message = state.process_selected().err();
            processed = cui.message.is_none();
        }
        if ui.button(t!("catalog.save_footprints")).on_hover_text(t!("catalog.save_footprints_hint")).clicked() {
            out.push(Command::SaveGeoJson {
                name: t!("catalog.footprints_name").into_owned(),
                geojson: crate::export::GeoJsonText(footprints_geojson(&page.images).into()),
                path: None,
            });
        }
        if let Some(id) = state.catalog.on_map.clone() {
            ui.separator();
            let l = ui.label(t!("catalog.preview_opacity"));
            ui.add(egui::Slider::new(&mut state.catalog.on_map_opacity, 0.0..=1.0)).labelled_by(l.id);
            if ui.small_button(t!("catalog.hide_preview")).clicked() || state.catalog.image(&id).is_none() {
                state.catalog.on_map = None;
            }
        }
        if page.total > page.limit.max(1) {
            let offset = state.catalog.query.as_ref().map_or(0, |q| q.offset);
            let limit = page.limit.max(1);
            if ui.add_enabled(offset > 0, egui::Button::new(t!("common.previous"))).clicked()
                && let Some(cmd) = state.search_catalog((offset - limit).max(0))
            {
                out.push(cmd);
            }
            ui.label(t!("common.range", from = offset + 1, to = (offset + limit).min(page.total), total = page.total));
            if ui.add_enabled(offset + limit < page.total, egui::Button::new(t!("common.next"))).clicked()
                && let Some(cmd) = state.search_catalog(offset + limit)
            {
                out.push(cmd);
            }
        }
    });
    if let Some(m) = &cui.message {
        ui.colored_label(ui.visuals().error_fg_color, m);
    }
    // Rows that no longer match the filters sink and grey out, without a new request.
    let filters = state.settings.catalog.clone();
    let mut rows: Vec<(bool, CatalogImage)> = page.images.iter().map(|i| (filters.matches(i), i.clone())).collect();
    rows.sort_by_key(|(m, _)| !*m);
    // Only the rows in view are laid out (and only their thumbnails fetched).
    let row_height = 44.0;
    let mut scroll = egui::ScrollArea::both().id_salt("catalog_table").auto_shrink([false, false]);
    if let Some(id) = cui.scroll_to.take()
        && let Some(row) = rows.iter().position(|(_, img)| img.id == id)
    {
        let spacing = ui.spacing().item_spacing.y;
        // The header row comes first; keep the row a little below the top edge.
        scroll = scroll.vertical_scroll_offset(((row as f32) * (row_height + spacing)).max(0.0));
    }
    scroll.show_rows(ui, row_height, rows.len(), |ui, visible| {
        egui::Grid::new("catalog_grid").striped(true).num_columns(12).spacing([10.0, 4.0]).show(ui, |ui| {
            ui.label("");
            ui.label("");
            ui.strong(t!("catalog.col_id"));
            ui.strong(t!("catalog.col_type"));
            sort_header(ui, state, &t!("catalog.col_provider"), CatalogSortBy::ProviderName, out);
            sort_header(ui, state, &t!("catalog.col_sensor"), CatalogSortBy::SatId, out);
            ui.strong(t!("catalog.col_bands"));
            sort_header(ui, state, &t!("catalog.col_cloud"), CatalogSortBy::CloudCover, out);
            sort_header(ui, state, &t!("catalog.col_nadir"), CatalogSortBy::OffNadirAngle, out);
            sort_header(ui, state, &t!("catalog.col_date"), CatalogSortBy::AcquisitionDate, out);
            sort_header(ui, state, &t!("catalog.col_zoom"), CatalogSortBy::Zoom, out);
            sort_header(ui, state, &t!("catalog.col_resolution"), CatalogSortBy::PixelResolution, out);
            ui.end_row();
            for (matching, img) in &rows[visible] {
                let weak = |ui: &egui::Ui, s: String| {
                    if *matching {
                        egui::RichText::new(s)
                    } else {
                        egui::RichText::new(s).color(ui.visuals().weak_text_color())
                    }
                };
                let mut selected = state.catalog.selected.contains(&img.id);
                if ui.checkbox(&mut selected, "").on_hover_text(t!("catalog.select")).changed() {
                    if selected {
                        state.catalog.selected.insert(img.id.clone());
                    } else {
                        state.catalog.selected.remove(&img.id);
                    }
                }
                thumbnail(ui, state, cui, img, out);
                let focused = state.catalog.focused.as_deref() == Some(img.id.as_str());
                if ui.selectable_label(focused, weak(ui, img.id.clone())).on_hover_text(t!("catalog.focus")).clicked() {
                    focus(state, &img.id);
                }
                ui.label(weak(ui, img.product_type.clone().unwrap_or_default()));
                ui.label(weak(ui, img.provider_name.clone().unwrap_or_default()));
                ui.label(weak(ui, img.sensor.clone().or_else(|| img.sat_id.clone()).unwrap_or_default()));
                ui.label(weak(ui, img.color_band_order.clone().unwrap_or_default()));
                ui.label(weak(ui, num(img.cloud_cover, 0)));
                ui.label(weak(ui, num(img.off_nadir_angle, 1)));
                ui.label(weak(ui, img.acquisition_date.as_deref().map(super::local_time).unwrap_or_default()));
                ui.label(weak(ui, img.zoom.map(|z| z.to_string()).unwrap_or_default()));
                ui.label(weak(ui, num(img.pixel_resolution, 2)));
                ui.end_row();
            }
        });
    });
    processed
}

/// Highlights an image and zooms to its footprint.
pub fn focus(state: &mut AppState, id: &str) {
    state.catalog.focused = Some(id.to_owned());
    if let Some(bbox) = state.catalog.image(id).and_then(footprint_ring).as_deref().and_then(ring_bbox) {
        state.zoom_request = Some(bbox);
    }
}

/// The lon/lat bbox `[w, s, e, n]` of a ring; `None` for an empty one.
pub fn ring_bbox(ring: &[[f64; 2]]) -> Option<[f64; 4]> {
    let first = ring.first()?;
    Some(ring.iter().fold([first[0], first[1], first[0], first[1]], |b, p| {
        [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])]
    }))
}

fn thumbnail(ui: &mut egui::Ui, state: &mut AppState, cui: &mut CatalogUi, img: &CatalogImage, out: &mut Vec<Command>) {
    let size = egui::vec2(40.0, 40.0);
    let show_button = |ui: &mut egui::Ui, state: &mut AppState| {
        let on = state.catalog.on_map.as_deref() == Some(img.id.as_str());
        if ui.small_button(if on { "🖼" } else { "◎" }).on_hover_text(t!("catalog.show_preview")).clicked() {
            state.catalog.on_map = if on { None } else { Some(img.id.clone()) };
            if state.catalog.on_map_opacity <= 0.0 {
                state.catalog.on_map_opacity = 0.9;
            }
        }
    };
    ui.horizontal(|ui| match (is_picture(img), img.preview_url.as_deref()) {
        (true, Some(url)) => {
            if let Some(cmd) = state.catalog.want_preview(url) {
                out.push(cmd);
            }
            match cui.texture(ui.ctx(), state, url) {
                Some(tex) => {
                    ui.add(egui::Image::new((tex.id(), size)));
                }
                None => match state.catalog.previews.get(url).and_then(PreviewState::error) {
                    Some(e) => {
                        ui.add_sized(size, egui::Label::new("✖")).on_hover_text(e.as_str());
                    }
                    _ => {
                        ui.add_sized(size, egui::Spinner::new());
                    }
                },
            }
            show_button(ui, state);
        }
        (false, Some(_)) if tile_template(img).is_some() => {
            ui.add_sized(size, egui::Label::new("🗺")).on_hover_text(t!("catalog.tiled_preview"));
            show_button(ui, state);
        }
        _ => {
            ui.add_sized(size, egui::Label::new("—"));
        }
    });
}

/// The outline of the focused scene's footprint, and its width.
pub const FOCUSED_FOOTPRINT: (Color32, f32) = (Color32::from_rgb(255, 220, 0), 3.0);
/// The outline of a selected scene's footprint, and its width.
pub const SELECTED_FOOTPRINT: (Color32, f32) = (Color32::from_rgb(255, 140, 0), 2.0);
/// The outline of any other scene's footprint, and its width.
pub const FOOTPRINT: (Color32, f32) = (Color32::from_rgb(200, 120, 255), 1.0);

/// Footprints of the results (selected and focused ones stand out), a picture preview laid
/// over its footprint, and clicks on footprints that pick their row.
pub struct FootprintsPlugin<'a> {
    pub rings: &'a [(String, Vec<[f64; 2]>)],
    pub selected: &'a std::collections::BTreeSet<String>,
    pub focused: Option<&'a str>,
    pub preview: Option<(egui::TextureId, Vec<[f64; 2]>, f32)>,
    /// Set to the id of a clicked footprint.
    pub clicked: &'a mut Option<String>,
    pub clickable: bool,
    /// Alpha multiplier of the outlines, from the layer list.
    pub opacity: f32,
}

fn to_pos(projector: &Projector, p: [f64; 2]) -> Pos2 {
    projector.project(lon_lat(p[0], p[1])).to_pos2()
}

/// The footprint's four corners in the order of the picture's corners: NW, NE, SE, SW.
fn corners(ring: &[[f64; 2]]) -> Option<[[f64; 2]; 4]> {
    if ring.len() < 4 {
        return None;
    }
    let (w, e) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
    let (s, n) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    let nearest = |t: [f64; 2]| {
        ring.iter().copied().min_by(|a, b| {
            let da = (a[0] - t[0]).powi(2) + (a[1] - t[1]).powi(2);
            let db = (b[0] - t[0]).powi(2) + (b[1] - t[1]).powi(2);
            da.total_cmp(&db)
        })
    };
    Some([nearest([w, n])?, nearest([e, n])?, nearest([e, s])?, nearest([w, s])?])
}

/// Whether a screen point is inside a footprint drawn on screen.
fn inside(p: Pos2, poly: &[Pos2]) -> bool {
    let ring: Vec<[f64; 2]> = poly.iter().map(|q| [f64::from(q.x), f64::from(q.y)]).collect();
    crate::geo::point_in_ring([f64::from(p.x), f64::from(p.y)], &ring)
}

impl Plugin for FootprintsPlugin<'_> {
    fn run(self: Box<Self>, ui: &mut egui::Ui, response: &egui::Response, projector: &Projector, _: &MapMemory) {
        let painter = ui.painter();
        if let Some((tex, ring, opacity)) = &self.preview
            && let Some(c) = corners(ring)
        {
            let mut mesh = egui::Mesh::with_texture(*tex);
            let tint = Color32::WHITE.gamma_multiply(*opacity);
            for (corner, uv) in c.iter().zip([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]) {
                mesh.vertices.push(egui::epaint::Vertex {
                    pos: to_pos(projector, *corner),
                    uv: egui::pos2(uv[0], uv[1]),
                    color: tint,
                });
            }
            mesh.indices.extend_from_slice(&[0, 1, 2, 0, 2, 3]);
            painter.add(egui::Shape::mesh(mesh));
        }
        let clip = ui.clip_rect();
        let mut hit: Option<(&str, f32)> = None;
        let click = if self.clickable && response.clicked() { response.interact_pointer_pos() } else { None };
        for (id, ring) in self.rings {
            let id = id.as_str();
            let pts: Vec<Pos2> = ring.iter().map(|p| to_pos(projector, *p)).collect();
            let bounds = egui::Rect::from_points(&pts);
            if !bounds.intersects(clip) {
                continue;
            }
            let (color, width) = if self.focused == Some(id) {
                FOCUSED_FOOTPRINT
            } else if self.selected.contains(id) {
                SELECTED_FOOTPRINT
            } else {
                FOOTPRINT
            };
            painter.add(egui::Shape::line(pts.clone(), Stroke::new(width, color.gamma_multiply(self.opacity))));
            if let Some(at) = click
                && bounds.contains(at)
                && inside(at, &pts)
            {
                // The smallest footprint under the pointer wins: it is the one the user aimed at.
                let area = bounds.area();
                if hit.is_none_or(|(_, a)| area < a) {
                    hit = Some((id, area));
                }
            }
        }
        if let Some((id, _)) = hit {
            *self.clicked = Some(id.to_owned());
        }
    }
}
