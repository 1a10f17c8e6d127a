//! PEM (RFC 7468): label plus standard base64 between BEGIN/END lines.
//!
//! The base64 is RustCrypto's `base64ct` (canonical padded standard
//! base64, constant-time), the decoder under `pem-rfc7468`. The framing stays
//! here: `pem-rfc7468` reads exactly one block under the strict grammar
//! (64-column lines, nothing after END), and tessera's inputs hold several
//! (certificate chains; `openssl ecparam -genkey` writes EC PARAMETERS before
//! the key), with text between them and other line widths.

use crate::error::{Error, Result};
use base64ct::{Base64, Encoding};

/// One PEM block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    /// The label, e.g. `PUBLIC KEY`.
    pub label: String,
    /// The decoded DER bytes.
    pub der: Vec<u8>,
}

/// Largest PEM input accepted (a 16384-bit RSA certificate fits easily).
pub const MAX_PEM_LEN: usize = 64 * 1024;

/// Parses every PEM block in `text`; text outside blocks is ignored, as
/// RFC 7468 §2 allows (explanatory text before a certificate is common).
pub fn parse_pem(text: &str) -> Result<Vec<PemBlock>> {
    if text.len() > MAX_PEM_LEN {
        return Err(Error::malformed("PEM input is too large"));
    }
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim_end);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let mut b64 = String::new();
        let mut closed = false;
        for body in lines.by_ref() {
            if let Some(end) = body
                .strip_prefix("-----END ")
                .and_then(|l| l.strip_suffix("-----"))
            {
                if end != label {
                    return Err(Error::malformed("PEM END label does not match BEGIN"));
                }
                closed = true;
                break;
            }
            if body.contains(':') {
                return Err(Error::malformed(
                    "encrypted or legacy-header PEM is not supported; decrypt the key first",
                ));
            }
            b64.push_str(body.trim());
        }
        if !closed {
            return Err(Error::malformed("PEM block has no END line"));
        }
        let der = Base64::decode_vec(&b64)
            .map_err(|_| Error::malformed("invalid base64 in PEM block"))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
        });
    }
    if blocks.is_empty() {
        return Err(Error::malformed("no PEM block found"));
    }
    Ok(blocks)
}

/// Writes DER as a PEM block with 64-character lines.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = Base64::encode_string(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let pem = to_pem("PUBLIC KEY", &[1, 2, 3, 4, 5]);
        let blocks = parse_pem(&format!("explanatory text\n{pem}")).unwrap();
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(blocks[0].der, vec![1, 2, 3, 4, 5]);
        assert!(parse_pem("nothing here").is_err());
        assert!(parse_pem("-----BEGIN A-----\nAQID\n").is_err());
        assert!(parse_pem("-----BEGIN A-----\nAQID\n-----END B-----\n").is_err());
        assert!(
            parse_pem("-----BEGIN A-----\nProc-Type: 4,ENCRYPTED\nAQID\n-----END A-----\n")
                .is_err()
        );
    }
}
