//! `kseal check`: Kamal-aware rules against plaintext secrets and broken
//! wiring.
//!
//! The parts, in the order a run goes through them:
//!
//! - [`source`] reads the app's files from the working tree or the git
//!   index, refusing hostile input with a clear error;
//! - [`Context`] holds the Kamal model built from them: every deploy file
//!   (with positions), the configuration of every destination merged as
//!   Kamal merges it, the `.kamal/secrets*` files parsed as Kamal parses
//!   them, and the sealed stores read without a key;
//! - the rules, one file each, grouped by the area of config they look at
//!   ([`deploy`], [`secrets_file`], [`wiring`], [`files`], [`store`]) and
//!   listed in [`codes`];
//! - [`suppress`] drops findings covered by an inline `# kseal:ignore` or
//!   the baseline; [`settings`] reads the repository's `.kseal.toml`.
//!
//! ```no_run
//! use kseal::check::{self, Options, source::Mode};
//!
//! let root = std::path::Path::new(".");
//! let report = check::run(root, &Options::new(Mode::Worktree))?;
//! println!("{} findings", report.findings.len());
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;

use crate::findings::{Finding, Level, RuleInfo};
use crate::kamal::deploy::{self as kdeploy, DeployFile};
use crate::kamal::dotenv::{self, Entry};
use crate::kamal::yaml::{Node, Value, YamlError};
use crate::store::format::{FormatErrorKind, SealedFile};
use crate::store::{Scope, format::located};

pub mod codes;
pub mod deploy;
pub mod files;
pub mod secretish;
pub mod secrets_file;
pub mod settings;
pub mod source;
pub mod store;
pub mod suppress;
pub mod wiring;

pub use settings::Settings;
use source::{Mode, Source};

/// One rule: its code, its documentation and the function that applies it.
pub struct Rule {
    /// `KS` and three digits; the hundreds say the area.
    pub code: &'static str,
    /// What the rule catches, in kebab case, so "allow <name>" reads well.
    pub name: &'static str,
    /// One line, for listings and SARIF's short description.
    pub summary: &'static str,
    pub level: Level,
    /// The fix, in one line, printed under each finding.
    pub fix: &'static str,
    /// The rule's page, in Markdown, with the headings What it does, Why is
    /// this bad?, Example, Use instead, and Known problems where there are
    /// some. `kseal explain` prints it.
    pub doc: &'static str,
    pub check: fn(&Context, &mut Vec<Finding>),
}

impl Rule {
    pub fn info(&self) -> RuleInfo {
        RuleInfo {
            id: self.code.to_owned(),
            name: self.name.to_owned(),
            summary: self.summary.to_owned(),
            help: self.doc.trim().to_owned(),
            level: self.level,
        }
    }
}

/// What to check and how.
#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// Report only findings in these files (relative to the root); empty
    /// for all.
    pub paths: Vec<String>,
    pub settings: Settings,
    /// Apply the baseline file named in the settings.
    pub use_baseline: bool,
}

impl Options {
    pub fn new(mode: Mode) -> Options {
        Options {
            mode,
            paths: Vec::new(),
            settings: Settings::default(),
            use_baseline: true,
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Default)]
pub struct Report {
    /// Findings to report, sorted by path, line, column and rule.
    pub findings: Vec<Finding>,
    /// Findings dropped by an inline ignore.
    pub ignored: usize,
    /// Findings dropped because the baseline lists them.
    pub baselined: usize,
}

/// A `.kamal/secrets*` file and what Kamal would parse from it.
#[derive(Debug)]
pub struct SecretsFile {
    pub path: String,
    pub text: String,
    pub entries: Vec<Entry>,
    pub scope: Scope,
}

/// A sealed store file, read without a key.
#[derive(Debug)]
pub struct StoreFile {
    pub path: String,
    pub scope: Scope,
    /// `Err` holds the version a newer kseal wrote.
    pub file: Result<SealedFile, String>,
}

/// One destination's configuration, merged from the base file and its
/// overlay.
#[derive(Debug)]
pub struct Destination {
    /// `None` for the default destination (`kamal deploy` without `-d`).
    pub name: Option<String>,
    pub config: Node,
}

impl Destination {
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("destination {name:?}"),
            None => "the default destination".to_owned(),
        }
    }

    pub fn scope(&self) -> Scope {
        match &self.name {
            Some(name) => Scope::Destination(name.clone()),
            None => Scope::Default,
        }
    }
}

/// The Kamal model of one app, as the rules see it.
#[derive(Debug)]
pub struct Context {
    pub source: Source,
    pub settings: Settings,
    /// Deploy files; a node's `file` indexes this list.
    pub deploy_files: Vec<DeployFile>,
    pub destinations: Vec<Destination>,
    pub secrets_files: Vec<SecretsFile>,
    pub stores: Vec<StoreFile>,
    /// Per file, the spans (line, column, width) of every value that looks
    /// like a secret, masked in every excerpt whatever the finding.
    masks: BTreeMap<String, Vec<(usize, usize, usize)>>,
}

impl Context {
    /// Reads every Kamal file of the app and builds the model.
    pub fn load(source: Source, settings: Settings) -> anyhow::Result<Context> {
        let mut deploy_files = Vec::new();
        let mut secrets_files = Vec::new();
        let mut stores = Vec::new();

        for rel in source.kamal_files()? {
            if rel.starts_with("config/") {
                let Some(text) = source.read_text(&rel)? else {
                    continue;
                };
                let index = deploy_files.len();
                let file = DeployFile::parse(&rel, &text, index).map_err(|e| {
                    let hint = yaml_hint(&e);
                    crate::hint::attach(anyhow::anyhow!("{rel}: {e}"), hint)
                })?;
                deploy_files.push(file);
            } else if rel.starts_with(".kamal/kseal/") {
                let Some(bytes) = source.read_bytes(&rel, source::FILE_MAX_BYTES)? else {
                    continue;
                };
                let name = rel.trim_start_matches(".kamal/kseal/");
                let Some(scope) = store_scope(name) else {
                    log::warn!("ignoring {rel}: not a sealed file name kseal uses");
                    continue;
                };
                let file = match SealedFile::parse(&bytes) {
                    Ok(file) => Ok(file),
                    Err(e) => match e.kind {
                        FormatErrorKind::UnsupportedVersion(v) => Err(v),
                        _ => return Err(located(e, &rel)),
                    },
                };
                stores.push(StoreFile {
                    path: rel,
                    scope,
                    file,
                });
            } else {
                let Some(text) = source.read_text(&rel)? else {
                    continue;
                };
                let name = rel.trim_start_matches(".kamal/");
                let scope = match name {
                    "secrets-common" => Scope::Shared,
                    "secrets" => Scope::Default,
                    _ => Scope::Destination(name.trim_start_matches("secrets.").to_owned()),
                };
                let entries = dotenv::parse(&text).map_err(|e| {
                    crate::hint::attach(
                        anyhow::anyhow!("{rel}: {e}"),
                        "Kamal stops on this line too; give the export a value",
                    )
                })?;
                secrets_files.push(SecretsFile {
                    path: rel,
                    text,
                    entries,
                    scope,
                });
            }
        }

        let destinations = destinations(&deploy_files, &secrets_files, &stores);
        log::debug!(
            "{} deploy files, {} secrets files, {} stores; destinations: {}",
            deploy_files.len(),
            secrets_files.len(),
            stores.len(),
            destinations
                .iter()
                .map(Destination::label)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let masks = secret_spans(&deploy_files, &secrets_files);
        Ok(Context {
            source,
            settings,
            deploy_files,
            destinations,
            secrets_files,
            stores,
            masks,
        })
    }

    /// Line `line` of `text` (the file at `path`) for an excerpt, with
    /// every secret-looking value on it masked.
    pub fn excerpt(&self, path: &str, text: &str, line: usize) -> Option<String> {
        let mut out = text.lines().nth(line.checked_sub(1)?)?.to_owned();
        for &(l, column, width) in self.masks.get(path).into_iter().flatten() {
            if l == line {
                out = mask_span(&out, column, width);
            }
        }
        Some(out)
    }

    /// The document of every deploy file, each on its own. Rules about
    /// literal values look at these rather than at merged configurations:
    /// a value an overlay replaces is still written in git.
    pub fn deploy_roots(&self) -> impl Iterator<Item = &Node> {
        self.deploy_files.iter().filter_map(|f| f.root.as_ref())
    }

    /// The deploy file a node came from.
    pub fn file_of(&self, node: &Node) -> &DeployFile {
        &self.deploy_files[node.file]
    }

    /// A finding at a scalar or collection of a deploy file. With `secret`
    /// set, the excerpt masks the node's text and the preview shows it
    /// masked.
    pub fn at_node(
        &self,
        rule: &Rule,
        node: &Node,
        message: String,
        secret: Option<&str>,
    ) -> Finding {
        let file = self.file_of(node);
        let span_len = file.span_len(node);
        let snippet =
            self.excerpt(&file.path, &file.text, node.pos.line)
                .map(|line| match secret {
                    Some(_) => mask_span(&line, node.pos.column, span_len),
                    None => line,
                });
        Finding {
            rule: rule.code.to_owned(),
            message,
            path: file.path.clone().into(),
            line: node.pos.line,
            column: node.pos.column,
            span_len,
            preview: secret.map(crate::findings::mask),
            fix: Some(rule.fix.to_owned()),
            origin: None,
            snippet,
        }
    }

    /// A finding at a byte range of a secrets file (or any text file read
    /// whole): position and caret from the range's first line.
    pub fn at_text(
        &self,
        rule: &Rule,
        path: &str,
        text: &str,
        span: dotenv::Span,
        message: String,
        secret: Option<&str>,
    ) -> Finding {
        let (line, column) = dotenv::line_col(text, span.start);
        let line_text = self.excerpt(path, text, line).unwrap_or_default();
        let first = &text[span.start..span.end.max(span.start)];
        let first = first.split(['\n', '\r']).next().unwrap_or("");
        let span_len = first.chars().count().max(1);
        let snippet = Some(match secret {
            Some(_) => mask_span(&line_text, column, span_len),
            None => line_text,
        });
        Finding {
            rule: rule.code.to_owned(),
            message,
            path: path.into(),
            line,
            column,
            span_len,
            preview: secret.map(crate::findings::mask),
            fix: Some(rule.fix.to_owned()),
            origin: None,
            snippet,
        }
    }

    /// A finding about a whole file, or one line of it.
    pub fn at_file(&self, rule: &Rule, path: &str, line: usize, message: String) -> Finding {
        Finding {
            rule: rule.code.to_owned(),
            message,
            path: path.into(),
            line,
            column: 0,
            span_len: 0,
            preview: None,
            fix: Some(rule.fix.to_owned()),
            origin: None,
            snippet: None,
        }
    }

    /// Names every destination defines, each with where it is defined:
    /// the secrets files Kamal reads for it and the sealed stores.
    pub fn defined(&self, dest: &Destination) -> BTreeSet<String> {
        let own = dest.scope();
        let mut names = BTreeSet::new();
        for file in &self.secrets_files {
            if file.scope == Scope::Shared || file.scope == own {
                names.extend(file.entries.iter().map(|e| e.key.clone()));
            }
        }
        for store in &self.stores {
            if (store.scope == Scope::Shared || store.scope == own)
                && let Ok(file) = &store.file
            {
                names.extend(file.entries().map(|e| e.name.clone()));
            }
        }
        names
    }
}

fn yaml_hint(err: &YamlError) -> &'static str {
    match err {
        YamlError::Syntax { .. } | YamlError::UnknownAnchor(_) => {
            "Kamal cannot read this file either; fix the YAML at that line"
        }
        _ => "a real deploy file is far smaller and flatter; check what was written there",
    }
}

fn store_scope(name: &str) -> Option<Scope> {
    match name {
        "secrets-common.sealed" => Some(Scope::Shared),
        "secrets.sealed" => Some(Scope::Default),
        _ => {
            let dest = name.strip_prefix("secrets.")?.strip_suffix(".sealed")?;
            crate::store::validate_destination(dest).ok()?;
            Some(Scope::Destination(dest.to_owned()))
        }
    }
}

/// The destinations an app has: one per overlay file, destination secrets
/// file or destination store, plus the default one unless the base config
/// requires a destination and nothing is set up without one.
fn destinations(
    deploy_files: &[DeployFile],
    secrets_files: &[SecretsFile],
    stores: &[StoreFile],
) -> Vec<Destination> {
    let Some(base) = deploy_files
        .iter()
        .find(|f| f.path == kdeploy::BASE_PATH)
        .and_then(|f| f.root.as_ref())
    else {
        return Vec::new();
    };

    let mut names: BTreeSet<String> = BTreeSet::new();
    for file in deploy_files {
        if let Some(dest) = kdeploy::destination_of(&file.path) {
            names.insert(dest.to_owned());
        }
    }
    let mut has_default = false;
    for scope in secrets_files
        .iter()
        .map(|f| &f.scope)
        .chain(stores.iter().map(|s| &s.scope))
    {
        match scope {
            Scope::Destination(name) => {
                names.insert(name.clone());
            }
            Scope::Default => has_default = true,
            Scope::Shared => {}
        }
    }
    let required = base.get("require_destination").and_then(Node::as_str) == Some("true");

    let mut out = Vec::new();
    if names.is_empty() || (has_default && !required) {
        out.push(Destination {
            name: None,
            config: base.clone(),
        });
    }
    for name in names {
        let overlay = deploy_files
            .iter()
            .find(|f| kdeploy::destination_of(&f.path) == Some(name.as_str()))
            .and_then(|f| f.root.as_ref());
        let config = match overlay {
            Some(overlay) => kdeploy::merge(base, overlay),
            None => base.clone(),
        };
        out.push(Destination {
            name: Some(name),
            config,
        });
    }
    out
}

/// Where secret-looking values sit in the Kamal files, so that excerpts
/// can mask them: literal values of secrets-file lines that KS101 would
/// judge secret, and deploy-file scalars that look like a secret under
/// their key or hold a private key.
fn secret_spans(
    deploy_files: &[DeployFile],
    secrets_files: &[SecretsFile],
) -> BTreeMap<String, Vec<(usize, usize, usize)>> {
    let mut masks: BTreeMap<String, Vec<(usize, usize, usize)>> = BTreeMap::new();
    for file in secrets_files {
        for entry in &file.entries {
            for part in &entry.parts {
                let dotenv::Part::Literal { text, span } = part else {
                    continue;
                };
                if !secretish::is_secret(&entry.key, text) {
                    continue;
                }
                let (line, column) = dotenv::line_col(&file.text, span.start);
                let first = file.text[span.start..span.end]
                    .split('\n')
                    .next()
                    .unwrap_or("");
                let spans = masks.entry(file.path.clone()).or_default();
                spans.push((line, column, first.chars().count()));
            }
        }
    }
    for file in deploy_files {
        if let Some(root) = &file.root {
            let spans = masks.entry(file.path.clone()).or_default();
            yaml_secret_spans(file, root, "", spans);
        }
    }
    masks
}

/// A mapping value is judged under its key; a list item by its look only,
/// since lists under `secret:` and the like hold secret names.
fn yaml_secret_spans(
    file: &DeployFile,
    node: &Node,
    key: &str,
    spans: &mut Vec<(usize, usize, usize)>,
) {
    match &node.value {
        Value::Scalar { .. } => {
            if let Some(kdeploy::Scalar::Literal(text)) = file.scalar(node)
                && (deploy::is_pem(&text) || secretish::is_secret(key, &text))
            {
                spans.push((node.pos.line, node.pos.column, file.span_len(node)));
            }
        }
        Value::Seq(items) => {
            for item in items {
                yaml_secret_spans(file, item, "", spans);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries {
                yaml_secret_spans(file, v, k.as_str().unwrap_or(""), spans);
            }
        }
    }
}

/// `line` with `len` characters from 1-based `column` replaced by `*`.
pub fn mask_span(line: &str, column: usize, len: usize) -> String {
    let start = column.saturating_sub(1);
    line.chars()
        .enumerate()
        .map(|(i, c)| {
            if i >= start && i < start + len {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Runs every selected rule over the app at `root`.
pub fn run(root: &Path, options: &Options) -> anyhow::Result<Report> {
    let source = Source::open(root, options.mode)?;
    let context = Context::load(source, options.settings.clone())?;

    let mut findings = Vec::new();
    for rule in codes::RULES {
        if !options.settings.enabled(rule.code) {
            continue;
        }
        let mut found = Vec::new();
        (rule.check)(&context, &mut found);
        log::debug!("{} {}: {} findings", rule.code, rule.name, found.len());
        findings.extend(found);
    }

    // A node of the base file appears in every destination's
    // configuration; report it once.
    let mut seen = BTreeSet::new();
    findings.retain(|f| {
        seen.insert((
            f.path.clone(),
            f.line,
            f.column,
            f.rule.clone(),
            f.message.clone(),
        ))
    });

    let mut report = Report::default();
    let findings = suppress::inline(&context, findings, &mut report);
    let findings = if options.use_baseline {
        let baseline = suppress::Baseline::load(root, &options.settings)
            .context("cannot read the baseline")?;
        baseline.filter(findings, &mut report)
    } else {
        findings
    };

    let mut findings: Vec<Finding> = if options.paths.is_empty() {
        findings
    } else {
        let wanted: BTreeSet<&str> = options.paths.iter().map(String::as_str).collect();
        findings
            .into_iter()
            .filter(|f| wanted.contains(f.path.to_string_lossy().as_ref()))
            .collect()
    };
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    report.findings = findings;
    Ok(report)
}

/// Every rule's reporter information, in code order.
pub fn rule_infos() -> Vec<RuleInfo> {
    codes::RULES.iter().map(|r| r.info()).collect()
}

/// Counts findings per rule, for summaries.
pub fn counts(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.rule.clone()).or_default() += 1;
    }
    counts
}
