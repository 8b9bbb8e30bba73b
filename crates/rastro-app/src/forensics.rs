//! Forensic linkage as a viewer sees it: the samples and seizures they may see, calibrated on
//! the reference samples they may see, linked and grouped, and each group tied to their leads
//! by place and time and through those leads to the consignments and importers that fed them.
//! Computed per read from what the caller sees, so nothing they may not see moves a threshold,
//! a score, a group or a count.

use crate::guard::Guard;
use crate::views::{LeadForensicV1, LeadV1};
use crate::AppError;
use rastro_core::geo::haversine_m;
use rastro_core::{Consignment, Kind, Record, Report, ReportKind, Sample, Tlp};
use rastro_forensics::{
    calibrate, groups, link_all, Calibration, Config, Links, ProfileSet, SampleInput,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// The most links one read returns (strongest first); `links_total` counts them all.
pub const MAX_LINKS: usize = 5000;
/// A seizure this close to a lead ties its group to the lead.
pub const TIE_RADIUS_M: f64 = 10_000.0;
/// ...when it falls within the lead's evidence period widened by this much on either side
/// (product reaches the street weeks after it is made).
pub const TIE_WINDOW_MS: i64 = 180 * 86_400_000;

/// One method as calibration measured it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CandidateV1 {
    /// `pretreatment + distance`.
    pub method: String,
    pub auc: f64,
    pub true_link_rate: f64,
    pub threshold: f64,
}

/// What calibration chose, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CalibrationV1 {
    pub pretreatment: String,
    pub distance: String,
    /// Linked when the value is `comparator` the threshold (`>` for Pearson r, `<` for a distance).
    pub threshold: f64,
    pub comparator: String,
    pub stated_false_link_rate: f64,
    /// Share of known-unlinked reference pairs past the threshold.
    pub false_link_rate: f64,
    pub true_link_rate: f64,
    pub auc: f64,
    pub linked_pairs: usize,
    pub unlinked_pairs: usize,
    pub reference_samples: usize,
    pub candidates: Vec<CandidateV1>,
}

/// A sample left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RejectedV1 {
    pub sample: String,
    pub reason: String,
}

/// Two samples linked, never a bare "match": the value, and how often unlinked pairs reach it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SampleLinkV1 {
    pub a: String,
    pub b: String,
    pub seizure_a: String,
    pub seizure_b: String,
    /// The calibrated method's value (Pearson r, or the distance).
    pub value: f64,
    /// Share of known-unlinked reference pairs at least this alike.
    pub false_link_rate: f64,
    /// Share of known-linked reference pairs at least this alike.
    pub true_link_rate: f64,
}

/// A lead a group is tied to, and through it the consignments and importers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupLeadV1 {
    pub lead: String,
    /// The group's seizure nearest the lead, and how far.
    pub seizure: String,
    pub distance_m: f64,
    /// Consignments among the lead's evidence, and their importers.
    pub consignments: Vec<String>,
    pub importers: Vec<String>,
}

/// Seizures whose samples link into one group.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupV1 {
    /// `FG-` and the group's first sample: stable while that sample stays in it.
    pub id: String,
    pub samples: Vec<String>,
    pub seizures: Vec<String>,
    /// Mean value of the method over all sample pairs of the group.
    pub mean_value: f64,
    pub leads: Vec<GroupLeadV1>,
    pub summary: String,
}

/// Forensic linkage for one viewer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ForensicsV1 {
    /// Samples from seizures compared (the viewer's, accepted).
    pub samples: usize,
    pub calibration: Option<CalibrationV1>,
    /// Why there is no calibration, when there is none.
    pub not_calibrated: Option<String>,
    pub rejected: Vec<RejectedV1>,
    pub links_total: usize,
    pub links: Vec<SampleLinkV1>,
    pub groups: Vec<GroupV1>,
}

/// What one computation produced, kept for plots.
pub struct Job {
    pub view: ForensicsV1,
    pub calibration: Option<Calibration>,
    /// The accepted casework profiles, in the order links index them.
    pub casework: ProfileSet,
    /// Every link (the view lists the strongest [`MAX_LINKS`]), and the work done.
    pub links: Links,
}

fn calibration_view(c: &Calibration) -> CalibrationV1 {
    CalibrationV1 {
        pretreatment: c.method.pretreatment.name().into(),
        distance: c.method.distance.name().into(),
        threshold: c.threshold,
        comparator: c.comparator().into(),
        stated_false_link_rate: c.stated_false_link_rate,
        false_link_rate: c.false_link_rate,
        true_link_rate: c.true_link_rate,
        auc: c.auc,
        linked_pairs: c.linked_pairs,
        unlinked_pairs: c.unlinked_pairs,
        reference_samples: c.reference_samples,
        candidates: c
            .candidates
            .iter()
            .map(|k| CandidateV1 {
                method: k.method.to_string(),
                auc: k.auc,
                true_link_rate: k.true_link_rate,
                threshold: k.threshold,
            })
            .collect(),
    }
}

/// Links and groups of `samples` (any source: the store, a file); samples naming a seizure
/// `seizure_known` denies are refused with a reason that does not say whether it exists.
pub fn analyse(
    config: &Config,
    samples: &[Sample],
    seizure_known: &dyn Fn(&str) -> bool,
) -> Result<Job, rastro_forensics::ForensicsError> {
    let mut rejected = Vec::new();
    let mut casework = Vec::new();
    let mut reference = Vec::new();
    for s in samples {
        let input = SampleInput {
            id: s.id.clone(),
            seizure: s.seizure.clone(),
            group: s.reference_group.clone(),
            areas: s.areas.clone(),
        };
        if let Some(z) = &s.seizure {
            if !seizure_known(z) {
                rejected.push(RejectedV1 {
                    sample: s.id.clone(),
                    reason: format!("seizure {z} is unknown or not visible to you"),
                });
                continue;
            }
            casework.push(input.clone());
        }
        if s.reference_group.is_some() {
            reference.push(input);
        }
    }
    if casework.len() + reference.len() > config.limits.max_samples {
        return Err(rastro_forensics::ForensicsError::TooManySamples {
            samples: casework.len() + reference.len(),
            limit: config.limits.max_samples,
        });
    }
    let (cases, bad) = ProfileSet::build(config, &casework);
    rejected.extend(bad.into_iter().map(|r| RejectedV1 {
        sample: r.sample,
        reason: r.reason,
    }));
    let (refs, bad) = ProfileSet::build(config, &reference);
    for r in bad {
        if !rejected.iter().any(|x| x.sample == r.sample) {
            rejected.push(RejectedV1 {
                sample: r.sample,
                reason: r.reason,
            });
        }
    }
    rejected.sort_by(|a, b| a.sample.cmp(&b.sample));
    let mut view = ForensicsV1 {
        samples: cases.len(),
        calibration: None,
        not_calibrated: None,
        rejected,
        links_total: 0,
        links: Vec::new(),
        groups: Vec::new(),
    };
    let c = match calibrate(config, &refs) {
        Ok(c) => c,
        Err(e) => {
            view.not_calibrated = Some(e.to_string());
            return Ok(Job {
                view,
                calibration: None,
                casework: cases,
                links: Links::default(),
            });
        }
    };
    view.calibration = Some(calibration_view(&c));
    let dims = config.compounds.len();
    let links = link_all(&cases, dims, &c, config.limits.max_links)?;
    let p = &cases.profiles;
    let seizure_of = |i: u32| p[i as usize].seizure.clone().unwrap_or_default();
    view.links_total = links.links.len();
    view.links = links
        .links
        .iter()
        .take(MAX_LINKS)
        .map(|l| SampleLinkV1 {
            a: p[l.a as usize].id.clone(),
            b: p[l.b as usize].id.clone(),
            seizure_a: seizure_of(l.a),
            seizure_b: seizure_of(l.b),
            value: l.raw,
            false_link_rate: c.false_link_rate_at(l.score),
            true_link_rate: c.true_link_rate_at(l.score),
        })
        .collect();
    for g in groups(cases.len(), &links.links, c.cut, c.unlinked_median()) {
        let samples: Vec<String> = g
            .members
            .iter()
            .map(|m| p[*m as usize].id.clone())
            .collect();
        let seizures: BTreeSet<String> = g.members.iter().map(|m| seizure_of(*m)).collect();
        view.groups.push(GroupV1 {
            id: format!("FG-{}", samples[0]),
            mean_value: c.method.distance.unorient(g.mean_score),
            summary: String::new(),
            samples,
            seizures: seizures.into_iter().collect(),
            leads: Vec::new(),
        });
    }
    // Groups of one seizure's replicates say nothing new; groups across seizures first.
    view.groups.sort_by(|a, b| {
        b.seizures
            .len()
            .cmp(&a.seizures.len())
            .then(a.id.cmp(&b.id))
    });
    Ok(Job {
        view,
        calibration: Some(c),
        casework: cases,
        links,
    })
}

impl Guard<'_> {
    /// Forensic linkage over what the caller sees (the embedded fentanyl configuration).
    pub fn forensics_job(&mut self) -> Result<Job, AppError> {
        self.forensics_with(true)
    }

    /// As [`Self::forensics_job`]; `tie` = false skips the ties to leads (a plot needs only
    /// the calibration, not the lead and alert reads).
    fn forensics_with(&mut self, tie: bool) -> Result<Job, AppError> {
        let config = Config::fentanyl();
        let samples: Vec<Sample> = self
            .visible_records(Kind::Sample)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Sample(s) => Some(s),
                _ => None,
            })
            .collect();
        let seizures: BTreeMap<String, Report> = self
            .visible_records(Kind::Report)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Report(x) if x.report_kind == ReportKind::Seizure => {
                    Some((x.id.clone(), x))
                }
                _ => None,
            })
            .collect();
        let mut job = analyse(&config, &samples, &|z| seizures.contains_key(z))
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        if tie {
            self.tie_to_leads(&mut job.view, &seizures)?;
        }
        let mut read: Vec<String> = samples
            .iter()
            .filter(|s| s.marking.tlp != Tlp::Clear)
            .map(|s| s.id.clone())
            .collect();
        read.sort();
        self.log_read("forensics", read)?;
        Ok(job)
    }

    /// Fills each lead's forensic groups (its explanation and packages) from one linkage over
    /// what the caller sees.
    pub(crate) fn fill_forensics(&mut self, leads: &mut [LeadV1]) -> Result<(), AppError> {
        let job = self.forensics_job()?;
        let Some(c) = &job.view.calibration else {
            return Ok(());
        };
        let method = format!(
            "{} + {} {} {:.4}",
            c.pretreatment, c.distance, c.comparator, c.threshold
        );
        for l in leads.iter_mut() {
            l.forensic_groups = job
                .view
                .groups
                .iter()
                .filter_map(|g| {
                    let t = g.leads.iter().find(|t| t.lead == l.id)?;
                    Some(LeadForensicV1 {
                        group: g.id.clone(),
                        seizures: g.seizures.clone(),
                        samples: g.samples.len(),
                        seizure: t.seizure.clone(),
                        distance_m: t.distance_m,
                        mean_value: g.mean_value,
                        method: method.clone(),
                        summary: g.summary.clone(),
                    })
                })
                .collect();
        }
        Ok(())
    }

    /// Ties each group to the caller's leads by place and time, and through them to the
    /// consignments and importers among the leads' evidence.
    fn tie_to_leads(
        &mut self,
        view: &mut ForensicsV1,
        seizures: &BTreeMap<String, Report>,
    ) -> Result<(), AppError> {
        let leads = match self.vid() {
            Some(vid) => self.store().leads(vid, 500)?,
            None => Vec::new(),
        };
        let consignments: BTreeMap<String, Consignment> = self
            .visible_records(Kind::Consignment)?
            .into_iter()
            .filter_map(|r| match r {
                Record::Consignment(c) => Some((c.id.clone(), c)),
                _ => None,
            })
            .collect();
        let vid = self.vid();
        let in_window = |l: &rastro_core::Lead, r: &Report| {
            let first = l
                .evidence
                .iter()
                .map(|c| c.evidence.time_ms)
                .min()
                .unwrap_or(l.last_seen_ms);
            (first - TIE_WINDOW_MS..=l.last_seen_ms + TIE_WINDOW_MS).contains(&r.time_ms)
        };
        for g in &mut view.groups {
            // Each seizure ties to its nearest lead within reach (a city may hold two leads;
            // the seizure is evidence for the nearer); the group to every lead so tied.
            let mut tied: BTreeMap<usize, (String, f64)> = BTreeMap::new();
            for r in g.seizures.iter().filter_map(|z| seizures.get(z)) {
                let Some(p) = r.position else { continue };
                let nearest = leads
                    .iter()
                    .enumerate()
                    .filter(|(_, l)| in_window(l, r))
                    .map(|(i, l)| (i, haversine_m(p.lat, p.lon, l.lat, l.lon)))
                    .filter(|(_, d)| *d <= TIE_RADIUS_M)
                    .min_by(|a, b| a.1.total_cmp(&b.1));
                if let Some((i, d)) = nearest {
                    let e = tied.entry(i).or_insert((r.id.clone(), d));
                    if d < e.1 {
                        *e = (r.id.clone(), d);
                    }
                }
            }
            for (i, (seizure, distance_m)) in tied {
                let l = &leads[i];
                let mut cons = BTreeSet::new();
                for c in &l.evidence {
                    let o = &c.evidence.origin;
                    if let Some(rest) = o.strip_prefix("stop:") {
                        if let Some((cid, _)) = rest.rsplit_once(':') {
                            cons.insert(cid.to_string());
                        }
                    } else if let Some(v) = vid {
                        if let Some(a) = self.store().alert(v, o)? {
                            cons.insert(a.subject);
                        }
                    }
                }
                let cons: Vec<String> = cons
                    .into_iter()
                    .filter(|c| consignments.contains_key(c))
                    .collect();
                let importers: BTreeSet<String> = cons
                    .iter()
                    .filter_map(|c| consignments.get(c))
                    .map(|c| c.importer.clone())
                    .collect();
                g.leads.push(GroupLeadV1 {
                    lead: l.id.clone(),
                    seizure,
                    distance_m: distance_m.round(),
                    consignments: cons,
                    importers: importers.into_iter().collect(),
                });
            }
            g.summary = group_summary(g);
        }
        Ok(())
    }

    /// SVG of the caller's calibration (`distributions` or `roc`), in `lang`.
    pub fn forensics_plot(&mut self, which: &str, lang: &str) -> Result<Option<String>, AppError> {
        let job = self.forensics_with(false)?;
        let Some(c) = job.calibration else {
            return Ok(None);
        };
        let labels = rastro_forensics::plot::Labels::for_lang(lang);
        Ok(match which {
            "distributions" => Some(rastro_forensics::plot::distributions(&c, labels)),
            "roc" => Some(rastro_forensics::plot::roc(&c, labels)),
            _ => None,
        })
    }
}

fn group_summary(g: &GroupV1) -> String {
    let mut s = format!(
        "{} seizures, {} samples linked (mean {:.3})",
        g.seizures.len(),
        g.samples.len(),
        g.mean_value
    );
    for l in &g.leads {
        s.push_str(&format!(
            "; tied to lead {} (seizure {} {:.1} km away)",
            l.lead,
            l.seizure,
            l.distance_m / 1000.0
        ));
        if !l.consignments.is_empty() {
            s.push_str(&format!(
                ", fed by {} consignment(s) of {}",
                l.consignments.len(),
                l.importers.join(", ")
            ));
        }
    }
    s
}
