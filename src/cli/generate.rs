//! Random values for `kseal set --generate` and `kseal rotate --generate`.

use kseal::hint::ResultExt;
use kseal::secret::SecretValue;
use kseal::store;
use rand::seq::SliceRandom;

/// The character sets `--generate` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Charset {
    /// A-Z a-z 0-9.
    Alnum,
    /// 0-9 a-f.
    Hex,
    /// A-Z a-z 0-9 - _ (URL- and filename-safe).
    Base64url,
    /// Printable ASCII except space (0x21 to 0x7e).
    AsciiPrintable,
}

impl Charset {
    pub fn chars(self) -> Vec<u8> {
        let alnum = || {
            (b'A'..=b'Z')
                .chain(b'a'..=b'z')
                .chain(b'0'..=b'9')
                .collect::<Vec<u8>>()
        };
        match self {
            Charset::Alnum => alnum(),
            Charset::Hex => (b'0'..=b'9').chain(b'a'..=b'f').collect(),
            Charset::Base64url => {
                let mut chars = alnum();
                chars.extend_from_slice(b"-_");
                chars
            }
            Charset::AsciiPrintable => (0x21..=0x7e).collect(),
        }
    }
}

/// Shortest value `--generate` makes.
pub const GENERATE_MIN_LEN: usize = 8;

/// A random value of `len` characters drawn from `charset` with the
/// operating system's generator.
pub fn generate(len: usize, charset: Charset) -> anyhow::Result<SecretValue> {
    if len < GENERATE_MIN_LEN {
        return Err(anyhow::anyhow!("--generate {len} is too short"))
            .hint(format!("generate at least {GENERATE_MIN_LEN} characters"));
    }
    if len > store::format::VALUE_MAX_BYTES {
        anyhow::bail!(
            "--generate {len} is longer than the {} bytes kseal seals",
            store::format::VALUE_MAX_BYTES
        );
    }
    let chars = charset.chars();
    let mut rng = rand::rngs::OsRng;
    let value: Vec<u8> = (0..len)
        .map(|_| *chars.choose(&mut rng).expect("a charset is never empty"))
        .collect();
    Ok(SecretValue::new(value))
}
