//! The audit log through the real binary: writes and restricted reads are logged, a partner's
//! earlier head verifies against the grown log, and `audit export` lets a third party
//! recompute the root with its own RFC 9162 code.

mod common;

// This file checks exit codes itself, so it uses the helper that does not assert success.
use common::run as rastro;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Output;

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn examples() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    v.sort();
    v.iter().map(|p| p.display().to_string()).collect()
}

/// MTH from RFC 9162 section 2.1, written independently of rastro-audit.
fn mth(leaves: &[Vec<u8>]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => Sha256::digest([&[0u8][..], &leaves[0]].concat()).into(),
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            Sha256::digest([&[1u8][..], &mth(&leaves[..k]), &mth(&leaves[k..])].concat()).into()
        }
    }
}

#[test]
fn the_log_records_writes_and_reads_and_a_partner_can_verify_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let files = examples();
    let mut args = vec!["ingest"];
    args.extend(files.iter().map(String::as_str));
    ok(rastro(&db, &args));
    // The key file was created, readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("t.db.audit-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let head = ok(rastro(&db, &["audit", "head"])).stdout;
    let head_file = dir.path().join("head.json");
    std::fs::write(&head_file, &head).unwrap();
    let head: serde_json::Value = serde_json::from_slice(&head).unwrap();
    assert_eq!(
        head["tree_size"], 7,
        "one entry per ingest batch, one batch per example file"
    );

    // More activity after the partner took the head: a read of restricted data.
    ok(rastro(&db, &["consignment", "show", "SYN-C-0001"]));
    let log: serde_json::Value = serde_json::from_slice(
        &ok(rastro(
            &db,
            &["audit", "log", "--record", "SYN-C-0001", "--json"],
        ))
        .stdout,
    )
    .unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["read"]);
    let ingest = &serde_json::from_slice::<serde_json::Value>(
        &ok(rastro(&db, &["audit", "log", "--json"])).stdout,
    )
    .unwrap()[0];
    assert_eq!(ingest["action"], "ingest");
    assert_eq!(ingest["detail"]["inserted"], 2);
    assert_eq!(
        ingest["detail"]["records_sha256"].as_str().unwrap().len(),
        64
    );

    // The partner's earlier head still verifies: the log only grew.
    let v = ok(rastro(
        &db,
        &[
            "audit",
            "verify",
            "--head",
            head_file.to_str().unwrap(),
            "--public-key",
            head["public_key"].as_str().unwrap(),
        ],
    ));
    assert!(
        String::from_utf8_lossy(&v.stdout).starts_with("ok:"),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );

    // A forged head (another root) fails, and says so with exit status 1.
    let mut forged = head.clone();
    forged["root_hash"] = serde_json::Value::String("00".repeat(32));
    std::fs::write(&head_file, forged.to_string()).unwrap();
    let bad = rastro(
        &db,
        &["audit", "verify", "--head", head_file.to_str().unwrap()],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("signature does not verify"));

    // A third party recomputes the current root from the exported leaf bytes.
    let export = ok(rastro(&db, &["audit", "export"])).stdout;
    let leaves: Vec<Vec<u8>> = String::from_utf8(export)
        .unwrap()
        .lines()
        .map(|l| {
            hex::decode(
                serde_json::from_str::<serde_json::Value>(l).unwrap()["leaf"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    // (The export itself is logged after it is written, so the log now has one entry more.)
    let n = leaves.len();
    let proof: serde_json::Value = serde_json::from_slice(
        &ok(rastro(
            &db,
            &["audit", "prove", "--index", "3", "--size", &n.to_string()],
        ))
        .stdout,
    )
    .unwrap();
    assert_eq!(
        hex::encode(mth(&leaves)),
        proof["root_hash"].as_str().unwrap()
    );
    let last: serde_json::Value =
        serde_json::from_slice(&ok(rastro(&db, &["audit", "log", "--json"])).stdout).unwrap();
    assert_eq!(last.as_array().unwrap()[n]["action"], "export");
}
