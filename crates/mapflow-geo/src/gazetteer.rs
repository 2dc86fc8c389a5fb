//! The offline gazetteer: about 34,000 GeoNames cities (population 15,000 or more) with their
//! English and Russian names, bundled with the app so "Go to…" finds places without a network.
//!
//! The asset (`assets/gazetteer.tsv.gz`, made by `scripts/make_gazetteer.py`) is compiled in and
//! decompressed and indexed once, on first use ([`Gazetteer::shared`]); that takes some tens of
//! milliseconds, so the UI starts it on a worker thread ([`Gazetteer::preload`]) and asks
//! [`Gazetteer::get`] without blocking.

use std::io::Read as _;
use std::sync::OnceLock;

const ASSET: &[u8] = include_bytes!("../../../assets/gazetteer.tsv.gz");

/// Suggestions offered for one query, at most.
pub const MAX_SUGGESTIONS: usize = 8;

/// One city.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The GeoNames name (often the local name in Latin letters, `Zürich`).
    pub name: String,
    /// ISO 3166 alpha-2, `RU`.
    pub country: String,
    pub lat: f64,
    pub lon: f64,
    pub population: u64,
}

/// The cities and, for each, the folded forms of all its names to match queries against.
#[derive(Debug, Default)]
pub struct Gazetteer {
    /// Sorted by population, largest first (the asset's order).
    places: Vec<Place>,
    /// `keys[i]`: the folded names of `places[i]`, the main name first.
    keys: Vec<Vec<String>>,
}

impl Gazetteer {
    /// The bundled gazetteer, loaded on the first call (blocking for that long).
    pub fn shared() -> &'static Self {
        Self::cell().get_or_init(|| {
            let started = std::time::Instant::now();
            let gazetteer = Self::load();
            tracing::debug!("gazetteer: {} places loaded in {:?}", gazetteer.len(), started.elapsed());
            gazetteer
        })
    }

    fn cell() -> &'static OnceLock<Self> {
        static CELL: OnceLock<Gazetteer> = OnceLock::new();
        &CELL
    }

    /// The gazetteer if it is loaded, without waiting.
    pub fn get() -> Option<&'static Self> {
        Self::cell().get()
    }

    /// Starts loading on a background thread (once), so the first query does not stall a frame.
    pub fn preload() {
        static STARTED: OnceLock<()> = OnceLock::new();
        STARTED.get_or_init(|| {
            let spawned = std::thread::Builder::new().name("gazetteer".to_owned()).spawn(|| {
                Self::shared();
            });
            if let Err(err) = spawned {
                tracing::warn!("gazetteer: no loader thread ({err}); it loads on first use");
            }
        });
    }

    /// Decompresses and parses the bundled asset. A damaged asset gives what could be read.
    pub fn load() -> Self {
        let mut text = String::new();
        if let Err(err) = flate2::read::GzDecoder::new(ASSET).read_to_string(&mut text) {
            tracing::error!("gazetteer: the bundled asset does not decompress: {err}");
        }
        Self::parse(&text)
    }

    /// The bundled cities of at least `min_population` people, largest first, without
    /// their alternate names. Reads only the top of the asset (it is sorted by
    /// population), so it is quick: the sandbox's catalog uses it to image populated
    /// places more often, as imaging satellites do.
    pub fn largest(min_population: u64) -> Vec<Place> {
        use std::io::BufRead as _;
        let mut out = Vec::new();
        for line in std::io::BufReader::new(flate2::read::GzDecoder::new(ASSET)).lines() {
            let Ok(line) = line else { break };
            let mut fields = line.split('\t');
            let (Some(name), Some(country), Some(lat), Some(lon), Some(population)) =
                (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let (Ok(lat), Ok(lon), Ok(population)) = (lat.parse(), lon.parse(), population.parse::<u64>()) else {
                continue;
            };
            if population < min_population {
                break;
            }
            out.push(Place { name: name.to_owned(), country: country.to_owned(), lat, lon, population });
        }
        out
    }

    /// Parses the TSV lines `name, country, lat, lon, population, alternates joined by |`.
    /// Lines that do not parse are skipped.
    pub fn parse(text: &str) -> Self {
        let mut gazetteer = Self::default();
        for line in text.lines() {
            let mut fields = line.split('\t');
            let (Some(name), Some(country), Some(lat), Some(lon), Some(population)) =
                (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let (Ok(lat), Ok(lon), Ok(population)) = (lat.parse(), lon.parse(), population.parse()) else {
                continue;
            };
            let alternates = fields.next().unwrap_or_default();
            let mut keys = vec![fold(name)];
            for alternate in alternates.split('|').filter(|a| !a.is_empty()) {
                let key = fold(alternate);
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
            gazetteer.places.push(Place { name: name.to_owned(), country: country.to_owned(), lat, lon, population });
            gazetteer.keys.push(keys);
        }
        gazetteer
    }

    /// How many places there are.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Up to [`MAX_SUGGESTIONS`] places whose name or an alternate name starts with `query`
    /// (case, `ё`/`е` and hyphens ignored). Exact matches of a whole name come first, then
    /// prefix matches; within each, larger cities first.
    pub fn search(&self, query: &str) -> Vec<&Place> {
        let query = fold(query);
        if query.is_empty() {
            return Vec::new();
        }
        let mut exact = Vec::new();
        let mut prefix = Vec::new();
        for (place, keys) in self.places.iter().zip(&self.keys) {
            if keys.contains(&query) {
                exact.push(place);
                if exact.len() == MAX_SUGGESTIONS {
                    break;
                }
            } else if prefix.len() < MAX_SUGGESTIONS && keys.iter().any(|key| key.starts_with(&query)) {
                prefix.push(place);
            }
        }
        exact.extend(prefix);
        exact.truncate(MAX_SUGGESTIONS);
        exact
    }
}

/// The form names are compared in: lower case, `ё` as `е`, hyphens and runs of blanks as one
/// space, so `alma ata` finds `Alma-Ata` and `Орел` finds `Орёл`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = true;
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ё' => 'е',
            '-' | '‐' | '–' | '—' | '_' => ' ',
            c => c,
        };
        if c.is_whitespace() {
            if !blank {
                out.push(' ');
            }
            blank = true;
        } else {
            out.push(c);
            blank = false;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn first(query: &str) -> Place {
        Gazetteer::shared().search(query).first().map(|p| (*p).clone()).unwrap_or_else(|| panic!("{query:?}: nothing"))
    }

    fn assert_near(place: &Place, lat: f64, lon: f64) {
        assert!((place.lat - lat).abs() < 0.1 && (place.lon - lon).abs() < 0.1, "{place:?}");
    }

    #[test]
    fn the_bundled_asset_loads() {
        let gazetteer = Gazetteer::shared();
        assert!(gazetteer.len() > 30_000, "{}", gazetteer.len());
        assert!(gazetteer.places.windows(2).all(|w| w[0].population >= w[1].population));
        assert!(gazetteer.places.iter().all(|p| p.lat.abs() <= 90.0 && p.lon.abs() <= 180.0));
    }

    #[test]
    fn english_and_russian_names() {
        for query in ["Moscow", "moscow", "MOSCOW", "Москва", "москва", "Mosc", "Моск"] {
            let place = first(query);
            assert_eq!((place.name.as_str(), place.country.as_str()), ("Moscow", "RU"), "{query:?}");
            assert_near(&place, 55.75, 37.62);
        }
        for query in ["almaty", "Алматы", "Alma-Ata", "alma ata", "Алма-Ата"] {
            let place = first(query);
            assert_eq!(place.country, "KZ", "{query:?}");
            assert_near(&place, 43.25, 76.91);
        }
        let petersburg = first("Санкт-Петербург");
        assert_near(&petersburg, 59.94, 30.31);
        assert_eq!(first("Leningrad").name, petersburg.name);
        assert_near(&first("Peking"), 39.9, 116.4);
        // Diacritics may be left out.
        assert_eq!(first("zurich").name, "Zürich");
        assert_eq!(first("Zürich").name, "Zürich");
        // ё and е are the same letter here.
        assert_near(&first("Орел"), 52.97, 36.06);
    }

    #[test]
    fn exact_names_come_before_longer_ones_then_population() {
        let gazetteer = Gazetteer::shared();
        // Moscow, Idaho (25,000 people) is an exact match too, after the capital.
        let moscows = gazetteer.search("Moscow");
        assert_eq!(moscows[0].country, "RU");
        assert!(moscows.iter().any(|p| p.country == "US"), "{moscows:?}");
        // "Paris" the exact name first, although prefix matches exist.
        assert_eq!(gazetteer.search("paris")[0].country, "FR");
        // No city is called just "Novo": all prefix matches, largest first.
        let prefix = gazetteer.search("Novo");
        assert_eq!(prefix.len(), MAX_SUGGESTIONS);
        assert!(prefix.windows(2).all(|w| w[0].population >= w[1].population), "{prefix:?}");
    }

    #[test]
    fn nothing_for_unknown_or_empty_queries() {
        let gazetteer = Gazetteer::shared();
        assert!(gazetteer.search("Xqzwv").is_empty());
        assert!(gazetteer.search("").is_empty());
        assert!(gazetteer.search(" - ").is_empty());
    }

    #[test]
    fn parse_skips_broken_lines() {
        let gazetteer =
            Gazetteer::parse("A\tXX\t1\t2\t3\tAlt|Б\nbroken\nB\tYY\tnot a number\t2\t3\t\nC\tZZ\t-1\t-2\t4");
        assert_eq!(gazetteer.len(), 2);
        assert_eq!(gazetteer.search("alt")[0].name, "A");
        assert_eq!(gazetteer.search("б")[0].name, "A");
        assert_eq!(gazetteer.search("c")[0].lat, -1.0);
    }

    #[test]
    fn folding() {
        assert_eq!(fold("  Alma-Ata "), "alma ata");
        assert_eq!(fold("Орёл"), "орел");
        assert_eq!(fold("New   York"), "new york");
    }
}
