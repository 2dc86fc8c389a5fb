//! Replays the fuzz targets' inputs: the seeds in `fuzz/corpus/<target>/` and every input
//! that ever failed, kept in `fuzz/regressions/<target>/`. Each must be handled without a
//! panic (the fuzzers themselves run with `cargo +nightly fuzz run <target>`; see
//! CONTRIBUTING in the README).

use std::path::Path;

use mapflow_desktop::fuzzing;

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 5] = [
    ("aoi_import", fuzzing::aoi_import),
    ("result_parser", fuzzing::result_parser),
    ("geotiff", fuzzing::geotiff),
    ("api_models", fuzzing::api_models),
    ("sandbox_requests", fuzzing::sandbox_requests),
];

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.expect("directory entry").path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_input_is_handled() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (name, target) in TARGETS {
        let seeds = inputs(&root.join("corpus").join(name));
        assert!(seeds.len() >= 3, "{name}: the seed corpus is missing ({} files)", seeds.len());
        let regressions = inputs(&root.join("regressions").join(name));
        for file in seeds.iter().chain(&regressions) {
            let data = std::fs::read(file).expect("input file");
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} panicked on {}", file.display());
        }
        eprintln!("{name}: {} seeds, {} regression inputs", seeds.len(), regressions.len());
    }
}
