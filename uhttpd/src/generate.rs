//! The man page and shell completions, rendered from the clap definition
//! in `cli/args.rs`, so that `--help`, `man uhttpd` and tab completion never
//! disagree.
//!
//! The rendered files are committed (`man/uhttpd.1`, `completions/`).
//! `uhttpd --generate-files DIR` writes them under DIR, for packagers; the
//! test `tests/cli/generated.rs` runs it and fails when the committed files
//! are stale, and rewrites them when run with `UHTTPD_REGENERATE=1`:
//!
//! ```text
//! UHTTPD_REGENERATE=1 cargo test --test cli generated
//! ```
//!
//! (It runs the real program rather than rendering here because unit-test
//! builds have a test-only option, `cli::tests::one_field_is_one_option`.)

use std::io::{self, Write};
use std::path::Path;

use clap_complete::Shell;
use clap_mangen::Man;

use crate::cli::{self, EXAMPLES};

/// Renders one generated file.
pub type Render = fn() -> Vec<u8>;

/// The generated files: path under the package root, and how to render it.
pub const FILES: &[(&str, Render)] = &[
    ("man/uhttpd.1", render_man),
    ("completions/uhttpd.bash", || render_completion(Shell::Bash)),
    ("completions/_uhttpd", || render_completion(Shell::Zsh)),
    ("completions/uhttpd.fish", || render_completion(Shell::Fish)),
];

/// The man page, `uhttpd(1)`, in roff.
///
/// clap_mangen's page, except that the examples get a section of their own,
/// before VERSION, with the command lines kept as typed (clap_mangen would
/// fill the `after_help` text into one paragraph under EXTRA). No date, so
/// the output depends only on the source.
pub fn render_man() -> Vec<u8> {
    let man = Man::new(cli::command().after_help(None::<&str>));
    let mut page = Vec::new();
    man.render(&mut page).expect("writing to a Vec cannot fail");
    let mut examples = Vec::new();
    render_examples(&mut examples).expect("writing to a Vec cannot fail");
    let at = find(&page, b".SH VERSION\n").unwrap_or(page.len());
    page.splice(at..at, examples);
    page
}

/// Index of the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The EXAMPLES section: what each example does, then its command lines
/// unfilled.
fn render_examples(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, ".SH EXAMPLES")?;
    for (what, commands) in EXAMPLES {
        writeln!(out, ".PP\n{}\n.PP\n.RS 4\n.nf", roff_line(what))?;
        for line in commands.lines() {
            writeln!(out, "{}", roff_line(line))?;
        }
        writeln!(out, ".fi\n.RE")?;
    }
    Ok(())
}

/// Escapes one line of plain text for roff: backslashes and hyphens (so that
/// options copy and paste as typed), and a leading control character.
fn roff_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len() + 8);
    if text.starts_with(['.', '\'']) {
        line.push_str("\\&");
    }
    for c in text.chars() {
        match c {
            '\\' => line.push_str("\\e"),
            '-' => line.push_str("\\-"),
            _ => line.push(c),
        }
    }
    line
}

/// The completion script for `shell`.
pub fn render_completion(shell: Shell) -> Vec<u8> {
    let mut command = cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "uhttpd", &mut out);
    out
}

/// Writes every generated file under `root` (the package root, or a
/// packager's staging directory), creating `man/` and `completions/`.
pub fn write_all(root: &Path) -> io::Result<()> {
    for (path, render) in FILES {
        let path = root.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, render())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        cli::command().debug_assert();
    }

    #[test]
    fn renders_are_deterministic() {
        for (path, render) in FILES {
            assert_eq!(render(), render(), "{path}");
        }
    }

    #[test]
    fn man_page_keeps_example_command_lines() {
        let man = String::from_utf8(render_man()).unwrap();
        assert!(man.contains(".SH EXAMPLES"));
        assert!(
            man.contains("uhttpd \\-\\-upload\\-dir incoming \\-\\-max\\-upload\\-size 100M\n")
        );
        assert!(man.contains("\\-\\-redirect\\-http 80 \\e\n"));
        assert!(!man.contains(".SH EXTRA"));
        assert!(man.contains(".SH EXAMPLES\n"));
        assert!(man.find(".SH EXAMPLES").unwrap() < man.find(".SH VERSION").unwrap());
        assert!(man.contains("\\-V\\fR, \\fB\\-\\-version"));
    }

    #[test]
    fn roff_line_escapes_control_characters() {
        assert_eq!(roff_line(".start"), "\\&.start");
        assert_eq!(roff_line("'quote"), "\\&'quote");
        assert_eq!(roff_line("a\\b-c"), "a\\eb\\-c");
    }

    #[test]
    fn write_all_writes_every_file() {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path()).unwrap();
        for (path, render) in FILES {
            assert_eq!(
                std::fs::read(dir.path().join(path)).unwrap(),
                render(),
                "{path}"
            );
        }
    }
}
