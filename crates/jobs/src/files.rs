//! Files in and out: storing uploads and archives, and reading and writing ZIP archives with the
//! checks an archive from anyone needs — entry count, sizes as declared and as actually unpacked,
//! compression ratio (zip bombs) and paths (no absolute paths, no `..`).

use std::io::{Cursor, Read, Write};

use botyard_domain::{Error, ErrorCode, Result, Timestamp, WorkspaceId};
use botyard_store::StoredFile;
use sha1::{Digest, Sha1};

use crate::Jobs;

/// Most entries an archive may have.
pub const MAX_ENTRIES: usize = 10_000;
/// An entry may unpack to at most this many times its packed size (above 1 MiB unpacked).
pub const MAX_RATIO: u64 = 200;

/// A file to store: its id is new, its hash computed.
pub fn new_file(
    jobs: &Jobs,
    workspace: &WorkspaceId,
    name: &str,
    extension: &str,
    context: &str,
    content: Vec<u8>,
) -> StoredFile {
    StoredFile {
        id: Jobs::new_file_id(),
        workspace_id: workspace.clone(),
        name: name.to_owned(),
        extension: extension.to_owned(),
        context: context.to_owned(),
        hash: sha1_hex(&content),
        content,
        created_at: Timestamp::now(),
        expires_at: jobs.file_expiry(),
    }
}

pub fn sha1_hex(content: &[u8]) -> String {
    hex::encode(Sha1::digest(content))
}

/// One file of an archive.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// A relative path with `/` separators, checked.
    pub path: String,
    pub content: Vec<u8>,
}

/// Reads every file of a ZIP archive, refusing unsafe paths and anything that would unpack to
/// more than `max_unpacked` bytes in all.
pub fn read_zip(bytes: &[u8], max_unpacked: u64) -> Result<Vec<Entry>> {
    let bad = |message: String| Error::invalid(message);
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(format!("Not a valid ZIP archive: {e}")))?;
    if archive.len() > MAX_ENTRIES {
        return Err(Error::limit(format!("The archive has more than {MAX_ENTRIES} files")));
    }
    let mut total = 0u64;
    let mut entries = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| bad(format!("Cannot read the archive: {e}")))?;
        if file.is_dir() {
            continue;
        }
        let raw_name = String::from_utf8_lossy(file.name_raw()).into_owned();
        let path = safe_path(&raw_name)
            .ok_or_else(|| bad(format!("The archive holds an unsafe path: {raw_name}")))?;
        let declared = file.size();
        let packed = file.compressed_size().max(1);
        if declared > 1024 * 1024 && declared / packed > MAX_RATIO {
            return Err(Error::limit(format!(
                "{path} unpacks {}x its packed size: refused as a zip bomb",
                declared / packed
            )));
        }
        let room = max_unpacked.saturating_sub(total);
        let mut content = Vec::with_capacity(declared.min(room) as usize);
        // Read at most one byte more than allowed, whatever the header declares.
        (&mut file)
            .take(room + 1)
            .read_to_end(&mut content)
            .map_err(|e| bad(format!("Cannot unpack {path}: {e}")))?;
        total += content.len() as u64;
        if total > max_unpacked {
            return Err(Error::new(
                ErrorCode::LimitExceeded,
                format!("The archive unpacks to more than {} MiB", max_unpacked / (1024 * 1024)),
            ));
        }
        entries.push(Entry { path, content });
    }
    Ok(entries)
}

/// A relative path inside an archive or repository, or `None` when it could escape: absolute,
/// with `..`, backslashes, drive letters or NUL.
pub fn safe_path(raw: &str) -> Option<String> {
    if raw.is_empty() || raw.starts_with('/') || raw.contains('\\') || raw.contains('\0') || raw.contains(':')
    {
        return None;
    }
    let parts: Vec<&str> = raw.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.is_empty() || parts.contains(&"..") {
        return None;
    }
    Some(parts.join("/"))
}

/// Writes a ZIP archive (deflate).
pub fn write_zip(entries: &[Entry]) -> Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for entry in entries {
        writer.start_file(entry.path.as_str(), options).map_err(|e| Error::internal(format!("zip: {e}")))?;
        writer.write_all(&entry.content).map_err(|e| Error::internal(format!("zip: {e}")))?;
    }
    let cursor = writer.finish().map_err(|e| Error::internal(format!("zip: {e}")))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_are_refused() {
        assert_eq!(safe_path("a/b.js").as_deref(), Some("a/b.js"));
        assert_eq!(safe_path("./a//b.js").as_deref(), Some("a/b.js"));
        for bad in ["/etc/passwd", "../x", "a/../../x", "C:/x", "a\\b", ""] {
            assert_eq!(safe_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn archives_round_trip_and_bombs_are_refused() {
        let entries = vec![Entry { path: "a.txt".into(), content: b"hello".to_vec() }];
        let bytes = write_zip(&entries).unwrap();
        assert_eq!(read_zip(&bytes, 1024).unwrap(), entries);
        let bomb = write_zip(&[Entry { path: "zeros".into(), content: vec![0; 8 * 1024 * 1024] }]).unwrap();
        assert!(bomb.len() < 100 * 1024);
        let refused = read_zip(&bomb, 100 * 1024 * 1024).unwrap_err();
        assert!(refused.message.contains("zip bomb"), "{}", refused.message);
        let too_big = read_zip(&write_zip(&entries).unwrap(), 3).unwrap_err();
        assert_eq!(too_big.code, ErrorCode::LimitExceeded);
    }
}
