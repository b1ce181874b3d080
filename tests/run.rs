//! `kseal run` and `kseal kamal`: values reach the child through its
//! environment only, and its exit status comes back unchanged.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::util::TestEnv;

/// A value that must never show anywhere but in the child's environment.
pub const CANARY: &str = "kc-9Fq2wZ7rLmXv4Tb8";

/// A test app with an age identity and a store.
pub struct Store {
    pub env: TestEnv,
    pub identity: PathBuf,
}

impl Store {
    pub fn new() -> Store {
        let env = TestEnv::new();
        let identity = env.home().join("identity.txt");
        let status = Command::new("age-keygen")
            .arg("-o")
            .arg(&identity)
            .stderr(Stdio::null())
            .status()
            .expect("age-keygen runs");
        assert!(status.success());
        env.write("config/deploy.yml", "service: app\n");
        Store { env, identity }
    }

    /// Seals `value` as `name` for `dest` (None: the default destination;
    /// Some("--shared"): the shared file), value on stdin.
    pub fn set(&self, dest: Option<&str>, name: &str, value: &[u8]) {
        let mut cmd = self.kseal();
        cmd.args(["set", name, "--keep-newline"]);
        match dest {
            Some("--shared") => {
                cmd.arg("--shared");
            }
            Some(d) => {
                cmd.args(["-d", d]);
            }
            None => {}
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(value).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `kseal` with the identity given through KSEAL_IDENTITY_FILE.
    pub fn kseal(&self) -> Command {
        let mut cmd = self.env.kseal();
        cmd.env("KSEAL_IDENTITY_FILE", &self.identity);
        cmd
    }

    /// Runs `kseal ARGS` to completion with stdin closed.
    pub fn output(&self, args: &[&str]) -> Output {
        self.kseal()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn child_sees_shared_then_destination_values() {
    let store = Store::new();
    store.set(Some("--shared"), "SHARED_ONE", b"from-shared-file");
    store.set(Some("--shared"), "BOTH", b"shared-loses-here");
    store.set(Some("production"), "BOTH", b"destination-wins");
    let out = store.output(&[
        "run",
        "-d",
        "production",
        "--no-redact",
        "--",
        "sh",
        "-c",
        "printf '%s|%s' \"$SHARED_ONE\" \"$BOTH\"",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "from-shared-file|destination-wins");
}

#[test]
fn identity_variables_never_reach_the_child() {
    let store = Store::new();
    store.set(None, "TOKEN", CANARY.as_bytes());
    let out = store
        .kseal()
        .env("KSEAL_IDENTITY", "AGE-SECRET-KEY-1NOTAREALKEY")
        .args(["-i"])
        .arg(&store.identity)
        .args(["run", "--no-redact", "--", "env"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env = text(&out.stdout);
    assert!(env.contains(&format!("TOKEN={CANARY}")), "{env}");
    assert!(!env.contains("KSEAL_IDENTITY"), "{env}");
    assert!(
        env.contains("HOME="),
        "the parent's environment is inherited"
    );
}

#[test]
fn only_and_pristine_narrow_the_environment() {
    let store = Store::new();
    store.set(None, "KEEP_ME", b"kept-value-1");
    store.set(None, "DROP_ME", b"dropped-value-2");
    let out = store.output(&[
        "run",
        "--only",
        "KEEP_ME",
        "--pristine",
        "--no-redact",
        "--",
        "env",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "KEEP_ME=kept-value-1\n");

    let out = store.output(&["run", "--only", "NOPE", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("\"NOPE\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn exit_status_and_signal_deaths_come_through() {
    let store = Store::new();
    store.set(None, "TOKEN", CANARY.as_bytes());
    for (script, code) in [
        ("exit 0", 0),
        ("exit 1", 1),
        ("exit 137", 137),
        ("kill -TERM $$", 143),
        ("kill -KILL $$", 137),
    ] {
        for redact in [true, false] {
            let mut args = vec!["run"];
            if !redact {
                args.push("--no-redact");
            }
            args.extend(["--", "sh", "-c", script]);
            let out = store.output(&args);
            assert_eq!(out.status.code(), Some(code), "{script} (redact: {redact})");
            // The same status as the shell reports for the bare command.
            let bare = Command::new("sh")
                .args(["-c", &format!("sh -c '{script}'; exit $?")])
                .stderr(Stdio::null())
                .status()
                .unwrap();
            assert_eq!(bare.code(), Some(code), "{script} without kseal");
        }
    }
}

#[test]
fn a_value_with_a_nul_byte_is_refused_by_name() {
    let store = Store::new();
    store.set(None, "BLOB", format!("{CANARY}\0rest").as_bytes());
    let out = store.output(&["run", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("BLOB") && err.contains("NUL"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!err.contains(CANARY), "{err}");
}

#[test]
fn a_missing_program_is_an_error_with_a_hint() {
    let store = Store::new();
    let out = store.output(&["run", "--", "kseal-no-such-program"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("kseal-no-such-program") && err.contains("hint:"),
        "{err}"
    );
}
