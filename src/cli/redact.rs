//! `kseal redact`.

use std::fs::File;

use anyhow::Context;
use kseal::redact::{MIN_VALUE_LEN_BYTES, PatternSet, pump};

use super::{Global, Outcome};

/// Copy stdin to stdout with every secret value masked.
///
/// Each value of the destination (and the shared values) is replaced by
/// `[kseal:NAME]` wherever it appears: as is, in base64 (standard or
/// URL-safe, at any alignment inside a longer base64 run), hex,
/// percent-encoding, inside JSON strings, shell quoting as Kamal and SSHKit
/// print it, and Kamal's env-file escaping. Values shorter than 6 bytes are
/// not masked; kseal names them on stderr.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kamal app logs -d production | kseal redact -d production\n  \
    kseal redact < deploy.log > deploy.redacted.log")]
pub struct Args {
    /// Kamal destination whose secrets to mask. Without it: the default
    /// destination.
    #[arg(short = 'd', long = "destination", value_name = "DEST")]
    pub destination: Option<String>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let values = super::run::values(args.destination.as_deref(), global)?;
    let set = pattern_set(&values);
    drop(values);

    // Write to the descriptor directly: the standard library's line
    // buffering would split every chunk at its last newline.
    let stdout = File::from(
        rustix::stdio::stdout()
            .try_clone_to_owned()
            .context("cannot use stdout")?,
    );
    pump::pump(&set, rustix::stdio::stdin(), stdout).context("cannot copy stdin to stdout")?;
    Ok(Outcome::Clean)
}

/// The pattern set for `values`, saying once on stderr which secrets are too
/// short to be masked.
pub fn pattern_set(values: &[(String, kseal::secret::SecretValue)]) -> PatternSet {
    let set = PatternSet::new(values);
    if !set.too_short().is_empty() {
        log::warn!(
            "not masking {}: shorter than {MIN_VALUE_LEN_BYTES} bytes",
            set.too_short().join(", ")
        );
    }
    log::debug!(
        "masking {} secrets in {} forms, longest {} bytes",
        values.len() - set.too_short().len(),
        set.len(),
        set.max_len_bytes()
    );
    set
}
