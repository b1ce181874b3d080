//! Identities (what decrypts) and recipients (what a data key is wrapped to):
//! age X25519 keys and SSH ed25519/RSA keys, and the order in which kseal
//! discovers the user's identities.
