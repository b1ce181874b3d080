//! Judging whether a name or a literal value looks like a secret: the one
//! place every rule asks, so that they agree.

/// Whether a variable or key name says it holds a secret.
pub fn name_is_secret(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "MASTER_KEY",
        "SIGNING_KEY",
        "ENCRYPTION_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
        "DSN",
        "SALT",
        "PRIVATE",
    ];
    // Names that mention a secret but hold something public about it.
    const NOT_SUFFIXES: &[&str] = &[
        "_ID",
        "_TTL",
        "_EXPIRY",
        "_EXPIRES",
        "_TIMEOUT",
        "_LENGTH",
        "_FILE",
        "_PATH",
        "_HOST",
        "_PORT",
        "_USER",
        "_USERNAME",
        "_NAME",
        "_HEADER",
    ];
    let upper = name.to_ascii_uppercase().replace(['-', '.'], "_");
    if upper.contains("PUBLIC") || upper.contains("PUBLISHABLE") {
        return false;
    }
    if NOT_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return false;
    }
    WORDS.iter().any(|w| upper.contains(w)) || upper.ends_with("_KEY") || upper == "KEY"
}

/// Whether a literal is no value at all: empty, a placeholder, or a
/// reference that kseal sees as text (`$VAR`, `${VAR}`, `$(…)`, `op://…`).
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.len() < 3 && !v.chars().any(|c| c.is_ascii_alphabetic()) {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "placeholder",
        "your-",
        "your_",
        "example",
        "dummy",
        "redacted",
        "todo",
        "fixme",
        "replace",
    ];
    if WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "nil" | "none" | "~"
    ) {
        return true;
    }
    if v.starts_with('$') || v.starts_with("op://") || v.contains("${") || v.contains("$(") {
        return true;
    }
    if v.starts_with('<') && v.ends_with('>') {
        return true;
    }
    // `xxxx`, `****`, `....`: one character repeated.
    let first = v.chars().next().expect("v is not empty");
    v.chars().all(|c| c == first)
}

/// Whether a literal looks like a secret whatever its name: a known token
/// prefix, a private key, a URL carrying a password, or a long random
/// string.
pub fn value_is_secret(value: &str) -> bool {
    let v = value.trim();
    if is_placeholder(v) {
        return false;
    }
    if v.contains("PRIVATE KEY-----") || v.starts_with("AGE-SECRET-KEY-1") {
        return true;
    }
    const PREFIXES: &[(&str, usize)] = &[
        ("ghp_", 36),
        ("gho_", 36),
        ("ghu_", 36),
        ("ghs_", 36),
        ("ghr_", 36),
        ("github_pat_", 40),
        ("glpat-", 20),
        ("xoxb-", 20),
        ("xoxp-", 20),
        ("xoxa-", 20),
        ("sk_live_", 20),
        ("rk_live_", 20),
        ("sk-ant-", 30),
        ("sk-proj-", 30),
        ("dckr_pat_", 20),
        ("npm_", 36),
        ("pypi-", 50),
        ("hvs.", 20),
        ("SG.", 40),
        ("AKIA", 20),
        ("AIza", 39),
    ];
    if PREFIXES
        .iter()
        .any(|(p, min)| v.starts_with(p) && v.len() >= *min && !v.contains(' '))
    {
        return true;
    }
    if url_has_password(v) {
        return true;
    }
    looks_random(v)
}

/// `scheme://user:password@host` with a literal password.
pub fn url_has_password(v: &str) -> bool {
    let Some((_, rest)) = v.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    match userinfo.split_once(':') {
        Some((_, password)) => !is_placeholder(password),
        None => false,
    }
}

/// A long run of token characters with the entropy of a random string,
/// judged against the character set it is drawn from: 32+ hex digits, or
/// 20+ characters mixing letters and digits.
pub fn looks_random(v: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || "+/=_-".contains(c);
    if v.len() < 20 || !v.chars().all(token) {
        return false;
    }
    let entropy = shannon(v.as_bytes());
    if v.chars().all(|c| c.is_ascii_hexdigit()) {
        return v.len() >= 32 && entropy >= 3.0;
    }
    let digits = v.chars().any(|c| c.is_ascii_digit());
    let lower = v.chars().any(|c| c.is_ascii_lowercase());
    let upper = v.chars().any(|c| c.is_ascii_uppercase());
    digits && (lower || upper) && entropy >= 3.5
}

/// Shannon entropy in bits per byte (per character for ASCII text). Scan's
/// detectors use it too.
pub fn shannon(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = n as f64 / len;
            -p * p.log2()
        })
        .sum()
}

/// The judgement rules apply to a literal under a name: a secret name with
/// a real value, or a value that is a secret by its look.
pub fn is_secret(name: &str, value: &str) -> bool {
    (name_is_secret(name) && !is_placeholder(value)) || value_is_secret(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "DB_PASSWORD",
            "SECRET_KEY_BASE",
            "STRIPE_KEY",
            "api-token",
            "SENTRY_DSN",
        ] {
            assert!(name_is_secret(n), "{n}");
        }
        for n in [
            "DB_HOST",
            "PUBLIC_KEY",
            "AWS_ACCESS_KEY_ID",
            "TOKEN_TTL",
            "RAILS_ENV",
            "KEY_FILE",
        ] {
            assert!(!name_is_secret(n), "{n}");
        }
    }

    #[test]
    fn values() {
        assert!(value_is_secret("ghp_0123456789abcdefghijklmnopqrstuvwxyz"));
        assert!(value_is_secret("postgres://app:hunter2@db/app"));
        assert!(value_is_secret("3f9a1c07b2d64e58a0c9e1f7b3d2a6c4"));
        assert!(value_is_secret("aB3dE5fG7hJ9kL1mN3pQ5rS7"));
        assert!(!value_is_secret("postgres://app@db/app"));
        assert!(!value_is_secret("postgres://app:$DB_PASSWORD@db/app"));
        assert!(!value_is_secret("registry.example.com/app"));
        assert!(!value_is_secret("production"));
        assert!(!value_is_secret("/var/lib/mysql"));
        assert!(!value_is_secret("0123456789"));
    }

    #[test]
    fn placeholders() {
        for v in [
            "",
            "changeme",
            "xxxxxxxx",
            "<your-token>",
            "$DB_PASSWORD",
            "${A}",
            "op://v/i/f",
        ] {
            assert!(is_placeholder(v), "{v}");
        }
        assert!(!is_placeholder("pw"));
        assert!(!is_placeholder("root"));
    }
}
