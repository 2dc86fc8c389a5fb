//! Fuzz target: see `mapflow_desktop::fuzzing::api_models`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    // Only a panic the app does not catch is a crash: the app catches a few on purpose
    // (geo's repair of a broken polygon can panic), so libfuzzer-sys's abort-on-any-panic
    // hook is put back to the default one.
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| mapflow_desktop::fuzzing::api_models(data)
);
