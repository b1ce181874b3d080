//! `kseal scan`: the labelled corpus through the library, then trees,
//! streams, git history, image tarballs and known values through the real
//! binary.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use kseal::scan::{Options, Scanner};

use crate::util::{TestEnv, git, output_with_stdin};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scan-corpus");

fn corpus_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(Path::new(CORPUS).join(name))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.replace("\\n", "\n"))
        .collect()
}

#[test]
fn corpus_recall_and_false_positives() {
    let scanner = Scanner::new(Options::default(), None);
    let mut missed = Vec::new();
    let mut wrong = Vec::new();
    let mut per_code: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let positives = corpus_lines("positives.tsv");
    for line in &positives {
        let (code, text) = line.split_once('\t').unwrap();
        let found = scanner.scan_buffer("corpus.txt", text.as_bytes(), None);
        let entry = per_code.entry(code.to_owned()).or_default();
        entry.0 += 1;
        if found.iter().any(|f| f.rule == code) {
            entry.1 += 1;
        } else {
            missed.push(format!("{code}: got {:?}", rules(&found)));
        }
        // Nothing but the labelled secret may be reported on its line.
        if found.iter().any(|f| f.rule != code) {
            wrong.push(format!("{code}: also {:?}", rules(&found)));
        }
    }

    let negatives = corpus_lines("negatives.txt");
    let mut false_positives = Vec::new();
    for text in &negatives {
        let found = scanner.scan_buffer("corpus.txt", text.as_bytes(), None);
        if !found.is_empty() {
            false_positives.push(format!("{:?}: {text}", rules(&found)));
        }
    }

    let found = positives.len() - missed.len();
    println!(
        "scan corpus: recall {found}/{} ({:.1}%), false positives {}/{} negatives, \
         {} detectors exercised",
        positives.len(),
        100.0 * found as f64 / positives.len() as f64,
        false_positives.len(),
        negatives.len(),
        per_code.len()
    );
    for m in &missed {
        println!("  missed {m}");
    }
    for w in wrong.iter().chain(&false_positives) {
        println!("  false positive {w}");
    }
    assert!(missed.is_empty(), "missed: {missed:#?}");
    assert!(
        wrong.is_empty() && false_positives.is_empty(),
        "{wrong:#?} {false_positives:#?}"
    );
    // Every provider detector of the table has a sample in the corpus,
    // except the path-bound Rails key file, tested through the binary.
    for d in kseal::scan::detectors::DETECTORS {
        assert!(
            per_code.contains_key(d.code) || d.path.is_some(),
            "no corpus sample for {}",
            d.code
        );
    }
}

fn rules(found: &[kseal::findings::Finding]) -> Vec<&str> {
    found.iter().map(|f| f.rule.as_str()).collect()
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

fn findings(output: &Output) -> Vec<serde_json::Value> {
    json(output)["findings"].as_array().unwrap().clone()
}

/// The one finding of a JSON report that must hold exactly one (exit 1).
fn only_finding(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let mut found = findings(output);
    assert_eq!(found.len(), 1, "{found:#?}");
    found.remove(0)
}

/// `kseal scan ARGS --format json` in the app.
fn scan_json(env: &TestEnv, args: &[&str]) -> Output {
    env.kseal()
        .arg("scan")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap()
}

/// A GitHub token made at test time, so no token-shaped string sits in the
/// source.
fn github_token(seed: char) -> String {
    let tail: String = std::iter::repeat_n(seed, 20)
        .chain("0a1B2c3D4e5F6g7H".chars())
        .collect();
    format!("ghp_{tail}")
}

#[test]
fn tree_scan_reads_ignored_dotenv_and_skips_binary() {
    let env = TestEnv::new();
    let token = github_token('q');
    git(&env.app(), &["init", "-q"]);
    env.write(".gitignore", ".env\nbuild/\n");
    env.write(".env", format!("GITHUB_TOKEN={token}\n"));
    env.write("build/out.txt", format!("{token}\n"));
    env.write(".kamal/secrets", "GITHUB_TOKEN=$GITHUB_TOKEN\n");
    env.write(
        "src/app.rb",
        format!("# kseal:ignore KS612 revoked in the test\nT = \"{token}\"\n"),
    );
    let mut binary = vec![0u8; 16];
    binary.extend_from_slice(token.as_bytes());
    env.write("logo.bin", binary);

    let output = env
        .kseal()
        .args(["scan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let found = findings(&output);
    let paths: Vec<&str> = found.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, [".env"], "{found:#?}");
    assert_eq!(found[0]["rule"], "KS612");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(&token), "the token is printed: {stdout}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("skipped 1 binary"));
}

#[test]
fn stdin_scan_and_exit_codes() {
    let env = TestEnv::new();
    let clean = output_with_stdin(
        {
            let mut c = env.kseal();
            c.args(["scan", "--stdin"]);
            c
        },
        b"DB_PASSWORD=$DB_PASSWORD\n",
    );
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");

    let token = github_token('z');
    let mut cmd = env.kseal();
    cmd.args(["scan", "--stdin"]);
    let dirty = output_with_stdin(cmd, format!("log line\nuser token {token} ok\n").as_bytes());
    assert_eq!(dirty.status.code(), Some(1));
    let text = String::from_utf8_lossy(&dirty.stdout);
    assert!(text.contains("<stdin>:2:12: error[KS612]"), "{text}");
    assert!(!text.contains(&token));

    let missing = env.kseal().args(["scan", "no/such/dir"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("hint:"));
}

fn head(dir: &Path) -> String {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn git_history_finds_a_deleted_secret_at_the_commit_that_added_it() {
    let env = TestEnv::new();
    let app = env.app();
    let token = github_token('h');
    git(&app, &["init", "-q"]);
    env.write("README.md", "app\n");
    crate::util::git_as(&app, "Ann", &["add", "-A"]);
    crate::util::git_as(&app, "Ann", &["commit", "-qm", "start"]);

    env.write(
        "config/settings.yml",
        format!("service:\n  token: {token}\n"),
    );
    crate::util::git_as(&app, "Bob", &["add", "-A"]);
    crate::util::git_as(&app, "Bob", &["commit", "-qm", "add settings"]);
    let introduced = head(&app);

    // The file changes twice with the secret still in it, then the secret
    // goes: three commits later.
    for (i, extra) in ["a: 1\n", "b: 2\n"].iter().enumerate() {
        env.write(
            "config/settings.yml",
            format!("service:\n  token: {token}\n{extra}"),
        );
        crate::util::git_as(&app, "Cat", &["commit", "-qam", &format!("tweak {i}")]);
    }
    env.write("config/settings.yml", "service:\n  token: $TOKEN\n");
    crate::util::git_as(&app, "Dan", &["commit", "-qam", "remove the token"]);

    // The working tree is clean now.
    let tree = env
        .kseal()
        .args(["scan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(tree.status.code(), Some(0), "{tree:?}");

    let output = scan_json(&env, &["--git"]);
    let f = only_finding(&output);
    assert_eq!(f["rule"], "KS612");
    assert_eq!(f["path"], "config/settings.yml");
    assert_eq!(f["line"], 2);
    let origin = f["origin"].as_str().unwrap();
    assert!(
        origin.contains(&introduced[..12]),
        "{origin} vs {introduced}"
    );
    assert!(origin.contains("Bob"), "{origin}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(&token));
}

#[test]
fn git_history_attributes_a_secret_written_in_a_merge_to_the_merge() {
    let env = TestEnv::new();
    let app = env.app();
    let token = github_token('m');
    git(&app, &["init", "-q", "-b", "main"]);
    env.write("config/app.yml", "name: app\n");
    crate::util::git_as(&app, "Ann", &["add", "-A"]);
    crate::util::git_as(&app, "Ann", &["commit", "-qm", "start"]);

    // Two branches change the same line; the merge resolves the conflict
    // with a line neither side had.
    git(&app, &["checkout", "-q", "-b", "side"]);
    env.write("config/app.yml", "name: side\n");
    crate::util::git_as(&app, "Bob", &["commit", "-qam", "side"]);
    git(&app, &["checkout", "-q", "main"]);
    env.write("config/app.yml", "name: main\n");
    crate::util::git_as(&app, "Cat", &["commit", "-qam", "main"]);
    let conflict = Command::new("git")
        .args(["merge", "-q", "side"])
        .current_dir(&app)
        .output()
        .unwrap();
    assert!(!conflict.status.success(), "the merge conflicts");
    env.write("config/app.yml", format!("name: both\ntoken: {token}\n"));
    crate::util::git_as(&app, "Dan", &["commit", "-qam", "merge side"]);
    let merge = head(&app);

    let output = scan_json(&env, &["--git"]);
    let found = only_finding(&output);
    assert_eq!(found["path"], "config/app.yml");
    let origin = found["origin"].as_str().unwrap();
    assert!(origin.contains(&merge[..12]), "{origin} vs {merge}");
    assert!(origin.contains("Dan"), "{origin}");
}

#[test]
fn sealed_value_leaked_base64_into_a_log_is_named() {
    let env = TestEnv::new();
    let keygen = env.kseal().arg("keygen").output().unwrap();
    assert!(keygen.status.success(), "{keygen:?}");
    env.write("config/deploy.yml", "service: app\nimage: acme/app\n");

    let value = "Tr0ub4dor-and-3-more-words";
    let mut set = env.kseal();
    set.args(["set", "DB_PASSWORD", "-d", "production"]);
    let out = output_with_stdin(set, value.as_bytes());
    assert!(out.status.success(), "{out:?}");

    let encoded = base64::engine::general_purpose::STANDARD.encode(value);
    env.write(
        "log/deploy.log",
        format!("connecting\nAuthorization: Basic {encoded}\ndone\n"),
    );
    let output = scan_json(&env, &["log"]);
    let found = only_finding(&output);
    assert_eq!(found["rule"], "KS601");
    assert_eq!(
        found["message"],
        "DB_PASSWORD (production) found base64-encoded"
    );
    assert_eq!(found["line"], 2);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!all.contains(value) && !all.contains(&encoded), "{all}");
}

/// A tar archive of `files`, built in memory.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Writes `image` to `name` in the app and runs `kseal scan --image name`
/// with `args`.
fn scan_image(env: &TestEnv, name: &str, image: Vec<u8>, args: &[&str]) -> Output {
    env.write(name, image);
    env.kseal()
        .args(["scan", "--image", name])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn image_tarball_secret_in_a_lower_layer_deleted_later_is_found() {
    let env = TestEnv::new();
    let key = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let lower = tar_of(&[
        ("app/Gemfile", b"source 'https://rubygems.org'\n"),
        ("app/config/master.key", key.as_bytes()),
    ]);
    let upper = tar_of(&[("app/config/.wh.master.key", b"")]);
    let manifest = br#"[{"Config":"cfg.json","Layers":["aaa/layer.tar","bbb/layer.tar"]}]"#;
    let image = tar_of(&[
        ("manifest.json", manifest),
        (
            "cfg.json",
            br#"{"config":{"Env":["RAILS_ENV=production"]}}"#,
        ),
        ("aaa/layer.tar", &lower),
        ("bbb/layer.tar", &upper),
    ]);
    let output = scan_image(&env, "app.tar", image, &["--format", "json"]);
    let found = only_finding(&output);
    assert_eq!(found["rule"], "KS650");
    assert_eq!(found["path"], "app/config/master.key");
    assert_eq!(found["origin"], "layer aaa/layer.tar");
}

#[test]
fn baseline_and_sarif_are_shared_with_check() {
    let env = TestEnv::new();
    env.write("notes.txt", format!("{}\n", github_token('b')));
    let write = env
        .kseal()
        .args(["scan", "--write-baseline"])
        .output()
        .unwrap();
    assert_eq!(write.status.code(), Some(0), "{write:?}");
    let again = env.kseal().args(["scan"]).output().unwrap();
    assert_eq!(again.status.code(), Some(0), "{again:?}");

    let sarif = env
        .kseal()
        .args(["scan", "--no-baseline", "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(sarif.status.code(), Some(1));
    let report = json(&sarif);
    assert_eq!(report["runs"][0]["results"][0]["ruleId"], "KS612");
}

#[test]
fn human_report_snapshot() {
    let env = TestEnv::new();
    env.write(
        "config/app.env",
        format!(
            "# settings\nGH_TOKEN={}\nSIGNING_KEY=\"9f2c4e1a7b3d5f60a8c2e4f6b1d3f5a7\"\nHOST=$HOST\n",
            github_token('s')
        ),
    );
    let output = env.kseal().args(["scan", "config"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
}

#[test]
fn oci_layout_image_layers_and_config_are_scanned() {
    let env = TestEnv::new();
    let token = github_token('o');
    let layer = tar_of(&[("srv/app/.env", format!("GH={token}\n").as_bytes())]);
    let config = format!(r#"{{"config":{{"Env":["GITHUB_TOKEN={token}"]}}}}"#);
    let image = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/1111", config.as_bytes()),
        ("blobs/sha256/2222", &layer),
    ]);
    let output = scan_image(&env, "app.tar", image, &["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let found: Vec<(String, String)> = findings(&output)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_owned(),
                f["origin"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("blobs/sha256/1111".to_owned(), "image metadata".to_owned()),
            (
                "srv/app/.env".to_owned(),
                "layer blobs/sha256/2222".to_owned()
            ),
        ]
    );
}

/// `data` compressed by the system's `gzip`.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gzip = Command::new("gzip");
    gzip.arg("-c");
    let output = output_with_stdin(gzip, data);
    assert!(output.status.success(), "gzip: {output:?}");
    output.stdout
}

#[test]
fn gzip_compressed_layers_are_scanned_and_damaged_ones_are_errors() {
    let env = TestEnv::new();
    let token = github_token('z');
    let layer = gzip(&tar_of(&[(
        "srv/app/.env",
        format!("GH={token}\n").as_bytes(),
    )]));
    let image = tar_of(&[
        ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
        ("blobs/sha256/3333", &layer),
    ]);
    let output = scan_image(&env, "app.tar", image, &["--format", "json"]);
    let found = only_finding(&output);
    assert_eq!(found["path"], "srv/app/.env");
    assert_eq!(found["origin"], "layer blobs/sha256/3333");

    // The same layer cut short: an error that names the member, exit 2.
    let image = tar_of(&[("blobs/sha256/4444", &layer[..layer.len() / 2])]);
    let output = scan_image(&env, "cut.tar", image, &[]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("blobs/sha256/4444"), "{stderr}");

    // A Zstandard frame is not read: a warning says which member.
    let mut zstd = vec![0x28, 0xb5, 0x2f, 0xfd];
    zstd.extend_from_slice(format!("GH={token}").as_bytes());
    let output = scan_image(
        &env,
        "zstd.tar",
        tar_of(&[("blobs/sha256/5555", &zstd)]),
        &[],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("blobs/sha256/5555: zstd-compressed layer; skipped"),
        "{stderr}"
    );
}
