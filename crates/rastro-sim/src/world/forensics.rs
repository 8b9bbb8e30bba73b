//! Impurity profiles of seized fentanyl: three synthesis routes, each laboratory's signature on
//! its route, drift from batch to batch, measurement noise, peaks lost under the detection
//! limit, and dilution by cutting agents. Also the forensic laboratory's reference collection
//! (closed cases of known provenance, from laboratories outside the scenario) and seizures of
//! product from laboratories the scenario never places.
//!
//! This chemistry is the simulator's own: the analytics see only peak areas, and learn what a
//! link looks like from the reference collection.

use super::*;
use rastro_core::Sample;

/// GC-MS target compounds. The first fourteen are real synthesis by-products, intermediates
/// and route markers of illicit fentanyl (Mayer et al., Anal. Chem. 2016); the rest are
/// synthetic placeholders for a laboratory's further peaks.
pub(super) const COMPOUNDS: [&str; 40] = [
    "4-ANPP",
    "NPP",
    "phenethyl-4-ANPP",
    "acetylfentanyl",
    "propionanilide",
    "norfentanyl",
    "benzylfentanyl",
    "1-benzyl-4-piperidone",
    "1-benzyl-N-phenylpiperidin-4-amine",
    "4-anilinopiperidine",
    "1-Boc-4-AP",
    "N-phenethylpiperidin-4-ol",
    "aniline",
    "2-phenylethyl bromide",
    "SYN-IMP-15",
    "SYN-IMP-16",
    "SYN-IMP-17",
    "SYN-IMP-18",
    "SYN-IMP-19",
    "SYN-IMP-20",
    "SYN-IMP-21",
    "SYN-IMP-22",
    "SYN-IMP-23",
    "SYN-IMP-24",
    "SYN-IMP-25",
    "SYN-IMP-26",
    "SYN-IMP-27",
    "SYN-IMP-28",
    "SYN-IMP-29",
    "SYN-IMP-30",
    "SYN-IMP-31",
    "SYN-IMP-32",
    "SYN-IMP-33",
    "SYN-IMP-34",
    "SYN-IMP-35",
    "SYN-IMP-36",
    "SYN-IMP-37",
    "SYN-IMP-38",
    "SYN-IMP-39",
    "SYN-IMP-40",
];

/// Route markers by index into [`COMPOUNDS`]: Siegfried (NPP → 4-ANPP), Janssen (benzyl
/// piperidone), Gupta one-pot (phenethyl-4-ANPP).
const ROUTE_MARKERS: [&[usize]; 3] = [
    &[0, 1, 4, 11, 12, 13],
    &[5, 6, 7, 8, 9, 4],
    &[0, 1, 2, 3, 12],
];
const INSTRUMENT: &str = "FGR-CGSP-GCMS-1";

/// One route's compounds and their typical log-areas.
pub(super) struct Route {
    typical: Vec<Option<f64>>,
}

/// A laboratory's chemistry: its route signature and each batch's drift.
#[derive(Clone)]
pub(super) struct LabChem {
    level: Vec<Option<f64>>,
    batches: Vec<Vec<f64>>,
}

pub(super) fn routes(rng: &mut ChaCha8Rng) -> Vec<Route> {
    ROUTE_MARKERS
        .iter()
        .map(|markers| {
            let n = rng.random_range(20..=40usize);
            let mut present: Vec<usize> = markers.to_vec();
            let mut rest: Vec<usize> = (0..COMPOUNDS.len())
                .filter(|k| !markers.contains(k))
                .collect();
            rest.shuffle(rng);
            present.extend(rest.into_iter().take(n.saturating_sub(markers.len())));
            let mut typical = vec![None; COMPOUNDS.len()];
            for k in present {
                // Markers are large peaks; by-products spread over two orders of magnitude.
                let base = if markers.contains(&k) { 8.0 } else { 5.5 };
                typical[k] = Some(base + gauss(rng) * 1.2);
            }
            Route { typical }
        })
        .collect()
}

impl LabChem {
    pub(super) fn new(
        route: &Route,
        batches: u32,
        cfg: &crate::config::ForensicsCfg,
        rng: &mut ChaCha8Rng,
    ) -> LabChem {
        let level = route
            .typical
            .iter()
            .map(|t| t.map(|v| v + gauss(rng) * cfg.lab_spread))
            .collect();
        let batches = (0..batches.max(1))
            .map(|_| {
                (0..COMPOUNDS.len())
                    .map(|_| gauss(rng) * cfg.batch_drift)
                    .collect()
            })
            .collect();
        LabChem { level, batches }
    }

    pub(super) fn batches(&self) -> usize {
        self.batches.len()
    }

    /// One sample of `batch` at purity `purity` (cutting agents dilute every peak alike).
    fn areas(
        &self,
        batch: usize,
        purity: f64,
        cfg: &crate::config::ForensicsCfg,
        rng: &mut ChaCha8Rng,
    ) -> Vec<(String, f64)> {
        let drift = &self.batches[batch % self.batches.len()];
        let mut out = Vec::new();
        for (k, level) in self.level.iter().enumerate() {
            let Some(l) = level else { continue };
            let a = (l + drift[k] + gauss(rng) * cfg.measurement_noise).exp() * purity;
            if a >= cfg.detection_limit {
                out.push((COMPOUNDS[k].to_string(), (a * 10.0).round() / 10.0));
            }
        }
        out
    }
}

impl World<'_> {
    /// Writes 1..=max samples of one seizure and their truth.
    pub(super) fn seizure_samples(
        &mut self,
        seizure: &str,
        chem: &LabChem,
        lab: &str,
        batch: usize,
        t_ms: i64,
    ) -> Result<(), SimError> {
        let fc = self.cfg.forensics.clone();
        let n = self
            .frng
            .random_range(1..=fc.max_samples_per_seizure.max(1));
        // Street product is cut to 5-60% purity; one seizure is one cut.
        let purity = self.frng.random_range(0.05..0.6);
        for k in 0..n {
            let areas = chem.areas(
                batch,
                purity * self.frng.random_range(0.9..1.1),
                &fc,
                &mut self.frng,
            );
            let id = format!("{seizure}-S{}", k + 1);
            let analysed_ms = t_ms + self.frng.random_range(3..30) * 86_400_000;
            self.out.record(&Record::Sample(Sample {
                id: id.clone(),
                originator: "FGR".into(),
                marking: m(Tlp::Amber, &["US"]),
                seizure: Some(seizure.to_string()),
                reference_group: None,
                analysed_ms,
                instrument: INSTRUMENT.into(),
                areas,
            }))?;
            Out::truth(
                &mut self.out.truth.samples,
                &serde_json::json!({"truth_kind": "sample", "sample": id, "seizure": seizure, "lab": lab, "batch": format!("{lab}-B{}", batch % chem.batches())}),
            )?;
        }
        Ok(())
    }

    /// Seizures of product from laboratories the scenario never places, and the reference
    /// collection of closed cases.
    pub(super) fn forensic_background(&mut self, routes: &[Route]) -> Result<(), SimError> {
        let fc = self.cfg.forensics.clone();
        let end = self.start_ms + self.period_ms();
        for b in 0..fc.background_labs {
            let route = &routes[self.frng.random_range(0..routes.len())];
            let chem = LabChem::new(route, 2, &fc, &mut self.frng);
            let lab = format!("BG-LAB-{b:03}");
            for s in 0..fc.seizures_per_background_lab {
                let t = self.start_ms
                    + (self.frng.random::<f64>() * (end - self.start_ms) as f64) as i64;
                let city = self.frng.random_range(0..self.g.cities.len());
                let p = self.g.urban_point(
                    city,
                    self.frng.random_range(0.0..360.0),
                    self.frng.random_range(0.0..5000.0),
                );
                let rid = self.seizure_report(t, p)?;
                Out::truth(
                    &mut self.out.truth.seizures,
                    &serde_json::json!({"truth_kind": "seizure", "report": rid, "lab": lab, "batch": format!("{lab}-B{}", s % 2)}),
                )?;
                self.seizure_samples(&rid, &chem, &lab, s as usize, t)?;
            }
        }
        // The reference collection: each closed case is one laboratory's product, sampled
        // from one or two batches, analysed on the same instrument in earlier years.
        for c in 0..fc.reference_cases {
            let route = &routes[c as usize % routes.len()];
            let chem = LabChem::new(route, 2, &fc, &mut self.frng);
            let group = format!("CASE-{}-{c:03}", 2021 + c % 4);
            for k in 0..fc.reference_samples_per_case {
                let purity = self.frng.random_range(0.05..0.6);
                let areas = chem.areas(k as usize % 2, purity, &fc, &mut self.frng);
                self.out.record(&Record::Sample(Sample {
                    id: format!("REF-{c:03}-{k}"),
                    originator: "FGR".into(),
                    marking: m(Tlp::Amber, &["US"]),
                    seizure: None,
                    reference_group: Some(group.clone()),
                    analysed_ms: self.start_ms - self.frng.random_range(30..1500) * 86_400_000,
                    instrument: INSTRUMENT.into(),
                    areas,
                }))?;
            }
        }
        Ok(())
    }

    /// A seizure report (FGR, TLP:AMBER shared with the US) at `p`.
    pub(super) fn seizure_report(&mut self, t: i64, p: Position) -> Result<String, SimError> {
        let q = (self.frng.random_range(0.1f64..40.0) * 10.0).round() / 10.0;
        self.report(
            ReportKind::Seizure,
            "FGR",
            m(Tlp::Amber, &["US"]),
            t,
            Some(p),
            ('A', 1),
            vec![],
            "Aseguramiento de pastillas prensadas",
            Some(q),
            vec![],
        )
    }
}
