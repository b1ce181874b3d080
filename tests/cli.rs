//! The store commands through the real binary: keygen and identity
//! discovery, init, set, get, rm, export, fetch, import, edit, and the
//! canary that must never leak.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{TestEnv, ok, run, text};

/// A value that must never show up anywhere but where it is asked for.
const CANARY: &str = "kseal-canary-7Hq2vZ";

#[track_caller]
fn fails(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert!(err.contains("kseal: error:"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// A fresh Kamal app (`config/deploy.yml`) with its own HOME.
fn app() -> TestEnv {
    let env = TestEnv::new();
    env.write("config/deploy.yml", "service: app\n");
    env
}

/// Runs `kseal keygen` in the environment and returns the public key.
fn keygen(env: &TestEnv) -> String {
    let out = ok(&run(env.kseal().arg("keygen"), b""));
    out.trim().to_owned()
}

fn set(env: &TestEnv, name: &str, dest: &[&str], value: &[u8]) {
    ok(&run(env.kseal().args(["set", name]).args(dest), value));
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn identity_path(env: &TestEnv) -> PathBuf {
    env.config_home().join("kseal/identity.txt")
}

#[test]
fn keygen_writes_a_private_identity_once_and_prints_its_public_key() {
    let env = app();
    let public = keygen(&env);
    assert!(public.starts_with("age1"), "{public}");
    let path = identity_path(&env);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let before = std::fs::read(&path).unwrap();

    let err = fails(&run(env.kseal().arg("keygen"), b""));
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let shown = ok(&run(env.kseal().args(["keygen", "--show-public"]), b""));
    assert_eq!(shown.trim(), public);

    // The stock age CLI reads the identity kseal wrote.
    let age = Command::new("age-keygen")
        .arg("-y")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(text(&age.stdout).trim(), public);
}

#[test]
fn identity_readable_by_others_is_refused_with_the_chmod_fix() {
    let env = app();
    keygen(&env);
    let path = identity_path(&env);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = fails(&run(env.kseal().args(["set", "A"]), b"x"));
    assert!(err.contains("accessible by group or others"), "{err}");
    assert!(err.contains("hint: ") && err.contains("chmod 600"), "{err}");
    assert!(!env.app().join(".kamal/kseal/secrets.sealed").exists());
}

#[test]
fn ci_identity_from_the_environment_as_text_or_path() {
    let env = app();
    keygen(&env);
    set(&env, "A", &["-d", "production"], b"one");
    let path = identity_path(&env);
    let key = std::fs::read_to_string(&path).unwrap();
    let moved = env.home().join("ci.key");
    std::fs::rename(&path, &moved).unwrap();

    let err = fails(&run(
        env.kseal().args(["get", "A", "-d", "production"]),
        b"",
    ));
    assert!(err.contains("no identity found"), "{err}");

    let by_text = run(
        env.kseal()
            .env("KSEAL_IDENTITY", &key)
            .args(["get", "A", "-d", "production"]),
        b"",
    );
    assert_eq!(ok(&by_text), "one");
    let by_path = run(
        env.kseal()
            .env("KSEAL_IDENTITY_FILE", &moved)
            .args(["get", "A", "-d", "production"]),
        b"",
    );
    assert_eq!(ok(&by_path), "one");
}

fn ssh_keygen(env: &TestEnv, kind: &str, file: &str, passphrase: &str) -> PathBuf {
    let dir = env.home().join(".ssh");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", passphrase, "-C", "test", "-f"])
        .arg(&path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    assert!(cmd.status().unwrap().success());
    path
}

#[test]
fn ssh_keys_in_home_are_identities() {
    for (kind, file) in [("ed25519", "id_ed25519"), ("rsa", "id_rsa")] {
        let env = app();
        let key = ssh_keygen(&env, kind, file, "");
        set(&env, "A", &[], b"via ssh");
        let sealed = text(&env.read(".kamal/kseal/secrets.sealed"));
        let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        let blob = public.split_whitespace().nth(1).unwrap();
        assert!(sealed.contains(blob), "{kind}: sealed to the SSH key");
        assert_eq!(ok(&run(env.kseal().args(["get", "A"]), b"")), "via ssh");
    }
}

#[test]
fn passphrase_protected_identities_ask_on_a_terminal_only() {
    let env = app();
    let path = env.home().join("protected.key");
    // `script` gives kseal a terminal and types the passphrase into it.
    let keygen = format!(
        "{} keygen --passphrase -o {}",
        env!("CARGO_BIN_EXE_kseal"),
        path.display()
    );
    let out = typed(&keygen, &["correct horse", "correct horse"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(file.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    assert_eq!(mode(&path), 0o600);

    let set = format!(
        "printf v | {} -i {} set A",
        env!("CARGO_BIN_EXE_kseal"),
        path.display()
    );
    let set = format!("cd {} && {set}", env.app().display());
    let out = typed(&set, &["correct horse"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let get = format!(
        "cd {} && {} -i {} get A",
        env.app().display(),
        env!("CARGO_BIN_EXE_kseal"),
        path.display()
    );
    let out = typed(&get, &["wrong", "wrong", "wrong"]);
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("wrong passphrase"));

    // No terminal at all (a new session without a controlling one).
    let out = run(
        Command::new("setsid")
            .arg("-w")
            .arg(env!("CARGO_BIN_EXE_kseal"))
            .arg("-i")
            .arg(&path)
            .args(["get", "A"])
            .current_dir(env.app()),
        b"",
    );
    let err = fails(&out);
    assert!(err.contains("no terminal"), "{err}");
    assert!(err.contains("KSEAL_IDENTITY"), "{err}");
}

/// Runs `command` under `script` on a fresh terminal, typing each of
/// `lines` after a pause so that it answers a prompt.
fn typed(command: &str, lines: &[&str]) -> Output {
    let mut feed = String::new();
    for line in lines {
        feed.push_str(&format!("sleep 1; printf '%s\\n' '{line}'; "));
    }
    feed.push_str("sleep 1");
    let shell = format!(
        "({feed}) | timeout 60 script -qec {} /dev/null",
        shell_quote(command)
    );
    Command::new("sh").arg("-c").arg(shell).output().unwrap()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[test]
fn init_creates_identity_store_and_references_without_touching_other_lines() {
    let env = app();
    env.write("config/deploy.yml", "service: app\n");
    let mine = "# my notes\nRAILS_ENV=production\nDB_PASSWORD=hunter2\n";
    env.write(".kamal/secrets.production", mine);

    let out = run(env.kseal().args(["init", "-d", "production"]), b"");
    let public = ok(&out);
    assert!(public.trim().starts_with("age1"));
    assert!(identity_path(&env).exists());
    assert!(
        env.app()
            .join(".kamal/kseal/secrets.production.sealed")
            .exists()
    );

    set(&env, "DB_PASSWORD", &["-d", "production"], b"sealed-pw");
    set(&env, "REDIS_URL", &["-d", "production"], b"redis://x");
    set(&env, "RAILS_MASTER_KEY", &["--shared"], b"m");
    let out = run(env.kseal().args(["init", "-d", "production"]), b"");
    ok(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains(".kamal/secrets.production:3: DB_PASSWORD has a plaintext value"),
        "{err}"
    );

    let wired = text(&env.read(".kamal/secrets.production"));
    assert_eq!(wired, format!("{mine}REDIS_URL=$REDIS_URL\n"));
    let common = text(&env.read(".kamal/secrets-common"));
    assert!(
        common.ends_with("RAILS_MASTER_KEY=$RAILS_MASTER_KEY\n"),
        "{common}"
    );

    // A second run changes nothing.
    ok(&run(env.kseal().args(["init", "-d", "production"]), b""));
    assert_eq!(text(&env.read(".kamal/secrets.production")), wired);
}

#[test]
fn rm_removes_names_and_refuses_unknown_ones_without_writing() {
    let env = app();
    keygen(&env);
    set(&env, "A", &[], b"1");
    set(&env, "B", &[], b"2");
    let before = env.read(".kamal/kseal/secrets.sealed");
    let err = fails(&run(env.kseal().args(["rm", "A", "NOPE"]), b""));
    assert!(err.contains("NOPE"), "{err}");
    assert_eq!(env.read(".kamal/kseal/secrets.sealed"), before);

    ok(&run(env.kseal().args(["rm", "A"]), b""));
    fails(&run(env.kseal().args(["get", "A"]), b""));
    assert_eq!(ok(&run(env.kseal().args(["get", "B"]), b"")), "2");
}

/// Values that stress every output format.
const NASTY: &[(&str, &str)] = &[
    ("DOLLAR", "p@ss$HOME${X}$(id)"),
    ("QUOTES", "it's \"quoted\""),
    ("HASH", "a #not a comment"),
    ("MULTI", "line one\nline two"),
    ("UNICODE", "pässwörd ✓"),
    ("BACKSLASH", "C:\\new\\table\\"),
    ("EMPTY", ""),
    ("SPACES", "  padded  "),
];

fn nasty_store(env: &TestEnv) {
    keygen(env);
    for (name, value) in NASTY {
        ok(&run(
            env.kseal()
                .args(["set", name, "-d", "production", "--keep-newline"]),
            value.as_bytes(),
        ));
    }
    set(env, "SHARED_ONLY", &["--shared"], b"from common");
    set(env, "DOLLAR", &["--shared"], b"overridden");
}

#[test]
fn export_formats_give_back_every_value_exactly() {
    let env = app();
    nasty_store(&env);
    let mut expected: Vec<(String, String)> = NASTY
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    expected.push(("SHARED_ONLY".into(), "from common".into()));
    expected.sort();

    // dotenv, read back the way Kamal reads .kamal/secrets.
    let dotenv = ok(&run(env.kseal().args(["export", "-d", "production"]), b""));
    let entries = kseal::kamal::dotenv::parse(&dotenv).unwrap();
    let resolved = kseal::kamal::dotenv::resolve_without_commands(&entries, &|_| None);
    let mut got: Vec<(String, String)> = resolved
        .values
        .into_iter()
        .map(|(k, v)| (k, v.unwrap()))
        .collect();
    got.sort();
    assert_eq!(got, expected);

    // JSON.
    let json = ok(&run(
        env.kseal()
            .args(["export", "-d", "production", "--format", "json"]),
        b"",
    ));
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&json).unwrap();
    assert_eq!(map.into_iter().collect::<Vec<_>>(), expected);

    // Shell: a real sh evaluates the lines and prints each variable.
    let shell = ok(&run(
        env.kseal()
            .args(["export", "-d", "production", "--format", "shell"]),
        b"",
    ));
    for (name, value) in &expected {
        let script = format!("{shell}\nprintf %s \"${name}\"");
        let out = Command::new("sh").arg("-c").arg(script).output().unwrap();
        assert_eq!(text(&out.stdout), *value, "{name}");
    }

    // Only some names, in the order asked.
    let some = ok(&run(
        env.kseal()
            .args(["export", "-d", "production", "SPACES", "HASH"]),
        b"",
    ));
    assert_eq!(some, "SPACES='  padded  '\nHASH='a #not a comment'\n");
    let err = fails(&run(
        env.kseal().args(["export", "-d", "production", "NOPE"]),
        b"",
    ));
    assert!(err.contains("NOPE"));
}

#[test]
fn export_refuses_values_a_format_cannot_carry_before_printing_anything() {
    let env = app();
    keygen(&env);
    set(&env, "A", &[], b"fine");
    set(&env, "BIN", &[], b"\xff\xfe");
    let out = run(env.kseal().args(["export"]), b"");
    let err = fails(&out);
    assert!(err.contains("\"BIN\" is not UTF-8"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn fetch_prints_what_kamal_secrets_extract_reads() {
    let env = app();
    nasty_store(&env);
    let out = run(env.kseal().args(["fetch", "-d", "production"]), b"");
    let printed = ok(&out);
    assert!(text(&out.stderr).contains("DOLLAR holds `$`"));
    // Kamal shell-escapes its fetch output; a shell undoes it.
    let script = format!("printf %s {}", printed.trim_end_matches('\n'));
    let unescaped = Command::new("sh").arg("-c").arg(script).output().unwrap();
    let map: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&unescaped.stdout).unwrap();
    for (name, value) in NASTY {
        assert_eq!(map[*name], *value, "{name}");
    }
    assert_eq!(map["SHARED_ONLY"], "from common");
}

#[test]
fn import_seals_literals_and_reports_references() {
    let env = app();
    keygen(&env);
    env.write(
        ".kamal/secrets.staging",
        "KAMAL_REGISTRY_PASSWORD=dckr_pat_abc\nexport QUOTED='a $b # c'\n\
         FROM_ENV=$FROM_ENV\nFROM_CMD=$(op read op://x)\nMIXED=pre$HOME\n",
    );
    let out = run(env.kseal().args(["import", ".kamal/secrets.staging"]), b"");
    ok(&out);
    let err = text(&out.stderr);
    assert!(err.contains("destination \"staging\""), "{err}");
    assert!(
        err.contains(".kamal/secrets.staging:3: FROM_ENV: skipped"),
        "{err}"
    );
    assert!(
        err.contains(".kamal/secrets.staging:4: FROM_CMD: skipped"),
        "{err}"
    );
    assert!(
        err.contains(".kamal/secrets.staging:5: MIXED: skipped"),
        "{err}"
    );
    assert!(
        err.contains("KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD"),
        "{err}"
    );
    let get = |name: &str| ok(&run(env.kseal().args(["get", name, "-d", "staging"]), b""));
    assert_eq!(get("KAMAL_REGISTRY_PASSWORD"), "dckr_pat_abc");
    assert_eq!(get("QUOTED"), "a $b # c");
    fails(&run(
        env.kseal().args(["get", "FROM_ENV", "-d", "staging"]),
        b"",
    ));

    // A different value already sealed is kept unless --overwrite.
    env.write(".env", "QUOTED=new\n");
    ok(&run(
        env.kseal().args(["import", ".env", "-d", "staging"]),
        b"",
    ));
    assert_eq!(get("QUOTED"), "a $b # c");
    ok(&run(
        env.kseal()
            .args(["import", ".env", "-d", "staging", "--overwrite"]),
        b"",
    ));
    assert_eq!(get("QUOTED"), "new");
}

#[test]
fn edit_applies_changes_through_a_ram_backed_file_that_is_gone_afterwards() {
    let env = app();
    keygen(&env);
    set(&env, "KEEP", &[], b"same");
    set(&env, "CHANGE", &[], b"old");
    set(&env, "DROP", &[], b"bye");
    let before = text(&env.read(".kamal/kseal/secrets.sealed"));
    let keep_line = before
        .lines()
        .find(|l| l.starts_with("secret KEEP "))
        .unwrap()
        .to_owned();

    let seen = env.home().join("seen");
    let editor = env.home().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nstat -f -c %T \"$1\" > {seen}\nstat -c %a \"$1\" >> {seen}\n\
             echo \"$1\" >> {seen}\n\
             sed -i -e \"s/^CHANGE=.*/CHANGE='new \\$x'/\" -e '/^DROP=/d' \"$1\"\n\
             echo \"ADDED='{CANARY}'\" >> \"$1\"\n",
            seen = seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();

    let out = run(env.kseal().env("EDITOR", &editor).arg("edit"), b"");
    ok(&out);
    let seen = std::fs::read_to_string(&seen).unwrap();
    let mut lines = seen.lines();
    assert!(matches!(lines.next(), Some("tmpfs" | "ramfs")), "{seen}");
    assert_eq!(lines.next(), Some("600"));
    let edit_file = PathBuf::from(lines.next().unwrap());
    assert!(!edit_file.exists(), "the edit file is removed");
    assert!(!edit_file.parent().unwrap().exists(), "and its folder");

    let get = |name: &str| run(env.kseal().args(["get", name]), b"");
    assert_eq!(ok(&get("CHANGE")), "new $x");
    assert_eq!(ok(&get("ADDED")), CANARY);
    fails(&get("DROP"));
    let after = text(&env.read(".kamal/kseal/secrets.sealed"));
    assert!(
        after.contains(&keep_line),
        "an unchanged value keeps its line"
    );

    // An editor that fails changes nothing.
    let before = env.read(".kamal/kseal/secrets.sealed");
    let out = run(env.kseal().env("EDITOR", "false").arg("edit"), b"");
    fails(&out);
    assert_eq!(env.read(".kamal/kseal/secrets.sealed"), before);
}

#[test]
fn canary_never_leaks_outside_the_outputs_that_ask_for_it() {
    let env = app();
    env.write("config/deploy.yml", "service: app\n");
    ok(&run(env.kseal().args(["init", "-d", "production"]), b""));
    let canary = CANARY.as_bytes();
    let d = ["-d", "production"];
    env.write(".env.import", format!("IMPORTED={CANARY}\n"));

    // (arguments, stdin, whether stdout may carry the value)
    let steps: Vec<(Vec<&str>, &[u8], bool)> = vec![
        (vec!["set", "CANARY"], canary, false),
        (vec!["set", "CANARY", "--shared"], canary, false),
        (vec!["set", "CANARY"], canary, false),
        (vec!["import", ".env.import"], b"", false),
        (vec!["list"], b"", false),
        (vec!["list", "--json"], b"", false),
        (vec!["init"], b"", false),
        (vec!["get", "CANARY"], b"", true),
        (vec!["export"], b"", true),
        (vec!["export", "--format", "json"], b"", true),
        (vec!["fetch"], b"", true),
        (vec!["get", "MISSING"], b"", false),
        (vec!["rm", "IMPORTED"], b"", false),
        (vec!["rm", "MISSING"], b"", false),
        (vec!["keygen", "--show-public"], b"", false),
        (vec!["edit"], b"", false),
    ];
    // While `kseal edit` runs, its editor records every process's argv.
    let argv_dump = env.home().join("argv-dump");
    let editor = env.home().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh
for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done > {}\n",
            argv_dump.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (args, stdin, may_print) in &steps {
        let mut cmd = env.kseal();
        cmd.env("EDITOR", &editor).args(args);
        if !matches!(args[0], "keygen") && !args.contains(&"--shared") {
            cmd.args(d);
        }
        let out = run(&mut cmd, stdin);
        let err = text(&out.stderr);
        assert!(
            !err.contains(CANARY),
            "{args:?}: stderr carries the canary: {err}"
        );
        if !may_print {
            assert!(!text(&out.stdout).contains(CANARY), "{args:?}: stdout");
        } else {
            assert!(text(&out.stdout).contains(CANARY), "{args:?}: asked for it");
        }
    }

    let argv = std::fs::read_to_string(&argv_dump).unwrap();
    assert!(
        argv.contains("kseal-edit"),
        "the dump saw the editor: {argv}"
    );
    assert!(!argv.contains(CANARY), "a process argv carries the canary");

    // A value given in argv is refused without being repeated.
    for args in [
        vec!["set", "X", "argv-value-5Tz"],
        vec!["set", "X=argv-value-5Tz"],
    ] {
        let err = fails(&run(env.kseal().args(args), b""));
        assert!(!err.contains("argv-value-5Tz"), "{err}");
        assert!(err.contains("hint: "), "{err}");
    }

    // On disk: only the sealed files may mention the name; no file in the
    // app, the home folder or RAM-backed folders holds the plaintext.
    let mut roots = vec![env.app(), env.home()];
    roots.push(PathBuf::from("/dev/shm"));
    for root in roots {
        for (file, bytes) in crate::util::snapshot(&root) {
            if file.starts_with(env.app()) && file.ends_with(".env.import") {
                continue;
            }
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary),
                "{} holds the canary",
                file.display()
            );
        }
    }
}

#[test]
fn identity_paths_are_relative_to_where_kseal_started_not_to_chdir() {
    let env = app();
    let key = env.home().join("my.key");
    crate::util::write_identity(&key);
    let mut set = env.kseal();
    set.current_dir(env.home())
        .args(["-C", "../app", "-i", "my.key", "set", "A"]);
    ok(&run(&mut set, b"from afar"));
    let mut get = env.kseal();
    get.current_dir(env.home())
        .args(["-C", "../app", "-i", "my.key", "get", "A"]);
    assert_eq!(ok(&run(&mut get, b"")), "from afar");
}

#[test]
fn canary_never_leaks_from_team_run_and_guard_commands() {
    let env = app();
    env.write(
        "config/deploy.yml",
        "service: app\nimage: app\nenv:\n  secret:\n    - CANARY\n",
    );
    keygen(&env);
    set(&env, "CANARY", &["-d", "production"], CANARY.as_bytes());
    ok(&run(env.kseal().args(["init", "-d", "production"]), b""));
    let teammate = age::x25519::Identity::generate().to_public().to_string();

    // A stand-in `kamal` that prints what it was given.
    let bin = env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kamal = bin.join("kamal");
    std::fs::write(&kamal, "#!/bin/sh\necho \"kamal $*: $CANARY\"\nenv\n").unwrap();
    std::fs::set_permissions(&kamal, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let shell = "echo \"$CANARY\"; printf %s \"$CANARY\" | base64; env";
    let steps: Vec<(Vec<&str>, Vec<u8>)> = vec![
        (
            vec![
                "recipients",
                "add",
                &teammate,
                "--label",
                "bob",
                "-d",
                "production",
            ],
            vec![],
        ),
        (vec!["recipients", "list", "--json"], vec![]),
        (vec!["access", "--json"], vec![]),
        (
            vec!["recipients", "rm", "bob", "-d", "production", "--json"],
            vec![],
        ),
        (vec!["rotate", "-d", "production"], vec![]),
        (vec!["doctor"], vec![]),
        (vec!["check"], vec![]),
        (
            vec!["run", "-d", "production", "--", "sh", "-c", shell],
            vec![],
        ),
        (vec!["kamal", "deploy", "-d", "production"], vec![]),
        (
            vec!["redact", "-d", "production"],
            format!("log: {CANARY} and {}\n", hex(CANARY)).into_bytes(),
        ),
    ];
    for (args, stdin) in &steps {
        let out = run(env.kseal().env("PATH", &path).args(args), stdin);
        assert!(
            !matches!(out.status.code(), Some(2)),
            "{args:?} failed: {}",
            text(&out.stderr)
        );
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text(bytes).contains(CANARY),
                "{args:?}: {stream} carries the canary"
            );
        }
        if args[0] == "run" || args[0] == "kamal" || args[0] == "redact" {
            assert!(
                text(&out.stdout).contains("[kseal:CANARY]"),
                "{args:?}: the value was there and masked"
            );
        }
    }
    // The last step changes the value: the canary no longer opens anywhere.
    ok(&run(
        env.kseal()
            .args(["rotate", "CANARY", "--generate", "-d", "production"]),
        b"",
    ));
    let now = ok(&run(
        env.kseal().args(["get", "CANARY", "-d", "production"]),
        b"",
    ));
    assert_ne!(now, CANARY);
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}
