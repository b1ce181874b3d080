//! Recovery without kseal: the stock `age` CLI and the Python scripts of
//! docs/format.md, run exactly as the page writes them, open what kseal
//! sealed.
//!
//! The shell and Python blocks are read from docs/format.md at test time
//! (each sits under a `<!-- tested: TAG -->` marker), so the page cannot
//! drift from what is tested. They need `age`, `age-keygen`, `ssh-keygen`,
//! `bash` and a `python3` that can import `cryptography`; .ci/run installs
//! the missing ones.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::str::FromStr;

use kseal::keys::RecipientKey;
use kseal::secret::SecretValue;
use kseal::store::{OpenStore, Recipient, Scope, StoreLock};

use crate::util::TestEnv;

const FORMAT_DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/format.md");

/// Values that a careless recovery would mangle: bytes that are not UTF-8,
/// a trailing newline, UTF-8 beyond ASCII, shell metacharacters, quotes, an
/// empty value.
const VALUES: &[(&str, &[u8])] = &[
    ("BINARY", b"\xff\xfe\x01 raw \x7f\xc3"),
    (
        "CERT",
        b"-----BEGIN KEY-----\nMIIB line two\n-----END KEY-----\n",
    ),
    (
        "DATABASE_URL",
        b"postgres://app:p@ss$word@db:5432/app?sslmode=require",
    ),
    ("EMPTY", b""),
    (
        "GREETING",
        "gr\u{fc}\u{df}e, \u{4e16}\u{754c} \u{1f511}".as_bytes(),
    ),
    (
        "SHELL_BAIT",
        b"$HOME ${PATH} $(id) `id` 'single' \"double\" \\ back\ttab",
    ),
];

/// The body of the fenced block right under `<!-- tested: TAG -->` in
/// docs/format.md, with its final newline.
fn doc_block(tag: &str) -> String {
    let doc = std::fs::read_to_string(FORMAT_DOC).expect("docs/format.md is readable");
    let marker = format!("<!-- tested: {tag} -->\n");
    let mut hits = doc.match_indices(&marker);
    let (at, _) = hits
        .next()
        .unwrap_or_else(|| panic!("docs/format.md has no block marked {tag:?}"));
    assert!(hits.next().is_none(), "two blocks are marked {tag:?}");
    let fence = doc[at + marker.len()..]
        .strip_prefix("```")
        .unwrap_or_else(|| panic!("the {tag:?} marker is not right above a fenced block"));
    let body = &fence[fence.find('\n').expect("a fence line ends") + 1..];
    let end = body
        .find("\n```\n")
        .unwrap_or_else(|| panic!("the {tag:?} block is not closed"));
    body[..=end].to_owned()
}

/// Runs `cmd`, which must succeed; returns its output.
fn succeed(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh age identity made by the stock `age-keygen`; returns its path and
/// public key.
fn age_identity(env: &TestEnv, name: &str) -> (PathBuf, String) {
    let path = env.home().join(name);
    succeed(Command::new("age-keygen").arg("-o").arg(&path));
    let public = succeed(Command::new("age-keygen").arg("-y").arg(&path)).stdout;
    let public = String::from_utf8(public).unwrap().trim().to_owned();
    assert!(public.starts_with("age1"), "{public}");
    (path, public)
}

/// `kseal set NAME` with `value` on stdin, kept byte for byte.
fn kseal_set(env: &TestEnv, identity: &Path, name: &str, value: &[u8]) {
    let mut child = env
        .kseal()
        .arg("-i")
        .arg(identity)
        .args(["set", name, "-d", "production", "--keep-newline"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kseal starts");
    child.stdin.take().unwrap().write_all(value).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kseal set {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A person following section 15 of docs/format.md: a folder holding the
/// two Python scripts saved from the page, and a private work folder.
struct Recovery {
    dir: PathBuf,
    work: PathBuf,
    home: PathBuf,
}

impl Recovery {
    fn new(env: &TestEnv) -> Recovery {
        let dir = env.home().join("recovery");
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        for script in ["kseal-recover.py", "kseal-verify-mac.py"] {
            std::fs::write(dir.join(script), doc_block(script)).unwrap();
        }
        Recovery {
            dir,
            work,
            home: env.home(),
        }
    }

    /// Runs the shell block `tag` with SEALED, IDENTITY and WORK set as
    /// step 0 sets them.
    fn run(&self, tag: &str, sealed: &Path, identity: &Path) -> Output {
        let script = format!("set -euo pipefail\numask 077\n{}", doc_block(tag));
        Command::new("bash")
            .arg("-c")
            .arg(script)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("SEALED", sealed)
            .env("IDENTITY", identity)
            .env("WORK", &self.work)
            .output()
            .expect("bash starts")
    }

    /// [`Recovery::run`], which must succeed; returns stdout.
    fn succeed(&self, tag: &str, sealed: &Path, identity: &Path) -> Vec<u8> {
        let out = self.run(tag, sealed, identity);
        assert!(
            out.status.success(),
            "the {tag:?} block of docs/format.md failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The unwrapped data key that step 1 left in the work folder.
    fn data_key(&self) -> Vec<u8> {
        std::fs::read(self.work.join("datakey")).unwrap()
    }

    /// One value's raw bytes, as `kseal-recover.py SEALED KEY NAME` prints it.
    fn value(&self, sealed: &Path, name: &str) -> Vec<u8> {
        succeed(
            Command::new("python3")
                .arg(self.dir.join("kseal-recover.py"))
                .arg(sealed)
                .arg(self.work.join("datakey"))
                .arg(name),
        )
        .stdout
    }
}

/// Reads `NAME=...` lines (the output of `kseal-recover.py`) back the way
/// section 15 says, with `set -a; . FILE`, and prints the variable `name`.
fn shell_value(assignments: &[u8], dir: &Path, name: &str) -> Vec<u8> {
    let file = dir.join("values.env");
    std::fs::write(&file, assignments).unwrap();
    succeed(
        Command::new("bash")
            .arg("-c")
            .arg(r#"set -a; . "$1"; set +a; printf %s "${!2}""#)
            .arg("bash")
            .arg(&file)
            .arg(name),
    )
    .stdout
}

#[test]
fn stock_age_and_the_documented_scripts_recover_what_kseal_sealed() {
    let env = TestEnv::new();
    env.write("config/deploy.yml", "service: app\n");
    let (identity, _) = age_identity(&env, "identity.txt");
    for (name, value) in VALUES {
        kseal_set(&env, &identity, name, value);
    }
    let sealed = env.app().join(".kamal/kseal/secrets.production.sealed");
    let recovery = Recovery::new(&env);

    // Step 1: base64, then the stock age CLI.
    let printed = recovery.succeed("unwrap", &sealed, &identity);
    assert_eq!(String::from_utf8(printed).unwrap().trim(), "32");
    assert_eq!(recovery.data_key().len(), 32);

    // Step 2, one value at a time: exact bytes.
    recovery.succeed("recover-one", &sealed, &identity);
    let (_, database_url) = VALUES.iter().find(|(n, _)| *n == "DATABASE_URL").unwrap();
    assert_eq!(
        std::fs::read(recovery.work.join("DATABASE_URL")).unwrap(),
        *database_url
    );
    for (name, value) in VALUES {
        assert_eq!(recovery.value(&sealed, name), *value, "{name}");
    }

    // Step 2, every value: one assignment per secret, and a shell reads each
    // back byte for byte.
    let all = recovery.succeed("recover-all", &sealed, &identity);
    let listing = format!("\n{}", String::from_utf8_lossy(&all));
    for (name, value) in VALUES {
        assert!(listing.contains(&format!("\n{name}=")), "{name} is missing");
        assert_eq!(shell_value(&all, &recovery.dir, name), *value, "{name}");
    }

    // The one-pipe form prints the same, without a key file.
    assert_eq!(recovery.succeed("recover-pipe", &sealed, &identity), all);

    // Step 3: the MAC verifies, and catches what the AEAD cannot: a deleted
    // line.
    assert_eq!(
        recovery.succeed("verify-mac", &sealed, &identity),
        b"mac ok\n"
    );
    let text = std::fs::read_to_string(&sealed).unwrap();
    let tampered: String = text
        .lines()
        .filter(|l| !l.starts_with("secret EMPTY "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(tampered, text);
    let tampered_path = recovery.dir.join("tampered.sealed");
    std::fs::write(&tampered_path, tampered).unwrap();
    let out = recovery.run("verify-mac", &tampered_path, &identity);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("mac mismatch"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `kseal recipients add` does not exist yet, so the store sealed to an SSH
/// key is made with the library: `OpenStore::create` with a recipient parsed
/// from the `.pub` line, written under a `StoreLock`.
#[test]
fn ssh_ed25519_recipient_unwraps_with_stock_age() {
    let env = TestEnv::new();
    let ssh_dir = env.home().join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    let ssh_key = ssh_dir.join("id_ed25519");
    succeed(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "deploy@ci", "-f"])
            .arg(&ssh_key),
    );
    let ssh_public = std::fs::read_to_string(ssh_dir.join("id_ed25519.pub")).unwrap();
    let (age_key, age_public) = age_identity(&env, "identity.txt");

    let value = b"tok_\xc3\xa9t\xc3\xa9 $1 \n".to_vec();
    let root = env.app();
    let recipients = vec![
        Recipient::new(RecipientKey::from_str(&ssh_public).unwrap(), "deploy@ci"),
        Recipient::new(RecipientKey::from_str(&age_public).unwrap(), "alice"),
    ];
    let lock = StoreLock::acquire(&root).unwrap();
    let mut store = OpenStore::create(&root, &Scope::Shared, recipients).unwrap();
    store
        .set("DATABASE_URL", SecretValue::new(value.clone()))
        .unwrap();
    store.write(&lock).unwrap();
    drop(lock);
    let sealed = root.join(".kamal/kseal/secrets-common.sealed");
    let text = std::fs::read_to_string(&sealed).unwrap();
    assert!(
        text.contains("\nrecipient ssh-ed25519 AAAA") && text.contains(" deploy@ci\n"),
        "{text}"
    );

    // `age -d -i ~/.ssh/id_ed25519` unwraps the same data key as the age
    // identity does.
    let recovery = Recovery::new(&env);
    recovery.succeed("unwrap", &sealed, &ssh_key);
    let via_ssh = recovery.data_key();
    assert_eq!(via_ssh.len(), 32);
    recovery.succeed("unwrap", &sealed, &age_key);
    assert_eq!(recovery.data_key(), via_ssh);

    recovery.succeed("unwrap", &sealed, &ssh_key);
    recovery.succeed("recover-one", &sealed, &ssh_key);
    assert_eq!(
        std::fs::read(recovery.work.join("DATABASE_URL")).unwrap(),
        value
    );
    assert_eq!(
        recovery.succeed("verify-mac", &sealed, &ssh_key),
        b"mac ok\n"
    );

    // The file is an ordinary kseal file, which kseal opens with either key.
    for key in [&age_key, &ssh_key] {
        let out = succeed(
            env.kseal()
                .arg("-i")
                .arg(key)
                .args(["get", "DATABASE_URL", "--shared"]),
        );
        assert_eq!(out.stdout, value, "{}", key.display());
    }
}

#[test]
fn worked_example_opens_and_prints_what_the_doc_says() {
    let env = TestEnv::new();
    let identity = env.home().join("example-identity.txt");
    std::fs::write(&identity, doc_block("example-identity")).unwrap();
    // kseal, like ssh, refuses an identity that others can read.
    std::fs::set_permissions(&identity, std::fs::Permissions::from_mode(0o600)).unwrap();
    env.write(
        ".kamal/kseal/secrets.production.sealed",
        doc_block("example-file"),
    );
    let sealed = env.app().join(".kamal/kseal/secrets.production.sealed");
    let expected = doc_block("example-values");

    let recovery = Recovery::new(&env);
    recovery.succeed("unwrap", &sealed, &identity);
    let all = recovery.succeed("recover-all", &sealed, &identity);
    assert_eq!(String::from_utf8(all).unwrap(), expected);

    // The figures that "Reading it by hand" gives.
    let wrapped = std::fs::read(recovery.work.join("datakey.age")).unwrap();
    assert_eq!(wrapped.len(), 399);
    assert_eq!(recovery.data_key()[..4], [0x06, 0x7d, 0xea, 0xa3]);
    let file = std::fs::read_to_string(&sealed).unwrap();
    let body: usize = file.lines().take(8).map(|l| l.len() + 1).sum();
    assert_eq!(body, 1237);
    assert!(file.lines().nth(8).unwrap().starts_with("mac "));
    assert_eq!(
        recovery.succeed("verify-mac", &sealed, &identity),
        b"mac ok\n"
    );

    // kseal itself opens the example (its MAC and every value check out) and
    // agrees on each value.
    for line in expected.lines() {
        let (name, _) = line.split_once('=').unwrap();
        let out =
            succeed(
                env.kseal()
                    .arg("-i")
                    .arg(&identity)
                    .args(["get", name, "-d", "production"]),
            );
        assert_eq!(
            out.stdout,
            shell_value(expected.as_bytes(), &recovery.dir, name)
        );
    }
}
