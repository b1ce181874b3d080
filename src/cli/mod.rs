//! Command-line front end: one module per subcommand. Each parses its own
//! arguments, calls the library and renders the result; none holds logic that
//! another interface would need.

mod logger;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod access;
mod check;
mod doctor;
mod edit;
mod explain;
mod export;
mod fetch;
mod generate;
mod get;
mod hook;
mod import;
mod init;
mod kamal;
mod keygen;
mod list;
mod recipients;
mod redact;
mod report_args;
mod rm;
mod rotate;
mod run;
mod scan;
mod set;
mod store_args;
mod values;
mod wire;

/// Secrets for Kamal apps: sealed in git, handed to Kamal through the
/// environment, kept out of config, logs and history.
#[derive(Debug, Parser)]
#[command(name = "kseal", version, propagate_version = true)]
#[command(after_help = "Quick start, in a Kamal app:\n  \
    kseal init -d production                  # identity, store, .kamal/secrets.production wiring\n  \
    kseal set DATABASE_URL -d production      # the value is asked for, never read from argv\n  \
    kseal run -d production -- kamal deploy -d production\n\n\
    Exit status: 0 clean, 1 findings, 2 error.")]
pub struct Opts {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Run as if kseal was started in DIR (the Kamal app's root).
    #[arg(short = 'C', long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,

    /// Identity file to decrypt with; may be repeated. Takes precedence over
    /// KSEAL_IDENTITY, KSEAL_IDENTITY_FILE and the default locations.
    #[arg(short = 'i', long = "identity", global = true, value_name = "FILE")]
    pub identity: Vec<PathBuf>,

    /// Print debug messages: what kseal saw and what it decided.
    #[arg(long, global = true)]
    pub debug: bool,

    /// Print even more detail than --debug.
    #[arg(long, global = true)]
    pub trace: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Access(access::Args),
    Check(check::Args),
    Doctor(doctor::Args),
    Edit(edit::Args),
    Explain(explain::Args),
    Export(export::Args),
    Fetch(fetch::Args),
    Get(get::Args),
    Hook(hook::Args),
    Import(import::Args),
    Init(init::Args),
    Kamal(kamal::Args),
    Keygen(keygen::Args),
    List(list::Args),
    Recipients(recipients::Args),
    Redact(redact::Args),
    Rm(rm::Args),
    Rotate(rotate::Args),
    Run(run::Args),
    Scan(scan::Args),
    Set(set::Args),
}

/// How a command that ran to completion ended.
// `check`, `scan` and `run` construct the last two variants.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report: exit 0.
    Clean,
    /// Findings were reported: exit 1.
    Findings,
    /// A child process ended this way; kseal exits with the same code.
    Exit(u8),
}

pub fn main() -> ExitCode {
    let mut opts = Opts::parse();
    logger::init(&opts.global);
    harden_process();

    // `-i FILE` names a file relative to where kseal was started, not to
    // the `-C` folder.
    if opts.global.chdir.is_some()
        && let Ok(cwd) = std::env::current_dir()
    {
        for path in &mut opts.global.identity {
            if path.is_relative() {
                *path = cwd.join(&*path);
            }
        }
    }
    if let Some(dir) = &opts.global.chdir
        && let Err(err) = std::env::set_current_dir(dir)
    {
        let err = anyhow::Error::new(err).context(format!("cannot change to directory {:?}", dir));
        return report(&err);
    }

    match dispatch(opts) {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Ok(Outcome::Exit(code)) => ExitCode::from(code),
        Err(err) => report(&err),
    }
}

fn dispatch(opts: Opts) -> anyhow::Result<Outcome> {
    let global = &opts.global;
    match opts.command {
        Command::Access(args) => access::run(args, global),
        Command::Check(args) => check::run(args, global),
        Command::Doctor(args) => doctor::run(args, global),
        Command::Edit(args) => edit::run(args, global),
        Command::Explain(args) => explain::run(args, global),
        Command::Export(args) => export::run(args, global),
        Command::Fetch(args) => fetch::run(args, global),
        Command::Get(args) => get::run(args, global),
        Command::Hook(args) => hook::run(args, global),
        Command::Import(args) => import::run(args, global),
        Command::Init(args) => init::run(args, global),
        Command::Kamal(args) => kamal::run(args, global),
        Command::Keygen(args) => keygen::run(args, global),
        Command::List(args) => list::run(args, global),
        Command::Recipients(args) => recipients::run(args, global),
        Command::Redact(args) => redact::run(args, global),
        Command::Rm(args) => rm::run(args, global),
        Command::Rotate(args) => rotate::run(args, global),
        Command::Run(args) => run::run(args, global),
        Command::Scan(args) => scan::run(args, global),
        Command::Set(args) => set::run(args, global),
    }
}

/// Keeps decrypted values out of core dumps: the process is marked
/// non-dumpable, so the kernel writes no core file for it and other
/// processes of the same user cannot attach to it or read its memory
/// through /proc. Unlike a zero core-size limit, the mark is not inherited
/// across exec, so a child of `kseal run` dumps core as it would without
/// kseal. Best effort: on failure the process stays as it was.
fn harden_process() {
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integers and touches
    // no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if rc != 0 {
        log::debug!("could not mark the process non-dumpable");
    }
}

/// Prints an error chain on one line and its hint, if any, on the next.
/// A closed stdout (`kseal list | head`) is not an error worth a word.
fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::from(0);
    }
    let mut stderr = io::stderr().lock();
    let _ = writeln!(stderr, "kseal: error: {}", chain_line(err));
    if let Some(hint) = kseal::hint::find(err) {
        let _ = writeln!(stderr, "  hint: {}", hint.text());
    }
    ExitCode::from(2)
}

/// The messages of an error chain joined with ": ", skipping links that carry
/// only a hint and so print as empty.
fn chain_line(err: &anyhow::Error) -> String {
    let parts: Vec<String> = err
        .chain()
        .map(|cause| cause.to_string())
        .filter(|text| !text.is_empty())
        .collect();
    parts.join(": ")
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardened_process_is_not_dumpable() {
        harden_process();
        // SAFETY: PR_GET_DUMPABLE takes no pointers.
        let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) };
        assert_eq!(dumpable, 0);
    }
}
