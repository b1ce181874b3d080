//! `kseal explain`.

use std::io::Write;

use anyhow::Context;
use kseal::check::codes;
use kseal::hint::ResultExt;

use super::{Global, Outcome};

/// Explain a `kseal check` rule or a `kseal scan` detector: what it
/// catches, why it matters, an example and the fix. Without RULE, list
/// the check rules (`kseal scan --list-detectors` lists the detectors).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  kseal explain\n  kseal explain KS201\n  \
    kseal explain literal-registry-password")]
pub struct Args {
    /// A rule code (`KS201`) or name (`literal-registry-password`).
    #[arg(value_name = "RULE")]
    pub rule: Option<String>,
}

pub fn run(args: Args, _global: &Global) -> anyhow::Result<Outcome> {
    let mut out = std::io::stdout().lock();
    match args.rule {
        None => {
            let width = codes::RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for rule in codes::RULES {
                writeln!(out, "{}  {:width$}  {}", rule.code, rule.name, rule.summary)
                    .context("cannot write to stdout")?;
            }
        }
        Some(id) => {
            let scan_rule = kseal::scan::detectors::rule_infos()
                .into_iter()
                .find(|r| r.id.eq_ignore_ascii_case(&id) || r.name.eq_ignore_ascii_case(&id));
            if let Some(rule) = scan_rule {
                writeln!(
                    out,
                    "# {} {}\n\n{}\n\n{}",
                    rule.id, rule.name, rule.summary, rule.help
                )
                .context("cannot write to stdout")?;
                return Ok(Outcome::Clean);
            }
            let rule = codes::find(&id)
                .ok_or_else(|| anyhow::anyhow!("no rule {id:?}"))
                .hint("`kseal explain` lists the rules")?;
            writeln!(out, "# {} {}\n", rule.code, rule.name).context("cannot write to stdout")?;
            writeln!(out, "{}\n", rule.summary).context("cannot write to stdout")?;
            writeln!(out, "{}\n", rule.doc.trim()).context("cannot write to stdout")?;
            writeln!(out, "## Fix\n{}", rule.fix).context("cannot write to stdout")?;
        }
    }
    Ok(Outcome::Clean)
}
