//! Nostr test vectors: every BIP-340 row through the Schnorr verification
//! tessera uses for events, and real signed events (NIP-01 id + signature).

use tessera_core::internal::encoding::hex_decode_any_case;
use tessera_core::internal::nostr::{verify_bip340, Event, NostrSecretKey};
use tessera_core::ErrorCode;

const BIP340_CSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/bip340/test-vectors.csv"
);
const EVENTS_JSON: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/nostr/events.json"
);

fn hex(s: &str) -> Vec<u8> {
    hex_decode_any_case(s).unwrap()
}

#[test]
fn every_bip340_row_gets_its_expected_verdict() {
    let csv = std::fs::read_to_string(BIP340_CSV).unwrap();
    let mut rows = 0;
    let mut signed = 0;
    for line in csv.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        // index,secret key,public key,aux_rand,message,signature,verification result,comment
        let f: Vec<&str> = line.splitn(8, ',').collect();
        assert!(f.len() >= 7, "short row: {line}");
        let (index, secret, pubkey, aux, msg, sig, expected) =
            (f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
        let expected = match expected {
            "TRUE" => true,
            "FALSE" => false,
            other => panic!("row {index}: unexpected verdict {other:?}"),
        };
        // A public key that is not a valid x-only key can only be "false":
        // verify_bip340 reports it as bad_signature, like any failure.
        let got = verify_bip340(&hex(pubkey), &hex(msg), &hex(sig));
        match (&got, expected) {
            (Ok(()), true) => {}
            (Err(e), false) => assert_eq!(e.code(), ErrorCode::BadSignature, "row {index}"),
            _ => panic!("row {index}: expected {expected}, got {got:?}"),
        }
        // Rows with a secret key: signing with the given aux_rand reproduces
        // the signature exactly (the signer tessera uses for events).
        if !secret.is_empty() {
            let sk = NostrSecretKey::from_hex(&secret.to_lowercase()).unwrap();
            assert_eq!(
                sk.public_key().to_hex(),
                pubkey.to_lowercase(),
                "row {index}"
            );
            let aux: [u8; 32] = hex(aux).try_into().unwrap();
            assert_eq!(
                sk.sign_schnorr_with_aux(&hex(msg), &aux).to_vec(),
                hex(sig),
                "row {index}"
            );
            signed += 1;
        }
        rows += 1;
    }
    assert_eq!(rows, 19, "the BIP-340 file has 19 rows (0-18)");
    assert!(signed >= 5);
}

fn events() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(EVENTS_JSON).unwrap()).unwrap()
}

#[test]
fn valid_events_pass_nip01_id_and_signature() {
    let doc = events();
    let valid = doc["valid"].as_object().unwrap();
    assert!(valid.len() >= 6);
    for (name, ev) in valid {
        let text = serde_json::to_string(ev).unwrap();
        let parsed = Event::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.compute_id(), parsed.id, "{name}: recomputed id");
        parsed.verify().unwrap_or_else(|e| panic!("{name}: {e}"));
        // Our own serialisation of it reads back to the same event.
        assert_eq!(
            Event::from_json(parsed.to_json().as_bytes()).unwrap(),
            parsed
        );
    }
}

#[test]
fn stated_id_that_is_not_the_hash_is_id_mismatch_even_though_sig_verifies_over_it() {
    let doc = events();
    let invalid = doc["invalid"].as_object().unwrap();
    assert!(!invalid.is_empty());
    for (name, ev) in invalid {
        let text = serde_json::to_string(ev).unwrap();
        let parsed = Event::from_json(text.as_bytes()).unwrap();
        assert_ne!(parsed.compute_id(), parsed.id, "{name}");
        if name.contains("sig_valid_over_stated_id") {
            // The trap: the signature is good over the *stated* id.
            verify_bip340(parsed.pubkey.as_bytes(), &parsed.id, &parsed.sig).unwrap();
        }
        assert_eq!(
            parsed.verify().unwrap_err().code(),
            ErrorCode::IdMismatch,
            "{name}"
        );
    }
}
