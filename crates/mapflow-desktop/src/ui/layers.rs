//! The map pane with its overlays, the layers pane (every layer in one list: visibility,
//! opacity, zoom-to, remove, order; results with their legend), and the identify pane.

use super::UiState;
use crate::app::AppState;
use crate::app::layers::LayerKey;
use crate::app::layout::Pane;
use crate::map::MapView;
use rust_i18n::t;

/// Outline colours of the vector layers that have no style of their own.
const AOI_COLOR: egui::Color32 = egui::Color32::from_rgb(40, 170, 250);
const PROCESSING_AOI_COLOR: egui::Color32 = egui::Color32::from_rgb(250, 200, 40);
/// The outline of My imagery's footprints (public so tests can find it among what was painted).
pub const IMAGE_FOOTPRINT_COLOR: egui::Color32 = egui::Color32::from_rgb(80, 220, 120);

/// The map with every overlay in the layer list's order; a click on a result feature pins
/// its attributes, hovering one names its class.
pub fn map_pane_ui(ui: &mut egui::Ui, state: &mut AppState, ui_state: &mut UiState, map: &mut MapView) {
    let preview = ui_state.catalog.map_preview(ui.ctx(), state);
    let drawing = state.settings.aoi.is_drawing();
    ui_state.catalog.update_rings(state);

    // A plain click picks scenes only while the catalog is the tool in use; Ctrl always does.
    let catalog_tool = ui_state.is_pane_shown(Pane::Catalog) || ui_state.focus == Some(Pane::CatalogResults);
    let ctrl = ui.input(|i| i.modifiers.command);
    let identified = ui_state.identified.clone();
    let selection = ui_state.selection.clone();
    let UiState { aoi_editor: editor, footprint_click, catalog: catalog_ui, imagery: imagery_ui, .. } = ui_state;
    let image_footprints = imagery_ui.footprints(state);
    let rings = catalog_ui.rings();
    let AppState { results, processing_aois, settings, catalog, layers, templates, .. } = state;
    for (id, view) in results.iter_mut() {
        view.style.pinned = identified.as_ref().filter(|(pid, _)| pid == id).map(|(_, f)| *f);
        view.style.selected = selection.as_ref().filter(|(sid, _)| sid == id).map(|(_, s)| s.clone());
    }
    let mut overlays: Vec<Box<dyn walkers::Plugin + '_>> = Vec::new();
    let mut results_left: Vec<_> = results.iter_mut().collect();
    let mut aoi_editor =
        Some(crate::map::AoiEditor { draft: &mut settings.aoi, state: editor, editable: true, color: AOI_COLOR });
    let mut footprints_clicked = Some(footprint_click);
    for key in layers.vectors_bottom_up() {
        let props = layers.props(key);
        match key {
            LayerKey::Aoi => {
                if let Some(mut editor) = aoi_editor.take() {
                    // A hidden AOI is still shown and editable while it is being drawn.
                    let shown = props.visible || drawing;
                    editor.color = AOI_COLOR.gamma_multiply(if shown { props.opacity.max(0.2) } else { 0.0 });
                    editor.editable = shown;
                    overlays.push(Box::new(editor));
                }
            }
            LayerKey::ProcessingAois if props.visible => {
                for aoi in processing_aois.values() {
                    overlays.push(Box::new(crate::map::OutlinePlugin {
                        aoi,
                        color: PROCESSING_AOI_COLOR.gamma_multiply(props.opacity),
                    }));
                }
            }
            LayerKey::ImageFootprints if props.visible && !image_footprints.is_empty() => {
                overlays.push(Box::new(crate::map::OutlinePlugin {
                    aoi: image_footprints,
                    color: IMAGE_FOOTPRINT_COLOR.gamma_multiply(props.opacity),
                }));
            }
            LayerKey::CatalogFootprints if props.visible && !rings.is_empty() => {
                if let Some(clicked) = footprints_clicked.take() {
                    overlays.push(Box::new(super::catalog::FootprintsPlugin {
                        rings,
                        selected: &catalog.selected,
                        focused: catalog.focused.as_deref(),
                        preview: preview.clone(),
                        clicked,
                        clickable: !drawing && (catalog_tool || ctrl),
                        opacity: props.opacity,
                    }));
                }
            }
            LayerKey::Result(id) => {
                if let Some(i) = results_left.iter().position(|(rid, _)| *rid == id) {
                    let (_, view) = results_left.swap_remove(i);
                    let crate::app::processings::ResultView { state, style, cache, hovered, .. } = view;
                    if let Some(layer) = state.value()
                        && style.visible
                    {
                        overlays.push(Box::new(crate::results::ResultPlugin::new(layer, style, cache, hovered)));
                    }
                }
            }
            _ => {}
        }
    }
    // The AOIs of the planned search the user is inside, named.
    if !templates.map_aois.is_empty() {
        overlays.push(Box::new(super::templates::TemplateAoisPlugin { aois: &templates.map_aois }));
    }
    // The AOI editor always runs (it is how the AOI is drawn), even before the list knows it.
    if let Some(editor) = aoi_editor.take() {
        overlays.push(Box::new(editor));
    }
    let response = map.show(ui, overlays);

    // What the pointer is over, and a click that pins it.
    // The topmost result under the pointer, in the layer list's order.
    let hovered = state.layers.order().iter().find_map(|key| {
        let LayerKey::Result(id) = key else { return None };
        let view = state.results.get(id).filter(|v| v.style.visible)?;
        Some((id.clone(), view.hovered?, view.layer()?.clone()))
    });
    if let Some((id, feature, layer)) = hovered {
        if !drawing {
            let class = layer.class_of(feature).map(|c| c.current_label()).unwrap_or_default();
            let area = layer.feature_area_m2(feature);
            let tip = if area > 0.0 { format!("{class} · {}", super::area_text(area)) } else { class };
            response.clone().on_hover_ui_at_pointer(|ui| {
                ui.label(tip);
            });
        }
        if response.clicked() && !drawing {
            // Shift adds the feature to the selection (or takes it out); a plain click
            // selects it alone.
            let shift = ui.input(|i| i.modifiers.shift);
            let set = match &ui_state.selection {
                Some((sid, set)) if shift && *sid == id => set.toggled(feature as u32),
                _ => crate::results::table::FeatureSet::new([feature as u32]),
            };
            ui_state.selection = Some((id.clone(), std::sync::Arc::new(set)));
            ui_state.identified = Some((id, feature));
            ui_state.show_pane(Pane::Identify);
        }
    }
}

/// A layer's name in the list.
fn layer_name(state: &AppState, key: &LayerKey) -> String {
    match key {
        LayerKey::Aoi => t!("layers.aoi").into_owned(),
        LayerKey::ProcessingAois => t!("layers.processing_aois", n = state.processing_aois.len()).into_owned(),
        LayerKey::ImageFootprints => t!("layers.image_footprints").into_owned(),
        LayerKey::CatalogFootprints => {
            t!("layers.catalog_footprints", n = state.catalog.results.value().map_or(0, |p| p.images.len()))
                .into_owned()
        }
        LayerKey::Result(id) => state.results.get(id).map(|v| v.name.clone()).unwrap_or_else(|| id.0.clone()),
        LayerKey::ProviderPreview => {
            t!("layers.provider_preview", name = state.settings.form.provider.as_str()).into_owned()
        }
        LayerKey::ResultImagery(id) => {
            t!("layers.result_imagery", name = state.results.get(id).map(|v| v.name.as_str()).unwrap_or(id.0.as_str()))
                .into_owned()
        }
        LayerKey::CatalogPreview => {
            t!("layers.catalog_preview", id = state.catalog.on_map.as_deref().unwrap_or_default()).into_owned()
        }
    }
}

/// The lon/lat bbox of a layer, for zoom-to.
fn layer_bbox(state: &AppState, ui_state: &UiState, key: &LayerKey) -> Option<[f64; 4]> {
    let union = |boxes: &mut dyn Iterator<Item = [f64; 4]>| {
        boxes.reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
    };
    match key {
        LayerKey::Aoi => state.settings.aoi.aoi.bbox(),
        LayerKey::ProcessingAois => union(&mut state.processing_aois.values().filter_map(crate::geo::Aoi::bbox)),
        LayerKey::ImageFootprints => super::imagery::footprints(state).bbox(),
        LayerKey::CatalogFootprints => {
            union(&mut ui_state.catalog.rings().iter().filter_map(|(_, ring)| super::catalog::ring_bbox(ring)))
        }
        LayerKey::Result(id) | LayerKey::ResultImagery(id) => state.results.get(id)?.layer()?.bbox(),
        LayerKey::CatalogPreview => {
            let id = state.catalog.on_map.as_deref()?;
            super::catalog::ring_bbox(&super::catalog::footprint_ring(state.catalog.image(id)?)?)
        }
        LayerKey::ProviderPreview => None,
    }
}

/// What a row of the list asked for.
enum RowAction {
    Zoom([f64; 4]),
    Remove(LayerKey),
    Move(usize, usize),
}

/// Every layer, topmost first: the vector layers, the imagery under them, then the basemap.
pub fn layers_ui(ui: &mut egui::Ui, state: &mut AppState, ui_state: &mut UiState, map: &mut MapView) {
    let order: Vec<LayerKey> = state.layers.order().to_vec();
    let mut action = None;
    let mut last_group = None;
    for (index, key) in order.iter().enumerate() {
        if last_group != Some(key.is_imagery()) {
            last_group = Some(key.is_imagery());
            ui.weak(if key.is_imagery() { t!("layers.group_imagery") } else { t!("layers.group_vectors") });
        }
        let row = ui.scope(|ui| layer_row(ui, state, ui_state, key, index, order.len(), &mut action)).response;
        // Dropping a dragged row here moves it to this place.
        if let Some(from) = row.dnd_release_payload::<usize>() {
            action = Some(RowAction::Move(*from, index));
        }
        if row.dnd_hover_payload::<usize>().is_some() {
            ui.painter().hline(row.rect.x_range(), row.rect.top(), ui.visuals().selection.stroke);
        }
    }
    if ui.button(t!("layers.open")).clicked() {
        state.follow_up.push(crate::worker::Command::OpenLayer { path: None });
    }
    ui.separator();
    ui.weak(t!("layers.group_basemap"));
    crate::map::basemap_ui(ui, map);
    match action {
        Some(RowAction::Zoom(bbox)) => state.zoom_request = Some(bbox),
        Some(RowAction::Remove(key)) => {
            let name = layer_name(state, &key);
            remove_layer(state, ui_state, &key);
            state.notify(t!("layers.removed", name = name));
        }
        Some(RowAction::Move(from, to)) => state.layers.move_layer(from, to),
        None => {}
    }
}

fn layer_row(
    ui: &mut egui::Ui,
    state: &mut AppState,
    ui_state: &UiState,
    key: &LayerKey,
    index: usize,
    count: usize,
    action: &mut Option<RowAction>,
) {
    let name = super::drawable(ui.ctx(), &layer_name(state, key));
    let (mut visible, mut opacity) = match key {
        LayerKey::Result(id) => state.results.get(id).map_or((true, 1.0), |v| (v.style.visible, v.style.opacity)),
        other => {
            let p = state.layers.props(other);
            (p.visible, p.opacity)
        }
    };
    // First line: the drag handle and the name; second: opacity and the row's buttons.
    // First line: the name (wrapping in a narrow pane); second: handle, buttons, opacity.
    let shown = wrapped_checkbox(ui, &mut visible, name);
    let changed_opacity = ui
        .horizontal_wrapped(|ui| {
            ui.dnd_drag_source(egui::Id::unique(("layer_drag", index)), index, |ui| {
                ui.label("☰").on_hover_text(t!("layers.drag"));
            });
            let removable = !matches!(key, LayerKey::Aoi | LayerKey::ImageFootprints | LayerKey::CatalogFootprints);
            if ui.add_enabled(index > 0, egui::Button::new("⬆").small()).on_hover_text(t!("layers.up")).clicked() {
                *action = Some(RowAction::Move(index, index - 1));
            }
            if ui
                .add_enabled(index + 1 < count, egui::Button::new("⬇").small())
                .on_hover_text(t!("layers.down"))
                .clicked()
            {
                *action = Some(RowAction::Move(index, index + 1));
            }
            // The extent is worked out only when asked for: it can mean parsing every footprint.
            let has_extent = match key {
                LayerKey::ProviderPreview => false,
                LayerKey::Aoi => !state.settings.aoi.aoi.is_empty(),
                _ => true,
            };
            if has_extent
                && ui.small_button("⌖").on_hover_text(t!("layers.zoom")).clicked()
                && let Some(bbox) = layer_bbox(state, ui_state, key)
            {
                *action = Some(RowAction::Zoom(bbox));
            }
            if removable && ui.small_button("✖").on_hover_text(t!("layers.remove")).clicked() {
                *action = Some(RowAction::Remove(key.clone()));
            }
            // The handle reaches past the slider's rect: keep room for it.
            // Sized from what is visible, not the available width: a slider sized from the
            // content's own width would keep the content as wide after the pane narrows.
            let room = ui.clip_rect().right() - ui.cursor().min.x - 24.0;
            ui.spacing_mut().slider_width = room.clamp(30.0, 120.0);
            ui.add(egui::Slider::new(&mut opacity, 0.0..=1.0).show_value(false))
                .on_hover_text(t!("layers.opacity"))
                .changed()
        })
        .inner;
    if shown || changed_opacity {
        match key {
            LayerKey::Result(id) => {
                if let Some(v) = state.results.get_mut(id) {
                    v.style.visible = visible;
                    v.style.opacity = opacity;
                }
            }
            other => *state.layers.props_mut(other) = crate::app::layers::LayerProps { visible, opacity },
        }
    }
    if *key == LayerKey::Aoi
        && !state.settings.aoi.aoi.is_empty()
        && ui.small_button(t!("layers.save_aoi")).on_hover_text(t!("layers.save_aoi_hint")).clicked()
    {
        let text = state.settings.aoi.aoi.to_geojson_string();
        state.follow_up.push(crate::worker::Command::SaveGeoJson {
            name: t!("layers.aoi").into_owned(),
            geojson: crate::export::GeoJsonText(text.into()),
            path: None,
        });
    }
    if let LayerKey::Result(id) = key {
        if let Some(path) = crate::app::processings::local_layer_path(id)
            && ui.small_button(t!("layers.use_as_aoi")).on_hover_text(t!("layers.use_as_aoi_hint")).clicked()
        {
            state.follow_up.push(crate::worker::Command::ImportAoi { path: Some(path) });
        }
        result_legend(ui, state, id);
    }
}

/// A result's state, or its legend with class toggles, counts and areas.
fn result_legend(ui: &mut egui::Ui, state: &mut AppState, id: &crate::api::ProcessingId) {
    let Some(view) = state.results.get_mut(id) else { return };
    ui.indent(("legend", id.0.as_str()), |ui| match (view.state.value(), view.state.error()) {
        (_, Some(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        (None, None) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t!("details.result_loading"));
            });
        }
        (Some(layer), None) => {
            ui.weak(t!("details.features", n = layer.feature_count()));
            for entry in layer.legend() {
                ui.horizontal(|ui| {
                    let mut shown = !view.style.hidden_classes.contains(&entry.key);
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(14.0, 14.0), egui::Sense::hover());
                    ui.painter().rect_filled(rect, 2.0, crate::results::color32(entry.color));
                    let text = if entry.is_line || entry.area_m2 <= 0.0 {
                        t!("layers.class_count", label = entry.current_label(), n = entry.count).into_owned()
                    } else {
                        t!(
                            "layers.class_count_area",
                            label = entry.current_label(),
                            n = entry.count,
                            area = super::area_text(entry.area_m2)
                        )
                        .into_owned()
                    };
                    if wrapped_checkbox(ui, &mut shown, text) {
                        if shown {
                            view.style.hidden_classes.remove(&entry.key);
                        } else {
                            view.style.hidden_classes.insert(entry.key.clone());
                        }
                    }
                });
            }
        }
    });
}

fn remove_layer(state: &mut AppState, ui_state: &mut UiState, key: &LayerKey) {
    match key {
        LayerKey::Result(id) => {
            state.results.remove(id);
            if ui_state.identified.as_ref().is_some_and(|(pid, _)| pid == id) {
                ui_state.identified = None;
            }
            if ui_state.selection.as_ref().is_some_and(|(sid, _)| sid == id) {
                ui_state.selection = None;
            }
        }
        LayerKey::ResultImagery(id) => {
            if let Some(view) = state.results.get_mut(id) {
                view.raster_url = None;
            }
        }
        LayerKey::ProcessingAois => state.processing_aois.clear(),
        LayerKey::ProviderPreview => ui_state.show_provider_preview = false,
        LayerKey::CatalogPreview => state.catalog.on_map = None,
        LayerKey::Aoi | LayerKey::ImageFootprints | LayerKey::CatalogFootprints => {}
    }
}

/// A checkbox whose text wraps within the pane (a checkbox's own text does not wrap in a
/// row); the text names it for screen readers and tests. True when it was toggled.
fn wrapped_checkbox(ui: &mut egui::Ui, checked: &mut bool, text: String) -> bool {
    ui.horizontal(|ui| {
        let toggled = ui.checkbox(checked, "");
        let label = ui.add(egui::Label::new(text).wrap().sense(egui::Sense::click()));
        let clicked_text = label.clicked();
        if clicked_text {
            *checked = !*checked;
        }
        toggled.labelled_by(label.id).changed() || clicked_text
    })
    .inner
}

/// The pinned feature's class and attributes, with copy; or how to pin one.
pub fn identify_ui(ui: &mut egui::Ui, state: &AppState, ui_state: &mut UiState) {
    let pinned = ui_state
        .identified
        .as_ref()
        .and_then(|(id, f)| Some((state.results.get(id)?, *f)))
        .and_then(|(view, f)| Some((view.name.clone(), view.layer()?.clone(), f)));
    let Some((name, layer, feature)) = pinned else {
        ui.weak(t!("identify.hint"));
        return;
    };
    ui.strong(super::drawable(ui.ctx(), &name));
    let class = layer.class_of(feature).map(|c| (c.current_label(), c.key.clone()));
    let attributes = layer.attributes(feature);
    let mut copy = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(t!("layers.feature", n = feature));
        if ui.small_button(t!("identify.copy")).clicked() {
            copy = Some(serde_json::to_string_pretty(&attributes.to_json()).unwrap_or_default());
        }
        if ui.small_button(t!("identify.clear")).clicked() {
            ui_state.identified = None;
        }
    });
    egui::Grid::new("identify_grid").num_columns(2).striped(true).spacing([12.0, 2.0]).show(ui, |ui| {
        if let Some((label, key)) = &class {
            ui.label(t!("identify.class"));
            ui.add(egui::Label::new(format!("{label} ({key})")).wrap());
            ui.end_row();
        }
        let area = layer.feature_area_m2(feature);
        if area > 0.0 {
            ui.label(t!("identify.area"));
            ui.label(super::area_text(area));
            ui.end_row();
        }
        for (k, v) in attributes.iter() {
            ui.label(k);
            ui.add(egui::Label::new(v.to_string()).wrap());
            ui.end_row();
        }
    });
    if let Some(text) = copy {
        ui.ctx().copy_text(text);
    }
}
