//! A real sealed file, changed by the fuzzer's edits, then opened with the
//! identity it was sealed to: either the open fails, or it yields exactly
//! the names and values that were sealed. Anything else is a change the
//! integrity MAC let through.
//!
//! Input: edits of four bytes each, `[offset high, offset low, operation,
//! byte]`; the operation overwrites, inserts or deletes at the offset
//! (modulo the file's length).

#![no_main]

use std::path::Path;
use std::str::FromStr;
use std::sync::OnceLock;

use kseal::keys::{DynIdentity, RecipientKey};
use kseal::secret::SecretValue;
use kseal::store::format::{Recipient, SealedFile};
use kseal::store::{OpenStore, Scope};
use libfuzzer_sys::fuzz_target;

const VALUES: &[(&str, &[u8])] = &[
    ("DATABASE_URL", b"postgres://app:pw@db/app"),
    ("RAILS_MASTER_KEY", b"0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
    ("EMPTY", b""),
];

struct Sealed {
    identities: Vec<DynIdentity>,
    bytes: Vec<u8>,
}

fn sealed() -> &'static Sealed {
    static SEALED: OnceLock<Sealed> = OnceLock::new();
    SEALED.get_or_init(|| {
        let identity = age::x25519::Identity::generate();
        let key = RecipientKey::from_str(&identity.to_public().to_string()).unwrap();
        let scope = Scope::from_destination(Some("production")).unwrap();
        let mut store = OpenStore::create(
            Path::new("/nonexistent"),
            &scope,
            vec![Recipient::new(key, "fuzz")],
        )
        .unwrap();
        for (name, value) in VALUES {
            store
                .set_at(name, SecretValue::new(value.to_vec()), 1_800_000_000)
                .unwrap();
        }
        Sealed {
            identities: vec![Box::new(identity)],
            bytes: store.to_bytes(),
        }
    })
}

fuzz_target!(|edits: &[u8]| {
    let sealed = sealed();
    let mut bytes = sealed.bytes.clone();
    for edit in edits.chunks_exact(4) {
        let offset = usize::from(u16::from_be_bytes([edit[0], edit[1]]));
        match edit[2] % 3 {
            0 if !bytes.is_empty() => {
                let at = offset % bytes.len();
                bytes[at] = edit[3];
            }
            1 => {
                let at = offset % (bytes.len() + 1);
                bytes.insert(at, edit[3]);
            }
            _ if !bytes.is_empty() => {
                let at = offset % bytes.len();
                bytes.remove(at);
            }
            _ => {}
        }
    }
    let Ok(file) = SealedFile::parse(&bytes) else {
        return;
    };
    let Ok(store) =
        OpenStore::from_sealed(Path::new("/nonexistent"), file, &sealed.identities, "fuzz")
    else {
        return;
    };
    let opened: Vec<(&str, &[u8])> = store.values().map(|(n, v)| (n, v.expose())).collect();
    let mut expected = VALUES.to_vec();
    expected.sort();
    assert_eq!(
        opened, expected,
        "an edited file opened with other contents"
    );
    assert_eq!(
        store.scope(),
        &Scope::from_destination(Some("production")).unwrap()
    );
});
