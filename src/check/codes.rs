//! The code table: every rule kseal check knows, in code order. The
//! hundreds give the area: 0xx kseal itself, 1xx `.kamal/secrets*`, 2xx
//! `config/deploy*.yml`, 3xx wiring between them, 4xx repository files, 5xx
//! sealed stores.

use super::{Context, Rule};
use super::{deploy, files, secrets_file, store, wiring};
use crate::findings::{Finding, Level};

/// Every rule, in code order.
pub static RULES: &[&Rule] = &[
    &IGNORE_WITHOUT_REASON,
    &secrets_file::plaintext_secret::RULE,
    &secrets_file::missing_command_program::RULE,
    &secrets_file::hash_in_command::RULE,
    &secrets_file::dollar_in_command_output::RULE,
    &secrets_file::multiline_secret_value::RULE,
    &deploy::literal_registry_password::RULE,
    &deploy::literal_registry_username::RULE,
    &deploy::secret_in_clear_env::RULE,
    &deploy::secret_in_builder_args::RULE,
    &deploy::secret_in_options::RULE,
    &deploy::inline_private_key::RULE,
    &wiring::undefined_secret::RULE,
    &wiring::unused_secret::RULE,
    &files::committed_sensitive_file::RULE,
    &files::sensitive_file_permissions::RULE,
    &store::too_few_recipients::RULE,
    &store::stale_secret::RULE,
    &store::unknown_store_version::RULE,
];

/// A rule by code (`KS201`) or name (`literal-registry-password`), any
/// case.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(id) || r.name.eq_ignore_ascii_case(id))
}

// KS001
/// Applied by [`super::suppress::inline`], which sees the comments.
pub const IGNORE_WITHOUT_REASON: Rule = Rule {
    code: "KS001",
    name: "ignore-without-reason",
    summary: "`# kseal:ignore` comment without a rule or a reason",
    level: Level::Error,
    fix: "name the rule and say why: `# kseal:ignore KS203 public sandbox key`",
    doc: r#"
## What it does
Flags an inline `# kseal:ignore` comment that names no rule or gives no
reason. Such a comment suppresses nothing.

## Why is this bad?
A suppression without a reason cannot be reviewed: nobody can tell later
whether the finding was judged safe or just silenced.

## Example
```yaml
    API_TOKEN: abc123  # kseal:ignore KS203
```

## Use instead
```yaml
    API_TOKEN: abc123  # kseal:ignore KS203 public demo token from the vendor docs
```
"#,
    check: no_check,
};

fn no_check(_: &Context, _: &mut Vec<Finding>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].code < pair[1].code,
                "{} then {}",
                pair[0].code,
                pair[1].code
            );
        }
        for rule in RULES {
            assert!(rule.doc.contains("## What it does"), "{}", rule.code);
            assert!(rule.doc.contains("## Why is this bad?"), "{}", rule.code);
            assert!(rule.doc.contains("## Example"), "{}", rule.code);
            assert!(rule.doc.contains("## Use instead"), "{}", rule.code);
            assert_eq!(find(rule.name).map(|r| r.code), Some(rule.code));
        }
    }
}
