//! Audit log benchmarks (issue 6 goals): append >= 200,000 entries/s with batched commits;
//! verify of 1,000,000 entries <= 5 s; an inclusion proof for any index of a 1,000,000-entry
//! log <= 1 ms.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rastro_audit::{verify_log, Tree};
use rastro_store::{AuditEvent, Store};

fn event(i: u64) -> AuditEvent {
    let mut ev = AuditEvent::new("read");
    ev.records = vec![format!("SYN-C-{i:06}")];
    ev
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("audit");
    g.sample_size(10);

    let batch = 50_000u64;
    g.throughput(Throughput::Elements(batch));
    let mut store = Store::open(&dir.path().join("append.db")).unwrap();
    let mut next = 0u64;
    g.bench_function("append_50k_batched", |b| {
        b.iter(|| {
            store
                .audit_many(
                    &rastro_store::Actor::new("bench"),
                    (next..next + batch).map(event),
                )
                .unwrap();
            next += batch;
        })
    });

    // A 1,000,000-entry log, built once.
    let n = 1_000_000u64;
    let mut big = Store::open(&dir.path().join("big.db")).unwrap();
    for start in (0..n).step_by(100_000) {
        big.audit_many(
            &rastro_store::Actor::new("bench"),
            (start..start + 100_000).map(event),
        )
        .unwrap();
    }
    g.throughput(Throughput::Elements(n));
    g.bench_function("verify_1m_from_store", |b| {
        b.iter(|| {
            let entries = big.audit_entries().unwrap();
            let r = verify_log(&entries, &[], None, None);
            assert!(r.ok);
        })
    });

    let tree = Tree::from_leaves(big.audit_leaf_hashes().unwrap());
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("inclusion_proof_1m", |b| {
        b.iter_batched(
            || {
                i = (i * 6_364_136_223_846_793_005 + 1_442_695_040_888_963_407) % n;
                i
            },
            |idx| tree.inclusion_proof(idx, n).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("consistency_proof_1m", |b| {
        b.iter(|| tree.consistency_proof(654_321, n).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
