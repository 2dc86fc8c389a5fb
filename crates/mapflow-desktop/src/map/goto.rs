//! What the "Go to…" box understands, as plain data: coordinates in the forms people paste
//! (decimal degrees, degrees-minutes-seconds, hemisphere letters) and lon/lat bboxes. Anything
//! that is not coordinates is a place name for the gazetteer. No egui here, so every form is
//! unit-tested.
//!
//! Accepted:
//! - `lat, lon` or `lat lon` in decimal degrees: `55.75, 37.62`, `-33.86 151.21`;
//! - with hemisphere letters before or after each value, in either order: `55.75N 37.62E`,
//!   `N55.75 E37.62`, `37.62E 55.75N` (the letters, not the order, say which is which);
//! - degrees, minutes and seconds, with marks (`55°45′07″N 37°37′12″E`, ASCII `'` and `"` too)
//!   or as space-separated numbers (`55 45 07 N, 37 37 12 E`, `55 45.1, 37 37.2`);
//! - four numbers `w, s, e, n` (or space-separated): a bbox to zoom to; `e < w` crosses the
//!   antimeridian.
//!
//! Without letters, two values are latitude then longitude, as people read coordinates (and
//! as web maps print them); four bare numbers are always a bbox, never two degree-minute pairs.

/// Where the input asks to go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    /// A point, in degrees.
    Point { lat: f64, lon: f64 },
    /// A lon/lat bbox `[w, s, e, n]`.
    Bbox([f64; 4]),
}

/// Why the input is not coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum ParseError {
    /// Nothing but blanks.
    Empty,
    /// The input is not written as coordinates at all: look it up as a place name.
    NotCoordinates,
    /// Numbers (and marks) that do not make a point or a bbox: wrong count, misplaced marks,
    /// a sign together with a hemisphere letter.
    Malformed,
    /// A latitude beyond ±90°.
    LatitudeOutOfRange(f64),
    /// A longitude beyond ±180°.
    LongitudeOutOfRange(f64),
    /// Minutes or seconds of 60 or more, or negative.
    MinutesOrSecondsOutOfRange(f64),
    /// Both values are latitudes (`N`/`S`), or both longitudes (`E`/`W`).
    SameAxisTwice,
}

/// Parses the input of the "Go to…" box. `Err(NotCoordinates)` means "a place name".
pub fn parse(input: &str) -> Result<Target, ParseError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ParseError::Empty);
    }
    let tokens = tokenize(input)?;
    if !tokens.iter().any(|token| matches!(token, Token::Number { .. })) {
        return Err(ParseError::NotCoordinates);
    }
    let components = group(&tokens)?;

    let bare_numbers = components.iter().all(|c| c.hemisphere.is_none() && c.parts.iter().all(|p| p.1.is_none()));
    if components.len() == 4 && bare_numbers && components.iter().all(|c| c.parts.len() == 1) {
        return bbox([
            components[0].parts[0].0,
            components[1].parts[0].0,
            components[2].parts[0].0,
            components[3].parts[0].0,
        ]);
    }
    if components.len() != 2 {
        return Err(ParseError::Malformed);
    }
    point(&components[0], &components[1])
}

/// A hemisphere letter: which axis it names and whether it makes the value negative.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hemisphere {
    North,
    South,
    East,
    West,
}

impl Hemisphere {
    fn is_latitude(self) -> bool {
        matches!(self, Self::North | Self::South)
    }

    fn is_negative(self) -> bool {
        matches!(self, Self::South | Self::West)
    }
}

/// Degree, minute and second marks.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
enum Mark {
    Degrees,
    Minutes,
    Seconds,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    Number {
        value: f64,
        negative: bool,
        explicit_sign: bool,
        fraction: bool,
    },
    Mark(Mark),
    Hemisphere(Hemisphere),
    /// A comma or semicolon: ends a value.
    Separator,
}

fn tokenize(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' | ';' => {
                tokens.push(Token::Separator);
                i += 1;
            }
            '°' | 'º' | '˚' => {
                tokens.push(Token::Mark(Mark::Degrees));
                i += 1;
            }
            '′' | '’' | '‘' | '´' | '`' => {
                tokens.push(Token::Mark(Mark::Minutes));
                i += 1;
            }
            '\'' => {
                // Two ASCII apostrophes are a seconds mark, as some people type it.
                if chars.get(i + 1) == Some(&'\'') {
                    tokens.push(Token::Mark(Mark::Seconds));
                    i += 2;
                } else {
                    tokens.push(Token::Mark(Mark::Minutes));
                    i += 1;
                }
            }
            '″' | '"' | '”' | '“' => {
                tokens.push(Token::Mark(Mark::Seconds));
                i += 1;
            }
            '+' | '-' | '−' | '.' | '0'..='9' => {
                let (token, next) = number(&chars, i).ok_or(ParseError::NotCoordinates)?;
                tokens.push(token);
                i = next;
            }
            c if c.is_alphabetic() => {
                let start = i;
                while i < chars.len() && chars[i].is_alphabetic() {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let hemisphere = match word.to_lowercase().as_str() {
                    "n" => Hemisphere::North,
                    "s" => Hemisphere::South,
                    "e" => Hemisphere::East,
                    "w" => Hemisphere::West,
                    _ => return Err(ParseError::NotCoordinates),
                };
                tokens.push(Token::Hemisphere(hemisphere));
            }
            _ => return Err(ParseError::NotCoordinates),
        }
    }
    Ok(tokens)
}

/// A number starting at `chars[start]`: an optional sign, digits, an optional decimal point.
fn number(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start;
    let mut negative = false;
    let mut explicit_sign = false;
    if matches!(chars[i], '+' | '-' | '−') {
        negative = chars[i] != '+';
        explicit_sign = true;
        i += 1;
    }
    let digits_start = i;
    let mut text = String::new();
    let mut fraction = false;
    while i < chars.len() && (chars[i].is_ascii_digit() || (chars[i] == '.' && !fraction)) {
        fraction |= chars[i] == '.';
        text.push(chars[i]);
        i += 1;
    }
    // `1.2.3` is not a number (nor two).
    if i == digits_start || !text.chars().any(|c| c.is_ascii_digit()) || chars.get(i) == Some(&'.') {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    Some((Token::Number { value: if negative { -value } else { value }, negative, explicit_sign, fraction }, i))
}

/// One coordinate value as written: up to three numbers, each with the mark it carries (if any),
/// and the hemisphere letter next to it.
#[derive(Debug, Default)]
struct Component {
    /// (value with its sign, mark, has a fractional part)
    parts: Vec<(f64, Option<Mark>, bool)>,
    hemisphere: Option<Hemisphere>,
    /// Whether the first number carried a sign.
    signed: bool,
}

impl Component {
    fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// Splits the tokens into values. Letters decide where one value ends (after the letter when
/// letters follow the numbers, before it when they lead); so do separators and a degree mark
/// starting a second value. Without any of those, bare numbers are split by count: 2 are a point,
/// 4 a bbox, 6 two degree-minute-second values.
fn group(tokens: &[Token]) -> Result<Vec<Component>, ParseError> {
    let letters_lead = matches!(tokens.first(), Some(Token::Hemisphere(_)));
    let has_letters = tokens.iter().any(|t| matches!(t, Token::Hemisphere(_)));
    let has_structure =
        has_letters || tokens.iter().any(|t| matches!(t, Token::Separator | Token::Mark(Mark::Degrees)));

    if !has_structure {
        let numbers: Vec<(f64, bool, bool)> = tokens
            .iter()
            .filter_map(|t| match t {
                Token::Number { value, explicit_sign, fraction, .. } => Some((*value, *explicit_sign, *fraction)),
                _ => None,
            })
            .collect();
        if tokens.iter().any(|t| matches!(t, Token::Mark(_))) {
            return Err(ParseError::Malformed);
        }
        let per_value = match numbers.len() {
            2 | 4 => 1,
            6 => 3,
            _ => return Err(ParseError::Malformed),
        };
        return Ok(numbers
            .chunks(per_value)
            .map(|chunk| Component {
                parts: chunk.iter().map(|(v, _, f)| (*v, None, *f)).collect(),
                hemisphere: None,
                signed: chunk[0].1,
            })
            .collect());
    }

    let mut components = Vec::new();
    let mut current = Component::default();
    let close = |current: &mut Component, components: &mut Vec<Component>| {
        if !current.is_empty() {
            components.push(std::mem::take(current));
        }
    };
    for (index, token) in tokens.iter().enumerate() {
        match *token {
            Token::Separator => {
                if current.is_empty() && current.hemisphere.is_some() {
                    return Err(ParseError::Malformed);
                }
                close(&mut current, &mut components);
            }
            Token::Hemisphere(hemisphere) => {
                if letters_lead {
                    if current.hemisphere.is_some() && current.is_empty() {
                        return Err(ParseError::Malformed);
                    }
                    close(&mut current, &mut components);
                    current.hemisphere = Some(hemisphere);
                } else {
                    if current.is_empty() {
                        return Err(ParseError::Malformed);
                    }
                    current.hemisphere = Some(hemisphere);
                    close(&mut current, &mut components);
                }
            }
            Token::Number { value, explicit_sign, fraction, .. } => {
                // A number right after degrees already written, with a degree mark to come,
                // starts the next value: `55°45′ 37°37′`.
                let degrees_follow = tokens.get(index + 1) == Some(&Token::Mark(Mark::Degrees));
                if degrees_follow && current.parts.iter().any(|p| p.1 == Some(Mark::Degrees)) {
                    close(&mut current, &mut components);
                }
                if current.is_empty() {
                    current.signed = explicit_sign;
                } else if explicit_sign {
                    return Err(ParseError::Malformed);
                }
                current.parts.push((value, None, fraction));
            }
            Token::Mark(mark) => {
                let Some(last) = current.parts.last_mut() else {
                    return Err(ParseError::Malformed);
                };
                if last.1.is_some() {
                    return Err(ParseError::Malformed);
                }
                last.1 = Some(mark);
            }
        }
    }
    if current.hemisphere.is_some() && current.is_empty() {
        return Err(ParseError::Malformed);
    }
    close(&mut current, &mut components);
    Ok(components)
}

/// Degrees of one value: D, D M or D M S, marks (where written) in that order, minutes and
/// seconds below 60, only the last number with a fraction. The sign comes from the degrees or
/// the hemisphere letter, not both.
fn degrees(component: &Component) -> Result<f64, ParseError> {
    let parts = &component.parts;
    if parts.is_empty() || parts.len() > 3 {
        return Err(ParseError::Malformed);
    }
    let mut total = 0.0;
    let mut previous: Option<Mark> = None;
    for (index, (value, mark, fraction)) in parts.iter().enumerate() {
        let mark = mark.unwrap_or(match index {
            0 => Mark::Degrees,
            1 => Mark::Minutes,
            _ => Mark::Seconds,
        });
        if previous.is_some_and(|p| p >= mark) || (index == 0 && mark != Mark::Degrees) {
            return Err(ParseError::Malformed);
        }
        if *fraction && index + 1 < parts.len() {
            return Err(ParseError::Malformed);
        }
        previous = Some(mark);
        match mark {
            Mark::Degrees => total += value.abs(),
            Mark::Minutes | Mark::Seconds => {
                if *value < 0.0 || *value >= 60.0 {
                    return Err(ParseError::MinutesOrSecondsOutOfRange(*value));
                }
                total += value / if mark == Mark::Minutes { 60.0 } else { 3600.0 };
            }
        }
    }
    let negative_number = parts[0].0 < 0.0 || (parts[0].0 == 0.0 && parts[0].0.is_sign_negative());
    match component.hemisphere {
        Some(_) if component.signed => Err(ParseError::Malformed),
        Some(hemisphere) if hemisphere.is_negative() => Ok(-total),
        Some(_) => Ok(total),
        None if negative_number => Ok(-total),
        None => Ok(total),
    }
}

fn point(first: &Component, second: &Component) -> Result<Target, ParseError> {
    let first_value = degrees(first)?;
    let second_value = degrees(second)?;
    let first_is_lat = first.hemisphere.map(Hemisphere::is_latitude);
    let second_is_lat = second.hemisphere.map(Hemisphere::is_latitude);
    let (lat, lon) = match (first_is_lat, second_is_lat) {
        (Some(a), Some(b)) if a == b => return Err(ParseError::SameAxisTwice),
        (Some(false), _) | (None, Some(true)) => (second_value, first_value),
        _ => (first_value, second_value),
    };
    check_lat(lat)?;
    check_lon(lon)?;
    Ok(Target::Point { lat, lon })
}

fn bbox([west, south, east, north]: [f64; 4]) -> Result<Target, ParseError> {
    check_lon(west)?;
    check_lat(south)?;
    check_lon(east)?;
    check_lat(north)?;
    if south > north {
        return Err(ParseError::Malformed);
    }
    Ok(Target::Bbox([west, south, east, north]))
}

fn check_lat(lat: f64) -> Result<(), ParseError> {
    if lat.abs() <= 90.0 { Ok(()) } else { Err(ParseError::LatitudeOutOfRange(lat)) }
}

fn check_lon(lon: f64) -> Result<(), ParseError> {
    if lon.abs() <= 180.0 { Ok(()) } else { Err(ParseError::LongitudeOutOfRange(lon)) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn point_of(input: &str) -> (f64, f64) {
        match parse(input) {
            Ok(Target::Point { lat, lon }) => (lat, lon),
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    fn assert_point(input: &str, lat: f64, lon: f64) {
        let (got_lat, got_lon) = point_of(input);
        assert!((got_lat - lat).abs() < 1e-4 && (got_lon - lon).abs() < 1e-4, "{input:?} gave {got_lat}, {got_lon}");
    }

    // 55°45′07″ = 55.751944…, 37°37′12″ = 37.62
    const MOSCOW_LAT: f64 = 55.0 + 45.0 / 60.0 + 7.0 / 3600.0;
    const MOSCOW_LON: f64 = 37.62;

    #[test]
    fn decimal_pairs() {
        assert_point("55.75, 37.62", 55.75, 37.62);
        assert_point("55.75 37.62", 55.75, 37.62);
        assert_point("  55.75,37.62  ", 55.75, 37.62);
        assert_point("55.75; 37.62", 55.75, 37.62);
        assert_point("-33.8688, 151.2093", -33.8688, 151.2093);
        assert_point("40.7128 −74.0060", 40.7128, -74.006);
        assert_point("+10, -20", 10.0, -20.0);
        assert_point("0 0", 0.0, 0.0);
        assert_point("90, 180", 90.0, 180.0);
        assert_point("-90, -180", -90.0, -180.0);
        assert_point(".5, 1.", 0.5, 1.0);
    }

    #[test]
    fn hemisphere_letters_after_or_before() {
        assert_point("55.75N 37.62E", 55.75, 37.62);
        assert_point("55.75 N, 37.62 E", 55.75, 37.62);
        assert_point("55.75n 37.62e", 55.75, 37.62);
        assert_point("N55.75 E37.62", 55.75, 37.62);
        assert_point("N 55.75, E 37.62", 55.75, 37.62);
        assert_point("33.87S 151.21E", -33.87, 151.21);
        assert_point("40.71N 74.01W", 40.71, -74.01);
        assert_point("55.75N37.62E", 55.75, 37.62);
    }

    #[test]
    fn letters_decide_the_order() {
        assert_point("37.62E 55.75N", 55.75, 37.62);
        assert_point("E37.62 N55.75", 55.75, 37.62);
        assert_point("74.01W, 40.71N", 40.71, -74.01);
        // One letter is enough to tell which is which, when it ends the first value.
        assert_point("37.62E 55.75", 55.75, 37.62);
        assert_point("55.75, 37.62E", 55.75, 37.62);
    }

    #[test]
    fn degrees_minutes_seconds() {
        assert_point("55°45′07″N 37°37′12″E", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55°45'07\"N 37°37'12\"E", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55°45'07''N, 37°37'12''E", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55 45 07 N, 37 37 12 E", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55 45 07 N 37 37 12 E", MOSCOW_LAT, MOSCOW_LON);
        assert_point("N55°45′07″ E37°37′12″", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55°45′07″ 37°37′12″", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55 45 07, 37 37 12", MOSCOW_LAT, MOSCOW_LON);
        assert_point("55 45 07 37 37 12", MOSCOW_LAT, MOSCOW_LON);
        assert_point("37°37′12″E 55°45′07″N", MOSCOW_LAT, MOSCOW_LON);
        assert_point("33°52′S 151°12′E", -(33.0 + 52.0 / 60.0), 151.2);
        assert_point("-33°52′, 151°12′", -(33.0 + 52.0 / 60.0), 151.2);
        // Decimal minutes, and decimal seconds.
        assert_point("55 45.5, 37 37.2", 55.0 + 45.5 / 60.0, 37.62);
        assert_point("55°45′7.5″N 37°37′12″E", 55.0 + 45.0 / 60.0 + 7.5 / 3600.0, 37.62);
        // Degrees with a degree mark only.
        assert_point("55.75° N, 37.62° E", 55.75, 37.62);
    }

    #[test]
    fn bboxes() {
        assert_eq!(parse("35.1, 54.2, 40.2, 56.9"), Ok(Target::Bbox([35.1, 54.2, 40.2, 56.9])));
        assert_eq!(parse("35.1 54.2 40.2 56.9"), Ok(Target::Bbox([35.1, 54.2, 40.2, 56.9])));
        assert_eq!(parse("-180,-90,180,90"), Ok(Target::Bbox([-180.0, -90.0, 180.0, 90.0])));
        // Across the antimeridian: east < west is allowed.
        assert_eq!(parse("177, -19, -178, -16"), Ok(Target::Bbox([177.0, -19.0, -178.0, -16.0])));
        // South above north is not a bbox.
        assert_eq!(parse("35, 57, 40, 54"), Err(ParseError::Malformed));
        assert_eq!(parse("35, 54, 190, 56"), Err(ParseError::LongitudeOutOfRange(190.0)));
        assert_eq!(parse("35, -95, 40, 56"), Err(ParseError::LatitudeOutOfRange(-95.0)));
    }

    #[test]
    fn out_of_range() {
        assert_eq!(parse("95.0, 37.6"), Err(ParseError::LatitudeOutOfRange(95.0)));
        assert_eq!(parse("-90.5 0"), Err(ParseError::LatitudeOutOfRange(-90.5)));
        assert_eq!(parse("55.75, 181"), Err(ParseError::LongitudeOutOfRange(181.0)));
        assert_eq!(parse("95N 37E"), Err(ParseError::LatitudeOutOfRange(95.0)));
        assert_eq!(parse("37E 95N"), Err(ParseError::LatitudeOutOfRange(95.0)));
        assert_eq!(parse("55N 200W"), Err(ParseError::LongitudeOutOfRange(-200.0)));
        // Longitude first without letters reads as a latitude beyond 90.
        assert_eq!(parse("137.6, 55.75"), Err(ParseError::LatitudeOutOfRange(137.6)));
        assert_eq!(parse("55 60 00, 37 37 12"), Err(ParseError::MinutesOrSecondsOutOfRange(60.0)));
        assert_eq!(parse("55°45′75″N 37°37′12″E"), Err(ParseError::MinutesOrSecondsOutOfRange(75.0)));
    }

    #[test]
    fn ambiguous_or_malformed() {
        assert_eq!(parse("55.75N 37.62N"), Err(ParseError::SameAxisTwice));
        assert_eq!(parse("37.62E 55.75W"), Err(ParseError::SameAxisTwice));
        for input in [
            "55.75",
            "55.75, 37.62, 10",
            "1 2 3 4 5",
            "1, 2, 3, 4, 5",
            "-55.75S 37.62E",
            "55.75 N E",
            "N, 55 E 37",
            "55°45°, 37",
            "′55 37",
            "55.5 30, 37",
            "55 -30, 37",
            "55″45′ 37",
            "55'',",
            // With letters after the values, numbers before a letter are one value: here
            // 55.75° 37.62′, which is not degrees and minutes (a fraction before the minutes).
            "55.75 37.62E",
        ] {
            let result = parse(input);
            assert!(
                matches!(result, Err(ParseError::Malformed | ParseError::SameAxisTwice)),
                "{input:?} gave {result:?}"
            );
        }
    }

    #[test]
    fn words_are_place_names() {
        assert_eq!(parse(""), Err(ParseError::Empty));
        assert_eq!(parse("   "), Err(ParseError::Empty));
        for input in ["Moscow", "Москва", "New York", "Route 66", "E", "N S", "São Paulo", "55.75 Moscow", "1.2.3"]
        {
            assert_eq!(parse(input), Err(ParseError::NotCoordinates), "{input:?}");
        }
    }
}
