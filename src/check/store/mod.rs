//! Rules over the sealed stores, read without any key: the names, times,
//! recipients and format version are in the clear.

pub mod stale_secret;
pub mod too_few_recipients;
pub mod unknown_store_version;
