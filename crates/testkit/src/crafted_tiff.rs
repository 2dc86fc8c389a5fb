//! Crafted GeoTIFFs as the hardening probe sent them: georeferenced little-endian TIFFs
//! of 12 KB whose headers declare what the test asks for (absurd sizes, sample counts,
//! strips past the end). Shared by `tests/sandbox_hardening.rs` and `benches/hardening.rs`.

/// One IFD entry: tag, TIFF type, count and little-endian value bytes.
pub struct Entry(pub u16, pub u16, pub u32, pub Vec<u8>);

pub fn shorts(tag: u16, v: &[u16]) -> Entry {
    Entry(tag, 3, v.len() as u32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn longs(tag: u16, v: &[u32]) -> Entry {
    Entry(tag, 4, v.len() as u32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

pub fn doubles(tag: u16, v: &[f64]) -> Entry {
    Entry(tag, 12, v.len() as u32, v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// A georeferenced (EPSG:4326) little-endian TIFF of `entries` with `data` at byte 8.
pub fn tiff(mut entries: Vec<Entry>, data: &[u8]) -> Vec<u8> {
    entries.push(doubles(33550, &[0.0001, 0.0001, 0.0]));
    entries.push(doubles(33922, &[0.0, 0.0, 0.0, 10.0, 10.0, 0.0]));
    entries.push(shorts(34735, &[1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4326]));
    entries.sort_by_key(|e| e.0);
    let ifd = (8 + data.len() + data.len() % 2) as u32;
    let mut out = b"II".to_vec();
    out.extend_from_slice(&42u16.to_le_bytes());
    out.extend_from_slice(&ifd.to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    let tail_start = ifd + 2 + 12 * entries.len() as u32 + 4;
    let mut tail = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for Entry(tag, kind, count, bytes) in &entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..bytes.len()].copy_from_slice(bytes);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&(tail_start + tail.len() as u32).to_le_bytes());
            tail.extend_from_slice(bytes);
            if tail.len() % 2 == 1 {
                tail.push(0);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&tail);
    out
}

/// An uncompressed stripped image: `width` × `height`, `samples` samples of `bits` bits,
/// strips of one row at `offsets` with `counts` bytes, 12 KB of pixel data.
pub fn stripped(width: u32, height: u32, samples: u16, bits: u16, offsets: &[u32], counts: &[u32]) -> Vec<u8> {
    let format = if bits == 64 { 3 } else { 1 };
    tiff(
        vec![
            longs(256, &[width]),
            longs(257, &[height]),
            shorts(258, &[bits]),
            shorts(259, &[1]),
            shorts(262, &[1]),
            longs(273, offsets),
            shorts(277, &[samples]),
            longs(278, &[1]),
            longs(279, counts),
            shorts(284, &[1]),
            shorts(339, &[format]),
        ],
        &[7u8; 12_000],
    )
}
