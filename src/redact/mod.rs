//! The streaming redactor: replaces every occurrence of every secret value,
//! and of its encoded forms, with a marker that names the secret.
