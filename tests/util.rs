//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

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
