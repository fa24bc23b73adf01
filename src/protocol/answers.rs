//! Answer types the two SaaS protocols share: the bare result and `appInfo`.

use crate::protocol::fields::text;
use crate::protocol::fields::wire_message;

wire_message! {
    /// `appInfo` in V1 newInstance and queryInstance answers (V1 §4.1) and V2 queryInstance
    /// answers (V2 §2.2). V1 encrypts `userName`/`password` (V1 §3); V2 sends them in clear.
    pub(crate) struct AppInfo {
        /// The site URL.
        front_end_url: String = "frontEndUrl", Mandatory, text(512);
        /// The admin console URL.
        admin_url: Option<String> = "adminUrl", Optional, text(512);
        /// Admin account; in V1 encrypted, 128 measured on the ciphertext with its IV.
        user_name: Option<String> = "userName", Optional, text(128);
        /// Initial password; in V1 encrypted, 128 on the ciphertext with its IV.
        password: Option<String> = "password", Optional, text(128);
        /// Free text; Chinese as `\uXXXX`.
        memo: Option<String> = "memo", Optional, text(1024);
    }
}

wire_message! {
    /// The answer to every call but newInstance and queryInstance, in both protocols.
    pub(crate) struct ResultResponse {
        /// Six-digit result code.
        result_code: String = "resultCode", Mandatory, text(6);
        /// Free text; optional in the tables, but the console requires its presence
        /// (V1 §1, V2 §1.1 and §8.3).
        result_msg: Option<String> = "resultMsg", ConsoleMandatory, text(255);
    }
}
