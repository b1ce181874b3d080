//! `kseal recipients`.

use std::io::Write;

use anyhow::Context;
use kseal::hint::ResultExt;
use kseal::keys::RecipientKey;
use kseal::store::{self, Recipient, Scope, SealedFile};
use kseal::team::{self, ledger};
use serde::Serialize;

use super::store_args::{identities, root};
use super::{Global, Outcome};

/// List, add or remove the public keys a sealed file is sealed to.
///
/// `add` wraps the file's data key to one more key: no value changes, and
/// the new key also opens earlier revisions sealed under that data key
/// unless --rotate replaces it first.
/// `rm` seals every value again under a new data key wrapped to the
/// remaining keys, so the removed key opens nothing sealed afterwards, and
/// prints the exposure ledger: every secret that key could read, and since
/// which commit, so those secrets can be rotated where they are issued.
/// With --all, every sealed file changes in one step, or none does.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal recipients list --all\n  \
    kseal recipients add age1… --label alice@example.com -d production\n  \
    kseal recipients add ~/.ssh/id_ed25519.pub --all\n  \
    kseal recipients rm alice@example.com --all --json")]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// List each file's recipients with their labels (every file unless
    /// -d or --shared names one).
    List(ListArgs),
    /// Add a recipient: the data key is wrapped to it too.
    Add(AddArgs),
    /// Remove a recipient: every value is sealed again under a new data key.
    Rm(RmArgs),
}

/// Which sealed files a recipients command works on.
#[derive(Debug, clap::Args)]
pub struct Files {
    /// Kamal destination, as in `kamal deploy -d DEST`. Without -d,
    /// --shared or --all: the default destination.
    #[arg(short = 'd', long = "destination", value_name = "DEST")]
    pub destination: Option<String>,

    /// The shared secrets file (Kamal's `.kamal/secrets-common`).
    #[arg(long, conflicts_with = "destination")]
    pub shared: bool,

    /// Every sealed file of the app.
    #[arg(long, conflicts_with_all = ["destination", "shared"])]
    pub all: bool,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub files: Files,

    /// Print a JSON array of {scope, file, key, type, label} objects.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The public key: `age1…`, an SSH public key line in quotes, or the
    /// path of a .pub file.
    #[arg(value_name = "KEY|FILE")]
    pub key: String,

    /// Whose key it is, like alice@example.com. Defaults to the comment of
    /// an SSH key line, else empty.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,

    #[command(flatten)]
    pub files: Files,

    /// Rotate the data key before adding, so the new recipient cannot read
    /// the file's earlier revisions from git history (adding alone keeps
    /// the data key, which opens them).
    #[arg(long)]
    pub rotate: bool,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// The recipient to remove: its public key, the path of its .pub file,
    /// or its label when exactly one key carries it.
    #[arg(value_name = "KEY|FILE|LABEL")]
    pub key: String,

    #[command(flatten)]
    pub files: Files,

    /// Print the exposure ledger as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    match args.action {
        Action::List(args) => list(args),
        Action::Add(args) => add(args, global),
        Action::Rm(args) => rm(args, global),
    }
}

/// The sealed files `files` selects, each read without a key. A named file
/// that does not exist is an error; so is --all in an app without any.
fn select(root: &std::path::Path, files: &Files) -> anyhow::Result<Vec<(Scope, SealedFile)>> {
    let scopes: Vec<Scope> = if files.all {
        store::sealed_files(root)?
            .into_iter()
            .map(|(scope, _)| scope)
            .collect()
    } else {
        vec![Scope::from_flags(
            files.shared,
            files.destination.as_deref(),
        )?]
    };
    if scopes.is_empty() {
        return Err(anyhow::anyhow!(
            "no sealed files under {}",
            store::STORE_DIR
        ))
        .hint("`kseal set NAME -d DEST` creates one");
    }
    let mut selected = Vec::new();
    for scope in scopes {
        match SealedFile::load(root, &scope)? {
            Some(file) => selected.push((scope, file)),
            None => {
                return Err(anyhow::anyhow!(
                    "no sealed store for the {scope} ({} does not exist)",
                    scope.relative_path().display()
                ))
                .hint("`kseal recipients list --all` shows the files there are");
            }
        }
    }
    Ok(selected)
}

#[derive(Debug, Serialize)]
struct ListRow {
    scope: String,
    file: String,
    key: String,
    #[serde(rename = "type")]
    kind: &'static str,
    label: String,
}

fn key_type(key: &RecipientKey) -> &'static str {
    let text = key.as_str();
    if text.starts_with("age1") {
        "age"
    } else if text.starts_with("ssh-ed25519") {
        "ssh-ed25519"
    } else {
        "ssh-rsa"
    }
}

fn list(mut args: ListArgs) -> anyhow::Result<Outcome> {
    let root = root()?;
    // Listing changes nothing, so without a choice it shows every file.
    if args.files.destination.is_none() && !args.files.shared {
        args.files.all = true;
    }
    let files = select(&root, &args.files)?;
    let rows: Vec<ListRow> = files
        .iter()
        .flat_map(|(scope, file)| {
            file.recipients().iter().map(move |r| ListRow {
                scope: team::access::scope_name(scope),
                file: scope.relative_path().display().to_string(),
                key: r.key.as_str().to_owned(),
                kind: key_type(&r.key),
                label: r.label.clone(),
            })
        })
        .collect();

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows).context("cannot write to stdout")?;
        writeln!(out).context("cannot write to stdout")?;
        return Ok(Outcome::Clean);
    }
    let mut last_file = None;
    for row in &rows {
        if last_file != Some(&row.file) {
            if last_file.is_some() {
                writeln!(out).context("cannot write to stdout")?;
            }
            writeln!(out, "{} ({})", row.file, row.scope).context("cannot write to stdout")?;
            last_file = Some(&row.file);
        }
        let label = if row.label.is_empty() {
            "(no label)"
        } else {
            &row.label
        };
        writeln!(out, "  {label}  {}", short_key(&row.key)).context("cannot write to stdout")?;
    }
    Ok(Outcome::Clean)
}

/// A key shortened for a table: SSH blobs are long, and their tail is what
/// tells two apart.
fn short_key(key: &str) -> String {
    match key.split_once(' ') {
        Some((kind, blob)) if blob.len() > 24 => {
            format!("{kind} …{}", &blob[blob.len() - 20..])
        }
        _ => key.to_owned(),
    }
}

fn add(args: AddArgs, global: &Global) -> anyhow::Result<Outcome> {
    let key_arg = team::read_key_arg(&args.key)?;
    let label = match (&args.label, &key_arg.comment) {
        (Some(label), _) => {
            team::validate_label(label)?;
            label.clone()
        }
        (None, Some(comment)) if store::format::validate_label(comment).is_ok() => comment.clone(),
        _ => String::new(),
    };
    let root = root()?;
    let files = select(&root, &args.files)?;
    let scopes: Vec<Scope> = files.iter().map(|(s, _)| s.clone()).collect();
    let identities = identities(global)?;

    let recipient = Recipient::new(key_arg.key.clone(), label.clone());
    let results = team::change_files(&root, &scopes, &identities, |s| {
        if args.rotate && !s.recipients().iter().any(|r| r.key == recipient.key) {
            s.rotate_data_key()?;
        }
        s.add_recipient(recipient.clone())
    })?;
    let shown = if label.is_empty() {
        key_arg.key.to_string()
    } else {
        format!("{label} ({})", short_key(key_arg.key.as_str()))
    };
    for (scope, added) in results {
        let rel = scope.relative_path();
        if added && args.rotate {
            eprintln!("kseal: {}: new data key, then added {shown}", rel.display());
        } else if added {
            eprintln!("kseal: {}: added {shown}", rel.display());
        } else {
            eprintln!("kseal: {}: {shown} was already a recipient", rel.display());
        }
    }
    Ok(Outcome::Clean)
}

/// The key `arg` names: a key or .pub file, else a label carried by
/// exactly one key in `files`.
fn resolve_rm_key(arg: &str, files: &[(Scope, SealedFile)]) -> anyhow::Result<RecipientKey> {
    let looks_like_key = arg.trim().starts_with("age1")
        || arg.trim().starts_with("ssh-")
        || std::path::Path::new(arg).is_file()
        || arg.contains("SECRET-KEY")
        || arg.contains("PRIVATE KEY");
    if looks_like_key {
        return Ok(team::read_key_arg(arg)?.key);
    }
    let mut keys: Vec<&RecipientKey> = Vec::new();
    for (_, file) in files {
        for r in file.recipients() {
            if r.label == arg && !keys.contains(&&r.key) {
                keys.push(&r.key);
            }
        }
    }
    match keys.as_slice() {
        [key] => Ok((*key).clone()),
        [] => Err(anyhow::anyhow!(
            "{arg:?} is not a public key, a .pub file, or the label of a recipient here"
        ))
        .hint("`kseal recipients list --all` shows each key with its label"),
        _ => Err(anyhow::anyhow!(
            "the label {arg:?} is carried by {} different keys",
            keys.len()
        ))
        .hint("give the public key itself; `kseal recipients list --all --json` shows it"),
    }
}

fn rm(args: RmArgs, global: &Global) -> anyhow::Result<Outcome> {
    let root = root()?;
    let selected = select(&root, &args.files)?;
    let key = resolve_rm_key(&args.key, &selected)?;
    let holding: Vec<(Scope, SealedFile)> = selected
        .into_iter()
        .filter(|(_, f)| f.recipients().iter().any(|r| r.key == key))
        .collect();
    if holding.is_empty() {
        let which = if args.files.all {
            "any sealed file".to_owned()
        } else {
            Scope::from_flags(args.files.shared, args.files.destination.as_deref())?
                .relative_path()
                .display()
                .to_string()
        };
        return Err(anyhow::anyhow!("{key} is not a recipient of {which}"))
            .hint("`kseal recipients list --all` shows who can open what");
    }

    // The ledger is read before anything changes: the files as they are now
    // are exactly what the key could open.
    let identities = identities(global)?;
    let ledger = ledger::build(&root, &key, &holding, &identities)?;
    let scopes: Vec<Scope> = holding.iter().map(|(s, _)| s.clone()).collect();
    team::change_files(&root, &scopes, &identities, |s| s.remove_recipient(&key))?;

    for scope in &scopes {
        eprintln!(
            "kseal: {}: removed {}, every value sealed again under a new data key",
            scope.relative_path().display(),
            short_key(key.as_str())
        );
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &ledger).context("cannot write to stdout")?;
        writeln!(out).context("cannot write to stdout")?;
    } else {
        print_ledger(&mut out, &ledger).context("cannot write to stdout")?;
    }
    Ok(Outcome::Clean)
}

fn print_ledger(out: &mut impl Write, ledger: &ledger::Ledger) -> std::io::Result<()> {
    let who = match ledger.labels.first() {
        Some(label) => label.clone(),
        None => short_key(&ledger.key),
    };
    writeln!(
        out,
        "Exposure ledger for {who}: {} secret(s) this key could decrypt",
        ledger.secret_count()
    )?;
    for file in &ledger.files {
        let since = match &file.recipient_since {
            Some(since) => format!(
                "recipient since {} ({})",
                short_commit(&since.commit),
                since.date
            ),
            None if ledger.git_history => "recipient in no commit yet".to_owned(),
            None => "no git history read".to_owned(),
        };
        writeln!(out, "{} ({}), {since}:", file.file, file.scope)?;
        let width = file.secrets.iter().map(|s| s.name.len()).max().unwrap_or(0);
        for secret in &file.secrets {
            let since = match &secret.since {
                Some(since) => format!("since {} ({})", short_commit(&since.commit), since.date),
                None => "not committed yet".to_owned(),
            };
            let mut note = String::new();
            if secret.sealed_before_added {
                note.push_str("  (sealed before they were added, under the key they got)");
            }
            if !secret.current {
                note.push_str("  (deleted since; old value)");
            }
            writeln!(out, "  {:width$}  {since}{note}", secret.name)?;
        }
    }
    writeln!(
        out,
        "Git keeps every old revision, and the removed key still opens those: \
         rotate each secret above where it is issued, then `kseal set NAME` \
         (or `kseal rotate NAME --generate` for a value kseal makes)."
    )
}

fn short_commit(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
