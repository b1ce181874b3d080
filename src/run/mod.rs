//! Running a child process with secret values in its environment, its
//! output passed through the redactor.
//!
//! Values reach the child only through its environment, never its argv, so
//! they do not show in `ps`. kseal's own identity variables are taken out of
//! the environment the child inherits: a deploy tool has no business with
//! the key that opens the store.
//!
//! The child's standard output and error go through the redactor. When
//! kseal's own output is a terminal the child runs on a pseudo-terminal
//! ([`pty`]), so that it still sees a terminal; otherwise it writes into
//! pipes. Its standard input is kseal's. Signals sent to kseal are
//! forwarded ([`signals`]), and kseal ends with the child's exit status.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use kseal::redact::PatternSet;
//! use kseal::run::Launch;
//! use kseal::secret::SecretValue;
//!
//! let values = vec![("DB_PASSWORD".to_owned(), SecretValue::new(b"hunter2-long".to_vec()))];
//! let set = Arc::new(PatternSet::new(&values));
//! let launch = Launch::new("kamal", ["deploy"], values);
//! let code = launch.run_redacted(set)?;
//! std::process::exit(code.into());
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

use crate::hint::ResultExt;
use crate::keys::{IDENTITY_ENV, IDENTITY_FILE_ENV};
use crate::redact::{PatternSet, pump};
use crate::secret::SecretValue;

pub mod pty;
pub mod signals;

/// How long kseal waits, once the child has exited, for output still held
/// by the child's terminal (a background process it left may keep the
/// terminal open forever).
const PTY_DRAIN_WAIT: Duration = Duration::from_secs(2);

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

    /// Replaces kseal with the child, output unredacted: it inherits
    /// kseal's terminal, process id and signals as if started directly.
    /// Returns only on failure.
    pub fn exec(&self) -> anyhow::Result<std::convert::Infallible> {
        let mut cmd = self.command()?;
        let err = cmd.exec();
        spawn_error(Err(err), &self.program)
    }

    /// Runs the child with its output masked by `set` and waits for it.
    /// Returns the exit code kseal should end with.
    pub fn run_redacted(&self, set: Arc<PatternSet>) -> anyhow::Result<u8> {
        let terminal = [io::stdout().is_terminal(), io::stderr().is_terminal()];
        if terminal.contains(&true) {
            self.run_on_pty(set, terminal)
        } else {
            self.run_on_pipes(set)
        }
    }

    fn run_on_pipes(&self, set: Arc<PatternSet>) -> anyhow::Result<u8> {
        let mut cmd = self.command()?;
        cmd.stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        let pid = Arc::new(AtomicI32::new(0));
        let forwarder = signals::Forwarder::start(pid.clone(), signals::Mode::Shared)
            .context("cannot set up signal forwarding")?;
        let mut child = spawn_error(cmd.spawn(), &self.program)?;
        drop(cmd);
        pid.store(child.id() as i32, Ordering::SeqCst);

        let out = child.stdout.take().expect("stdout was piped");
        let err = child.stderr.take().expect("stderr was piped");
        let pumps = [
            spawn_pump(set.clone(), out.into(), own_stdout()?),
            spawn_pump(set, err.into(), own_stderr()?),
        ];
        let status = child.wait().context("cannot wait for the child")?;
        for pump in pumps {
            let _ = pump.join();
        }
        forwarder.stop();
        Ok(exit_code(status))
    }

    /// `terminal`: whether kseal's stdout and stderr are terminals (at
    /// least one is). Those become the child's pseudo-terminal; the other
    /// one, if any, a pipe.
    fn run_on_pty(&self, set: Arc<PatternSet>, terminal: [bool; 2]) -> anyhow::Result<u8> {
        // The keyboard is taken over only from the foreground: a background
        // job that put the terminal in raw mode or read from it would be
        // stopped by the kernel (SIGTTOU, SIGTTIN).
        let stdin_terminal = io::stdin().is_terminal() && in_foreground(rustix::stdio::stdin());
        let pty = pty::Pty::open().context("cannot open a pseudo-terminal")?;
        let own_terminal: BorrowedFd<'static> = if stdin_terminal {
            rustix::stdio::stdin()
        } else if terminal[0] {
            rustix::stdio::stdout()
        } else {
            rustix::stdio::stderr()
        };
        pty.copy_from(own_terminal);

        let mut cmd = self.command()?;
        let slave = |on: bool| -> io::Result<Stdio> {
            Ok(if on {
                Stdio::from(pty.slave.try_clone()?)
            } else {
                Stdio::piped()
            })
        };
        cmd.stdin(if stdin_terminal {
            slave(true)?
        } else {
            Stdio::inherit()
        });
        cmd.stdout(slave(terminal[0])?).stderr(slave(terminal[1])?);
        let slave_fd = pty.slave.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec and only
        // makes two system calls, both async-signal-safe. `slave_fd` is
        // still open there: it is closed on exec, not on fork.
        unsafe {
            cmd.pre_exec(move || {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(BorrowedFd::borrow_raw(slave_fd))?;
                Ok(())
            });
        }

        let pid = Arc::new(AtomicI32::new(0));
        let mode = signals::Mode::Pty {
            master: pty.master.try_clone()?,
            terminal: own_terminal.try_clone_to_owned().ok(),
        };
        let forwarder = signals::Forwarder::start(pid.clone(), mode)
            .context("cannot set up signal forwarding")?;
        let mut child = spawn_error(cmd.spawn(), &self.program)?;
        drop(cmd);
        pid.store(child.id() as i32, Ordering::SeqCst);
        // With the last copy of the child's end closed here, reading the
        // master fails once the child and everything it started are gone.
        let pty::Pty { master, slave } = pty;
        drop(slave);

        let raw = if stdin_terminal {
            pty::RawMode::enter(own_terminal).ok()
        } else {
            None
        };
        if stdin_terminal {
            spawn_keyboard(master.try_clone()?);
        }
        let sink = if terminal[0] {
            own_stdout()?
        } else {
            own_stderr()?
        };
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let screen = {
            let set = set.clone();
            std::thread::spawn(move || {
                let _ = pump::pump(&set, master, sink);
                let _ = done_tx.send(());
            })
        };
        let mut pipes = Vec::new();
        if let Some(out) = child.stdout.take() {
            pipes.push(spawn_pump(set.clone(), out.into(), own_stdout()?));
        }
        if let Some(err) = child.stderr.take() {
            pipes.push(spawn_pump(set, err.into(), own_stderr()?));
        }

        // TODO: Ctrl-Z does nothing: the child leads a session whose parent
        // is outside it, so its process group is orphaned and the kernel
        // drops the terminal's SIGTSTP. It takes an intermediate session
        // leader that starts the child in a process group of its own, and
        // kseal waiting with WUNTRACED to stop itself and continue the
        // child on SIGCONT.
        let status = child.wait().context("cannot wait for the child")?;
        if done_rx.recv_timeout(PTY_DRAIN_WAIT).is_ok() {
            let _ = screen.join();
        }
        for pipe in pipes {
            let _ = pipe.join();
        }
        drop(raw);
        forwarder.stop();
        Ok(exit_code(status))
    }
}

/// A thread that copies `input` through the redactor to `out`. When `out`
/// is closed (`kseal run … | head`), the thread ends and so closes
/// `input`, and the child learns of it as it would without kseal.
fn spawn_pump(set: Arc<PatternSet>, input: OwnedFd, out: File) -> JoinHandle<()> {
    std::thread::spawn(move || {
        if let Err(e) = pump::pump(&set, &input, out)
            && e.kind() != io::ErrorKind::BrokenPipe
        {
            log::debug!("output copy stopped: {e}");
        }
    })
}

/// A thread that passes every key typed on kseal's terminal to the child's
/// terminal. It is never joined: it may sit in a read until kseal exits.
fn spawn_keyboard(master: OwnedFd) {
    std::thread::spawn(move || {
        let mut master = File::from(master);
        let mut stdin = io::stdin().lock();
        let mut buf = [0u8; 4096];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if master.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    });
}

/// Whether kseal's process group is the foreground one of `terminal`.
fn in_foreground(terminal: BorrowedFd<'_>) -> bool {
    rustix::termios::tcgetpgrp(terminal).is_ok_and(|group| group == rustix::process::getpgrp())
}

/// kseal's stdout as a file, written without the standard library's line
/// buffering.
fn own_stdout() -> anyhow::Result<File> {
    let fd = rustix::stdio::stdout().as_fd().try_clone_to_owned();
    Ok(File::from(fd.context("cannot use stdout")?))
}

fn own_stderr() -> anyhow::Result<File> {
    let fd = rustix::stdio::stderr().as_fd().try_clone_to_owned();
    Ok(File::from(fd.context("cannot use stderr")?))
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
