//! `kseal run`.

use std::ffi::OsString;
use std::sync::Arc;

use kseal::hint::ResultExt;
use kseal::run::Launch;
use kseal::secret::SecretValue;

use super::store_args::{identities, root};
use super::{Global, Outcome};

/// Run a command with the secrets of a destination in its environment.
///
/// The child gets the shared values, then the destination's (a destination
/// value replaces a shared one of the same name), on top of kseal's own
/// environment. KSEAL_IDENTITY and KSEAL_IDENTITY_FILE are never passed on.
/// kseal exits with the child's exit status, or 128+N when signal N killed
/// it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal run -d production -- kamal deploy -d production\n  \
    kseal run --only DATABASE_URL -- bin/rails db:migrate")]
pub struct Args {
    /// Kamal destination whose secrets to use, as in `kamal deploy -d
    /// DEST`. Without it: the default destination.
    #[arg(short = 'd', long = "destination", value_name = "DEST")]
    pub destination: Option<String>,

    /// Pass only these secrets (comma-separated, or repeat the option).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,

    /// Start the child with only the secrets in its environment, none of
    /// kseal's own (the command is still looked up on kseal's PATH).
    #[arg(long)]
    pub pristine: bool,

    /// Pass the child's output through unchanged instead of masking secret
    /// values in it.
    #[arg(long)]
    pub no_redact: bool,

    /// The command and its arguments.
    #[arg(
        value_name = "CMD",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let all = values(args.destination.as_deref(), global)?;
    let passed = only(&all, &args.only)?;
    let (program, rest) = args
        .command
        .split_first()
        .expect("clap requires at least one CMD word");
    let launch = Launch::new(program, rest, passed).pristine(args.pristine);
    if args.no_redact {
        drop(all);
        launch.exec()?;
        unreachable!("exec returns only on failure");
    }
    // Every value is masked, also those --only leaves out of the child's
    // environment: the child may find them elsewhere.
    let set = Arc::new(super::redact::pattern_set(&all));
    drop(all);
    Ok(Outcome::Exit(launch.run_redacted(set)?))
}

/// Every value for `destination`: the shared ones, then the destination's.
pub fn values(
    destination: Option<&str>,
    global: &Global,
) -> anyhow::Result<Vec<(String, SecretValue)>> {
    let root = root()?;
    let identities = identities(global)?;
    kseal::store::open_values(&root, destination, &identities)
}

/// `values` narrowed to the names in `only`, or all of them when it is
/// empty. A name that is not there is an error.
fn only(
    values: &[(String, SecretValue)],
    only: &[String],
) -> anyhow::Result<Vec<(String, SecretValue)>> {
    for name in only {
        if !values.iter().any(|(n, _)| n == name) {
            return Err(anyhow::anyhow!(
                "--only names {name:?}, which is not in the store"
            ))
            .hint("`kseal list` shows the names there are");
        }
    }
    Ok(values
        .iter()
        .filter(|(n, _)| only.is_empty() || only.contains(n))
        .cloned()
        .collect())
}
