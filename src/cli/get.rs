//! `kseal get`.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::store::{self, OpenStore, Scope};

use super::store_args::{ScopeArgs, identities, root};
use super::{Global, Outcome};

/// Print one secret's value on stdout.
///
/// With -d DEST (or no destination) kseal looks in that destination's file
/// first, then in the shared file, the way Kamal layers
/// `.kamal/secrets-common` under the destination's secrets. With --shared it
/// looks only in the shared file.
///
/// The value is written exactly as stored; a newline is added only when
/// stdout is a terminal.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The secret's name.
    #[arg(value_name = "NAME")]
    pub name: String,

    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    store::validate_name(&args.name)
        .map_err(anyhow::Error::new)
        .hint("a secret name uses ASCII letters, digits, `_` and `.`, like DATABASE_URL")?;
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;

    let mut searched = vec![scope.clone()];
    if scope != Scope::Shared {
        searched.push(Scope::Shared);
    }
    let mut any_file = false;
    for scope in &searched {
        let Some(store) = OpenStore::open_if_exists(&root, scope, &identities)? else {
            continue;
        };
        any_file = true;
        if let Some(value) = store.get(&args.name) {
            let mut out = std::io::stdout().lock();
            out.write_all(value.expose())
                .context("cannot write to stdout")?;
            if out.is_terminal() {
                out.write_all(b"\n").context("cannot write to stdout")?;
            }
            out.flush().context("cannot write to stdout")?;
            return Ok(Outcome::Clean);
        }
    }

    let files: Vec<String> = searched
        .iter()
        .map(|s| s.relative_path().display().to_string())
        .collect();
    let hint = if any_file {
        "`kseal list` shows the names there are".to_owned()
    } else {
        format!("`kseal set {}` creates it", args.name)
    };
    Err(anyhow::anyhow!(
        "no secret {:?} in {}",
        args.name,
        files.join(" or ")
    ))
    .hint(hint)
}
