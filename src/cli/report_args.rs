//! Options shared by the commands that report findings (`check`, `scan`):
//! output format, colour and the baseline.

use kseal::findings::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Colour in the human format: auto (on a terminal, unless NO_COLOR
    /// is set), always or never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    /// Write every current finding to the baseline file, so later runs
    /// report only new ones; exits 0.
    #[arg(long)]
    pub write_baseline: bool,

    /// Baseline file (default: `baseline` in .kseal.toml, else
    /// .kseal-baseline.json).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<String>,

    /// Report findings the baseline lists, too.
    #[arg(long, conflicts_with = "write_baseline")]
    pub no_baseline: bool,
}

/// When the human format uses colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl ReportArgs {
    /// Whether to colour the human format on stdout.
    pub fn use_color(&self) -> bool {
        match self.color {
            Color::Auto => findings::color_for_stdout(),
            Color::Always => true,
            Color::Never => false,
        }
    }
}
