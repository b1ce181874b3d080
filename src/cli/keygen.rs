//! `kseal keygen`.

use super::{Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    // TODO: `kseal keygen` is not built yet; it exits 2 until it is.
    anyhow::bail!("`kseal keygen` is not implemented yet")
}
