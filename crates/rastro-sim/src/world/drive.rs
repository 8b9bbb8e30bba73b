//! Driving: waypoints along the simulator's own roads, the truck's fixes with noise and dropouts,
//! aerial sightings and AIS.

#![allow(clippy::too_many_arguments)]

use super::*;

impl World<'_> {
    /// Waypoints along a node path on the simulator's roads (their polyline, ring roads
    /// included); the driver rests at the next rest stop or fuel station after `rest_after_h`
    /// of driving.
    pub(super) fn waypoints(
        &mut self,
        path: &[usize],
        speed_ms: f64,
        driven_s: &mut f64,
        out: &mut Vec<Wp>,
    ) {
        let line = self.roads.polyline(path);
        let mut prev: Option<Position> = out.last().map(|w| w.pos);
        for pt in line {
            if let Some(p) = prev {
                *driven_s += haversine_m(p.lat, p.lon, pt.pos.lat, pt.pos.lon) / speed_ms;
            }
            prev = Some(pt.pos);
            let rest = pt.stop.is_some_and(|ri| {
                matches!(
                    self.roads.stops[ri].kind,
                    StopKind::RestStop | StopKind::FuelStation
                )
            }) && *driven_s > self.cfg.trucks.rest_after_h * 3600.0;
            let stop_s = if rest {
                *driven_s = 0.0;
                f64::from(self.rng.random_range(
                    self.cfg.trucks.rest_min_s
                        ..=self.cfg.trucks.rest_max_s.max(self.cfg.trucks.rest_min_s),
                ))
            } else {
                0.0
            };
            out.push(Wp {
                pos: pt.pos,
                stop_s,
                dark: false,
                roadside: pt.stop,
            });
        }
    }

    /// Town streets from the last waypoint to `to` (a corner or two, not a straight line).
    pub(super) fn streets_to(&mut self, to: Position, out: &mut Vec<Wp>) {
        let Some(from) = out.last().map(|w| w.pos) else {
            return;
        };
        for pos in roads::streets(from, to, &mut self.rng) {
            out.push(Wp {
                pos,
                stop_s: 0.0,
                dark: false,
                roadside: None,
            });
        }
    }

    /// Drives the waypoints from `depart_s`, writing GPS, plate reads and aerial sightings.
    /// Returns the arrival time at each waypoint.
    pub(super) fn drive(
        &mut self,
        truck: usize,
        start: Position,
        wps: &[Wp],
        depart_s: i64,
        speed_ms: f64,
    ) -> Result<Vec<f64>, SimError> {
        let t_cfg = self.cfg.trucks.clone();
        let (id, plate, interval) = (
            self.trucks[truck].id.clone(),
            self.trucks[truck].plate.clone(),
            f64::from(self.trucks[truck].interval_s),
        );
        let mut t = depart_s as f64;
        let mut next = t;
        let mut cur = start;
        let mut arrivals = Vec::with_capacity(wps.len());
        let total_s: f64 = wps.iter().map(|w| w.stop_s).sum::<f64>() + 3600.0;
        let aerial_at = self
            .rng
            .random_bool(t_cfg.aerial_prob)
            .then(|| t + self.rng.random::<f64>() * total_s * 4.0);
        let mut aerial_done = false;
        for wp in wps {
            let len = haversine_m(cur.lat, cur.lon, wp.pos.lat, wp.pos.lon);
            let v = speed_ms * self.rng.random_range(0.9..1.1);
            let dur = len / v;
            while next < t + dur {
                let f = if dur > 0.0 { (next - t) / dur } else { 1.0 };
                let p = Position {
                    lat: cur.lat + (wp.pos.lat - cur.lat) * f,
                    lon: cur.lon + (wp.pos.lon - cur.lon) * f,
                };
                if !wp.dark {
                    self.gps(&id, next, p, &t_cfg)?;
                }
                if !aerial_done && aerial_at.is_some_and(|a| next >= a) {
                    aerial_done = true;
                    self.aerial(&id, next, p)?;
                }
                next += interval + self.rng.random_range(-2.0..2.0);
            }
            t += dur;
            if let Some(ri) = wp.roadside {
                let kind = self.roads.stops[ri].kind;
                if matches!(kind, StopKind::Checkpoint | StopKind::TollPlaza)
                    && self.rng.random_bool(t_cfg.plate_read_prob)
                {
                    let org = if kind == StopKind::Checkpoint {
                        "GN"
                    } else {
                        "CAPUFE"
                    };
                    let tlp = if kind == StopKind::Checkpoint {
                        "AMBER+STRICT"
                    } else {
                        "AMBER"
                    };
                    // Plate readers misread now and then; their confidence says so.
                    let conf = self.rng.random_range(0.85..0.99);
                    self.out.observation(
                        org,
                        tlp,
                        "",
                        "checkpoint",
                        "plate",
                        &plate,
                        t as i64,
                        wp.pos.lat,
                        wp.pos.lon,
                        15.0,
                        conf,
                    )?;
                }
            }
            arrivals.push(t);
            let stop_end = t + wp.stop_s;
            while next < stop_end {
                if !wp.dark {
                    self.gps(&id, next, wp.pos, &t_cfg)?;
                }
                next += interval + self.rng.random_range(-2.0..2.0);
            }
            t = stop_end;
            cur = wp.pos;
        }
        Ok(arrivals)
    }

    pub(super) fn gps(
        &mut self,
        id: &str,
        t: f64,
        p: Position,
        c: &crate::config::Trucks,
    ) -> Result<(), SimError> {
        if self.rng.random_bool(c.gps_dropout) {
            return Ok(());
        }
        // Independent Gaussian east and north errors in metres, turned into degrees on the
        // local tangent plane (cheaper than spherical trigonometry, and the usual GPS model).
        let u1: f64 = self.rng.random::<f64>().max(1e-12);
        let u2: f64 = self.rng.random();
        let r = (-2.0 * u1.ln()).sqrt() * c.gps_noise_m;
        let (sn, cs) = (std::f64::consts::TAU * u2).sin_cos();
        let cos_lat = self.cos_lat.get(p.lat);
        let q = Position {
            lat: p.lat + r * sn / rastro_core::geo::M_PER_DEG,
            lon: p.lon + r * cs / (rastro_core::geo::M_PER_DEG * cos_lat),
        };
        self.out.observation(
            "ANAM",
            "AMBER",
            "",
            "gps",
            "vehicle",
            id,
            t as i64,
            q.lat,
            q.lon,
            c.gps_noise_m.max(5.0),
            1.0,
        )?;
        Ok(())
    }

    pub(super) fn aerial(&mut self, id: &str, t: f64, p: Position) -> Result<(), SimError> {
        let q = destination(
            p,
            self.rng.random_range(0.0..360.0),
            self.rng.random_range(0.0..150.0),
        );
        let conf: f64 = self.rng.random_range(0.5..0.9);
        // About three flights in ten are the partner's (DEA, flying under a surveillance
        // request of the host nation, one per 30-day period); one in eight of those names no
        // request. Chosen by a hash of the sighting, not the random stream, so every other
        // draw of a seed is unchanged.
        let h = mix(id, t as i64);
        if h % 10 < 3 {
            let period =
                (t as i64 * 1000 - self.start_ms).div_euclid(PARTNER_REQUEST_DAYS * 86_400_000) + 1;
            self.out.partner_observation(rastro_core::Observation {
                id: String::new(),
                originator: "DEA".into(),
                marking: rastro_core::Marking {
                    tlp: rastro_core::Tlp::Amber,
                    releasable_to: ["MX".to_string()].into(),
                },
                source: rastro_core::ObservationSource::Aerial,
                subject_kind: rastro_core::SubjectKind::Vehicle,
                subject: id.to_string(),
                time_ms: t as i64 * 1000,
                lat: (q.lat * 1e6).round() / 1e6,
                lon: (q.lon * 1e6).round() / 1e6,
                accuracy_m: Some(150.0),
                confidence: (conf * 100.0).round() / 100.0,
                speed_kmh: None,
                heading_deg: None,
                ignition: None,
                power: None,
                request: (!(h / 10).is_multiple_of(8))
                    .then(|| format!("{PARTNER_REQUEST_PREFIX}{period}")),
            })?;
        } else {
            self.out.observation(
                "SEMAR", "RED", "MX", "aerial", "vehicle", id, t as i64, q.lat, q.lon, 150.0, conf,
            )?;
        }
        Ok(())
    }

    pub(super) fn ais(&mut self, mmsi: &str, port: usize, arrival_s: i64) -> Result<(), SimError> {
        let p = self.g.ports[port].pos;
        for k in (1..=3).rev() {
            let q = destination(p, 225.0, f64::from(k) * 12_000.0);
            self.out.observation(
                "SEMAR",
                "GREEN",
                "",
                "ais",
                "vessel",
                mmsi,
                arrival_s - i64::from(k) * 1800,
                q.lat,
                q.lon,
                10.0,
                1.0,
            )?;
        }
        Ok(())
    }

    pub(super) fn pick_port(&mut self) -> usize {
        let x: f64 = self.rng.random();
        let mut acc = 0.0;
        for (i, w) in PORT_WEIGHTS.iter().enumerate() {
            acc += w;
            if x < acc {
                return i;
            }
        }
        0
    }
}

/// The partner's surveillance requests are named this, then the 30-day period (from 1).
pub const PARTNER_REQUEST_PREFIX: &str = "SYN-DEA-SURV-";
/// The period one partner request covers (the default law's longest validity).
pub const PARTNER_REQUEST_DAYS: i64 = 30;

/// A 64-bit hash of a subject and a time, for choices that must not consume the random
/// stream.
fn mix(id: &str, t_s: i64) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(id.as_bytes());
    h.update(&t_s.to_le_bytes());
    h.digest()
}
