//! `kseal check`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use kseal::check::suppress::Baseline;
use kseal::check::{self, Options, Settings, source::Mode};
use kseal::findings;
use kseal::hint::ResultExt;

use super::report_args::ReportArgs;
use super::{Global, Outcome};

/// Check the Kamal app for plaintext secrets and broken secret wiring.
///
/// Reads config/deploy.yml and its destination overlays, the
/// .kamal/secrets* files and the sealed stores (no key needed), and the
/// list of files git tracks. Every finding names its rule; `kseal explain
/// RULE` prints why it matters and how to fix it.
///
/// Findings can be suppressed inline with `# kseal:ignore RULE reason` on
/// the line or the line above, or accepted wholesale in a baseline file
/// (--write-baseline). Settings live in the [check] table of .kseal.toml.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal check\n  \
    kseal check --staged            # in a pre-commit hook\n  \
    kseal check --format sarif > kseal.sarif\n  \
    kseal explain KS201\n\n\
    Exit status: 0 no findings, 1 findings, 2 error.")]
pub struct Args {
    /// Report only findings in these files (the whole app is still read,
    /// so that references between files are understood).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Check what is staged in the git index (what the next commit holds)
    /// instead of the working tree.
    #[arg(long)]
    pub staged: bool,

    #[command(flatten)]
    pub report: ReportArgs,

    /// Run only these rules (codes or prefixes, comma-separated); replaces
    /// `select` in .kseal.toml.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Skip these rules (codes or prefixes, comma-separated), on top of
    /// `ignore` in .kseal.toml.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let root = kseal::store::app_root(Path::new("."))?;
    let mut settings = Settings::load(&root)?;
    if !args.select.is_empty() {
        settings.select = args.select.clone();
    }
    settings.ignore.extend(args.ignore.iter().cloned());
    if let Some(baseline) = &args.report.baseline {
        settings.baseline = baseline.clone();
    }
    for code in settings.select.iter().chain(&settings.ignore) {
        if !check::codes::RULES
            .iter()
            .any(|r| r.code.starts_with(code.as_str()))
        {
            return Err(anyhow::anyhow!("no rule matches {code:?}"))
                .hint("`kseal explain` lists the rules");
        }
    }

    let mut options = Options::new(if args.staged {
        Mode::Staged
    } else {
        Mode::Worktree
    });
    options.paths = relative_paths(&root, &args.paths)?;
    options.use_baseline = !args.report.no_baseline && !args.report.write_baseline;
    options.settings = settings.clone();

    let report = check::run(&root, &options)?;

    if args.report.write_baseline {
        let baseline = Baseline::from_findings(&report.findings);
        let path = root.join(&settings.baseline);
        let mut text = serde_json::to_string_pretty(&baseline).expect("a baseline serialises");
        text.push('\n');
        std::fs::write(&path, text)
            .with_context(|| format!("cannot write {}", settings.baseline))?;
        eprintln!(
            "kseal: wrote {} finding{} to {}",
            baseline.findings.len(),
            if baseline.findings.len() == 1 {
                ""
            } else {
                "s"
            },
            settings.baseline
        );
        return Ok(Outcome::Clean);
    }

    let color = args.report.use_color();
    let rules = check::rule_infos();
    let mut out = std::io::stdout().lock();
    findings::render(
        &mut out,
        args.report.format,
        "check",
        &rules,
        &report.findings,
        color,
    )
    .context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;

    if report.ignored + report.baselined > 0 {
        log::info!(
            "{} finding(s) ignored inline, {} in the baseline",
            report.ignored,
            report.baselined
        );
    }
    Ok(if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// Paths given on the command line, relative to the app root with `/`.
fn relative_paths(root: &Path, paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let root = root.canonicalize().unwrap_or_else(|_| root.to_owned());
    let mut out = Vec::new();
    for path in paths {
        let absolute: PathBuf = cwd.join(path).components().collect();
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        let rel = absolute
            .strip_prefix(&root)
            .map_err(|_| anyhow::anyhow!("{} is outside the app root", path.display()))
            .hint("give paths inside the app, or run kseal from another folder with -C")?;
        out.push(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
        );
    }
    Ok(out)
}
