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
    // Reads of at least twice the longest pattern keep the work on the
    // held-back tail small next to the work on new bytes.
    let mut buf = vec![0u8; CHUNK_BYTES.max(2 * set.max_len_bytes())];
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

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixStream;
    use std::sync::mpsc;

    use super::*;
    use crate::secret::SecretValue;

    /// Sends every write to a channel, so the test sees output as it comes.
    struct ChannelWriter(mpsc::Sender<Vec<u8>>);

    impl Write for ChannelWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.0.send(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_held_back_prompt_is_written_once_the_input_goes_quiet() {
        let secrets = vec![("PW".to_owned(), SecretValue::new(b"Password-xyz".to_vec()))];
        let set = PatternSet::new(&secrets);
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || pump(&set, reader, ChannelWriter(tx)));

        // "Pass" could begin the secret, so it is held back until the input
        // has been quiet for a moment; the stream stays open meanwhile.
        writer.write_all(b"Pass").unwrap();
        let mut seen = Vec::new();
        while seen != b"Pass" {
            let chunk = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the held-back bytes were never written");
            seen.extend(chunk);
        }
        writer.write_all(b"word-xyz!").unwrap();
        drop(writer);
        thread.join().unwrap().unwrap();
        seen.extend(rx.iter().flatten());
        assert_eq!(seen, b"Pass[kseal:PW]!");
    }
}
