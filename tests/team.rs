//! Team access through the real binary: recipients with age and SSH keys,
//! removal that really revokes, data-key and value rotation, the exposure
//! ledger on a real git history, the access matrix, Rails credentials
//! import and doctor.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{TestEnv, git, ok, run, text, write_identity};

/// Asserts exit 2 with an error line and a hint line; returns stderr.
#[track_caller]
fn fails_with_hint(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {err}",
        text(&out.stdout)
    );
    assert!(err.contains("kseal: error:"), "{err}");
    assert!(err.contains("\n  hint: "), "no hint: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// `kseal recipients add KEY --label LABEL -d production`, which must work.
fn add_to_production(env: &TestEnv, key: &str, label: &str) {
    ok(&run(
        env.kseal().args([
            "recipients",
            "add",
            key,
            "--label",
            label,
            "-d",
            "production",
        ]),
        b"",
    ));
}

/// A Kamal app with its own HOME and the user's own age identity.
fn app() -> TestEnv {
    let env = TestEnv::new();
    env.write("config/deploy.yml", "service: app\n");
    ok(&run(env.kseal().arg("keygen"), b""));
    env
}

fn set(env: &TestEnv, name: &str, scope: &[&str], value: &[u8]) {
    ok(&run(env.kseal().args(["set", name]).args(scope), value));
}

/// `kseal get` with only the identity file `id`.
fn get_with(env: &TestEnv, id: &Path, name: &str, scope: &[&str]) -> Output {
    run(
        env.kseal()
            .arg("-i")
            .arg(id)
            .args(["get", name])
            .args(scope),
        b"",
    )
}

fn ssh_keygen(dir: &Path, kind: &str, file: &str) -> PathBuf {
    let path = dir.join(file);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args([
        "-q",
        "-t",
        kind,
        "-N",
        "",
        "-C",
        &format!("{file}@example.com"),
        "-f",
    ])
    .arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    assert!(cmd.status().unwrap().success());
    path
}

/// Every file under the store folder and the secrets files, with bytes.
fn snapshot(env: &TestEnv) -> BTreeMap<PathBuf, Vec<u8>> {
    crate::util::snapshot(&env.app().join(".kamal"))
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("stdout is JSON")
}

#[test]
fn removed_key_opens_nothing_sealed_afterwards_and_the_rest_open_everything() {
    let env = app();
    let me = env.config_home().join("kseal/identity.txt");
    let keys = env.home().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    let bob = keys.join("bob.txt");
    let bob_pub = write_identity(&bob);
    let ed = ssh_keygen(&keys, "ed25519", "carol");
    let rsa = ssh_keygen(&keys, "rsa", "dave");

    set(&env, "DB", &["-d", "production"], b"db-secret");
    set(&env, "API", &["-d", "staging"], b"api-secret");
    set(&env, "COMMON", &["--shared"], b"shared-secret");
    ok(&run(
        env.kseal().args([
            "recipients",
            "add",
            &bob_pub,
            "--label",
            "bob@example.com",
            "--all",
        ]),
        b"",
    ));
    for pub_file in [ed.with_extension("pub"), rsa.with_extension("pub")] {
        ok(&run(
            env.kseal()
                .args(["recipients", "add"])
                .arg(&pub_file)
                .arg("--all"),
            b"",
        ));
    }
    // The SSH comment became the label.
    let listed = json(&run(
        env.kseal().args(["recipients", "list", "--all", "--json"]),
        b"",
    ));
    let labels: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["scope"] == "production")
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels[1..],
        ["bob@example.com", "carol@example.com", "dave@example.com"]
    );
    let kinds: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"ssh-ed25519") && kinds.contains(&"ssh-rsa"));
    assert_eq!(
        ok(&get_with(&env, &bob, "DB", &["-d", "production"])),
        "db-secret"
    );

    ok(&run(
        env.kseal()
            .args(["recipients", "rm", "bob@example.com", "--all"]),
        b"",
    ));
    // Sealed afterwards: a new secret, and the old ones under the new key.
    set(&env, "LATER", &["-d", "production"], b"later-secret");
    for (name, scope) in [
        ("DB", ["-d", "production"].as_slice()),
        ("LATER", &["-d", "production"]),
        ("API", &["-d", "staging"]),
        ("COMMON", &["--shared"]),
    ] {
        let out = get_with(&env, &bob, name, scope);
        let err = fails_with_hint(&out);
        assert!(err.contains("none of your identities"), "{err}");
        for id in [&me, &ed, &rsa] {
            let value = ok(&get_with(&env, id, name, scope));
            assert!(value.ends_with("-secret"), "{name} for {}", id.display());
        }
    }
    let sealed = text(&env.read(".kamal/kseal/secrets.production.sealed"));
    assert!(!sealed.contains(&bob_pub));
}

#[test]
fn remove_re_seals_every_value_and_refuses_the_last_recipient() {
    let env = app();
    let bob = env.home().join("bob.txt");
    let bob_pub = write_identity(&bob);
    set(&env, "A", &[], b"one");
    set(&env, "B", &[], b"two");
    ok(&run(env.kseal().args(["recipients", "add", &bob_pub]), b""));
    let before = text(&env.read(".kamal/kseal/secrets.sealed"));
    // Outside git the ledger still lists what the key could read, with no
    // commit to date it.
    let ledger = json(&run(
        env.kseal().args(["recipients", "rm", &bob_pub, "--json"]),
        b"",
    ));
    assert_eq!(ledger["git_history"], false);
    let secrets = &ledger["files"][0]["secrets"];
    assert_eq!(secrets[0]["name"], "A");
    assert_eq!(secrets[1]["name"], "B");
    assert!(secrets[0]["since"].is_null() && secrets[1]["current"] == true);
    let after = text(&env.read(".kamal/kseal/secrets.sealed"));
    let secret_lines = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("secret "))
            .map(str::to_owned)
            .collect()
    };
    let (old, new) = (secret_lines(&before), secret_lines(&after));
    assert_eq!(old.len(), 2);
    for (o, n) in old.iter().zip(&new) {
        assert_ne!(o, n, "every value is sealed again under the new key");
    }

    let mine = std::fs::read_to_string(env.config_home().join("kseal/identity.txt")).unwrap();
    let own_pub = age_public(&mine);
    let snap = snapshot(&env);
    let err = fails_with_hint(&run(env.kseal().args(["recipients", "rm", &own_pub]), b""));
    assert!(err.contains("last recipient"), "{err}");
    assert_eq!(snap, snapshot(&env));
}

/// The public key of an age identity file's text.
fn age_public(identity: &str) -> String {
    let out = Command::new("age-keygen")
        .arg("-y")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(identity.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn every_bad_key_label_or_destination_exits_2_with_a_hint_and_changes_nothing() {
    let env = app();
    set(&env, "A", &["-d", "production"], b"one");
    set(&env, "S", &["--shared"], b"two");
    let bob = env.home().join("bob.txt");
    let bob_pub = write_identity(&bob);
    add_to_production(&env, &bob_pub, "bob");
    let private = std::fs::read_to_string(&bob).unwrap();
    let private = private.trim();
    env.write("two.pub", format!("{bob_pub}\n{bob_pub}\n"));
    env.write("empty.pub", "# nothing here\n");
    // The last character changed, which breaks the Bech32 checksum; a key
    // that already ends in `x` gets a `y`, so the key always differs.
    let last = if bob_pub.ends_with('x') { 'y' } else { 'x' };
    let mangled = format!("{}{last}", &bob_pub[..bob_pub.len() - 1]);
    let rsa_short = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQ";
    let dsa = "ssh-dss AAAAB3NzaC1kc3MAAACBAP";

    let cases: Vec<Vec<&str>> = vec![
        vec!["recipients", "add", "age1notakey", "-d", "production"],
        vec!["recipients", "add", &mangled, "-d", "production"],
        vec!["recipients", "add", rsa_short, "--all"],
        vec!["recipients", "add", dsa, "--all"],
        vec!["recipients", "add", private, "--all"],
        vec!["recipients", "add", "two.pub", "--all"],
        vec!["recipients", "add", "empty.pub", "--all"],
        vec!["recipients", "add", "no-such-file.pub", "--all"],
        vec!["recipients", "add", &bob_pub, "--label", " padded", "--all"],
        vec![
            "recipients",
            "add",
            &bob_pub,
            "--label",
            "tab\there",
            "--all",
        ],
        vec!["recipients", "add", &bob_pub, "-d", "../production"],
        vec!["recipients", "add", &bob_pub, "-d", "prod uction"],
        vec!["recipients", "add", &bob_pub, "-d", "staging"],
        vec!["recipients", "rm", &bob_pub, "-d", "../x"],
        vec!["recipients", "rm", &bob_pub, "--shared"],
        vec!["recipients", "rm", "nobody@example.com", "--all"],
        vec!["recipients", "rm", &mangled, "--all"],
        vec!["recipients", "rm", private, "--all"],
        vec!["recipients", "list", "--destination=-bad"],
        vec!["rotate", "-d", "a/b"],
        vec!["rotate", "-d", "staging"],
        vec!["rotate", "NOPE", "--generate", "-d", "production"],
        vec!["rotate", "A", "--generate", "4", "-d", "production"],
        vec!["access", "-d", "production"],
    ];
    let long_label = "x".repeat(201);
    let mut cases = cases;
    cases.push(vec![
        "recipients",
        "add",
        &bob_pub,
        "--label",
        &long_label,
        "--all",
    ]);

    let before = snapshot(&env);
    for case in &cases {
        let out = run(env.kseal().args(case), b"");
        let err = text(&out.stderr);
        if case[0] == "access" {
            // A usage error from the argument parser: exit 2 as well.
            assert_eq!(out.status.code(), Some(2), "{case:?}: {err}");
        } else {
            fails_with_hint(&out);
        }
        assert!(
            !err.contains("AGE-SECRET-KEY"),
            "{case:?} echoed a private key: {err}"
        );
        assert_eq!(before, snapshot(&env), "{case:?} changed a file");
    }
}

#[test]
fn rotate_changes_the_data_key_or_one_value() {
    let env = app();
    set(&env, "A", &["-d", "production"], b"alpha");
    set(&env, "B", &["-d", "production"], b"beta");
    let path = ".kamal/kseal/secrets.production.sealed";
    let before = text(&env.read(path));
    ok(&run(env.kseal().args(["rotate", "-d", "production"]), b""));
    let after = text(&env.read(path));
    let datakey = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("datakey "))
            .unwrap()
            .to_owned()
    };
    assert_ne!(datakey(&before), datakey(&after));
    let get = |name: &str| {
        ok(&run(
            env.kseal().args(["get", name, "-d", "production"]),
            b"",
        ))
    };
    assert_eq!(get("A"), "alpha");
    assert_eq!(get("B"), "beta");

    ok(&run(
        env.kseal().args([
            "rotate",
            "A",
            "--generate",
            "40",
            "--charset",
            "hex",
            "-d",
            "production",
        ]),
        b"",
    ));
    let rotated = get("A");
    assert_eq!(rotated.len(), 40);
    assert!(rotated.bytes().all(|b| b.is_ascii_hexdigit()), "{rotated}");
    assert_eq!(get("B"), "beta");
    let third = text(&env.read(path));
    assert_eq!(datakey(&after), datakey(&third), "one value, same data key");
    let line_of = |t: &str, name: &str| {
        t.lines()
            .find(|l| l.starts_with(&format!("secret {name} ")))
            .unwrap()
            .to_owned()
    };
    assert_ne!(line_of(&after, "A"), line_of(&third, "A"));
    assert_eq!(line_of(&after, "B"), line_of(&third, "B"));
}

#[test]
fn access_matrix_counts_secrets_per_recipient_and_file() {
    let env = app();
    set(&env, "A", &["-d", "production"], b"1");
    set(&env, "B", &["-d", "production"], b"2");
    set(&env, "C", &["--shared"], b"3");
    let bob_pub = write_identity(&env.home().join("bob.txt"));
    add_to_production(&env, &bob_pub, "bob");
    // Without -d or --shared, list shows every file.
    let listed = json(&run(
        env.kseal().args(["recipients", "list", "--json"]),
        b"",
    ));
    let rows: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["scope"].as_str().unwrap(), r["label"].as_str().unwrap()))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[2], ("production", "bob"));
    let matrix = json(&run(env.kseal().args(["access", "--json"]), b""));
    let scopes: Vec<&str> = matrix["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["shared", "production"]);
    let bob = matrix["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == bob_pub.as_str())
        .unwrap();
    assert_eq!(bob["secrets"], serde_json::json!([null, 2]));
    assert_eq!(bob["total"], 2);
    assert_eq!(matrix["recipients"].as_array().unwrap().len(), 2);

    let table = ok(&run(env.kseal().arg("access"), b""));
    let bob_line = table.lines().find(|l| l.starts_with("bob ")).unwrap();
    let cells: Vec<&str> = bob_line.split_whitespace().collect();
    assert_eq!(cells, ["bob", "-", "2", "2"]);
}

/// Commits everything in the app with a fixed date, so the ledger's dates
/// can be checked.
fn commit(env: &TestEnv, message: &str, date: &str) -> String {
    git(&env.app(), &["add", "-A"]);
    let status = Command::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["-c", "core.hooksPath=", "commit", "-q", "-m", message])
        .env("GIT_COMMITTER_DATE", date)
        .env("GIT_AUTHOR_DATE", date)
        .current_dir(env.app())
        .status()
        .unwrap();
    assert!(status.success());
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env.app())
        .output()
        .unwrap();
    text(&out.stdout).trim().to_owned()
}

#[test]
fn exposure_ledger_reads_when_the_key_could_read_each_secret_from_git() {
    let env = app();
    git(&env.app(), &["init", "-q"]);
    let bob_pub = write_identity(&env.home().join("bob.txt"));
    let carol_pub = write_identity(&env.home().join("carol.txt"));
    let scope = ["-d", "production"];

    set(&env, "GONE", &scope, b"gone");
    set(&env, "OLD", &scope, b"old");
    ok(&run(
        env.kseal()
            .args(["recipients", "add", &carol_pub, "--label", "carol"])
            .args(scope),
        b"",
    ));
    commit(&env, "store with carol", "2026-01-01T00:00:00Z");
    // GONE goes and the data key is rotated: bob, added later, never gets
    // the key that sealed GONE.
    ok(&run(env.kseal().args(["rm", "GONE"]).args(scope), b""));
    ok(&run(env.kseal().args(["rotate"]).args(scope), b""));
    let rotated = commit(&env, "GONE out, rotate", "2026-01-15T00:00:00Z");
    set(&env, "EARLY", &scope, b"early");
    let early = commit(&env, "EARLY in", "2026-01-20T00:00:00Z");
    ok(&run(
        env.kseal()
            .args(["recipients", "add", &bob_pub, "--label", "bob"])
            .args(scope),
        b"",
    ));
    let bob_added = commit(&env, "add bob", "2026-02-01T00:00:00Z");
    set(&env, "NEW", &scope, b"new");
    ok(&run(env.kseal().args(["rm", "OLD"]).args(scope), b""));
    ok(&run(
        env.kseal().args(["recipients", "rm", "carol"]).args(scope),
        b"",
    ));
    let new_added = commit(&env, "NEW in, OLD out, carol out", "2026-03-01T00:00:00Z");
    set(&env, "UNCOMMITTED", &scope, b"u");
    // A shared file bob was never on stays out of his ledger.
    set(&env, "SHARED", &["--shared"], b"s");

    let ledger = json(&run(
        env.kseal()
            .args(["recipients", "rm", "bob", "--all", "--json"]),
        b"",
    ));
    assert_eq!(ledger["git_history"], true);
    assert_eq!(ledger["labels"], serde_json::json!(["bob"]));
    let files = ledger["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{ledger:#}");
    let file = &files[0];
    assert_eq!(file["scope"], "production");
    assert_eq!(file["recipient_since"]["commit"], bob_added.as_str());
    assert_eq!(file["recipient_since"]["date"], "2026-02-01T00:00:00Z");
    let secrets: Vec<(String, bool, Option<String>, bool)> = file["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["current"].as_bool().unwrap(),
                s["since"]["commit"].as_str().map(str::to_owned),
                s["sealed_before_added"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        secrets,
        [
            ("EARLY".to_owned(), true, Some(early.clone()), true),
            ("NEW".to_owned(), true, Some(new_added.clone()), false),
            ("OLD".to_owned(), false, Some(rotated.clone()), true),
            ("UNCOMMITTED".to_owned(), true, None, false),
        ]
    );

    // Carol, removed in an earlier commit, has a ledger of her own past.
    commit(&env, "bob out", "2026-04-01T00:00:00Z");
    let carol = age_public(&std::fs::read_to_string(env.home().join("carol.txt")).unwrap());
    assert_eq!(carol, carol_pub);
    let err = fails_with_hint(&run(
        env.kseal()
            .args(["recipients", "rm", &carol_pub])
            .args(scope),
        b"",
    ));
    assert!(err.contains("is not a recipient"), "{err}");

    // The human form names each secret with its commit.
    let env2 = app();
    git(&env2.app(), &["init", "-q"]);
    set(&env2, "TOKEN", &[], b"t");
    let dave_pub = write_identity(&env2.home().join("dave.txt"));
    ok(&run(
        env2.kseal()
            .args(["recipients", "add", &dave_pub, "--label", "dave"]),
        b"",
    ));
    let added = commit(&env2, "dave", "2026-05-01T00:00:00Z");
    let out = run(env2.kseal().args(["recipients", "rm", "dave"]), b"");
    let report = ok(&out);
    assert!(
        report.contains("Exposure ledger for dave: 1 secret"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "TOKEN  since {} (2026-05-01T00:00:00Z)",
            &added[..12]
        )),
        "{report}"
    );
    assert!(report.contains("rotate"), "{report}");
}

/// Writes `config/<rel>` as Rails would from `input` (JSON, or YAML with
/// `raw`), with the key file `config/<key>`, by the Ruby script in
/// tests/support.
fn rails_credentials(env: &TestEnv, rel: &str, key: &str, input: &str, raw: bool) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/rails_credentials.rb");
    let enc = env.app().join("config").join(rel);
    std::fs::create_dir_all(enc.parent().unwrap()).unwrap();
    let mut cmd = Command::new("ruby");
    cmd.arg(&script);
    if raw {
        cmd.arg("--raw");
    }
    cmd.arg(&enc).arg(env.app().join("config").join(key));
    let out = run(&mut cmd, input.as_bytes());
    assert!(
        out.status.success(),
        "the Ruby encoder (install `ruby`) failed: {}",
        text(&out.stderr)
    );
}

#[test]
fn rails_credentials_import_byte_exact_from_a_ruby_made_file() {
    let env = app();
    let pem =
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\nkqhkiG9w0BAQEF\n-----END PRIVATE KEY-----\n";
    // Over 65535 bytes: Marshal writes the YAML's length in three bytes.
    let big: String = (0..70_000u32)
        .map(|i| char::from(b"AZaz09+/="[(i % 9) as usize]))
        .collect();
    let values = serde_json::json!({
        "secret_key_base": "a".repeat(128),
        "aws": {
            "access_key_id": "AKIA0123",
            "secret_access_key": "s3cr3t/+=with$dollar#hash 'q' \"dq\" \\back",
            "nested": { "deep": "ünïcødé ✓" }
        },
        "pem": pem,
        "spaces": "  padded  ",
        "looks_like_bool": "yes",
        "port": 5432,
        "enabled": true,
        "empty_string": "",
        "big": big,
    });
    rails_credentials(
        &env,
        "credentials/production.yml.enc",
        "credentials/production.key",
        &values.to_string(),
        false,
    );
    let out = run(
        env.kseal().args([
            "import",
            "config/credentials/production.yml.enc",
            "-d",
            "production",
            "--wire",
        ]),
        b"",
    );
    ok(&out);
    let expected: [(&str, String); 11] = [
        ("BIG", big.clone()),
        ("SECRET_KEY_BASE", "a".repeat(128)),
        ("AWS__ACCESS_KEY_ID", "AKIA0123".into()),
        (
            "AWS__SECRET_ACCESS_KEY",
            "s3cr3t/+=with$dollar#hash 'q' \"dq\" \\back".into(),
        ),
        ("AWS__NESTED__DEEP", "ünïcødé ✓".into()),
        ("PEM", pem.into()),
        ("SPACES", "  padded  ".into()),
        ("LOOKS_LIKE_BOOL", "yes".into()),
        ("PORT", "5432".into()),
        ("ENABLED", "true".into()),
        ("EMPTY_STRING", String::new()),
    ];
    for (name, value) in &expected {
        let got = run(env.kseal().args(["get", name, "-d", "production"]), b"");
        assert_eq!(
            got.stdout,
            value.as_bytes(),
            "{name}: {}",
            text(&got.stderr)
        );
    }
    // --wire added the reference lines Kamal reads.
    let wired = text(&env.read(".kamal/secrets.production"));
    assert!(
        wired.contains("AWS__SECRET_ACCESS_KEY=$AWS__SECRET_ACCESS_KEY"),
        "{wired}"
    );
    assert!(wired.contains("PEM=$PEM"), "{wired}");
    // No value reached the report.
    let report = text(&out.stderr);
    assert!(
        !report.contains("AKIA0123") && !report.contains("s3cr3t"),
        "{report}"
    );

    // Hand-written YAML with comments, a list and a bad name: the list and
    // the name are reported by path, the rest imported.
    rails_credentials(
        &env,
        "credentials.yml.enc",
        "master.key",
        "# aws:\n#   key: commented out\nsecret_key_base: \"abc\"\nhosts:\n  - a\n  - b\nbad-name: v\n",
        true,
    );
    let out = run(
        env.kseal().args(["import", "config/credentials.yml.enc"]),
        b"",
    );
    ok(&out);
    let report = text(&out.stderr);
    assert!(
        report.contains("config/credentials.yml.enc: hosts: skipped, a list"),
        "{report}"
    );
    assert!(report.contains("bad-name: skipped"), "{report}");
    assert_eq!(
        ok(&run(env.kseal().args(["get", "SECRET_KEY_BASE"]), b"")),
        "abc"
    );
    assert!(
        report.contains("SECRET_KEY_BASE=$SECRET_KEY_BASE"),
        "{report}"
    );
}

#[test]
fn rails_master_key_from_the_environment_and_wrong_keys() {
    let env = app();
    rails_credentials(
        &env,
        "credentials/staging.yml.enc",
        "credentials/staging.key",
        r#"{"api_token": "tok-123"}"#,
        false,
    );
    let key_file = env.app().join("config/credentials/staging.key");
    let key = std::fs::read_to_string(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let import = [
        "import",
        "config/credentials/staging.yml.enc",
        "-d",
        "staging",
    ];

    let before = snapshot(&env);
    let err = fails_with_hint(&run(env.kseal().args(import), b""));
    assert!(err.contains("staging.key does not exist"), "{err}");
    assert!(err.contains("RAILS_MASTER_KEY"), "{err}");

    let wrong = "0123456789abcdef0123456789abcdef";
    let err = fails_with_hint(&run(
        env.kseal().args(import).env("RAILS_MASTER_KEY", wrong),
        b"",
    ));
    assert!(
        err.contains("cannot decrypt with the key from RAILS_MASTER_KEY"),
        "{err}"
    );
    assert!(!err.contains(wrong), "{err}");
    let err = fails_with_hint(&run(
        env.kseal().args(import).env("RAILS_MASTER_KEY", "not-hex"),
        b"",
    ));
    assert!(
        err.contains("RAILS_MASTER_KEY: the master key has 7 characters"),
        "{err}"
    );
    env.write("wrong.key", wrong);
    let err = fails_with_hint(&run(
        env.kseal().args(import).args(["--rails-key", "wrong.key"]),
        b"",
    ));
    assert!(err.contains("key from wrong.key"), "{err}");
    env.write("config/credentials/staging.yml.enc", "not--rails");
    let err = fails_with_hint(&run(
        env.kseal().args(import).env("RAILS_MASTER_KEY", key.trim()),
        b"",
    ));
    assert!(err.contains("not a Rails encrypted file"), "{err}");
    assert_eq!(before, snapshot(&env), "a failed import changes nothing");

    std::fs::write(&key_file, &key).unwrap();
    rails_credentials(
        &env,
        "credentials/staging.yml.enc",
        "credentials/staging.key",
        r#"{"api_token": "tok-123"}"#,
        false,
    );
    std::fs::remove_file(&key_file).unwrap();
    ok(&run(
        env.kseal().args(import).env("RAILS_MASTER_KEY", key.trim()),
        b"",
    ));
    assert_eq!(
        ok(&run(
            env.kseal().args(["get", "API_TOKEN", "-d", "staging"]),
            b""
        )),
        "tok-123"
    );
}

fn doctor(env: &TestEnv) -> (Option<i32>, Vec<(String, String, String)>) {
    let out = run(env.kseal().args(["doctor", "--json"]), b"");
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["fix"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (out.status.code(), list)
}

#[test]
fn doctor_finds_loose_keys_tracked_secrets_and_stores_you_cannot_open() {
    use std::os::unix::fs::PermissionsExt;

    let env = app();
    git(&env.app(), &["init", "-q"]);
    env.write(
        ".gitignore",
        "/config/master.key\n/config/credentials/*.key\n/.env\n",
    );
    set(&env, "A", &["-d", "production"], b"one");
    let (code, findings) = doctor(&env);
    assert_eq!((code, findings.len()), (Some(0), 0), "{findings:?}");

    // A store sealed to someone else only, a tracked master key and .env,
    // and a .gitignore that no longer covers them.
    let bob = env.home().join("bob.txt");
    write_identity(&bob);
    ok(&run(
        env.kseal()
            .arg("-i")
            .arg(&bob)
            .args(["set", "B", "-d", "staging"]),
        b"two",
    ));
    env.write("config/master.key", "0123456789abcdef0123456789abcdef");
    env.write(".env", "DATABASE_URL=postgres://u:p@h/db\n");
    env.write(".gitignore", "");
    git(&env.app(), &["add", "-A"]);
    let (code, findings) = doctor(&env);
    assert_eq!(code, Some(1));
    let kinds: Vec<(&str, &str)> = findings
        .iter()
        .map(|(k, p, _)| (k.as_str(), p.as_str()))
        .collect();
    for expected in [
        ("not-a-recipient", ".kamal/kseal/secrets.staging.sealed"),
        ("tracked-secret-file", "config/master.key"),
        ("tracked-secret-file", ".env"),
        ("not-ignored", "config/master.key"),
        ("not-ignored", "config/credentials/production.key"),
        ("not-ignored", ".env"),
    ] {
        assert!(
            kinds.contains(&expected),
            "{expected:?} missing from {kinds:?}"
        );
    }
    assert_eq!(kinds.len(), 6, "{kinds:?}");
    let fix_of = |kind: &str| findings.iter().find(|f| f.0 == kind).unwrap().2.clone();
    assert!(fix_of("not-a-recipient").contains("kseal recipients add 'age1"));
    assert!(fix_of("tracked-secret-file").contains("git rm --cached"));
    assert!(fix_of("not-ignored").contains("to .gitignore"));

    // An identity file others can read.
    let identity = env.config_home().join("kseal/identity.txt");
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, findings) = doctor(&env);
    assert_eq!(code, Some(1));
    let mode = findings.iter().find(|f| f.0 == "identity-mode").unwrap();
    assert_eq!(mode.2, format!("chmod 600 {}", identity.display()));
    let human = run(env.kseal().arg("doctor"), b"");
    assert_eq!(human.status.code(), Some(1));
    assert!(
        text(&human.stdout).contains("  fix: chmod 600 "),
        "{}",
        text(&human.stdout)
    );
    // The master key's value never reaches the report.
    assert!(!text(&human.stdout).contains("0123456789abcdef"));
}

#[test]
fn all_files_change_together_or_not_at_all() {
    let env = app();
    set(&env, "A", &["-d", "production"], b"one");
    // A file sealed to bob only: this user cannot open it.
    let bob = env.home().join("bob.txt");
    write_identity(&bob);
    ok(&run(
        env.kseal()
            .arg("-i")
            .arg(&bob)
            .args(["set", "B", "-d", "staging"]),
        b"two",
    ));
    let carol_pub = write_identity(&env.home().join("carol.txt"));
    let before = snapshot(&env);
    for args in [
        vec!["recipients", "add", carol_pub.as_str(), "--all"],
        vec!["rotate", "--all"],
    ] {
        let err = fails_with_hint(&run(env.kseal().args(&args), b""));
        assert!(err.contains("secrets.staging.sealed"), "{args:?}: {err}");
        assert_eq!(before, snapshot(&env), "{args:?} wrote a file");
    }
    // With both identities every file opens, and both change.
    let me = env.config_home().join("kseal/identity.txt");
    ok(&run(
        env.kseal().arg("-i").arg(&me).arg("-i").arg(&bob).args([
            "recipients",
            "add",
            &carol_pub,
            "--label",
            "carol",
            "--all",
        ]),
        b"",
    ));
    for file in ["secrets.production.sealed", "secrets.staging.sealed"] {
        let sealed = text(&env.read(format!(".kamal/kseal/{file}")));
        assert!(
            sealed.contains(&format!("recipient {carol_pub} carol")),
            "{file}"
        );
    }
}

#[test]
fn import_offers_to_wire_on_a_terminal_and_only_there() {
    let env = app();
    env.write(".env", "API_TOKEN=tok\n");
    // Without a terminal nothing is wired; kseal says how.
    let out = run(
        env.kseal().args(["import", ".env", "-d", "production"]),
        b"y\n",
    );
    let err = text(&ok_status(&out).stderr);
    assert!(err.contains("API_TOKEN=$API_TOKEN"), "{err}");
    assert!(err.contains("--wire"), "{err}");
    assert!(!env.app().join(".kamal/secrets.production").exists());

    // On a terminal kseal asks, and "y" wires.
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let command = format!(
        "env -i PATH={} HOME={} XDG_CONFIG_HOME={} NO_COLOR=1 {} -C {} import .env -d production",
        quote(&std::env::var("PATH").unwrap_or_default()),
        quote(&env.home().display().to_string()),
        quote(&env.config_home().display().to_string()),
        quote(env!("CARGO_BIN_EXE_kseal")),
        quote(&env.app().display().to_string()),
    );
    let shell = format!(
        "(sleep 1; printf 'y\\n'; sleep 1) | timeout 60 script -qec {} /dev/null",
        quote(&command)
    );
    let out = Command::new("sh").arg("-c").arg(shell).output().unwrap();
    let screen = text(&out.stdout);
    assert!(
        screen.contains("Add them to .kamal/secrets.production now? [y/N]"),
        "{screen}"
    );
    let wired = text(&env.read(".kamal/secrets.production"));
    assert!(wired.contains("API_TOKEN=$API_TOKEN"), "{wired}");
}

#[track_caller]
fn ok_status(out: &Output) -> &Output {
    ok(out);
    out
}

/// The data key of a sealed file's bytes, unwrapped with the identity file
/// at `id`.
fn data_key(sealed: &[u8], id: &Path) -> Vec<u8> {
    let file = kseal::store::SealedFile::parse(sealed).unwrap();
    let ids = kseal::keys::discover(&[id.to_owned()]).unwrap();
    let key = kseal::store::datakey::DataKey::unwrap(file.wrapped_key(), &ids).unwrap();
    key.expose().to_vec()
}

#[test]
fn add_keeps_the_data_key_unless_told_to_rotate_first() {
    let env = app();
    let me = env.config_home().join("kseal/identity.txt");
    set(&env, "A", &[], b"one");
    let path = ".kamal/kseal/secrets.sealed";
    let before = env.read(path);

    // Plain add: the newcomer's key unwraps the very data key that sealed
    // the earlier revision, so that revision is open to them too.
    let bob = env.home().join("bob.txt");
    let bob_pub = write_identity(&bob);
    ok(&run(env.kseal().args(["recipients", "add", &bob_pub]), b""));
    assert_eq!(data_key(&before, &me), data_key(&env.read(path), &bob));

    // With --rotate, it does not.
    let carol = env.home().join("carol.txt");
    let carol_pub = write_identity(&carol);
    let before = env.read(path);
    let out = run(
        env.kseal()
            .args(["recipients", "add", &carol_pub, "--rotate"]),
        b"",
    );
    ok(&out);
    assert!(text(&out.stderr).contains("new data key, then added"));
    assert_ne!(data_key(&before, &me), data_key(&env.read(path), &carol));
    assert_eq!(ok(&get_with(&env, &carol, "A", &[])), "one");
    assert_eq!(ok(&get_with(&env, &bob, "A", &[])), "one");
}
