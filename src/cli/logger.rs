//! A small stderr logger behind the `log` facade: warnings by default,
//! `--debug` and `--trace` for more. Secret values never reach it; log lines
//! name keys and files only.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

use super::Global;

struct Logger;

static LOGGER: Logger = Logger;

pub fn init(global: &Global) {
    let level = if global.trace {
        LevelFilter::Trace
    } else if global.debug {
        LevelFilter::Debug
    } else {
        LevelFilter::Warn
    };
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let label = match record.level() {
            Level::Error => "error",
            Level::Warn => "warning",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "kseal: {label}: {}",
            record.args()
        );
    }

    fn flush(&self) {}
}
