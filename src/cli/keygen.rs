//! `kseal keygen`.

use std::io::Write;
use std::path::PathBuf;

use age::secrecy::{ExposeSecret, SecretString};
use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::keys;

use super::{Global, Outcome};

/// Create your age identity, or print the public key of the one you have.
///
/// The new identity goes to $XDG_CONFIG_HOME/kseal/identity.txt (else
/// ~/.config/kseal/identity.txt), created with mode 0600; an existing file
/// is never replaced. The public key (`age1…`) is printed on stdout: share
/// it, and a teammate adds you with `kseal recipients add`. The private key
/// never leaves the file.
///
/// Identities kseal uses, in order: -i FILE (only those, when given);
/// KSEAL_IDENTITY (the key text itself, for CI); KSEAL_IDENTITY_FILE (a
/// path); the file above; ~/.ssh/id_ed25519 and ~/.ssh/id_rsa. A file that
/// group or others can read is refused.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal keygen                     # create your identity, print its public key\n  \
    kseal keygen --passphrase        # the same, protected by a passphrase\n  \
    kseal keygen --show-public       # print the public keys of the identities you have\n  \
    kseal keygen -o ci-deploy.key    # a separate identity, e.g. for a CI secret")]
pub struct Args {
    /// Write the new identity to FILE instead of the default location.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Protect the new identity with a passphrase (asked twice on the
    /// terminal; the file becomes an age file encrypted with it, which the
    /// stock `age -d` also opens).
    #[arg(long, conflicts_with = "show_public")]
    pub passphrase: bool,

    /// Create nothing; print the public key of every identity kseal finds.
    #[arg(long)]
    pub show_public: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    if args.show_public {
        for key in keys::own_recipients(&global.identity)? {
            writeln!(out, "{key}").context("cannot write to stdout")?;
        }
        return Ok(Outcome::Clean);
    }

    let path = match args.output {
        Some(path) => path,
        None => keys::default_identity_path()?,
    };
    let passphrase = if args.passphrase {
        Some(ask_new_passphrase()?)
    } else {
        None
    };
    let made = keys::generate(&path, passphrase)?;
    eprintln!("kseal: identity written to {}", path.display());
    writeln!(out, "{}", made.public).context("cannot write to stdout")?;
    Ok(Outcome::Clean)
}

fn ask_new_passphrase() -> anyhow::Result<SecretString> {
    const HINT: &str = "--passphrase needs a terminal to ask on";
    let first = rpassword::prompt_password("New passphrase: ")
        .context("cannot ask for a passphrase")
        .hint(HINT)?;
    let first = SecretString::from(first);
    if first.expose_secret().is_empty() {
        anyhow::bail!("the passphrase is empty");
    }
    let second = rpassword::prompt_password("Repeat it: ")
        .context("cannot ask for a passphrase")
        .hint(HINT)?;
    let second = SecretString::from(second);
    if first.expose_secret() != second.expose_secret() {
        anyhow::bail!("the two passphrases differ");
    }
    Ok(first)
}
