//! What closed operations teach the lead scoring of a view: each evidence kind's weight is
//! scaled by its Laplace-smoothed hit rate relative to an uninformed 0.5 (bounded, see
//! `rastro_ops::feedback::weight_factor`). A view learns only from operations owned by an
//! organisation that is the view's only audience (or from all, for the operator's view): the
//! evidence kinds an operation records were read from its owner's view, and no other
//! audience may see the records behind them or the operation's outcome for certain.

use rastro_fuse::LeadConfig;
use rastro_ops::feedback::{baseline, hit_rates, weight_factor, KindRate};
use rastro_ops::operation::{LabFinding, OpState, Operation};
use rastro_policy::Audience;
use rastro_store::{DocKind, Store, StoreError};
use std::collections::BTreeSet;

/// One closed operation's lesson: its owner, whether the laboratory was found, and the
/// evidence kinds of the leads it acted on.
#[derive(Debug, Clone)]
pub struct Trial {
    pub owner: String,
    pub found: bool,
    pub kinds: BTreeSet<String>,
}

/// The closed operations with an outcome. A body that does not decode is an error naming it.
pub fn trials(store: &Store) -> Result<Vec<Trial>, StoreError> {
    let mut out = Vec::new();
    for row in store.docs(DocKind::Operation)? {
        let op: Operation = rastro_ops::codec::decode(&row.body)
            .map_err(|e| Store::doc_error(DocKind::Operation, &row.id, e))?;
        if let (OpState::Closed, Some(o)) = (op.state, &op.outcome) {
            out.push(Trial {
                owner: op.owner_org.clone(),
                found: o.laboratory == LabFinding::Confirmed,
                kinds: op.evidence_kinds.iter().cloned().collect(),
            });
        }
    }
    Ok(out)
}

/// What a view with these audiences may learn: the hit rates per kind, and the operations'
/// overall rate they are judged against.
pub fn rates_for(audiences: &[Audience], trials: &[Trial]) -> (Vec<KindRate>, f64) {
    let operator = audiences.iter().any(|a| matches!(a, Audience::Operator));
    let sole_org = match audiences {
        [Audience::Org(o)] => Some(o.as_str()),
        _ => None,
    };
    let mine: Vec<&Trial> = trials
        .iter()
        .filter(|t| operator || sole_org == Some(t.owner.as_str()))
        .collect();
    (
        hit_rates(mine.iter().map(|t| (t.found, &t.kinds))),
        baseline(mine.iter().map(|t| (t.found, &t.kinds))),
    )
}

/// `cfg` with each kind's weight scaled by what `rates` teach against `base`.
pub fn calibrated(cfg: &LeadConfig, (rates, base): &(Vec<KindRate>, f64)) -> LeadConfig {
    let mut c = cfg.clone();
    for r in rates {
        let f = weight_factor(r.rate, *base);
        let w = &mut c.weights;
        match r.kind.strip_prefix("alert:") {
            Some(t) => {
                if let Some(v) = w
                    .alerts
                    .iter_mut()
                    .find(|(k, _)| k.as_str() == t)
                    .map(|(_, v)| v)
                {
                    *v *= f;
                }
            }
            None => match r.kind.as_str() {
                "stop" => w.stop *= f,
                "tip" => w.tip *= f,
                "seizure" => w.seizure *= f,
                "equipment_purchase" => w.equipment_purchase *= f,
                "report" => w.other_report *= f,
                _ => {}
            },
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(owner: &str, found: bool, kinds: &[&str]) -> Trial {
        Trial {
            owner: owner.into(),
            found,
            kinds: kinds.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_view_learns_only_from_its_sole_owner_and_weights_move_within_bounds() {
        let t = [
            trial("SEMAR", false, &["alert:route_deviation"]),
            trial("SEMAR", false, &["alert:route_deviation"]),
            trial("SEMAR", true, &["tip"]),
            trial("GN", true, &["alert:route_deviation"]),
        ];
        let semar = rates_for(&[Audience::Org("SEMAR".into())], &t);
        assert_eq!(semar.0.iter().map(|r| r.trials).sum::<u32>(), 3);
        // One of three operations found a laboratory: (1 + 1) / (3 + 2).
        assert!((semar.1 - 0.4).abs() < 1e-12);
        let shared = rates_for(
            &[Audience::Org("SEMAR".into()), Audience::Org("GN".into())],
            &t,
        );
        assert!(shared.0.is_empty(), "a shared view learns nothing");
        assert_eq!(
            rates_for(&[Audience::Operator], &t)
                .0
                .iter()
                .map(|r| r.trials)
                .sum::<u32>(),
            4
        );
        let base = LeadConfig::default();
        let c = calibrated(&base, &semar);
        let rd = rastro_core::Typology::RouteDeviation;
        // Two misses: (0 + 1) / (2 + 2) = 0.25 against 0.4.
        assert!((c.weights.alerts[&rd] - base.weights.alerts[&rd] * 0.625).abs() < 1e-12);
        // One hit: 2/3 against 0.4, bounded at 1.5.
        assert!((c.weights.tip - base.weights.tip * 1.5).abs() < 1e-12);
        assert_eq!(c.weights.stop, base.weights.stop);
    }
}
