//! SDPP endpoints: `ws://` or `wss://` URLs whose host is a public name or
//! address. Private, loopback, link-local and other non-public hosts only
//! when the owner allows them (`allow_private_endpoints`, for local and test
//! networks); unspecified, multicast and reserved addresses never.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::error::ContractError;

pub const ENDPOINT_MAX: usize = 256;

/// Whether a host can be reached from the public internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    Public,
    /// Loopback, private, shared (CGNAT), link-local, unique-local,
    /// documentation and benchmarking ranges; single-label names and the
    /// local-only domains (`localhost`, `.local`, `.internal`, …).
    NonPublic,
}

const NEVER_A_SERVER: &str = "unspecified, multicast, broadcast or reserved address";

/// An SDPP endpoint: `ws://` or `wss://`, a host name, IPv4 or bracketed
/// IPv6 address, an optional port and path; no spaces, user info or
/// fragment. Non-public hosts pass only with `allow_private`.
pub fn endpoint(value: &str, allow_private: bool) -> Result<(), ContractError> {
    let err = |reason| ContractError::InvalidEndpoint {
        endpoint: value.to_string(),
        reason,
    };
    if value.len() > ENDPOINT_MAX {
        return Err(err("longer than 256 characters"));
    }
    if value.bytes().any(|b| b <= b' ' || b >= 0x7f) {
        return Err(err(
            "spaces, control and non-ASCII characters are not allowed",
        ));
    }
    // RFC 3986 never allows these unencoded; some URL parsers read `\` as
    // `/`, which would make two readers see two different hosts.
    if value.bytes().any(|b| {
        matches!(
            b,
            b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
        )
    }) {
        return Err(err(
            "characters that must be percent-encoded are not allowed",
        ));
    }
    let rest = value
        .strip_prefix("wss://")
        .or_else(|| value.strip_prefix("ws://"))
        .ok_or_else(|| err("scheme must be ws:// or wss://"))?;
    if value.contains('#') {
        return Err(err("fragments are not allowed"));
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(err("user info is not allowed"));
    }
    let (host, bracketed, port) = split_authority(authority).map_err(err)?;
    if let Some(port) = port {
        check_port(port).map_err(err)?;
    }
    let reach = if bracketed {
        let ip: Ipv6Addr = host.parse().map_err(|_| err("invalid IPv6 address"))?;
        ipv6_reach(ip).map_err(err)?
    } else {
        host_reach(host).map_err(err)?
    };
    if reach == Reach::NonPublic && !allow_private {
        return Err(ContractError::PrivateEndpoint {
            endpoint: value.to_string(),
        });
    }
    Ok(())
}

/// Host (without brackets), whether it was bracketed, and the port text.
fn split_authority(authority: &str) -> Result<(&str, bool, Option<&str>), &'static str> {
    let (host, bracketed, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("unclosed IPv6 bracket")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("invalid port")?),
        };
        (addr, true, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, false, Some(p)),
            None => (authority, false, None),
        }
    };
    if host.is_empty() {
        return Err("missing host");
    }
    Ok((host, bracketed, port))
}

/// 1 to 65535 in plain decimal digits: `u16::from_str` would take `+443`.
fn check_port(port: &str) -> Result<(), &'static str> {
    const BAD: &str = "port must be 1 to 65535 in decimal digits, without sign or leading zero";
    if port.is_empty()
        || port.len() > 5
        || port.starts_with('0')
        || !port.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(BAD);
    }
    match port.parse::<u32>() {
        Ok(1..=65_535) => Ok(()),
        _ => Err(BAD),
    }
}

/// A host name or a dotted-quad IPv4 address.
fn host_reach(host: &str) -> Result<Reach, &'static str> {
    // A top-level label is never all digits (RFC 3696 §2), so such a host is
    // an IPv4 address and must be a valid one: `999.1.1.1` is not a name.
    let last = host.rsplit('.').next().unwrap_or_default();
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        let ip = parse_ipv4(host).ok_or("invalid IPv4 address: four numbers 0 to 255")?;
        return ipv4_reach(ip);
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !labels_ok || host.len() > 253 {
        return Err("invalid host name");
    }
    Ok(name_reach(host))
}

/// Strict dotted quad: four decimal numbers 0 to 255 without leading zeros
/// (`010` reads as octal in some resolvers).
fn parse_ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = host.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        let canonical = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        if !canonical {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then_some(Ipv4Addr::from(octets))
}

/// Names that resolve only on the local machine or network: a single label
/// (resolved through search domains), `localhost` (RFC 6761), `.local`
/// (mDNS, RFC 6762), `.internal` (ICANN, private use), `.home.arpa`
/// (RFC 8375) and `.localdomain`.
fn name_reach(host: &str) -> Reach {
    const LOCAL_DOMAINS: [&str; 5] = ["localhost", "local", "internal", "home.arpa", "localdomain"];
    let host = host.to_ascii_lowercase();
    let local = !host.contains('.')
        || LOCAL_DOMAINS.iter().any(|domain| {
            host.strip_suffix(domain)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
        });
    if local {
        Reach::NonPublic
    } else {
        Reach::Public
    }
}

fn ipv4_reach(ip: Ipv4Addr) -> Result<Reach, &'static str> {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        // "This network" (0.0.0.0/8), multicast, reserved and broadcast.
        (0, ..) | (224..=255, ..) => Err(NEVER_A_SERVER),
        (10, ..) | (127, ..) | (192, 168, _) | (172, 16..=31, _) => Ok(Reach::NonPublic),
        (100, 64..=127, _) | (169, 254, _) => Ok(Reach::NonPublic), // CGNAT, link-local
        (192, 0, 0) | (198, 18..=19, _) => Ok(Reach::NonPublic),    // IETF, benchmarking
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Ok(Reach::NonPublic), // documentation
        _ => Ok(Reach::Public),
    }
}

fn ipv6_reach(ip: Ipv6Addr) -> Result<Reach, &'static str> {
    let s = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if ip.is_unspecified() || s[0] >> 8 == 0xff {
        return Err(NEVER_A_SERVER); // :: and multicast ff00::/8
    }
    if ip.is_loopback() {
        return Ok(Reach::NonPublic);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return ipv4_reach(v4); // ::ffff:a.b.c.d
    }
    match s {
        // Deprecated IPv4-compatible addresses (::a.b.c.d) and the
        // discard-only prefix 100::/64.
        [0, 0, 0, 0, 0, 0, ..] | [0x100, 0, 0, 0, ..] => Err(NEVER_A_SERVER),
        // Well-known NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an
        // IPv4 address: as reachable as that address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => ipv4_reach(embedded_v4(hi, lo)),
        [0x2002, hi, lo, ..] => ipv4_reach(embedded_v4(hi, lo)),
        [0x64, 0xff9b, 1, ..] => Ok(Reach::NonPublic), // local-use NAT64
        [0x2001, 0xdb8, ..] => Ok(Reach::NonPublic),   // documentation
        // Unique-local fc00::/7, link-local fe80::/10, site-local fec0::/10.
        [first, ..] if (0xfc00..=0xfeff).contains(&first) => Ok(Reach::NonPublic),
        _ => Ok(Reach::Public),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(endpoint: &str, reason: &'static str) -> Result<(), ContractError> {
        Err(ContractError::InvalidEndpoint {
            endpoint: endpoint.to_string(),
            reason,
        })
    }

    fn private(endpoint: &str) -> Result<(), ContractError> {
        Err(ContractError::PrivateEndpoint {
            endpoint: endpoint.to_string(),
        })
    }

    #[test]
    fn public_websocket_endpoints_pass() {
        for ok in [
            "wss://sensors.turin.example/stream",
            "ws://8.8.8.8:8080/sdpp?topic=air",
            "wss://[2a00:1450:4002:402::200e]:443/feed",
            "wss://a-b.example.org",
            "wss://xn--bcher-kva.example:65535/",
            "wss://1e100.net/s",
            "wss://[::ffff:8.8.8.8]/s",
            "wss://[2002:808:808::1]/s",
            "wss://100.63.255.255/s",
            "wss://172.32.0.1/s",
        ] {
            assert_eq!(endpoint(ok, false), Ok(()), "{ok}");
        }
    }

    #[test]
    fn malformed_endpoints_get_their_reason() {
        let port = "port must be 1 to 65535 in decimal digits, without sign or leading zero";
        let ipv4 = "invalid IPv4 address: four numbers 0 to 255";
        let cases = [
            (
                "https://sensors.example/stream",
                "scheme must be ws:// or wss://",
            ),
            ("WSS://sensors.example/", "scheme must be ws:// or wss://"),
            ("wss://", "missing host"),
            ("wss://:443/", "missing host"),
            ("wss://user@host.example/x", "user info is not allowed"),
            ("wss://host.example:0/", port),
            ("wss://host.example:65536/", port),
            ("wss://host.example:port/", port),
            ("wss://host.example:+443/", port),
            ("wss://host.example:0443/", port),
            ("wss://host.example:/", port),
            ("wss://host.example:44:3/", port),
            ("wss://[2001:4860::1]x/", "invalid port"),
            ("wss://999.1.1.1/", ipv4),
            ("wss://1.2.3/", ipv4),
            ("wss://1.2.3.4.5/", ipv4),
            ("wss://01.2.3.4/", ipv4),
            ("wss://sensors.123/", ipv4),
            ("wss://-bad-.example/", "invalid host name"),
            ("wss://example.org./", "invalid host name"),
            ("wss://a..b/", "invalid host name"),
            (
                "wss://ex ample.org/",
                "spaces, control and non-ASCII characters are not allowed",
            ),
            (
                "wss://exämple.org/",
                "spaces, control and non-ASCII characters are not allowed",
            ),
            ("wss://example.org/#frag", "fragments are not allowed"),
            (
                "wss://good.example\\@evil.example/",
                "characters that must be percent-encoded are not allowed",
            ),
            ("wss://[zz::1]/", "invalid IPv6 address"),
            ("wss://[fe80::1%eth0]/", "invalid IPv6 address"),
            ("wss://[:::::]/", "invalid IPv6 address"),
            ("wss://[2001:4860::1/", "unclosed IPv6 bracket"),
            ("wss://0.0.0.0/", NEVER_A_SERVER),
            ("wss://224.0.0.1/", NEVER_A_SERVER),
            ("wss://255.255.255.255/", NEVER_A_SERVER),
            ("wss://240.1.2.3/", NEVER_A_SERVER),
            ("wss://[::]/", NEVER_A_SERVER),
            ("wss://[ff02::1]/", NEVER_A_SERVER),
            ("wss://[::7f00:1]/", NEVER_A_SERVER),
            ("wss://[100::1]/", NEVER_A_SERVER),
        ];
        for (bad, reason) in cases {
            assert_eq!(endpoint(bad, false), invalid(bad, reason), "{bad}");
            // The allowance is for non-public hosts, not for broken URLs.
            assert_eq!(endpoint(bad, true), invalid(bad, reason), "{bad}");
        }
        let long = format!("wss://{}.org", "a".repeat(260));
        assert_eq!(
            endpoint(&long, true),
            invalid(&long, "longer than 256 characters")
        );
    }

    #[test]
    fn non_public_hosts_need_the_owner_allowance() {
        for local in [
            "ws://127.0.0.1:8080/sdpp",
            "ws://127.255.0.1/",
            "ws://10.0.0.7:8080/sdpp?topic=air",
            "ws://172.16.0.1/",
            "ws://172.31.255.255/",
            "ws://192.168.1.1/",
            "ws://100.64.0.1/",
            "ws://169.254.169.254/latest/meta-data",
            "ws://192.0.2.1/",
            "ws://198.18.0.1/",
            "ws://localhost:9000/",
            "ws://LocalHost/",
            "ws://api.localhost/",
            "ws://sensor/",
            "ws://meter.local/",
            "ws://gateway.internal/",
            "ws://nas.home.arpa/",
            "ws://localhost.localdomain/",
            "wss://[::1]:443/feed",
            "wss://[fe80::1]/",
            "wss://[fd12:3456::1]/",
            "wss://[2001:db8::1]:443/feed",
            "wss://[::ffff:127.0.0.1]/",
            "wss://[::ffff:10.1.2.3]/",
            "wss://[64:ff9b::a00:1]/",
            "wss://[2002:c0a8:101::1]/",
        ] {
            assert_eq!(endpoint(local, false), private(local), "{local}");
            assert_eq!(endpoint(local, true), Ok(()), "{local}");
        }
        // A public name that merely contains a local-looking word.
        assert_eq!(endpoint("wss://local.example/", false), Ok(()));
        assert_eq!(endpoint("wss://notlocalhost.example/", false), Ok(()));
        assert_eq!(endpoint("wss://mylocal/", false), private("wss://mylocal/"));
    }
}
