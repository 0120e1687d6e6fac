//! `strobe serve --relay PREFIX`: `/relay?url=…` fetches a recording from a host that sends
//! no CORS headers and hands it to the page with them, keeping the Range semantics (the
//! upstream's `206`, `Content-Range`, `ETag`, `416` pass through unchanged).
//!
//! A relay is an open door into whatever network the machine sits on, so it only goes where
//! the operator said: a URL is relayed only when it lies under one of the given prefixes
//! (same scheme, host and port, path under the prefix's directory); a redirect is followed
//! only when its target does too; and a host name is never connected to a loopback, private
//! or link-local address, unless a prefix names that address (or `localhost`) itself.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;

/// Redirects followed per request (each must stay under an allowed prefix).
const MAX_REDIRECTS: usize = 5;

/// Request headers passed on to the upstream: what range reads and revalidation need.
const FORWARDED_REQUEST: [header::HeaderName; 5] = [
    header::RANGE,
    header::IF_RANGE,
    header::IF_MATCH,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
];

/// Response headers passed back to the page.
const FORWARDED_RESPONSE: [header::HeaderName; 8] = [
    header::CONTENT_TYPE,
    header::CONTENT_LENGTH,
    header::CONTENT_RANGE,
    header::CONTENT_ENCODING,
    header::ACCEPT_RANGES,
    header::ETAG,
    header::LAST_MODIFIED,
    header::CACHE_CONTROL,
];

/// One allowed prefix, parsed.
#[derive(Debug, Clone)]
struct Prefix {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// Always ends with `/`: `https://h/data` allows `https://h/data/…`, not `/database`.
    path: String,
}

/// The relay: its allowed prefixes and the client that reaches them.
#[derive(Debug)]
pub struct Relay {
    prefixes: Vec<Prefix>,
    client: reqwest::Client,
}

impl Relay {
    /// A relay for `prefixes` (`https://host/path/`); refuses prefixes that are not plain
    /// http(s) URLs with a host.
    pub fn new(prefixes: &[String]) -> Result<Relay, String> {
        let mut parsed = Vec::new();
        for text in prefixes {
            let url = Url::parse(text.trim()).map_err(|e| {
                format!("--relay {text}: not a URL ({e}) — write e.g. https://host/path/")
            })?;
            if url.scheme() != "http" && url.scheme() != "https" {
                return Err(format!(
                    "--relay {text}: only http:// and https:// prefixes can be relayed"
                ));
            }
            let Some(host) = url.host_str() else {
                return Err(format!(
                    "--relay {text}: no host — write e.g. https://host/path/"
                ));
            };
            if !url.username().is_empty() || url.password().is_some() {
                return Err(format!(
                    "--relay {text}: credentials in a prefix are not allowed"
                ));
            }
            let mut path = url.path().to_string();
            if !path.ends_with('/') {
                path.push('/');
            }
            parsed.push(Prefix {
                scheme: url.scheme().to_string(),
                host: host.to_ascii_lowercase(),
                port: url.port_or_known_default(),
                path,
            });
        }
        let named: Vec<String> = parsed.iter().map(|p| p.host.clone()).collect();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PublicOnly { named }))
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30))
            .no_proxy()
            .build()
            .map_err(|e| format!("relay: cannot set up the HTTP client: {e}"))?;
        Ok(Relay {
            prefixes: parsed,
            client,
        })
    }

    /// Whether `url` lies under an allowed prefix; the refusal says why.
    fn check(&self, url: &Url) -> Result<(), String> {
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!(
                "{url}: only http(s) URLs are relayed, not {}://",
                url.scheme()
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("{url}: URLs with credentials are not relayed"));
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let port = url.port_or_known_default();
        let under = self.prefixes.iter().any(|p| {
            p.scheme == url.scheme()
                && p.host == host
                && p.port == port
                && url.path().starts_with(&p.path)
        });
        if under {
            Ok(())
        } else {
            Err(format!(
                "{url} is not under a prefix this relay allows — start strobe serve with --relay for its directory"
            ))
        }
    }

    /// Answers `/relay?<query>`: the upstream's answer to the same GET/HEAD, or `403` for a
    /// URL (or a redirect) outside the allowed prefixes, or `502` when the upstream fails.
    pub async fn handle(
        &self,
        query: Option<&str>,
        headers: &HeaderMap,
        head: bool,
    ) -> Response<Body> {
        let Some(target) = query.and_then(url_param) else {
            return text(
                StatusCode::BAD_REQUEST,
                "give the recording's URL: /relay?url=https%3A%2F%2Fhost%2Fpath%2Fevents.h5".into(),
            );
        };
        let mut url = match Url::parse(&target) {
            Ok(u) => u,
            Err(e) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!("{target}: not a URL ({e})"),
                )
            }
        };
        url.set_fragment(None);
        let mut forwarded = reqwest::header::HeaderMap::new();
        for name in FORWARDED_REQUEST {
            for value in headers.get_all(&name) {
                forwarded.append(name.clone(), value.clone());
            }
        }
        forwarded.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        for _ in 0..=MAX_REDIRECTS {
            if let Err(why) = self.check(&url) {
                return text(StatusCode::FORBIDDEN, why);
            }
            let request = if head {
                self.client.head(url.clone())
            } else {
                self.client.get(url.clone())
            };
            let resp = match request.headers(forwarded.clone()).send().await {
                Ok(r) => r,
                Err(e) => {
                    return text(
                        StatusCode::BAD_GATEWAY,
                        format!("{url}: the relay could not fetch it: {}", error_chain(&e)),
                    )
                }
            };
            if resp.status().is_redirection() {
                let next = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|loc| url.join(loc).ok());
                match next {
                    Some(next) => {
                        url = next;
                        continue;
                    }
                    None => {
                        return text(
                            StatusCode::BAD_GATEWAY,
                            format!("{url}: redirect without a usable Location"),
                        )
                    }
                }
            }
            return relayed(resp, head);
        }
        text(
            StatusCode::BAD_GATEWAY,
            format!("{url}: more than {MAX_REDIRECTS} redirects"),
        )
    }
}

/// The upstream's status, range headers and body, streamed.
fn relayed(resp: reqwest::Response, head: bool) -> Response<Body> {
    let status = resp.status();
    let mut headers = HeaderMap::new();
    for name in FORWARDED_RESPONSE {
        for value in resp.headers().get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    let body = if head {
        Body::empty()
    } else {
        Body::from_stream(resp.bytes_stream())
    };
    let mut out = Response::new(body);
    *out.status_mut() = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    *out.headers_mut() = headers;
    out
}

/// The `url` parameter of a query string, percent-decoded.
fn url_param(query: &str) -> Option<String> {
    let base = Url::parse(&format!("http://relay/?{query}")).ok()?;
    let found = base
        .query_pairs()
        .find(|(k, _)| k == "url")
        .map(|(_, v)| v.into_owned());
    found
}

fn text(status: StatusCode, message: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(format!("{message}\n")));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Resolves host names but drops every address that is not public (loopback, private,
/// link-local, ...) unless the host is `localhost` and a prefix names it: a public name that
/// resolves (or is re-pointed) to an inside address is refused at connect time, not before.
#[derive(Debug)]
struct PublicOnly {
    named: Vec<String>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let inside_ok = host == "localhost" && self.named.iter().any(|n| n == "localhost");
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = all
                .into_iter()
                .filter(|a| inside_ok || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to loopback/private addresses, which the relay does not reach unless a --relay prefix names the address"
                )
                .into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// An address on the public internet (not loopback, private, link-local, shared, multicast,
/// documentation or unspecified).
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(prefixes: &[&str]) -> Relay {
        Relay::new(&prefixes.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("relay")
    }

    fn allowed(r: &Relay, url: &str) -> bool {
        r.check(&Url::parse(url).expect("url")).is_ok()
    }

    #[test]
    fn only_urls_under_a_prefix_are_allowed() {
        let r = relay(&["https://data.example.org/dsec"]);
        assert!(allowed(&r, "https://data.example.org/dsec/train/events.h5"));
        assert!(allowed(&r, "https://DATA.example.org:443/dsec/x.h5?sig=1"));
        assert!(
            !allowed(&r, "https://data.example.org/dsec2/x.h5"),
            "sibling directory"
        );
        assert!(
            !allowed(&r, "https://data.example.org/dsec/../etc/passwd"),
            "dot segments"
        );
        assert!(
            !allowed(&r, "https://data.example.org/dsec/%2e%2e/etc"),
            "encoded dots"
        );
        assert!(
            !allowed(&r, "http://data.example.org/dsec/x.h5"),
            "other scheme"
        );
        assert!(
            !allowed(&r, "https://data.example.org:8443/dsec/x.h5"),
            "other port"
        );
        assert!(
            !allowed(&r, "https://evil.example.org/dsec/x.h5"),
            "other host"
        );
        assert!(
            !allowed(&r, "https://data.example.org.evil.io/dsec/x.h5"),
            "suffix host"
        );
        assert!(
            !allowed(&r, "https://u:p@data.example.org/dsec/x.h5"),
            "credentials"
        );
        assert!(!allowed(&r, "file:///dsec/x.h5"));
    }

    #[test]
    fn bad_prefixes_are_refused() {
        for p in ["ftp://h/x/", "not a url", "https://u:p@h/x/"] {
            assert!(Relay::new(&[p.to_string()]).is_err(), "{p}");
        }
    }

    #[test]
    fn inside_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn the_url_parameter_is_decoded() {
        assert_eq!(
            url_param("url=https%3A%2F%2Fh%2Fa%20b.h5%3Fx%3D1&y=2").as_deref(),
            Some("https://h/a b.h5?x=1")
        );
        assert_eq!(url_param("x=1"), None);
    }
}
