//! The repository's check settings, from `.kseal.toml` at the app root:
//!
//! ```toml
//! [check]
//! ignore = ["KS202"]             # rules to turn off
//! select = ["KS1", "KS301"]      # only these rules (codes or prefixes)
//! min_recipients = 2             # KS501: fewest recipients per store
//! max_secret_age = "180d"        # KS502: oldest a secret may be
//! baseline = ".kseal-baseline.json"
//! ```

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;

use crate::hint::ResultExt;

/// The settings file, relative to the app root.
pub const SETTINGS_PATH: &str = ".kseal.toml";
/// The default baseline file, relative to the app root.
pub const BASELINE_PATH: &str = ".kseal-baseline.json";

#[derive(Debug, Clone)]
pub struct Settings {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub min_recipients: usize,
    pub max_secret_age: Option<Duration>,
    pub baseline: String,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            select: Vec::new(),
            ignore: Vec::new(),
            min_recipients: 1,
            max_secret_age: None,
            baseline: BASELINE_PATH.to_owned(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    check: Option<CheckTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckTable {
    select: Option<Vec<String>>,
    ignore: Option<Vec<String>>,
    min_recipients: Option<usize>,
    max_secret_age: Option<String>,
    baseline: Option<String>,
}

impl Settings {
    /// Reads `.kseal.toml` under `root`; defaults when there is none.
    pub fn load(root: &Path) -> anyhow::Result<Settings> {
        let path = root.join(SETTINGS_PATH);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {SETTINGS_PATH}")),
        };
        Settings::parse(&text)
    }

    pub fn parse(text: &str) -> anyhow::Result<Settings> {
        let file: File = toml::from_str(text)
            .map_err(|e| anyhow::anyhow!("{SETTINGS_PATH}: {}", e.message().trim_end()))
            .hint(
                "the [check] table takes select, ignore, min_recipients, max_secret_age \
                 and baseline",
            )?;
        let mut settings = Settings::default();
        let Some(table) = file.check else {
            return Ok(settings);
        };
        if let Some(select) = table.select {
            settings.select = select;
        }
        if let Some(ignore) = table.ignore {
            settings.ignore = ignore;
        }
        if let Some(n) = table.min_recipients {
            settings.min_recipients = n;
        }
        if let Some(age) = table.max_secret_age {
            let age = humantime::parse_duration(&age)
                .map_err(|e| anyhow::anyhow!("{SETTINGS_PATH}: max_secret_age {age:?}: {e}"))
                .hint("write a duration such as \"90d\" or \"26weeks\"")?;
            settings.max_secret_age = Some(age);
        }
        if let Some(baseline) = table.baseline {
            settings.baseline = baseline;
        }
        Ok(settings)
    }

    /// Whether a rule runs: selected (by code or prefix, or no selection)
    /// and not ignored.
    pub fn enabled(&self, code: &str) -> bool {
        let matches = |list: &[String]| list.iter().any(|p| code.starts_with(p.as_str()));
        (self.select.is_empty() || matches(&self.select)) && !matches(&self.ignore)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_selects() {
        let s = Settings::parse(
            "[check]\nignore = [\"KS202\"]\nselect = [\"KS2\"]\nmax_secret_age = \"90d\"\n",
        )
        .unwrap();
        assert!(s.enabled("KS201"));
        assert!(!s.enabled("KS202"));
        assert!(!s.enabled("KS101"));
        assert_eq!(s.max_secret_age, Some(Duration::from_secs(90 * 86400)));
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Settings::parse("[check]\nmin_recipient = 2\n").unwrap_err();
        assert!(format!("{err:#}").contains(".kseal.toml"));
    }
}
