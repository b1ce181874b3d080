//! Forwarding the signals kseal receives to the child it runs, so that
//! `kill`, a CI runner's cancel, a terminal hang-up or a window resize reach
//! the program as they would without kseal in between.

use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread::JoinHandle;

use rustix::process::{Pid, Signal};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use signal_hook::iterator::SignalsInfo;
use signal_hook::iterator::exfiltrator::WithOrigin;
use signal_hook::low_level::siginfo::Cause;

/// Where the child's terminal is, which decides what to forward.
pub enum Mode {
    /// The child shares kseal's terminal and process group: a key press
    /// such as Ctrl-C already reached it, so only signals another process
    /// sent to kseal are passed on.
    // FIXME: a signal sent to the whole process group (`kill -TERM -PGID`)
    // reaches the child twice, directly and forwarded; the sender cannot be
    // told apart from one that signalled kseal alone. A process group of
    // the child's own would fix that but stop a child that reads the
    // terminal (SIGTTIN), so it stays until kseal manages the terminal's
    // foreground group itself.
    Shared,
    /// The child runs on its own pseudo-terminal, in its own session:
    /// every signal is passed on to the terminal's foreground process group,
    /// and a window size change of kseal's terminal is copied to the child's.
    Pty {
        master: OwnedFd,
        terminal: Option<OwnedFd>,
    },
}

/// A background thread that forwards signals until stopped.
pub struct Forwarder {
    handle: signal_hook::iterator::Handle,
    thread: JoinHandle<()>,
}

impl Forwarder {
    /// Starts forwarding to the process whose id `child` holds (0 until the
    /// child is spawned; signals that arrive before are dropped). Install
    /// it before spawning, so that no signal can kill kseal and orphan the
    /// child.
    pub fn start(child: Arc<AtomicI32>, mode: Mode) -> io::Result<Forwarder> {
        let mut wanted = vec![SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2];
        if matches!(mode, Mode::Pty { .. }) {
            wanted.push(SIGWINCH);
        }
        let mut signals = SignalsInfo::<WithOrigin>::new(&wanted)?;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            for origin in signals.forever() {
                let pid = child.load(Ordering::SeqCst);
                let Some(pid) = Pid::from_raw(pid) else {
                    continue;
                };
                match &mode {
                    Mode::Shared => {
                        if matches!(origin.cause, Cause::Sent(_)) {
                            send(pid, origin.signal, false);
                        }
                    }
                    Mode::Pty { master, terminal } => {
                        if origin.signal == SIGWINCH {
                            if let Some(terminal) = terminal
                                && let Ok(size) = rustix::termios::tcgetwinsize(terminal)
                            {
                                let _ = rustix::termios::tcsetwinsize(master, size);
                            }
                            continue;
                        }
                        let group = rustix::termios::tcgetpgrp(master).unwrap_or(pid);
                        send(group, origin.signal, true);
                    }
                }
            }
        });
        Ok(Forwarder { handle, thread })
    }

    /// Stops forwarding; kseal's own handling of these signals stays in
    /// place until it exits.
    pub fn stop(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}

fn send(pid: Pid, signal: i32, group: bool) {
    // The signals registered above are all standard ones rustix knows.
    let Some(signal) = Signal::from_named_raw(signal) else {
        return;
    };
    let sent = if group {
        rustix::process::kill_process_group(pid, signal)
    } else {
        rustix::process::kill_process(pid, signal)
    };
    if let Err(e) = sent {
        log::debug!("cannot forward signal {signal:?} to {pid:?}: {e}");
    }
}
