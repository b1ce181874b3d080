//! The detector table: every provider format `kseal scan` knows, as data.
//!
//! Each entry names the keywords that must occur near a secret (the
//! prefilter looks for these only), the pattern that confirms it (a
//! byte-oriented regex whose `s` group, or whole match, is the secret), the
//! entropy a real secret of that character set reaches, and the public
//! document the format comes from. Codes are `KS6xx`: 601 and 602 are the
//! known-value and generic rules, 610 on are provider formats in the order
//! of this table.
//!
//! A detector earlier in the table wins when two find the same bytes, so
//! specific formats come before looser ones.

use crate::findings::{Level, RuleInfo};

/// One detector: a provider's token format, or a named assignment.
#[derive(Debug)]
pub struct Detector {
    /// `KS` and three digits.
    pub code: &'static str,
    /// What it catches, in kebab case.
    pub name: &'static str,
    /// What was found, as the finding's message says it.
    pub summary: &'static str,
    /// Words of which one must occur on the secret's line (or, for a
    /// multi-line detector, up to 16 KiB before it). Matched ignoring ASCII
    /// case unless `case_sensitive`.
    pub keywords: &'static [&'static str],
    pub case_sensitive: bool,
    /// The confirming regex (Unicode off); the `s` group is the secret.
    pub pattern: &'static str,
    /// Minimum Shannon entropy of the secret, by its character set.
    pub entropy: Entropy,
    /// Regexes: a secret that matches one of these is not reported.
    pub allow: &'static [&'static str],
    /// Only files whose path matches this regex; with no keywords the
    /// detector then runs on the whole file.
    pub path: Option<&'static str>,
    /// Whether a secret may span lines (PEM blocks, JSON key files).
    pub multiline: bool,
    /// Where the format is documented.
    pub source: &'static str,
}

/// Minimum bits of Shannon entropy per character for a secret drawn from
/// each character set; 0 checks nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entropy {
    /// Only `0-9a-fA-F`.
    pub hex: f64,
    /// Only letters and digits.
    pub alnum: f64,
    /// Letters, digits and `+/=_-`.
    pub base64: f64,
    /// Anything else.
    pub other: f64,
}

impl Entropy {
    pub const NONE: Entropy = Entropy {
        hex: 0.0,
        alnum: 0.0,
        base64: 0.0,
        other: 0.0,
    };

    /// What a generated secret reaches and a word, a version number or a
    /// repeated pattern does not. A random 32-hex key has about 3.7 bits per
    /// character; English text stays under 3.3 in short runs.
    pub const RANDOM: Entropy = Entropy {
        hex: 3.0,
        alnum: 3.5,
        base64: 3.8,
        other: 3.2,
    };

    /// Whether `secret` reaches the minimum for its character set.
    pub fn passes(&self, secret: &[u8]) -> bool {
        let min = if secret.iter().all(u8::is_ascii_hexdigit) {
            self.hex
        } else if secret.iter().all(u8::is_ascii_alphanumeric) {
            self.alnum
        } else if secret
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=_-".contains(b))
        {
            self.base64
        } else {
            self.other
        };
        min == 0.0 || crate::check::secretish::shannon(secret) >= min
    }
}

/// Code of the known-value rule: a value from a sealed store.
pub const KNOWN_VALUE_CODE: &str = "KS601";
/// Code of the generic rule: a secret-ish name assigned a random literal.
pub const GENERIC_CODE: &str = "KS602";

/// Allow patterns every detector applies: documentation keys and
/// placeholders, which look like secrets but are published on purpose.
pub const ALLOW_EVERYWHERE: &[&str] = &[
    // AWS's and many vendors' documentation keys end in or contain EXAMPLE.
    r"EXAMPLE",
    r"(?i)x{6,}|\*{4,}|0{12,}|\.{4,}",
    r"(?i)placeholder|changeme|change_me|dummy|redacted|your[_-]?(?:api[_-]?)?(?:key|token|secret|password)",
    r"<%|%>|\$\{|\$\(|\{\{|^<.*>$|^\$",
];

/// A provider format with the defaults most entries share.
const fn token(
    code: &'static str,
    name: &'static str,
    summary: &'static str,
    keywords: &'static [&'static str],
    pattern: &'static str,
    source: &'static str,
) -> Detector {
    Detector {
        code,
        name,
        summary,
        keywords,
        case_sensitive: true,
        pattern,
        entropy: Entropy::NONE,
        allow: &[],
        path: None,
        multiline: false,
        source,
    }
}

/// The longest name the generic rule reports: a longer identifier is cut
/// to its last bytes.
pub const GENERIC_MAX_NAME: usize = 61;
/// The longest value the generic rule reports: a longer quoted string is
/// not a secret, a longer unquoted run is reported by its first bytes.
pub const GENERIC_MAX_VALUE: usize = 200;

/// The generic detector, applied after every provider format.
pub static GENERIC: Detector = Detector {
    code: GENERIC_CODE,
    name: "generic-secret-assignment",
    summary: "a secret-named variable is assigned a random literal",
    // The words `check::secretish::name_is_secret` looks for, as narrow as
    // it allows: a bare `key` or `pass` occurs on most lines of code.
    keywords: &[
        "passw",
        "passphrase",
        "secret",
        "token",
        "_key",
        "-key",
        ".key",
        "apikey",
        "credential",
        "salt",
        "dsn",
    ],
    case_sensitive: false,
    // The repetitions are open on purpose: bounded ones (`{0,60}`,
    // `{12,200}`) multiply the states of the regex's lazy DFA, and
    // building those states again and again was a tenth of a tree scan.
    // The engine holds the name to GENERIC_MAX_NAME bytes and the value to
    // GENERIC_MAX_VALUE instead.
    pattern: r#"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*(?:["'`](?P<q>[^"'`\r\n]{8,})["'`]|(?P<s>[A-Za-z0-9+/=_\-.~!@#%^&*]{12,}))"#,
    entropy: Entropy::RANDOM,
    allow: &[
        // Lockfile integrity strings and content digests.
        r"^(?:sha1|sha256|sha384|sha512)[-:]",
        // A path or a URL without a password is not a secret.
        r"^(?:/|\./|\.\./|~/|https?://[^:@]+$)",
    ],
    path: None,
    multiline: false,
    source: "",
};

/// Every provider detector, in code order.
pub static DETECTORS: &[Detector] = &[
    Detector {
        allow: &[r"EXAMPLE$"],
        ..token(
            "KS610",
            "aws-access-key-id",
            "AWS access key id",
            &["AKIA", "ASIA", "ABIA", "ACCA"],
            r"\b(?P<s>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids",
        )
    },
    Detector {
        case_sensitive: false,
        entropy: Entropy {
            base64: 4.0,
            alnum: 4.0,
            ..Entropy::NONE
        },
        ..token(
            "KS611",
            "aws-secret-access-key",
            "AWS secret access key",
            &["aws", "secret_access_key", "secretaccesskey"],
            r#"(?i:aws[A-Za-z0-9_.-]{0,20}secret[A-Za-z0-9_.-]{0,20}|secret_?access_?key)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html",
        )
    },
    token(
        "KS612",
        "github-personal-access-token",
        "GitHub personal access token (classic)",
        &["ghp_"],
        r"\b(?P<s>ghp_[A-Za-z0-9]{36})\b",
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    token(
        "KS613",
        "github-oauth-token",
        "GitHub OAuth access token",
        &["gho_"],
        r"\b(?P<s>gho_[A-Za-z0-9]{36})\b",
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    token(
        "KS614",
        "github-user-to-server-token",
        "GitHub App user-to-server token",
        &["ghu_"],
        r"\b(?P<s>ghu_[A-Za-z0-9]{36})\b",
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    token(
        "KS615",
        "github-server-to-server-token",
        "GitHub App installation (server-to-server) token",
        &["ghs_"],
        r"\b(?P<s>ghs_[A-Za-z0-9]{36})\b",
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    token(
        "KS616",
        "github-refresh-token",
        "GitHub refresh token",
        &["ghr_"],
        r"\b(?P<s>ghr_[A-Za-z0-9]{36,76})\b",
        "https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/",
    ),
    token(
        "KS617",
        "github-fine-grained-token",
        "GitHub fine-grained personal access token",
        &["github_pat_"],
        r"\b(?P<s>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens",
    ),
    token(
        "KS618",
        "gitlab-personal-access-token",
        "GitLab personal, project or group access token",
        &["glpat-"],
        r"\b(?P<s>glpat-[A-Za-z0-9_-]{20,})",
        "https://docs.gitlab.com/security/tokens/#token-prefixes",
    ),
    token(
        "KS619",
        "gitlab-runner-token",
        "GitLab runner authentication token",
        &["glrt-"],
        r"\b(?P<s>glrt-[A-Za-z0-9_-]{20,})",
        "https://docs.gitlab.com/security/tokens/#token-prefixes",
    ),
    token(
        "KS620",
        "gitlab-deploy-token",
        "GitLab deploy token",
        &["gldt-"],
        r"\b(?P<s>gldt-[A-Za-z0-9_-]{20,})",
        "https://docs.gitlab.com/security/tokens/#token-prefixes",
    ),
    token(
        "KS621",
        "slack-bot-token",
        "Slack bot token",
        &["xoxb-"],
        r"\b(?P<s>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,})",
        "https://api.slack.com/concepts/token-types",
    ),
    token(
        "KS622",
        "slack-user-token",
        "Slack user token",
        &["xoxp-"],
        r"\b(?P<s>xoxp-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32})",
        "https://api.slack.com/concepts/token-types",
    ),
    token(
        "KS623",
        "slack-app-token",
        "Slack app-level token",
        &["xapp-"],
        r"\b(?P<s>xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64})",
        "https://api.slack.com/concepts/token-types",
    ),
    token(
        "KS624",
        "slack-webhook-url",
        "Slack incoming webhook URL",
        &["hooks.slack.com"],
        r"(?P<s>https://hooks\.slack\.com/(?:services|workflows|triggers)/T[A-Z0-9]{8,12}/[A-Z0-9]{8,12}/[A-Za-z0-9]{24,})",
        "https://api.slack.com/messaging/webhooks",
    ),
    token(
        "KS625",
        "stripe-secret-key",
        "Stripe live secret key",
        &["sk_live_"],
        r"\b(?P<s>sk_live_[A-Za-z0-9]{24,247})\b",
        "https://docs.stripe.com/keys",
    ),
    token(
        "KS626",
        "stripe-restricted-key",
        "Stripe live restricted key",
        &["rk_live_"],
        r"\b(?P<s>rk_live_[A-Za-z0-9]{24,247})\b",
        "https://docs.stripe.com/keys",
    ),
    token(
        "KS627",
        "stripe-webhook-secret",
        "Stripe webhook signing secret",
        &["whsec_"],
        r"\b(?P<s>whsec_[A-Za-z0-9+/=]{32,})",
        "https://docs.stripe.com/webhooks#verify-webhook-signatures-with-official-libraries",
    ),
    token(
        "KS628",
        "twilio-api-key",
        "Twilio API key SID and secret",
        &["SK"],
        r"\b(?P<s>SK[0-9a-f]{32})\b",
        "https://www.twilio.com/docs/iam/api-keys",
    ),
    Detector {
        case_sensitive: false,
        entropy: Entropy::RANDOM,
        ..token(
            "KS629",
            "twilio-auth-token",
            "Twilio auth token",
            &["twilio"],
            r#"(?i:twilio[A-Za-z0-9_.-]{0,20}(?:auth|token|secret)[A-Za-z0-9_.-]{0,20})["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<s>[0-9a-f]{32})\b"#,
            "https://www.twilio.com/docs/iam/credentials/api",
        )
    },
    token(
        "KS630",
        "sendgrid-api-key",
        "SendGrid API key",
        &["SG."],
        r"\b(?P<s>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})",
        "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
    ),
    token(
        "KS631",
        "mailgun-api-key",
        "Mailgun API key",
        &["key-"],
        r"\b(?P<s>key-[0-9a-f]{32})\b",
        "https://documentation.mailgun.com/docs/mailgun/api-reference/authentication",
    ),
    token(
        "KS632",
        "google-api-key",
        "Google API key",
        &["AIza"],
        r"\b(?P<s>AIza[A-Za-z0-9_-]{35})",
        "https://cloud.google.com/docs/authentication/api-keys",
    ),
    Detector {
        multiline: true,
        ..token(
            "KS633",
            "gcp-service-account-key",
            "Google Cloud service-account key file",
            &["service_account"],
            r#"(?s)"type"\s*:\s*"service_account".{0,4000}?"private_key"\s*:\s*"(?P<s>-----BEGIN[^"]{64,})""#,
            "https://cloud.google.com/iam/docs/keys-create-delete",
        )
    },
    Detector {
        multiline: true,
        ..token(
            "KS634",
            "openssh-private-key",
            "OpenSSH private key",
            &["BEGIN OPENSSH PRIVATE KEY"],
            r"(?P<s>-----BEGIN OPENSSH PRIVATE KEY-----(?:\\n|\\r|\s)+[A-Za-z0-9+/=\\\s]{64,}?-----END OPENSSH PRIVATE KEY-----)",
            "https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key",
        )
    },
    Detector {
        multiline: true,
        ..token(
            "KS635",
            "pem-private-key",
            "PEM private key (RSA, EC, DSA, PKCS #8, encrypted)",
            &["PRIVATE KEY-----"],
            r"(?P<s>-----BEGIN (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----(?:\\n|\\r|\s)+(?:[A-Za-z-]+: [^\n]*\n)*(?:\\n|\s)*[A-Za-z0-9+/=\\\s]{64,}?-----END (?:RSA |EC |DSA |ENCRYPTED )?PRIVATE KEY-----)",
            "https://www.rfc-editor.org/rfc/rfc7468#section-10",
        )
    },
    Detector {
        multiline: true,
        ..token(
            "KS636",
            "pgp-private-key",
            "PGP private key block",
            &["BEGIN PGP PRIVATE KEY BLOCK"],
            r"(?P<s>-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]{64,}?-----END PGP PRIVATE KEY BLOCK-----)",
            "https://www.rfc-editor.org/rfc/rfc4880#section-6.2",
        )
    },
    token(
        "KS637",
        "json-web-token",
        "JSON Web Token",
        &["eyJ"],
        r"\b(?P<s>eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})",
        "https://www.rfc-editor.org/rfc/rfc7519#section-3",
    ),
    token(
        "KS638",
        "docker-hub-access-token",
        "Docker Hub personal or organization access token",
        &["dckr_pat_", "dckr_oat_"],
        r"\b(?P<s>dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,})",
        "https://docs.docker.com/security/for-developers/access-tokens/",
    ),
    Detector {
        entropy: Entropy {
            hex: 2.5,
            alnum: 2.5,
            base64: 2.5,
            other: 2.5,
        },
        ..token(
            "KS639",
            "kamal-registry-password",
            "literal KAMAL_REGISTRY_PASSWORD",
            &["KAMAL_REGISTRY_PASSWORD"],
            r#"KAMAL_REGISTRY_PASSWORD["']?[ \t]*(?:=|:)[ \t]*["']?(?P<s>[^\s"'$]{8,})"#,
            "https://kamal-deploy.org/docs/configuration/docker-registry/",
        )
    },
    token(
        "KS640",
        "npm-access-token",
        "npm access token",
        &["npm_"],
        r"\b(?P<s>npm_[A-Za-z0-9]{36})\b",
        "https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/",
    ),
    token(
        "KS641",
        "pypi-api-token",
        "PyPI API token",
        &["pypi-AgE"],
        r"\b(?P<s>pypi-AgE[A-Za-z0-9_-]{50,})",
        "https://pypi.org/help/#apitoken",
    ),
    token(
        "KS642",
        "heroku-api-key",
        "Heroku API key",
        &["HRKU-"],
        r"\b(?P<s>HRKU-[A-Za-z0-9_-]{40,})",
        "https://devcenter.heroku.com/articles/authentication",
    ),
    Detector {
        case_sensitive: false,
        ..token(
            "KS643",
            "heroku-legacy-api-key",
            "Heroku API key (legacy UUID form)",
            &["heroku"],
            r#"(?i:heroku[A-Za-z0-9_.-]{0,20}(?:key|token|secret)[A-Za-z0-9_.-]{0,10})["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<s>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"#,
            "https://devcenter.heroku.com/articles/authentication",
        )
    },
    token(
        "KS644",
        "digitalocean-token",
        "DigitalOcean personal access, OAuth or refresh token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(?P<s>do[opr]_v1_[a-f0-9]{64})\b",
        "https://docs.digitalocean.com/reference/api/create-personal-access-token/",
    ),
    token(
        "KS645",
        "shopify-access-token",
        "Shopify access token",
        &["shpat_", "shpca_", "shppa_"],
        r"\b(?P<s>shp(?:at|ca|pa)_[a-fA-F0-9]{32})\b",
        "https://shopify.dev/docs/apps/build/authentication-authorization/access-token-types/generate-app-access-tokens-admin",
    ),
    token(
        "KS646",
        "shopify-shared-secret",
        "Shopify app shared secret",
        &["shpss_"],
        r"\b(?P<s>shpss_[a-fA-F0-9]{32})\b",
        "https://shopify.dev/docs/apps/build/authentication-authorization",
    ),
    token(
        "KS647",
        "openai-api-key",
        "OpenAI API key",
        &["T3BlbkFJ"],
        r"\b(?P<s>sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,})",
        "https://platform.openai.com/docs/api-reference/authentication",
    ),
    token(
        "KS648",
        "anthropic-api-key",
        "Anthropic API key",
        &["sk-ant-"],
        r"\b(?P<s>sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,})",
        "https://docs.anthropic.com/en/api/overview#authentication",
    ),
    Detector {
        entropy: Entropy {
            hex: 3.0,
            ..Entropy::NONE
        },
        ..token(
            "KS649",
            "rails-master-key",
            "Rails master key in RAILS_MASTER_KEY",
            &["RAILS_MASTER_KEY"],
            r#"RAILS_MASTER_KEY["']?[ \t]*(?:=|:)[ \t]*["']?(?P<s>[0-9a-f]{32})\b"#,
            "https://guides.rubyonrails.org/security.html#custom-credentials",
        )
    },
    Detector {
        path: Some(r"(?:^|/)config/(?:master|credentials/[A-Za-z0-9_.-]+)\.key$"),
        entropy: Entropy {
            hex: 3.0,
            ..Entropy::NONE
        },
        ..token(
            "KS650",
            "rails-master-key-file",
            "Rails master or credentials key file",
            &[],
            r"\A\s*(?P<s>[0-9a-f]{32})\s*\z",
            "https://guides.rubyonrails.org/security.html#custom-credentials",
        )
    },
    Detector {
        case_sensitive: false,
        entropy: Entropy {
            hex: 3.0,
            ..Entropy::NONE
        },
        ..token(
            "KS651",
            "rails-secret-key-base",
            "Rails secret_key_base",
            &["secret_key_base"],
            r#"(?i:secret_key_base)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<s>[0-9a-f]{64,})\b"#,
            "https://api.rubyonrails.org/classes/Rails/Application.html#method-i-secret_key_base",
        )
    },
    Detector {
        case_sensitive: false,
        allow: &[r"(?i)^(?:password|pass|secret|pw|pwd)$"],
        ..token(
            "KS652",
            "database-url-with-password",
            "database URL with a password",
            &["://"],
            r"\b(?i:postgres|postgresql|mysql|mysql2|mariadb|mongodb|mongodb\+srv|redis|rediss|sqlserver|trilogy|clickhouse|cockroachdb)://[^:/@\s]*:(?P<s>[^@/\s'`]{3,})@[A-Za-z0-9_.\[\]-]",
            "https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING-URIS",
        )
    },
    Detector {
        case_sensitive: false,
        allow: &[r"(?i)^(?:password|pass|secret|pw|pwd|guest)$"],
        ..token(
            "KS653",
            "broker-url-with-password",
            "message broker URL with a password",
            &["://"],
            r"\b(?i:amqp|amqps|nats|kafka|mqtt|mqtts|stomp)://[^:/@\s]*:(?P<s>[^@/\s'`]{3,})@[A-Za-z0-9_.\[\]-]",
            "https://www.rabbitmq.com/docs/uri-spec",
        )
    },
    token(
        "KS654",
        "vault-token",
        "HashiCorp Vault token",
        &["hvs.", "hvb.", "hvr."],
        r"\b(?P<s>hv[sbr]\.[A-Za-z0-9_-]{24,})",
        "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
    ),
    token(
        "KS655",
        "sentry-auth-token",
        "Sentry organization or user auth token",
        &["sntrys_", "sntryu_"],
        r"\b(?P<s>sntrys_[A-Za-z0-9+/=_-]{60,}|sntryu_[a-f0-9]{64})",
        "https://docs.sentry.io/account/auth-tokens/",
    ),
    token(
        "KS656",
        "age-secret-key",
        "age secret key",
        &["AGE-SECRET-KEY-1"],
        r"\b(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
        "https://age-encryption.org/v1#the-x25519-recipient-type",
    ),
    token(
        "KS657",
        "onepassword-service-account-token",
        "1Password service-account token",
        &["ops_eyJ"],
        r"\b(?P<s>ops_eyJ[A-Za-z0-9+/=_-]{100,})",
        "https://developer.1password.com/docs/service-accounts/security/",
    ),
    token(
        "KS658",
        "azure-storage-account-key",
        "Azure storage account key in a connection string",
        &["AccountKey="],
        r"AccountKey=(?P<s>[A-Za-z0-9+/]{86}==)",
        "https://learn.microsoft.com/en-us/azure/storage/common/storage-configure-connection-string",
    ),
    token(
        "KS659",
        "hugging-face-token",
        "Hugging Face access token",
        &["hf_"],
        r"\b(?P<s>hf_[A-Za-z]{34,})\b",
        "https://huggingface.co/docs/hub/security-tokens",
    ),
    token(
        "KS660",
        "linear-api-key",
        "Linear API key",
        &["lin_api_"],
        r"\b(?P<s>lin_api_[A-Za-z0-9]{40})\b",
        "https://linear.app/developers/graphql#personal-api-keys",
    ),
    token(
        "KS661",
        "telegram-bot-token",
        "Telegram bot token",
        &[":AA"],
        r"\b(?P<s>[0-9]{8,10}:AA[A-Za-z0-9_-]{33})(?:[^A-Za-z0-9_-]|$)",
        "https://core.telegram.org/bots/api#authorizing-your-bot",
    ),
    token(
        "KS662",
        "discord-webhook-url",
        "Discord webhook URL",
        &["/api/webhooks/"],
        r"(?P<s>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,})",
        "https://discord.com/developers/docs/resources/webhook",
    ),
    token(
        "KS663",
        "google-oauth-client-secret",
        "Google OAuth client secret",
        &["GOCSPX-"],
        r"\b(?P<s>GOCSPX-[A-Za-z0-9_-]{28})",
        "https://developers.google.com/identity/protocols/oauth2",
    ),
    token(
        "KS664",
        "mailchimp-api-key",
        "Mailchimp API key",
        &["-us"],
        r"\b(?P<s>[0-9a-f]{32}-us[0-9]{1,2})\b",
        "https://mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key",
    ),
    token(
        "KS665",
        "new-relic-user-api-key",
        "New Relic user API key",
        &["NRAK-"],
        r"\b(?P<s>NRAK-[A-Z0-9]{27})\b",
        "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/",
    ),
    token(
        "KS666",
        "databricks-token",
        "Databricks personal access token",
        &["dapi"],
        r"\b(?P<s>dapi[a-f0-9]{32}(?:-[0-9])?)\b",
        "https://docs.databricks.com/en/dev-tools/auth/pat.html",
    ),
    token(
        "KS667",
        "doppler-token",
        "Doppler token",
        &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct."],
        r"\b(?P<s>dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,44})\b",
        "https://docs.doppler.com/docs/token-formats",
    ),
    token(
        "KS668",
        "grafana-service-account-token",
        "Grafana service-account token",
        &["glsa_"],
        r"\b(?P<s>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b",
        "https://grafana.com/docs/grafana/latest/administration/service-accounts/",
    ),
    token(
        "KS669",
        "tailscale-key",
        "Tailscale auth, API or OAuth client key",
        &["tskey-"],
        r"\b(?P<s>tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,}-[A-Za-z0-9]{20,})",
        "https://tailscale.com/kb/1277/key-prefixes",
    ),
    token(
        "KS670",
        "planetscale-token",
        "PlanetScale service token or password",
        &["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
        r"\b(?P<s>pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64})",
        "https://planetscale.com/docs/concepts/service-tokens",
    ),
    token(
        "KS671",
        "fly-io-token",
        "Fly.io access token",
        &["fm1r_", "fm2_", "fo1_"],
        r"\b(?P<s>(?:fm1[ar]|fm2|fo1)_[A-Za-z0-9+/=_-]{40,})",
        "https://fly.io/docs/security/tokens/",
    ),
    token(
        "KS672",
        "postman-api-key",
        "Postman API key",
        &["PMAK-"],
        r"\b(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b",
        "https://learning.postman.com/docs/developer/postman-api/authentication/",
    ),
    token(
        "KS673",
        "pulumi-access-token",
        "Pulumi access token",
        &["pul-"],
        r"\b(?P<s>pul-[a-f0-9]{40})\b",
        "https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/",
    ),
    token(
        "KS674",
        "terraform-cloud-token",
        "HCP Terraform (Terraform Cloud) API token",
        &[".atlasv1."],
        r"\b(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})",
        "https://developer.hashicorp.com/terraform/cloud-docs/users-teams-organizations/api-tokens",
    ),
    Detector {
        case_sensitive: false,
        allow: &[r"(?i)^(?:password|pass|secret|pw|pwd)$"],
        ..token(
            "KS675",
            "url-with-password",
            "HTTP or FTP URL with a password",
            &["://"],
            r"\b(?i:https?|ftps?|sftp|smtps?)://[A-Za-z0-9._%+-]+:(?P<s>[^@/\s'`]{3,})@[A-Za-z0-9_.\[\]-]",
            "https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1",
        )
    },
];

/// The documentation page of a detector, with the headings of every rule
/// page.
pub fn doc(detector: &Detector) -> String {
    let mut keywords: Vec<&str> = detector.keywords.to_vec();
    if keywords.is_empty() {
        keywords.push("(the file's path)");
    }
    format!(
        "## What it does\n\
         Finds a {summary} in any text: a file, a stream, a git blob or a \
         file in an image layer. It looks for the keywords {keywords} and \
         confirms with the pattern\n\n```text\n{pattern}\n```\n\n\
         ## Why is this bad?\n\
         Anyone who reads the text can use the credential until it is \
         revoked. Text is copied: into history, images, logs and backups, \
         where deleting the file does not reach.\n\n\
         ## Example\n\
         A token pasted into `config/initializers/service.rb`, a `.env` \
         committed by mistake, a `docker build --build-arg` that left the \
         value in a layer.\n\n\
         ## Use instead\n\
         Revoke the credential at the provider, then keep the new one \
         sealed: `kseal set NAME -d DEST` and reference it by name.\n\n\
         ## Known problems\n\
         A token split across lines or string concatenations is not found. \
         Placeholders and documentation keys (`EXAMPLE`) are skipped.\n\n\
         ## References\n\
         - {source}\n",
        summary = detector.summary,
        keywords = keywords
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", "),
        pattern = detector.pattern,
        source = detector.source,
    )
}

/// The known-value rule's page.
pub const KNOWN_VALUE_DOC: &str = r#"
## What it does
Finds a value kept in one of the app's sealed stores, as it is or encoded
as `kseal run`'s redactor knows it (base64 and base64url at any alignment,
hex, JSON, shell and env-file escapes, percent encoding), in files,
streams, git history and image layers.
The finding names the secret (`DB_PASSWORD found base64-encoded`); the
value is never printed.

## Why is this bad?
The value is meant to exist in plaintext only in memory while a deploy
runs. A copy in a log, a commit or an image is readable by anyone who can
read that copy, for as long as it exists.

## Example
A CI log that printed `Authorization: Basic ` followed by the base64 of a
sealed password.

## Use instead
Rotate the secret (`kseal set NAME --generate`) and remove the copy; for
logs, run the command under `kseal run`, which redacts its output.

## Known problems
Values shorter than 8 bytes are not searched: they would match everywhere.
Only the stores your identities can open are searched.
"#;

/// The generic rule's page.
pub const GENERIC_DOC: &str = r#"
## What it does
Finds a variable, key or argument whose name says it holds a secret
(`PASSWORD`, `TOKEN`, `SECRET`, `API_KEY`, …) assigned a literal that looks
generated: its Shannon entropy is high for its character set (3.0 bits per
character for hex, so a random 32-hex Rails key is found; 3.5 for letters
and digits; 3.8 for base64).

## Why is this bad?
A literal secret in source is readable by everyone who can read the
repository, now and in its history.

## Example
```sh
STRIPE_TOKEN=9d8Fj2kLm4Nq7Rs1Tv3Wx6Yz0Ab5Cd
```

## Use instead
```sh
STRIPE_TOKEN=$STRIPE_TOKEN   # sealed with `kseal set STRIPE_TOKEN`
```

## Known problems
References (`$VAR`, `${VAR}`, `$(…)`, `op://…`, ERB), placeholders
(`changeme`, `xxxx`, `<your-token>`) and function calls are skipped. A
human-chosen password with low entropy is missed. A variable named just
`key` is not looked at (the word is on most lines of code); `api_key`,
`signing-key` and the like are.
"#;

/// Reporter information for every scan rule.
pub fn rule_infos() -> Vec<RuleInfo> {
    let mut out = vec![
        RuleInfo {
            id: KNOWN_VALUE_CODE.to_owned(),
            name: "known-secret-value".to_owned(),
            summary: "a value from a sealed store appears in plaintext or encoded".to_owned(),
            help: KNOWN_VALUE_DOC.trim().to_owned(),
            level: Level::Error,
        },
        RuleInfo {
            id: GENERIC_CODE.to_owned(),
            name: GENERIC.name.to_owned(),
            summary: GENERIC.summary.to_owned(),
            help: GENERIC_DOC.trim().to_owned(),
            level: Level::Warning,
        },
    ];
    for d in DETECTORS {
        out.push(RuleInfo {
            id: d.code.to_owned(),
            name: d.name.to_owned(),
            summary: d.summary.to_owned(),
            help: doc(d).trim().to_owned(),
            level: Level::Error,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_sourced() {
        for pair in DETECTORS.windows(2) {
            assert!(pair[0].code < pair[1].code, "{}", pair[1].code);
        }
        for d in DETECTORS {
            assert!(d.source.starts_with("https://"), "{}", d.code);
            assert!(!d.keywords.is_empty() || d.path.is_some(), "{}", d.code);
        }
        assert!(DETECTORS.len() >= 40);
    }

    #[test]
    fn entropy_per_charset() {
        // A random 32-hex Rails master key passes; a repeated one does not.
        assert!(Entropy::RANDOM.passes(b"9f2c4e1a7b3d5f60a8c2e4f6b1d3f5a7"));
        assert!(!Entropy::RANDOM.passes(b"abababababababababababababababab"));
        assert!(!Entropy::RANDOM.passes(b"development_environment"));
    }
}
