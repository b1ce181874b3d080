//! `kseal check`: Kamal-aware rules against plaintext secrets and broken
//! wiring, one file per rule.
