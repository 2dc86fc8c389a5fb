//! Web Mercator (EPSG:3857 on a sphere), the one projection of the map, the sandbox's
//! tiles and the GeoTIFF reader's EPSG:3857: lon/lat to the unit square or to metres and
//! back, tile sizes and ground resolution.
//!
//! Every conversion from lon/lat clamps the latitude to [`MAX_LATITUDE`], where the world
//! is square; the poles are infinitely far.

use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

/// Radius of the Web Mercator sphere (the WGS 84 equatorial radius), metres.
pub const EARTH_RADIUS: f64 = 6_378_137.0;

/// Side of the square world (the length of the equator), metres.
pub const WORLD_METRES: f64 = 2.0 * PI * EARTH_RADIUS;

/// Half of [`WORLD_METRES`]: the world spans ± this many metres on both axes.
pub const HALF_WORLD_METRES: f64 = PI * EARTH_RADIUS;

/// The latitude where Web Mercator ends, `atan(sinh(π))` in degrees: the world is square
/// up to it.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Side of a map tile, pixels.
pub const TILE_SIZE: u32 = 256;

/// A position in normalized Web Mercator: the world is the unit square, x east, y south.
pub type Norm = [f64; 2];

/// `lat` kept within the square world.
pub fn clamp_latitude(lat: f64) -> f64 {
    lat.clamp(-MAX_LATITUDE, MAX_LATITUDE)
}

/// Normalized Web Mercator of a lon/lat in degrees, the latitude clamped.
pub fn lon_lat_to_normalized(lon: f64, lat: f64) -> Norm {
    lon_lat_to_normalized_unclamped(lon, clamp_latitude(lat))
}

/// Like [`lon_lat_to_normalized`], but also off the world square, for a view centre
/// dragged past a pole.
pub fn lon_lat_to_normalized_unclamped(lon: f64, lat: f64) -> Norm {
    let y = lat.to_radians().tan().asinh();
    [(lon + 180.0) / 360.0, (1.0 - y / PI) / 2.0]
}

/// Lon/lat in degrees of a normalized Web Mercator position.
pub fn normalized_to_lon_lat(norm: Norm) -> (f64, f64) {
    let lon = norm[0] * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * norm[1])).sinh().atan().to_degrees();
    (lon, lat)
}

/// EPSG:3857 metres of a lon/lat in degrees, the latitude clamped.
pub fn lon_lat_to_metres(lon: f64, lat: f64) -> (f64, f64) {
    let lat = clamp_latitude(lat).to_radians();
    (EARTH_RADIUS * lon.to_radians(), EARTH_RADIUS * (FRAC_PI_4 + lat / 2.0).tan().ln())
}

/// Lon/lat in degrees of EPSG:3857 metres.
pub fn metres_to_lon_lat(x: f64, y: f64) -> (f64, f64) {
    ((x / EARTH_RADIUS).to_degrees(), (2.0 * (y / EARTH_RADIUS).exp().atan() - FRAC_PI_2).to_degrees())
}

/// Side of a tile of zoom `z`, metres.
pub fn tile_metres(z: u8) -> f64 {
    WORLD_METRES / 2f64.powi(i32::from(z))
}

/// The north-west corner of tile (z, x, y), EPSG:3857 metres.
pub fn tile_origin_metres(z: u8, x: u32, y: u32) -> (f64, f64) {
    let size = tile_metres(z);
    (-HALF_WORLD_METRES + f64::from(x) * size, HALF_WORLD_METRES - f64::from(y) * size)
}

/// Global pixel position of a lon/lat at zoom `z`, in tiles of [`TILE_SIZE`] pixels, the
/// latitude clamped.
pub fn lon_lat_to_pixels(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let size = f64::from(TILE_SIZE) * 2f64.powi(i32::from(z));
    let [x, y] = lon_lat_to_normalized(lon, lat);
    (x * size, y * size)
}

/// Ground metres per tile pixel at latitude `lat` and a (fractional) `zoom`.
pub fn metres_per_pixel(lat: f64, zoom: f64) -> f64 {
    WORLD_METRES * clamp_latitude(lat).to_radians().cos() / (f64::from(TILE_SIZE) * 2f64.powf(zoom))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_is_square_at_the_clamp() {
        assert_eq!(WORLD_METRES, 40_075_016.685_578_49);
        assert_eq!(HALF_WORLD_METRES, 20_037_508.342_789_244);
        assert!((PI.sinh().atan().to_degrees() - MAX_LATITUDE).abs() < 1e-12);
        let [x, y] = lon_lat_to_normalized(-180.0, 90.0);
        assert_eq!(x, 0.0);
        assert!(y.abs() < 1e-12, "{y}");
        let (_, north) = lon_lat_to_metres(0.0, 89.0);
        assert!((north - HALF_WORLD_METRES).abs() < 1e-6, "{north}");
    }

    #[test]
    fn round_trips() {
        for (lon, lat) in [(76.9, 43.25), (-122.4, 37.8), (0.0, 0.0), (179.9, -84.0)] {
            let (l, b) = normalized_to_lon_lat(lon_lat_to_normalized(lon, lat));
            assert!((l - lon).abs() < 1e-9 && (b - lat).abs() < 1e-9, "{lon} {lat}: {l} {b}");
            let (mx, my) = lon_lat_to_metres(lon, lat);
            let (l, b) = metres_to_lon_lat(mx, my);
            assert!((l - lon).abs() < 1e-9 && (b - lat).abs() < 1e-9, "{lon} {lat}: {l} {b}");
        }
        assert_eq!(tile_origin_metres(1, 1, 1), (0.0, 0.0));
        assert_eq!(lon_lat_to_pixels(0.0, 0.0, 1), (256.0, 256.0));
        assert!((metres_per_pixel(0.0, 0.0) - 156_543.033_928).abs() < 1e-6);
    }
}
