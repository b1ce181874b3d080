//! kseal keeps the secrets of a Kamal-deployed application sealed in its own
//! git repository, hands them to Kamal through the environment, and guards
//! the paths by which a secret escapes.
//!
//! The crate is layered; each layer only calls the ones below it:
//!
//! - [`run`] and [`redact`]: a child process with injected environment, and
//!   the streaming redactor that masks values in its output.
//! - [`check`] and [`scan`]: the findings engine, its Kamal rules and
//!   detectors, reported through [`findings`].
//! - [`kamal`]: Kamal's configuration and secrets files, parsed the way Kamal
//!   parses them.
//! - [`store`]: the sealed file format, seal and open, integrity, atomic
//!   writes.
//! - [`keys`]: identities and recipients (age X25519 and SSH keys).
//!
//! [`secret::SecretValue`] is the one type that holds a decrypted value; it is
//! wiped when dropped and never prints its contents.

pub mod check;
pub mod findings;
pub mod hint;
pub mod import;
pub mod kamal;
pub mod keys;
pub mod redact;
pub mod run;
pub mod scan;
pub mod secret;
pub mod store;
pub mod team;

pub use hint::Hint;
