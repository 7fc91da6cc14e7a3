//! Text placed into HTML the server writes (the web chat page, the web chat embedding code).

/// `text` with HTML's special characters escaped, safe in element content and quoted attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
