//! Rules over files of the repository rather than Kamal's config: what
//! must never be committed, and who can read sensitive files.

pub mod committed_sensitive_file;
pub mod sensitive_file_permissions;

/// Why a file is sensitive, judged from its path and (when given) its
/// first bytes; `None` when it is not.
pub fn sensitive(rel: &str, content: Option<&[u8]>) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let has = |needle: &[u8]| content.is_some_and(|c| c.windows(needle.len()).any(|w| w == needle));
    if rel == "config/master.key" {
        return Some("the Rails master key");
    }
    if rel.starts_with("config/credentials/") && name.ends_with(".key") {
        return Some("a Rails credentials key");
    }
    if matches!(name, "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519") {
        return Some("an SSH private key");
    }
    if name.ends_with(".p12") || name.ends_with(".pfx") {
        return Some("a PKCS#12 key store");
    }
    if has(b"AGE-SECRET-KEY-1") {
        return Some("an age identity");
    }
    if (name.ends_with(".pem") || name.ends_with(".key")) && has(b"PRIVATE KEY-----") {
        return Some("a private key");
    }
    if name.starts_with(".env") && !is_example(name) && content.is_some_and(env_has_value) {
        return Some("an env file with values");
    }
    None
}

fn is_example(name: &str) -> bool {
    ["example", "sample", "template", "dist", "defaults"]
        .iter()
        .any(|w| name.contains(w))
}

/// Whether an env file assigns at least one non-empty value.
fn env_has_value(content: &[u8]) -> bool {
    String::from_utf8_lossy(content).lines().any(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if line.starts_with('#') {
            return false;
        }
        match line.split_once('=') {
            Some((key, value)) => {
                let value = value.trim().trim_matches(['"', '\'']);
                !key.trim().is_empty() && !value.is_empty() && !value.starts_with('$')
            }
            None => false,
        }
    })
}
