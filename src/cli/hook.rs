//! `kseal hook`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use kseal::hint::ResultExt;

use super::{Global, Outcome};

/// Install git hooks that run kseal.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Install a pre-commit hook that runs `kseal check --staged`, so a
    /// commit with a plaintext secret or broken wiring is refused.
    ///
    /// A pre-commit hook already there is kept: it is renamed to
    /// `pre-commit.pre-kseal` and run first. Installing twice changes
    /// nothing. Honours `core.hooksPath`. Skip the hook for one commit
    /// with `git commit --no-verify`.
    Install,
    /// Remove kseal's pre-commit hook, putting back the one it chained.
    Uninstall,
}

/// The line that marks a hook as kseal's.
const MARKER: &str = "# kseal pre-commit hook";
/// The name an existing hook is moved to.
const CHAINED: &str = "pre-commit.pre-kseal";

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let root = kseal::store::app_root(Path::new("."))?;
    let hooks = git_path(&root, &["rev-parse", "--git-path", "hooks"])?;
    let hooks = if hooks.is_absolute() {
        hooks
    } else {
        root.join(hooks)
    };
    match args.action {
        Action::Install => install(&root, &hooks),
        Action::Uninstall => uninstall(&hooks),
    }
}

fn install(root: &Path, hooks: &Path) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(hooks).with_context(|| format!("cannot create {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    let chained = hooks.join(CHAINED);

    match std::fs::read(&hook) {
        Ok(existing) if is_ours(&existing) => {
            eprintln!("kseal: the pre-commit hook is already installed");
            return Ok(Outcome::Clean);
        }
        Ok(_) => {
            if chained.exists() {
                return Err(anyhow::anyhow!(
                    "{} exists and so does {}",
                    hook.display(),
                    chained.display()
                ))
                .hint("merge the two hooks by hand, then run `kseal hook install` again");
            }
            std::fs::rename(&hook, &chained)
                .with_context(|| format!("cannot move {} aside", hook.display()))?;
            eprintln!("kseal: kept the existing hook as {CHAINED}; it runs first");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", hook.display())),
    }

    let toplevel = git_path(root, &["rev-parse", "--show-toplevel"])?;
    let app = root
        .canonicalize()
        .unwrap_or_else(|_| root.to_owned())
        .strip_prefix(toplevel.canonicalize().unwrap_or(toplevel))
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let app = if app.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        app.display().to_string()
    };
    let exe = std::env::current_exe().context("cannot find the kseal binary")?;

    let script = format!(
        "#!/bin/sh\n\
         {MARKER}, installed by `kseal hook install`.\n\
         # Refuses a commit whose staged Kamal files hold plaintext secrets or\n\
         # broken wiring. Skip once with `git commit --no-verify`.\n\
         hooks=$(dirname \"$0\")\n\
         if [ -x \"$hooks/{CHAINED}\" ]; then\n  \
           \"$hooks/{CHAINED}\" \"$@\" || exit $?\n\
         fi\n\
         if command -v kseal >/dev/null 2>&1; then kseal=kseal; else kseal={exe}; fi\n\
         cd \"$(git rev-parse --show-toplevel)\" || exit 2\n\
         exec \"$kseal\" -C {app} check --staged\n",
        exe = shell_quote(&exe.display().to_string()),
        app = shell_quote(&app),
    );
    std::fs::write(&hook, script).with_context(|| format!("cannot write {}", hook.display()))?;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot make {} executable", hook.display()))?;
    eprintln!("kseal: installed {}", hook.display());
    Ok(Outcome::Clean)
}

fn uninstall(hooks: &Path) -> anyhow::Result<Outcome> {
    let hook = hooks.join("pre-commit");
    match std::fs::read(&hook) {
        Ok(existing) if is_ours(&existing) => {}
        Ok(_) => {
            return Err(anyhow::anyhow!(
                "{} is not kseal's hook; leaving it",
                hook.display()
            ))
            .hint("remove it by hand if you mean to");
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("kseal: no pre-commit hook installed");
            return Ok(Outcome::Clean);
        }
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", hook.display())),
    }
    std::fs::remove_file(&hook).with_context(|| format!("cannot remove {}", hook.display()))?;
    let chained = hooks.join(CHAINED);
    if chained.exists() {
        std::fs::rename(&chained, &hook)
            .with_context(|| format!("cannot restore {}", chained.display()))?;
        eprintln!("kseal: removed the hook and put back the one it chained");
    } else {
        eprintln!("kseal: removed {}", hook.display());
    }
    Ok(Outcome::Clean)
}

fn is_ours(script: &[u8]) -> bool {
    String::from_utf8_lossy(script).contains(MARKER)
}

/// Runs a `git rev-parse` that prints a path.
fn git_path(root: &Path, args: &[&str]) -> anyhow::Result<PathBuf> {
    let output = Command::new("git")
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .context("cannot run git")
        .hint("install git")?;
    if !output.status.success() {
        return Err(anyhow::anyhow!(
            "{} is not in a git repository",
            root.display()
        ))
        .hint("run `git init` first");
    }
    let text = String::from_utf8(output.stdout).context("git printed a path that is not UTF-8")?;
    Ok(PathBuf::from(text.trim_end_matches('\n')))
}

/// Quotes a word for /bin/sh.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
