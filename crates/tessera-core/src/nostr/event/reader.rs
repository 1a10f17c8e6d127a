//! A one-pass reader for the usual Nostr event, and its id from the
//! event's own text.
//!
//! Written for a measurement (issue 22): verifying an NWT from a signer
//! not seen before spent about a tenth of its time above BIP-340 lift +
//! verify, most of it building the event through the general JSON reader
//! (an object of owned strings, the tags as nested values, then copied
//! again into the event) and writing the NIP-01 serialisation back out to
//! hash it.
//!
//! [`read`] takes what nearly every event is: the seven NIP-01 members
//! once each, in any order; `id`, `pubkey`, `sig` as lowercase hex of the
//! right length; `created_at` and `kind` as plain digits (`kind` at most
//! 65535); `content` and every tag element as strings without escapes;
//! tags an array of arrays; JSON whitespace anywhere the grammar allows it.
//! It never rejects: on anything else (escapes, a missing, unknown or
//! repeated member, another type, a fraction, invalid UTF-8, a syntax
//! error) it declines with `None` and the strict reader
//! ([`super::Event::from_json_with`]) reads the input, so every error and
//! its message come from that one reader. What it reads, the strict
//! reader reads the same (`fast_reader_agrees_with_the_strict_one`
//! below, and the `nostr_event` fuzz target through
//! `Event::from_json`).
//!
//! The id: a string without escapes is written by the NIP-01
//! serialisation exactly as it appears in the input (`serde_json`, which
//! writes it, escapes only `"`, `\` and control characters, none of which
//! such a string holds), so when the tags array holds no whitespace its text *is*
//! its serialisation and is hashed as it stands; otherwise the tags are
//! written out as before.

/// The members of an event as found in its text, not yet lifted or
/// copied.
pub(super) struct Raw<'a> {
    pub id: [u8; 32],
    /// The `pubkey` text: 64 lowercase hex characters.
    pub pubkey_hex: &'a str,
    pub pubkey: [u8; 32],
    pub sig: [u8; 64],
    pub created_at: i64,
    pub kind: u16,
    /// `created_at` and `kind` as written: plain digits without a leading
    /// zero, which is how the serialisation writes them.
    pub created_at_text: &'a str,
    pub kind_text: &'a str,
    pub tags: Vec<Vec<String>>,
    /// The `content` text, without its quotes (no escapes).
    pub content: &'a str,
    /// The tags array's text when it holds no whitespace (so it is its own
    /// NIP-01 serialisation).
    pub compact_tags: Option<&'a str>,
}

impl Raw<'_> {
    /// SHA-256 of the NIP-01 serialisation
    /// `[0,"<pubkey>",<created_at>,<kind>,<tags>,"<content>"]`, written
    /// from the input's text.
    pub fn id_hash(&self) -> [u8; 32] {
        let written;
        let tags = match self.compact_tags {
            Some(text) => text,
            None => {
                written = crate::json::to_string(&self.tags);
                &written
            }
        };
        let parts: [&str; 11] = [
            "[0,\"",
            self.pubkey_hex,
            "\",",
            self.created_at_text,
            ",",
            self.kind_text,
            ",",
            tags,
            ",\"",
            self.content,
            "\"]",
        ];
        // Into a stack buffer when it fits (a usual NWT is a few hundred
        // bytes): no allocation.
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let mut stack = [0u8; 1024];
        let mut heap = Vec::new();
        let buf: &mut [u8] = if len <= stack.len() {
            &mut stack[..len]
        } else {
            heap.resize(len, 0);
            &mut heap
        };
        let mut at = 0;
        for part in parts {
            buf[at..at + part.len()].copy_from_slice(part.as_bytes());
            at += part.len();
        }
        crate::sha::sha256(buf)
    }
}

/// The first byte of `s` that ends a plain string run: `"`, `\` or a
/// control character.
#[inline]
fn string_stop(s: &[u8]) -> Option<usize> {
    use crate::swar::{below, equal, position};
    position(
        s,
        |w| equal(w, b'"') | equal(w, b'\\') | below(w, 0x20),
        |c| c == b'"' || c == b'\\' || c < 0x20,
    )
}

struct Cursor<'a> {
    text: &'a str,
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Skips JSON whitespace; whether there was any.
    #[inline]
    fn ws(&mut self) -> bool {
        let start = self.pos;
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
        self.pos != start
    }

    #[inline]
    fn eat(&mut self, b: u8) -> Option<()> {
        (self.s.get(self.pos) == Some(&b)).then(|| self.pos += 1)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// A string without escapes or control characters: its text.
    #[inline]
    fn plain(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let n = string_stop(&self.s[start..])?;
        if self.s[start + n] != b'"' {
            return None;
        }
        self.pos = start + n + 1;
        // Both ends sit next to ASCII quotes: character boundaries.
        self.text.get(start..start + n)
    }

    /// `2 * N` lowercase hex characters in quotes, decoded (no scan for
    /// the end first: a quote or backslash among them is not hex), and
    /// their text.
    fn hex<const N: usize>(&mut self) -> Option<([u8; N], &'a str)> {
        self.eat(b'"')?;
        let start = self.pos;
        let text = self.text.get(start..start + 2 * N)?;
        let bytes = hex::<N>(text)?;
        self.pos = start + 2 * N;
        self.eat(b'"')?;
        Some((bytes, text))
    }

    /// [`Cursor::digits`], and their text.
    fn digits_text(&mut self) -> Option<(i64, &'a str)> {
        let start = self.pos;
        let n = self.digits()?;
        Some((n, &self.text[start..self.pos]))
    }

    /// Plain decimal digits, no sign, no leading zero, no fraction or
    /// exponent after them, below 2^63.
    fn digits(&mut self) -> Option<i64> {
        let start = self.pos;
        let mut n: i64 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            n = n.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            self.pos += 1;
        }
        let len = self.pos - start;
        let leading_zero = len > 1 && self.s[start] == b'0';
        let continues = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (len > 0 && !leading_zero && !continues).then_some(n)
    }

    /// `["a","b"],[...]`: the tags, and whether any whitespace was skipped
    /// inside them.
    fn tags(&mut self) -> Option<(Vec<Vec<String>>, bool)> {
        self.eat(b'[')?;
        let mut spaced = self.ws();
        // Room for a usual NWT's tags (aud, exp, a few claims).
        let mut tags = Vec::with_capacity(8);
        if self.eat(b']').is_some() {
            return Some((tags, spaced));
        }
        loop {
            self.eat(b'[')?;
            spaced |= self.ws();
            let mut tag = Vec::with_capacity(2);
            if self.eat(b']').is_none() {
                loop {
                    tag.push(self.plain()?.to_owned());
                    spaced |= self.ws();
                    match self.peek()? {
                        b',' => {
                            self.pos += 1;
                            spaced |= self.ws();
                        }
                        b']' => {
                            self.pos += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            tags.push(tag);
            spaced |= self.ws();
            match self.peek()? {
                b',' => {
                    self.pos += 1;
                    spaced |= self.ws();
                }
                b']' => {
                    self.pos += 1;
                    return Some((tags, spaced));
                }
                _ => return None,
            }
        }
    }
}

/// Lowercase hex digit values; 0xff for every other byte.
const HEX_LOWER: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// `2 * N` lowercase hex characters (what `hex_decode_lower_array`
/// accepts), by table: a third of its instructions.
fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
        let (h, l) = (HEX_LOWER[pair[0] as usize], HEX_LOWER[pair[1] as usize]);
        bad |= h | l;
        *o = (h << 4) | (l & 0x0f);
    }
    // Valid digits are below 16; 0xff marks any other byte.
    (bad < 16).then_some(out)
}

/// Reads the usual event (see the module docs), or declines with `None`.
pub(super) fn read(input: &[u8]) -> Option<Raw<'_>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut c = Cursor {
        text,
        s: input,
        pos: 0,
    };
    let (mut id, mut pubkey, mut sig) = (None, None, None);
    let (mut created_at, mut kind, mut tags, mut content) = (None, None, None, None);
    c.ws();
    c.eat(b'{')?;
    loop {
        c.ws();
        let name = c.plain()?;
        c.ws();
        c.eat(b':')?;
        c.ws();
        // A repeated member declines (`replace` returns the first).
        let repeated = match name {
            "id" => id.replace(c.hex::<32>()?.0).is_some(),
            "pubkey" => pubkey.replace(c.hex::<32>()?).is_some(),
            "sig" => sig.replace(c.hex::<64>()?.0).is_some(),
            "content" => content.replace(c.plain()?).is_some(),
            "created_at" => created_at.replace(c.digits_text()?).is_some(),
            "kind" => {
                let (k, text) = c.digits_text()?;
                kind.replace((u16::try_from(k).ok()?, text)).is_some()
            }
            "tags" => {
                let start = c.pos;
                let (list, spaced) = c.tags()?;
                let raw = (!spaced).then(|| &text[start..c.pos]);
                tags.replace((list, raw)).is_some()
            }
            _ => return None,
        };
        if repeated {
            return None;
        }
        c.ws();
        match c.peek()? {
            b',' => c.pos += 1,
            b'}' => {
                c.pos += 1;
                break;
            }
            _ => return None,
        }
    }
    c.ws();
    if c.pos != input.len() {
        return None;
    }
    let (pubkey, pubkey_hex) = pubkey?;
    let (tags, compact_tags) = tags?;
    let ((created_at, created_at_text), (kind, kind_text)) = (created_at?, kind?);
    Some(Raw {
        id: id?,
        pubkey_hex,
        pubkey,
        sig: sig?,
        created_at,
        kind,
        created_at_text,
        kind_text,
        tags,
        content: content?,
        compact_tags,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Event;
    use crate::nostr::keys::{NostrPublicKey, NostrSecretKey};

    fn sk1() -> NostrSecretKey {
        let mut b = [0u8; 32];
        b[31] = 1;
        NostrSecretKey::from_bytes(b).unwrap()
    }

    /// Documents assembled from valid and invalid pieces, in varied order
    /// and spacing: whatever the one-pass reader reads, the strict reader
    /// reads the same (same event, or same error), and the id it hashes
    /// from the text is `compute_id`'s.
    #[test]
    fn fast_reader_agrees_with_the_strict_one() {
        let ev = Event::sign(
            &sk1(),
            1_767_225_600,
            27519,
            vec![
                vec!["aud".into(), "https://api.example.com".into()],
                vec!["exp".into(), "4102444800".into()],
                vec!["role".into(), "admin".into(), "é".into()],
            ],
            "Sign in",
        )
        .unwrap();
        let id = format!("\"{}\"", ev.id_hex());
        let pk = format!("\"{}\"", ev.pubkey.to_hex());
        let sig = format!("\"{}\"", ev.sig_hex());
        let upper = |s: &str| s.to_uppercase();
        let ids = [id.clone(), upper(&id), "\"00\"".into(), "1".into()];
        let pks = [
            pk.clone(),
            upper(&pk),
            format!("\"{}\"", "f".repeat(64)),
            "\"\\u0030\"".into(),
        ];
        let sigs = [sig.clone(), upper(&sig), "null".into()];
        let times = [
            "1767225600",
            "0",
            "00",
            "-1",
            "1.0",
            "1e3",
            "9223372036854775807",
            "9223372036854775808",
            "\"1\"",
        ];
        let kinds = ["27519", "65535", "65536", "01", "-0", "1E0", "27235"];
        let tags = [
            "[[\"aud\",\"https://api.example.com\"],[\"exp\",\"4102444800\"],[\"role\",\"admin\",\"é\"]]",
            "[ [\"aud\" , \"https://api.example.com\"],\n[\"exp\",\"4102444800\"] ,[\"role\",\"admin\",\"é\"] ]",
            "[]",
            "[ ]",
            "[[]]",
            "[[\"a\\n\"]]",
            "[[1]]",
            "[[[\"x\"]]]",
            "{}",
            "[[\"a\"],]",
            "[[\"a\"]",
        ];
        let contents = [
            "\"Sign in\"",
            "\"\"",
            "\"a\\\"b\"",
            "\"é ü\"",
            "1",
            "\"\\u00e9\"",
            "\"\t\"",
        ];
        let spaces = ["", " ", "\n\t", "\r"];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) as usize) % n
        };
        let (mut fast, mut declined, mut hashed_valid) = (0, 0, 0);
        for round in 0..20_000 {
            // Mostly valid pieces, so that most documents are read.
            let mut pick = |all: &[String]| {
                if next(4) == 0 {
                    all[next(all.len())].clone()
                } else {
                    all[0].clone()
                }
            };
            let members: Vec<(String, String)> = vec![
                ("id".into(), pick(&ids)),
                ("pubkey".into(), pick(&pks)),
                ("created_at".into(), pick(&times.map(String::from))),
                ("kind".into(), pick(&kinds.map(String::from))),
                ("tags".into(), pick(&tags.map(String::from))),
                ("content".into(), pick(&contents.map(String::from))),
                ("sig".into(), pick(&sigs)),
            ];
            let mut order: Vec<usize> = (0..7).collect();
            if round % 3 == 1 {
                for i in (1..7).rev() {
                    order.swap(i, next(i + 1));
                }
            }
            let mut parts: Vec<String> = order
                .iter()
                .map(|&i| {
                    let sp = spaces[next(spaces.len())];
                    format!("{sp}\"{}\"{sp}:{sp}{}", members[i].0, members[i].1)
                })
                .collect();
            match next(40) {
                0 => drop(parts.pop()),
                1 => parts.push(parts[0].clone()),
                2 => parts.push("\"extra\":1".into()),
                3 => parts.push("\"i\\u0064\":1".into()),
                _ => {}
            }
            let mut doc = format!(
                "{}{{{}}}{}",
                spaces[next(4)],
                parts.join(","),
                spaces[next(4)]
            );
            match next(60) {
                0 => doc.push('x'),
                1 => doc.push_str("{}"),
                2 => doc.insert(doc.len() / 2, '\u{7f}'),
                _ => {}
            }
            let mut bytes = doc.into_bytes();
            if next(80) == 0 {
                let at = next(bytes.len());
                bytes[at] = 0xff;
            }
            let strict = Event::read_strict(&bytes, NostrPublicKey::from_bytes);
            let read = Event::read(&bytes, NostrPublicKey::from_bytes, true);
            if super::read(&bytes).is_some() {
                fast += 1;
            } else {
                declined += 1;
            }
            match (&strict, &read) {
                (Ok(a), Ok((b, hash))) => {
                    assert_eq!(a, b, "{}", String::from_utf8_lossy(&bytes));
                    if let Some(hash) = hash {
                        assert_eq!(*hash, a.compute_id(), "{}", String::from_utf8_lossy(&bytes));
                        if *hash == a.id {
                            hashed_valid += 1;
                        }
                    }
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.code(), b.code());
                    assert_eq!(a.message(), b.message());
                }
                _ => panic!(
                    "the readers disagree on {}: {strict:?} / {read:?}",
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
        // Both paths are exercised, and the text hash matched the signed id.
        assert!(
            fast > 5_000 && declined > 5_000,
            "{fast} read, {declined} declined"
        );
        assert!(hashed_valid > 1_000, "{hashed_valid}");
    }
}
