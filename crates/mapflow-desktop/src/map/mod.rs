//! The map: basemaps and their tile sources, the offline world drawn under them, and the
//! controls drawn over them (zoom buttons, "Go to…", scale bar and zoom level, attribution,
//! cursor position, a notice when tiles do not load).
//!
//! [`MapView`] keeps everything that must outlive a frame (walkers' `MapMemory`, the one
//! `HttpTiles` of the current basemap, the world's paint buffers); the walkers `Map` widget is
//! rebuilt on every [`MapView::show`], with the caller's overlays as plugins on top.

mod aoi_editor;
use mapflow_geo::gazetteer;
pub mod goto;
mod goto_window;
mod navigation;
mod source;
mod tile_health;
mod world;

use std::path::PathBuf;
use std::sync::Arc;

use egui::{
    Align, Button, InnerResponse, Key, Layout, Margin, Rect, Response, RichText, Sense, Stroke, TextEdit, Ui,
    UiBuilder, vec2,
};
use rust_i18n::t;
use walkers::{
    HeaderValue, HttpOptions, HttpTiles, Map, MapMemory, MercatorProjection, Plugin, Position, Projector, Tiles,
    lon_lat,
};

pub use crate::app::map_settings::{Basemap, MapSettings};
pub use aoi_editor::{AoiEditor, AoiEditorState, OutlinePlugin};
pub use gazetteer::{Gazetteer, MAX_SUGGESTIONS, Place};
pub use navigation::{FLIGHT_SECONDS, WORLD_BBOX, format_length, meters_per_point, scale_bar};
pub use source::TemplateSource;
pub use tile_health::{FrameTiles, TileHealth};
pub use world::{CITY_MIN_ZOOM, OfflineWorld};
use world::{WORLD_SIZE_AT_ZOOM_0, WorldPainter, WorldSlots};

use crate::geo::mercator::{self, MAX_LATITUDE};

/// OpenStreetMap's standard tiles. Their policy asks for a user agent naming the app and for
/// the HTTP cache to be honoured, both done in [`http_options`].
pub const OSM_TEMPLATE: &str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";

/// Esri World Imagery: satellite and aerial imagery, the natural backdrop for detections.
pub const ESRI_TEMPLATE: &str =
    "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/tile/{z}/{y}/{x}";

/// Lowest zoom: the whole world in one 256-point square.
pub const MIN_ZOOM: f64 = 0.0;

/// Lowest zoom at which the sandbox's synthetic imagery basemap is drawn.
pub const SANDBOX_IMAGERY_MIN_ZOOM: f64 = 9.0;

/// Highest zoom the zoom buttons go to; past the sources' last level tiles are only scaled up.
pub const MAX_ZOOM: f64 = 20.0;

/// Highest zoom [`MapView::zoom_to_bbox`] picks, so that a tiny bbox (or a point) still shows
/// its surroundings.
const FIT_MAX_ZOOM: f64 = 18.0;

/// Part of the map's width and height a fitted bbox may take, leaving a margin around it.
const FIT_FILL: f64 = 0.9;

/// Sent with every tile request: tile servers (OpenStreetMap in particular) want to know the app.
const USER_AGENT: &str = concat!("Mapflow Desktop/", env!("CARGO_PKG_VERSION"));

/// The chooser's own state: what is picked in the combo box and typed in the URL field may
/// differ from what is applied until the user applies a valid template.
#[derive(Debug)]
struct Chooser {
    choice: Basemap,
    draft: String,
    error: Option<String>,
}

/// The map with everything that must persist between frames.
pub struct MapView {
    /// walkers' view state: centre and zoom. Change it with `center_at` and `set_zoom`.
    pub memory: MapMemory,
    /// Where the pointer is over the map, updated by [`Self::show`]; `None` when it is elsewhere.
    pub cursor: Option<Position>,
    basemap: Basemap,
    custom_url: String,
    online: bool,
    /// The tiles of the current basemap; `None` offline, with [`Basemap::OfflineOnly`], or when
    /// the custom template is invalid. Each `HttpTiles` owns a thread and a runtime, so one is
    /// created per basemap change, never per frame.
    tiles: Option<HttpTiles>,
    /// Why the current basemap has no tiles although it should.
    tiles_error: Option<String>,
    /// walkers' "my position", which the map would follow if it were not always detached.
    home: Position,
    world: Arc<OfflineWorld>,
    world_painter: WorldPainter,
    last_rect: Option<Rect>,
    chooser: Chooser,
    /// Imagery over the basemap and under the overlays (a provider's preview, a processing's
    /// imagery): URL template, its tiles, opacity. Kept across frames like the basemap's.
    imagery: Vec<(String, HttpTiles, f32)>,
    /// Whether the double-click zoom is on (off while the user draws).
    pub double_click_zoom: bool,
    /// What Home shows; the whole world when `None`.
    home_bbox: Option<[f64; 4]>,
    /// An animated move under way ("Go to…", Home).
    flight: Option<navigation::Flight>,
    goto: goto_window::GotoWindow,
    /// Whether the basemap's web tiles load, judged from what the map was given frame by frame.
    tile_health: TileHealth,
    /// The sandbox's imagery tile template while the session is the sandbox.
    sandbox_template: Option<String>,
    /// Whether [`Self::set_sandbox_imagery`] has been called: before that the session is not
    /// known, and a persisted [`Basemap::SandboxImagery`] waits for it.
    sandbox_known: bool,
    /// Height of the cursor position readout, kept free while the pointer is off the map so that
    /// the scale bar above it does not jump.
    readout_height: f32,
    /// Its width last frame: where the map is too narrow for it beside the credits, it goes above them.
    readout_width: f32,
}

impl MapView {
    /// The map as `settings` describe it. With `online == false` no `HttpTiles` is ever created
    /// (tests, offline use): only the offline world is drawn.
    pub fn new(ctx: &egui::Context, settings: &MapSettings, online: bool) -> Self {
        let defaults = MapSettings::default();
        let (lon, lat) = if settings.center_lon.is_finite() && settings.center_lat.is_finite() {
            (settings.center_lon.clamp(-180.0, 180.0), settings.center_lat.clamp(-MAX_LATITUDE, MAX_LATITUDE))
        } else {
            (defaults.center_lon, defaults.center_lat)
        };
        let home = lon_lat(lon, lat);

        let mut memory = MapMemory::default();
        memory.center_at(home);
        let zoom = if settings.zoom.is_finite() { settings.zoom.clamp(MIN_ZOOM, MAX_ZOOM) } else { defaults.zoom };
        if let Err(err) = memory.set_zoom(zoom) {
            tracing::warn!("zoom {zoom} rejected, keeping walkers' default: {err}");
        }

        let mut view = Self {
            memory,
            cursor: None,
            basemap: settings.basemap.clone(),
            custom_url: settings.custom_url.clone(),
            online,
            tiles: None,
            tiles_error: None,
            home,
            world: OfflineWorld::shared(),
            world_painter: WorldPainter::default(),
            last_rect: None,
            chooser: Chooser { choice: settings.basemap.clone(), draft: settings.custom_url.clone(), error: None },
            imagery: Vec::new(),
            double_click_zoom: true,
            home_bbox: None,
            flight: None,
            goto: goto_window::GotoWindow::default(),
            tile_health: TileHealth::default(),
            sandbox_template: None,
            sandbox_known: false,
            readout_height: 18.0,
            readout_width: 260.0,
        };
        view.rebuild_tiles(ctx);
        // Decompressing the place names takes a moment: do it before "Go to…" needs them.
        Gazetteer::preload();
        view
    }

    /// The current basemap and view, for persistence.
    pub fn settings(&self) -> MapSettings {
        let center = self.center();
        MapSettings {
            basemap: self.basemap.clone(),
            custom_url: self.custom_url.clone(),
            center_lon: center.x(),
            center_lat: center.y(),
            zoom: self.memory.zoom(),
        }
    }

    /// Switches the web tiles. The old `HttpTiles` (and its thread) is dropped; nothing happens
    /// if the tiles would stay the same. An invalid custom template leaves only the offline
    /// world, with the reason in [`Self::tiles_error`].
    pub fn set_basemap(&mut self, ctx: &egui::Context, basemap: Basemap, custom_url: String) {
        let same_tiles = basemap == self.basemap && (basemap != Basemap::Custom || custom_url == self.custom_url);
        self.chooser.choice = basemap.clone();
        if basemap == Basemap::Custom {
            self.chooser.draft = custom_url.clone();
        }
        self.basemap = basemap;
        self.custom_url = custom_url;
        if !same_tiles {
            self.rebuild_tiles(ctx);
        }
    }

    /// The basemap in use.
    pub fn basemap(&self) -> &Basemap {
        &self.basemap
    }

    /// Why the chosen basemap shows no web tiles although it should (an invalid custom template).
    pub fn tiles_error(&self) -> Option<&str> {
        self.tiles_error.as_deref()
    }

    /// The geographic position at the centre of the map.
    pub fn center(&self) -> Position {
        self.memory.detached().unwrap_or(self.home)
    }

    /// Where the map was drawn last frame; `None` before the first [`Self::show`].
    pub fn map_rect(&self) -> Option<Rect> {
        self.last_rect
    }

    /// The lon/lat bbox `[w, s, e, n]` the last drawn map rect shows, clamped to the world.
    pub fn visible_bbox(&self) -> Option<[f64; 4]> {
        let rect = self.last_rect?;
        let projector = Projector::new(rect, &MercatorProjection, &self.memory, self.home);
        let north_west = projector.unproject(rect.left_top().to_vec2());
        let south_east = projector.unproject(rect.right_bottom().to_vec2());
        Some([
            north_west.x().max(-180.0),
            south_east.y().max(-MAX_LATITUDE),
            south_east.x().min(180.0),
            north_west.y().min(MAX_LATITUDE),
        ])
    }

    /// Draws the map filling `ui`: the offline world, the web tiles over it, the `overlays`
    /// (e.g. AOI, results) over those, then the controls. Returns the map's response, which
    /// senses clicks and drags.
    ///
    /// Layering: walkers paints its tile layers, then its plugins, then the `show` closure, and
    /// offers no way to paint below the tiles (its `Layer` trait needs crate-private `Canvas`
    /// methods, and a `Tiles` would have to rasterise the world into textures). So five empty
    /// shapes are reserved in the paint list *before* the map widget paints anything, and the
    /// world is painted into them from the `show` closure, with the very projector the tiles were
    /// laid out with. They stay first in the paint list, so the world ends up under the tiles,
    /// and it never lags a frame behind while the map is dragged or zoomed.
    pub fn show(&mut self, ui: &mut Ui, overlays: Vec<Box<dyn Plugin + '_>>) -> Response {
        self.advance_flight(ui);
        let slots = WorldSlots::reserve(ui.painter());
        let painter = ui.painter().clone();
        let dark_mode = ui.visuals().dark_mode;

        let mut frame_tiles = FrameTiles::default();
        let InnerResponse { inner: cursor, response } = {
            // The sandbox's synthetic imagery means nothing at country scale, where it would
            // hide the world's outlines: it is drawn from city-region zooms on.
            let hide = self.basemap == Basemap::SandboxImagery && self.memory.zoom() < SANDBOX_IMAGERY_MIN_ZOOM;
            let mut watched = self
                .tiles
                .as_mut()
                .filter(|_| !hide)
                .map(|tiles| tile_health::Watched { inner: tiles, frame: &mut frame_tiles });
            let tiles = watched.as_mut().map(|tiles| tiles as &mut dyn Tiles);
            // The plain wheel is handled by `handle_wheel` (zoom at the pointer); walkers keeps
            // Ctrl+wheel and pinch zoom, and its wheel panning is off.
            let mut map = Map::new(tiles, &mut self.memory, self.home)
                .double_click_to_zoom(self.double_click_zoom)
                .panning(false);
            for (_, tiles, opacity) in &mut self.imagery {
                map = map.with_layer(tiles, *opacity);
            }
            for overlay in overlays {
                map = map.with_plugin(Overlay(overlay));
            }

            let world = &self.world;
            let world_painter = &mut self.world_painter;
            let paint_world = |_ui: &mut Ui, response: &Response, projector: &Projector, _: &MapMemory| {
                world_painter.paint(world, &painter, slots, projector, dark_mode);
                let on_world = |at: &Position| at.x().abs() <= 180.0 && at.y().abs() <= MAX_LATITUDE;
                response.hover_pos().map(|pos| projector.unproject(pos.to_vec2())).filter(on_world)
            };
            map.show(ui, paint_world)
        };
        match &self.tiles {
            Some(tiles) => {
                frame_tiles.in_progress = tiles.stats().in_progress;
                let failing_before = self.tile_health.failing();
                let now = ui.input(|input| input.time);
                if self.tile_health.observe(now, frame_tiles) != failing_before {
                    tracing::warn!("basemap tiles failing: {}", self.tile_health.failing());
                }
                if frame_tiles.requested > 0 && frame_tiles.shown == 0 {
                    // Keep judging while nothing arrives (failed tiles request no repaint).
                    ui.ctx().request_repaint_after(std::time::Duration::from_millis(500));
                }
            }
            None => self.tile_health.reset(),
        }

        self.cursor = cursor;
        self.last_rect = Some(response.rect);
        if response.dragged() {
            self.flight = None;
        }
        self.handle_wheel(ui, &response);
        self.handle_keys(ui, &response);
        let response = response.accessible_name(t!("map.map"));
        self.controls(ui, response.rect);
        self.goto_ui(ui, response.rect);
        response
    }

    /// Whether the basemap's web tiles are failing to load (offline, blocked, HTTP errors): the
    /// map has been asking for tiles and got none for a while. The map then says so over itself.
    pub fn tiles_failing(&self) -> bool {
        self.tile_health.failing()
    }

    /// Centres and zooms so that the lon/lat bbox `[w, s, e, n]` fits the last drawn map rect
    /// (a default size before the first frame). A bbox with `e < w` crosses the antimeridian.
    pub fn zoom_to_bbox(&mut self, bbox: [f64; 4]) {
        if let Some((center, zoom)) = self.fit(bbox) {
            self.flight = None;
            self.memory.center_at(center);
            if let Err(err) = self.memory.set_zoom(zoom) {
                tracing::warn!("zoom {zoom} rejected while fitting {bbox:?}: {err}");
            }
        }
    }

    /// The centre and zoom at which the lon/lat bbox `[w, s, e, n]` fits the last drawn map
    /// rect; `None` for a bbox with a non-finite coordinate.
    fn fit(&self, bbox: [f64; 4]) -> Option<(Position, f64)> {
        let [west, south, east, north] = bbox;
        if !bbox.iter().all(|value| value.is_finite()) {
            tracing::warn!("not zooming to a bbox with a non-finite coordinate: {bbox:?}");
            return None;
        }
        let east = if east < west { east + 360.0 } else { east };
        let (south, north) = (south.min(north), south.max(north));

        let north_west = mercator::lon_lat_to_normalized(west, north);
        let south_east = mercator::lon_lat_to_normalized(east, south);
        let width = (south_east[0] - north_west[0]).max(1e-12);
        let height = (south_east[1] - north_west[1]).max(1e-12);

        let size = self.last_rect.map_or(vec2(800.0, 600.0), |rect| rect.size());
        let fit_x = f64::from(size.x) * FIT_FILL / (width * WORLD_SIZE_AT_ZOOM_0);
        let fit_y = f64::from(size.y) * FIT_FILL / (height * WORLD_SIZE_AT_ZOOM_0);
        let zoom = fit_x.min(fit_y).log2().clamp(MIN_ZOOM, FIT_MAX_ZOOM);

        let center = [((north_west[0] + south_east[0]) / 2.0).rem_euclid(1.0), (north_west[1] + south_east[1]) / 2.0];
        let (lon, lat) = mercator::normalized_to_lon_lat(center);
        Some((lon_lat(lon, lat), zoom))
    }

    /// Sets the imagery layers drawn over the basemap: `(URL template, opacity)`, bottom first.
    /// Layers already shown keep their tiles; only new URLs start a tile loader. Offline
    /// (`online == false`) nothing is loaded. A template that does not parse is skipped.
    pub fn set_imagery(&mut self, ctx: &egui::Context, wanted: &[(String, f32)]) {
        if !self.online {
            return;
        }
        let same = self.imagery.len() == wanted.len()
            && self.imagery.iter().zip(wanted).all(|((url, _, _), (want, _))| url == want);
        if same {
            for ((_, _, opacity), (_, want)) in self.imagery.iter_mut().zip(wanted) {
                *opacity = *want;
            }
            return;
        }
        let mut old = std::mem::take(&mut self.imagery);
        for (url, opacity) in wanted {
            if let Some(i) = old.iter().position(|(u, _, _)| u == url) {
                let (u, tiles, _) = old.remove(i);
                self.imagery.push((u, tiles, *opacity));
                continue;
            }
            match TemplateSource::parse(url, &t!("map.attribution_custom")) {
                Ok(source) => {
                    let tiles = HttpTiles::with_options(source, http_options(), ctx.clone());
                    self.imagery.push((url.clone(), tiles, *opacity));
                }
                Err(message) => tracing::warn!("imagery layer {url} skipped: {message}"),
            }
        }
    }

    /// Tells the map whether the session is the sandbox: `Some(template)` with the sandbox's
    /// imagery tile template (a provider's preview URL), `None` when the session is not the
    /// sandbox. Call it every frame once the session is known; only changes do anything.
    ///
    /// Entering the sandbox makes [`Basemap::SandboxImagery`] the basemap in place of the
    /// default OpenStreetMap (a basemap the user picked otherwise stays); leaving it while that
    /// basemap is shown falls back to OpenStreetMap, and coming back restores it.
    pub fn set_sandbox_imagery(&mut self, ctx: &egui::Context, template: Option<String>) {
        if self.sandbox_known && template == self.sandbox_template {
            return;
        }
        self.sandbox_known = true;
        let entering = self.sandbox_template.is_none();
        self.sandbox_template = template;
        let custom_url = self.custom_url.clone();
        match (&self.sandbox_template, &self.basemap) {
            (Some(_), Basemap::SandboxImagery) => self.rebuild_tiles(ctx),
            (Some(_), Basemap::OpenStreetMap) if entering => {
                self.set_basemap(ctx, Basemap::SandboxImagery, custom_url);
            }
            (None, Basemap::SandboxImagery) => self.set_basemap(ctx, Basemap::OpenStreetMap, custom_url),
            _ => {}
        }
    }

    /// The sandbox's imagery tile template, while the session is the sandbox.
    pub fn sandbox_imagery(&self) -> Option<&str> {
        self.sandbox_template.as_deref()
    }

    fn rebuild_tiles(&mut self, ctx: &egui::Context) {
        self.tiles = None;
        self.tiles_error = None;
        self.tile_health.reset();
        let source = match self.basemap {
            Basemap::OpenStreetMap => TemplateSource::parse(OSM_TEMPLATE, &t!("map.attribution_osm")),
            Basemap::EsriWorldImagery => TemplateSource::parse(ESRI_TEMPLATE, &t!("map.attribution_esri")),
            Basemap::Custom => TemplateSource::parse(&self.custom_url, &t!("map.attribution_custom")),
            Basemap::SandboxImagery => match &self.sandbox_template {
                Some(template) => TemplateSource::parse(template, &t!("navigation.attribution_sandbox")),
                // Not known yet (the sandbox is starting): only the offline world until it is.
                None => return,
            },
            Basemap::OfflineOnly => return,
        };
        match source {
            Ok(source) => {
                if self.online {
                    self.tiles = Some(HttpTiles::with_options(source, http_options(), ctx.clone()));
                }
            }
            Err(message) => {
                tracing::warn!("basemap {:?} has no tiles: {message}", self.basemap);
                self.tiles_error = Some(message);
            }
        }
    }

    /// Zoom and "Go to…" buttons (top left), attribution (bottom right), cursor position with
    /// the scale bar and zoom level above it (bottom left), and the notice that tiles do not load
    /// (top centre), added after the map so they are hit-tested before it.
    fn controls(&mut self, ui: &mut Ui, rect: Rect) {
        let inner = rect.shrink(8.0);
        let panel = egui::Frame::new()
            .fill(ui.visuals().window_fill.gamma_multiply(0.85))
            .corner_radius(4)
            .inner_margin(Margin::symmetric(6, 2));

        let mut zoom_ui = ui.new_child(
            UiBuilder::new().id_salt("map_zoom_buttons").max_rect(inner).layout(Layout::top_down(Align::Min)),
        );
        zoom_ui.spacing_mut().item_spacing.y = 4.0;
        let zoom = self.memory.zoom();
        let button_size = vec2(28.0, 28.0);
        // Opaque and outlined like a window, so the buttons stand out on land, sea and imagery.
        let fill = zoom_ui.visuals().window_fill;
        let stroke = zoom_ui.visuals().window_stroke;
        let zoom_in = zoom_ui
            .add_enabled(
                zoom < MAX_ZOOM,
                Button::new(RichText::new("+").size(18.0)).min_size(button_size).fill(fill).stroke(stroke),
            )
            .accessible_name(t!("map.zoom_in"))
            .on_hover_text(t!("map.zoom_in"));
        if zoom_in.clicked() {
            self.zoom_by(1.0);
        }
        let zoom_out = zoom_ui
            .add_enabled(
                zoom > MIN_ZOOM,
                Button::new(RichText::new("−").size(18.0)).min_size(button_size).fill(fill).stroke(stroke),
            )
            .accessible_name(t!("map.zoom_out"))
            .on_hover_text(t!("map.zoom_out"));
        if zoom_out.clicked() {
            self.zoom_by(-1.0);
        }
        let goto = zoom_ui
            .add(Button::new(RichText::new("🔍").size(15.0)).min_size(button_size).fill(fill).stroke(stroke))
            .accessible_name(t!("navigation.goto"))
            .on_hover_text(t!("navigation.goto_shortcut"));
        if goto.clicked() {
            self.open_goto();
        }

        // Right to left: the last credit added is the leftmost.
        let mut attribution_ui = ui.new_child(
            UiBuilder::new().id_salt("map_attribution").max_rect(rect).layout(Layout::right_to_left(Align::Max)),
        );
        let credits = panel.show(&mut attribution_ui, |ui| {
            ui.spacing_mut().item_spacing.x = 8.0;
            ui.hyperlink_to(
                RichText::new(t!("map.attribution_natural_earth")).small(),
                "https://www.naturalearthdata.com/",
            );
            // No credit for tiles that cannot be shown (an invalid custom template).
            if let Some((text, url)) = self.basemap.attribution()
                && self.tiles_error.is_none()
            {
                if url.is_empty() {
                    ui.label(RichText::new(text).small());
                } else {
                    ui.hyperlink_to(RichText::new(text).small(), url);
                }
            }
        });

        // Bottom up: the cursor position (or room for it), then the scale bar and zoom level;
        // above the credits when both do not fit on one line.
        let credits = credits.response.rect;
        let corner = if self.readout_width + credits.width() + 16.0 > rect.width() {
            rect.with_max_y(credits.top() - 2.0)
        } else {
            rect
        };
        let mut corner_ui =
            ui.new_child(UiBuilder::new().id_salt("map_cursor").max_rect(corner).layout(Layout::bottom_up(Align::Min)));
        corner_ui.spacing_mut().item_spacing.y = 2.0;
        match self.cursor {
            Some(cursor) => {
                let readout = panel.show(&mut corner_ui, |ui| {
                    ui.label(
                        RichText::new(format_position(cursor)).small().monospace().color(ui.visuals().text_color()),
                    );
                });
                self.readout_height = readout.response.rect.height();
                self.readout_width = readout.response.rect.width();
            }
            None => {
                corner_ui.allocate_space(vec2(0.0, self.readout_height));
            }
        }
        panel.show(&mut corner_ui, |ui| {
            ui.horizontal(|ui| self.scale_ui(ui));
        });

        if self.tile_health.failing() {
            let mut notice_ui = ui.new_child(
                UiBuilder::new().id_salt("map_tiles_failing").max_rect(inner).layout(Layout::top_down(Align::Center)),
            );
            egui::Frame::new()
                .fill(notice_ui.visuals().window_fill)
                .stroke(Stroke::new(1.0, notice_ui.visuals().warn_fg_color))
                .corner_radius(4)
                .inner_margin(Margin::symmetric(10, 4))
                .show(&mut notice_ui, |ui| {
                    ui.label(RichText::new(t!("navigation.tiles_failing")).color(ui.visuals().warn_fg_color));
                });
        }
    }

    /// The scale bar (a round length fitting about 100 points at the centre's latitude) and the
    /// zoom level.
    fn scale_ui(&self, ui: &mut Ui) {
        let zoom = self.memory.zoom();
        let (meters, points) = scale_bar(meters_per_point(self.center().y(), zoom), 100.0);
        let color = ui.visuals().text_color();
        let (bar, _) = ui.allocate_exact_size(vec2(points.max(1.0), 10.0), Sense::hover());
        let stroke = Stroke::new(1.5, color);
        let painter = ui.painter();
        painter.line_segment([bar.left_bottom(), bar.right_bottom()], stroke);
        painter.line_segment([bar.left_top(), bar.left_bottom()], stroke);
        painter.line_segment([bar.right_top(), bar.right_bottom()], stroke);
        ui.label(RichText::new(format_length(meters)).small().color(color)).on_hover_text(t!("navigation.scale"));
        ui.separator();
        let level = format!("{zoom:.1}");
        ui.label(RichText::new(t!("navigation.zoom_level", zoom = level)).small().monospace().color(color))
            .on_hover_text(t!("navigation.zoom_level_tooltip"));
    }

    /// Zooms by whole levels about the centre, staying within [`MIN_ZOOM`]..=[`MAX_ZOOM`].
    fn zoom_by(&mut self, levels: f64) {
        let zoom = (self.memory.zoom() + levels).clamp(MIN_ZOOM, MAX_ZOOM);
        if let Err(err) = self.memory.set_zoom(zoom) {
            tracing::warn!("zoom {zoom} rejected: {err}");
        }
    }
}

/// Lets the caller's boxed overlays go into `Map::with_plugin`, which takes them by value.
struct Overlay<'a>(Box<dyn Plugin + 'a>);

impl Plugin for Overlay<'_> {
    fn run(self: Box<Self>, ui: &mut Ui, response: &Response, projector: &Projector, map_memory: &MapMemory) {
        self.0.run(ui, response, projector, map_memory);
    }
}

/// A position as `55.75580° N, 37.61730° E`, latitude first as people read coordinates.
pub fn format_position(position: Position) -> String {
    let (lat, lon) = (position.y(), position.x());
    let north_south = if lat < 0.0 { t!("map.south") } else { t!("map.north") };
    let east_west = if lon < 0.0 { t!("map.west") } else { t!("map.east") };
    format!("{:.5}° {north_south}, {:.5}° {east_west}", lat.abs(), lon.abs())
}

/// Where downloaded tiles are cached between runs, under the user's cache directory.
pub fn tile_cache_dir() -> Option<PathBuf> {
    crate::app::project_dirs().map(|dirs| dirs.cache_dir().join("tiles"))
}

/// HTTP settings for every tile source: a disk cache (tile servers ask clients to honour their
/// cache headers) and a user agent naming the app.
fn http_options() -> HttpOptions {
    HttpOptions {
        cache: tile_cache_dir(),
        user_agent: Some(HeaderValue::from_static(USER_AGENT)),
        ..HttpOptions::default()
    }
}

/// The basemap chooser: a combo box and, for a custom basemap, the URL template with an Apply
/// button. An invalid template shows why and is not applied.
pub fn basemap_ui(ui: &mut Ui, view: &mut MapView) {
    let ctx = ui.ctx().clone();
    let before = view.chooser.choice.clone();
    egui::ComboBox::from_id_salt("basemap")
        .selected_text(view.chooser.choice.label())
        .show_ui(ui, |ui| {
            for basemap in Basemap::ALL {
                if basemap == Basemap::SandboxImagery && view.sandbox_template.is_none() {
                    continue;
                }
                let label = basemap.label();
                ui.selectable_value(&mut view.chooser.choice, basemap, label);
            }
        })
        .response
        // Its pane's "Basemap" heading stands beside it; the name is for screen readers and tests.
        .accessible_name(t!("map.basemap"));

    if view.chooser.choice != before {
        view.chooser.error = None;
        match view.chooser.choice.clone() {
            Basemap::Custom => {
                // A template typed earlier is used at once; otherwise wait for Apply.
                if TemplateSource::parse(&view.chooser.draft, "").is_ok() {
                    let draft = view.chooser.draft.clone();
                    view.set_basemap(&ctx, Basemap::Custom, draft);
                }
            }
            other => {
                let custom_url = view.custom_url.clone();
                view.set_basemap(&ctx, other, custom_url);
            }
        }
    }

    if view.chooser.choice == Basemap::Custom {
        ui.horizontal(|ui| {
            let label = ui.label(t!("map.custom_url"));
            let field = ui
                .add(
                    TextEdit::singleline(&mut view.chooser.draft)
                        .hint_text("https://…/{z}/{x}/{y}.png")
                        .desired_width(280.0),
                )
                .labelled_by(label.id);
            let entered = field.lost_focus() && ui.input(|input| input.key_pressed(Key::Enter));
            if ui.button(t!("map.apply")).clicked() || entered {
                match TemplateSource::parse(&view.chooser.draft, "") {
                    Ok(_) => {
                        view.chooser.error = None;
                        let draft = view.chooser.draft.clone();
                        view.set_basemap(&ctx, Basemap::Custom, draft);
                    }
                    Err(message) => view.chooser.error = Some(message),
                }
            }
        });
    }

    let error = view.chooser.error.as_deref().or(view.tiles_error.as_deref());
    if let Some(error) = error {
        let color = ui.visuals().error_fg_color;
        ui.label(RichText::new(error).color(color));
    }
}

/// What [`MapView::set_sandbox_imagery`] should be told about the app's session: `None` while
/// that is not known yet (no session, or the sandbox's status not loaded), `Some(None)` when the
/// session is not the sandbox, `Some(Some(template))` in the sandbox, the template being the
/// preview URL of its first imagery provider.
pub fn sandbox_imagery_template(state: &crate::app::AppState) -> Option<Option<String>> {
    let session = state.session.as_ref()?;
    if session.kind != crate::worker::SessionKind::Sandbox {
        return Some(None);
    }
    let status = state.status.value()?;
    let template = status.data_providers.iter().find_map(|provider| provider.preview_url.clone())?;
    Some(Some(template))
}
