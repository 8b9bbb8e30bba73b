//! Cross-check of the Merkle tree against an independent, naive transcription of RFC 9162
//! section 2.1 (MTH, PATH, PROOF written straight from the RFC text, recursive over the leaf
//! data), on logs of every size from 0 to 300 and every power of two up to 1024 with its
//! neighbours; plus the RFC's verification algorithms on correct and corrupted proofs.

use rastro_audit::merkle::{
    leaf_hash, node_hash, verify_consistency, verify_inclusion, Hash, Tree,
};
use sha2::{Digest, Sha256};

/// MTH(D[n]) from the RFC text.
fn mth(d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => Sha256::digest([]).into(),
        1 => {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(&d[0]);
            h.finalize().into()
        }
        n => {
            let mut k = 1;
            while k * 2 < n {
                k *= 2;
            }
            let (l, r) = (mth(&d[..k]), mth(&d[k..]));
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(l);
            h.update(r);
            h.finalize().into()
        }
    }
}

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn data(n: usize, seed: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            format!(
                "entry {i} of log {seed}: {}",
                (i as u64)
                    .wrapping_mul(seed | 1)
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            )
            .into_bytes()
        })
        .collect()
}

fn sizes() -> Vec<usize> {
    let mut s: Vec<usize> = (0..=300).collect();
    for p in 0..=10 {
        let v = 1usize << p;
        s.extend([v.saturating_sub(1), v, v + 1]);
    }
    s.sort_unstable();
    s.dedup();
    s
}

#[test]
fn roots_and_proofs_equal_the_rfc_definitions() {
    let biggest = *sizes().last().unwrap();
    let d = data(biggest, 7);
    let tree = Tree::from_leaves(d.iter().map(|x| leaf_hash(x)));
    for n in sizes() {
        let root = tree.root(n as u64).unwrap();
        assert_eq!(root, mth(&d[..n]), "root of size {n}");
        // Inclusion: every index for small trees, a spread of indexes for large ones.
        let step = if n > 64 { n / 17 + 1 } else { 1 };
        for m in (0..n).step_by(step).chain(n.checked_sub(1)) {
            let p = tree.inclusion_proof(m as u64, n as u64).unwrap();
            assert_eq!(p, path(m, &d[..n]), "PATH({m}, D[{n}])");
            assert!(
                verify_inclusion(m as u64, n as u64, &leaf_hash(&d[m]), &p, &root),
                "verify PATH({m}, D[{n}])"
            );
        }
        // Consistency with every smaller size (a spread for large trees).
        for m in (1..n).step_by(step).chain((n > 1).then(|| n - 1)) {
            let p = tree.consistency_proof(m as u64, n as u64).unwrap();
            assert_eq!(p, subproof(m, &d[..n], true), "PROOF({m}, D[{n}])");
            let old = tree.root(m as u64).unwrap();
            assert!(
                verify_consistency(m as u64, n as u64, &old, &root, &p),
                "verify PROOF({m}, D[{n}])"
            );
        }
    }
}

#[test]
fn corrupted_proofs_and_wrong_roots_fail() {
    let d = data(77, 3);
    let tree = Tree::from_leaves(d.iter().map(|x| leaf_hash(x)));
    let root = tree.root(77).unwrap();
    for m in [0u64, 5, 31, 32, 63, 64, 76] {
        let p = tree.inclusion_proof(m, 77).unwrap();
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i][0] ^= 1;
            assert!(!verify_inclusion(
                m,
                77,
                &leaf_hash(&d[m as usize]),
                &bad,
                &root
            ));
        }
        assert!(!verify_inclusion(
            m,
            77,
            &leaf_hash(b"not in the log"),
            &p,
            &root
        ));
        assert!(!verify_inclusion(
            (m + 1) % 77,
            77,
            &leaf_hash(&d[m as usize]),
            &p,
            &root
        ));
    }
    for m in [1u64, 2, 7, 32, 50, 76] {
        let p = tree.consistency_proof(m, 77).unwrap();
        let old = tree.root(m).unwrap();
        let mut forged = old;
        forged[5] ^= 0x40;
        assert!(!verify_consistency(m, 77, &forged, &root, &p));
        for i in 0..p.len() {
            let mut bad = p.clone();
            bad[i][31] ^= 1;
            assert!(!verify_consistency(m, 77, &old, &root, &bad));
        }
    }
}

#[test]
fn node_hash_is_domain_separated_from_leaf_hash() {
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    let mut cat = a.to_vec();
    cat.extend_from_slice(&b);
    assert_ne!(node_hash(&a, &b), leaf_hash(&cat));
}
