//! Team access: who can open which sealed file, changing that for several
//! files in one step, and what a removed recipient could read.
//!
//! - [`read_key_arg`] turns a command-line argument (a public key, or the
//!   path of a `.pub` file) into a [`RecipientKey`].
//! - [`change_files`] opens several sealed files under one lock, changes
//!   them all, and writes them only when every change succeeded.
//! - [`access`] builds the recipients × scopes matrix of `kseal access`.
//! - [`ledger`] builds the exposure ledger that `kseal recipients rm`
//!   prints: every secret a removed key could decrypt, and since when.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;

use crate::hint::ResultExt;
use crate::keys::{DynIdentity, RecipientKey};
use crate::store::{OpenStore, Scope, StoreLock};

pub mod access;
pub mod doctor;
pub mod ledger;

/// Largest `.pub` file kseal reads; a public key line is far shorter.
const PUBLIC_KEY_FILE_MAX_BYTES: u64 = 64 * 1024;

/// A public key given on the command line, and the comment its SSH line or
/// `.pub` file carried (a label candidate), if any.
#[derive(Debug, Clone)]
pub struct KeyArg {
    pub key: RecipientKey,
    pub comment: Option<String>,
}

/// Reads `arg` as a recipient public key: `age1…`, an SSH public key line,
/// or the path of a file holding one (`id_ed25519.pub`, or a file of
/// `# comment` lines and one `age1…` line).
///
/// A private key, given as text or as a file, is refused without repeating
/// it.
pub fn read_key_arg(arg: &str) -> anyhow::Result<KeyArg> {
    let arg = arg.trim();
    if looks_private(arg) {
        return Err(anyhow::anyhow!(
            "refusing a private key on the command line"
        ))
        .hint(
            "give the public key instead (`age-keygen -y FILE` or `kseal keygen` prints it), \
             and clear the private key from your shell history",
        );
    }
    if arg.starts_with("age1") || arg.starts_with("ssh-") {
        return parse_key_line(arg).with_context(|| format!("invalid public key {arg:?}"));
    }

    let path = Path::new(arg);
    if !path.is_file() {
        return Err(anyhow::anyhow!(
            "{arg:?} is neither a public key nor a readable file"
        ))
        .hint(
            "give an age public key (`age1…`), an SSH public key line in quotes \
             (\"ssh-ed25519 AAAA… alice\") or the path of a .pub file",
        );
    }
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {arg}"))?
        .len();
    if len > PUBLIC_KEY_FILE_MAX_BYTES {
        return Err(anyhow::anyhow!("{arg}: too large for a public key file"))
            .hint("give the .pub file that holds the one public key");
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {arg}"))?,
    );
    if looks_private(&text) {
        return Err(anyhow::anyhow!("{arg}: this is a private key file"))
            .hint("give the matching public key (the .pub file, or `age-keygen -y FILE`)");
    }
    let mut found: Option<(usize, &str)> = None;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if found.is_some() {
            return Err(anyhow::anyhow!(
                "{arg}:{}: more than one key in the file",
                index + 1
            ))
            .hint("give a file with one public key, or the key itself");
        }
        found = Some((index + 1, line));
    }
    let Some((line_no, line)) = found else {
        return Err(anyhow::anyhow!("{arg}: no public key in the file")).hint(
            "an age public key starts with `age1`, an SSH one with `ssh-ed25519` or `ssh-rsa`",
        );
    };
    parse_key_line(line).with_context(|| format!("{arg}:{line_no}"))
}

/// Whether `text` holds an age or SSH private key.
fn looks_private(text: &str) -> bool {
    text.contains("AGE-SECRET-KEY-")
        || text.contains("PRIVATE KEY-----")
        || text.contains("-----BEGIN AGE ENCRYPTED")
}

fn parse_key_line(line: &str) -> anyhow::Result<KeyArg> {
    let key = RecipientKey::from_str(line).hint(
        "give an age public key (`age1…`) or an SSH public key line \
         (`ssh-ed25519 AAAA…` or `ssh-rsa AAAA…`), copied whole",
    )?;
    // An SSH line is `type base64 [comment]`; the comment often says whose
    // key it is.
    let comment = if line.starts_with("ssh-") {
        let mut words = line.splitn(3, char::is_whitespace);
        words
            .nth(2)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
    } else {
        None
    };
    Ok(KeyArg { key, comment })
}

/// Checks a label for the command line: the format's rules, and no `#`
/// or newline that would confuse a reader of `kseal recipients list`.
pub fn validate_label(label: &str) -> anyhow::Result<()> {
    crate::store::format::validate_label(label)
        .map_err(|e| anyhow::anyhow!("invalid label {label:?}: {e}"))
        .hint("a label is short text naming the key's owner, like alice@example.com")
}

/// Changes every file of `scopes` in one step: takes the store lock once,
/// opens every file, runs `change` on each, and writes them only after every
/// change succeeded. If a file cannot be opened or a change fails, no file
/// is written.
pub fn change_files<T>(
    root: &Path,
    scopes: &[Scope],
    identities: &[DynIdentity],
    mut change: impl FnMut(&mut OpenStore) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<(Scope, T)>> {
    let lock = StoreLock::acquire(root)?;
    let mut stores = Vec::with_capacity(scopes.len());
    for scope in scopes {
        stores.push(OpenStore::open(root, scope, identities)?);
    }
    let mut results = Vec::with_capacity(stores.len());
    for store in &mut stores {
        results.push((store.scope().clone(), change(store)?));
    }
    for store in &mut stores {
        store.write(&lock)?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_refused_without_echo() {
        let secret = "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ";
        let err = read_key_arg(secret).unwrap_err();
        let message = format!("{err:#}");
        assert!(!message.contains("QQQQ"), "{message}");
        assert!(message.contains("private key"), "{message}");
    }

    #[test]
    fn ssh_comment_becomes_a_label_candidate() {
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN bob@laptop";
        let arg = read_key_arg(line).unwrap();
        assert_eq!(arg.comment.as_deref(), Some("bob@laptop"));
        assert!(!arg.key.as_str().contains("bob"));
    }

    #[test]
    fn pub_file_with_comments_and_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alice.pub");
        let key = age::x25519::Identity::generate().to_public().to_string();
        std::fs::write(&path, format!("# created: today\n# public key\n{key}\n")).unwrap();
        let arg = read_key_arg(path.to_str().unwrap()).unwrap();
        assert_eq!(arg.key.as_str(), key);

        std::fs::write(&path, format!("{key}\n{key}\n")).unwrap();
        let err = read_key_arg(path.to_str().unwrap()).unwrap_err();
        assert!(format!("{err:#}").contains(":2: more than one key"));
    }

    #[test]
    fn garbage_is_neither_key_nor_file() {
        let err = read_key_arg("age1notakey").unwrap_err();
        assert!(crate::hint::find(&err).is_some(), "{err:#}");
        let err = read_key_arg("/no/such/file.pub").unwrap_err();
        assert!(crate::hint::find(&err).is_some(), "{err:#}");
    }
}
