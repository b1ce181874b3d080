//! Writing a new age identity file.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::Context;
use zeroize::Zeroizing;

use super::RecipientKey;
use crate::hint::ResultExt;

/// What [`generate`] made.
#[derive(Debug)]
pub struct GeneratedIdentity {
    pub public: RecipientKey,
}

/// Creates a new age X25519 identity at `path`: mode 0600 from the first
/// byte (the folder is created 0700 if missing), never replacing an
/// existing file. With a passphrase the file is an armored age file
/// encrypted to it (scrypt), as `age -p -a` writes.
pub fn generate(
    path: &Path,
    passphrase: Option<SecretString>,
) -> anyhow::Result<GeneratedIdentity> {
    let display = path.display();
    if path.exists() {
        return Err(anyhow::anyhow!("{display} already exists; kseal never overwrites an identity"))
            .hint("`kseal keygen --show-public` prints its public key; -o FILE writes a new one elsewhere");
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let identity = age::x25519::Identity::generate();
    let public = RecipientKey::from_str(&identity.to_public().to_string())?;
    let created = crate::store::format::format_time(crate::store::now_unix());
    let secret = identity.to_string();
    let text = Zeroizing::new(format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        secret.expose_secret()
    ));
    let bytes = match passphrase {
        None => Zeroizing::new(text.as_bytes().to_vec()),
        Some(passphrase) => Zeroizing::new(encrypt(text.as_bytes(), passphrase)?),
    };

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {display}"))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {display}"))?;
    Ok(GeneratedIdentity { public })
}

fn encrypt(plain: &[u8], passphrase: SecretString) -> anyhow::Result<Vec<u8>> {
    let encryptor = age::Encryptor::with_user_passphrase(passphrase);
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .context("cannot encrypt the identity")?;
    let mut writer = encryptor
        .wrap_output(armor)
        .context("cannot encrypt the identity")?;
    writer
        .write_all(plain)
        .context("cannot encrypt the identity")?;
    writer
        .finish()
        .and_then(|armor| armor.finish())
        .context("cannot encrypt the identity")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_identity_is_private_and_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kseal/identity.txt");
        let made = generate(&path, None).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(made.public.as_str()));
        let before = std::fs::read(&path).unwrap();
        assert!(generate(&path, None).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}
