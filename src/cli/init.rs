//! `kseal init`.

use kseal::keys::{self, NoIdentity};
use kseal::store::{OpenStore, SealedFile, StoreLock};

use super::store_args::{ScopeArgs, identities, own_recipients, root};
use super::{Global, Outcome, wire};

/// Set up kseal in a Kamal app: your identity, a sealed store for the
/// destination, and its wiring in `.kamal/secrets*`.
///
/// Each step is skipped when already done, so init is safe to run again:
///
/// 1. creates your identity (as `kseal keygen` does) when kseal finds none;
/// 2. creates the destination's sealed file under .kamal/kseal/, sealed to
///    your public key;
/// 3. adds a reference line `NAME=$NAME` to `.kamal/secrets.<dest>` (or
///    `.kamal/secrets`, or `.kamal/secrets-common` for --shared) for every
///    sealed secret not yet there, and to `.kamal/secrets-common` for the
///    shared ones. Other lines are left exactly as they are; a name that
///    the file already gives a plaintext value is reported, not changed.
///
/// Then run Kamal through kseal: `kseal run -d DEST -- kamal deploy -d DEST`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal init -d production\n  \
    kseal init --shared")]
pub struct Args {
    #[command(flatten)]
    pub scope: ScopeArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    let scope = args.scope.scope()?;
    let root = root()?;
    if !root.join("config/deploy.yml").exists() {
        log::warn!(
            "{} has no config/deploy.yml; is it a Kamal app?",
            root.display()
        );
    }

    // 1. Identity.
    if let Err(err) = keys::own_recipients(&global.identity) {
        let Some(missing) = err.downcast_ref::<NoIdentity>() else {
            return Err(err);
        };
        let made = keys::generate(&missing.default, None)?;
        eprintln!(
            "kseal: created your identity in {}; your public key (share it):",
            missing.default.display()
        );
        println!("{}", made.public);
    }

    // 2. Store.
    let rel = scope.relative_path().display().to_string();
    match SealedFile::load(&root, &scope)? {
        Some(_) => {
            let ids = identities(global)?;
            if let Err(e) = OpenStore::open(&root, &scope, &ids) {
                log::warn!("{rel} exists but you cannot open it: {e:#}");
            } else {
                log::debug!("{rel} exists");
            }
        }
        None => {
            let lock = StoreLock::acquire(&root)?;
            let mut store = OpenStore::create(&root, &scope, own_recipients(global)?)?;
            store.write(&lock)?;
            eprintln!("kseal: created {rel}");
        }
    }

    // 3. Wiring.
    let mut scopes = vec![scope.clone()];
    if scope != kseal::store::Scope::Shared {
        scopes.insert(0, kseal::store::Scope::Shared);
    }
    for wired_scope in &scopes {
        let Some(file) = SealedFile::load(&root, wired_scope)? else {
            continue;
        };
        let names: Vec<&str> = file.entries().map(|e| e.name.as_str()).collect();
        if names.is_empty() && wired_scope != &scope {
            continue;
        }
        wire::add_references(&root, wired_scope, &names)?;
    }

    let flag = wire::destination_flag(&scope);
    let run_flag = match scope {
        kseal::store::Scope::Shared => " -d DEST".to_owned(),
        _ => flag.clone(),
    };
    eprintln!(
        "kseal: ready; next:\n  \
         kseal set NAME{flag}    (seal a value; it is asked for, never taken from argv)\n  \
         kseal init{flag}        (wire the new names into {})\n  \
         kseal run{run_flag} -- kamal deploy{run_flag}",
        wire::secrets_file(&scope).display()
    );
    Ok(Outcome::Clean)
}
