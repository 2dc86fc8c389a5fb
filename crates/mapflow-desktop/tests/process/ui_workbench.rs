//! The workbench at the window sizes people use, in both languages, with a finished processing
//! selected, its result on the map and a catalog search done: no text over text, every action
//! of the details and of the row's context menu inside the window and clickable by its label,
//! toasts that fade, errors that stay. One test function, because the language is global.

use crate::support;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use mapflow_desktop::api::ProcessingStatus;
use mapflow_desktop::app::Language;
use support::{TestApp, app, app_mut, harness, open_project, signed_in_to_sandbox, wait_for};

/// The part of a widget that is on screen: its rect cut by the clip rect it was drawn in
/// (a label scrolled out of its pane has none).
fn visible_rect(h: &Harness<'_, TestApp>, node: &egui_kittest::Node<'_>) -> Option<egui::Rect> {
    let raw = node.accesskit_node().locate().0.0;
    if raw == 0 {
        return None;
    }
    // SAFETY: the value is an egui id turned into an AccessKit id, so it is high-entropy.
    let id = unsafe { egui::Id::from_high_entropy_bits(raw) };
    let rect = h.ctx.read_response(id).map_or(node.rect(), |r| r.interact_rect);
    (rect.width() > 1.0 && rect.height() > 1.0).then_some(rect)
}

/// Text widgets on screen: role, text, visible rect.
fn text_widgets(h: &Harness<'_, TestApp>) -> Vec<(String, egui::Rect)> {
    use egui::accesskit::Role;
    let mut out = Vec::new();
    for node in h.query_all_by(|_| true) {
        let ak = node.accesskit_node();
        let role = ak.role();
        if !matches!(
            role,
            Role::Label
                | Role::Button
                | Role::CheckBox
                | Role::RadioButton
                | Role::TextInput
                | Role::ComboBox
                | Role::Link
                | Role::Tab
                | Role::ProgressIndicator
                | Role::MenuItem
        ) {
            continue;
        }
        let text = ak.label().or_else(|| ak.value()).unwrap_or_default();
        if text.trim().is_empty() {
            continue;
        }
        if let Some(rect) = visible_rect(h, &node) {
            out.push((format!("{role:?} {text:?}"), rect));
        }
    }
    out
}

/// Pairs of text widgets whose visible rects overlap by more than a pixel each way.
fn overlaps(widgets: &[(String, egui::Rect)]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, (a, ra)) in widgets.iter().enumerate() {
        for (b, rb) in &widgets[i + 1..] {
            let cut = ra.intersect(*rb);
            // A widget inside another of the same name (a combo box and its label) or a tab's
            // close button inside its tab is one control, not text over text.
            let nested = ra.contains_rect(*rb) || rb.contains_rect(*ra);
            let same = a.split_once(' ').map(|x| x.1) == b.split_once(' ').map(|x| x.1);
            let close = a.ends_with("\"Close\"") || b.ends_with("\"Close\"");
            if nested && (same || close) {
                continue;
            }
            if cut.width() > 1.5 && cut.height() > 1.5 {
                found.push(format!("{a} {ra:?} × {b} {rb:?}"));
            }
        }
    }
    found
}

fn set_language(h: &mut Harness<'_, TestApp>, language: Language) {
    app_mut(h).state.settings.language = language;
    language.activate();
    h.run_steps(3);
}

fn assert_layout_holds(h: &mut Harness<'_, TestApp>, what: &str) {
    h.run_steps(4);
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, h.ctx.content_rect().size());
    let widgets = text_widgets(h);
    assert!(widgets.len() > 40, "{what}: the scan sees the widgets ({})", widgets.len());
    let bad = overlaps(&widgets);
    assert!(bad.is_empty(), "{what}: text over text:\n{}", bad.join("\n"));
    for (name, rect) in &widgets {
        assert!(window.expand(0.5).contains_rect(*rect), "{what}: {name} {rect:?} is outside the window {window:?}");
    }
    // The map is the largest pane.
    let map = app(h).map.map_rect().unwrap();
    let tiles = &app(h).ui.layout.tiles;
    for id in app(h).ui.layout.active_tiles() {
        if let (Some(egui_tiles::Tile::Pane(pane)), Some(rect)) = (tiles.get(id), tiles.rect(id))
            && *pane != mapflow_desktop::app::layout::Pane::Map
        {
            assert!(map.area() > rect.area(), "{what}: {pane:?} {rect:?} is larger than the map {map:?}");
        }
    }
}

/// The processing's row in the table (its name is also the details' title and a layer).
fn table_row<'a>(h: &'a Harness<'_, TestApp>, name: &'a str) -> egui_kittest::Node<'a> {
    h.get_all_by_label(name).find(|n| n.accesskit_node().role() == egui::accesskit::Role::Button).unwrap()
}

/// Every action of the selected processing, in the details' toolbar.
fn details_actions(language: Language) -> [&'static str; 8] {
    match language {
        Language::English => {
            ["Show on map", "Save results…", "Rate…", "Show AOIs", "Duplicate", "Rename…", "Move…", "Delete…"]
        }
        Language::Russian => [
            "Показать на карте",
            "Сохранить результаты…",
            "Оценить…",
            "Показать области",
            "Дублировать",
            "Переименовать…",
            "Переместить…",
            "Удалить…",
        ],
    }
}

/// A finished processing in the default project, selected, its result on the map, and a
/// catalog search over its AOI.
fn prepared() -> Harness<'static, TestApp> {
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let bbox = [37.612, 55.752, 37.622, 55.758];
    app_mut(&mut h).state.zoom_request = Some(bbox);
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox(bbox));
    app_mut(&mut h).state.settings.form.name = "Kitay-gorod blocks with a long descriptive name".into();
    h.run_steps(2);
    wait_for(&mut h, "the cost estimate", |h| app(h).state.cost.value().is_some() && !app(h).state.cost.is_pending());
    h.run_steps(2);
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/debug1.png").unwrap();
    }
    h.get_by_label("Start processing…").click();
    h.run_steps(2);
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/debug2.png").unwrap();
    }
    h.get_by_label("Start").click();
    h.run_steps(30);
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/debug3.png").unwrap();
        eprintln!("creating {} selected {:?}", app(&h).state.creating, app(&h).state.selected_processing);
    }
    wait_for(&mut h, "the processing to finish", |h| {
        let state = &app(h).state;
        state.selected_processing.as_ref().and_then(|id| state.processing(id)).is_some_and(|p| p.status.is_terminal())
    });
    let id = app(&h).state.selected_processing.clone().unwrap();
    assert_eq!(app(&h).state.processing(&id).unwrap().status, ProcessingStatus::Ok);
    // The project's summary follows without a restart.
    wait_for(&mut h, "the project summary to count the finished processing", |h| {
        app(h).state.open_project.value().is_some_and(|p| p.processing_counts.get("succeeded").copied() == Some(1))
    });
    h.get_by_label("1 finished, 0 failed");
    h.run_steps(2);
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/debug4.png").unwrap();
        for n in h.get_all_by_label("Show on map") {
            eprintln!("show on map at {:?}", n.rect());
        }
    }
    h.get_all_by_label("Show on map").next().unwrap().click();
    wait_for(&mut h, "the result layer", |h| app(h).state.results.get(&id).and_then(|v| v.layer()).is_some());
    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_for(&mut h, "the catalog results", |h| app(h).state.catalog.results.value().is_some());
    // Back to the processings and the form, the state a user comes back to.
    h.get_by_label("Processings").click();
    h.get_by_label("New processing").click();
    h.run_steps(3);
    h
}

#[test]
fn the_workbench_holds_at_every_size_and_in_both_languages() {
    let _state = crate::exclusive();
    let mut h = prepared();
    let id = app(&h).state.selected_processing.clone().unwrap();
    let name = app(&h).state.processing(&id).unwrap().name.clone();
    for size in [egui::vec2(1024.0, 680.0), egui::vec2(1280.0, 800.0), egui::vec2(1920.0, 1080.0)] {
        h.set_size(size);
        for language in Language::ALL {
            set_language(&mut h, language);
            let what = format!("{}×{} {language:?}", size.x, size.y);
            // The footprints of the search are on the map from the first answer on.
            assert!(!app(&h).ui.catalog.rings().is_empty(), "{what}: catalog footprints drawn");
            app_mut(&mut h).ui.show_pane(mapflow_desktop::app::layout::Pane::Details);
            assert_layout_holds(&mut h, &what);
            if std::env::var("DEBUG_SHOT").is_ok() {
                let file = format!("/tmp/shots/wb-{}x{}-{}.png", size.x, size.y, language.code());
                h.render().unwrap().save(file).unwrap();
            }
            let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
            for action in details_actions(language) {
                // Some button with that label is wholly on screen, not cut by its pane.
                let whole = h.get_all_by_label(action).any(|b| {
                    visible_rect(&h, &b).is_some_and(|v| (v.area() - b.rect().area()).abs() < 1.0)
                        && window.contains_rect(b.rect())
                });
                assert!(whole, "{what}: {action} is not wholly on screen");
            }
            // The same actions in the row's context menu.
            let before: Vec<usize> = details_actions(language).iter().map(|a| h.get_all_by_label(a).count()).collect();
            table_row(&h, &name).click_secondary();
            h.run_steps(3);
            for (action, before) in details_actions(language).iter().zip(before) {
                let buttons: Vec<_> = h.get_all_by_label(action).collect();
                assert!(buttons.len() > before, "{what}: {action} is in the context menu too");
                for b in buttons {
                    assert!(window.contains_rect(b.rect()), "{what}: {action} {:?} outside", b.rect());
                }
            }
            h.key_press(egui::Key::Escape);
            h.run_steps(3);
        }
    }
    set_language(&mut h, Language::English);

    // Each action is reachable by its label: Rename from the toolbar opens its dialog, centred.
    h.set_size(egui::vec2(1280.0, 800.0));
    h.run_steps(3);
    h.get_all_by_label("Rename…").last().unwrap().click();
    h.run_steps(3);
    let field = h.get_by_label("New name").rect();
    let centre = h.ctx.content_rect().center();
    assert!((field.center().x - centre.x).abs() < 200.0, "the dialog opens near the centre: {field:?}");
    h.get_by_label("Cancel").click();
    h.run_steps(2);
    // F2 in the table renames the selected processing too.
    table_row(&h, &name).click();
    h.run_steps(2);
    table_row(&h, &name).click();
    h.run_steps(2);
    assert_eq!(app(&h).state.selected_processing.as_ref(), Some(&id));
    h.key_press(egui::Key::F2);
    h.run_steps(3);
    assert!(app(&h).ui.processings.renaming.is_some(), "F2 opens the rename dialog");
    app_mut(&mut h).ui.processings.renaming = None;
    h.run_steps(2);
    // While the filter is being typed in, F2 and Delete are the field's, not the table's.
    let filter = h.get_all_by_label("Filter").find(|n| n.accesskit_node().role() == egui::accesskit::Role::TextInput);
    filter.unwrap().focus();
    h.run_steps(2);
    h.key_press(egui::Key::F2);
    h.key_press(egui::Key::Delete);
    h.run_steps(3);
    assert!(app(&h).ui.processings.renaming.is_none() && app(&h).ui.processings.deleting.is_none());
    h.key_press(egui::Key::Escape);
    h.run_steps(2);

    // Toasts: a success fades, an error stays until closed, both stay in the history.
    app_mut(&mut h).ui.toast_duration = std::time::Duration::from_millis(300);
    app_mut(&mut h).state.notify("A success for the test");
    app_mut(&mut h).state.notify_error("An error for the test");
    h.run_steps(2);
    h.get_by_label("A success for the test");
    h.get_by_label("An error for the test");
    std::thread::sleep(std::time::Duration::from_millis(400));
    h.run_steps(2);
    assert!(h.query_by_label("A success for the test").is_none(), "the success faded");
    h.get_by_label("An error for the test");
    h.get_by_label_contains("Notifications").click();
    h.run_steps(3);
    h.get_by_label("A success for the test");
}

#[test]
fn a_plain_map_click_selects_no_scene_unless_the_catalog_is_in_use() {
    let _state = crate::shared();
    use egui_kittest::kittest::Queryable as _;
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let bbox = [37.60, 55.74, 37.64, 55.76];
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox(bbox));
    app_mut(&mut h).state.zoom_request = Some(bbox);
    h.get_by_label("Catalog").click();
    h.run_steps(2);
    h.get_by_label("Search").click();
    wait_for(&mut h, "the catalog results", |h| app(h).state.catalog.results.value().is_some());
    h.run_steps(2);
    assert!(!app(&h).ui.catalog.rings().is_empty(), "footprints right after the first search");
    // With the catalog in use a click inside a footprint picks its scene.
    let ring = app(&h).ui.catalog.rings()[0].1.clone();
    let (w, e) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[0]), b.max(p[0])));
    let (s, n) = ring.iter().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p[1]), b.max(p[1])));
    app_mut(&mut h).state.zoom_request = Some([w, s, e, n]);
    h.run_steps(3);
    support::click_map(&mut h, 0.5, 0.5);
    if std::env::var("DEBUG_SHOT").is_ok() {
        h.render().unwrap().save("/tmp/shots/debug5.png").unwrap();
        eprintln!(
            "shown {} layers {:?}",
            app(&h).ui.is_pane_shown(mapflow_desktop::app::layout::Pane::Catalog),
            app(&h).state.layers.order()
        );
    }
    assert_eq!(app(&h).state.catalog.selected.len(), 1, "a click on a footprint selects its scene");
    assert!(app(&h).ui.is_pane_shown(mapflow_desktop::app::layout::Pane::CatalogResults));
    // With the processing form in front, the same click selects nothing.
    h.get_by_label("New processing").click();
    h.run_steps(2);
    app_mut(&mut h).ui.focus = None;
    app_mut(&mut h).state.catalog.selected.clear();
    support::click_map(&mut h, 0.5, 0.5);
    assert!(app(&h).state.catalog.selected.is_empty(), "a plain click picks no scene");
    // Ctrl+click always does.
    let pos = support::map_rect(&h).center();
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::COMMAND));
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::COMMAND,
        });
        h.step();
    }
    h.event(egui::Event::ModifiersChanged(egui::Modifiers::NONE));
    h.run_steps(2);
    assert_eq!(app(&h).state.catalog.selected.len(), 1, "Ctrl+click picks the scene");
}

#[test]
fn the_cost_is_estimated_before_a_name_is_typed() {
    let _state = crate::shared();
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    open_project(&mut h, "Default project");
    let bbox = [37.612, 55.752, 37.622, 55.758];
    app_mut(&mut h).state.settings.aoi.replace(mapflow_desktop::geo::Aoi::from_bbox(bbox));
    assert!(app(&h).state.settings.form.name.is_empty());
    wait_for(&mut h, "the estimate", |h| app(h).state.cost.value().is_some() && !app(h).state.cost.is_pending());
    let cost = *app(&h).state.cost.value().unwrap();
    assert!(h.query_all_by_label(&format!("{cost:.0} credits")).next().is_some());
    h.get_by_label("Give the processing a name.");
    // Typing a name does not ask for the price again.
    let asked = app(&h).state.cost_request.clone();
    app_mut(&mut h).state.settings.form.name = "Named later".into();
    h.run_steps(3);
    std::thread::sleep(std::time::Duration::from_millis(700));
    h.run_steps(3);
    assert_eq!(app(&h).state.cost_request, asked, "the estimate stands");
    assert!(h.query_all_by_label(&format!("{cost:.0} credits")).next().is_some());
}

#[test]
fn the_processings_table_narrows_with_its_pane() {
    let _state = crate::shared();
    use egui_kittest::kittest::Queryable as _;
    let mut h = harness();
    signed_in_to_sandbox(&mut h);
    wait_for(&mut h, "the demo's processings", |h| {
        app(h).state.processings.value().is_some_and(|p| !p.results.is_empty())
    });
    let check = |h: &mut Harness<'_, TestApp>, what: &str| {
        for size in [egui::vec2(1280.0, 800.0), egui::vec2(1024.0, 680.0), egui::vec2(1280.0, 800.0)] {
            h.set_size(size);
            h.run_steps(4);
            // The table sits under the map, as wide as its pane.
            let map = support::map_rect(h);
            let created =
                h.get_all_by_label_contains("Created").find(|n| n.rect().top() > map.bottom()).unwrap().rect();
            assert!(
                created.right() <= map.right() + 2.0,
                "{what} at {size:?}: the last column ends at {} past {}",
                created.right(),
                map.right()
            );
        }
    };
    check(&mut h, "the demo project");
    // Under review the status column carries a deadline and is wider; the others still fit.
    support::open_project(&mut h, mapflow_desktop::sandbox::SHARED_READONLY_PROJECT);
    wait_for(&mut h, "the shared project's processings in review", |h| {
        app(h).state.processings.value().is_some_and(|p| p.results.iter().any(|p| p.in_review()))
    });
    check(&mut h, "a project with processings in review");
}
