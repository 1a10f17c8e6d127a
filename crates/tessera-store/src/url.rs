//! Small helpers for store URLs: masking passwords and taking out the
//! parameters this crate understands itself (`schema=`, `prefix=`).

/// Byte range of the password in `scheme://user:password@host...`.
fn password_range(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    Some((start + colon + 1, start + at))
}

/// Whether a query parameter of a store URL carries a credential
/// (`?password=` is read by the PostgreSQL driver, `sslpassword` unlocks a
/// client key; the rest are names a user may reasonably try).
fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("pass") || n.contains("secret") || n.contains("token") || n == "pwd" || n == "auth"
}

/// Byte ranges of the values of credential-carrying query parameters.
fn secret_param_ranges(url: &str) -> Vec<(usize, usize)> {
    let end = url.find('#').unwrap_or(url.len());
    let Some(q) = url[..end].find('?') else {
        return Vec::new();
    };
    let mut ranges = Vec::new();
    let mut at = q + 1;
    for pair in url[q + 1..end].split('&') {
        if let Some((k, v)) = pair.split_once('=') {
            if is_secret_param(k) && !v.is_empty() {
                let start = at + k.len() + 1;
                ranges.push((start, start + v.len()));
            }
        }
        at += pair.len() + 1;
    }
    ranges
}

/// Every credential in the URL (the userinfo password and the values of
/// credential parameters), as written and percent-decoded, to scrub from
/// error texts that may quote them.
pub(crate) fn secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (a, b) in password_range(url)
        .into_iter()
        .chain(secret_param_ranges(url))
    {
        let raw = &url[a..b];
        if raw.is_empty() {
            continue;
        }
        let decoded = percent_decode(raw);
        if decoded != raw && !decoded.is_empty() {
            out.push(decoded);
        }
        out.push(raw.to_string());
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url` with every credential replaced by `***`: the userinfo password
/// and the value of every credential parameter (`?password=...`). The one
/// masking function: `--print-config`, the start-up log line and every
/// error that names a store URL go through it.
pub(crate) fn mask_password(url: &str) -> String {
    let mut ranges: Vec<(usize, usize)> = password_range(url)
        .into_iter()
        .chain(secret_param_ranges(url))
        .filter(|(a, b)| b > a)
        .collect();
    ranges.sort_unstable();
    let mut out = String::with_capacity(url.len());
    let mut at = 0;
    for (a, b) in ranges {
        out.push_str(&url[at..a]);
        out.push_str("***");
        at = b;
    }
    out.push_str(&url[at..]);
    out
}

/// Removes the query parameter `name` from `url`; returns the new URL and
/// the parameter's value (the last one if repeated).
#[cfg_attr(not(any(feature = "postgres", feature = "redis")), allow(dead_code))]
pub(crate) fn take_param(url: &str, name: &str) -> (String, Option<String>) {
    let (base, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let Some(q) = base.find('?') else {
        return (url.to_string(), None);
    };
    let (path, query) = (&base[..q], &base[q + 1..]);
    let mut value = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k == name {
            value = Some(v.to_string());
        } else {
            kept.push(pair);
        }
    }
    let mut out = path.to_string();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(fragment);
    (out, value)
}

/// Whether `s` is a plain identifier: 1..=max characters of ASCII letters,
/// digits and `_`, not starting with a digit.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn is_identifier(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !s.as_bytes()[0].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_only_the_password() {
        assert_eq!(
            mask_password("postgres://u:secret@h:5432/db?x=1"),
            "postgres://u:***@h:5432/db?x=1"
        );
        assert_eq!(mask_password("redis://:pw@h/0"), "redis://:***@h/0");
        assert_eq!(mask_password("redis://h:6379"), "redis://h:6379");
        assert_eq!(mask_password("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(secrets("redis://:pw@h/0"), ["pw"]);
        assert!(secrets("redis://h:6379/0").is_empty());
    }

    #[test]
    fn masks_credentials_in_the_query() {
        assert_eq!(
            mask_password("postgres://app@db/tessera?password=hunter2&sslmode=require"),
            "postgres://app@db/tessera?password=***&sslmode=require"
        );
        assert_eq!(
            mask_password("postgres://u:one@h/db?sslpassword=two&PassWord=three#f"),
            "postgres://u:***@h/db?sslpassword=***&PassWord=***#f"
        );
        assert_eq!(
            mask_password("redis://h/0?prefix=t&password="),
            "redis://h/0?prefix=t&password="
        );
        assert_eq!(
            secrets("postgres://h/db?password=p%40ss"),
            ["p@ss".to_string(), "p%40ss".to_string()]
        );
    }

    #[test]
    fn takes_out_one_parameter() {
        assert_eq!(
            take_param("redis://h/0?prefix=t1&protocol=resp2", "prefix"),
            (
                "redis://h/0?protocol=resp2".to_string(),
                Some("t1".to_string())
            )
        );
        assert_eq!(
            take_param("postgres://h/db?schema=s", "schema"),
            ("postgres://h/db".to_string(), Some("s".to_string()))
        );
        assert_eq!(
            take_param("postgres://h/db", "schema"),
            ("postgres://h/db".to_string(), None)
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("t_1", 10));
        assert!(!is_identifier("1t", 10));
        assert!(!is_identifier("a-b", 10));
        assert!(!is_identifier("", 10));
        assert!(!is_identifier("abcdef", 5));
    }
}
