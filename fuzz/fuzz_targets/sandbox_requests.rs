//! Fuzz target: see `mapflow_desktop::fuzzing::sandbox_requests`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mapflow_desktop::fuzzing::sandbox_requests(data));
