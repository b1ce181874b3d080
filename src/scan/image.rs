//! Container images: a `docker save` tarball is a tar of layer tars plus
//! JSON (the manifest, the image config with its environment and build
//! history). Every layer's files are scanned, so a secret that a later
//! layer deletes is still found: the lower layer keeps it, and anyone who
//! pulls the image gets it.
//!
//! Both layouts `docker save` writes are read: the classic one
//! (`<id>/layer.tar`) and the OCI one (`blobs/sha256/<digest>`). A member
//! is taken as a layer when it is a tar archive, plain or gzip-compressed
//! (the OCI `tar+gzip` media type, which `docker save` writes when the
//! daemon keeps compressed layers); anything else is scanned as a file.

use std::io::{Cursor, Read};
use std::path::Path;

use anyhow::Context;
use flate2::read::GzDecoder;

use super::Scanner;
use crate::findings::Finding;
use crate::hint::ResultExt;

/// Bytes needed to recognise a tar archive: the `ustar` magic sits at 257.
const TAR_HEADER_BYTES: usize = 512;
/// The first bytes of a gzip stream (RFC 1952, section 2.3.1).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a Zstandard frame (RFC 8878, section 3.1.1).
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Scans the tarball at `path`.
pub fn scan_image(scanner: &Scanner, path: &Path) -> anyhow::Result<Vec<Finding>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("cannot open {}", path.display()))
        .hint("give the file `docker save IMAGE -o FILE` wrote")?;
    let mut outer = tar::Archive::new(file);
    let mut findings = Vec::new();
    let entries = outer
        .entries()
        .with_context(|| format!("{}: not a tar archive", path.display()))
        .hint("give the file `docker save IMAGE -o FILE` wrote")?;
    for entry in entries {
        let mut entry = entry
            .with_context(|| format!("{}: damaged tar archive", path.display()))
            .hint("write it again with `docker save IMAGE -o FILE`")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = entry.path_bytes();
        let member = String::from_utf8_lossy(&member).into_owned();
        let size = entry.size();

        let head = read_head(&mut entry)
            .with_context(|| format!("{}: cannot read {member}", path.display()))?;
        if is_tar(&head) {
            let layer = Cursor::new(head).chain(entry);
            scan_layer(scanner, &member, layer, &mut findings)
                .with_context(|| format!("{}: layer {member}", path.display()))?;
        } else if head.starts_with(&GZIP_MAGIC) {
            let mut layer = GzDecoder::new(Cursor::new(head).chain(entry));
            let inner = read_head(&mut layer)
                .with_context(|| format!("{}: {member}: damaged gzip data", path.display()))?;
            if is_tar(&inner) {
                scan_layer(
                    scanner,
                    &member,
                    Cursor::new(inner).chain(layer),
                    &mut findings,
                )
                .with_context(|| format!("{}: layer {member}", path.display()))?;
            } else {
                log::warn!("{member}: gzip data that is not a layer; skipped");
            }
        } else if head.starts_with(&ZSTD_MAGIC) {
            log::warn!("{member}: zstd-compressed layer; skipped");
        } else {
            if !scanner.admits_size(size) {
                continue;
            }
            let mut data = head;
            entry
                .read_to_end(&mut data)
                .with_context(|| format!("{}: cannot read {member}", path.display()))?;
            if scanner.admits_content(&data) {
                findings.extend(scanner.scan_buffer(&member, &data, Some("image metadata")));
            }
        }
    }
    Ok(findings)
}

/// The first bytes of `reader`, enough to tell a tar archive: fewer if it
/// ends sooner.
fn read_head(reader: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(TAR_HEADER_BYTES);
    reader
        .by_ref()
        .take(TAR_HEADER_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn is_tar(head: &[u8]) -> bool {
    head.len() >= 262 && &head[257..262] == b"ustar"
}

/// Scans every regular file of one layer.
fn scan_layer(
    scanner: &Scanner,
    layer: &str,
    reader: impl Read,
    findings: &mut Vec<Finding>,
) -> anyhow::Result<()> {
    let origin = format!("layer {layer}");
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().context("not a tar archive")? {
        let mut entry = entry.context("damaged tar archive")?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path_bytes();
        let path = String::from_utf8_lossy(&path).into_owned();
        // A whiteout file marks a deletion and holds nothing.
        if path
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".wh."))
        {
            continue;
        }
        if !scanner.admits_size(entry.size()) {
            continue;
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut data)
            .with_context(|| format!("cannot read {path}"))?;
        if scanner.admits_content(&data) {
            findings.extend(scanner.scan_buffer(&path, &data, Some(&origin)));
        }
    }
    Ok(())
}
