//! Synthetic "satellite-like" imagery for the sandbox's tile layers.
//!
//! Every pixel is a pure function of its position in the world (Web Mercator metres),
//! so tiles join seamlessly and the same place looks the same at every zoom: water,
//! forest, fields cut into parcels and, in urban patches, a grid of city blocks with
//! roofs. Features far smaller than a pixel are faded out instead of aliasing. Only
//! `std` and `image` are used, and a tile costs a few milliseconds in release.

use image::{ImageEncoder as _, Rgb, RgbImage};

use mapflow_geo::mercator;

/// Tile size in pixels.
pub const TILE_SIZE: u32 = 256;

/// The highest zoom a tile is rendered at; deeper tiles are refused by the route.
pub const MAX_ZOOM: u8 = 24;

/// Land cover: the fractal's octaves, coarsest first, as (wavelength m, amplitude).
const LAND_OCTAVES: [(f64, f32); 9] = [
    (24_000.0, 1.0),
    (12_000.0, 0.55),
    (6_000.0, 0.33),
    (3_000.0, 0.2),
    (1_500.0, 0.13),
    (700.0, 0.09),
    (330.0, 0.06),
    (160.0, 0.04),
    (80.0, 0.03),
];

/// Small texture (tree crowns, shrubs, soil) as (wavelength m, amplitude).
const DETAIL_OCTAVES: [(f64, f32); 3] = [(24.0, 0.5), (7.0, 0.35), (2.5, 0.25)];

/// Urban patches: (wavelength m, amplitude).
const URBAN_OCTAVES: [(f64, f32); 2] = [(9_000.0, 1.0), (2_500.0, 0.45)];

/// City blocks: the street grid's period and street width, metres.
const BLOCK: f64 = 96.0;
const STREET: f64 = 14.0;

/// Resolution of the precomputed land-cover colour ramp.
const RAMP_STEPS: usize = 1024;

/// A block holds 2×2 lots of this size, metres, each a building inset by a yard.
const LOT: f64 = (BLOCK - STREET) / 2.0;
const YARD: f64 = 5.0;

/// Farmland parcels: the grid's period, metres.
const PARCEL: f64 = 310.0;

/// Renders the tile (z, x, y) of `provider`; the provider only changes the colour grading.
pub fn render_tile(provider: &str, z: u8, x: u32, y: u32) -> RgbImage {
    let n = TILE_SIZE as usize;
    let extent = mercator::tile_metres(z);
    let pixel = extent / f64::from(TILE_SIZE);
    let x0 = f64::from(x) * extent;
    let y0 = f64::from(y) * extent;
    let grade = Grade::of(provider);

    // Octaves finer than two pixels average out to their mean (0.5); the others are
    // sampled per pixel. Seeds differ per layer so the layers are independent.
    let land_norm: f32 = LAND_OCTAVES.iter().map(|o| o.1).sum();
    let land_mean: f32 = LAND_OCTAVES.iter().filter(|o| o.0 < 2.0 * pixel).map(|o| 0.5 * o.1).sum();
    let land = Layer::new(&LAND_OCTAVES, 11, x0, pixel, |w| if w >= 2.0 * pixel { 1.0 } else { 0.0 });
    let urban = Layer::new(&URBAN_OCTAVES, 23, x0, pixel, |_| 1.0);
    let urban_norm: f32 = URBAN_OCTAVES.iter().map(|o| o.1).sum();
    let detail = Layer::new(&DETAIL_OCTAVES, 37, x0, pixel, |w| fade(w, pixel));

    let parcel_fade = fade(PARCEL, pixel);
    let lot_fade = fade(LOT, pixel);

    let ramp: Vec<Colour> = (0..=RAMP_STEPS).map(|i| land_colour(i as f32 / RAMP_STEPS as f32)).collect();
    let mut land_row = vec![0f32; n];
    let mut urban_row = vec![0f32; n];
    let mut detail_row = vec![0f32; n];
    let mut img = RgbImage::new(TILE_SIZE, TILE_SIZE);
    for (py, row) in img.rows_mut().enumerate() {
        let wy = y0 + (py as f64 + 0.5) * pixel;
        land_row.fill(land_mean);
        land.add_row(&mut land_row, wy);
        urban_row.fill(0.0);
        urban.add_row(&mut urban_row, wy);
        detail_row.fill(0.0);
        detail.add_row(&mut detail_row, wy);
        let gy = py as i64 + i64::from(y) * n as i64;
        for (px, out) in row.enumerate() {
            let wx = x0 + (px as f64 + 0.5) * pixel;
            let land = land_row[px] / land_norm;
            let urban = urban_row[px] / urban_norm;

            let mut rgb = ramp[(land.clamp(0.0, 1.0) * RAMP_STEPS as f32) as usize];
            // Farmland parcels: each cell of the grid gets its own crop tint.
            if parcel_fade > 0.0 && (0.52..0.8).contains(&land) {
                let h = hash((wx / PARCEL).floor() as i64, (wy / PARCEL).floor() as i64, 51);
                let weight = parcel_fade * smooth(0.52, 0.58, land) * (1.0 - smooth(0.74, 0.8, land));
                let tint = PARCEL_TINTS[(h % PARCEL_TINTS.len() as u32) as usize];
                rgb = mix(rgb, tint, 0.55 * weight);
            }
            // Urban patches: a street grid (box-filtered, so it fades to a faint grid from
            // afar instead of aliasing) with a roof colour per block.
            let city = smooth(0.66, 0.7, urban) * smooth(0.38, 0.44, land);
            if city > 0.0 {
                let street = 1.0 - (1.0 - street_cover(wx, pixel)) * (1.0 - street_cover(wy, pixel));
                // Each block holds 2×2 lots: a building with a yard around it, or a green.
                let (bx, by) = (wx.rem_euclid(BLOCK) - STREET, wy.rem_euclid(BLOCK) - STREET);
                let lot_x = (wx / BLOCK).floor() as i64 * 2 + i64::from(bx >= LOT);
                let lot_y = (wy / BLOCK).floor() as i64 * 2 + i64::from(by >= LOT);
                let h = hash(lot_x, lot_y, 77);
                let (ux, uy) = (bx.rem_euclid(LOT), by.rem_euclid(LOT));
                let on_building =
                    h & 0x700 != 0 && (YARD..LOT - YARD).contains(&ux) && (YARD..LOT - YARD).contains(&uy);
                let lot = if on_building { ROOF_COLOURS[(h % ROOF_COLOURS.len() as u32) as usize] } else { COURTYARD };
                let roof = mix(URBAN_ROOF_MEAN, lot, lot_fade);
                rgb = mix(rgb, mix(roof, STREET_COLOUR, street), city);
            }

            let gx = px as i64 + i64::from(x) * n as i64;
            let grain = (hash(gx, gy, u32::from(z)) & 0xff) as f32 / 255.0 - 0.5;
            let shade = 1.0 + (detail_row[px] - 0.5 * detail.weight) * 0.55 + grain * 0.05;
            *out = grade.apply(rgb, shade);
        }
    }
    img
}

/// Some octaves of value noise over one tile, with the lattice columns of every pixel
/// precomputed, so a row costs about one interpolation per pixel and octave.
struct Layer {
    octaves: Vec<Octave>,
    /// The sum of the octaves' effective amplitudes (the layer's range is 0..weight).
    weight: f32,
}

struct Octave {
    wavelength: f64,
    amplitude: f32,
    seed: u32,
    /// Per pixel column: the lattice cell and the smoothed fraction inside it.
    cells: Vec<(i64, f32)>,
}

impl Layer {
    /// `gain` scales each octave by its wavelength (0 drops it).
    fn new(octaves: &[(f64, f32)], seed: u32, x0: f64, pixel: f64, gain: impl Fn(f64) -> f32) -> Self {
        let octaves: Vec<Octave> = octaves
            .iter()
            .enumerate()
            .filter_map(|(k, &(wavelength, amplitude))| {
                let amplitude = amplitude * gain(wavelength);
                (amplitude > 0.0).then(|| Octave {
                    wavelength,
                    amplitude,
                    seed: seed.wrapping_add(k as u32 * 101),
                    cells: (0..TILE_SIZE).map(|i| lattice((x0 + (f64::from(i) + 0.5) * pixel) / wavelength)).collect(),
                })
            })
            .collect();
        let weight = octaves.iter().map(|o| o.amplitude).sum();
        Self { octaves, weight }
    }

    /// Adds the layer's values along the row at `wy` metres into `out`.
    fn add_row(&self, out: &mut [f32], wy: f64) {
        for o in &self.octaves {
            let (iy, sy) = lattice(wy / o.wavelength);
            let mut current = None;
            let (mut left, mut right) = (0f32, 0f32);
            for (value, &(ix, sx)) in out.iter_mut().zip(&o.cells) {
                if current != Some(ix) {
                    current = Some(ix);
                    let v = |dx: i64, dy: i64| (hash(ix + dx, iy + dy, o.seed) >> 8) as f32 / 16_777_215.0;
                    left = v(0, 0) + (v(0, 1) - v(0, 0)) * sy;
                    right = v(1, 0) + (v(1, 1) - v(1, 0)) * sy;
                }
                *value += (left + (right - left) * sx) * o.amplitude;
            }
        }
    }
}

/// The share of the pixel around `u` (metres, `pixel` wide) covered by streets: the
/// street grid integrated over the pixel.
fn street_cover(u: f64, pixel: f64) -> f32 {
    // The street length from 0 to u: whole periods plus the part of the current one.
    let covered = |u: f64| (u / BLOCK).floor() * STREET + u.rem_euclid(BLOCK).min(STREET);
    ((covered(u + pixel / 2.0) - covered(u - pixel / 2.0)) / pixel).clamp(0.0, 1.0) as f32
}

/// The lattice cell of `u` and the smoothstep of the fraction inside it.
fn lattice(u: f64) -> (i64, f32) {
    let f = u.floor();
    let t = (u - f) as f32;
    (f as i64, t * t * (3.0 - 2.0 * t))
}

/// Encodes a picture (a tile, a preview; RGB or RGBA) as PNG, favouring speed over size.
pub fn encode_png<P>(img: &image::ImageBuffer<P, Vec<u8>>) -> Result<Vec<u8>, image::ImageError>
where
    P: image::PixelWithColorType<Subpixel = u8>,
{
    let mut out = Vec::with_capacity(96 * 1024);
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Sub,
    )
    .write_image(img.as_raw(), img.width(), img.height(), P::COLOR_TYPE)?;
    Ok(out)
}

type Colour = [f32; 3];

const WATER: Colour = [28.0, 52.0, 66.0];
const SHORE: Colour = [148.0, 140.0, 112.0];
const FOREST_DARK: Colour = [32.0, 54.0, 30.0];
const FOREST_LIGHT: Colour = [58.0, 82.0, 44.0];
const GRASS: Colour = [96.0, 112.0, 62.0];
const SOIL: Colour = [136.0, 116.0, 84.0];
const STREET_COLOUR: Colour = [112.0, 110.0, 106.0];
const COURTYARD: Colour = [86.0, 100.0, 64.0];
const URBAN_ROOF_MEAN: Colour = [124.0, 122.0, 104.0];
const ROOF_COLOURS: [Colour; 6] = [
    [164.0, 160.0, 152.0],
    [142.0, 100.0, 84.0],
    [184.0, 180.0, 170.0],
    [118.0, 116.0, 114.0],
    [152.0, 116.0, 98.0],
    [132.0, 140.0, 142.0],
];
const PARCEL_TINTS: [Colour; 6] = [
    [104.0, 124.0, 58.0],
    [150.0, 138.0, 88.0],
    [82.0, 104.0, 50.0],
    [126.0, 108.0, 76.0],
    [118.0, 134.0, 70.0],
    [160.0, 150.0, 104.0],
];

/// The land-cover ramp: water, shore, forest, grass and fields, bare soil.
fn land_colour(v: f32) -> Colour {
    const STOPS: [(f32, Colour); 8] = [
        (0.0, WATER),
        (0.335, WATER),
        (0.35, SHORE),
        (0.37, FOREST_DARK),
        (0.47, FOREST_LIGHT),
        (0.55, GRASS),
        (0.72, GRASS),
        (0.82, SOIL),
    ];
    if v <= STOPS[0].0 {
        return STOPS[0].1;
    }
    for pair in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (pair[0], pair[1]);
        if v <= b {
            return mix(ca, cb, (v - a) / (b - a));
        }
    }
    SOIL
}

/// Per-provider colour grading, so two providers of the same place differ a little.
struct Grade {
    gain: Colour,
}

impl Grade {
    fn of(provider: &str) -> Self {
        let h = provider.bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
        let c = |shift: u32| 0.95 + f32::from(((h >> shift) & 0xff) as u8) / 255.0 * 0.1;
        Self { gain: [c(0), c(8), c(16)] }
    }

    fn apply(&self, rgb: Colour, shade: f32) -> Rgb<u8> {
        let ch = |i: usize| (rgb[i] * self.gain[i] * shade).clamp(0.0, 255.0) as u8;
        Rgb([ch(0), ch(1), ch(2)])
    }
}

fn mix(a: Colour, b: Colour, t: f32) -> Colour {
    let t = t.clamp(0.0, 1.0);
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

fn smooth(e0: f32, e1: f32, v: f32) -> f32 {
    let t = ((v - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// How visible a feature of `wavelength` metres is at `pixel` metres per pixel: fully
/// from 4 pixels up, gone below 1.5.
fn fade(wavelength: f64, pixel: f64) -> f32 {
    smooth(1.5, 4.0, (wavelength / pixel) as f32)
}

/// A well-mixed 32-bit hash of a lattice point.
fn hash(x: i64, y: i64, seed: u32) -> u32 {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ u64::from(seed).wrapping_mul(0x1656_67B1_9E37_79F9);
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    (h >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_deterministic_and_join() {
        let a = render_tile("Mapbox", 15, 19_000, 12_000);
        assert_eq!(a, render_tile("Mapbox", 15, 19_000, 12_000));
        let right = render_tile("Mapbox", 15, 19_001, 12_000);
        // The last column of a tile and the first of its neighbour are close in colour.
        let mut diff = 0i64;
        for y in 0..TILE_SIZE {
            let p = a.get_pixel(TILE_SIZE - 1, y);
            let q = right.get_pixel(0, y);
            diff += (0..3).map(|c| (i64::from(p[c]) - i64::from(q[c])).abs()).sum::<i64>();
        }
        assert!(diff / i64::from(TILE_SIZE) < 40, "seam too visible: {diff}");
    }

    #[test]
    fn encodes_png() {
        let png = encode_png(&render_tile("ArcGIS", 3, 4, 2)).expect("png");
        let back = image::load_from_memory(&png).expect("decode");
        assert_eq!((back.width(), back.height()), (TILE_SIZE, TILE_SIZE));
    }
}
