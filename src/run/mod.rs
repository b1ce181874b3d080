//! Running a child process with secret values in its environment, its
//! output passed through the redactor.
//!
//! Values reach the child only through its environment, never its argv, so
//! they do not show in `ps`. kseal's own identity variables are taken out of
//! the environment the child inherits: a deploy tool has no business with
//! the key that opens the store.
//!
//! ```no_run
//! use kseal::run::Launch;
//! use kseal::secret::SecretValue;
//!
//! let values = vec![("DB_PASSWORD".to_owned(), SecretValue::new(b"hunter2-long".to_vec()))];
//! let launch = Launch::new("kamal", ["deploy"], values);
//! let code = launch.run()?;
//! std::process::exit(code.into());
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::ffi::{OsStr, OsString};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus};

use anyhow::Context;

use crate::hint::ResultExt;
use crate::keys::{IDENTITY_ENV, IDENTITY_FILE_ENV};
use crate::secret::SecretValue;

/// Variables kseal reads its own identity from; never handed to a child.
pub const OWN_VARIABLES: [&str; 2] = [IDENTITY_ENV, IDENTITY_FILE_ENV];

/// A command to run with secret values in its environment.
pub struct Launch {
    program: OsString,
    args: Vec<OsString>,
    values: Vec<(String, SecretValue)>,
    pristine: bool,
}

impl Launch {
    /// `program` with `args`, and `values` added to the environment it
    /// inherits from kseal.
    pub fn new<I, S>(
        program: impl AsRef<OsStr>,
        args: I,
        values: Vec<(String, SecretValue)>,
    ) -> Launch
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        Launch {
            program: program.as_ref().to_owned(),
            args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
            values,
            pristine: false,
        }
    }

    /// Hand the child only the secret values, none of kseal's own
    /// environment.
    pub fn pristine(mut self, yes: bool) -> Launch {
        self.pristine = yes;
        self
    }

    /// The program's name, for messages.
    pub fn program(&self) -> &OsStr {
        &self.program
    }

    /// A `Command` for the child with its environment set up: inherited
    /// (unless pristine) minus kseal's identity variables, plus the values.
    /// A value that an environment variable cannot hold (one with a NUL
    /// byte) is an error naming the secret.
    pub fn command(&self) -> anyhow::Result<Command> {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        if self.pristine {
            cmd.env_clear();
        }
        for name in OWN_VARIABLES {
            cmd.env_remove(name);
        }
        for (name, value) in &self.values {
            cmd.env(name, env_value(name, value)?);
        }
        Ok(cmd)
    }

    /// Runs the child with inherited stdin, stdout and stderr and waits for
    /// it. Returns the exit code kseal should end with.
    pub fn run(&self) -> anyhow::Result<u8> {
        let mut cmd = self.command()?;
        let status = spawn_error(cmd.status(), &self.program)?;
        Ok(exit_code(status))
    }
}

/// The value as an environment variable's value.
fn env_value<'a>(name: &str, value: &'a SecretValue) -> anyhow::Result<&'a OsStr> {
    use std::os::unix::ffi::OsStrExt;
    if value.expose().contains(&0) {
        return Err(anyhow::anyhow!(
            "secret {name:?} contains a NUL byte, which an environment variable cannot hold"
        ))
        .hint("leave it out with --only NAMES, or store the value base64-encoded");
    }
    Ok(OsStr::from_bytes(value.expose()))
}

/// Turns a failure to start the child into an error that names the
/// program.
pub(crate) fn spawn_error<T>(result: std::io::Result<T>, program: &OsStr) -> anyhow::Result<T> {
    match result {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(anyhow::Error::new(e).context(format!("cannot run {program:?}")))
                .hint("check the command's spelling and that it is on PATH")
        }
        Err(e) => Err(e).with_context(|| format!("cannot run {program:?}")),
    }
}

/// The exit code a shell reports for a child that ended with `status`:
/// its own code, or 128 + the signal number when a signal killed it.
pub fn exit_code(status: ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        // An exit code is one byte on Unix; `code` is already in 0..=255.
        return code as u8;
    }
    match status.signal() {
        Some(signal) => 128u8.wrapping_add(signal as u8),
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_a_value_names_the_secret_not_the_value() {
        let values = vec![(
            "BLOB".to_owned(),
            SecretValue::new(b"canary\0tail".to_vec()),
        )];
        let err = Launch::new("true", [""; 0], values)
            .command()
            .expect_err("a NUL byte is refused");
        let text = format!("{err:#}");
        assert!(text.contains("BLOB"), "{text}");
        assert!(!text.contains("canary"), "{text}");
    }

    #[test]
    fn signal_deaths_map_to_128_plus_n() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(3 << 8)), 3);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
