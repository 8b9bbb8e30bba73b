//! Gi* over a million H3 cells: the kernel goal is 2 s on this machine, neighbour
//! search included (distance band 1 km over resolution-9 cells, about 30 neighbours each).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rastro_fuse::{g_local_geo, Transform};

/// A contiguous block of about `n` resolution-9 cells around Guadalajara, with a value that
/// is mostly zero, some scattered ones, and a few heavy clusters: the shape of lead evidence.
fn cells(n: usize) -> (Vec<(f64, f64)>, Vec<f64>) {
    let centre = rastro_core::grid::cell(20.6597, -103.3496, 9).expect("a valid position");
    // A disk of radius k holds 3k(k+1)+1 cells.
    let k = ((n as f64 / 3.0).sqrt()).ceil() as u32;
    let mut ll: Vec<(f64, f64)> = rastro_core::grid::disk(centre, k)
        .into_iter()
        .filter_map(rastro_core::grid::center)
        .collect();
    ll.truncate(n);
    let y = (0..ll.len())
        .map(|i| {
            let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            if i % 50_000 < 40 {
                5.0
            } else if h % 100 < 3 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    (ll, y)
}

fn bench(c: &mut Criterion) {
    let (ll, y) = cells(1_000_000);
    let mut g = c.benchmark_group("gistar");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ll.len() as u64));
    g.bench_function("g_local_geo_1m_cells_band_1km", |b| {
        b.iter(|| g_local_geo(&ll, &y, 1000.0, true, Transform::Binary))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
