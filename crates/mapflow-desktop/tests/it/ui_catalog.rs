//! Catalog search through the UI against the sandbox: search over an AOI, rows and
//! footprints, a selected row highlighted, and "Process selected…" filling the form.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::form::SourceKind;
use support::{app, app_mut, harness, open_project, signed_in_to_sandbox, wait_for};

#[test]
fn search_select_and_process_selected() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    // A 3 km square over Moscow, where the sandbox catalog has scenes.
    let aoi = mapflow_desktop::geo::Aoi::from_bbox([37.58, 55.74, 37.63, 55.767]);
    app_mut(&mut h).state.settings.aoi.replace(aoi.clone());
    h.run_steps(2);

    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_for(&mut h, "catalog results", |h| app(h).state.catalog.results.value().is_some_and(|p| !p.images.is_empty()));
    let page = app(&h).state.catalog.results.value().unwrap().clone();
    h.get_by_label(&format!("{} found", page.total));
    // Every row is in the table, with its id.
    let first = page.images[0].id.clone();
    h.get_by_label(&first);

    // Clicking a row's id highlights its footprint and zooms the map to it (from elsewhere: the
    // map is first sent to the Gulf of Guinea, away from the scene).
    let ring = mapflow_desktop::ui::catalog::footprint_ring(&page.images[0]).expect("the scene has a footprint");
    let scene = mapflow_desktop::ui::catalog::ring_bbox(&ring).unwrap();
    app_mut(&mut h).map.zoom_to_bbox([0.0, 0.0, 1.0, 1.0]);
    h.run_steps(3);
    let away = app(&h).map.visible_bbox().unwrap();
    assert!(away[2] < scene[0] || away[0] > scene[2], "the map is away from the scene: {away:?} {scene:?}");
    h.get_by_label(&first).click();
    h.run_steps(3);
    assert_eq!(app(&h).state.catalog.focused.as_deref(), Some(first.as_str()));
    support::step_until(&mut h, "the map's view to contain the focused scene", |h| {
        app(h)
            .map
            .visible_bbox()
            .is_some_and(|v| v[0] <= scene[0] && v[1] <= scene[1] && v[2] >= scene[2] && v[3] >= scene[3])
    });
    // Exactly one footprint is painted in the highlight, and it is the focused scene's.
    let (color, width) = mapflow_desktop::ui::catalog::FOCUSED_FOOTPRINT;
    let highlighted = footprints_painted(&h, color, width);
    assert_eq!(highlighted.len(), 1, "one footprint is highlighted");
    let [w, s, e, n] = support::map_bbox_of(&h, &highlighted[0]);
    let tolerance = 1e-3 * (scene[2] - scene[0]).max(scene[3] - scene[1]).max(1e-6) + 1e-6;
    for (drawn, wanted) in [w, s, e, n].iter().zip(scene) {
        assert!((drawn - wanted).abs() < tolerance * 10.0, "highlighted {:?}, scene {scene:?}", [w, s, e, n]);
    }
    let map = app(&h).map.map_rect().unwrap();
    assert!(highlighted[0].iter().all(|p| map.expand(1.0).contains(*p)), "the highlighted footprint is in view");

    // A filter change greys out rows without a new request: every row drawn is greyed exactly
    // when it no longer matches, and some are.
    assert!(greyed_rows(&h, &page).iter().all(|(_, grey, _)| !grey), "nothing is greyed before");
    let searches = app(&h).state.catalog.query.clone();
    app_mut(&mut h).state.settings.catalog.max_cloud = 0.0;
    h.run_steps(2);
    assert_eq!(app(&h).state.catalog.query, searches, "no new request");
    let rows = greyed_rows(&h, &page);
    assert!(rows.iter().any(|(_, grey, _)| *grey), "no row drawn greyed: {rows:?}");
    for (id, grey, matching) in &rows {
        assert_eq!(*grey, !matching, "row {id}: greyed {grey}, matches the filters {matching}");
    }
    app_mut(&mut h).state.settings.catalog.max_cloud = 100.0;
    h.run_steps(2);
    assert!(greyed_rows(&h, &page).iter().all(|(_, grey, _)| !grey), "nothing is greyed after");

    // Select the first image fine enough for Buildings and process it.
    let fine = page.images.iter().find(|i| i.pixel_resolution.is_some_and(|r| r <= 1.2)).unwrap();
    let (first, provider) = (fine.id.clone(), fine.provider_name.clone().unwrap());
    app_mut(&mut h).state.catalog.selected.insert(first.clone());
    h.run_steps(2);
    h.get_by_label("Process selected (1)…").click();
    h.run_steps(3);
    let form = &app(&h).state.settings.form;
    assert_eq!(form.source, SourceKind::Catalog);
    assert_eq!(form.catalog.image_ids, vec![first.clone()]);
    assert_eq!(form.catalog.provider, provider);
    let clipped = app(&h).state.settings.aoi.aoi.total_area_m2();
    assert!(clipped > 0.0 && clipped <= aoi.total_area_m2() * 1.0001, "the AOI is clipped to the footprint");
    // The form is shown with the catalog source.
    h.get_by_label_contains("image(s) from");
}

/// The screen points of every footprint outline painted in `color` at `width`.
fn footprints_painted(
    h: &egui_kittest::Harness<'_, support::TestApp>,
    color: egui::Color32,
    width: f32,
) -> Vec<Vec<egui::Pos2>> {
    support::painted_shapes(h)
        .into_iter()
        .filter_map(|shape| match shape {
            egui::Shape::Path(path)
                if path.stroke.width == width && path.stroke.color == egui::epaint::ColorMode::Solid(color) =>
            {
                Some(path.points)
            }
            _ => None,
        })
        .collect()
}

/// The catalog rows the last frame drew, by the text of their id: (id, drawn greyed, whether the
/// scene matches the current filters).
fn greyed_rows(
    h: &egui_kittest::Harness<'_, support::TestApp>,
    page: &mapflow_desktop::api::CatalogPage,
) -> Vec<(String, bool, bool)> {
    let weak = h.ctx.global_style().visuals.weak_text_color();
    let filters = &app(h).state.settings.catalog;
    let shapes = support::painted_shapes(h);
    page.images
        .iter()
        .filter_map(|image| {
            let text = shapes.iter().find_map(|shape| match shape {
                egui::Shape::Text(t) if t.galley.text() == image.id => Some(t),
                _ => None,
            })?;
            let grey = text.override_text_color == Some(weak)
                || text.galley.job.sections.iter().any(|section| section.format.color == weak);
            Some((image.id.clone(), grey, filters.matches(image)))
        })
        .collect()
}

#[test]
fn an_aoi_over_the_search_limit_is_refused_before_the_request() {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    // About 12,000 km², over the sandbox's 2,500 km² search limit.
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox([10.0, 0.0, 11.0, 1.0]));
    h.run_steps(2);
    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    h.run_steps(2);
    h.get_by_label_contains("the limit for a catalog search is 2500.00 km²");
    assert!(app(&h).state.catalog.query.is_none(), "nothing was sent");
}
