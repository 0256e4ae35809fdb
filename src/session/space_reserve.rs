//! Space held back on the session's disk, so that a disk that fills up can still
//! record how the session stopped.
//!
//! A recorder keeps a small file of zeros (`.space-reserve`) in the session folder while
//! it records. When a write fails, the reserve is deleted first: its blocks are then
//! free for the last metadata rewrite (status `Stopped` with the reason) and the note
//! in `events.jsonl`. Without it, a full disk left `session.ron` saying `Recording`.

use std::io::Write;
use std::path::Path;

pub const RESERVE_FILE: &str = ".space-reserve";

/// The least space held back, bytes (a metadata rewrite and a few event lines).
const MIN_RESERVE_BYTES: usize = 64 * 1024;

/// Writes the reserve: twice the metadata's size, at least 64 KiB. Best effort: a disk
/// that is already too full keeps no reserve (and no partial file).
pub fn hold(root: &Path, metadata_bytes: usize) {
    let path = root.join(RESERVE_FILE);
    let bytes = MIN_RESERVE_BYTES.max(metadata_bytes.saturating_mul(2));
    let written = std::fs::File::create(&path).and_then(|mut file| {
        let zeros = vec![0_u8; 64 * 1024];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(zeros.len());
            file.write_all(&zeros[..n])?;
            left -= n;
        }
        file.sync_all()
    });
    if let Err(e) = written {
        tracing::warn!("{}: no space reserve: {e}", path.display());
        let _ = std::fs::remove_file(&path);
    }
}

/// Deletes the reserve, freeing its space; false when there was none.
pub fn release(root: &Path) -> bool {
    std::fs::remove_file(root.join(RESERVE_FILE)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_at_least_64_kib_and_twice_the_metadata() {
        let dir = tempfile::tempdir().unwrap();
        hold(dir.path(), 100);
        let path = dir.path().join(RESERVE_FILE);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * 1024);
        hold(dir.path(), 100_000);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 200_000);
        assert!(release(dir.path()));
        assert!(!path.exists());
        assert!(!release(dir.path()));
    }
}
