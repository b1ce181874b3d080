//! An opened sealed file: the data key is unwrapped, the MAC verified, every
//! value decrypted. Values can be read, changed and sealed again.
//!
//! A command that changes a store does it in one step with [`transact`]:
//!
//! ```no_run
//! # fn demo(root: &std::path::Path, ids: &[kseal::keys::DynIdentity]) -> anyhow::Result<()> {
//! use kseal::secret::SecretValue;
//! use kseal::store::{IfMissing, Scope, transact};
//!
//! let scope = Scope::from_destination(Some("production"))?;
//! transact(root, &scope, ids, IfMissing::Fail, |store| {
//!     store.set("DATABASE_URL", SecretValue::new(b"postgres://".to_vec()))?;
//!     Ok(())
//! })?;
//! # Ok(()) }
//! ```
//!
//! Commands that change several files (`kseal recipients rm` over every
//! destination) take the [`StoreLock`] once and then [`OpenStore::open`],
//! change and [`OpenStore::write`] each file while holding it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;

use super::datakey::DataKey;
use super::format::{
    self, Extension, Recipient, SealedEntry, SealedFile, VALUE_MAX_BYTES, now_unix,
};
use super::lock::StoreLock;
use super::{EntryInfo, Scope, aead, atomic, mac};
use crate::hint::{self, ResultExt};
use crate::keys::{DynIdentity, RecipientKey};
use crate::secret::SecretValue;

/// What [`OpenStore::set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The name is new.
    Added,
    /// The name existed with another value.
    Changed,
    /// The name existed with this very value; nothing changed.
    Unchanged,
}

/// What [`transact`] does when the scope's file does not exist yet.
pub enum IfMissing<'a> {
    /// Fail with an error saying there is no store for that scope.
    Fail,
    /// Create an empty store sealed to the recipients this returns.
    Create(&'a dyn Fn() -> anyhow::Result<Vec<Recipient>>),
}

#[derive(Debug)]
struct OpenEntry {
    created: i64,
    changed: i64,
    sealed: Vec<u8>,
    value: SecretValue,
}

/// A sealed file opened with an identity. Changes stay in memory until
/// [`OpenStore::write`].
#[derive(Debug)]
pub struct OpenStore {
    root: PathBuf,
    scope: Scope,
    recipients: Vec<Recipient>,
    key: DataKey,
    wrapped_key: Vec<u8>,
    extensions: Vec<Extension>,
    entries: BTreeMap<String, OpenEntry>,
    dirty: bool,
}

impl OpenStore {
    /// A new, empty store for `scope` with a fresh data key wrapped to
    /// `recipients`. Nothing is written until [`OpenStore::write`].
    pub fn create(
        root: &Path,
        scope: &Scope,
        recipients: Vec<Recipient>,
    ) -> anyhow::Result<OpenStore> {
        if recipients.is_empty() {
            return Err(anyhow::anyhow!("cannot create a store without recipients"))
                .hint("run `kseal keygen` to create an identity first");
        }
        let mut seen: Vec<&RecipientKey> = Vec::new();
        for r in &recipients {
            if seen.contains(&&r.key) {
                bail!("recipient {} is listed twice", r.key);
            }
            seen.push(&r.key);
            format::validate_label(&r.label)
                .map_err(|e| anyhow::anyhow!("recipient {}: {e}", r.key))?;
        }
        let key = DataKey::generate();
        let keys: Vec<RecipientKey> = recipients.iter().map(|r| r.key.clone()).collect();
        let wrapped_key = key.wrap(&keys)?;
        Ok(OpenStore {
            root: root.to_owned(),
            scope: scope.clone(),
            recipients,
            key,
            wrapped_key,
            extensions: Vec::new(),
            entries: BTreeMap::new(),
            dirty: true,
        })
    }

    /// Opens the sealed file of `scope` with the first matching identity.
    /// Errors if it does not exist (see [`OpenStore::open_if_exists`]).
    pub fn open(
        root: &Path,
        scope: &Scope,
        identities: &[DynIdentity],
    ) -> anyhow::Result<OpenStore> {
        match OpenStore::open_if_exists(root, scope, identities)? {
            Some(store) => Ok(store),
            None => Err(anyhow::anyhow!(
                "no sealed store for the {scope} ({} does not exist)",
                scope.relative_path().display()
            ))
            .hint(missing_hint(scope)),
        }
    }

    /// Opens the sealed file of `scope`, or `None` if there is none.
    pub fn open_if_exists(
        root: &Path,
        scope: &Scope,
        identities: &[DynIdentity],
    ) -> anyhow::Result<Option<OpenStore>> {
        let Some(file) = SealedFile::load(root, scope)? else {
            return Ok(None);
        };
        let display = scope.relative_path().display().to_string();
        OpenStore::from_sealed(root, file, identities, &display).map(Some)
    }

    /// Opens an already parsed file. `display` names it in errors.
    pub fn from_sealed(
        root: &Path,
        file: SealedFile,
        identities: &[DynIdentity],
        display: &str,
    ) -> anyhow::Result<OpenStore> {
        let key = match DataKey::unwrap(&file.wrapped_key, identities) {
            Ok(key) => key,
            // The error already says what to do (no matching identity).
            Err(e) if hint::find(&e).is_some() => {
                return Err(e.context(format!("cannot open {display}")));
            }
            // Anything else is a `datakey` line that parses as base64 but
            // is not the age file kseal wrote: the line was damaged.
            Err(e) => {
                let e = e.context(format!("{display}:{}", file.datakey_line));
                return Err(hint::attach(e, restore_hint(display)));
            }
        };

        if !mac::verify(&key, &file.body, &file.mac) {
            let e = anyhow::anyhow!(
                "{display}:{}: integrity check failed: the file was changed outside \
                 kseal (a line edited, deleted, reordered, duplicated, copied from \
                 elsewhere or rolled back)",
                file.mac_line
            );
            return Err(hint::attach(e, restore_hint(display)));
        }

        let mut entries = BTreeMap::new();
        for entry in file.entries {
            let SealedEntry { info, sealed, line } = entry;
            let Some(value) = aead::open(&key, &file.scope, &info.name, &sealed) else {
                // The MAC held, so only a faulty writer gets here.
                let e = anyhow::anyhow!(
                    "{display}:{line}: the value of {:?} does not decrypt although the \
                     file's MAC is valid",
                    info.name
                );
                return Err(hint::attach(e, restore_hint(display)));
            };
            entries.insert(
                info.name,
                OpenEntry {
                    created: info.created,
                    changed: info.changed,
                    sealed,
                    value,
                },
            );
        }

        Ok(OpenStore {
            root: root.to_owned(),
            scope: file.scope,
            recipients: file.recipients,
            key,
            wrapped_key: file.wrapped_key,
            extensions: file.extensions,
            entries,
            dirty: false,
        })
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The path of the sealed file.
    pub fn path(&self) -> PathBuf {
        self.scope.path(&self.root)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&SecretValue> {
        self.entries.get(name).map(|e| &e.value)
    }

    /// Every name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Every name with its value, sorted by name.
    pub fn values(&self) -> impl Iterator<Item = (&str, &SecretValue)> {
        self.entries.iter().map(|(n, e)| (n.as_str(), &e.value))
    }

    /// Every name with its timestamps, sorted by name.
    pub fn entries(&self) -> Vec<EntryInfo> {
        self.entries
            .iter()
            .map(|(name, e)| EntryInfo {
                name: name.clone(),
                created: e.created,
                changed: e.changed,
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `name` to `value`, stamped with the current time. Setting the
    /// value a name already has changes nothing, so its line stays byte for
    /// byte the same.
    pub fn set(&mut self, name: &str, value: SecretValue) -> anyhow::Result<Change> {
        self.set_at(name, value, now_unix())
    }

    /// [`OpenStore::set`] with an explicit time (Unix seconds).
    pub fn set_at(&mut self, name: &str, value: SecretValue, now: i64) -> anyhow::Result<Change> {
        format::validate_name(name)
            .map_err(anyhow::Error::new)
            .hint("a secret name uses ASCII letters, digits, `_` and `.`, like DATABASE_URL")?;
        if value.len() > VALUE_MAX_BYTES {
            bail!(
                "the value of {name:?} is {} bytes; kseal seals at most {VALUE_MAX_BYTES}",
                value.len()
            );
        }
        let sealed = match self.entries.get(name) {
            Some(old) if old.value == value => return Ok(Change::Unchanged),
            _ => aead::seal(&self.key, &self.scope, name, &value),
        };
        self.dirty = true;
        match self.entries.get_mut(name) {
            Some(old) => {
                old.changed = now;
                old.sealed = sealed;
                old.value = value;
                Ok(Change::Changed)
            }
            None => {
                self.entries.insert(
                    name.to_owned(),
                    OpenEntry {
                        created: now,
                        changed: now,
                        sealed,
                        value,
                    },
                );
                Ok(Change::Added)
            }
        }
    }

    /// Removes `name`; `false` if there was no such secret.
    pub fn remove(&mut self, name: &str) -> bool {
        let removed = self.entries.remove(name).is_some();
        self.dirty |= removed;
        removed
    }

    /// The recipients, in file order.
    pub fn recipients(&self) -> &[Recipient] {
        &self.recipients
    }

    /// Adds a recipient by wrapping the same data key to one more key: values
    /// and their lines stay as they are. `false` if the key was already a
    /// recipient (its label is left as it was).
    pub fn add_recipient(&mut self, recipient: Recipient) -> anyhow::Result<bool> {
        if self.recipients.iter().any(|r| r.key == recipient.key) {
            return Ok(false);
        }
        format::validate_label(&recipient.label)
            .map_err(|e| anyhow::anyhow!("recipient {}: {e}", recipient.key))?;
        self.recipients.push(recipient);
        self.rewrap()?;
        Ok(true)
    }

    /// Removes a recipient and rotates the data key: a new key is wrapped to
    /// the remaining recipients and every value is sealed again, so the
    /// removed key cannot open any later version of the file. Refuses to
    /// remove the last recipient. `false` if the key was not a recipient.
    pub fn remove_recipient(&mut self, key: &RecipientKey) -> anyhow::Result<bool> {
        let Some(index) = self.recipients.iter().position(|r| &r.key == key) else {
            return Ok(false);
        };
        if self.recipients.len() == 1 {
            return Err(anyhow::anyhow!(
                "cannot remove {key}: it is the last recipient of {}",
                self.scope.relative_path().display()
            ))
            .hint("add the new recipient first, then remove the old one");
        }
        self.recipients.remove(index);
        self.rotate_data_key()?;
        Ok(true)
    }

    /// Replaces the data key with a fresh one: every value is sealed again
    /// under it and it is wrapped to the current recipients. Timestamps are
    /// kept; the values did not change.
    pub fn rotate_data_key(&mut self) -> anyhow::Result<()> {
        self.key = DataKey::generate();
        for (name, entry) in self.entries.iter_mut() {
            entry.sealed = aead::seal(&self.key, &self.scope, name, &entry.value);
        }
        self.rewrap()
    }

    fn rewrap(&mut self) -> anyhow::Result<()> {
        let keys: Vec<RecipientKey> = self.recipients.iter().map(|r| r.key.clone()).collect();
        self.wrapped_key = self.key.wrap(&keys)?;
        self.dirty = true;
        Ok(())
    }

    /// Whether there are changes not yet written.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The sealed file's bytes as [`OpenStore::write`] would write them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let entries: Vec<SealedEntry> = self
            .entries
            .iter()
            .map(|(name, e)| SealedEntry {
                info: EntryInfo {
                    name: name.clone(),
                    created: e.created,
                    changed: e.changed,
                },
                sealed: e.sealed.clone(),
                line: 0,
            })
            .collect();
        let body = format::serialise_body(
            &self.scope,
            &self.recipients,
            &self.wrapped_key,
            &self.extensions,
            &entries,
        );
        let tag = mac::compute(&self.key, &body);
        format::with_mac(body, &tag)
    }

    /// Seals and atomically replaces the file, if anything changed. The lock
    /// must be the one for this store's app root.
    pub fn write(&mut self, lock: &StoreLock) -> anyhow::Result<()> {
        assert_eq!(
            lock.root(),
            self.root,
            "the store lock must cover the store being written"
        );
        if !self.dirty {
            return Ok(());
        }
        // A v1 writer cannot keep extensions it does not understand up to
        // date, so it drops them rather than carry stale data.
        if !self.extensions.is_empty() {
            log::warn!(
                "dropping {} unknown extension line(s) from {}",
                self.extensions.len(),
                self.scope.relative_path().display()
            );
            self.extensions.clear();
        }
        atomic::write(&self.path(), &self.to_bytes())?;
        self.dirty = false;
        Ok(())
    }
}

/// The hint for a sealed file that was changed outside kseal.
fn restore_hint(display: &str) -> String {
    format!(
        "see `git log -p -- {display}` for what changed, and restore it with \
         `git checkout -- {display}`"
    )
}

fn missing_hint(scope: &Scope) -> String {
    let flag = match scope {
        Scope::Shared => " --shared".to_owned(),
        Scope::Default => String::new(),
        Scope::Destination(name) => format!(" -d {name}"),
    };
    format!("`kseal set NAME{flag}` creates it")
}

/// Changes the store of `scope` in one atomic step: take the lock, read and
/// open the file (or create it, per `if_missing`), run `change`, and write
/// the result if anything changed. If `change` fails, nothing is written.
pub fn transact<T>(
    root: &Path,
    scope: &Scope,
    identities: &[DynIdentity],
    if_missing: IfMissing<'_>,
    change: impl FnOnce(&mut OpenStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let lock = StoreLock::acquire(root)?;
    let mut store = match OpenStore::open_if_exists(root, scope, identities)? {
        Some(store) => store,
        None => match if_missing {
            IfMissing::Fail => OpenStore::open(root, scope, identities)?,
            IfMissing::Create(recipients) => OpenStore::create(root, scope, recipients()?)?,
        },
    };
    let result = change(&mut store)?;
    store.write(&lock)?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn identity() -> (Vec<DynIdentity>, Recipient) {
        let id = age::x25519::Identity::generate();
        let key = RecipientKey::from_str(&id.to_public().to_string()).unwrap();
        (vec![Box::new(id)], Recipient::new(key, "me"))
    }

    fn value(text: &str) -> SecretValue {
        SecretValue::new(text.as_bytes().to_vec())
    }

    #[test]
    fn set_write_open_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, me) = identity();
        let scope = Scope::Destination("production".into());
        transact(
            dir.path(),
            &scope,
            &ids,
            IfMissing::Create(&|| Ok(vec![me.clone()])),
            |s| {
                s.set("B", value("two"))?;
                s.set("A", value("one"))
            },
        )
        .unwrap();

        let store = OpenStore::open(dir.path(), &scope, &ids).unwrap();
        let names: Vec<&str> = store.names().collect();
        assert_eq!(names, ["A", "B"]);
        assert_eq!(store.get("B").unwrap().expose(), b"two");
    }

    #[test]
    fn unchanged_values_keep_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, me) = identity();
        let scope = Scope::Default;
        let lock = StoreLock::acquire(dir.path()).unwrap();
        let mut store = OpenStore::create(dir.path(), &scope, vec![me]).unwrap();
        store.set_at("A", value("one"), 100).unwrap();
        store.set_at("B", value("two"), 100).unwrap();
        store.write(&lock).unwrap();
        let before = std::fs::read_to_string(store.path()).unwrap();

        let mut store = OpenStore::open(dir.path(), &scope, &ids).unwrap();
        assert_eq!(
            store.set_at("A", value("one"), 200).unwrap(),
            Change::Unchanged
        );
        assert!(!store.is_dirty());
        assert_eq!(
            store.set_at("B", value("three"), 200).unwrap(),
            Change::Changed
        );
        store.write(&lock).unwrap();
        let after = std::fs::read_to_string(store.path()).unwrap();

        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert!(changed[0].0.starts_with("secret B "));
        assert!(changed[1].0.starts_with("mac "));
    }

    #[test]
    fn removing_a_recipient_rotates_and_refuses_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, me) = identity();
        let (other_ids, other) = identity();
        let lock = StoreLock::acquire(dir.path()).unwrap();
        let mut store = OpenStore::create(dir.path(), &Scope::Shared, vec![me.clone()]).unwrap();
        store.set("A", value("one")).unwrap();
        assert!(store.add_recipient(other.clone()).unwrap());
        assert!(!store.add_recipient(other.clone()).unwrap());
        store.write(&lock).unwrap();
        assert!(OpenStore::open(dir.path(), &Scope::Shared, &other_ids).is_ok());

        let mut store = OpenStore::open(dir.path(), &Scope::Shared, &ids).unwrap();
        let old_line = String::from_utf8(store.to_bytes()).unwrap();
        assert!(store.remove_recipient(&other.key).unwrap());
        assert!(store.remove_recipient(&me.key).is_err());
        store.write(&lock).unwrap();
        let new_line = String::from_utf8(store.to_bytes()).unwrap();
        assert_ne!(
            old_line.lines().find(|l| l.starts_with("secret A")),
            new_line.lines().find(|l| l.starts_with("secret A"))
        );
        let err = OpenStore::open(dir.path(), &Scope::Shared, &other_ids).unwrap_err();
        assert!(format!("{err:#}").contains("none of your identities"));
        let store = OpenStore::open(dir.path(), &Scope::Shared, &ids).unwrap();
        assert_eq!(store.get("A").unwrap().expose(), b"one");
    }

    #[test]
    fn damaged_data_key_names_its_line_with_a_hint() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD as BASE64;

        let dir = tempfile::tempdir().unwrap();
        let (ids, me) = identity();
        let lock = StoreLock::acquire(dir.path()).unwrap();
        let mut store = OpenStore::create(dir.path(), &Scope::Default, vec![me]).unwrap();
        store.set("A", value("one")).unwrap();
        store.write(&lock).unwrap();

        let path = store.path();
        let text = std::fs::read_to_string(&path).unwrap();
        let damaged: String = text
            .lines()
            .map(|line| match line.strip_prefix("datakey ") {
                Some(data) => {
                    let mut wrapped = BASE64.decode(data).unwrap();
                    // A byte of the age header's own MAC.
                    let at = wrapped.windows(5).position(|w| w == b"\n--- ").unwrap();
                    wrapped[at + 6] ^= 1;
                    format!("datakey {}\n", BASE64.encode(wrapped))
                }
                None => format!("{line}\n"),
            })
            .collect();
        std::fs::write(&path, damaged).unwrap();

        let err = OpenStore::open(dir.path(), &Scope::Default, &ids).unwrap_err();
        let message = format!("{err:#}");
        assert!(
            message.contains(".kamal/kseal/secrets.sealed:4: "),
            "{message}"
        );
        assert!(hint::find(&err).unwrap().text().contains("git checkout"));
    }

    #[test]
    fn failed_change_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (ids, me) = identity();
        let create = || Ok(vec![me.clone()]);
        let result: anyhow::Result<()> = transact(
            dir.path(),
            &Scope::Default,
            &ids,
            IfMissing::Create(&create),
            |s| {
                s.set("A", value("one"))?;
                bail!("changed my mind")
            },
        );
        assert!(result.is_err());
        assert!(!Scope::Default.path(dir.path()).exists());
    }
}
