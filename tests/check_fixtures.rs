//! `kseal check` over every file of Kamal's own test configuration
//! (`../shared/compat/kamal/fixtures`): each parses, and the findings for
//! each are pinned in one snapshot. Kamal's test configs write registry
//! passwords as literals; every one of them must be found.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use kseal::check::{self, Options, source::Mode};
use regex::Regex;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/compat/kamal/fixtures"
);

/// One app to check: files to place (relative path in the app, source).
struct Unit {
    name: String,
    files: Vec<(String, PathBuf)>,
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        if entry.file_type().unwrap().is_dir() {
            files_under(&entry.path(), out);
        } else {
            out.push(entry.path());
        }
    }
}

/// Every fixture file, grouped into the apps Kamal's tests make of them.
fn units() -> (Vec<Unit>, usize) {
    let root = Path::new(FIXTURES);
    let mut all = Vec::new();
    files_under(root, &mut all);
    let rel = |p: &Path| p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
    let mut units = Vec::new();
    let mut covered = 0;

    // Apps laid out as apps: config/deploy*.yml plus .kamal/secrets*.
    let apps: Vec<PathBuf> = all
        .iter()
        .filter(|p| p.ends_with("config/deploy.yml"))
        .map(|p| p.parent().unwrap().parent().unwrap().to_owned())
        .collect();
    for app in &apps {
        let mut files = Vec::new();
        for path in all.iter().filter(|p| p.starts_with(app)) {
            let inner = path
                .strip_prefix(app)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            files.push((inner, path.clone()));
            covered += 1;
        }
        units.push(Unit {
            name: rel(app),
            files,
        });
    }

    // Loose deploy files (test/fixtures, the docs, the init template): each
    // is a config/deploy.yml; `NAME.DEST.yml` is an overlay of `NAME.yml`.
    let loose: Vec<&PathBuf> = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .filter(|p| !apps.iter().any(|a| p.starts_with(a)))
        .collect();
    for path in &loose {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let base_of_overlay = stem
            .rsplit_once('.')
            .map(|(base, _)| path.with_file_name(format!("{base}.yml")));
        if base_of_overlay.is_some_and(|b| b.exists()) {
            continue;
        }
        let mut files = vec![("config/deploy.yml".to_owned(), (*path).clone())];
        covered += 1;
        for overlay in &loose {
            let name = overlay.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(dest) = name
                .strip_prefix(&format!("{stem}."))
                .and_then(|n| n.strip_suffix(".yml"))
            {
                files.push((format!("config/deploy.{dest}.yml"), (*overlay).clone()));
                covered += 1;
            }
        }
        // The init template's secrets file goes with its deploy file.
        let secrets = path.with_file_name("secrets");
        if secrets.exists() {
            files.push((".kamal/secrets".to_owned(), secrets));
            covered += 1;
        }
        units.push(Unit {
            name: rel(path),
            files,
        });
    }
    // Only the source note is not a Kamal file.
    assert_eq!(
        covered + 1,
        all.len(),
        "every fixture file belongs to an app"
    );
    (units, all.len())
}

static LITERAL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+password:\s+[^\s\[-]").unwrap());

#[test]
fn every_kamal_fixture_parses_and_its_findings_are_pinned() {
    let (units, files) = units();
    let mut snapshot = String::new();
    let mut passwords = 0;

    for unit in &units {
        let dir = tempfile::tempdir().unwrap();
        for (inner, source) in &unit.files {
            let target = dir.path().join(inner);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(source, &target).unwrap();
        }
        let report = check::run(dir.path(), &Options::new(Mode::Worktree))
            .unwrap_or_else(|e| panic!("{}: {e:#}", unit.name));

        writeln!(snapshot, "## {}", unit.name).unwrap();
        for f in &report.findings {
            writeln!(
                snapshot,
                "{} {}:{}:{} {}",
                f.rule,
                f.path.display(),
                f.line,
                f.column,
                f.message
            )
            .unwrap();
        }

        // Every literal registry password is found, at its line.
        for (inner, _) in unit.files.iter().filter(|(i, _)| i.ends_with(".yml")) {
            let text = std::fs::read_to_string(dir.path().join(inner)).unwrap();
            for (i, line) in text.lines().enumerate() {
                let reference = line.contains("%x") || line.contains("ENV");
                if LITERAL_PASSWORD.is_match(line) && !reference {
                    passwords += 1;
                    assert!(
                        report.findings.iter().any(|f| f.rule == "KS201"
                            && f.path == Path::new(inner)
                            && f.line == i + 1),
                        "{}: {inner}:{}: literal password not found",
                        unit.name,
                        i + 1
                    );
                }
            }
        }
    }
    println!(
        "{files} Kamal fixture files in {} apps checked; {passwords} literal registry passwords found",
        units.len()
    );
    assert!(passwords >= 40, "{passwords}");
    insta::assert_snapshot!("kamal_fixtures", snapshot);
}
