//! Moving bytes from a file descriptor through a [`Redactor`], with the
//! idle flush that keeps interactive output responsive.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec, poll};

use super::{PatternSet, Redactor};

/// How long the input must stay quiet before held-back bytes are written.
pub const IDLE_FLUSH: Duration = Duration::from_millis(40);

/// Size of one read.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Copies `input` to `out` through the redactor until end of input. A
/// terminal's "input/output error" after its other side closes counts as
/// end of input.
pub fn pump(set: &PatternSet, input: impl AsFd, out: impl Write) -> io::Result<()> {
    let input = input.as_fd();
    let mut redactor = Redactor::new(set, out);
    let mut buf = vec![0u8; CHUNK_BYTES];
    let idle = Timespec {
        tv_sec: 0,
        tv_nsec: IDLE_FLUSH.as_nanos() as _,
    };
    loop {
        if redactor.holds_back() {
            let mut fds = [PollFd::new(&input, PollFlags::IN)];
            match poll(&mut fds, Some(&idle)) {
                Ok(0) => {
                    redactor.flush_held()?;
                    continue;
                }
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        match rustix::io::read(input, &mut buf) {
            Ok(0) => break,
            Ok(n) => redactor.write(&buf[..n])?,
            Err(rustix::io::Errno::INTR) => continue,
            Err(rustix::io::Errno::IO) => break,
            Err(e) => return Err(e.into()),
        }
    }
    redactor.finish()?;
    Ok(())
}
