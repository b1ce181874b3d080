//! The pseudo-terminal a child runs on when kseal's output is a terminal,
//! so that colours, prompts, line editing, window size and Ctrl-C behave as
//! they do without kseal.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::pty::{OpenptFlags, grantpt, ioctl_tiocgptpeer, openpt, unlockpt};
use rustix::termios::{OptionalActions, Termios, tcgetattr, tcsetattr};

/// Both ends of a new pseudo-terminal.
pub struct Pty {
    /// kseal's end: what the child writes is read here, and what is
    /// written here is the child's keyboard input.
    pub master: OwnedFd,
    /// The child's end, its terminal.
    pub slave: OwnedFd,
}

impl Pty {
    /// Opens a new pseudo-terminal; both descriptors are closed on exec.
    pub fn open() -> io::Result<Pty> {
        let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
        let master = openpt(flags)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let slave = ioctl_tiocgptpeer(&master, flags)?;
        Ok(Pty { master, slave })
    }

    /// Gives the child's terminal the settings and window size of
    /// `terminal`, kseal's own.
    pub fn copy_from(&self, terminal: BorrowedFd<'_>) {
        if let Ok(settings) = tcgetattr(terminal) {
            let _ = tcsetattr(&self.slave, OptionalActions::Now, &settings);
        }
        self.copy_size_from(terminal);
    }

    /// Gives the child's terminal the window size of `terminal`.
    pub fn copy_size_from(&self, terminal: BorrowedFd<'_>) {
        if let Ok(size) = rustix::termios::tcgetwinsize(terminal) {
            let _ = rustix::termios::tcsetwinsize(&self.master, size);
        }
    }
}

/// kseal's terminal in raw mode for as long as this lives: every key goes
/// to the child's terminal, whose own line discipline then echoes, edits
/// lines and turns Ctrl-C into SIGINT exactly as the real one would.
pub struct RawMode<'fd> {
    terminal: BorrowedFd<'fd>,
    saved: Termios,
}

impl<'fd> RawMode<'fd> {
    pub fn enter(terminal: BorrowedFd<'fd>) -> io::Result<RawMode<'fd>> {
        let saved = tcgetattr(terminal)?;
        let mut raw = saved.clone();
        raw.make_raw();
        tcsetattr(terminal, OptionalActions::Now, &raw)?;
        Ok(RawMode { terminal, saved })
    }
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = tcsetattr(self.terminal.as_fd(), OptionalActions::Now, &self.saved);
    }
}
