//! The library's modules depend on each other one way only (see
//! `ARCHITECTURE.md`): this test reads `src/` (not `src/bin/`), collects
//! every `crate::` and `super::` path outside test code, and fails on a
//! cycle, naming it.
//!
//! Two levels are checked: the top-level modules (`conn`, `request`, `ws`,
//! ...; a directory counts as one), and the files inside each directory
//! (`ws::frame` and `ws::session` must not import each other; a child using
//! its parent's `mod.rs` with `use super::*` is the parent's business and
//! not counted). `cargo test --test module_deps -- --nocapture` prints the
//! edges.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn library_modules_have_no_import_cycles() {
    // `MODULE_DEPS_SRC=/other/src` checks another tree (e.g. an old one).
    let src = std::env::var_os("MODULE_DEPS_SRC").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        PathBuf::from,
    );
    let files = library_files(&src);
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let reexports = root_reexports(&fs::read_to_string(src.join("lib.rs")).unwrap());

    let mut top = Graph::new();
    let mut inner = Graph::new();
    for (module, path) in &files {
        if module.is_empty() {
            continue; // lib.rs re-exports everything
        }
        let text = fs::read_to_string(path).unwrap();
        for target in references(&strip_tests(&text), module, &modules, &reexports) {
            let (from, to) = (first(module), first(&target));
            if from != to && !to.is_empty() {
                top.entry(from.to_owned())
                    .or_default()
                    .insert(to.to_owned());
            }
            let siblings = parent(module) == parent(&target) && !parent(module).is_empty();
            if siblings && module != &target {
                inner.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    for (name, graph) in [("module", &top), ("file", &inner)] {
        for (from, tos) in graph {
            println!(
                "{name}: {from} -> {}",
                Vec::from_iter(tos.iter().cloned()).join(", ")
            );
        }
    }
    // The check must see the edges it guards against (a parser that finds
    // nothing would pass any tree).
    assert!(top.get("conn").is_some_and(|t| t.contains("request")));
    assert!(
        inner
            .get("ws::session")
            .is_some_and(|t| t.contains("ws::frame"))
    );
    for graph in [&top, &inner] {
        if let Some(cycle) = find_cycle(graph) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&g).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn references_are_resolved_to_modules() {
    let modules: BTreeSet<String> = ["ws", "ws::frame", "ws::session", "error", "h1", "h1::head"]
        .map(String::from)
        .into();
    let reexports =
        root_reexports("pub use error::{Error, RequestError};\npub use h1::head::Version;");
    let code = "use super::frame::{self, Opcode};\nuse crate::{Error, h1::head::Head};\n\
                // use crate::nothing;\nlet x = crate::Version::Http11;\nlet s = \"crate::ws\";";
    let found = references(code, "ws::session", &modules, &reexports);
    assert_eq!(
        found,
        BTreeSet::from(["ws::frame", "error", "h1", "h1::head"].map(String::from))
    );
    let tests = "fn a() {}\n#[cfg(test)]\nmod tests {\n    use crate::error::Error;\n    fn b() { let c = '}'; }\n}\nuse crate::h1;\n";
    assert_eq!(
        references(&strip_tests(tests), "ws", &modules, &reexports),
        BTreeSet::from(["h1".to_owned()])
    );
}

/// `(module path, file)` of every library file, test-only files left out.
fn library_files(src: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != src.join("bin") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(src).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                    parts.pop();
                }
                out.push((parts.join("::"), path));
            }
        }
    }
    // `#[cfg(test)] mod name;` makes `name.rs` test code.
    let test_only: BTreeSet<String> = out
        .iter()
        .flat_map(|(module, path)| {
            let text = fs::read_to_string(path).unwrap();
            let lines: Vec<&str> = text.lines().map(str::trim).collect();
            let module = module.clone();
            lines
                .windows(2)
                .filter(|w| {
                    w[0] == "#[cfg(test)]" && w[1].starts_with("mod ") && w[1].ends_with(';')
                })
                .map(|w| {
                    join(
                        &module,
                        w[1].trim_start_matches("mod ").trim_end_matches(';'),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.retain(|(m, _)| !test_only.contains(m));
    out.sort();
    out
}

/// `Name -> module` for the crate root's `pub use module::...::Name`.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for line in lib.lines() {
        let Some(rest) = line.trim().strip_prefix("pub use ") else {
            continue;
        };
        let rest = rest.trim_end_matches(';');
        let module = rest.split("::").next().unwrap_or_default().to_owned();
        let names = match rest.split_once('{') {
            Some((_, names)) => names.trim_end_matches('}').to_owned(),
            None => rest.rsplit("::").next().unwrap_or_default().to_owned(),
        };
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            map.insert(name.to_owned(), module.clone());
        }
    }
    map
}

/// The code with `#[cfg(test)] mod name { ... }` blocks removed.
fn strip_tests(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let next_opens_mod = lines.peek().is_some_and(|n| {
            let n = n.trim();
            n.starts_with("mod ") && n.ends_with('{')
        });
        if line.trim() == "#[cfg(test)]" && next_opens_mod {
            let mut depth = 0i64;
            for body in lines.by_ref() {
                depth += brace_balance(body);
                if depth <= 0 {
                    break;
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `{` minus `}` on a line, outside strings, char literals and comments.
fn brace_balance(line: &str) -> i64 {
    let bytes = line.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => break,
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'{' => n += 1,
            b'}' => n -= 1,
            _ => {}
        }
        i += 1;
    }
    n
}

/// The modules `code` (of module `module`) names through `crate::` and
/// `super::` paths, outside comments and string literals.
fn references(
    code: &str,
    module: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = strip_strings(line.split("//").next().unwrap_or_default());
        for (anchor, base) in [
            ("crate::", String::new()),
            ("super::", parent(module).to_owned()),
        ] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(anchor) {
                let boundary = rest[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                rest = &rest[at + anchor.len()..];
                if !boundary {
                    continue;
                }
                for path in use_paths(rest) {
                    if let Some(m) = resolve(&base, &path, modules, reexports) {
                        found.insert(m);
                    }
                }
            }
        }
    }
    found.remove(module);
    found
}

/// The line with the contents of `"..."` literals blanked.
fn strip_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
                out.push(c);
            }
            continue;
        }
        in_string = c == '"';
        out.push(c);
    }
    out
}

/// The paths after `crate::` / `super::`: `a::b::C`, or each item of a
/// `{a::B, c}` group (one level: enough to find the module).
fn use_paths(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect::<String>()
            .trim_end_matches(':')
            .to_owned()
    };
    match rest.strip_prefix('{') {
        Some(group) => group
            .split('}')
            .next()
            .unwrap_or_default()
            .split(',')
            .map(|item| ident(item.trim()))
            .filter(|p| !p.is_empty() && p != "self")
            .collect(),
        None => vec![ident(rest)],
    }
}

/// The longest module that `base::path` starts with; a root item goes to
/// the module it is re-exported from. `super::*` names the parent itself.
fn resolve(
    base: &str,
    path: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> Option<String> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    for n in (1..=segments.len()).rev() {
        let candidate = join(base, &segments[..n].join("::"));
        if modules.contains(&candidate) {
            return Some(candidate);
        }
    }
    if base.is_empty() {
        return segments.first().and_then(|s| reexports.get(*s)).cloned();
    }
    Some(base.to_owned())
}

fn join(base: &str, rest: &str) -> String {
    if base.is_empty() {
        rest.to_owned()
    } else {
        format!("{base}::{rest}")
    }
}

fn first(module: &str) -> &str {
    module.split("::").next().unwrap_or_default()
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

/// A cycle of `graph`, first node repeated at the end, if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}
