//! One trip from port to destination, in stages: the route its scenario plans (a lab that
//! fits, or a fall-back to a legitimate trip), the declaration, the port events, the
//! waypoints its scenario drives, the drive, the delivery, and the diversion truth. The order
//! of random draws is part of the output (same seed, same bytes), so each stage draws in the
//! order the trip needs them.

use super::*;
use crate::scenario::Scenario;

/// What a consignment's trip is to be.
pub(super) struct TripSpec {
    pub id: String,
    pub importer: usize,
    pub consignee: usize,
    pub site: usize,
    pub arrival_ms: i64,
    /// The chemical; drawn from the catalogue when `None`.
    pub chem: Option<usize>,
    pub qty_kg: f64,
    pub scenario: Scenario,
    /// A lab already chosen by the consignment's actors (front consignee).
    pub lab: Option<usize>,
    /// Typologies the consignment's actors stage, whatever the route.
    pub typologies: Vec<&'static str>,
    /// Consignments staged together with this one (structuring).
    pub linked: Vec<String>,
}

/// The route a trip's scenario planned.
struct Route {
    scenario: Scenario,
    port: usize,
    port_node: usize,
    site: usize,
    consignee: usize,
    dest_city: usize,
    declared_path: Vec<usize>,
    /// The lab's city the route goes by (or ends at), and the lab.
    via: Option<usize>,
    lab: Option<usize>,
}

/// Where the truck left the port, and with what.
struct Departure {
    depart_s: i64,
    truck: usize,
    truck_id: String,
    port_pos: Position,
}

/// The waypoints a scenario drives, and where the lab part of them lies.
struct Drive {
    wps: Vec<Wp>,
    speed_ms: f64,
    lab_stop_s: f64,
    lab_window: Option<(usize, usize)>,
    late: bool,
}

impl World<'_> {
    pub(super) fn trip(&mut self, spec: TripSpec) -> Result<(), SimError> {
        let chem = spec
            .chem
            .unwrap_or_else(|| self.rng.random_range(0..self.chems.len()));
        let (cas, proper_hs, chem_name) = self.chems[chem].clone();
        let vessel = self.vessels.choose(&mut self.rng).cloned();
        let container = self.container();
        let route = self.plan_route(&spec);
        let mut typologies = spec.typologies.clone();
        typologies.extend(route.scenario.route_typologies());

        // Declaration.
        let (decl_cas, decl_hs, description) = if route.scenario == Scenario::Misdeclared {
            if self.rng.random_bool(0.5) {
                // The right chemical under a wrong, harmless-looking tariff line.
                (
                    cas.clone(),
                    HsCode::parse("2942.00").map_err(|e| SimError::Config(e.to_string()))?,
                    "Compuesto orgánico diverso".to_string(),
                )
            } else {
                // A benign chemical declared; the container holds the precursor.
                (
                    Cas::parse("100-51-6").map_err(|e| SimError::Config(e.to_string()))?,
                    HsCode::parse("2906.21").map_err(|e| SimError::Config(e.to_string()))?,
                    "Alcohol bencílico".to_string(),
                )
            }
        } else {
            (cas.clone(), proper_hs, chem_name)
        };
        let qty = spec.qty_kg;
        let unit = if self.rng.random_bool(0.2) && qty >= 1000.0 {
            Unit::Tonne
        } else {
            Unit::Kg
        };
        let declared_qty = if unit == Unit::Tonne {
            qty / 1000.0
        } else {
            qty
        };
        let c = Consignment {
            id: spec.id.clone(),
            originator: "ANAM".into(),
            marking: m(Tlp::Amber, &[]),
            declaration: format!(
                "26 {:02} {} {:07}",
                10 + route.port,
                3948,
                self.rng.random_range(0..10_000_000)
            ),
            cas: decl_cas,
            hs: decl_hs,
            description,
            quantity: declared_qty,
            unit,
            importer: self.entities[spec.importer]
                .records
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_default(),
            consignee: self.entities[route.consignee]
                .records
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_default(),
            destination: self.sites[route.site].place.clone(),
            port: UnLocode::parse(self.g.ports[route.port].locode)
                .map_err(|e| SimError::Config(e.to_string()))?,
            vessel_imo: vessel.as_ref().map(|v| v.0.clone()),
            container,
            arrival_ms: spec.arrival_ms,
            vessel_mmsi: None,
            route: Vec::new(),
            corridor_m: None,
            trip: None,
        };
        self.out.record(&Record::Consignment(c))?;
        if let Some(v) = &vessel {
            self.ais(&v.1.clone(), route.port, spec.arrival_ms / 1000)?;
        }

        let dep = self.port_events(&spec.id, &route, spec.arrival_ms / 1000, &cas)?;
        let mut drive = self.plan_drive(&route, &dep)?;
        self.noise_truth(&spec.id, &route, &mut drive)?;
        let end_pos = if route.scenario == Scenario::UndeclaredDelivery {
            drive.wps.last().map(|w| w.pos).unwrap_or(dep.port_pos)
        } else {
            self.sites[route.site].pos
        };
        if route.scenario != Scenario::UndeclaredDelivery {
            self.streets_to(end_pos, &mut drive.wps);
            drive.wps.push(Wp {
                pos: end_pos,
                stop_s: 0.0,
                dark: false,
                roadside: None,
            });
        }
        let unload_s = if route.scenario == Scenario::UndeclaredDelivery {
            self.rng.random_range(2 * 3600..5 * 3600)
        } else {
            self.rng.random_range(2400..5400)
        };
        if let Some(last) = drive.wps.last_mut() {
            last.stop_s = f64::from(unload_s);
        }
        let arrivals = self.drive(
            dep.truck,
            dep.port_pos,
            &drive.wps,
            dep.depart_s,
            drive.speed_ms,
        )?;
        let at_end = arrivals.last().copied().unwrap_or(dep.depart_s as f64) as i64;
        self.trucks[dep.truck].free_at_s = at_end + i64::from(unload_s) + 6 * 3600;

        self.deliveries(
            &spec.id,
            &route,
            &dep,
            at_end,
            end_pos,
            declared_qty,
            unit,
            &typologies,
        )?;
        if !typologies.is_empty() {
            self.diversion_truth(
                &spec,
                &route,
                &drive,
                &arrivals,
                dep.depart_s,
                at_end,
                typologies,
            )?;
        }
        Ok(())
    }

    /// Route-based scenarios need a lab that fits the route: on it (a stop), off it but
    /// reachable (a detour), or anywhere active (an undeclared delivery). Criminal logistics
    /// choose the route; the simulator searches ports and legitimate customer destinations
    /// until one fits, and falls back to a legitimate trip if none does.
    fn plan_route(&mut self, spec: &TripSpec) -> Route {
        let mut scenario = spec.scenario;
        let (mut site, mut consignee) = (spec.site, spec.consignee);
        let mut port = self.pick_port();
        let mut lab = spec.lab;
        let mut via: Option<usize> = None;
        if scenario.routes_via_lab() {
            let active = self.active_labs(spec.arrival_ms);
            let customer_sites: Vec<usize> = (0..self.sites.len())
                .filter(|&s| self.consignees.contains(&self.sites[s].entity))
                .collect();
            for attempt in 0..60 {
                if attempt > 0 {
                    port = self.pick_port();
                    if let Some(&s2) = customer_sites.choose(&mut self.rng) {
                        site = s2;
                        consignee = self.sites[s2].entity;
                    }
                }
                let dest_city = self.sites[site].city;
                let port_node = self.roads.port_node(port);
                let declared_path = self.roads.route(port_node, dest_city);
                let candidates: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&l| self.lab_fits(scenario, l, port_node, dest_city, &declared_path))
                    .collect();
                if let Some(&l) = candidates.choose(&mut self.rng) {
                    lab = Some(l);
                    via = Some(self.labs[l].city);
                    break;
                }
            }
            if via.is_none() {
                scenario = Scenario::Legit;
            }
        }
        let dest_city = self.sites[site].city;
        let port_node = self.roads.port_node(port);
        let declared_path = self.roads.route(port_node, dest_city);
        Route {
            scenario,
            port,
            port_node,
            site,
            consignee,
            dest_city,
            declared_path,
            via,
            lab,
        }
    }

    /// Whether lab `l` fits a route-based scenario from `port_node` to `dest_city`.
    fn lab_fits(
        &self,
        scenario: Scenario,
        l: usize,
        port_node: usize,
        dest_city: usize,
        declared_path: &[usize],
    ) -> bool {
        let c = self.labs[l].city;
        match scenario {
            Scenario::StopEnRoute | Scenario::DarkStop => declared_path[1..].contains(&c),
            Scenario::DetourToLab => {
                if declared_path.contains(&c) {
                    return false;
                }
                let leg = |a: usize, b: usize| {
                    self.roads
                        .path(a, b, false)
                        .map(|p| self.roads.path_length_m(&p))
                        .unwrap_or(f64::INFINITY)
                };
                let direct = self.roads.path_length_m(declared_path);
                leg(port_node, c) + leg(c, dest_city) < direct * 1.8 + 150_000.0
            }
            _ => true,
        }
    }

    /// Inspection (mostly of misdeclared goods), release, and loading onto a truck.
    fn port_events(
        &mut self,
        id: &str,
        route: &Route,
        arrival_s: i64,
        cas: &Cas,
    ) -> Result<Departure, SimError> {
        let port_place = format!("PL-{:05}", route.port + 1);
        let port_pos = self.g.ports[route.port].pos;
        let released = arrival_s + self.rng.random_range(12 * 3600..60 * 3600);
        let inspect = if route.scenario == Scenario::Misdeclared {
            self.rng.random_bool(0.9)
        } else {
            self.rng.random_bool(0.1)
        };
        if inspect {
            let found = Some(cas.clone());
            self.event(
                id,
                CustodyKind::Inspected,
                released - 3 * 3600,
                Some(port_place.clone()),
                Some(port_pos),
                None,
                None,
                None,
                found,
            )?;
        }
        self.event(
            id,
            CustodyKind::Released,
            released,
            Some(port_place.clone()),
            Some(port_pos),
            None,
            None,
            None,
            None,
        )?;
        let depart_s = released + self.rng.random_range(1800..4 * 3600);
        let truck = self.truck_for(depart_s, route.lab.is_some());
        let truck_id = self.trucks[truck].id.clone();
        let driver = *self.drivers.choose(&mut self.rng).unwrap_or(&0);
        let driver_rec = self.entities[driver].records.first().cloned();
        self.event(
            id,
            CustodyKind::Loaded,
            depart_s,
            Some(port_place),
            Some(port_pos),
            Some(truck_id.clone()),
            driver_rec,
            None,
            None,
        )?;
        Ok(Departure {
            depart_s,
            truck,
            truck_id,
            port_pos,
        })
    }

    /// The waypoints the scenario drives: to the lab and no further (undeclared delivery), by
    /// the lab (detour, stop, dark stop), or the declared route; and legitimate noise.
    fn plan_drive(&mut self, route: &Route, dep: &Departure) -> Result<Drive, SimError> {
        let late = route.scenario == Scenario::Legit && self.rng.random_bool(self.cfg.noise.late);
        let speed_kmh = self
            .rng
            .random_range(self.cfg.trucks.speed_kmh_min..self.cfg.trucks.speed_kmh_max)
            * if late { 0.6 } else { 1.0 };
        let speed_ms = speed_kmh / 3.6;
        let mut wps = Vec::new();
        let mut driven = 0.0;
        let lab_stop_s = f64::from(
            self.rng.random_range(
                self.cfg.diversion.lab_stop_min_s
                    ..=self
                        .cfg
                        .diversion
                        .lab_stop_max_s
                        .max(self.cfg.diversion.lab_stop_min_s),
            ),
        );
        let mut lab_window = None;
        match (route.scenario, route.via, route.lab) {
            (Scenario::UndeclaredDelivery, Some(vc), Some(l)) => {
                let p = self.roads.route(route.port_node, vc);
                self.waypoints(&p, speed_ms, &mut driven, &mut wps);
                let lab_pos = self.labs[l].pos;
                self.streets_to(lab_pos, &mut wps);
                wps.push(Wp {
                    pos: lab_pos,
                    stop_s: 0.0,
                    dark: false,
                    roadside: None,
                });
            }
            (_, Some(vc), Some(l)) => {
                let dark = route.scenario == Scenario::DarkStop;
                lab_window = Some(self.via_lab(
                    route,
                    dep,
                    vc,
                    l,
                    dark,
                    lab_stop_s,
                    speed_ms,
                    &mut driven,
                    &mut wps,
                ));
            }
            _ => {
                // A carrier that prefers another corridor takes it where one exists.
                let path = if self.prefers_alternative(dep.truck) {
                    self.roads
                        .path(route.port_node, route.dest_city, true)
                        .unwrap_or_else(|| route.declared_path.clone())
                } else {
                    route.declared_path.clone()
                };
                self.waypoints(&path, speed_ms, &mut driven, &mut wps)
            }
        }
        Ok(Drive {
            wps,
            speed_ms,
            lab_stop_s,
            lab_window,
            late,
        })
    }

    /// Drives to the lab's city, stops at the lab (with the tracker off around it when
    /// `dark`), and goes on to the destination; returns the waypoints of the lab part.
    fn via_lab(
        &mut self,
        route: &Route,
        dep: &Departure,
        vc: usize,
        l: usize,
        dark: bool,
        lab_stop_s: f64,
        speed_ms: f64,
        driven: &mut f64,
        wps: &mut Vec<Wp>,
    ) -> (usize, usize) {
        let p1 = self.roads.route(route.port_node, vc);
        self.waypoints(&p1, speed_ms, driven, wps);
        let lab_pos = self.labs[l].pos;
        let start = wps.len();
        if dark {
            // The tracker is switched off about 5 km before the turn-off.
            let n = wps.len();
            if n >= 1 {
                let to = wps[n - 1].pos;
                let from = if n >= 2 { wps[n - 2].pos } else { dep.port_pos };
                let len = haversine_m(from.lat, from.lon, to.lat, to.lon);
                if len > 5000.0 {
                    let f = 1.0 - 5000.0 / len;
                    let p = Position {
                        lat: from.lat + (to.lat - from.lat) * f,
                        lon: from.lon + (to.lon - from.lon) * f,
                    };
                    wps.insert(
                        n - 1,
                        Wp {
                            pos: p,
                            stop_s: 0.0,
                            dark: false,
                            roadside: None,
                        },
                    );
                }
                if let Some(last) = wps.last_mut() {
                    last.dark = true;
                }
            }
        }
        let streets_from = wps.len();
        self.streets_to(lab_pos, wps);
        for w in &mut wps[streets_from..] {
            w.dark = dark;
        }
        wps.push(Wp {
            pos: lab_pos,
            stop_s: lab_stop_s,
            dark,
            roadside: None,
        });
        // Back through the streets to the city's road network (still dark when the tracker
        // was switched off).
        let back_from = wps.len();
        let node = self.roads.nodes[vc];
        self.streets_to(node, wps);
        wps.push(Wp {
            pos: node,
            stop_s: 0.0,
            dark,
            roadside: None,
        });
        for w in &mut wps[back_from..] {
            w.dark = dark;
        }
        let p2 = self.roads.route(vc, route.dest_city);
        let window = (start, wps.len());
        if p2.len() > 1 {
            self.waypoints(&p2, speed_ms, driven, wps);
        }
        window
    }

    /// Legitimate noise on a legitimate trip, and its truth (lateness included).
    fn noise_truth(&mut self, id: &str, route: &Route, drive: &mut Drive) -> Result<(), SimError> {
        let noise_kind = if route.scenario == Scenario::Legit {
            self.legit_noise(&mut drive.wps)
        } else {
            None
        };
        if let Some(nk) = &noise_kind {
            Out::truth(
                &mut self.out.truth.noise,
                &NoiseTruth {
                    truth_kind: "noise",
                    consignment: id,
                    noise: nk,
                },
            )?;
        }
        if drive.late {
            Out::truth(
                &mut self.out.truth.noise,
                &NoiseTruth {
                    truth_kind: "noise",
                    consignment: id,
                    noise: "late",
                },
            )?;
        }
        Ok(())
    }

    /// Delivery and receipt (with the shortfall a diversion takes), or, for an undeclared
    /// delivery, a delivery where the truck really stopped.
    fn deliveries(
        &mut self,
        id: &str,
        route: &Route,
        dep: &Departure,
        at_end: i64,
        end_pos: Position,
        declared_qty: f64,
        unit: Unit,
        typologies: &[&'static str],
    ) -> Result<(), SimError> {
        let consignee_rec = self.entities[route.consignee].records.first().cloned();
        if route.scenario == Scenario::UndeclaredDelivery {
            return self.event(
                id,
                CustodyKind::Delivered,
                at_end,
                None,
                Some(end_pos),
                Some(dep.truck_id.clone()),
                None,
                None,
                None,
            );
        }
        let place = Some(self.sites[route.site].place.clone());
        self.event(
            id,
            CustodyKind::Delivered,
            at_end,
            place.clone(),
            Some(end_pos),
            Some(dep.truck_id.clone()),
            None,
            None,
            None,
        )?;
        let shortfall = if typologies.contains(&"quantity_shortfall") {
            self.rng
                .random_range(self.cfg.diversion.shortfall_min..self.cfg.diversion.shortfall_max)
        } else if self.rng.random_bool(self.cfg.noise.small_shortfall) {
            self.rng.random_range(0.0..0.005)
        } else {
            0.0
        };
        let received = (declared_qty * (1.0 - shortfall) * 1000.0).round() / 1000.0;
        let received_at = at_end + self.rng.random_range(1200..3600);
        self.event(
            id,
            CustodyKind::Received,
            received_at,
            place,
            Some(end_pos),
            None,
            consignee_rec,
            Some((received, unit)),
            None,
        )
    }

    /// The diversion's truth line: what was staged, where the lab is, and when it happened.
    fn diversion_truth(
        &mut self,
        spec: &TripSpec,
        route: &Route,
        drive: &Drive,
        arrivals: &[f64],
        depart_s: i64,
        at_end: i64,
        typologies: Vec<&'static str>,
    ) -> Result<(), SimError> {
        let (from, to) = match drive.lab_window {
            Some((a, b)) if a > 0 => (
                arrivals.get(a - 1).copied(),
                arrivals
                    .get(b.min(arrivals.len()) - 1)
                    .map(|t| t + drive.lab_stop_s),
            ),
            _ => (Some(depart_s as f64), Some(at_end as f64)),
        };
        let lab = route.lab;
        let lab_id = lab.map(|l| self.labs[l].id.clone());
        let lab_pos = lab.map(|l| self.labs[l].pos);
        if let Some(l) = lab {
            if !matches!(
                route.scenario,
                Scenario::FrontConsignee | Scenario::Structuring
            ) {
                self.labs[l].fed_by.push(spec.id.clone());
            }
        }
        let fmt = |t: Option<f64>| t.map(|t| rastro_core::format_time_ms(t as i64 * 1000));
        let truth = DiversionTruth {
            truth_kind: "diversion",
            consignment: &spec.id,
            scenario: route.scenario.as_str(),
            typologies: typologies.clone(),
            lab: lab_id.as_deref(),
            lat: lab_pos.map(|p| p.lat),
            lon: lab_pos.map(|p| p.lon),
            from: fmt(from),
            to: fmt(to),
            linked: spec.linked.clone(),
        };
        Out::truth(&mut self.out.truth.diversions, &truth)?;
        self.summary.diverted += 1;
        for t in &typologies {
            *self.summary.by_typology.entry(t.to_string()).or_default() += 1;
        }
        Ok(())
    }

    /// Adds at most one kind of legitimate noise to a trip; returns its name.
    pub(super) fn legit_noise(&mut self, wps: &mut Vec<Wp>) -> Option<String> {
        let nz = self.cfg.noise.clone();
        if wps.len() < 4 {
            return None;
        }
        let x: f64 = self.rng.random();
        if x < nz.breakdown {
            // A long stop on the open road, away from any city.
            let i = self.rng.random_range(1..wps.len() - 1);
            let (a, b) = (wps[i - 1].pos, wps[i].pos);
            let f = self.rng.random_range(0.3..0.7);
            let p = Position {
                lat: a.lat + (b.lat - a.lat) * f,
                lon: a.lon + (b.lon - a.lon) * f,
            };
            if self.g.cities.iter().enumerate().any(|(c, city)| {
                haversine_m(p.lat, p.lon, city.pos.lat, city.pos.lon)
                    < self.g.urban_radius_m(c) + 15_000.0
            }) {
                return None;
            }
            wps.insert(
                i,
                Wp {
                    pos: p,
                    stop_s: f64::from(self.rng.random_range(2700..10_800)),
                    dark: false,
                    roadside: None,
                },
            );
            return Some("breakdown".into());
        }
        if x < nz.breakdown + nz.battery_failure {
            // Tracker silent for 20 to 120 km while the truck keeps driving.
            let i = self.rng.random_range(1..wps.len() - 2);
            let span_m = self.rng.random_range(20_000.0..120_000.0);
            let mut k = i;
            let mut m = 0.0;
            while k + 1 < wps.len() && m < span_m {
                wps[k].dark = true;
                let (a, b) = (wps[k].pos, wps[k + 1].pos);
                m += haversine_m(a.lat, a.lon, b.lat, b.lon);
                k += 1;
            }
            return Some("battery_failure".into());
        }
        if x < nz.breakdown + nz.battery_failure + nz.traffic_stop {
            let i = self.rng.random_range(1..wps.len() - 1);
            let (a, b) = (wps[i - 1].pos, wps[i].pos);
            let f = self.rng.random_range(0.2..0.8);
            let p = Position {
                lat: a.lat + (b.lat - a.lat) * f,
                lon: a.lon + (b.lon - a.lon) * f,
            };
            wps.insert(
                i,
                Wp {
                    pos: p,
                    stop_s: f64::from(self.rng.random_range(180..720)),
                    dark: false,
                    roadside: None,
                },
            );
            return Some("traffic_stop".into());
        }
        let at = nz.breakdown + nz.battery_failure + nz.traffic_stop;
        if x < at + nz.unlisted_truck_stop {
            // A rest at the truck stop of a city the trip crosses: one place per city, on its
            // edge, missing from the registry, used by every carrier that rests there.
            let cands: Vec<(usize, usize)> = (1..wps.len() - 1)
                .filter_map(|i| {
                    let w = wps[i].pos;
                    self.g
                        .cities
                        .iter()
                        .position(|c| haversine_m(w.lat, w.lon, c.pos.lat, c.pos.lon) < 1000.0)
                        .map(|c| (i, c))
                })
                .collect();
            let &(i, c) = cands.choose(&mut self.rng)?;
            let bearing = (c * 137 % 360) as f64;
            let p = rastro_core::geo::destination(
                self.g.cities[c].pos,
                bearing,
                0.6 * self.g.urban_radius_m(c),
            );
            wps.insert(
                i + 1,
                Wp {
                    pos: p,
                    stop_s: f64::from(self.rng.random_range(1800..5400)),
                    dark: false,
                    roadside: None,
                },
            );
            return Some("unlisted_truck_stop".into());
        }
        None
    }
}
