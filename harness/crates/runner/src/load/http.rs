//! The load generator's HTTP: one pooled client, operation URLs, and bodies read with a cap.

use std::time::Duration;

use super::LoadError;

/// Largest answer body read from a server (micromdm caps requests at 2 MiB; a CertRep or a
/// GetCACert answer is a few KB).
pub(super) const MAX_BODY: usize = 4 * 1024 * 1024;

/// The client every phase uses: keep-alive pool, no proxy, `timeout` per request.
pub(super) fn client(timeout: Duration) -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .map_err(LoadError::Client)
}

/// `url` with `?operation=OP` (or `&operation=OP` when it has a query already), plus
/// `&message=…` (percent-encoded) when given.
pub(super) fn operation_url(url: &str, op: &str, message: Option<&str>) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = format!("{url}{sep}operation={op}");
    if let Some(m) = message {
        out.push_str("&message=");
        for b in m.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub(super) enum BodyError {
    /// The connection failed while reading.
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    /// More than [`MAX_BODY`] bytes.
    #[error("answer larger than {MAX_BODY} bytes")]
    TooLarge,
}

/// Reads a body, refusing more than [`MAX_BODY`] bytes.
pub(super) async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, BodyError> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > MAX_BODY))
    {
        return Err(BodyError::TooLarge);
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if out.len().saturating_add(chunk.len()) > MAX_BODY {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_urls_escape_base64() {
        assert_eq!(
            operation_url("http://h/scep", "GetCACaps", None),
            "http://h/scep?operation=GetCACaps"
        );
        assert_eq!(
            operation_url("http://h/x?a=1", "PKIOperation", Some("ab+/=")),
            "http://h/x?a=1&operation=PKIOperation&message=ab%2B%2F%3D"
        );
    }
}
