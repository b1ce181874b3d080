//! Importers that read secrets kept by other tools, for migration into the
//! sealed store.
//!
//! - [`rails`]: Rails encrypted credentials (`config/credentials.yml.enc`,
//!   `config/credentials/<env>.yml.enc`), decrypted with the app's master
//!   key.
//!
//! dotenv files and the literal lines of `.kamal/secrets*` are read with
//! [`crate::kamal::dotenv`], by `kseal import` itself.

pub mod marshal;
pub mod rails;
