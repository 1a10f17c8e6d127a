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

/// The password in the URL, if any (as written, percent-encoded or not).
pub(crate) fn password(url: &str) -> Option<String> {
    password_range(url)
        .map(|(a, b)| url[a..b].to_string())
        .filter(|p| !p.is_empty())
}

/// `url` with its password replaced by `***`.
pub(crate) fn mask_password(url: &str) -> String {
    match password_range(url) {
        Some((a, b)) if b > a => format!("{}***{}", &url[..a], &url[b..]),
        _ => url.to_string(),
    }
}

/// Removes the query parameter `name` from `url`; returns the new URL and
/// the parameter's value (the last one if repeated).
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
        assert_eq!(password("redis://:pw@h/0").as_deref(), Some("pw"));
        assert_eq!(password("redis://h:6379/0"), None);
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
