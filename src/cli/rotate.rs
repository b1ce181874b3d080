//! `kseal rotate`.

use kseal::hint::ResultExt;
use kseal::store::{self, IfMissing, Scope};
use kseal::team;

use super::generate::{Charset, generate};
use super::store_args::{identities, root};
use super::{Global, Outcome, wire};

/// Rotate a file's data key, or give one secret a new random value.
///
/// `kseal rotate -d DEST` seals every value of the file again under a new
/// data key; the values themselves stay as they are. Do this before adding
/// a recipient who must not read what was sealed before.
///
/// `kseal rotate NAME --generate [LEN]` replaces the value of NAME with a
/// new random one, recorded as changed, for a secret kseal itself makes
/// (a Rails `SECRET_KEY_BASE`, a token between your own services). Secrets
/// issued elsewhere are rotated there, then stored with `kseal set`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal rotate -d production\n  \
    kseal rotate --all\n  \
    kseal rotate SECRET_KEY_BASE --generate 64 --charset hex -d production")]
pub struct Args {
    /// The secret to give a new value (with --generate). Without it, the
    /// data key is rotated.
    #[arg(value_name = "NAME", requires = "generate")]
    pub name: Option<String>,

    /// Kamal destination, as in `kamal deploy -d DEST`. Without -d,
    /// --shared or --all: the default destination.
    #[arg(short = 'd', long = "destination", value_name = "DEST")]
    pub destination: Option<String>,

    /// The shared secrets file (Kamal's `.kamal/secrets-common`).
    #[arg(long, conflicts_with = "destination")]
    pub shared: bool,

    /// Rotate the data key of every sealed file.
    #[arg(long, conflicts_with_all = ["destination", "shared", "name"])]
    pub all: bool,

    /// Generate a new random value of LEN characters (default 32) for NAME.
    #[arg(
        long,
        value_name = "LEN",
        num_args = 0..=1,
        default_missing_value = "32",
        requires = "name"
    )]
    pub generate: Option<usize>,

    /// Characters a generated value is drawn from: alnum, hex, base64url
    /// or ascii-printable (see `kseal set --help`).
    #[arg(long, value_enum, default_value_t = Charset::Alnum, requires = "generate")]
    pub charset: Charset,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let root = root()?;
    let scopes: Vec<Scope> = if args.all {
        store::sealed_files(&root)?
            .into_iter()
            .map(|(scope, _)| scope)
            .collect()
    } else {
        vec![Scope::from_flags(args.shared, args.destination.as_deref())?]
    };
    if scopes.is_empty() {
        return Err(anyhow::anyhow!(
            "no sealed files under {}",
            store::STORE_DIR
        ))
        .hint("`kseal set NAME -d DEST` creates one");
    }

    if let (Some(name), Some(len)) = (&args.name, args.generate) {
        store::validate_name(name)
            .map_err(anyhow::Error::new)
            .hint("a secret name uses ASCII letters, digits, `_` and `.`, like DATABASE_URL")?;
        let value = generate(len, args.charset)?;
        let scope = &scopes[0];
        let identities = identities(global)?;
        store::transact(&root, scope, &identities, IfMissing::Fail, |s| {
            if s.get(name).is_none() {
                return Err(anyhow::anyhow!(
                    "{} holds no secret {name:?}",
                    scope.relative_path().display()
                ))
                .hint(format!(
                    "`kseal set {name}{} --generate` creates it",
                    wire::destination_flag(scope)
                ));
            }
            s.set(name, value)
        })?;
        eprintln!(
            "kseal: {name} has a new random value in {}; deploy to use it",
            scope.relative_path().display()
        );
        return Ok(Outcome::Clean);
    }

    let identities = identities(global)?;
    team::change_files(&root, &scopes, &identities, |s| s.rotate_data_key())?;
    for scope in &scopes {
        eprintln!(
            "kseal: {}: new data key, every value sealed again (values unchanged)",
            scope.relative_path().display()
        );
    }
    Ok(Outcome::Clean)
}
