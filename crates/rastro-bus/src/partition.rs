//! Which partition a record goes to: one consistent choice per consignment or subject.

use rastro_core::Record;

/// Partitions of the ingest stream. Fixed, so that the subject of a key never changes while
/// workers come and go; a worker takes a share of them.
pub const PARTITIONS: u32 = 16;

/// The key that decides a record's partition: the consignment for consignments and custody
/// events (one consignment's declaration and events stay together), the subject for
/// observations (one vehicle's or device's track stays together and in order), the record's
/// own id for the rest.
pub fn partition_key(r: &Record) -> &str {
    match r {
        Record::Consignment(c) => &c.id,
        Record::Custody(c) => &c.consignment,
        Record::Observation(o) => &o.subject,
        Record::Party(x) => &x.id,
        Record::Place(x) => &x.id,
        Record::Vehicle(x) => &x.id,
        Record::Report(x) => &x.id,
        Record::Sample(x) => &x.id,
    }
}

/// Jump consistent hash (Lamping and Veach, 2014): `buckets` > 0; growing the bucket count
/// from n to n+1 moves only 1/(n+1) of the keys.
pub fn jump(mut key: u64, buckets: u32) -> u32 {
    debug_assert!(buckets > 0);
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2862933555777941757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

/// The partition of a key, in `0..PARTITIONS`.
pub fn partition_of(key: &str) -> u32 {
    jump(xxhash_rust::xxh3::xxh3_64(key.as_bytes()), PARTITIONS)
}

/// The subject of a kind and partition.
pub fn subject(kind: rastro_core::Kind, partition: u32) -> String {
    format!("rastro.ingest.{}.p{partition:02}", kind.as_str())
}

/// The filter of one partition's consumer: every kind of that partition.
pub fn partition_filter(partition: u32) -> String {
    format!("rastro.ingest.*.p{partition:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_key_always_lands_in_range_and_in_the_same_partition(key in ".{0,40}") {
            let p = partition_of(&key);
            prop_assert!(p < PARTITIONS);
            prop_assert_eq!(p, partition_of(&key));
        }

        #[test]
        fn growing_the_buckets_moves_a_key_only_to_the_new_bucket(key in any::<u64>(), n in 1u32..200) {
            let a = jump(key, n);
            let b = jump(key, n + 1);
            prop_assert!(a < n && b < n + 1);
            prop_assert!(b == a || b == n, "{} -> {} with {} buckets", a, b, n + 1);
        }
    }

    #[test]
    fn keys_spread_over_every_partition() {
        let mut counts = [0u32; PARTITIONS as usize];
        for i in 0..16_000 {
            counts[partition_of(&format!("TRK-{i:05}")) as usize] += 1;
        }
        // 1,000 expected each; a hash this skewed would starve workers.
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }
}
