//! The "Go to…" window: one text field, a list of suggestions (places from the gazetteer, or
//! the coordinates or bbox typed), Enter or a click to fly there. Opened by the button under the
//! zoom buttons or Ctrl+G; Escape closes it.

use egui::{Align2, Id, Key, Modifiers, Rect, RichText, TextEdit, Ui, vec2};
use rust_i18n::t;
use walkers::lon_lat;

use super::MapView;
use super::gazetteer::{Gazetteer, Place};
use super::goto::{self, ParseError, Target};

/// Zoom a flight to typed coordinates ends at: streets and buildings.
const POINT_ZOOM: f64 = 14.0;

/// One line of the list.
#[derive(Clone, Debug, PartialEq)]
enum Suggestion {
    Place(Place),
    Target(Target),
}

impl Suggestion {
    fn text(&self) -> String {
        match self {
            Self::Place(place) => {
                format!("{}, {} · {}", place.name, place.country, format_population(place.population))
            }
            Self::Target(Target::Point { lat, lon }) => super::format_position(lon_lat(*lon, *lat)),
            Self::Target(Target::Bbox([west, south, east, north])) => {
                t!("navigation.goto_bbox", west = west, south = south, east = east, north = north).into_owned()
            }
        }
    }
}

/// The window's state, kept in the [`MapView`].
#[derive(Debug, Default)]
pub(super) struct GotoWindow {
    open: bool,
    text: String,
    /// The text `suggestions` and `problem` were worked out for; `None` to work them out again.
    computed_for: Option<String>,
    suggestions: Vec<Suggestion>,
    /// Why nothing is suggested, in the user's language.
    problem: Option<String>,
    /// The gazetteer is still loading.
    loading: bool,
    selected: usize,
    /// Focus the field on the next frame (just opened).
    focus_field: bool,
    /// Enter was pressed while the gazetteer was loading: go as soon as it has answered.
    submit_pending: bool,
}

impl GotoWindow {
    fn open(&mut self) {
        self.open = true;
        self.focus_field = true;
        Gazetteer::preload();
    }

    /// Works the suggestions out again when the text changed or the gazetteer has come in.
    fn refresh(&mut self) {
        let stale =
            self.computed_for.as_deref() != Some(self.text.as_str()) || (self.loading && Gazetteer::get().is_some());
        if !stale {
            return;
        }
        let text = self.text.trim().to_owned();
        self.suggestions.clear();
        self.problem = None;
        self.loading = false;
        self.selected = 0;
        match goto::parse(&text) {
            Ok(target) => self.suggestions.push(Suggestion::Target(target)),
            Err(ParseError::Empty) => {}
            Err(ParseError::NotCoordinates) => match Gazetteer::get() {
                Some(gazetteer) => {
                    self.suggestions = gazetteer.search(&text).into_iter().cloned().map(Suggestion::Place).collect();
                    if self.suggestions.is_empty() {
                        self.problem = Some(no_match(&text));
                    }
                }
                None => {
                    self.loading = true;
                    Gazetteer::preload();
                }
            },
            Err(error) => self.problem = Some(problem(&error, &text)),
        }
        self.computed_for = Some(self.text.clone());
    }
}

/// "No place or coordinates match …".
fn no_match(text: &str) -> String {
    t!("navigation.goto_no_match", query = text).into_owned()
}

/// Why typed numbers are no place to go to.
fn problem(error: &ParseError, text: &str) -> String {
    match error {
        ParseError::LatitudeOutOfRange(value) => t!("navigation.goto_latitude_range", value = value).into_owned(),
        ParseError::LongitudeOutOfRange(value) => t!("navigation.goto_longitude_range", value = value).into_owned(),
        ParseError::MinutesOrSecondsOutOfRange(value) => {
            t!("navigation.goto_minutes_range", value = value).into_owned()
        }
        ParseError::SameAxisTwice => t!("navigation.goto_same_axis").into_owned(),
        ParseError::Empty | ParseError::NotCoordinates | ParseError::Malformed => no_match(text),
    }
}

/// `10,381,222` in English, `10 381 222` in Russian.
fn format_population(population: u64) -> String {
    let digits = population.to_string();
    // Russian groups digits with a narrow no-break space.
    let separator = if &*rust_i18n::locale() == "ru" { "\u{202f}" } else { "," };
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(digit);
    }
    out
}

/// Zoom to show a city: bigger cities need a wider view.
fn place_zoom(place: &Place) -> f64 {
    match place.population {
        1_000_000.. => 10.0,
        100_000.. => 11.0,
        _ => 12.0,
    }
}

impl MapView {
    /// Opens the "Go to…" window (as the button and Ctrl+G do).
    pub fn open_goto(&mut self) {
        self.goto.open();
    }

    /// Whether the "Go to…" window is open.
    pub fn goto_open(&self) -> bool {
        self.goto.open
    }

    /// Flies to what `suggestion` names and closes the window.
    fn go(&mut self, suggestion: Suggestion) {
        match suggestion {
            Suggestion::Place(place) => {
                let zoom = place_zoom(&place);
                self.fly_to(lon_lat(place.lon, place.lat), zoom);
            }
            Suggestion::Target(Target::Point { lat, lon }) => self.fly_to(lon_lat(lon, lat), POINT_ZOOM),
            Suggestion::Target(Target::Bbox(bbox)) => self.fly_to_bbox(bbox),
        }
        self.goto = GotoWindow::default();
    }

    /// Ctrl+G, and the window itself while it is open, centred over the map `rect`.
    pub(super) fn goto_ui(&mut self, ui: &Ui, rect: Rect) {
        if ui.ctx().input_mut(|input| input.consume_key(Modifiers::COMMAND, Key::G)) {
            self.open_goto();
        }
        if !self.goto.open {
            return;
        }
        self.goto.refresh();
        if self.goto.loading {
            ui.ctx().request_repaint_after(std::time::Duration::from_millis(50));
        }

        let field_id = Id::unique("map_goto_field");
        let field_focused = ui.ctx().memory(|memory| memory.has_focus(field_id));
        let count = self.goto.suggestions.len();
        if field_focused && count > 0 {
            let (down, up) = ui.ctx().input_mut(|input| {
                (input.consume_key(Modifiers::NONE, Key::ArrowDown), input.consume_key(Modifiers::NONE, Key::ArrowUp))
            });
            if down {
                self.goto.selected = (self.goto.selected + 1) % count;
            }
            if up {
                self.goto.selected = (self.goto.selected + count - 1) % count;
            }
        }
        let escape = ui.ctx().input(|input| input.key_pressed(Key::Escape));

        let mut open = true;
        let mut chosen = None;
        let mut submit = false;
        let at = rect.center_top() + vec2(0.0, (rect.height() * 0.2).min(120.0));
        egui::Window::new(t!("navigation.goto_title"))
            .id(Id::unique("map_goto"))
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .pivot(Align2::CENTER_TOP)
            .fixed_pos(at)
            .show(ui.ctx(), |ui| {
                let goto = &mut self.goto;
                let label = ui.label(t!("navigation.goto_field"));
                let field = ui
                    .add(
                        TextEdit::singleline(&mut goto.text)
                            .id(field_id)
                            .hint_text(t!("navigation.goto_hint"))
                            .desired_width(340.0),
                    )
                    .labelled_by(label.id);
                if goto.focus_field {
                    field.request_focus();
                    goto.focus_field = false;
                }
                submit = field.lost_focus() && ui.input(|input| input.key_pressed(Key::Enter));
                if field.changed() {
                    goto.refresh();
                }

                for (index, suggestion) in goto.suggestions.iter().enumerate() {
                    if ui.selectable_label(index == goto.selected, suggestion.text()).clicked() {
                        chosen = Some(index);
                    }
                }
                if goto.loading {
                    ui.label(RichText::new(t!("navigation.goto_loading")).weak());
                }
                if let Some(problem) = &goto.problem {
                    ui.label(RichText::new(problem).color(ui.visuals().error_fg_color));
                }
            });

        if submit {
            self.goto.submit_pending = true;
        }
        if let Some(index) = chosen {
            self.goto.selected = index;
            self.goto.submit_pending = true;
        }
        if self.goto.submit_pending && !self.goto.loading {
            self.goto.submit_pending = false;
            match self.goto.suggestions.get(self.goto.selected).cloned() {
                Some(suggestion) => {
                    self.go(suggestion);
                    ui.ctx().request_repaint();
                    return;
                }
                // Nothing to go to: the problem is shown; keep typing.
                None => self.goto.focus_field = true,
            }
        }
        if !open || escape {
            // Closed: the next opening starts afresh.
            self.goto = GotoWindow::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populations_are_grouped_by_thousands() {
        assert_eq!(format_population(10_381_222), "10,381,222");
        assert_eq!(format_population(15_000), "15,000");
        assert_eq!(format_population(999), "999");
    }
}
