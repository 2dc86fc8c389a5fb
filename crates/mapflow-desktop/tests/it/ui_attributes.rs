//! The attribute table over the demo's result: every feature a row (only those in view laid
//! out), sorted by a header click, filtered by an expression, a row click pins the feature,
//! and a feature pinned elsewhere (the map) is scrolled to.

use crate::support;

use egui_kittest::kittest::Queryable;
use mapflow_desktop::app::layout::Pane;
use serde_json::Value;
use support::{app, app_mut, harness, wait_for};

fn number(v: Value) -> Option<f64> {
    match &v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The table cell showing exactly `text` (cells are labels, their text their value).
fn cell<'h>(h: &'h egui_kittest::Harness<'_, support::TestApp>, text: &str) -> Option<egui_kittest::Node<'h>> {
    let text = text.to_owned();
    h.query_all(
        egui_kittest::kittest::by()
            .include_labels()
            .role(egui::accesskit::Role::Label)
            .predicate(move |n| n.value().as_deref() == Some(text.as_str())),
    )
    .next()
}

/// The first run's result, once it is on the map: its processing and layer.
fn demo_result(
    h: &mut egui_kittest::Harness<'_, support::TestApp>,
) -> (mapflow_desktop::api::ProcessingId, std::sync::Arc<mapflow_desktop::results::ResultLayer>) {
    wait_for(h, "a result on the map", |h| {
        let s = &app(h).state;
        s.selected_processing.as_ref().and_then(|id| s.results.get(id)).and_then(|v| v.layer()).is_some()
    });
    let id = app(h).state.selected_processing.clone().unwrap();
    let layer = app(h).state.results[&id].layer().unwrap().clone();
    (id, layer)
}

#[test]
fn the_table_sorts_filters_and_follows_the_pinned_feature() {
    let mut h = harness();
    let (id, layer) = demo_result(&mut h);
    let total = layer.feature_count();
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    wait_for(&mut h, "the table", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == total));
    h.get_by_label_contains(&format!("{total} of {total} features"));

    // A numeric column whose values differ.
    let columns = app(&h).ui.attributes.columns().to_vec();
    let column = columns
        .iter()
        .find(|c| {
            let values: std::collections::BTreeSet<i64> = (0..total)
                .filter_map(|f| number(layer.attributes(f).get(c).to_json()))
                .map(|v| (v * 1000.0) as i64)
                .collect();
            values.len() > 1
        })
        .cloned()
        .unwrap_or_else(|| panic!("no numeric column varies in {columns:?}"));

    // A header click sorts by it, ascending; a second one reverses.
    h.get_by_label(&column).click();
    wait_for(&mut h, "the rows sorted", |h| {
        app(h).ui.attributes.rows().is_some_and(|r| {
            let v: Vec<f64> =
                r.iter().filter_map(|&f| number(layer.attributes(f as usize).get(&column).to_json())).collect();
            v.len() > 1 && v.windows(2).all(|w| w[0] <= w[1]) && v[0] < v[v.len() - 1]
        })
    });
    h.get_by_label(&format!("{column} ⬆")).click();
    wait_for(&mut h, "the rows reversed", |h| {
        app(h).ui.attributes.rows().is_some_and(|r| {
            let v: Vec<f64> =
                r.iter().filter_map(|&f| number(layer.attributes(f as usize).get(&column).to_json())).collect();
            v.len() > 1 && v.windows(2).all(|w| w[0] >= w[1]) && v[0] > v[v.len() - 1]
        })
    });

    // A filter keeps the rows over the median, and says how many.
    let mut values: Vec<f64> = (0..total).filter_map(|f| number(layer.attributes(f).get(&column).to_json())).collect();
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    let expected =
        (0..total).filter(|&f| number(layer.attributes(f).get(&column).to_json()).is_some_and(|v| v > median)).count();
    assert!(expected > 0 && expected < total);
    let field = h.get_by_label("Filter features");
    field.focus();
    h.run_steps(1);
    h.get_by_label("Filter features").type_text(&format!("{column} > {median}"));
    h.run_steps(1);
    h.get_by_label("Apply").click();
    wait_for(&mut h, "the filtered rows", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == expected));
    h.get_by_label_contains(&format!("{expected} of {total} features"));

    // A bad filter says why, where the table was.
    h.get_by_label("Filter features").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Filter features").type_text(&format!("{column} >"));
    h.run_steps(1);
    h.get_by_label("Apply").click();
    wait_for(&mut h, "the filter's error", |h| h.query_by_label_contains("The filter cannot be read").is_some());

    // Cleared: every row again. A feature pinned from the map (far down the table) is
    // scrolled into view: rows out of view are not laid out, so its row appears only then.
    h.get_by_label("Filter features").focus();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.get_by_label("Apply").click();
    wait_for(&mut h, "every row", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == total));
    let rows = app(&h).ui.attributes.rows().unwrap().to_vec();
    let far = rows[rows.len() - 1] as usize;
    let far_label = far.to_string();
    let laid_out = |h: &egui_kittest::Harness<'_, support::TestApp>| cell(h, &far_label).is_some();
    assert!(!laid_out(&h), "the last row is not laid out before it is scrolled to");
    app_mut(&mut h).ui.identified = Some((id.clone(), far));
    h.run_steps(5);
    wait_for(&mut h, "the pinned feature's row", |h| laid_out(h));

    // A row click pins its feature; Zoom to selection goes to it.
    let first = rows[0] as usize;
    app_mut(&mut h).ui.identified = Some((id.clone(), first));
    wait_for(&mut h, "the first row", |h| cell(h, &first.to_string()).is_some());
    let second = rows[1] as usize;
    cell(&h, &second.to_string()).unwrap().click();
    h.run_steps(2);
    assert_eq!(app(&h).ui.identified, Some((id.clone(), second)));
    h.get_by_label("Zoom to selection").click();
    h.run_steps(3);
    let [w, s, e, n] = layer.feature_bbox(second).unwrap();
    let c = app(&h).map.center();
    let pad = 0.01;
    assert!(c.x() > w - pad && c.x() < e + pad && c.y() > s - pad && c.y() < n + pad, "{c:?} vs {w} {s} {e} {n}");

    // Only features in view: zoomed in on that feature, the table keeps those the map shows.
    h.get_by_label("Only in view").click();
    h.run_steps(3);
    let view = app(&h).map.visible_bbox().unwrap();
    // The table rounds the view outwards by up to a fiftieth of its size.
    let m = (view[2] - view[0]).max(view[3] - view[1]) / 25.0;
    let meets = |b: [f64; 4]| b[0] <= view[2] + m && b[2] >= view[0] - m && b[1] <= view[3] + m && b[3] >= view[1] - m;
    let in_view = (0..total).filter(|&f| layer.feature_bbox(f).is_some_and(meets)).count();
    assert!(in_view > 0 && in_view < total, "{in_view} of {total} in {view:?}");
    wait_for(&mut h, "the rows in view", |h| {
        app(h)
            .ui
            .attributes
            .rows()
            .is_some_and(|r| r.len() < total && r.iter().all(|&f| layer.feature_bbox(f as usize).is_some_and(meets)))
    });
}

#[test]
fn rows_select_with_ctrl_and_shift_the_map_shows_them_and_they_save_as_a_file() {
    use egui::Modifiers;
    let mut h = support::harness_with(mapflow_desktop::app::Settings {
        builtin_file_chooser: true,
        ..mapflow_desktop::app::Settings::default()
    });
    let (id, layer) = demo_result(&mut h);
    let total = layer.feature_count();
    assert!(total >= 4, "the demo result has {total} features");
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    wait_for(&mut h, "the table", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == total));
    let rows = app(&h).ui.attributes.rows().unwrap().to_vec();
    let selected = |h: &egui_kittest::Harness<'_, support::TestApp>| -> Vec<u32> {
        app(h).ui.selection.as_ref().filter(|(s, _)| *s == id).map(|(_, s)| s.as_slice().to_vec()).unwrap_or_default()
    };
    let on_map = |h: &egui_kittest::Harness<'_, support::TestApp>| -> Vec<u32> {
        app(h).state.results[&id].style.selected.as_ref().map(|s| s.as_slice().to_vec()).unwrap_or_default()
    };

    // A click selects one row; Ctrl adds another; Shift selects the range from the first.
    cell(&h, &rows[0].to_string()).unwrap().click();
    h.run_steps(2);
    assert_eq!(selected(&h), [rows[0]]);
    h.get_by_label_contains("Selected: 1 ·");
    cell(&h, &rows[2].to_string()).unwrap().click_modifiers(Modifiers::COMMAND);
    h.run_steps(2);
    let mut two = vec![rows[0], rows[2]];
    two.sort_unstable();
    assert_eq!(selected(&h), two);
    assert_eq!(on_map(&h), two, "the map draws the table's selection");
    cell(&h, &rows[1].to_string()).unwrap().click_modifiers(Modifiers::SHIFT);
    h.run_steps(2);
    let mut range = rows[1..=2].to_vec();
    range.sort_unstable();
    assert_eq!(selected(&h), range, "Shift selects from the last plain or Ctrl click");
    // The summary adds up the selected features.
    let area: f64 = range.iter().map(|&f| layer.feature_area_m2(f as usize)).sum();
    let area_text = if area < 10_000.0 { format!("{area:.0} m²") } else { format!("{:.2} km²", area / 1e6) };
    h.get_by_label_contains(&format!("Selected: 2 · {area_text}"));

    // Zoom to selection fits both.
    h.get_by_label("Zoom to selection").click();
    h.run_steps(3);
    let view = app(&h).map.visible_bbox().unwrap();
    for &f in &range {
        let [w, s, e, n] = layer.feature_bbox(f as usize).unwrap();
        assert!(w >= view[0] && e <= view[2] && s >= view[1] && n <= view[3], "feature {f} out of {view:?}");
    }

    // Saved as a GeoPackage through the chooser's path: two features, read back.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("picked.gpkg");
    h.get_by_label("Save selection…").click();
    wait_for(&mut h, "the chooser to open", |h| app(h).ui.file_chooser.is_open());
    support::go_to(&mut h, dir.path());
    support::type_into(&mut h, "File name", "picked.gpkg", false);
    h.get_by_label("Save").click();
    wait_for(&mut h, "the file written", |h| {
        app(h).state.notices.iter().any(|n| n.text.contains("picked.gpkg") && n.text.contains("2 features"))
    });
    let back = mapflow_desktop::export::read::to_geojson(&out).unwrap();
    let back = mapflow_desktop::results::load_result(&back).unwrap();
    assert_eq!(back.feature_count(), 2);
    let mut areas: Vec<i64> = (0..2).map(|f| back.feature_area_m2(f).round() as i64).collect();
    let mut expected: Vec<i64> = range.iter().map(|&f| layer.feature_area_m2(f as usize).round() as i64).collect();
    areas.sort_unstable();
    expected.sort_unstable();
    for (a, e) in areas.iter().zip(&expected) {
        assert!((a - e).abs() <= 1 + e / 1000, "area {a} vs {e}");
    }

    // Clear selection empties it everywhere.
    h.get_by_label("Clear selection").click();
    h.run_steps(2);
    assert!(selected(&h).is_empty() && on_map(&h).is_empty());
}

#[test]
fn features_picked_on_the_map_are_selected_in_the_table() {
    let mut h = harness();
    let (id, layer) = demo_result(&mut h);
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    wait_for(&mut h, "the table", |h| app(h).ui.attributes.rows().is_some_and(|r| r.len() == layer.feature_count()));
    // Features whose box centre lies inside them, so a click there picks them.
    let centre = |f: usize| {
        let [w, s, e, n] = layer.feature_bbox(f).unwrap();
        ((w + e) / 2.0, (s + n) / 2.0)
    };
    let mut pickable = (0..layer.feature_count()).filter(|&f| {
        let (lon, lat) = centre(f);
        layer.pick(lon, lat, 0.0) == Some(f)
    });
    let (a, b) = (pickable.next().unwrap(), pickable.nth(5).unwrap());
    let selected = |h: &egui_kittest::Harness<'_, support::TestApp>| -> Vec<u32> {
        app(h).ui.selection.as_ref().filter(|(s, _)| *s == id).map(|(_, s)| s.as_slice().to_vec()).unwrap_or_default()
    };
    let click_on = |h: &mut egui_kittest::Harness<'_, support::TestApp>, f: usize, modifiers: egui::Modifiers| {
        app_mut(h).state.zoom_request = layer.feature_bbox(f);
        h.run_steps(4);
        support::click_map_with(h, 0.5, 0.5, modifiers);
    };

    click_on(&mut h, a, egui::Modifiers::default());
    assert_eq!(selected(&h), [a as u32], "a click on the map selects the feature");
    assert_eq!(app(&h).ui.identified, Some((id.clone(), a)));
    click_on(&mut h, b, egui::Modifiers::SHIFT);
    let mut both = vec![a as u32, b as u32];
    both.sort_unstable();
    assert_eq!(selected(&h), both, "Shift adds it");
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    h.run_steps(3);
    h.get_by_label_contains("Selected: 2 ·");
    click_on(&mut h, a, egui::Modifiers::SHIFT);
    assert_eq!(selected(&h), [b as u32], "Shift on a selected one takes it out");
}

#[test]
fn the_tables_controls_do_not_overlap_and_a_row_shows_at_both_window_sizes() {
    let mut h = harness();
    let (_, layer) = demo_result(&mut h);
    app_mut(&mut h).ui.show_pane(Pane::Attributes);
    for size in [egui::vec2(1280.0, 800.0), egui::vec2(1024.0, 680.0)] {
        h.set_size(size);
        h.run_steps(4);
        wait_for(&mut h, "the table", |h| {
            app(h).ui.attributes.rows().is_some_and(|r| r.len() == layer.feature_count())
        });
        let rect = |label: &str| h.get_by_label(label).rect();
        let controls = [
            rect("Layer"),
            rect("Filter features"),
            rect("Apply"),
            rect("Only in view"),
            h.get_by_label_contains("By class").rect(),
            h.get_by_label_contains("Selected:").rect(),
            rect("Zoom to selection"),
            rect("Save selection…"),
            rect("Clear selection"),
        ];
        let row = cell(&h, &app(&h).ui.attributes.rows().unwrap()[0].to_string()).unwrap().rect();
        let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
        for (i, a) in controls.iter().enumerate() {
            assert!(window.contains_rect(*a), "{size:?}: control {i} {a:?} outside the window");
            assert!(a.max.y <= row.min.y, "{size:?}: control {i} {a:?} over the first row {row:?}");
            for (j, b) in controls.iter().enumerate().skip(i + 1) {
                assert!(!a.shrink(1.0).intersects(b.shrink(1.0)), "{size:?}: controls {i} {a:?} and {j} {b:?} overlap");
            }
        }
        assert!(window.contains_rect(row), "{size:?}: the first row {row:?} is cut off");
    }
}
