//! The committed man page and shell completions are what the program
//! renders from its option definition: `uhttpd --generate-files DIR` (the
//! packagers' command) is run and each file it writes compared with the
//! committed one. With `UHTTPD_REGENERATE=1` it writes them over the
//! committed files instead.
//!
//! The real program rather than a render inside the unit tests, whose
//! build has a test-only option (`cli::tests::one_field_is_one_option`).

use std::path::Path;
use std::process::Command;

const REGENERATE: &str = "UHTTPD_REGENERATE=1 cargo test --test cli generated";

/// The generated files, relative to the package root.
const FILES: [&str; 4] = [
    "man/uhttpd.1",
    "completions/uhttpd.bash",
    "completions/_uhttpd",
    "completions/uhttpd.fish",
];

fn generate_files(dir: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_uhttpd"))
        .arg("--generate-files")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "uhttpd --generate-files failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn generated_files_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UHTTPD_REGENERATE").is_some_and(|v| v == "1") {
        generate_files(root);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate_files(dir.path());
    for path in FILES {
        let rendered = std::fs::read(dir.path().join(path)).unwrap();
        let committed = std::fs::read(root.join(path)).unwrap_or_default();
        assert!(
            committed == rendered,
            "{path} is stale (it differs from what the option definition renders); \
             refresh it with: {REGENERATE}"
        );
    }
    // Nothing else is written: FILES is the whole list.
    let mut written = 0;
    for sub in ["man", "completions"] {
        written += std::fs::read_dir(dir.path().join(sub)).unwrap().count();
    }
    assert_eq!(written, FILES.len());
}
