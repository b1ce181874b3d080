//! `kseal kamal`.

use super::{Global, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    // TODO: `kseal kamal` is not built yet; it exits 2 until it is.
    anyhow::bail!("`kseal kamal` is not implemented yet")
}
