//! Public Mexican geography: ports (BRIEF section 6), cities with 2020
//! populations (`data/mx_cities.csv`), a highway graph along real federal corridors, and the
//! fixed roadside places (checkpoints, toll plazas, rest stops, fuel stations) on it.

use rastro_core::geo::{destination, haversine_m};
use rastro_core::Position;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Road length over great-circle length, a common rule of thumb for highway networks.
pub const ROAD_FACTOR: f64 = 1.25;

#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub state: String,
    pub pos: Position,
    pub population: u64,
    pub industrial: bool,
}

#[derive(Debug, Clone)]
pub struct Port {
    pub name: &'static str,
    pub locode: &'static str,
    pub pos: Position,
    /// Index of the city node the port connects to.
    pub city: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadsideKind {
    Checkpoint,
    TollPlaza,
    RestStop,
    FuelStation,
}

#[derive(Debug, Clone)]
pub struct Roadside {
    pub id: String,
    pub kind: RoadsideKind,
    pub name: String,
    pub pos: Position,
    /// The edge (node a, node b) it sits on and the fraction along it from a.
    pub edge: (usize, usize),
    pub frac: f64,
}

pub struct Geography {
    pub cities: Vec<City>,
    pub ports: Vec<Port>,
    /// Node positions: cities first, then ports (node `cities.len() + i` is port `i`).
    pub nodes: Vec<Position>,
    pub adj: Vec<Vec<(usize, f64)>>,
    pub edges: Vec<(usize, usize)>,
    pub roadside: Vec<Roadside>,
}

const CITIES_CSV: &str = include_str!("../data/mx_cities.csv");

const PORTS: [(&str, &str, f64, f64, &str); 6] = [
    ("Manzanillo", "MXZLO", 19.06, -104.30, "Manzanillo"),
    (
        "Lázaro Cárdenas",
        "MXLZC",
        17.94,
        -102.18,
        "Lázaro Cárdenas",
    ),
    ("Veracruz", "MXVER", 19.20, -96.13, "Veracruz"),
    ("Altamira", "MXATM", 22.48, -97.86, "Altamira"),
    ("Ensenada", "MXESE", 31.85, -116.62, "Ensenada"),
    ("Mazatlán", "MXMZT", 23.19, -106.42, "Mazatlán"),
];

/// Highway corridors as chains of city names; consecutive names are joined by an edge.
const CORRIDORS: &[&[&str]] = &[
    &["Manzanillo", "Colima", "Guadalajara", "Zapopan"],
    &[
        "Guadalajara",
        "Tepic",
        "Mazatlán",
        "Culiacán",
        "Los Mochis",
        "Ciudad Obregón",
        "Hermosillo",
        "Mexicali",
        "Tijuana",
        "Ensenada",
    ],
    &[
        "Guadalajara",
        "León",
        "Irapuato",
        "Celaya",
        "Querétaro",
        "San Juan del Río",
        "Ciudad de México",
        "Ecatepec",
    ],
    &[
        "Guadalajara",
        "Aguascalientes",
        "Zacatecas",
        "Durango",
        "Torreón",
        "Chihuahua",
        "Ciudad Juárez",
    ],
    &["Guadalajara", "Morelia", "Toluca", "Ciudad de México"],
    &["Lázaro Cárdenas", "Uruapan", "Morelia", "Celaya"],
    &[
        "Ciudad de México",
        "Puebla",
        "Córdoba",
        "Veracruz",
        "Coatzacoalcos",
        "Villahermosa",
        "Mérida",
        "Cancún",
    ],
    &["Puebla", "Tlaxcala"],
    &["Veracruz", "Xalapa", "Puebla"],
    &["Puebla", "Oaxaca"],
    &["Villahermosa", "Tuxtla Gutiérrez"],
    &["Ciudad de México", "Cuernavaca", "Acapulco"],
    &["Ciudad de México", "Pachuca"],
    &["Altamira", "Tampico", "Ciudad Valles", "San Luis Potosí"],
    &["Altamira", "Ciudad Victoria", "Monterrey", "Nuevo Laredo"],
    &["Monterrey", "Reynosa", "Matamoros"],
    &["Monterrey", "Saltillo", "Torreón"],
    &["Saltillo", "San Luis Potosí", "Querétaro"],
    &["Mazatlán", "Durango"],
    &["Aguascalientes", "San Luis Potosí"],
];

#[derive(PartialEq)]
struct Entry(f64, usize);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        // Reverse for a min-heap; ties broken by node index so routes are deterministic.
        o.0.total_cmp(&self.0).then_with(|| o.1.cmp(&self.1))
    }
}

impl Geography {
    pub fn mexico() -> Geography {
        let mut cities = Vec::new();
        for line in CITIES_CSV.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            if f.len() < 6 {
                continue;
            }
            // The file is part of the source tree and checked by a unit test.
            let num = |s: &str| s.parse::<f64>().unwrap_or(0.0);
            cities.push(City {
                name: f[0].into(),
                state: f[1].into(),
                pos: Position {
                    lat: num(f[2]),
                    lon: num(f[3]),
                },
                population: num(f[4]) as u64,
                industrial: f[5] == "1",
            });
        }
        let find = |n: &str| cities.iter().position(|c| c.name == n);
        let ports: Vec<Port> = PORTS
            .iter()
            .filter_map(|(name, locode, lat, lon, city)| {
                Some(Port {
                    name,
                    locode,
                    pos: Position {
                        lat: *lat,
                        lon: *lon,
                    },
                    city: find(city)?,
                })
            })
            .collect();
        let mut nodes: Vec<Position> = cities.iter().map(|c| c.pos).collect();
        nodes.extend(ports.iter().map(|p| p.pos));
        let mut edges = Vec::new();
        for chain in CORRIDORS {
            for w in chain.windows(2) {
                if let (Some(a), Some(b)) = (find(w[0]), find(w[1])) {
                    edges.push((a, b));
                }
            }
        }
        for (i, p) in ports.iter().enumerate() {
            edges.push((cities.len() + i, p.city));
        }
        let mut adj = vec![Vec::new(); nodes.len()];
        for &(a, b) in &edges {
            let d =
                haversine_m(nodes[a].lat, nodes[a].lon, nodes[b].lat, nodes[b].lon) * ROAD_FACTOR;
            adj[a].push((b, d));
            adj[b].push((a, d));
        }
        let mut g = Geography {
            cities,
            ports,
            nodes,
            adj,
            edges,
            roadside: Vec::new(),
        };
        g.place_roadside();
        g
    }

    pub fn node_name(&self, n: usize) -> String {
        if n < self.cities.len() {
            self.cities[n].name.clone()
        } else {
            format!("Puerto {}", self.ports[n - self.cities.len()].name)
        }
    }

    pub fn port_node(&self, port: usize) -> usize {
        self.cities.len() + port
    }

    fn place_roadside(&mut self) {
        // Deterministic placement: every edge longer than 120 km gets a toll plaza at 25%,
        // a rest stop and a fuel station at 50% and 75%; every third such edge a military
        // checkpoint at 60%.
        let mut n = 0usize;
        for (ei, &(a, b)) in self.edges.iter().enumerate() {
            let (pa, pb) = (self.nodes[a], self.nodes[b]);
            let len = haversine_m(pa.lat, pa.lon, pb.lat, pb.lon);
            if len < 120_000.0 {
                continue;
            }
            let mut put = |kind: RoadsideKind, frac: f64, label: &str, list: &mut Vec<Roadside>| {
                n += 1;
                let pos = Position {
                    lat: pa.lat + (pb.lat - pa.lat) * frac,
                    lon: pa.lon + (pb.lon - pa.lon) * frac,
                };
                let prefix = match kind {
                    RoadsideKind::Checkpoint => "CHK",
                    RoadsideKind::TollPlaza => "TOLL",
                    RoadsideKind::RestStop => "REST",
                    RoadsideKind::FuelStation => "FUEL",
                };
                list.push(Roadside {
                    id: format!("{prefix}-{n:03}"),
                    kind,
                    name: label.to_string(),
                    pos,
                    edge: (a, b),
                    frac,
                });
            };
            let mut list = Vec::new();
            let an = self.node_name(a);
            let bn = self.node_name(b);
            put(
                RoadsideKind::TollPlaza,
                0.25,
                &format!("Caseta {an}–{bn}"),
                &mut list,
            );
            put(
                RoadsideKind::RestStop,
                0.5,
                &format!("Parador {an}–{bn}"),
                &mut list,
            );
            put(
                RoadsideKind::FuelStation,
                0.75,
                &format!("Gasolinera {an}–{bn}"),
                &mut list,
            );
            if ei % 3 == 0 {
                put(
                    RoadsideKind::Checkpoint,
                    0.6,
                    &format!("Puesto de control {an}–{bn}"),
                    &mut list,
                );
            }
            self.roadside.extend(list);
        }
    }

    /// Shortest path between two nodes (Dijkstra), as a node list; `None` if unreachable.
    pub fn path(&self, from: usize, to: usize) -> Option<Vec<usize>> {
        let mut dist = vec![f64::INFINITY; self.nodes.len()];
        let mut prev = vec![usize::MAX; self.nodes.len()];
        let mut heap = BinaryHeap::new();
        dist[from] = 0.0;
        heap.push(Entry(0.0, from));
        while let Some(Entry(d, u)) = heap.pop() {
            if u == to {
                break;
            }
            if d > dist[u] {
                continue;
            }
            for &(v, w) in &self.adj[u] {
                let nd = d + w;
                if nd < dist[v] {
                    dist[v] = nd;
                    prev[v] = u;
                    heap.push(Entry(nd, v));
                }
            }
        }
        if !dist[to].is_finite() {
            return None;
        }
        let mut p = vec![to];
        while *p.last()? != from {
            p.push(prev[*p.last()?]);
        }
        p.reverse();
        Some(p)
    }

    pub fn path_length_m(&self, path: &[usize]) -> f64 {
        path.windows(2)
            .map(|w| {
                haversine_m(
                    self.nodes[w[0]].lat,
                    self.nodes[w[0]].lon,
                    self.nodes[w[1]].lat,
                    self.nodes[w[1]].lon,
                ) * ROAD_FACTOR
            })
            .sum()
    }

    /// Roadside places on the edge from `a` to `b`, with their fraction measured from `a`.
    pub fn roadside_on(&self, a: usize, b: usize) -> Vec<(usize, f64)> {
        self.roadside
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                if r.edge == (a, b) {
                    Some((i, r.frac))
                } else if r.edge == (b, a) {
                    Some((i, 1.0 - r.frac))
                } else {
                    None
                }
            })
            .collect()
    }

    /// A point `dist_m` from the city centre on `bearing`, for urban sites.
    pub fn urban_point(&self, city: usize, bearing_deg: f64, dist_m: f64) -> Position {
        destination(self.cities[city].pos, bearing_deg, dist_m)
    }

    /// The city whose built-up area contains `p`, if any.
    pub fn city_at(&self, p: Position) -> Option<usize> {
        (0..self.cities.len()).find(|&c| {
            haversine_m(p.lat, p.lon, self.cities[c].pos.lat, self.cities[c].pos.lon)
                <= self.urban_radius_m(c)
        })
    }

    /// The node nearest to `p`.
    pub fn nearest_node(&self, p: Position) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (i, n) in self.nodes.iter().enumerate() {
            let d = haversine_m(p.lat, p.lon, n.lat, n.lon);
            if d < best.0 {
                best = (d, i);
            }
        }
        best.1
    }

    /// The node of the port with this UN/LOCODE.
    pub fn port_by_locode(&self, locode: &str) -> Option<usize> {
        self.ports
            .iter()
            .position(|p| p.locode == locode)
            .map(|i| self.port_node(i))
    }

    /// Radius in metres of a city's built-up area, from its population (a rough proxy that a
    /// deployment could also compute from public data).
    pub fn urban_radius_m(&self, city: usize) -> f64 {
        (self.cities[city].population as f64).sqrt() * 9.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geography_is_complete_and_connected() {
        let g = Geography::mexico();
        assert!(g.cities.len() >= 40, "{}", g.cities.len());
        assert_eq!(g.ports.len(), 6);
        for p in 0..g.ports.len() {
            for c in 0..g.cities.len() {
                assert!(
                    g.path(g.port_node(p), c).is_some(),
                    "{} cannot reach {}",
                    g.ports[p].name,
                    g.cities[c].name
                );
            }
        }
        let p = g.path(g.port_node(0), 0).unwrap();
        let names: Vec<String> = p.iter().map(|n| g.node_name(*n)).collect();
        assert_eq!(names.first().unwrap(), "Puerto Manzanillo");
        assert!(names.contains(&"Guadalajara".to_string()), "{names:?}");
        assert!(g
            .roadside
            .iter()
            .any(|r| r.kind == RoadsideKind::Checkpoint));
    }
}
