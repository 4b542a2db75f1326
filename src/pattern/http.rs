//! The one HTTP request of the pattern commands: a conditional GET of an
//! image's published base schema.
//!
//! Below [`super::schema`]: a blocking `ureq` client over rustls that
//! verifies certificates against the operating system's trust store (the
//! cause of ibek#364 was a Python whose compiled-in CA path did not exist),
//! follows redirects (GitHub release assets redirect to their CDN), gives
//! up after a bounded time, and goes through the proxy the command line
//! found in `HTTPS_PROXY` / `HTTP_PROXY` unless `NO_PROXY` names the host.

use std::time::Duration;

use ureq::tls::{RootCerts, TlsConfig};

/// Proxy and timeout settings, read from the environment by the command line.
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// `HTTPS_PROXY` (or `https_proxy`).
    pub https_proxy: Option<String>,
    /// `HTTP_PROXY` (or `http_proxy`).
    pub http_proxy: Option<String>,
    /// `NO_PROXY` (or `no_proxy`): hosts reached directly.
    pub no_proxy: Option<String>,
    /// Seconds before the request is abandoned (ibek: 10).
    pub timeout_secs: u64,
}

/// A response worth keeping: its body and its cache validators.
#[derive(Debug)]
pub enum Response {
    /// 200 with the body, `ETag` and `Last-Modified` when sent.
    Body {
        /// The bytes.
        body: Vec<u8>,
        /// `[("ETag", ..), ("Last-Modified", ..)]`, those present.
        validators: Vec<(String, String)>,
    },
    /// 304: the cached copy is current.
    NotModified,
}

/// Why the request brought no body.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// 404 or 410: nothing is published there.
    #[error("could not fetch {url}: HTTP Error {status}: {reason}")]
    NotPublished {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// Any other failure, which may be transient.
    #[error("could not fetch {url}: {reason}")]
    Transient {
        /// The URL.
        url: String,
        /// What happened.
        reason: String,
    },
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(stripped) = authority.strip_prefix('[') {
        return stripped.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// Whether `NO_PROXY` exempts `host` (`*`, exact names, and domain suffixes
/// with or without a leading dot, as curl and Python's urllib read it).
pub fn bypasses_proxy(no_proxy: Option<&str>, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    no_proxy.unwrap_or("").split(',').any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        if entry == "*" {
            return true;
        }
        let entry = entry.split(':').next().unwrap_or("");
        let entry = entry.trim_start_matches('.');
        !entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}")))
    })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// GETs `url` with extra request headers.
pub fn get(
    url: &str,
    headers: &[(&str, String)],
    settings: &HttpSettings,
) -> Result<Response, FetchError> {
    let transient = |reason: String| FetchError::Transient {
        url: url.to_string(),
        reason,
    };
    let proxy_url = if url.starts_with("https://") {
        settings.https_proxy.as_deref()
    } else {
        settings.http_proxy.as_deref()
    }
    .filter(|p| !p.is_empty() && !bypasses_proxy(settings.no_proxy.as_deref(), host_of(url)));
    let proxy = match proxy_url {
        Some(p) => {
            Some(ureq::Proxy::new(p).map_err(|e| transient(format!("invalid proxy `{p}`: {e}")))?)
        }
        None => None,
    };
    let timeout = Duration::from_secs(if settings.timeout_secs == 0 {
        10
    } else {
        settings.timeout_secs
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .proxy(proxy)
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::PlatformVerifier)
                .build(),
        )
        .build()
        .into();
    let mut req = agent.get(url);
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let mut resp = req
        .call()
        .map_err(|e| transient(format!("<urlopen error {e}>")))?;
    let status = resp.status().as_u16();
    if status == 304 {
        return Ok(Response::NotModified);
    }
    if !(200..300).contains(&status) {
        let reason = resp
            .status()
            .canonical_reason()
            .unwrap_or_else(|| reason_phrase(status))
            .to_string();
        if status == 404 || status == 410 {
            return Err(FetchError::NotPublished {
                url: url.to_string(),
                status,
                reason,
            });
        }
        return Err(transient(format!("HTTP Error {status}: {reason}")));
    }
    let mut validators = Vec::new();
    for key in ["ETag", "Last-Modified"] {
        if let Some(v) = resp.headers().get(key).and_then(|v| v.to_str().ok()) {
            if !v.is_empty() {
                validators.push((key.to_string(), v.to_string()));
            }
        }
    }
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| transient(format!("<urlopen error {e}>")))?;
    Ok(Response::Body { body, validators })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        assert!(bypasses_proxy(
            Some("localhost,.example.com"),
            "a.example.com"
        ));
        assert!(bypasses_proxy(Some("example.com"), "example.com"));
        assert!(bypasses_proxy(Some("*"), "github.com"));
        assert!(!bypasses_proxy(Some("example.com"), "github.com"));
        assert!(!bypasses_proxy(None, "github.com"));
        assert_eq!(host_of("https://user@github.com:443/a"), "github.com");
        assert_eq!(host_of("http://127.0.0.1:8000/x"), "127.0.0.1");
    }
}
