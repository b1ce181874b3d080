//! `kseal set`.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::secret::SecretValue;
use kseal::store::{self, Change, IfMissing};
use zeroize::Zeroizing;

use super::generate::{Charset, generate};
use super::store_args::{ScopeArgs, identities, own_recipients, root};
use super::{Global, Outcome, wire};

/// Seal a secret's value into the store.
///
/// The value comes from a no-echo prompt when stdin is a terminal, else from
/// stdin (`kseal set DB_PASSWORD < file`, `pass show db | kseal set ...`),
/// or is generated with --generate. It is never taken from the command line,
/// where other users and shell history could see it.
///
/// The store is created on first use, sealed to your own public key(s);
/// `kseal recipients add` shares it. Setting the value a secret already has
/// changes nothing, so the file stays byte for byte the same.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal set DATABASE_PASSWORD -d production\n  \
    kseal set SECRET_KEY_BASE --generate 64 --charset hex\n  \
    printf '%s' \"$TOKEN\" | kseal set API_TOKEN --shared")]
pub struct Args {
    /// The secret's name, as Kamal's `.kamal/secrets` and `env.secret` use it
    /// (ASCII letters, digits, `_` and `.`).
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Refused: values on the command line leak into `ps` and shell history.
    #[arg(hide = true, value_name = "VALUE", allow_hyphen_values = true)]
    pub extra: Vec<OsString>,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Generate a random value of LEN characters (default 32) instead of
    /// reading one. See --charset.
    #[arg(
        long,
        value_name = "LEN",
        num_args = 0..=1,
        default_missing_value = "32"
    )]
    pub generate: Option<usize>,

    /// Characters a generated value is drawn from: alnum (A-Z a-z 0-9), hex
    /// (0-9 a-f), base64url (A-Z a-z 0-9 - _) or ascii-printable (every
    /// printable ASCII character except space).
    #[arg(long, value_enum, default_value_t = Charset::Alnum, requires = "generate")]
    pub charset: Charset,

    /// Keep a trailing newline read from stdin. By default one trailing
    /// `\n` (or `\r\n`) is dropped, so `echo value | kseal set NAME` stores
    /// `value`.
    #[arg(long)]
    pub keep_newline: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    refuse_value_in_argv(&args)?;
    store::validate_name(&args.name)
        .map_err(anyhow::Error::new)
        .hint("a secret name uses ASCII letters, digits, `_` and `.`, like DATABASE_URL")?;
    let scope = args.scope.scope()?;
    let root = root()?;
    let identities = identities(global)?;

    let value = match args.generate {
        Some(len) => generate(len, args.charset)?,
        None => read_value(&args)?,
    };

    let own = || own_recipients(global);
    let change = store::transact(&root, &scope, &identities, IfMissing::Create(&own), |s| {
        s.set(&args.name, value)
    })?;

    let what = match change {
        Change::Added => "added",
        Change::Changed => "changed",
        Change::Unchanged => "unchanged, same value",
    };
    eprintln!(
        "kseal: {} {what} in {}",
        args.name,
        scope.relative_path().display()
    );
    if !wire::is_wired(&root, &scope, &args.name) {
        eprintln!(
            "kseal: Kamal does not read {} from kseal yet: `kseal init{}` adds `{}` to {}",
            args.name,
            wire::destination_flag(&scope),
            kseal::kamal::wiring::reference_line(&args.name),
            wire::secrets_file(&scope).display()
        );
    }
    Ok(Outcome::Clean)
}

/// `kseal set NAME VALUE` and `kseal set NAME=VALUE` are refused without
/// repeating the value.
fn refuse_value_in_argv(args: &Args) -> anyhow::Result<()> {
    const HINT: &str = "type the value at the prompt, pipe it on stdin \
                        (`kseal set NAME < file`), or use --generate; then clear \
                        it from your shell history";
    if !args.extra.is_empty() {
        return Err(anyhow::anyhow!(
            "refusing a value given on the command line for {:?}",
            args.name
        ))
        .hint(HINT);
    }
    if let Some((name, _)) = args.name.split_once('=') {
        return Err(anyhow::anyhow!(
            "refusing `{name}=…`: a value given on the command line"
        ))
        .hint(HINT);
    }
    Ok(())
}

fn read_value(args: &Args) -> anyhow::Result<SecretValue> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let prompt = format!("Value for {}: ", args.name);
        let typed = rpassword::prompt_password(prompt).context("cannot read the value")?;
        let value = SecretValue::new(typed.into_bytes());
        if value.is_empty() {
            return Err(anyhow::anyhow!("no value typed for {:?}", args.name))
                .hint("to store an empty value, pipe it: `printf '' | kseal set NAME`");
        }
        return Ok(value);
    }

    let mut bytes = Zeroizing::new(Vec::new());
    stdin
        .lock()
        .read_to_end(&mut bytes)
        .context("cannot read the value from stdin")?;
    if !args.keep_newline {
        let len = bytes.len();
        if bytes.ends_with(b"\r\n") {
            bytes.truncate(len - 2);
        } else if bytes.ends_with(b"\n") {
            bytes.truncate(len - 1);
        }
    }
    Ok(SecretValue::new(std::mem::take(&mut *bytes)))
}
