//! Which sealed file a secret lives in, and where that file is.
//!
//! Kamal reads `.kamal/secrets-common` for every destination, then
//! `.kamal/secrets` (no destination) or `.kamal/secrets.<dest>`. kseal keeps
//! one sealed file for each of those, under [`STORE_DIR`](super::STORE_DIR):
//!
//! | scope | file |
//! | --- | --- |
//! | shared by all destinations | `secrets-common.sealed` |
//! | the default destination | `secrets.sealed` |
//! | destination `production` | `secrets.production.sealed` |
//!
//! The shared file uses a `-` where destinations use a `.`, exactly as Kamal
//! does, so a destination named `common` (`secrets.common.sealed`) never
//! collides with it.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::bail;

use super::{STORE_DIR, Scope};
use crate::hint::ResultExt;

/// Longest destination name kseal accepts, in bytes.
pub const DESTINATION_MAX_BYTES: usize = 100;

impl Scope {
    /// The scope for Kamal's `-d DEST` option: `None` is the default
    /// destination. The name is validated with [`validate_destination`].
    pub fn from_destination(destination: Option<&str>) -> anyhow::Result<Scope> {
        match destination {
            None => Ok(Scope::Default),
            Some(name) => {
                validate_destination(name)?;
                Ok(Scope::Destination(name.to_owned()))
            }
        }
    }

    /// The scope a command works on: `--shared` wins, else the destination.
    pub fn from_flags(shared: bool, destination: Option<&str>) -> anyhow::Result<Scope> {
        if shared {
            if destination.is_some() {
                return Err(anyhow::anyhow!(
                    "--shared and --destination cannot be used together"
                ))
                .hint("shared secrets belong to every destination; drop one of the two");
            }
            return Ok(Scope::Shared);
        }
        Scope::from_destination(destination)
    }

    /// The file name of this scope's sealed file.
    pub fn file_name(&self) -> String {
        match self {
            Scope::Shared => "secrets-common.sealed".to_owned(),
            Scope::Default => "secrets.sealed".to_owned(),
            Scope::Destination(name) => format!("secrets.{name}.sealed"),
        }
    }

    /// The path of this scope's sealed file relative to the app root.
    pub fn relative_path(&self) -> PathBuf {
        Path::new(STORE_DIR).join(self.file_name())
    }

    /// The path of this scope's sealed file under the app root `root`.
    pub fn path(&self, root: &Path) -> PathBuf {
        root.join(self.relative_path())
    }

    /// The scope as written on a file's `scope` line and bound into every
    /// value's associated data: `shared`, `default` or `destination NAME`.
    pub fn token(&self) -> String {
        match self {
            Scope::Shared => "shared".to_owned(),
            Scope::Default => "default".to_owned(),
            Scope::Destination(name) => format!("destination {name}"),
        }
    }

    /// Parses [`Scope::token`]'s output back.
    pub fn from_token(token: &str) -> anyhow::Result<Scope> {
        match token {
            "shared" => Ok(Scope::Shared),
            "default" => Ok(Scope::Default),
            _ => match token.strip_prefix("destination ") {
                Some(name) => Scope::from_destination(Some(name)),
                None => bail!("unknown scope {token:?}"),
            },
        }
    }

    /// The destination name, if this is a named destination.
    pub fn destination(&self) -> Option<&str> {
        match self {
            Scope::Destination(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Shared => f.write_str("shared secrets"),
            Scope::Default => f.write_str("default destination"),
            Scope::Destination(name) => write!(f, "destination {name:?}"),
        }
    }
}

/// Checks a destination name.
///
/// Kamal itself does not restrict the name, but uses it verbatim in places
/// that do: the config file `config/deploy.<dest>.yml`, the image tag
/// `latest-<dest>` (Docker tags allow ASCII letters, digits, `_`, `.` and
/// `-`) and the app directory `<service>-<dest>` on every host (see
/// `lib/kamal/configuration.rb`, `latest_tag` and `service_and_destination`,
/// in basecamp/kamal v2.12). kseal accepts exactly the names that work in all
/// of them: ASCII letters, digits, `_`, `.` and `-`, starting with a letter or
/// digit, at most [`DESTINATION_MAX_BYTES`] bytes, and never `..`. A path
/// separator, whitespace or any other character is refused.
pub fn validate_destination(name: &str) -> anyhow::Result<()> {
    const HINT: &str = "a destination name uses letters, digits, `_`, `.` and `-`, \
                        like the `-d` of `kamal deploy -d production`";
    if name.is_empty() {
        return Err(anyhow::anyhow!("destination name is empty")).hint(HINT);
    }
    if name.len() > DESTINATION_MAX_BYTES {
        return Err(anyhow::anyhow!(
            "destination name is longer than {DESTINATION_MAX_BYTES} bytes"
        ))
        .hint(HINT);
    }
    let first_ok = name.as_bytes()[0].is_ascii_alphanumeric();
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !first_ok || !chars_ok || name.contains("..") {
        return Err(anyhow::anyhow!("invalid destination name {name:?}")).hint(HINT);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kamal_style_names_are_accepted() {
        for name in ["production", "staging-eu", "eu_west.1", "1st", "common"] {
            let scope = Scope::from_destination(Some(name)).unwrap();
            assert_eq!(scope.destination(), Some(name));
        }
    }

    #[test]
    fn path_like_and_odd_names_are_refused() {
        for name in [
            "", "..", "a/b", "a\\b", "../x", "a..b", ".hidden", "-d", "x y", "prod\n", "pröd",
            "a:b", "a$b",
        ] {
            assert!(
                Scope::from_destination(Some(name)).is_err(),
                "{name:?} was accepted"
            );
        }
        assert!(Scope::from_destination(Some(&"a".repeat(101))).is_err());
    }

    #[test]
    fn shared_file_never_collides_with_a_destination() {
        let shared = Scope::Shared.file_name();
        let common = Scope::from_destination(Some("common")).unwrap().file_name();
        assert_ne!(shared, common);
        assert_eq!(Scope::Default.file_name(), "secrets.sealed");
    }

    #[test]
    fn tokens_round_trip() {
        for scope in [
            Scope::Shared,
            Scope::Default,
            Scope::Destination("prod".into()),
        ] {
            assert_eq!(Scope::from_token(&scope.token()).unwrap(), scope);
        }
        assert!(Scope::from_token("destination ../x").is_err());
        assert!(Scope::from_token("other").is_err());
    }
}
