//! Clustering of pairwise matches into entities. Links are taken strongest first. A strong
//! link (probability ≥ `strong`) joins its two clusters; a weak one joins them only when at
//! least `min_density` of the pairs across the two clusters are linked, so a chain A–B–C–D of
//! weak links where A and D share nothing stops growing. No cluster passes `max_cluster`.

use crate::model::Scored;
use rustc_hash::FxHashSet;

pub struct Clustering {
    parent: Vec<u32>,
    members: Vec<Vec<u32>>,
    /// Linked pairs (smaller index first), for the density check.
    linked: FxHashSet<(u32, u32)>,
    adjacency: Vec<Vec<u32>>,
    /// Links refused by the guard.
    pub refused: usize,
}

impl Clustering {
    pub fn new(n: usize) -> Clustering {
        Clustering {
            parent: (0..n as u32).collect(),
            members: (0..n as u32).map(|i| vec![i]).collect(),
            linked: FxHashSet::default(),
            adjacency: vec![Vec::new(); n],
            refused: 0,
        }
    }

    /// Room for one more record (the incremental resolver adds records one at a time).
    pub fn grow(&mut self) {
        let i = self.parent.len() as u32;
        self.parent.push(i);
        self.members.push(vec![i]);
        self.adjacency.push(Vec::new());
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// The root of `x` without compressing the path (for reads while members are borrowed).
    fn root(&self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    /// Clusters `pairs` (each at or above the reporting threshold).
    pub fn build(
        n: usize,
        pairs: &[Scored],
        strong: f64,
        min_density: f64,
        max_cluster: usize,
    ) -> Clustering {
        let mut c = Clustering::new(n);
        let mut order: Vec<&Scored> = pairs.iter().collect();
        order.sort_by(|x, y| {
            y.weight
                .total_cmp(&x.weight)
                .then((x.a, x.b).cmp(&(y.a, y.b)))
        });
        for p in &order {
            c.record_link(p.a, p.b);
        }
        for p in order {
            c.join(p, strong, min_density, max_cluster);
        }
        c
    }

    /// Notes a link for the density check, without joining.
    pub fn record_link(&mut self, a: u32, b: u32) {
        let key = (a.min(b), a.max(b));
        if self.linked.insert(key) {
            self.adjacency[a as usize].push(b);
            self.adjacency[b as usize].push(a);
        }
    }

    /// Joins the clusters of a link's two records if the guard allows; true when joined.
    pub fn join(&mut self, p: &Scored, strong: f64, min_density: f64, max_cluster: usize) -> bool {
        let (ra, rb) = (self.find(p.a), self.find(p.b));
        if ra == rb {
            return false;
        }
        let (na, nb) = (
            self.members[ra as usize].len(),
            self.members[rb as usize].len(),
        );
        if na + nb > max_cluster {
            self.refused += 1;
            return false;
        }
        if p.probability < strong {
            let (small, other) = if na <= nb { (ra, rb) } else { (rb, ra) };
            let cross: usize = self.members[small as usize]
                .iter()
                .flat_map(|&m| &self.adjacency[m as usize])
                .filter(|&&x| self.root(x) == other)
                .count();
            if (cross as f64) < min_density * (na * nb) as f64 {
                self.refused += 1;
                return false;
            }
        }
        // The smaller index becomes the root, so clusters do not depend on link order.
        let (root, child) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[child as usize] = root;
        let moved = std::mem::take(&mut self.members[child as usize]);
        self.members[root as usize].extend(moved);
        true
    }

    /// Each record's cluster, as the smallest record index in it.
    pub fn labels(&mut self) -> Vec<u32> {
        (0..self.parent.len() as u32)
            .map(|i| self.find(i))
            .collect()
    }

    pub fn members_of(&mut self, x: u32) -> Vec<u32> {
        let r = self.find(x);
        let mut m = self.members[r as usize].clone();
        m.sort_unstable();
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(a: u32, b: u32, p: f64) -> Scored {
        Scored {
            a,
            b,
            weight: (p / (1.0 - p)).log2(),
            probability: p,
        }
    }

    #[test]
    fn weak_chains_stop_and_strong_links_join() {
        // 0–1–2–3–4 a chain of weak links: it stops after two.
        let pairs = [s(0, 1, 0.7), s(1, 2, 0.69), s(2, 3, 0.68), s(3, 4, 0.67)];
        let mut c = Clustering::build(5, &pairs, 0.99, 0.5, 100);
        let l = c.labels();
        assert_eq!(l[0], l[1]);
        assert_eq!(l[1], l[2]);
        assert_ne!(l[2], l[3]);
        // The same chain of strong links is one entity.
        let pairs: Vec<Scored> = (0..4).map(|i| s(i, i + 1, 0.999)).collect();
        let mut c = Clustering::build(5, &pairs, 0.99, 0.5, 100);
        assert!(c.labels().iter().all(|&x| x == 0));
        // The size cap holds even for strong links.
        let mut c = Clustering::build(5, &pairs, 0.99, 0.5, 3);
        assert_eq!(c.members_of(0).len(), 3);
        assert!(c.refused > 0);
    }
}
