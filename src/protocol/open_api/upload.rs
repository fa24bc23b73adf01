//! 字符串/文件流上传 — the string / file-stream upload of online License (spec:
//! koogallery-v2-kit-license.md §4.6): a `multipart/form-data` POST with an
//! `isvUpdateFileReq` JSON part and, for files, a `file` part.

use serde::{Deserialize, Serialize};

/// The CBC public codes the upload answers with (§4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UploadCode {
    /// 200 `CBC.0000`.
    Success,
    /// 400 `CBC.0101` invalid parameter.
    InvalidParameter,
    /// 403 `CBC.0150` illegal operation (no such event for this merchant).
    IllegalOperation,
}

impl UploadCode {
    /// HTTP status, `error_code`, `error_msg`.
    pub(crate) fn answer(self) -> (u16, &'static str, &'static str) {
        match self {
            Self::Success => (200, "CBC.0000", "Success"),
            Self::InvalidParameter => (400, "CBC.0101", "Invalid parameter"),
            Self::IllegalOperation => (403, "CBC.0150", "Illegal operation"),
        }
    }
}

/// The `isvUpdateFileReq` part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UpdateFileRequest {
    /// `CHARACTERS` or `FILE` (M 10).
    #[serde(rename = "type")]
    pub(crate) kind: String,
    /// Required for `FILE` (O 1024).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) file_name: Option<String>,
    /// Hex SHA-256 of the file, required for `FILE` (O 1024).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) sha256: Option<String>,
    /// The License text, required for `CHARACTERS` (O 1024).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) characters: Option<String>,
}

impl UpdateFileRequest {
    /// What is wrong with the part on its own, given the file part's bytes when there was one.
    pub(crate) fn problem(&self, file: Option<&[u8]>) -> Option<String> {
        match self.kind.as_str() {
            "CHARACTERS" => match &self.characters {
                None => Some("type CHARACTERS needs `characters`".to_owned()),
                Some(text) if text.chars().count() > 1024 => {
                    Some("`characters` is longer than 1024 characters".to_owned())
                }
                Some(_) => None,
            },
            "FILE" => {
                let (Some(_), Some(sha256), Some(bytes)) = (&self.file_name, &self.sha256, file)
                else {
                    return Some(
                        "type FILE needs `file_name`, `sha256` and a `file` part".to_owned(),
                    );
                };
                let actual = hex::encode(crate::protocol::digest::sha256(bytes));
                (!actual.eq_ignore_ascii_case(sha256))
                    .then(|| format!("`sha256` is {sha256}, the file's is {actual}"))
            }
            other => Some(format!("`type` is `{other}`, not CHARACTERS or FILE")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_part_must_match_its_hash() {
        let hash = hex::encode(crate::protocol::digest::sha256(b"license"));
        let ok = UpdateFileRequest {
            kind: "FILE".into(),
            file_name: Some("l.lic".into()),
            sha256: Some(hash),
            characters: None,
        };
        assert_eq!(ok.problem(Some(b"license")), None);
        assert!(
            ok.problem(Some(b"other"))
                .unwrap()
                .contains("the file's is")
        );
        assert!(ok.problem(None).is_some());
        let text = UpdateFileRequest {
            kind: "CHARACTERS".into(),
            file_name: None,
            sha256: None,
            characters: Some("abc".into()),
        };
        assert_eq!(text.problem(None), None);
    }
}
