//! Kamal's own files, read the way Kamal reads them: `config/deploy*.yml`
//! with source positions, `.kamal/secrets*` through dotenv rules plus Kamal's
//! command substitution (never executed), and the env-file encoding Kamal
//! uploads to hosts.

pub mod deploy;
pub mod dotenv;
pub mod envfile;
pub mod erb;
pub mod secrets_files;
pub mod wiring;
pub mod yaml;
