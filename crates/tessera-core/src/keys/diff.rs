//! TEMPORARY differential check: the old own DER/PEM code against the
//! crates (removed again before the old code is deleted).
#![allow(clippy::all)]
use super::{containers as new, der as old, pem as pnew, pem_old as pold};

type R = std::result::Result<String, ()>;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn o_spki(d: &[u8]) -> R {
    old::spki(d)
        .map(|s| {
            format!(
                "{} {:?} {}",
                hex(s.alg.algorithm),
                s.alg.curve.map(hex),
                hex(s.key)
            )
        })
        .map_err(|_| ())
}
fn n_spki(d: &[u8]) -> R {
    new::spki(d)
        .map(|s| {
            format!(
                "{} {:?} {}",
                hex(s.alg.algorithm.as_bytes()),
                s.alg.curve.map(hex),
                hex(s.key)
            )
        })
        .map_err(|_| ())
}
fn o_cert(d: &[u8]) -> R {
    old::certificate_spki(d).map(hex).map_err(|_| ())
}
fn n_cert(d: &[u8]) -> R {
    new::certificate_spki(d).map(hex).map_err(|_| ())
}
fn o_p8(d: &[u8]) -> R {
    old::pkcs8(d)
        .map(|s| {
            format!(
                "{} {:?} {}",
                hex(s.alg.algorithm),
                s.alg.curve.map(hex),
                hex(s.private_key)
            )
        })
        .map_err(|_| ())
}
fn n_p8(d: &[u8]) -> R {
    new::pkcs8(d)
        .map(|s| {
            format!(
                "{} {:?} {}",
                hex(s.alg.algorithm.as_bytes()),
                s.alg.curve.map(hex),
                hex(s.private_key)
            )
        })
        .map_err(|_| ())
}
fn o_sec1(d: &[u8]) -> R {
    old::sec1(d)
        .map(|s| {
            format!(
                "{} {:?} {:?}",
                hex(s.d),
                s.curve.map(hex),
                s.public.map(hex)
            )
        })
        .map_err(|_| ())
}
fn n_sec1(d: &[u8]) -> R {
    new::sec1(d)
        .map(|s| {
            format!(
                "{} {:?} {:?}",
                hex(s.d),
                s.curve.as_ref().map(|o| hex(o.as_bytes())),
                s.public.map(hex)
            )
        })
        .map_err(|_| ())
}
fn o_rsa(d: &[u8]) -> R {
    old::rsa_private(d)
        .map(|r| {
            [r.n, r.e, r.d, r.p, r.q, r.dp, r.dq, r.qi]
                .map(hex)
                .join(" ")
        })
        .map_err(|_| ())
}
fn n_rsa(d: &[u8]) -> R {
    new::rsa_private(d)
        .map(|r| {
            [r.n, r.e, r.d, r.p, r.q, r.dp, r.dq, r.qi]
                .map(hex)
                .join(" ")
        })
        .map_err(|_| ())
}
fn o_rpub(d: &[u8]) -> R {
    old::rsa_public(d)
        .map(|(n, e)| format!("{} {}", hex(n), hex(e)))
        .map_err(|_| ())
}
fn n_rpub(d: &[u8]) -> R {
    new::rsa_public(d)
        .map(|(n, e)| format!("{} {}", hex(n), hex(e)))
        .map_err(|_| ())
}
fn o_oct(d: &[u8]) -> R {
    old::Reader::new(d)
        .expect(old::TAG_OCTET_STRING)
        .map(hex)
        .map_err(|_| ())
}
fn n_oct(d: &[u8]) -> R {
    new::octet_string(d).map(hex).map_err(|_| ())
}

#[derive(Default)]
struct Stats {
    der_inputs: usize,
    accepted_both: std::collections::BTreeMap<&'static str, usize>,
    diffs: Vec<String>,
    pem_inputs: usize,
    pem_blocks: usize,
    pem_diffs: Vec<String>,
    der_files: usize,
}

const PARSERS: [(&str, fn(&[u8]) -> R, fn(&[u8]) -> R); 7] = [
    ("spki", o_spki, n_spki),
    ("cert", o_cert, n_cert),
    ("pkcs8", o_p8, n_p8),
    ("sec1", o_sec1, n_sec1),
    ("pkcs1-private", o_rsa, n_rsa),
    ("pkcs1-public", o_rpub, n_rpub),
    ("octet-string", o_oct, n_oct),
];

fn der_all(st: &mut Stats, d: &[u8], origin: &str, nested: bool) {
    st.der_inputs += 1;
    for (name, o, n) in PARSERS {
        let (a, b) = (o(d), n(d));
        if a != b {
            st.diffs.push(format!(
                "{origin} {name}: old {} new {}",
                short(&a),
                short(&b)
            ));
        } else if a.is_ok() {
            *st.accepted_both.entry(name).or_default() += 1;
        }
    }
    if nested {
        if let Ok(p8) = old::pkcs8(d) {
            der_all(st, p8.private_key, &format!("{origin}/pkcs8-inner"), false);
        }
        if let Ok(s) = old::spki(d) {
            der_all(st, s.key, &format!("{origin}/spki-key"), false);
        }
    }
}

fn short(r: &R) -> String {
    match r {
        Ok(s) => format!("Ok({})", &s[..s.len().min(40)]),
        Err(()) => "Err".into(),
    }
}

fn mutations(d: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    // Truncations, one extra trailing byte, and byte changes at each of the
    // first 64 positions (headers, lengths, tags, OIDs).
    for cut in [1, 2, 3] {
        if d.len() > cut {
            out.push(d[..d.len() - cut].to_vec());
        }
    }
    let mut t = d.to_vec();
    t.push(0);
    out.push(t);
    for i in 0..d.len().min(64) {
        for v in [
            0x00u8,
            0x01,
            0x80,
            0xff,
            d[i] ^ 0x01,
            d[i].wrapping_add(1),
            d[i].wrapping_sub(1),
        ] {
            if v != d[i] {
                let mut m = d.to_vec();
                m[i] = v;
                out.push(m);
            }
        }
    }
    out
}

fn pem_text(st: &mut Stats, text: &str, origin: &str, mutate: bool) {
    st.pem_inputs += 1;
    let a = pold::parse_pem(text);
    let b = pnew::parse_pem(text);
    match (&a, &b) {
        (Ok(x), Ok(y))
            if x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(a, b)| a.label == b.label && a.der == b.der) => {}
        (Err(_), Err(_)) => {}
        _ => st.pem_diffs.push(format!(
            "{origin}: old {:?} new {:?}",
            a.as_ref()
                .map(|v| v.len())
                .map_err(|e| e.message().to_owned()),
            b.as_ref()
                .map(|v| v.len())
                .map_err(|e| e.message().to_owned())
        )),
    }
    if let Ok(blocks) = a {
        for (i, bl) in blocks.iter().enumerate() {
            st.pem_blocks += 1;
            assert_eq!(
                pold::to_pem(&bl.label, &bl.der),
                pnew::to_pem(&bl.label, &bl.der)
            );
            let o = format!("{origin}#{i}:{}", bl.label);
            der_all(st, &bl.der, &o, true);
            if mutate {
                for m in mutations(&bl.der) {
                    der_all(st, &m, &format!("{o}~mut"), true);
                }
            }
        }
    }
}

fn walk_json(st: &mut Stats, v: &serde_json::Value, key: &str, origin: &str) {
    match v {
        serde_json::Value::String(s) => {
            if s.contains("-----BEGIN") {
                pem_text(st, s, origin, false);
            } else if key.ends_with("Der") || key.ends_with("der") {
                if let Some(b) = unhex(s) {
                    der_all(st, &b, &format!("{origin}:{key}"), true);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| walk_json(st, x, key, origin)),
        serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| walk_json(st, x, k, origin)),
        _ => {}
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// PEM regions inside source text (Rust string literals with real or
/// escaped newlines).
fn regions(text: &str) -> Vec<String> {
    let t = text.replace("\\n", "\n").replace("\\\n", "\n");
    let mut out = vec![];
    let mut rest = t.as_str();
    while let Some(i) = rest.find("-----BEGIN ") {
        let r = &rest[i..];
        let Some(j) = r.find("-----END ") else { break };
        let Some(k) = r[j + 9..].find("-----") else {
            break;
        };
        let end = j + 9 + k + 5;
        out.push(
            r[..end]
                .lines()
                .map(|l| l.trim_start_matches(|c| c == ' ' || c == '"'))
                .collect::<Vec<_>>()
                .join("\n")
                + "\n",
        );
        rest = &r[end..];
    }
    out
}

#[test]
fn differential_old_vs_crates() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut st = Stats::default();
    let mut paths = vec![];
    for d in [
        "tests",
        "../../fuzz/corpus/pem",
        "../../fuzz/corpus/jwk",
        "../../../shared/vectors",
        "../tessera-cli/tests",
        "src",
    ] {
        files(&root.join(d), &mut paths);
    }
    files(std::path::Path::new("/etc/ssl/certs"), &mut paths);
    let reg = std::path::Path::new("/root/.cargo/registry/src");
    if let Ok(rd) = std::fs::read_dir(reg) {
        for idx in rd.flatten() {
            for c in std::fs::read_dir(idx.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                let name = c.file_name().to_string_lossy().into_owned();
                if [
                    "pkcs8-",
                    "pkcs1-",
                    "sec1-",
                    "spki-",
                    "x509-cert-",
                    "jsonwebtoken-",
                    "rsa-",
                    "p256-",
                    "p384-",
                    "der-",
                ]
                .iter()
                .any(|p| name.starts_with(p))
                {
                    files(&c.path().join("tests"), &mut paths);
                }
            }
        }
    }
    let mut extra = vec![];
    files(std::path::Path::new("/work/shared/vectors"), &mut extra);
    paths.extend(extra);
    paths.sort();
    paths.dedup();
    let mut nfiles = 0;
    for p in &paths {
        let Ok(bytes) = std::fs::read(p) else {
            continue;
        };
        nfiles += 1;
        let origin = p.display().to_string();
        let is_corpus = origin.contains("fuzz/corpus/pem");
        if is_corpus {
            if let Ok(t) = std::str::from_utf8(&bytes[1.min(bytes.len())..]) {
                pem_text(&mut st, t, &origin, true);
            }
            continue;
        }
        if origin.ends_with(".der") {
            st.der_files += 1;
            der_all(&mut st, &bytes, &origin, true);
            for m in mutations(&bytes) {
                der_all(&mut st, &m, &format!("{origin}~mut"), true);
            }
            continue;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if origin.ends_with(".json") || origin.contains("corpus/jwk") {
            let body = if origin.contains("corpus/jwk") {
                text.get(1..).unwrap_or("")
            } else {
                text
            };
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
                walk_json(&mut st, &v, "", &origin);
                jwk_rsa(&mut st, &v, &origin);
            }
        }
        for r in regions(text) {
            pem_text(&mut st, &r, &origin, true);
        }
    }
    writers(&mut st);
    generated(&mut st);
    println!("der files {}", st.der_files);
    println!(
        "files {nfiles}, PEM texts {}, PEM blocks {}, DER inputs {}",
        st.pem_inputs, st.pem_blocks, st.der_inputs
    );
    println!("accepted by both (same parse): {:?}", st.accepted_both);
    println!("PEM diffs: {}", st.pem_diffs.len());
    for d in st.pem_diffs.iter().take(40) {
        println!("  {d}");
    }
    println!("DER diffs: {}", st.diffs.len());
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for d in &st.diffs {
        let k = d.split(' ').skip(1).collect::<Vec<_>>().join(" ");
        let k = k.split(": ").next().unwrap_or("").to_owned()
            + if d.contains("old Err") {
                " old-rejects"
            } else if d.contains("new Err") {
                " new-rejects"
            } else {
                " both-ok-differ"
            };
        *kinds.entry(k).or_default() += 1;
    }
    println!("{kinds:#?}");
    std::fs::write("/tmp/keys18-diffs-all.txt", st.diffs.join("\n")).unwrap();
    for d in st.diffs.iter().filter(|d| !d.contains("~mut")).take(40) {
        println!("  {d}");
    }
    for d in st.diffs.iter().filter(|d| d.contains("~mut")).take(60) {
        println!("  {d}");
    }
}

fn jwk_rsa(st: &mut Stats, v: &serde_json::Value, origin: &str) {
    let mut objs = vec![v];
    if let Some(keys) = v.get("keys").and_then(|k| k.as_array()) {
        objs.extend(keys.iter());
    }
    for o in objs {
        let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
        let vals: Option<Vec<Vec<u8>>> = names
            .iter()
            .map(|n| {
                o.get(*n)?
                    .as_str()
                    .and_then(|s| crate::encoding::b64url_decode(s.as_bytes()).ok())
            })
            .collect();
        let Some(vals) = vals else { continue };
        let mut ints = vec![old::unsigned_integer(&[0])];
        ints.extend(vals.iter().map(|x| old::unsigned_integer(x)));
        let refs: Vec<&[u8]> = ints.iter().map(Vec::as_slice).collect();
        let a = old::sequence(&refs);
        let arr: [&[u8]; 8] = std::array::from_fn(|i| vals[i].as_slice());
        let b = new::rsa_private_der(arr).unwrap();
        st.der_inputs += 1;
        if a != b {
            st.diffs.push(format!("{origin} jwk-rsa-writer differs"));
        } else {
            *st.accepted_both
                .entry("jwk-rsa-writer-identical")
                .or_default() += 1;
        }
    }
}

/// The writers: the crates' encodings against the old hand-built DER.
fn writers(st: &mut Stats) {
    use crate::jws::{Algorithm, Curve};
    use crate::keys::curve_oid;
    for _ in 0..5 {
        for (alg, curve) in [
            (Algorithm::ES256, Curve::P256),
            (Algorithm::ES384, Curve::P384),
            (Algorithm::ES512, Curve::P521),
            (Algorithm::ES256K, Curve::Secp256k1),
        ] {
            let k = crate::SigningKey::generate(alg).unwrap();
            let pem = k.to_pkcs8_pem().unwrap();
            let der = &pnew::parse_pem(&pem).unwrap()[0].der;
            let p8 = new::pkcs8(der).unwrap();
            let s = new::sec1(p8.private_key).unwrap();
            let point = s.public.unwrap();
            let coid = curve_oid(curve);
            let old_oid = coid.as_bytes();
            assert_eq!(
                old::ec_pkcs8(old_oid, s.d, point),
                new::ec_pkcs8(&coid, s.d, point).unwrap()
            );
            assert_eq!(
                old::ec_spki(old_oid, point),
                new::ec_spki(&coid, point).unwrap()
            );
            for pt in [Some(point), None] {
                let o = match pt {
                    Some(p) => old::sequence(&[
                        &old::unsigned_integer(&[1]),
                        &old::tlv(old::TAG_OCTET_STRING, s.d),
                        &old::tlv(0xa0, &old::tlv(old::TAG_OID, old_oid)),
                        &old::tlv(0xa1, &old::bit_string(p)),
                    ]),
                    None => old::sequence(&[
                        &old::unsigned_integer(&[1]),
                        &old::tlv(old::TAG_OCTET_STRING, s.d),
                        &old::tlv(0xa0, &old::tlv(old::TAG_OID, old_oid)),
                    ]),
                };
                assert_eq!(o, new::sec1_der(coid, s.d, pt).unwrap());
            }
            *st.accepted_both.entry("ec-writers-identical").or_default() += 1;
        }
        let k = crate::SigningKey::generate(Algorithm::RS256).unwrap();
        let jwk = k.verifying_key().unwrap().to_public_jwk().unwrap();
        let n = crate::encoding::b64url_decode(jwk.get("n").unwrap().as_str().unwrap().as_bytes())
            .unwrap();
        let e = crate::encoding::b64url_decode(jwk.get("e").unwrap().as_str().unwrap().as_bytes())
            .unwrap();
        let pkcs1 = old::sequence(&[&old::unsigned_integer(&n), &old::unsigned_integer(&e)]);
        let alg = old::sequence(&[
            &old::tlv(old::TAG_OID, old::oid::RSA_ENCRYPTION),
            &old::tlv(old::TAG_NULL, &[]),
        ]);
        assert_eq!(
            old::sequence(&[&alg, &old::bit_string(&pkcs1)]),
            new::rsa_spki(&n, &e).unwrap()
        );
        let k = crate::SigningKey::generate(Algorithm::EdDSA).unwrap();
        let jwk = k.verifying_key().unwrap().to_public_jwk().unwrap();
        let x = crate::encoding::b64url_decode(jwk.get("x").unwrap().as_str().unwrap().as_bytes())
            .unwrap();
        let alg = old::sequence(&[&old::tlv(old::TAG_OID, old::oid::ED25519)]);
        assert_eq!(
            old::sequence(&[&alg, &old::bit_string(&x)]),
            new::ed25519_spki(&x).unwrap()
        );
        *st.accepted_both
            .entry("rsa-ed25519-spki-writers-identical")
            .or_default() += 1;
    }
}

/// Freshly generated keys in every container: PKCS#8 (all algorithms),
/// SEC1 (EC), PKCS#1 (RSA), and the SPKI of each, with mutations.
fn generated(st: &mut Stats) {
    use crate::jws::Algorithm;
    use aws_lc_rs::encoding::AsDer;
    for alg in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::ES512,
        Algorithm::ES256K,
        Algorithm::EdDSA,
    ] {
        for _ in 0..3 {
            let k = crate::SigningKey::generate(alg).unwrap();
            let mut ders = vec![];
            for pem in [k.to_pkcs8_pem().unwrap(), k.to_public_pem().unwrap()] {
                ders.push(pnew::parse_pem(&pem).unwrap().remove(0).der);
            }
            let p8 = new::pkcs8(&ders[0]).unwrap();
            ders.push(p8.private_key.to_vec());
            if matches!(alg, Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512) {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let a = match alg {
                    Algorithm::ES256 => &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    Algorithm::ES384 => &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                    _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_FIXED_SIGNING,
                };
                let doc = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(a, &rng).unwrap();
                let kp = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(a, doc.as_ref()).unwrap();
                let sec1 =
                    AsDer::<aws_lc_rs::encoding::EcPrivateKeyRfc5915Der>::as_der(&kp.private_key())
                        .unwrap();
                ders.push(sec1.as_ref().to_vec());
                ders.push(doc.as_ref().to_vec());
            }
            for d in ders {
                der_all(st, &d, &format!("generated-{alg}"), true);
                for m in mutations(&d) {
                    der_all(st, &m, &format!("generated-{alg}~mut"), true);
                }
            }
        }
    }
}
