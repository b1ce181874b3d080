//! Reading the values a command hands out (`export`, `fetch`): the
//! destination's values over the shared ones, optionally narrowed to some
//! names, each checked to be text.

use std::path::Path;

use kseal::hint::ResultExt;
use kseal::keys::DynIdentity;
use kseal::secret::SecretValue;
use kseal::store::{self, OpenStore, Scope};

/// The values of `scope` as Kamal would see them for it: shared values,
/// then the destination's over them; for [`Scope::Shared`] the shared file
/// alone. With `names`, only those, in that order; a name that does not
/// exist is an error.
pub fn collect(
    root: &Path,
    scope: &Scope,
    identities: &[DynIdentity],
    names: &[String],
) -> anyhow::Result<Vec<(String, SecretValue)>> {
    let values = match scope {
        Scope::Shared => OpenStore::open(root, scope, identities)?
            .values()
            .map(|(n, v)| (n.to_owned(), v.clone()))
            .collect(),
        Scope::Default => store::open_values(root, None, identities)?,
        Scope::Destination(dest) => store::open_values(root, Some(dest), identities)?,
    };
    if names.is_empty() {
        return Ok(values);
    }
    let mut picked = Vec::with_capacity(names.len());
    for name in names {
        let Some((_, value)) = values.iter().find(|(n, _)| n == name) else {
            return Err(anyhow::anyhow!("no secret {name:?} for the {scope}"))
                .hint("`kseal list` shows the names there are");
        };
        picked.push((name.clone(), value.clone()));
    }
    Ok(picked)
}

/// The value as UTF-8 text, for formats that carry only text.
pub fn as_text<'a>(name: &str, value: &'a SecretValue, format: &str) -> anyhow::Result<&'a str> {
    std::str::from_utf8(value.expose())
        .map_err(|_| anyhow::anyhow!("the value of {name:?} is not UTF-8 text"))
        .hint(format!(
            "{format} output carries text only; `kseal get {name}` prints the raw bytes"
        ))
}
