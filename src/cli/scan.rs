//! `kseal scan`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use kseal::check::Settings;
use kseal::check::suppress::Baseline;
use kseal::findings;
use kseal::scan::{self, KnownValues, Options, Scanner, Stats};
use kseal::secret::SecretValue;

use super::report_args::ReportArgs;
use super::{Global, Outcome};

/// Scan files, a stream, git history or an image for secrets.
///
/// Finds provider tokens (AWS, GitHub, GitLab, Slack, Stripe, private
/// keys, … `kseal explain` lists them), secret-named variables assigned
/// random literals, and the values of the sealed stores you can open, as
/// they are or base64/hex-encoded. A finding names the secret and shows a
/// masked preview, never the value.
///
/// The walk honours .gitignore, but reads hidden files and, even when
/// ignored, .env*, .kamal/, .ssh/ and Rails key files. Binary files and
/// files over --max-file-size are skipped and counted. Suppress a finding
/// with `# kseal:ignore KS6xx reason` on its line or the line above, or
/// with the baseline shared with `kseal check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    kseal scan                       # the current folder\n  \
    kseal scan --git                 # every blob in the history\n  \
    kubectl logs web | kseal scan --stdin\n  \
    docker save app -o app.tar && kseal scan --image app.tar\n  \
    kseal scan --format sarif > scan.sarif\n\n\
    Exit status: 0 no findings, 1 findings, 2 error.")]
pub struct Args {
    /// Files and folders to scan (default: the current folder, unless
    /// --stdin, --git or --image is given).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Scan standard input.
    #[arg(long)]
    pub stdin: bool,

    /// Scan every blob reachable from any ref of the git repository here;
    /// each finding names the commit that introduced it.
    #[arg(long)]
    pub git: bool,

    /// Scan a `docker save` tarball: every layer's files (plain or
    /// gzip-compressed layers) and the image metadata.
    #[arg(long, value_name = "FILE")]
    pub image: Vec<PathBuf>,

    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = scan::DEFAULT_MAX_FILE_BYTES)]
    pub max_file_size: u64,

    /// Scan files that look binary (hold a NUL byte) too.
    #[arg(long)]
    pub include_binary: bool,

    /// Do not open the sealed stores to search for their values.
    #[arg(long)]
    pub no_known: bool,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// List every detector (code, name, what it finds) and exit.
    #[arg(long)]
    pub list_detectors: bool,

    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: Args, global: &Global) -> anyhow::Result<Outcome> {
    if args.list_detectors {
        let mut out = std::io::stdout().lock();
        for rule in scan::detectors::rule_infos() {
            writeln!(out, "{}  {:38}  {}", rule.id, rule.name, rule.summary)
                .context("cannot write to stdout")?;
        }
        return Ok(Outcome::Clean);
    }
    let root = kseal::store::app_root(Path::new("."))
        .unwrap_or_else(|_| std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
    let mut settings = Settings::load(&root)?;
    if let Some(baseline) = &args.report.baseline {
        settings.baseline = baseline.clone();
    }

    let known = if args.no_known {
        None
    } else {
        known_values(&root, global)
    };
    let options = Options {
        max_file_bytes: args.max_file_size,
        include_binary: args.include_binary,
        threads: args.threads,
    };
    let scanner = Scanner::new(options, known);

    let done = AtomicBool::new(false);
    let mut found = std::thread::scope(|s| {
        if std::io::stderr().is_terminal() {
            s.spawn(|| progress(&scanner.stats, &done));
        }
        let result = scan_inputs(&scanner, &args);
        done.store(true, Ordering::Relaxed);
        result
    })?;
    scan::sort(&mut found);
    report_stats(&scanner.stats);

    if args.report.write_baseline {
        let baseline = Baseline::from_findings(&found);
        let mut text = serde_json::to_string_pretty(&baseline).expect("a baseline serialises");
        text.push('\n');
        std::fs::write(root.join(&settings.baseline), text)
            .with_context(|| format!("cannot write {}", settings.baseline))?;
        eprintln!(
            "kseal: wrote {} finding(s) to {}",
            baseline.findings.len(),
            settings.baseline
        );
        return Ok(Outcome::Clean);
    }
    if !args.report.no_baseline {
        let mut report = kseal::check::Report::default();
        found = Baseline::load(&root, &settings)?.filter(found, &mut report);
        if report.baselined > 0 {
            log::info!("{} finding(s) in the baseline", report.baselined);
        }
    }

    let color = args.report.use_color();
    let rules = scan::detectors::rule_infos();
    let mut out = std::io::stdout().lock();
    findings::render(&mut out, args.report.format, "scan", &rules, &found, color)
        .context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    Ok(if found.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn scan_inputs(scanner: &Scanner, args: &Args) -> anyhow::Result<Vec<findings::Finding>> {
    let mut found = Vec::new();
    if args.stdin {
        let mut data = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut data)
            .context("cannot read standard input")?;
        found.extend(scanner.scan_buffer("<stdin>", &data, None));
    }
    if args.git {
        found.extend(scan::git::scan_history(scanner, Path::new("."))?);
    }
    for image in &args.image {
        found.extend(scan::image::scan_image(scanner, image)?);
    }
    let paths = if args.paths.is_empty() && !args.stdin && !args.git && args.image.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    if !paths.is_empty() {
        found.extend(scan::walk::scan_paths(scanner, &paths)?);
    }
    Ok(found)
}

/// The values of every sealed store the user's identities open, named
/// `NAME` for the default destination and `NAME (dest)` otherwise. A store
/// that cannot be opened is skipped with a warning: the scan still runs.
fn known_values(root: &Path, global: &Global) -> Option<KnownValues> {
    let files = match kseal::store::sealed_files(root) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => return None,
        Err(e) => {
            log::warn!("sealed stores not searched: {e:#}");
            return None;
        }
    };
    let identities = match kseal::keys::discover(&global.identity) {
        Ok(ids) => ids,
        Err(e) => {
            log::warn!("sealed values not searched: {e:#}");
            return None;
        }
    };
    let mut values: Vec<(String, SecretValue)> = Vec::new();
    for (scope, _) in files {
        match kseal::store::OpenStore::open_if_exists(root, &scope, &identities) {
            Ok(Some(store)) => {
                let label = match &scope {
                    kseal::store::Scope::Destination(d) => format!(" ({d})"),
                    kseal::store::Scope::Shared => " (shared)".to_owned(),
                    kseal::store::Scope::Default => String::new(),
                };
                for (name, value) in store.values() {
                    values.push((format!("{name}{label}"), value.clone()));
                }
            }
            Ok(None) => {}
            Err(e) => log::warn!("its values are not searched: {e:#}"),
        }
    }
    log::debug!("searching for {} known value(s)", values.len());
    KnownValues::new(&values)
}

/// One status line on stderr, rewritten four times a second.
fn progress(stats: &Stats, done: &AtomicBool) {
    let mut shown = false;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(250));
        let files = Stats::get(&stats.files);
        let mb = Stats::get(&stats.bytes) as f64 / 1e6;
        eprint!("\rkseal scan: {files} files, {mb:.1} MB");
        shown = true;
    }
    if shown {
        eprint!("\r\x1b[2K");
    }
}

fn report_stats(stats: &Stats) {
    let binary = Stats::get(&stats.skipped_binary);
    let large = Stats::get(&stats.skipped_large);
    let unreadable = Stats::get(&stats.unreadable);
    log::info!(
        "scanned {} file(s), {} bytes; skipped {binary} binary, {large} too large, \
         {unreadable} unreadable; {} ignored inline",
        Stats::get(&stats.files),
        Stats::get(&stats.bytes),
        Stats::get(&stats.ignored),
    );
    if binary + large > 0 {
        eprintln!(
            "kseal scan: skipped {binary} binary and {large} large file(s) \
             (--include-binary, --max-file-size)"
        );
    }
}
