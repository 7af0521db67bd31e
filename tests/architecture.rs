//! The shape of the house, as checks: which top-level module may use which (ARCHITECTURE.md's
//! "may use" table), no cycles between them, no GUI crate in the core's dependency tree, and no
//! build step that needs libclang.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and benchmark code stops loudly where an expectation fails"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What each top-level module may use: ARCHITECTURE.md's table. The core (model, jobs, store,
/// analysis, layout, io, generate, report) names nothing of app, ui or cli.
const MAY_USE: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("jobs", &[]),
    ("store", &["model"]),
    ("layout", &["model", "jobs"]),
    ("analysis", &["model", "store", "jobs"]),
    ("io", &["model", "store", "jobs"]),
    ("generate", &["model", "store", "jobs", "analysis"]),
    (
        "report",
        &["model", "store", "jobs", "analysis", "layout", "io"],
    ),
    (
        "ui",
        &[
            "model", "store", "jobs", "analysis", "layout", "io", "generate", "report",
        ],
    ),
    (
        "app",
        &[
            "model", "store", "jobs", "analysis", "layout", "io", "generate", "report", "ui",
        ],
    ),
    (
        "cli",
        &[
            "model", "store", "jobs", "analysis", "layout", "io", "generate", "report", "ui", "app",
        ],
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to and how deep inside it the file's own module is
/// (`src/store/mod.rs` and `src/store.rs` are 0, `src/store/audit.rs` 1, ...).
fn module_of(src: &Path, file: &Path) -> Option<(String, usize)> {
    let rel = file.strip_prefix(src).ok()?;
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let top = parts.first()?.trim_end_matches(".rs").to_string();
    if top == "lib" || top == "main" {
        return None;
    }
    let last = parts.last()?;
    let depth = if last == "mod.rs" {
        parts.len() - 2
    } else {
        parts.len() - 1
    };
    Some((top, depth))
}

/// Every top-level module a file names through `crate::` (also inside `use crate::{..}`
/// groups) or through `super::` paths that climb to the crate root. Comments are skipped.
fn names_used(text: &str, depth: usize) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code: String = text
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            // `crate::{a::X, b::{Y, Z}}`: the names at the group's top level.
            let mut depth_braces = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth_braces += 1,
                    '}' if depth_braces == 0 => break,
                    '}' => depth_braces -= 1,
                    ',' if depth_braces == 0 => {
                        out.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                if depth_braces == 0 {
                    item.push(c);
                }
            }
            out.insert(ident(item.trim()));
        } else {
            out.insert(ident(after));
        }
        rest = after;
    }
    // `super::` climbs one module per step; depth + 1 steps reach the crate root.
    let climb = "super::".repeat(depth + 1);
    let mut rest = code.as_str();
    while let Some(i) = rest.find(&climb) {
        let after = &rest[i + climb.len()..];
        if !after.starts_with("super::") {
            out.insert(ident(after));
        }
        rest = after;
    }
    out.retain(|n| !n.is_empty());
    out
}

#[test]
fn each_module_uses_only_what_its_layer_may_use_and_there_are_no_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let may_use: BTreeMap<&str, &[&str]> = MAY_USE.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut breaks = Vec::new();
    for file in &files {
        let Some((module, depth)) = module_of(&src, file) else {
            continue;
        };
        let allowed = may_use.get(module.as_str()).unwrap_or_else(|| {
            panic!(
                "{}: module '{module}' is not in the layering table (tests/architecture.rs and ARCHITECTURE.md)",
                file.display()
            )
        });
        let text = std::fs::read_to_string(file).unwrap();
        for used in names_used(&text, depth) {
            if used == module || !may_use.contains_key(used.as_str()) {
                continue;
            }
            graph
                .entry(module.clone())
                .or_default()
                .insert(used.clone());
            if !allowed.contains(&used.as_str()) {
                breaks.push(format!(
                    "{}: module '{module}' uses crate::{used}, which it may not (it may use: {})",
                    file.strip_prefix(&src).unwrap_or(file).display(),
                    if allowed.is_empty() {
                        "nothing of ours".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ));
            }
        }
    }
    assert!(breaks.is_empty(), "layering broken:\n{}", breaks.join("\n"));
    // No cycles in what the code actually does (the table above is acyclic, so this only
    // fails if the table is changed into a cycle).
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(at) = path.iter().position(|p| p == node) {
            panic!(
                "modules form a cycle: {} -> {node}",
                path[at..].join(" -> ")
            );
        }
        if !done.insert(node.to_string()) {
            return;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        visit(module, &graph, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_layering_check_sees_the_breaks_it_is_there_for() {
    // The three breaks this check was written against, as the code had them.
    assert!(names_used("use crate::cli::neutralise_formula;", 1).contains("cli"));
    assert!(names_used("    pub params: crate::analysis::Params,", 0).contains("analysis"));
    assert!(names_used("    Run(crate::app::commands::UiCommand),", 0).contains("app"));
    // Groups and climbs to the crate root.
    let grouped = names_used("use crate::{model::EntityId, store::{Case, Command}};", 0);
    assert_eq!(
        grouped,
        ["model", "store"].into_iter().map(String::from).collect()
    );
    assert!(names_used("use super::super::ui::Action;", 1).contains("ui"));
    assert!(!names_used("use super::super::ui::Action;", 2).contains("ui"));
    assert!(names_used("// crate::cli in a comment", 0).is_empty());
}

fn cargo_tree(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--prefix", "none"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn crate_names(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_core_does_not_depend_on_any_gui_crate() {
    let tree = crate_names(&cargo_tree(&[
        "--no-default-features",
        "-e",
        "normal,build",
    ]));
    assert!(tree.contains("rusqlite"), "unexpected tree:\n{tree:?}");
    for gui in [
        "egui",
        "eframe",
        "winit",
        "rfd",
        "egui_plot",
        "wgpu",
        "glow",
    ] {
        assert!(
            !tree.contains(gui),
            "{gui} is in the core's dependency tree"
        );
    }
}

#[test]
fn no_build_step_needs_libclang() {
    // bindgen (through clang-sys) loads libclang at build time: a fresh machine with only Rust
    // and a C compiler could not build the program. Both feature sets, with the tests' and
    // benchmarks' dependencies too.
    for features in [&[][..], &["--no-default-features"][..]] {
        let mut args = vec!["-e", "normal,build,dev"];
        args.extend_from_slice(features);
        let tree = crate_names(&cargo_tree(&args));
        for needs_clang in ["bindgen", "clang-sys"] {
            assert!(
                !tree.contains(needs_clang),
                "{needs_clang} is in the dependency tree ({features:?}): some build step needs libclang again; `cargo tree -i {needs_clang}` shows who brings it"
            );
        }
    }
}
