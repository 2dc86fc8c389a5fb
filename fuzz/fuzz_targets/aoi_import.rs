//! Fuzz target: see `mapflow_desktop::fuzzing::aoi_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapflow_desktop::fuzzing::aoi_import(data));
