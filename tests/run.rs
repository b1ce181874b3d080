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

/// The status as a shell's `$?` shows it: the exit code, or 128 + the
/// signal number.
fn shell_status(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().expect("no code means a signal"))
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
        let bare = Command::new("sh").args(["-c", script]).status().unwrap();
        assert_eq!(shell_status(bare), code, "{script} without kseal");

        // Redacting, kseal reports a signal death as 128+N.
        let out = store.output(&["run", "--", "sh", "-c", script]);
        assert_eq!(out.status.code(), Some(code), "{script}");

        // Without redaction kseal becomes the child, so the status is the
        // child's own, signal deaths included.
        let out = store.output(&["run", "--no-redact", "--", "sh", "-c", script]);
        assert_eq!(out.status.code(), bare.code(), "{script} --no-redact");
        assert_eq!(shell_status(out.status), code, "{script} --no-redact");
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

#[test]
fn canary_shows_nowhere_in_the_output() {
    let store = Store::new();
    store.set(None, "SECRET", CANARY.as_bytes());
    // The child also copies its own and kseal's command lines into a file,
    // which kseal does not redact.
    let argv = store.env.home().join("argv");
    let script = format!(
        r#"echo "$SECRET"; printf %s "$SECRET" | base64; env; echo "$SECRET" >&2
        cat /proc/$$/cmdline /proc/$PPID/cmdline > {}"#,
        argv.display()
    );
    let out = store.output(&["run", "--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let argv = text(&std::fs::read(argv).unwrap());
    assert!(argv.contains("kseal") && argv.contains("cmdline"), "{argv}");
    assert!(!argv.contains(CANARY), "{argv}");
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(CANARY);
    for shown in [&stdout, &stderr] {
        assert!(!shown.contains(CANARY), "{shown}");
        assert!(!shown.contains(&encoded), "{shown}");
    }
    assert!(
        stdout.starts_with("[kseal:SECRET]\n[kseal:SECRET]\n"),
        "{stdout}"
    );
    assert!(stdout.contains("SECRET=[kseal:SECRET]\n"), "{stdout}");
    assert_eq!(stderr, "[kseal:SECRET]\n");
}

#[test]
fn a_signal_sent_to_kseal_reaches_the_child() {
    use std::io::{BufRead, BufReader};

    let store = Store::new();
    store.set(None, "TOKEN", CANARY.as_bytes());
    let mut child = store
        .kseal()
        .args([
            "run",
            "--",
            "sh",
            "-c",
            r#"trap 'kill -9 $!; echo "got TERM $TOKEN"; exit 5' TERM; sleep 30 & echo started; wait"#,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "started");
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "got TERM [kseal:TOKEN]");
    assert_eq!(child.wait().unwrap().code(), Some(5));
}

/// kseal running on a pseudo-terminal opened here, as on a user's
/// terminal: kseal is a session leader with the terminal as its controlling
/// terminal, and the test types on the other end.
struct TerminalSession {
    kseal: std::process::Child,
    keyboard: std::fs::File,
    screen: std::sync::mpsc::Receiver<Vec<u8>>,
    seen: Vec<u8>,
}

impl TerminalSession {
    fn start(store: &Store, args: &[&str]) -> TerminalSession {
        use std::io::Read;
        use std::os::fd::{AsRawFd, BorrowedFd};
        use std::os::unix::process::CommandExt;

        use rustix::pty::{OpenptFlags, grantpt, ioctl_tiocgptpeer, openpt, unlockpt};

        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = openpt(flags).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let slave = ioctl_tiocgptpeer(&master, flags).unwrap();
        let size = rustix::termios::Winsize {
            ws_row: 33,
            ws_col: 111,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size).unwrap();

        let mut cmd = store.kseal();
        cmd.args(args)
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        let slave_fd = slave.as_raw_fd();
        // SAFETY: only async-signal-safe system calls between fork and
        // exec; the slave descriptor is open in the child until exec.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(BorrowedFd::borrow_raw(slave_fd))?;
                Ok(())
            });
        }
        let kseal = cmd.spawn().unwrap();
        drop(cmd);
        drop(slave);

        let (tx, screen) = std::sync::mpsc::channel::<Vec<u8>>();
        let mut reader = std::fs::File::from(master.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        TerminalSession {
            kseal,
            keyboard: std::fs::File::from(master),
            screen,
            seen: Vec::new(),
        }
    }

    /// Everything shown so far, once it contains `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        use std::time::{Duration, Instant};

        let deadline = Instant::now() + Duration::from_secs(20);
        while !text(&self.seen).contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.screen.recv_timeout(left) {
                Ok(bytes) => self.seen.extend(bytes),
                Err(_) => panic!("{needle:?} never came; got {:?}", text(&self.seen)),
            }
        }
        text(&self.seen)
    }

    fn type_keys(&mut self, keys: &[u8]) {
        self.keyboard.write_all(keys).unwrap();
    }
}

/// Drives kseal on a pseudo-terminal: the child must see a terminal, get
/// the window size, show a prompt before any input is sent, pass colour
/// codes, read a typed line, and get SIGINT from Ctrl-C.
#[test]
fn on_a_terminal_the_child_gets_a_terminal_of_its_own() {
    let store = Store::new();
    store.set(None, "TOKEN", CANARY.as_bytes());
    let script = r#"
        if [ -t 0 ] && [ -t 1 ] && [ -t 2 ]; then echo all-terminals; fi
        stty size
        printf '\033[31mred\033[0m\n'
        printf 'Name? '
        read name
        echo "hello $name, token $TOKEN"
        trap 'kill -9 $! 2>/dev/null; echo got-INT; exit 7' INT
        sleep 30 &
        printf 'ready> '
        wait
        echo no-signal
    "#;
    let mut session = TerminalSession::start(&store, &["run", "--", "sh", "-c", script]);

    // The prompt has no newline and nothing has been typed yet.
    let shown = session.wait_for("Name? ");
    assert!(shown.contains("all-terminals"), "{shown:?}");
    assert!(shown.contains("33 111"), "{shown:?}");
    assert!(shown.contains("\x1b[31mred\x1b[0m"), "{shown:?}");

    session.type_keys(b"bob\r");
    let shown = session.wait_for("ready> ");
    assert!(
        shown.contains("hello bob, token [kseal:TOKEN]"),
        "{shown:?}"
    );

    session.type_keys(b"\x03");
    let shown = session.wait_for("got-INT");
    assert!(!shown.contains("no-signal"), "{shown:?}");
    assert!(!shown.contains(CANARY), "{shown:?}");
    assert_eq!(session.kseal.wait().unwrap().code(), Some(7));
}

#[test]
fn kamal_gets_the_values_of_the_destination_in_its_arguments() {
    use std::os::unix::fs::PermissionsExt;

    let store = Store::new();
    store.set(None, "DB_PASSWORD", b"default-destination-pw");
    store.set(Some("production"), "DB_PASSWORD", CANARY.as_bytes());
    // A stand-in for Kamal on PATH that shows what it was given.
    let bin = store.env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kamal = bin.join("kamal");
    std::fs::write(
        &kamal,
        "#!/bin/sh\necho \"args: $*\"\necho \"password: $DB_PASSWORD\"\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&kamal, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());

    let out = store
        .kseal()
        .env("PATH", &path)
        .args(["kamal", "deploy", "-d", "production", "--verbose"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "args: deploy -d production --verbose\npassword: [kseal:DB_PASSWORD]\n"
    );

    let out = store
        .kseal()
        .env("PATH", &path)
        .args(["kamal", "deploy"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stdout),
        "args: deploy\npassword: [kseal:DB_PASSWORD]\n"
    );
}
