//! Files botyard keeps for a while: uploads waiting to be imported and archives waiting to be
//! downloaded.

use crate::ids::WorkspaceId;
use crate::time::Timestamp;

/// A stored file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    /// 24 hexadecimal digits, like the Kore.ai file ids clients expect.
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// Without the dot: `json`, `zip`, `png`, `js`, `csv`.
    pub extension: String,
    /// What the file is for (`bulkImport`, `export`).
    pub context: String,
    /// SHA-1 of the content, in hexadecimal.
    pub hash: String,
    pub content: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}
