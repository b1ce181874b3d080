//! Any bytes given as a sealed file parse, or fail with an error whose line
//! lies inside the input.

#![no_main]

use kseal::store::format::SealedFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = SealedFile::parse(data) {
        let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
        assert!(e.line <= lines, "error line {} of {lines}", e.line);
        let _ = e.to_string();
    }
});
