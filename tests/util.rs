//! Helpers shared by the integration tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A scratch directory that is a Kamal app root, with its own HOME and
/// XDG_CONFIG_HOME so tests never touch the real user's keys.
pub struct TestEnv {
    dir: tempfile::TempDir,
}

#[allow(dead_code)]
impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("a temp dir can be created");
        std::fs::create_dir_all(dir.path().join("app/config")).unwrap();
        std::fs::create_dir_all(dir.path().join("home/.config")).unwrap();
        TestEnv { dir }
    }

    /// The app root.
    pub fn app(&self) -> PathBuf {
        self.dir.path().join("app")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_home(&self) -> PathBuf {
        self.home().join(".config")
    }

    /// A `kseal` command run in the app root with an isolated environment.
    pub fn kseal(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kseal"));
        cmd.current_dir(self.app())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("NO_COLOR", "1");
        cmd
    }

    pub fn write(&self, rel: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        let path = self.app().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, contents).unwrap();
    }

    pub fn read(&self, rel: impl AsRef<Path>) -> Vec<u8> {
        std::fs::read(self.app().join(rel)).unwrap()
    }
}

/// Generates an age X25519 identity, writes it to `path` with mode 0600 as
/// `age-keygen` would, and returns its public key (`age1…`).
#[allow(dead_code)]
pub fn write_identity(path: &Path) -> String {
    use std::os::unix::fs::OpenOptionsExt;

    use age::secrecy::ExposeSecret;

    let identity = age::x25519::Identity::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .expect("the identity file is new");
    writeln!(file, "{}", identity.to_string().expose_secret()).unwrap();
    identity.to_public().to_string()
}

/// Runs `cmd` to completion with `stdin` as its standard input, capturing
/// stdout and stderr. The input is fed from another thread, so a child that
/// exits without reading it all cannot block the test.
#[allow(dead_code)]
pub fn output_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("the command starts");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        // A child that fails early closes its stdin; that is its business.
        let _ = pipe.write_all(&input);
    });
    let output = child
        .wait_with_output()
        .expect("the command can be waited for");
    feeder.join().expect("the stdin feeder does not panic");
    output
}

/// Copies the tree at `from` into `to`, files and folders only.
#[allow(dead_code)]
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs git in `dir` with a fixed identity; panics when it fails.
#[allow(dead_code)]
pub fn git(dir: &Path, args: &[&str]) {
    git_as(dir, "Test", args);
}

/// Runs git in `dir` as the author `name`; panics when it fails.
#[allow(dead_code)]
pub fn git_as(dir: &Path, name: &str, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            &format!("user.name={name}"),
            "-c",
            "user.email=test@example.com",
        ])
        .args(["-c", "init.defaultBranch=main", "-c", "core.hooksPath="])
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?} failed");
}

/// Runs `cmd` with `stdin` as its standard input and captures its output.
/// A command that exits before reading its input closes the pipe; that is
/// its business, not a test failure.
#[allow(dead_code)]
pub fn run(cmd: &mut Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// Bytes as text, lossily, for assertions and messages.
#[allow(dead_code)]
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts the command succeeded and returns its stdout.
#[allow(dead_code)]
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every file under `dir` with its bytes. Entries that vanish or cannot
/// be read while it walks (other tests' scratch files in /dev/shm) are
/// left out.
#[allow(dead_code)]
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.insert(path, bytes);
            }
        }
    }
    files
}
