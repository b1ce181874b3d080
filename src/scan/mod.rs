//! `kseal scan`: provider-token detectors and known-value search over trees,
//! streams, git history and image tarballs.
