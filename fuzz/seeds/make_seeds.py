#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs into fuzz/corpus/<target>/ (run from the repository root).

The seeds are small, hand-made examples of each input: valid ones for the fuzzer to mutate, and
the crafted files of the hardening probe (a GeoTIFF declaring absurd sizes, a truncated one).
"""
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


SQUARE = [[[76.90, 43.22], [76.92, 43.22], [76.92, 43.24], [76.90, 43.24], [76.90, 43.22]]]

# AOI files as users drop them.
put("aoi_import", "feature.geojson", json.dumps({"type": "Feature", "properties": {"name": "a"},
                                                  "geometry": {"type": "Polygon", "coordinates": SQUARE}}))
put("aoi_import", "collection.geojson", json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]}},
    {"type": "Feature", "properties": {}, "geometry": None},
    {"type": "Feature", "properties": {}, "geometry": {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [1, 2]}, {"type": "Polygon", "coordinates": SQUARE}]}}]}))
put("aoi_import", "bowtie.geojson", json.dumps({"type": "Polygon", "coordinates": [
    [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}))
put("aoi_import", "utf16.geojson", b"\xff\xfe" + json.dumps({"type": "Polygon", "coordinates": SQUARE}).encode("utf-16-le"))
put("aoi_import", "polygon.wkt", "POLYGON ((76.9 43.22, 76.92 43.22, 76.92 43.24, 76.9 43.22))")
put("aoi_import", "multi.wkt", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((2 2, 3 2, 3 3, 2 2), (2.1 2.1, 2.2 2.1, 2.2 2.2, 2.1 2.1)))")

# A result as the processing API serves it.
put("result_parser", "result.geojson", json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"class_id": 101, "building_height": 12.5},
     "geometry": {"type": "Polygon", "coordinates": SQUARE}},
    {"type": "Feature", "properties": {"class_id": "road"},
     "geometry": {"type": "LineString", "coordinates": [[76.9, 43.22], [76.91, 43.23]]}},
    {"type": "Feature", "properties": {"class_id": 3}, "geometry": None},
    {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPolygon", "coordinates": [SQUARE]}}]}))
put("result_parser", "empty.geojson", json.dumps({"type": "FeatureCollection", "features": []}))
put("result_parser", "holes_and_points.geojson", json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"class_id": "forest", "height": "5-10"},
     "geometry": {"type": "Polygon", "coordinates": [SQUARE[0], [[76.905, 43.225], [76.91, 43.225], [76.91, 43.23],
                                                                  [76.905, 43.225]]]}},
    {"type": "Feature", "properties": {"nested": {"a": [1, 2]}}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
    {"type": "Feature", "properties": None,
     "geometry": {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3, 4]]]}}]}))


def tiff(width, height, samples, bits, fmt, data, geo=True, declared_strip=None):
    """A little-endian, uncompressed, one-strip TIFF with optional GeoTIFF tags."""
    entries = []
    extra = b""
    base = 8

    def add(tag, typ, values):
        entries.append((tag, typ, values))

    add(256, 4, [width])
    add(257, 4, [height])
    add(258, 3, [bits] * samples)
    add(259, 3, [1])
    add(262, 3, [2 if samples >= 3 else 1])
    add(273, 4, [0])  # patched below
    add(277, 3, [samples])
    add(278, 4, [height])
    add(279, 4, [declared_strip if declared_strip is not None else len(data)])
    add(284, 3, [1])
    add(339, 3, [fmt] * samples)
    if geo:
        add(33550, 12, [0.0001, 0.0001, 0.0])
        add(33922, 12, [0.0, 0.0, 0.0, 76.9, 43.24, 0.0])
        add(34735, 3, [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326])
    sizes = {3: 2, 4: 4, 12: 8}
    fmts = {3: "H", 4: "I", 12: "d"}
    count = len(entries)
    ifd_len = 2 + count * 12 + 4
    data_at = base + ifd_len
    blobs = b""
    packed = []
    for tag, typ, values in entries:
        raw = struct.pack("<" + fmts[typ] * len(values), *values)
        if len(raw) <= 4:
            packed.append((tag, typ, len(values), raw.ljust(4, b"\0"), None))
        else:
            packed.append((tag, typ, len(values), struct.pack("<I", data_at + len(blobs)), raw))
            blobs += raw
    pixels_at = data_at + len(blobs)
    out = b"II*\0" + struct.pack("<I", base) + struct.pack("<H", count)
    for tag, typ, n, field, _ in packed:
        if tag == 273:
            field = struct.pack("<I", pixels_at)
        out += struct.pack("<HHI", tag, typ, n) + field
    out += struct.pack("<I", 0) + blobs + data
    return out


put("geotiff", "rgb_2x2.tif", tiff(2, 2, 3, 8, 1, bytes(range(12))))
put("geotiff", "float_grey.tif", tiff(3, 2, 1, 32, 3, struct.pack("<6f", 0.5, 1.5, -2, 1e9, float("nan"), 7)))
# The probe's crash: 30000 x 1 pixels of 65535 float64 samples, in a file of a few KB.
put("geotiff", "absurd_samples.tif", tiff(30000, 1, 2000, 64, 3, b"\0" * 4096))
# Truncated: the strip is declared longer than the file.
put("geotiff", "truncated.tif", tiff(64, 64, 3, 8, 1, b"\x80" * 100, declared_strip=64 * 64 * 3))
put("geotiff", "no_geo.tif", tiff(2, 2, 1, 8, 1, b"\0\1\2\3", geo=False))

# API answers, shaped as CONTRACT.md gives them.
put("api_models", "user_status.json", json.dumps({"id": "u1", "email": "a@b.c", "remainingCredits": 100,
                                                   "aoiAreaLimit": 1e9, "models": [], "dataProviders": []}))
put("api_models", "processing.json", json.dumps({"id": "p1", "name": "n", "status": "IN_PROGRESS", "percentCompleted": 40,
                                                  "projectId": "x", "aoiCount": 1, "area": 1000, "cost": 5,
                                                  "messages": [{"code": "source-validator.TooLowZoom",
                                                                "parameters": {"min_zoom": "17"}}],
                                                  "rasterLayer": {"tileUrl": "http://h/{z}/{x}/{y}.png"},
                                                  "created": "2024-01-01T00:00:00Z"}))
put("api_models", "page.json", json.dumps({"results": [{"id": "a", "name": "b"}], "total": 1, "count": 1}))
put("api_models", "error.json", json.dumps({"code": "BAD_REQUEST", "message": "m", "params": {"a": "1"}}))
put("api_models", "detail.json", json.dumps({"detail": {"code": "file_check_failed", "parameters": {"bad": ["crs"]}}}))

# Sandbox request bodies: the first byte picks the decoder (0 multipart, 1 text, 2 create, 3 estimate).
create = {"name": "n", "projectId": "p", "wdName": "🏠 Buildings", "geometry": {"type": "Polygon", "coordinates": SQUARE},
          "params": {"sourceParams": {"dataProvider": {"providerName": "Mapbox", "zoom": 18}}}, "blocks": []}
put("sandbox_requests", "create.json", b"\x02" + json.dumps(create).encode())
put("sandbox_requests", "estimate.json", b"\x03" + json.dumps({"areaSqKm": 1.0, "geometry": create["geometry"],
                                                               "wdName": "🏠 Buildings", "params": create["params"]}).encode())
put("sandbox_requests", "v1.json", b"\x02" + json.dumps({"name": "n", "projectId": "p", "wdName": "🏠 Buildings",
                                                         "geometry": create["geometry"],
                                                         "params": {"url": "http://h/{z}/{x}/{y}.png", "zoom": "18",
                                                                    "source_type": "xyz"}}).encode())
put("sandbox_requests", "multipart.bin", b"\x00\x07" + b"--fuzz-Boundary_01\r\nContent-Disposition: form-data; name=\"file\"; "
    b"filename=\"a.tif\"\r\nContent-Type: image/tiff\r\n\r\nII*\0data\r\n--fuzz-Boundary_01--\r\n")
put("sandbox_requests", "text.bin", b"\x11name with \xe2\x80\xae override\0 and NUL")
