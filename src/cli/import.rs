//! `kseal import`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::import::rails;
use kseal::kamal::dotenv::{self, Part};
use kseal::kamal::wiring;
use kseal::secret::SecretValue;
use kseal::store::{self, Change, IfMissing, Scope};

use super::store_args::{ScopeArgs, identities, own_recipients, root};
use super::{Global, Outcome, wire};

/// Seal the plaintext values of a dotenv file, a `.kamal/secrets*` file or
/// Rails encrypted credentials.
///
/// Each line is read the way Kamal reads it. A value made only of literal
/// text is sealed under its name; a reference (`$VAR`, `${VAR}`, `$(…)`) is
/// skipped and reported, since it holds no value. A name the store already
/// holds with a different value is kept as it is unless --overwrite.
///
/// Reading `.kamal/secrets.<dest>` without -d imports into that
/// destination (`.kamal/secrets` into the default one, `secrets-common`
/// into the shared file), and kseal says so. The file itself is not
/// changed: afterwards replace each imported line with its reference line
/// `NAME=$NAME`, which kseal prints; --wire adds the missing ones to the
/// secrets file Kamal reads.
///
/// A file ending in `.yml.enc` is read as Rails encrypted credentials,
/// decrypted with RAILS_MASTER_KEY if set, else the matching key file
/// (`config/master.key` for `config/credentials.yml.enc`,
/// `config/credentials/<env>.key` for `config/credentials/<env>.yml.enc`),
/// else --rails-key FILE. Nested keys become `PARENT__CHILD` names,
/// upper-cased, as Rails maps credentials to environment variables.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal import .env.production -d production\n  \
    kseal import .kamal/secrets.staging          # into destination staging\n  \
    kseal import .kamal/secrets-common --overwrite\n  \
    kseal import config/credentials/production.yml.enc -d production --wire")]
pub struct Args {
    /// The file to import.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    #[command(flatten)]
    pub scope: ScopeArgs,

    /// Replace values the store already holds under the same name.
    #[arg(long)]
    pub overwrite: bool,

    /// The Rails master key file for a `.yml.enc` file, instead of
    /// RAILS_MASTER_KEY or the key file next to it.
    #[arg(long, value_name = "FILE")]
    pub rails_key: Option<PathBuf>,

    /// Add the reference lines `NAME=$NAME` for the imported names to the
    /// secrets file Kamal reads (`.kamal/secrets*`). On a terminal, kseal
    /// asks instead when this is not given.
    #[arg(long)]
    pub wire: bool,
}

/// A line of the file and what import does with it.
enum Plan {
    Seal { name: String, value: SecretValue },
    Reference { name: String, line: usize },
    Mixed { name: String, line: usize },
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let scope = match (
        args.scope.destination.is_some() || args.scope.shared,
        scope_of(&args.file),
    ) {
        (false, Some(scope)) => {
            eprintln!(
                "kseal: importing into the {scope} (from the file name; -d or --shared chooses another)"
            );
            scope
        }
        (false, None) => {
            eprintln!(
                "kseal: importing into the default destination (-d DEST or --shared chooses another)"
            );
            args.scope.scope()?
        }
        _ => args.scope.scope()?,
    };
    let display = args.file.display().to_string();
    let is_rails = rails::is_credentials_file(&args.file);
    if args.rails_key.is_some() && !is_rails {
        return Err(anyhow::anyhow!(
            "--rails-key is for Rails credentials (a .yml.enc file), not {display}"
        ))
        .hint("drop --rails-key, or give config/credentials*.yml.enc");
    }
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {display}"))?;
    let mut skipped = Vec::new();
    let plans = if is_rails {
        plan_rails(&args, &bytes, &display, &mut skipped)?
    } else {
        let text = zeroize::Zeroizing::new(
            String::from_utf8(bytes)
                .map_err(|_| anyhow::anyhow!("{display}: not UTF-8 text"))
                .hint("import reads dotenv files, .kamal/secrets* files and Rails *.yml.enc")?,
        );
        plan(&text, &display)?
    };
    for p in &plans {
        match p {
            Plan::Reference { name, line } => skipped.push(format!(
                "{display}:{line}: {name}: skipped, a reference holds no value"
            )),
            Plan::Mixed { name, line } => skipped.push(format!(
                "{display}:{line}: {name}: skipped, it mixes text with references; \
                 seal the value with `kseal set {name}`"
            )),
            Plan::Seal { .. } => {}
        }
    }
    let root = root()?;
    let identities = identities(global)?;

    let mut report: Vec<(String, &'static str)> = Vec::new();
    let own = || own_recipients(global);
    store::transact(&root, &scope, &identities, IfMissing::Create(&own), |s| {
        for plan in plans {
            let Plan::Seal { name, value } = plan else {
                continue;
            };
            let exists_differently = s.get(&name).is_some_and(|old| *old != value);
            if exists_differently && !args.overwrite {
                report.push((
                    name,
                    "kept: the store holds another value (--overwrite replaces it)",
                ));
                continue;
            }
            let what = match s.set(&name, value)? {
                Change::Added => "sealed",
                Change::Changed => "sealed, replacing the stored value",
                Change::Unchanged => "already sealed with this value",
            };
            report.push((name, what));
        }
        Ok(())
    })?;

    let rel = scope.relative_path().display().to_string();
    for (name, what) in &report {
        eprintln!("kseal: {name}: {what}");
    }
    for line in &skipped {
        eprintln!("kseal: {line}");
    }
    let sealed = report
        .iter()
        .filter(|(_, what)| what.starts_with("sealed"))
        .count();
    eprintln!(
        "kseal: {sealed} sealed into {rel}, {} left as they were, {} skipped",
        report.len() - sealed,
        skipped.len()
    );
    let unwired: Vec<&str> = report
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !wire::is_wired(&root, &scope, n))
        .collect();
    if unwired.is_empty() {
        return Ok(Outcome::Clean);
    }
    eprintln!(
        "kseal: for Kamal to read them from kseal, {} needs these lines \
         (replace any plaintext line for the same name yourself):",
        wire::secrets_file(&scope).display(),
    );
    for name in &unwired {
        eprintln!("  {}", wiring::reference_line(name));
    }
    if args.wire || ask_to_wire(&scope)? {
        wire::add_references(&root, &scope, &unwired)?;
    } else {
        eprintln!(
            "kseal: `kseal import … --wire` or `kseal init{}` adds them",
            wire::destination_flag(&scope)
        );
    }
    Ok(Outcome::Clean)
}

/// On a terminal, asks whether to add the reference lines now.
fn ask_to_wire(scope: &Scope) -> anyhow::Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};

    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    eprint!(
        "Add them to {} now? [y/N] ",
        wire::secrets_file(scope).display()
    );
    std::io::stderr()
        .flush()
        .context("cannot write to the terminal")?;
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// The values of Rails encrypted credentials, decrypted with the master
/// key; leaves kseal cannot store go to `skipped`.
fn plan_rails(
    args: &Args,
    bytes: &[u8],
    display: &str,
    skipped: &mut Vec<String>,
) -> anyhow::Result<Vec<Plan>> {
    let key = match &args.rails_key {
        Some(path) => rails::MasterKey::read(path)?,
        None => rails::MasterKey::find(&args.file)?,
    };
    log::debug!(
        "{display}: decrypting with the master key from {}",
        key.origin
    );
    let yaml = rails::decrypt(bytes, &key, display)?;
    let mut plans = Vec::new();
    for flat in rails::flatten(&yaml, display)? {
        match flat {
            rails::Flat::Value { name, value } => {
                plans.retain(|p| plan_name(p) != name);
                plans.push(Plan::Seal { name, value });
            }
            rails::Flat::Skipped { path, reason } => {
                skipped.push(format!("{display}: {path}: skipped, {reason}"));
            }
        }
    }
    Ok(plans)
}

/// What import does with each entry of `text`, read as Kamal reads it.
fn plan(text: &str, display: &str) -> anyhow::Result<Vec<Plan>> {
    let entries = dotenv::parse(text)
        .map_err(|e| anyhow::anyhow!("{display}: {e}"))
        .hint("fix that line; Kamal would refuse the file too")?;
    let mut plans: Vec<Plan> = Vec::new();
    for entry in entries {
        store::validate_name(&entry.key)
            .map_err(|e| anyhow::anyhow!("{display}:{}: {e}", entry.line))?;
        let has_reference = entry
            .parts
            .iter()
            .any(|p| !matches!(p, Part::Literal { .. }));
        let plan = match entry.literal() {
            Some(value) => Plan::Seal {
                name: entry.key.clone(),
                value: SecretValue::new(value.into_bytes()),
            },
            None if entry.has_literal() && has_reference => Plan::Mixed {
                name: entry.key.clone(),
                line: entry.line,
            },
            None => Plan::Reference {
                name: entry.key.clone(),
                line: entry.line,
            },
        };
        // A later line for the same name wins, as in Kamal.
        plans.retain(|p| plan_name(p) != entry.key);
        plans.push(plan);
    }
    Ok(plans)
}

fn plan_name(plan: &Plan) -> &str {
    match plan {
        Plan::Seal { name, .. } | Plan::Reference { name, .. } | Plan::Mixed { name, .. } => name,
    }
}

/// The scope a `.kamal/secrets*` file belongs to, from its name.
fn scope_of(path: &Path) -> Option<Scope> {
    let in_kamal = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == ".kamal");
    if !in_kamal {
        return None;
    }
    match path.file_name()?.to_str()? {
        "secrets-common" => Some(Scope::Shared),
        "secrets" => Some(Scope::Default),
        name => Scope::from_destination(Some(name.strip_prefix("secrets.")?)).ok(),
    }
}
