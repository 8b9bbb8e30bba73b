//! What the fleet's learned normal explains: a stop where unrelated carriers stop is what
//! legitimate traffic does (a truck stop the registry does not list), whatever the registry
//! says.
//!
//! Route deviations are not withdrawn by this rule: a detour by another city runs past places
//! many carriers stop at, so "a place others use" is no excuse (measured: it withdrew three in
//! four true deviations of the medium scenario). They are judged by [`crate::detour`] against
//! the roads other carriers drive instead.
//!
//! Popularity counts distinct carriers other than the vehicle's own (`rastro_learn::Model`),
//! so a carrier's own habits never make its detour normal, and a place a few complicit
//! carriers share is not a truck stop.

use rastro_core::{Alert, Typology};
use rastro_learn::{LearnConfig, Model};

/// Removes the unscheduled-stop alerts of one consignment that the learned normal explains:
/// a stop at a place where at least `stop_min_carriers` carriers other than `own` stop.
/// Nothing is explained by a model too young to say what is normal (`warm_carriers`).
/// Returns how many were removed.
pub fn explain(alerts: &mut Vec<Alert>, model: &Model, own: u32, cfg: &LearnConfig) -> usize {
    let before = alerts.len();
    alerts.retain(|a| match (a.typology, a.lat.zip(a.lon)) {
        (Typology::UnscheduledStop, Some((lat, lon))) => !explains_stop(model, lat, lon, own, cfg),
        _ => true,
    });
    before - alerts.len()
}

/// Whether the learned normal explains a stop of a vehicle of carrier `own` at a position: the
/// model is warm and at least `stop_min_carriers` other carriers stop there.
pub fn explains_stop(model: &Model, lat: f64, lon: f64, own: u32, cfg: &LearnConfig) -> bool {
    !model.is_cold(cfg) && model.is_stop_place(lat, lon, own, cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rastro_core::Marking;
    use rastro_learn::{carrier_id, TrackPoint};

    fn alert(t: Typology, lat: f64, lon: f64) -> Alert {
        Alert {
            id: format!("{}:C1:x", t.as_str()),
            typology: t,
            subject: "C1".into(),
            time_ms: 0,
            lat: Some(lat),
            lon: Some(lon),
            score: 0.8,
            evidence: vec!["C1".into()],
            summary: String::new(),
            marking: Marking::new(rastro_core::Tlp::Amber),
            facts: Default::default(),
        }
    }

    /// A road east along latitude 20 (about 1 km a minute), with an hour's stop at its
    /// middle: a truck stop no registry lists.
    fn trip(t0: i64) -> Vec<TrackPoint> {
        let mut out = Vec::new();
        let mut t = t0;
        for i in 0..60 {
            let lon = -103.0 + i as f64 * 0.01;
            out.push(TrackPoint {
                t_ms: t,
                lat: 20.0,
                lon,
            });
            t += 60_000;
            if i == 30 {
                for _ in 0..60 {
                    out.push(TrackPoint {
                        t_ms: t,
                        lat: 20.0,
                        lon,
                    });
                    t += 60_000;
                }
            }
        }
        out
    }

    #[test]
    fn popular_places_explain_and_a_carriers_own_habits_do_not() {
        let cfg = LearnConfig::default();
        let mut m = Model::new(&cfg);
        let mut grown = Vec::new();
        for (i, c) in ["A", "B", "C", "D", "E", "F"].iter().enumerate() {
            m.learn_track(
                carrier_id(c),
                &trip(i as i64 * 86_400_000),
                &cfg,
                &mut grown,
            );
        }
        // Carrier X alone goes into a neighbourhood 5 km north and waits there, every day.
        let own = carrier_id("X");
        let hideout: Vec<TrackPoint> = (0..90)
            .map(|k| TrackPoint {
                t_ms: k * 60_000,
                lat: 20.045,
                lon: -102.7,
            })
            .collect();
        m.learn_track(own, &hideout, &cfg, &mut grown);
        let truck_stop = (20.0, -103.0 + 30.0 * 0.01);
        let mut alerts = vec![
            alert(Typology::UnscheduledStop, truck_stop.0, truck_stop.1),
            alert(Typology::RouteDeviation, 20.0, -102.55),
            alert(Typology::UnscheduledStop, 20.045, -102.7),
            alert(Typology::RouteDeviation, 20.045, -102.7),
            alert(Typology::TrackingGap, truck_stop.0, truck_stop.1),
        ];
        assert_eq!(explain(&mut alerts, &m, own, &cfg), 1);
        // The truck stop is explained; a deviation on a popular road is not (a detour by
        // another city drives popular roads too); the hideout only X uses stays suspicious.
        let left: Vec<(Typology, Option<f64>)> =
            alerts.iter().map(|a| (a.typology, a.lat)).collect();
        assert_eq!(
            left,
            [
                (Typology::RouteDeviation, Some(20.0)),
                (Typology::UnscheduledStop, Some(20.045)),
                (Typology::RouteDeviation, Some(20.045)),
                (Typology::TrackingGap, Some(20.0)),
            ]
        );
        // For a carrier of the road, the others there are five, not six: still popular.
        let mut again = vec![alert(Typology::UnscheduledStop, truck_stop.0, truck_stop.1)];
        explain(&mut again, &m, carrier_id("A"), &cfg);
        assert!(again.is_empty());
        // A model too young to know (fewer carriers than `warm_carriers`) explains nothing.
        let mut young = Model::new(&cfg);
        young.learn_track(carrier_id("A"), &trip(0), &cfg, &mut grown);
        let mut kept = vec![alert(Typology::UnscheduledStop, truck_stop.0, truck_stop.1)];
        assert_eq!(explain(&mut kept, &young, own, &cfg), 0);
        assert_eq!(kept.len(), 1);
    }
}
