//! Tracker URLs, parsed with the `url` crate.

/// A tracker URL that is not `udp://host:port[/path?query]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad tracker URL {url:?}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A parsed `udp://host:port[/path?query]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackerUrl {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// UDP port.
    pub port: u16,
    /// Path and query (BEP 41 URL data), empty when absent.
    pub path: String,
}

impl TrackerUrl {
    /// Parses a tracker URL (WHATWG rules through the `url` crate: IPv6 hosts in brackets,
    /// percent-encoding kept as written in the path and query).
    ///
    /// # Errors
    ///
    /// [`UrlError`] unless the scheme is `udp`, with a host and an explicit port.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let bad = |reason| UrlError {
            url: url.to_string(),
            reason,
        };
        let u = ::url::Url::parse(url).map_err(|_| bad("not a URL"))?;
        if u.scheme() != "udp" {
            return Err(bad("scheme is not udp"));
        }
        let host = match u.host() {
            Some(::url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(::url::Host::Ipv4(a)) => a.to_string(),
            Some(::url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(bad("no host")),
        };
        let port = u.port().ok_or_else(|| bad("no port"))?;
        let mut path = u.path().to_string();
        if path == "/" && !url.trim_end().ends_with('/') {
            // `url` normalises an absent path to "/"; no URL data was given.
            path.clear();
        }
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(TrackerUrl { host, port, path })
    }

    /// The path and query as BEP 41 URL data, `None` when empty.
    pub fn url_data(&self) -> Option<Vec<u8>> {
        (!self.path.is_empty()).then(|| self.path.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let u = TrackerUrl::parse("udp://tracker.example.com:80/dir?a=b&c=d").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("tracker.example.com", 80, "/dir?a=b&c=d")
        );
        let u = TrackerUrl::parse("udp://[::1]:6969").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("::1", 6969, "")
        );
        let u = TrackerUrl::parse("udp://1.2.3.4:1?x").unwrap();
        assert_eq!(u.path, "?x");
        for bad in [
            "udp://host",
            "http://h:1/",
            "udp://:80",
            "nonsense",
            "udp://h:99999",
        ] {
            assert!(TrackerUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
