//! 字符串/文件流上传 (spec: koogallery-v2-kit-license.md §4.6): a License handed back for a
//! marketplace event, as text or as a file with its SHA-256.

use crate::checks::CheckId;
use crate::open_api::book::State;
use crate::open_api::ops::Reply;
use crate::protocol::open_api::upload::{UpdateFileRequest, UploadCode};

/// The parts of a `multipart/form-data` body that matter.
#[derive(Debug, Default)]
pub(crate) struct Parts {
    /// The `isvUpdateFileReq` part.
    pub(crate) request: Option<Vec<u8>>,
    /// The `file` part.
    pub(crate) file: Option<Vec<u8>>,
}

/// Answers an upload for `event_id`.
pub(crate) fn answer(state: &mut State, event_id: &str, parts: Result<Parts, String>) -> Reply {
    let refused = |code: UploadCode, message: String| {
        Reply::envelope(code.answer())
            .finding(CheckId::OpenApiRequest, message)
            .about([event_id.to_owned()])
    };
    if !state.events.contains_key(event_id) {
        return refused(
            UploadCode::IllegalOperation,
            format!("no marketplace event `{event_id}` awaits a License"),
        );
    }
    let parts = match parts {
        Ok(parts) => parts,
        Err(why) => return refused(UploadCode::InvalidParameter, why),
    };
    let Some(request) = parts.request else {
        return refused(
            UploadCode::InvalidParameter,
            "no `isvUpdateFileReq` part (application/json)".into(),
        );
    };
    let request: UpdateFileRequest = match serde_json::from_slice(&request) {
        Ok(request) => request,
        Err(e) => {
            return refused(
                UploadCode::InvalidParameter,
                format!("`isvUpdateFileReq` is not the documented JSON ({e})"),
            );
        }
    };
    match request.problem(parts.file.as_deref()) {
        Some(problem) => refused(UploadCode::InvalidParameter, problem),
        None => {
            // What the License was, to compare repeated applications (§4.5: the same
            // request yields the same License).
            let content = request
                .characters
                .clone()
                .or_else(|| {
                    request
                        .sha256
                        .clone()
                        .map(|sha| format!("sha256:{}", sha.to_ascii_lowercase()))
                })
                .unwrap_or_default();
            state
                .uploads
                .entry(event_id.to_owned())
                .or_default()
                .push(content);
            Reply::envelope(UploadCode::Success.answer()).about([event_id.to_owned()])
        }
    }
}
