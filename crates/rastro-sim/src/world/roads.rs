//! The simulator's own road network, which the analytics never see: its own topology
//! (every city joined to its nearest neighbours, plus a spanning tree so that all connect),
//! meandering road geometry, ring roads around large cities, alternative corridors that
//! some carriers prefer, and the roadside places on those roads.
//!
//! Why its own: analytics measured on a simulator that drives the detectors' own map measure
//! the map (issue 14). From `rastro-geo` the simulator takes only public facts (city and port
//! positions, populations, urban radii), never its highway graph, roadside places or road
//! factor; the tidy test keeps it that way.

use super::*;
use rastro_geo::City;

/// Roadside places on the simulator's roads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StopKind {
    Checkpoint,
    TollPlaza,
    RestStop,
    FuelStation,
}

#[derive(Debug, Clone)]
pub(super) struct RoadStop {
    pub kind: StopKind,
    pub name: String,
    pub pos: Position,
    /// The place id once written to the registry (`None`: the registry misses it).
    pub place: Option<String>,
}

/// One point of a road's polyline; `stop` when a roadside place sits there.
#[derive(Debug, Clone, Copy)]
pub(super) struct RoadPt {
    pub pos: Position,
    pub stop: Option<usize>,
}

pub(super) struct Roads {
    /// Cities first, then ports (node `cities + i` is port `i`), as in the public tables.
    pub nodes: Vec<Position>,
    cities: usize,
    /// Per edge: its end nodes and its polyline from the first to the second.
    edges: Vec<(usize, usize)>,
    shapes: Vec<Vec<RoadPt>>,
    lengths_m: Vec<f64>,
    adj: Vec<Vec<(usize, usize)>>,
    pub stops: Vec<RoadStop>,
    /// Ring road radius per node (large cities), 0 for none.
    ring_m: Vec<f64>,
}

/// Spacing of polyline points.
const STEP_M: f64 = 1500.0;

fn lerp(a: Position, b: Position, f: f64) -> Position {
    Position {
        lat: a.lat + (b.lat - a.lat) * f,
        lon: a.lon + (b.lon - a.lon) * f,
    }
}

fn polyline_m(pts: &[RoadPt]) -> f64 {
    pts.windows(2)
        .map(|w| haversine_m(w[0].pos.lat, w[0].pos.lon, w[1].pos.lat, w[1].pos.lon))
        .sum()
}

impl Roads {
    /// Builds the network from the public city and port positions. `meander` scales the
    /// lateral wander of roads (0 for straight roads); cities of at least
    /// `ring_min_population` get a ring road that through traffic takes.
    pub fn build(
        cities: &[City],
        ports: &[(Position, usize)],
        urban_radius_m: &dyn Fn(usize) -> f64,
        meander: f64,
        ring_min_population: u64,
        rng: &mut ChaCha8Rng,
    ) -> Roads {
        let nc = cities.len();
        let mut nodes: Vec<Position> = cities.iter().map(|c| c.pos).collect();
        nodes.extend(ports.iter().map(|p| p.0));
        let d = |a: usize, b: usize| {
            haversine_m(nodes[a].lat, nodes[a].lon, nodes[b].lat, nodes[b].lon)
        };
        let mut pairs: std::collections::BTreeSet<(usize, usize)> = Default::default();
        // Each city to its three nearest within 450 km.
        for a in 0..nc {
            let mut near: Vec<usize> = (0..nc).filter(|&b| b != a).collect();
            near.sort_by(|&x, &y| d(a, x).total_cmp(&d(a, y)));
            for &b in near.iter().take(3) {
                if d(a, b) <= 450_000.0 {
                    pairs.insert((a.min(b), a.max(b)));
                }
            }
        }
        // A spanning tree (Prim) so that every city is reachable.
        let mut inside = vec![false; nc];
        if nc > 0 {
            inside[0] = true;
        }
        for _ in 1..nc {
            let mut best = (f64::INFINITY, 0, 0);
            for a in (0..nc).filter(|&a| inside[a]) {
                for b in (0..nc).filter(|&b| !inside[b]) {
                    if d(a, b) < best.0 {
                        best = (d(a, b), a, b);
                    }
                }
            }
            inside[best.2] = true;
            pairs.insert((best.1.min(best.2), best.1.max(best.2)));
        }
        for (i, p) in ports.iter().enumerate() {
            pairs.insert((p.1, nc + i));
        }
        let mut roads = Roads {
            nodes,
            cities: nc,
            edges: Vec::new(),
            shapes: Vec::new(),
            lengths_m: Vec::new(),
            adj: vec![Vec::new(); nc + ports.len()],
            stops: Vec::new(),
            ring_m: (0..nc + ports.len())
                .map(|n| {
                    if n < nc && cities[n].population >= ring_min_population {
                        0.45 * urban_radius_m(n)
                    } else {
                        0.0
                    }
                })
                .collect(),
        };
        for (a, b) in pairs {
            let shape = roads.shape(a, b, meander, rng);
            let e = roads.edges.len();
            roads.lengths_m.push(polyline_m(&shape));
            roads.shapes.push(shape);
            roads.edges.push((a, b));
            roads.adj[a].push((b, e));
            roads.adj[b].push((a, e));
        }
        roads.place_stops(cities);
        roads
    }

    /// A road from node a to node b: the straight line bent by two waves (a long one of up to
    /// 5% of the length, 8 km at most, and a short winding one of a few hundred metres),
    /// both fading to nothing at the ends.
    fn shape(&self, a: usize, b: usize, meander: f64, rng: &mut ChaCha8Rng) -> Vec<RoadPt> {
        let (pa, pb) = (self.nodes[a], self.nodes[b]);
        let len = haversine_m(pa.lat, pa.lon, pb.lat, pb.lon);
        let n = ((len / STEP_M).ceil() as usize).max(2);
        let long_amp = meander * (len * rng.random_range(0.01..0.05)).min(8000.0);
        let long_waves = rng.random_range(0.5..2.0_f64);
        let short_amp = meander * rng.random_range(100.0..450.0);
        let short_wl = rng.random_range(3000.0..9000.0_f64);
        let (ph1, ph2) = (
            rng.random_range(0.0..std::f64::consts::TAU),
            rng.random_range(0.0..std::f64::consts::TAU),
        );
        let bearing = bearing_deg(pa, pb);
        (0..=n)
            .map(|i| {
                let f = i as f64 / n as f64;
                let s = f * len;
                let taper = (std::f64::consts::PI * f).sin();
                let off = taper
                    * (long_amp * (std::f64::consts::PI * long_waves * f * 2.0 + ph1).sin()
                        + short_amp * (std::f64::consts::TAU * s / short_wl + ph2).sin());
                let base = lerp(pa, pb, f);
                let pos = if off.abs() < 1.0 {
                    base
                } else {
                    destination(base, bearing + 90.0_f64.copysign(off), off.abs())
                };
                RoadPt { pos, stop: None }
            })
            .collect()
    }

    /// Deterministic roadside places on every edge longer than 100 km: a toll plaza at a
    /// quarter, a rest stop at half and a fuel station at three quarters of the way, and a
    /// checkpoint at 60% on every third such edge.
    fn place_stops(&mut self, cities: &[City]) {
        let name = |n: usize| {
            if n < cities.len() {
                cities[n].name.clone()
            } else {
                format!("Puerto {}", n - cities.len() + 1)
            }
        };
        let mut long = 0;
        for e in 0..self.edges.len() {
            if self.lengths_m[e] < 100_000.0 {
                continue;
            }
            long += 1;
            let (a, b) = self.edges[e];
            let mut put = |kind: StopKind, frac: f64, label: String| {
                let k = ((self.shapes[e].len() - 1) as f64 * frac).round() as usize;
                let i = self.stops.len();
                self.stops.push(RoadStop {
                    kind,
                    name: label,
                    pos: self.shapes[e][k].pos,
                    place: None,
                });
                self.shapes[e][k].stop = Some(i);
            };
            let (an, bn) = (name(a), name(b));
            put(StopKind::TollPlaza, 0.25, format!("Caseta {an}–{bn}"));
            put(StopKind::RestStop, 0.5, format!("Parador {an}–{bn}"));
            put(StopKind::FuelStation, 0.75, format!("Gasolinera {an}–{bn}"));
            if long % 3 == 0 {
                put(
                    StopKind::Checkpoint,
                    0.6,
                    format!("Puesto de control {an}–{bn}"),
                );
            }
        }
    }

    pub fn port_node(&self, port: usize) -> usize {
        self.cities + port
    }

    /// Shortest path by road length (Dijkstra) with edge lengths multiplied by `penalty` for
    /// the edges in `avoid`; a node list.
    fn dijkstra(
        &self,
        from: usize,
        to: usize,
        avoid: &[usize],
        penalty: f64,
    ) -> Option<Vec<usize>> {
        let n = self.nodes.len();
        let mut dist = vec![f64::INFINITY; n];
        let mut prev = vec![usize::MAX; n];
        let mut done = vec![false; n];
        dist[from] = 0.0;
        // Sixty-odd nodes: a linear scan is simpler than a heap and as fast.
        while let Some(u) = (0..n)
            .filter(|&u| !done[u] && dist[u].is_finite())
            .min_by(|&x, &y| dist[x].total_cmp(&dist[y]))
        {
            if u == to {
                break;
            }
            done[u] = true;
            for &(v, e) in &self.adj[u] {
                let w = self.lengths_m[e] * if avoid.contains(&e) { penalty } else { 1.0 };
                if dist[u] + w < dist[v] {
                    dist[v] = dist[u] + w;
                    prev[v] = u;
                }
            }
        }
        if !dist[to].is_finite() {
            return None;
        }
        let mut path = vec![to];
        while *path.last()? != from {
            path.push(prev[*path.last()?]);
        }
        path.reverse();
        Some(path)
    }

    fn edge(&self, a: usize, b: usize) -> Option<usize> {
        self.adj[a].iter().find(|x| x.0 == b).map(|x| x.1)
    }

    /// The shortest path between two nodes. Every node is reachable (tested), so the direct
    /// pair it falls back on is only a guard.
    pub fn route(&self, from: usize, to: usize) -> Vec<usize> {
        self.path(from, to, false).unwrap_or_else(|| vec![from, to])
    }

    /// The path a carrier drives from one node to another: the shortest, or (`alternative`)
    /// the shortest once the edges of the shortest are made 60% longer: another corridor, where
    /// one exists within reason.
    pub fn path(&self, from: usize, to: usize, alternative: bool) -> Option<Vec<usize>> {
        let best = self.dijkstra(from, to, &[], 1.0)?;
        if !alternative || best.len() < 3 {
            return Some(best);
        }
        let used: Vec<usize> = best
            .windows(2)
            .filter_map(|w| self.edge(w[0], w[1]))
            .collect();
        let alt = self.dijkstra(from, to, &used, 1.6)?;
        let (lb, la) = (self.path_length_m(&best), self.path_length_m(&alt));
        Some(if la <= 1.4 * lb { alt } else { best })
    }

    pub fn path_length_m(&self, path: &[usize]) -> f64 {
        path.windows(2)
            .filter_map(|w| self.edge(w[0], w[1]))
            .map(|e| self.lengths_m[e])
            .sum()
    }

    /// The polyline of a node path, with ring roads: at an inner node with a ring, the road
    /// leaves the incoming edge where it meets the ring, follows the ring the short way round
    /// and joins the outgoing edge, so through traffic never crosses the centre.
    pub fn polyline(&self, path: &[usize]) -> Vec<RoadPt> {
        let mut legs: Vec<Vec<RoadPt>> = Vec::new();
        for w in path.windows(2) {
            let Some(e) = self.edge(w[0], w[1]) else {
                continue;
            };
            let mut s = self.shapes[e].clone();
            if self.edges[e].0 != w[0] {
                s.reverse();
            }
            legs.push(s);
        }
        let mut out: Vec<RoadPt> = Vec::new();
        for (k, leg) in legs.iter().enumerate() {
            let node = path[k];
            let r = self.ring_m[node];
            if k == 0 || r <= 0.0 {
                let skip = usize::from(!out.is_empty());
                out.extend(leg.iter().skip(skip).copied());
                continue;
            }
            let c = self.nodes[node];
            let outside = |p: &RoadPt| haversine_m(p.pos.lat, p.pos.lon, c.lat, c.lon) > r;
            // Drop the incoming road's points inside the ring, and the outgoing one's.
            while out.len() > 1 && !outside(out.last().expect("non-empty")) {
                out.pop();
            }
            let start = leg.iter().position(outside).unwrap_or(leg.len() - 1);
            let (b_in, b_out) = (
                bearing_deg(c, out.last().map(|p| p.pos).unwrap_or(c)),
                bearing_deg(c, leg[start].pos),
            );
            let mut sweep = (b_out - b_in).rem_euclid(360.0);
            if sweep > 180.0 {
                sweep -= 360.0;
            }
            let steps = ((sweep.abs().to_radians() * r / STEP_M).ceil() as usize).max(1);
            for i in 1..steps {
                let b = b_in + sweep * i as f64 / steps as f64;
                out.push(RoadPt {
                    pos: destination(c, b, r),
                    stop: None,
                });
            }
            out.extend(leg[start..].iter().copied());
        }
        out
    }

    /// Distance from a position to the nearest point of any road.
    pub fn distance_to_road_m(&self, p: Position) -> f64 {
        let mut best = f64::INFINITY;
        for s in &self.shapes {
            for w in s.windows(2) {
                let (a, b) = (w[0].pos, w[1].pos);
                if (a.lat - p.lat).abs() > 0.1 && (b.lat - p.lat).abs() > 0.1 {
                    continue;
                }
                best = best.min(rastro_core::geo::point_segment_m(p, a, b));
            }
        }
        best
    }
}

/// A drive through town streets from a to b: a grid of blocks, so a corner or two rather
/// than a straight line.
pub(super) fn streets(a: Position, b: Position, rng: &mut ChaCha8Rng) -> Vec<Position> {
    let f = rng.random_range(0.3..0.7);
    let mid = Position {
        lat: a.lat + (b.lat - a.lat) * f,
        lon: a.lon,
    };
    let corner = Position {
        lat: mid.lat,
        lon: b.lon,
    };
    vec![mid, corner]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roads(meander: f64) -> (Roads, Geography) {
        let g = Geography::mexico();
        let ports: Vec<(Position, usize)> = g.ports.iter().map(|p| (p.pos, p.city)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let r = Roads::build(
            &g.cities,
            &ports,
            &|c| g.urban_radius_m(c),
            meander,
            1_000_000,
            &mut rng,
        );
        (r, g)
    }

    #[test]
    fn every_city_and_port_is_reachable_and_roads_wander_off_the_straight_line() {
        let (r, g) = roads(1.0);
        for a in 0..r.nodes.len() {
            assert!(r.path(0, a, false).is_some(), "node {a} unreachable");
        }
        // A long road strays from the straight line between its ends.
        let e = (0..r.edges.len())
            .max_by(|&x, &y| r.lengths_m[x].total_cmp(&r.lengths_m[y]))
            .unwrap();
        let (a, b) = r.edges[e];
        let far = r.shapes[e]
            .iter()
            .map(|p| rastro_core::geo::point_segment_m(p.pos, r.nodes[a], r.nodes[b]))
            .fold(0.0, f64::max);
        assert!(far > 2000.0, "longest road strays only {far:.0} m");
        // Through traffic of a ring city keeps out of its centre.
        let cdmx = g
            .cities
            .iter()
            .position(|c| c.name == "Ciudad de México")
            .unwrap();
        let through = (0..r.nodes.len())
            .flat_map(|a| (0..r.nodes.len()).map(move |b| (a, b)))
            .find_map(|(a, b)| {
                let p = r.path(a, b, false)?;
                (p.len() > 2 && p[1..p.len() - 1].contains(&cdmx)).then_some(p)
            })
            .expect("some path crosses Mexico City");
        let c = g.cities[cdmx].pos;
        let closest = r
            .polyline(&through)
            .iter()
            .map(|p| haversine_m(p.pos.lat, p.pos.lon, c.lat, c.lon))
            .fold(f64::INFINITY, f64::min);
        assert!(closest > 0.4 * g.urban_radius_m(cdmx), "{closest:.0} m");
    }
}
