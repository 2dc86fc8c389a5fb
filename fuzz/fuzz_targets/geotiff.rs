//! Fuzz target: see `mapflow_desktop::fuzzing::geotiff`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapflow_desktop::fuzzing::geotiff(data));
