//! The AOI on the map: filled polygons, the ring being drawn, and vertex handles to edit.

use crate::app::aoi::AoiDraft;
use egui::{Color32, Pos2, Sense, Stroke, Vec2};
use walkers::{MapMemory, Plugin, Projector, lon_lat};

/// Above this many vertices the handles are not drawn (an imported coastline is not hand-edited).
const MAX_HANDLES: usize = 2_000;
const HANDLE: f32 = 9.0;

/// Frame-to-frame state of the editor: the triangulation of the AOI (redone only when it
/// changes) and the vertex being dragged.
#[derive(Default)]
pub struct AoiEditorState {
    generation: Option<u64>,
    /// Per polygon: vertices (lon, lat) and triangle indices.
    triangles: Vec<(Vec<[f64; 2]>, Vec<u32>)>,
    dragging: Option<(usize, usize)>,
}

/// Draws and edits the AOI draft. Clicks on the map add vertices while drawing.
pub struct AoiEditor<'a> {
    pub draft: &'a mut AoiDraft,
    pub state: &'a mut AoiEditorState,
    /// Whether handles and clicks edit the AOI (false: drawn only).
    pub editable: bool,
    pub color: Color32,
}

fn to_pos(projector: &Projector, p: [f64; 2]) -> Pos2 {
    projector.project(lon_lat(p[0], p[1])).to_pos2()
}

impl Plugin for AoiEditor<'_> {
    fn run(self: Box<Self>, ui: &mut egui::Ui, response: &egui::Response, projector: &Projector, _: &MapMemory) {
        let AoiEditor { draft, state, editable, color } = *self;
        if state.generation != Some(draft.generation) || state.triangles.len() != draft.aoi.polygons.len() {
            state.triangles = draft.aoi.polygons.iter().map(crate::geo::triangulate).collect();
            state.generation = Some(draft.generation);
        }
        let painter = ui.painter().clone();
        let fill = color.gamma_multiply(0.25);
        let stroke = Stroke::new(2.0, color);

        // Fills, from the cached triangulation.
        for (verts, indices) in &state.triangles {
            let mut mesh = egui::Mesh::default();
            for v in verts {
                mesh.colored_vertex(to_pos(projector, *v), fill);
            }
            mesh.indices.extend_from_slice(indices);
            painter.add(egui::Shape::mesh(mesh));
        }
        // Outlines, holes included.
        for polygon in &draft.aoi.polygons {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let pts: Vec<Pos2> = ring.0.iter().map(|c| to_pos(projector, [c.x, c.y])).collect();
                painter.add(egui::Shape::line(pts, stroke));
            }
        }

        let total_vertices: usize = draft.aoi.polygons.iter().map(|p| p.exterior().0.len()).sum();
        if editable && draft.drawing.is_none() && total_vertices <= MAX_HANDLES {
            edit_handles(ui, draft, state, projector, color);
        }

        // The ring being drawn, with a rubber band to the pointer.
        if let Some(ring) = draft.drawing.clone() {
            let mut pts: Vec<Pos2> = ring.iter().map(|p| to_pos(projector, *p)).collect();
            if let Some(hover) = response.hover_pos() {
                pts.push(hover);
            }
            painter.add(egui::Shape::line(pts, Stroke::new(2.0, color)));
            for (i, p) in ring.iter().enumerate() {
                let center = to_pos(projector, *p);
                painter.circle(center, 4.0, if i == 0 { Color32::WHITE } else { color }, Stroke::new(1.5, color));
            }
            if editable {
                // A click on the first vertex closes the ring; elsewhere it adds one.
                if response.clicked()
                    && let Some(at) = response.interact_pointer_pos()
                {
                    let closes = ring.len() >= 3 && at.distance(to_pos(projector, ring[0])) <= HANDLE;
                    if closes {
                        draft.finish_ring();
                    } else {
                        let p = projector.unproject(at.to_vec2());
                        draft.add_point(p.x(), p.y());
                    }
                }
                // Enter and Escape belong to a text field while one is being typed in.
                let typing = ui.ctx().text_edit_focused();
                if !typing && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    draft.finish_ring();
                }
                if !typing && ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                    draft.cancel_drawing();
                }
            }
        }
    }
}

/// Vertex handles (drag to move, right-click to delete) and edge midpoints (click to insert).
fn edit_handles(
    ui: &mut egui::Ui,
    draft: &mut AoiDraft,
    state: &mut AoiEditorState,
    projector: &Projector,
    color: Color32,
) {
    let clip = ui.clip_rect().expand(HANDLE);
    let mut action: Option<Action> = None;
    for pi in 0..draft.aoi.polygons.len() {
        let ring = draft.vertices(pi);
        let n = ring.len();
        for (vi, v) in ring.iter().enumerate() {
            let center = to_pos(projector, *v);
            if !clip.contains(center) {
                continue;
            }
            let rect = egui::Rect::from_center_size(center, Vec2::splat(HANDLE * 1.6));
            let r = ui.interact(rect, ui.scope_id().with(("aoi_vertex", pi, vi)), Sense::click_and_drag());
            let hot = r.hovered() || r.dragged();
            ui.painter().rect_filled(
                egui::Rect::from_center_size(center, Vec2::splat(if hot { HANDLE + 2.0 } else { HANDLE })),
                2.0,
                if hot { Color32::WHITE } else { color },
            );
            if r.drag_started() {
                action = Some(Action::BeginDrag(pi, vi));
            } else if r.dragged()
                && let Some(p) = r.interact_pointer_pos()
            {
                action = Some(Action::Move(pi, vi, p));
            } else if r.drag_stopped() {
                action = Some(Action::EndDrag);
            } else if r.secondary_clicked() {
                action = Some(Action::Delete(pi, vi));
            }
            r.on_hover_text(rust_i18n::t!("aoi.vertex_hint"));
            // The midpoint of the edge to the next vertex.
            let next = to_pos(projector, ring[(vi + 1) % n]);
            let mid = center + (next - center) * 0.5;
            if center.distance(next) > HANDLE * 4.0 {
                let rect = egui::Rect::from_center_size(mid, Vec2::splat(HANDLE));
                let r = ui.interact(rect, ui.scope_id().with(("aoi_mid", pi, vi)), Sense::click());
                ui.painter().circle(mid, 3.5, Color32::WHITE.gamma_multiply(0.8), Stroke::new(1.0, color));
                if r.clicked() {
                    let p = projector.unproject(mid.to_vec2());
                    action = Some(Action::Insert(pi, vi, [p.x(), p.y()]));
                }
            }
        }
    }
    match action {
        Some(Action::BeginDrag(pi, vi)) => {
            draft.begin_edit();
            state.dragging = Some((pi, vi));
        }
        Some(Action::Move(pi, vi, at)) if state.dragging == Some((pi, vi)) => {
            let p = projector.unproject(at.to_vec2());
            draft.move_vertex(pi, vi, p.x(), p.y());
        }
        Some(Action::Move(..)) => {}
        Some(Action::EndDrag) => state.dragging = None,
        Some(Action::Delete(pi, vi)) => draft.delete_vertex(pi, vi),
        Some(Action::Insert(pi, vi, p)) => draft.insert_vertex(pi, vi, p[0], p[1]),
        None => {}
    }
}

enum Action {
    BeginDrag(usize, usize),
    Move(usize, usize, Pos2),
    EndDrag,
    Delete(usize, usize),
    Insert(usize, usize, [f64; 2]),
}

/// Outlines of polygons (a processing's AOIs), not editable.
pub struct OutlinePlugin<'a> {
    pub aoi: &'a crate::geo::Aoi,
    pub color: Color32,
}

impl Plugin for OutlinePlugin<'_> {
    fn run(self: Box<Self>, ui: &mut egui::Ui, _: &egui::Response, projector: &Projector, _: &MapMemory) {
        let stroke = Stroke::new(2.0, self.color);
        for polygon in &self.aoi.polygons {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let pts: Vec<Pos2> = ring.0.iter().map(|c| to_pos(projector, [c.x, c.y])).collect();
                ui.painter().add(egui::Shape::dashed_line(&pts, stroke, 8.0, 5.0));
            }
        }
    }
}
