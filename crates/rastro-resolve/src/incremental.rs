//! Resolution as records arrive: a trained model, a block index per rule and the clusters. A
//! new record is compared only with the records sharing one of its block keys, and joins or
//! starts a cluster; nothing already resolved is recomputed.

use crate::block::{key_of, NO_KEY};
use crate::cluster::Clustering;
use crate::compare::pattern;
use crate::model::{probability, Contribution, Model, Scored};
use crate::settings::{Settings, Term};
use crate::table::Table;
use crate::ResolveError;
use rustc_hash::FxHashMap;

pub struct Resolver {
    settings: Settings,
    rules: Vec<Vec<Term>>,
    table: Table,
    model: Model,
    index: Vec<FxHashMap<u64, Vec<u32>>>,
    clusters: Clustering,
    /// Each record's links at or above the threshold.
    links: Vec<Vec<Scored>>,
}

impl Resolver {
    /// Trains a model on `batch` (blocked as the settings say), then resolves its records one
    /// by one as if they had arrived in order.
    pub fn train(settings: &Settings, batch: Table) -> Result<Resolver, ResolveError> {
        let blocking = crate::block::Blocking::new(&batch, settings, false)?;
        let compared = crate::compare_all(&batch, &blocking, false);
        let model = crate::model::train(&batch, settings, &compared.per_rule, false);
        let mut r = Resolver {
            settings: settings.clone(),
            rules: settings.rules(),
            table: batch,
            model,
            index: vec![FxHashMap::default(); settings.blocking.len()],
            clusters: Clustering::new(0),
            links: Vec::new(),
        };
        for i in 0..r.table.len() {
            r.resolve(i);
        }
        Ok(r)
    }

    /// Adds one record (raw values in settings order) and resolves it; its index.
    pub fn add(&mut self, id: String, values: &[Option<&str>]) -> usize {
        self.table.push(id, 0, values, None);
        let i = self.table.len() - 1;
        self.resolve(i);
        i
    }

    fn resolve(&mut self, i: usize) {
        self.clusters.grow();
        self.links.push(Vec::new());
        let mut buf = String::new();
        let mut candidates: Vec<u32> = Vec::new();
        for (ri, rule) in self.rules.iter().enumerate() {
            let k = key_of(&self.table, rule, i, &mut buf);
            if k == NO_KEY {
                continue;
            }
            let list = self.index[ri].entry(k).or_default();
            candidates.extend(list.iter().copied());
            list.push(i as u32);
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut found: Vec<Scored> = candidates
            .into_iter()
            .filter_map(|j| {
                let j = j as usize;
                let w = self
                    .model
                    .weight(&self.table, j, i, pattern(&self.table, j, i));
                let p = probability(w);
                (p >= self.settings.threshold).then_some(Scored {
                    a: j as u32,
                    b: i as u32,
                    weight: w,
                    probability: p,
                })
            })
            .collect();
        found.sort_by(|x, y| y.weight.total_cmp(&x.weight).then(x.a.cmp(&y.a)));
        for s in &found {
            self.clusters.record_link(s.a, s.b);
        }
        for s in &found {
            self.clusters.join(
                s,
                self.settings.strong,
                self.settings.min_density,
                self.settings.max_cluster,
            );
            self.links[s.a as usize].push(s.clone());
        }
        self.links[i] = found;
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn id(&self, i: usize) -> &str {
        &self.table.ids[i]
    }

    pub fn table(&self) -> &Table {
        &self.table
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The cluster of record `i`: the index of its first record.
    pub fn cluster(&mut self, i: usize) -> usize {
        self.clusters.find(i as u32) as usize
    }

    pub fn members(&mut self, i: usize) -> Vec<usize> {
        self.clusters
            .members_of(i as u32)
            .into_iter()
            .map(|x| x as usize)
            .collect()
    }

    /// Links of record `i` at or above the threshold (whether or not the guard joined them).
    pub fn links(&self, i: usize) -> &[Scored] {
        &self.links[i]
    }

    /// Why records `a` and `b` match: each column's level and weight.
    pub fn explain(&self, a: usize, b: usize) -> Vec<Contribution> {
        self.model.explain(&self.table, a, b)
    }
}
