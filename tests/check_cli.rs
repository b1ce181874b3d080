//! `kseal check`, `kseal explain` and `kseal hook` through the real binary:
//! the example apps, the output formats, modes, suppression and hostile
//! input.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::util::{TestEnv, copy_dir, git};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");

/// The planted example, in a fresh git repository with everything staged.
fn planted() -> TestEnv {
    let env = TestEnv::new();
    copy_dir(&Path::new(EXAMPLES).join("check-planted"), &env.app());
    let key = env.app().join("config/master.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    git(&env.app(), &["init", "-q"]);
    git(&env.app(), &["add", "-A"]);
    env
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn places(report: &serde_json::Value) -> BTreeSet<(String, String, u64, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn planted_example_has_each_problem_at_its_place() {
    let env = planted();
    let output = env
        .kseal()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let found = places(&json(&output));

    let expected: BTreeSet<(String, String, u64, u64)> = [
        ("KS001", "config/deploy.yml", 45, 18),
        ("KS101", ".kamal/secrets", 5, 19),
        ("KS102", ".kamal/secrets", 4, 18),
        ("KS103", ".kamal/secrets", 6, 38),
        ("KS104", ".kamal/secrets", 4, 18),
        ("KS104", ".kamal/secrets", 8, 9),
        ("KS105", ".kamal/secrets", 8, 9),
        ("KS201", "config/deploy.yml", 13, 13),
        ("KS202", "config/deploy.yml", 12, 13),
        ("KS203", "config/deploy.yml", 23, 20),
        ("KS204", "config/deploy.yml", 18, 19),
        ("KS205", "config/deploy.yml", 35, 19),
        ("KS206", "config/deploy.yml", 40, 7),
        ("KS301", "config/deploy.yml", 29, 7),
        ("KS302", ".kamal/secrets", 7, 1),
        ("KS401", "config/master.key", 0, 0),
        ("KS402", "config/master.key", 0, 0),
        ("KS501", ".kamal/kseal/secrets.sealed", 3, 0),
        ("KS502", ".kamal/kseal/secrets.sealed", 5, 8),
        ("KS503", ".kamal/kseal/secrets-common.sealed", 1, 13),
    ]
    .into_iter()
    .map(|(r, p, l, c)| (r.to_owned(), p.to_owned(), l, c))
    .collect();
    assert_eq!(found, expected);

    // Every rule in the table is planted.
    let rules: BTreeSet<String> = found.iter().map(|f| f.0.clone()).collect();
    let table = env.kseal().arg("explain").output().unwrap();
    let codes: BTreeSet<String> = String::from_utf8(table.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert_eq!(rules, codes);

    // Each planted line says which rules it plants.
    for (rule, path, line, _) in &found {
        if *line == 0 || path.ends_with(".sealed") || rule == "KS001" {
            continue;
        }
        let text = std::fs::read_to_string(env.app().join(path)).unwrap();
        let marked = text.lines().nth(*line as usize - 1).unwrap();
        assert!(
            marked.contains(rule.as_str()),
            "{rule} at {path}:{line}: {marked}"
        );
    }
}

#[test]
fn clean_twin_has_no_findings() {
    let env = TestEnv::new();
    copy_dir(&Path::new(EXAMPLES).join("check-clean"), &env.app());
    git(&env.app(), &["init", "-q"]);
    git(&env.app(), &["add", "-A"]);
    for args in [vec!["check"], vec!["check", "--staged"]] {
        let output = env.kseal().args(&args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            output.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

#[test]
fn human_output_masks_values_and_points_a_caret() {
    let env = planted();
    let output = env.kseal().arg("check").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    for secret in [
        "s3cr3t-Registry-pass",
        "hunter2-Pr0d-9xQ",
        "mail-Pa55word-2024",
        "R4nd0mT0k3n",
    ] {
        assert!(!text.contains(secret), "{secret} printed");
    }
    assert!(!text.contains('\x1b'), "colour without a terminal");
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("config/deploy.yml:13:13: error[KS201]"))
        .expect("the KS201 finding is printed");
    assert_eq!(
        lines[at + 1],
        " 13 |   password: ******************** # planted: KS201"
    );
    assert_eq!(lines[at + 2], "    |             ^^^^^^^^^^^^^^^^^^^^");
    assert!(lines[at + 3].contains("preview: s3**** (20 chars)"));
    assert!(text.contains("= see: kseal explain KS201"));

    let forced = env
        .kseal()
        .args(["check", "--color", "always"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(forced.stdout)
            .unwrap()
            .contains("\x1b[1;31m")
    );
}

#[test]
fn sarif_validates_against_the_schema() {
    let env = planted();
    let output = env
        .kseal()
        .args(["check", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let sarif = json(&output);

    let schema_text = include_str!("data/sarif-schema-2.1.0.json");
    let schema: serde_json::Value = serde_json::from_str(schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 19);
    for result in run["results"].as_array().unwrap() {
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1, "{result}");
    }
    let result = &run["results"].as_array().unwrap()[0];
    assert!(result["partialFingerprints"].as_object().unwrap().len() == 1);
    assert!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());

    // The validator does reject a broken log.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        serde_json::json!(0);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn staged_mode_reads_the_index_not_the_worktree() {
    let env = TestEnv::new();
    copy_dir(&Path::new(EXAMPLES).join("check-clean"), &env.app());
    git(&env.app(), &["init", "-q"]);
    git(&env.app(), &["add", "-A"]);

    // A secret staged, then removed from the working tree only.
    let secrets = env.app().join(".kamal/secrets");
    let clean = std::fs::read_to_string(&secrets).unwrap();
    std::fs::write(
        &secrets,
        format!("{clean}SMTP_PASSWORD=Staged-Pa55word-42\n"),
    )
    .unwrap();
    git(&env.app(), &["add", ".kamal/secrets"]);
    std::fs::write(&secrets, &clean).unwrap();

    let staged = env
        .kseal()
        .args(["check", "--staged", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(staged.status.code(), Some(1), "{}", stderr(&staged));
    let found = places(&json(&staged));
    assert!(
        found.contains(&("KS101".into(), ".kamal/secrets".into(), 7, 15)),
        "{found:?}"
    );

    let worktree = env.kseal().arg("check").output().unwrap();
    assert_eq!(worktree.status.code(), Some(0), "{}", stderr(&worktree));
}

#[test]
fn explicit_paths_limit_the_report() {
    let env = planted();
    let output = env
        .kseal()
        .args(["check", "--format", "json", "config/deploy.yml"])
        .output()
        .unwrap();
    let found = places(&json(&output));
    assert!(!found.is_empty());
    assert!(
        found.iter().all(|f| f.1 == "config/deploy.yml"),
        "{found:?}"
    );
}

#[test]
fn inline_ignore_needs_a_reason() {
    let env = TestEnv::new();
    env.write(
        "config/deploy.yml",
        "service: a\nimage: a\nregistry:\n  username: [U]\n  password: pw1 # kseal:ignore KS201 throwaway local registry\nenv:\n  clear:\n    # kseal:ignore KS203\n    API_TOKEN: tok-Abc123\n",
    );
    env.write(".kamal/secrets", "U=$U\n");
    let output = env
        .kseal()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let found = places(&json(&output));
    let rules: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(rules, ["KS001", "KS203"], "{found:?}");
}

#[test]
fn baseline_accepts_todays_findings_only() {
    let env = planted();
    let write = env
        .kseal()
        .args(["check", "--write-baseline"])
        .output()
        .unwrap();
    assert_eq!(write.status.code(), Some(0), "{}", stderr(&write));
    assert!(env.app().join(".kseal-baseline.json").exists());
    let again = env.kseal().arg("check").output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );

    let secrets = env.app().join(".kamal/secrets");
    let mut text = std::fs::read_to_string(&secrets).unwrap();
    text.push_str("NEW_SECRET_TOKEN=n3w-Tok3n-value\n");
    std::fs::write(&secrets, text).unwrap();
    let output = env
        .kseal()
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let rules: BTreeSet<String> = places(&json(&output)).into_iter().map(|f| f.0).collect();
    assert_eq!(rules, BTreeSet::from(["KS101".into(), "KS302".into()]));

    let all = env
        .kseal()
        .args(["check", "--no-baseline", "--format", "json"])
        .output()
        .unwrap();
    assert!(places(&json(&all)).len() > 20);
}

#[test]
fn settings_select_and_ignore_rules() {
    let env = planted();
    let output = env
        .kseal()
        .args([
            "check", "--select", "KS2", "--ignore", "KS202", "--format", "json",
        ])
        .output()
        .unwrap();
    let rules: BTreeSet<String> = places(&json(&output)).into_iter().map(|f| f.0).collect();
    let expected = ["KS201", "KS203", "KS204", "KS205", "KS206"];
    assert_eq!(rules, expected.iter().map(|s| s.to_string()).collect());

    let bad = env
        .kseal()
        .args(["check", "--ignore", "KS999"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("no rule matches \"KS999\""));

    env.write(".kseal.toml", "[check]\nmax_age = \"1d\"\n");
    let bad = env.kseal().arg("check").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains(".kseal.toml"), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("hint:"));
}

#[test]
fn explain_prints_the_rule_page() {
    let env = TestEnv::new();
    let output = env.kseal().args(["explain", "KS201"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    for heading in [
        "# KS201 literal-registry-password",
        "## Why is this bad?",
        "## Use instead",
        "## Fix",
    ] {
        assert!(text.contains(heading), "{heading}");
    }
    let by_name = env
        .kseal()
        .args(["explain", "unused-secret"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(by_name.stdout)
            .unwrap()
            .starts_with("# KS302")
    );
    let unknown = env.kseal().args(["explain", "KS999"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

/// Hostile input ends in a clear error naming the file, exit 2, quickly.
fn assert_refused(env: &TestEnv, needle: &str) {
    let output = env.kseal().arg("check").output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains(needle), "{needle:?} not in {err}");
    assert!(
        err.contains("hint:") || err.contains("kseal: error"),
        "{err}"
    );
}

#[test]
fn alias_bomb_is_refused() {
    let env = TestEnv::new();
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    env.write("config/deploy.yml", text);
    assert_refused(&env, "config/deploy.yml: line 5: more than 100000 nodes");
}

#[test]
fn deep_nesting_is_refused() {
    let env = TestEnv::new();
    let mut text = String::new();
    for depth in 0..200 {
        text.push_str(&" ".repeat(depth));
        text.push_str("k:\n");
    }
    env.write("config/deploy.yml", text);
    assert_refused(&env, "nested more than 64 levels");
}

#[test]
fn huge_file_is_refused_without_reading_it() {
    let env = TestEnv::new();
    let file = std::fs::File::create(env.app().join("config/deploy.yml")).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();
    assert_refused(
        &env,
        "config/deploy.yml: 52428800 bytes, more than the 1048576",
    );
}

#[test]
fn binary_and_invalid_utf8_are_refused() {
    let env = TestEnv::new();
    env.write("config/deploy.yml", "service: a\n");
    env.write(".kamal/secrets", b"A=1\n\x00\x01\x02");
    assert_refused(&env, ".kamal/secrets: a binary file");
    env.write(".kamal/secrets", b"A=1\nB=\xff\xfe\n");
    assert_refused(&env, ".kamal/secrets:2: not valid UTF-8");
}

#[test]
fn symlink_out_of_the_app_is_not_followed() {
    let env = TestEnv::new();
    let outside = env.home().join("elsewhere.yml");
    std::fs::write(&outside, "service: a\n").unwrap();
    std::os::unix::fs::symlink(&outside, env.app().join("config/deploy.yml")).unwrap();
    assert_refused(&env, "outside the app root");

    // A symlinked folder is not followed either.
    std::fs::remove_file(env.app().join("config/deploy.yml")).unwrap();
    env.write("config/deploy.yml", "service: a\n");
    let elsewhere = env.home().join("kamal");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("secrets"), "A=1\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.app().join(".kamal")).unwrap();
    assert_refused(&env, ".kamal/secrets: leads to");
}

#[test]
fn yaml_syntax_error_names_file_and_line() {
    let env = TestEnv::new();
    env.write("config/deploy.yml", "service: a\nenv:\n  clear: [\n");
    assert_refused(&env, "config/deploy.yml: line");
}

/// `git commit` in `dir` with kseal on PATH; hooks run.
fn commit(dir: &Path, message: &str) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_kseal")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    std::process::Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["commit", "-q", "-m", message])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn hook_install_refuses_bad_commits_and_chains_the_old_hook() {
    let env = TestEnv::new();
    copy_dir(&Path::new(EXAMPLES).join("check-clean"), &env.app());
    git(&env.app(), &["init", "-q"]);
    let hooks = env.app().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let old = hooks.join("pre-commit");
    std::fs::write(
        &old,
        "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/old-hook-ran\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();

    for _ in 0..2 {
        let output = env.kseal().args(["hook", "install"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    assert!(hooks.join("pre-commit.pre-kseal").exists());

    git(&env.app(), &["add", "-A"]);
    let ok = commit(&env.app(), "clean app");
    assert!(ok.status.success(), "{}", stderr(&ok));
    let ran = std::fs::read_to_string(env.app().join(".git/old-hook-ran")).unwrap();
    assert_eq!(ran, "ran\n");

    env.write(
        ".kamal/secrets-common",
        "KAMAL_REGISTRY_PASSWORD=dckr_pat_Abcdefghijklmnop123456\n",
    );
    git(&env.app(), &["add", "-A"]);
    let refused = commit(&env.app(), "leak");
    assert!(!refused.status.success());
    // git passes a hook's output on to its own stderr.
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&refused.stdout),
        stderr(&refused)
    );
    assert!(out.contains("error[KS101]"), "{out}");
    assert!(!out.contains("Abcdefghijklmnop"), "{out}");

    let output = env.kseal().args(["hook", "uninstall"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!hooks.join("pre-commit.pre-kseal").exists());
    assert!(
        std::fs::read_to_string(&old)
            .unwrap()
            .contains("old-hook-ran")
    );
}

#[test]
fn colour_on_a_terminal_unless_no_color() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: script(1) is needed for a pseudo-terminal");
        return;
    }
    let env = planted();
    let run = |no_color: Option<&str>| {
        let mut cmd = std::process::Command::new("/usr/bin/script");
        cmd.args([
            "-qec",
            &format!("'{}' check", env!("CARGO_BIN_EXE_kseal")),
            "/dev/null",
        ])
        .current_dir(env.app())
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
        if let Some(value) = no_color {
            cmd.env("NO_COLOR", value);
        }
        String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned()
    };
    let tty = run(None);
    assert!(tty.contains("error[KS201]"), "{tty}");
    assert!(tty.contains("\x1b["), "no colour on a terminal");
    let plain = run(Some("1"));
    assert!(plain.contains("error[KS201]"), "{plain}");
    assert!(!plain.contains("\x1b["), "colour despite NO_COLOR");
}

#[test]
fn no_excerpt_shows_a_secret_whatever_the_rule() {
    let env = TestEnv::new();
    env.write(
        "config/deploy.yml",
        "service: a\nimage: a\nenv:\n  clear:\n    DB_PASSWORD: Zq9-excerpt-canary # kseal:ignore KS203\n  secret:\n    - MISSING_ONE\n",
    );
    env.write(".kamal/secrets", "UNUSED_TOKEN=Xy7-unused-canary\n");
    let output = env.kseal().arg("check").output().unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    // KS001 (the ignore has no reason) and KS302 (unused) quote lines that
    // hold secrets; both are masked there too.
    assert!(text.contains("error[KS001]"), "{text}");
    assert!(text.contains("warning[KS302]"), "{text}");
    assert!(
        text.contains("- MISSING_ONE"),
        "secret names stay readable: {text}"
    );
    assert!(!text.contains("canary"), "{text}");
}

#[test]
fn human_report_of_the_planted_example() {
    let env = planted();
    let output = env.kseal().arg("check").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("planted_human", String::from_utf8(output.stdout).unwrap());
}

#[test]
fn missing_program_is_judged_from_the_app_root() {
    let env = TestEnv::new();
    env.write(
        "config/deploy.yml",
        "service: a\nimage: a\nenv:\n  secret: [DB, API]\n",
    );
    env.write(
        ".kamal/secrets",
        "DB=$(bin/fetch-secret db) # kseal:ignore KS104 the script prints hex\nAPI=$(bin/missing-fetcher api) # kseal:ignore KS104 the script prints hex\n",
    );
    env.write("bin/fetch-secret", "#!/bin/sh\necho 00ff\n");
    let script = env.app().join("bin/fetch-secret");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    let output = env
        .kseal()
        .current_dir(env.app().join("config"))
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let found = places(&json(&output));
    let expected = BTreeSet::from([("KS102".to_owned(), ".kamal/secrets".to_owned(), 2, 5)]);
    assert_eq!(found, expected);
}
