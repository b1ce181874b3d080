//! Which `.kamal/secrets*` files Kamal 2 reads and how it merges them
//! (`lib/kamal/secrets.rb`): `secrets-common` first, then `secrets.<dest>`
//! with a destination or `secrets` without one. With a destination,
//! `.kamal/secrets` is not read at all. Each file is parsed on its own, so
//! `${A}` in one file cannot see `A` from another; a later file's value
//! replaces an earlier one.

use super::dotenv::Resolved;

/// The directory holding the secrets files, relative to the app root.
pub const SECRETS_DIR: &str = ".kamal";

/// File names (inside [`SECRETS_DIR`]) Kamal reads for `destination`, in
/// order; missing files are skipped.
pub fn file_names(destination: Option<&str>) -> [String; 2] {
    let own = match destination {
        Some(dest) => format!("secrets.{dest}"),
        None => "secrets".to_string(),
    };
    ["secrets-common".to_string(), own]
}

/// Merges the values of each file read, in [`file_names`] order, as Ruby's
/// `Hash#merge!`: a key keeps the position of its first definition and
/// takes the value of its last. A dropped file contributes nothing.
pub fn merge(files: impl IntoIterator<Item = Resolved>) -> Resolved {
    let mut out = Resolved::default();
    for file in files {
        for (key, value) in file.values {
            match out.values.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => out.values.push((key, value)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_replaces_plain_secrets_file() {
        assert_eq!(file_names(None)[1], "secrets");
        assert_eq!(file_names(Some("prod"))[1], "secrets.prod");
        assert_eq!(file_names(Some("prod"))[0], "secrets-common");
    }
}
