//! A Barnes–Hut quadtree over node positions: far-away groups of nodes act as one mass, so
//! repulsion costs O(n log n) per iteration instead of O(n²).
//!
//! Built for speed at 100k nodes (BENCHMARKS.md): the tree keeps its buffers between
//! iterations (no allocation per cell or per step), leaves hold up to [`LEAF_CAPACITY`]
//! bodies, a far cell is tested without a square root, and the bodies are kept in tree order so
//! that callers can walk them in an order where consecutive bodies share most of their walk.

const LEAF_CAPACITY: usize = 4;
const MAX_DEPTH: u32 = 24;
/// Deepest walk: every level pushes at most four cells and pops one.
const STACK: usize = 4 * MAX_DEPTH as usize + 8;

#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Centre of mass and total mass.
    cx: f32,
    cy: f32,
    mass: f32,
    /// Squared side length of the square.
    size2: f32,
    /// Index of the first of four children, or 0 for a leaf.
    children: u32,
    /// The bodies of the cell (a range in `QuadTree::bodies`).
    first: u32,
    count: u32,
}

#[derive(Debug, Default, Clone)]
pub struct QuadTree {
    cells: Vec<Cell>,
    /// Body indices in tree order: every cell's bodies are a contiguous range.
    bodies: Vec<u32>,
    /// Positions and masses of `bodies`, in the same (tree) order, so a leaf reads them
    /// contiguously.
    position: Vec<[f32; 2]>,
    mass: Vec<f32>,
    /// The non-empty leaves in tree order: their body ranges follow one another.
    leaves: Vec<u32>,
    scratch: Vec<u32>,
}

impl QuadTree {
    /// Rebuilds the tree over `positions` (reusing its buffers).
    pub fn rebuild(&mut self, positions: &[[f32; 2]], masses: &[f32]) {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in positions {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let size = (x1 - x0).max(y1 - y0).max(1e-3) * 1.001;
        let n = positions.len() as u32;
        self.cells.clear();
        self.leaves.clear();
        self.bodies.clear();
        self.bodies.extend(0..n);
        self.scratch.resize(positions.len(), 0);
        self.cells.push(Cell {
            cx: 0.0,
            cy: 0.0,
            mass: 0.0,
            size2: size * size,
            children: 0,
            first: 0,
            count: n,
        });
        self.split(0, x0, y0, size, 0, positions, masses);
        self.position.clear();
        self.position
            .extend(self.bodies.iter().map(|&b| positions[b as usize]));
        self.mass.clear();
        self.mass
            .extend(self.bodies.iter().map(|&b| masses[b as usize]));
    }

    /// Bodies in tree order (nearby bodies are next to each other).
    pub fn bodies(&self) -> &[u32] {
        &self.bodies
    }

    /// The non-empty leaves in tree order, each with its number of bodies: the leaves' bodies
    /// are `bodies()` in order.
    pub fn leaves(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.leaves
            .iter()
            .map(|&c| (c, self.cells[c as usize].count as usize))
    }

    /// Repulsion on every body of leaf `leaf` at once (into `out`, one per body, in tree
    /// order): one walk for the whole leaf, a cell counting as far when it is far from the
    /// leaf's bounding box — so at least as accurate as walking for each body, and the walk,
    /// which is most of the cost, is shared by up to [`LEAF_CAPACITY`] bodies.
    pub fn repulsion_leaf(&self, leaf: u32, theta: f32, scaling: f32, out: &mut [[f32; 2]]) {
        let own = &self.cells[leaf as usize];
        let range = own.first as usize..(own.first + own.count) as usize;
        let (ps, ms) = (&self.position[range.clone()], &self.mass[range.clone()]);
        debug_assert_eq!(out.len(), ps.len());
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in ps {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        out.fill([0.0; 2]);
        let theta2 = theta * theta;
        let mut stack = [0u32; STACK];
        let mut top = 1; // stack[0] = the root
        while top > 0 {
            top -= 1;
            let c = stack[top];
            let cell = &self.cells[c as usize];
            if cell.mass == 0.0 {
                continue;
            }
            if c == leaf {
                // The leaf's own bodies, pairwise.
                for (j, (p, m)) in ps.iter().zip(ms).enumerate() {
                    for (k, q) in ps.iter().enumerate() {
                        if k == j {
                            continue;
                        }
                        let (mut ex, mut ey) = (p[0] - q[0], p[1] - q[1]);
                        if ex == 0.0 && ey == 0.0 {
                            let (i, b) =
                                (self.bodies[range.start + j], self.bodies[range.start + k]);
                            let a = (i as f32 * 0.618 + b as f32 * 0.382) * std::f32::consts::TAU;
                            (ex, ey) = (a.cos() * 0.01, a.sin() * 0.01);
                        }
                        let f = scaling * m * ms[k] / (ex * ex + ey * ey).max(0.01);
                        out[j][0] += ex * f;
                        out[j][1] += ey * f;
                    }
                }
                continue;
            }
            // Distance from the cell's centre of mass to the leaf's box.
            let ddx = (x0 - cell.cx).max(cell.cx - x1).max(0.0);
            let ddy = (y0 - cell.cy).max(cell.cy - y1).max(0.0);
            if cell.size2 < theta2 * (ddx * ddx + ddy * ddy) {
                for ((p, m), o) in ps.iter().zip(ms).zip(out.iter_mut()) {
                    let (dx, dy) = (p[0] - cell.cx, p[1] - cell.cy);
                    let f = scaling * m * cell.mass / (dx * dx + dy * dy).max(0.01);
                    o[0] += dx * f;
                    o[1] += dy * f;
                }
            } else if cell.children == 0 {
                let other = cell.first as usize..(cell.first + cell.count) as usize;
                let (qs, qm) = (&self.position[other.clone()], &self.mass[other]);
                for ((p, m), o) in ps.iter().zip(ms).zip(out.iter_mut()) {
                    for (q, mq) in qs.iter().zip(qm) {
                        let (ex, ey) = (p[0] - q[0], p[1] - q[1]);
                        let f = scaling * m * mq / (ex * ex + ey * ey).max(0.01);
                        o[0] += ex * f;
                        o[1] += ey * f;
                    }
                }
            } else {
                for q in 0..4 {
                    stack[top] = cell.children + q;
                    top += 1;
                }
            }
        }
    }

    /// Splits cell `c` (whose bodies are `bodies[first..first+count]`) into quadrants,
    /// partitioning the body list in place, and fills in masses bottom-up.
    #[allow(clippy::too_many_arguments)] // reason: a recursive helper; the state is the tree
    fn split(
        &mut self,
        c: usize,
        x0: f32,
        y0: f32,
        size: f32,
        depth: u32,
        positions: &[[f32; 2]],
        masses: &[f32],
    ) {
        let Cell { first, count, .. } = self.cells[c];
        let range = first as usize..(first + count) as usize;
        if count as usize <= LEAF_CAPACITY || depth >= MAX_DEPTH {
            let (mut m, mut sx, mut sy) = (0.0, 0.0, 0.0);
            for &b in &self.bodies[range] {
                let w = masses[b as usize];
                m += w;
                sx += w * positions[b as usize][0];
                sy += w * positions[b as usize][1];
            }
            let cell = &mut self.cells[c];
            cell.mass = m;
            (cell.cx, cell.cy) = if m > 0.0 { (sx / m, sy / m) } else { (x0, y0) };
            if count > 0 {
                self.leaves.push(c as u32);
            }
            return;
        }
        let half = size / 2.0;
        let (mx, my) = (x0 + half, y0 + half);
        let quadrant = |p: [f32; 2]| usize::from(p[0] >= mx) + 2 * usize::from(p[1] >= my);
        // Counting sort of this cell's bodies by quadrant, through the scratch buffer.
        let scratch = &mut self.scratch[range.clone()];
        scratch.copy_from_slice(&self.bodies[range.clone()]);
        let mut counts = [0u32; 4];
        for &b in scratch.iter() {
            counts[quadrant(positions[b as usize])] += 1;
        }
        let mut offsets = [0u32; 4];
        for q in 1..4 {
            offsets[q] = offsets[q - 1] + counts[q - 1];
        }
        let mut fill = offsets;
        for &b in scratch.iter() {
            let q = quadrant(positions[b as usize]);
            self.bodies[range.start + fill[q] as usize] = b;
            fill[q] += 1;
        }
        let children = self.cells.len() as u32;
        self.cells[c].children = children;
        for (offset, count) in offsets.iter().zip(counts) {
            self.cells.push(Cell {
                cx: 0.0,
                cy: 0.0,
                mass: 0.0,
                size2: half * half,
                children: 0,
                first: first + offset,
                count,
            });
        }
        let (mut m, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for (q, count) in counts.iter().enumerate() {
            let child = (children + q as u32) as usize;
            let qx = if q & 1 == 1 { mx } else { x0 };
            let qy = if q & 2 == 2 { my } else { y0 };
            if *count > 0 {
                self.split(child, qx, qy, half, depth + 1, positions, masses);
            }
            let cell = &self.cells[child];
            m += cell.mass;
            sx += cell.mass * cell.cx;
            sy += cell.mass * cell.cy;
        }
        let cell = &mut self.cells[c];
        cell.mass = m;
        (cell.cx, cell.cy) = if m > 0.0 { (sx / m, sy / m) } else { (mx, my) };
    }

    /// The per-body walk ([`QuadTree::repulsion_leaf`] walks once per leaf), kept as the
    /// reference the tests compare with.
    #[cfg(test)]
    /// ForceAtlas2 repulsion on the body in tree slot `slot` (the body `bodies()[slot]`):
    /// scaling · m_i · m_j / d from every other body, with cells that look smaller than `theta`
    /// from it approximated by their centre of mass.
    pub fn repulsion(&self, slot: usize, theta: f32, scaling: f32) -> [f32; 2] {
        let p = self.position[slot];
        let mass = self.mass[slot];
        let theta2 = theta * theta;
        let (mut fx, mut fy) = (0.0f32, 0.0f32);
        let mut stack = [0u32; STACK];
        let mut top = 1; // stack[0] = the root
        while top > 0 {
            top -= 1;
            let cell = &self.cells[stack[top] as usize];
            if cell.mass == 0.0 {
                continue;
            }
            let dx = p[0] - cell.cx;
            let dy = p[1] - cell.cy;
            let d2 = dx * dx + dy * dy;
            if cell.size2 < theta2 * d2 {
                // Far enough (size / d < theta): the cell acts as one body.
                // f = k m_i m_j / d along the unit vector: k m_i m_j (dx, dy) / d².
                let f = scaling * mass * cell.mass / d2.max(0.01);
                fx += dx * f;
                fy += dy * f;
            } else if cell.children == 0 {
                let range = cell.first as usize..(cell.first + cell.count) as usize;
                for (k, (q, m)) in self.position[range.clone()]
                    .iter()
                    .zip(&self.mass[range.clone()])
                    .enumerate()
                {
                    let k = range.start + k;
                    if k == slot {
                        continue;
                    }
                    let (mut ex, mut ey) = (p[0] - q[0], p[1] - q[1]);
                    if ex == 0.0 && ey == 0.0 {
                        // Coincident nodes: push apart in a direction fixed by their indices.
                        let (i, b) = (self.bodies[slot], self.bodies[k]);
                        let a = (i as f32 * 0.618 + b as f32 * 0.382) * std::f32::consts::TAU;
                        (ex, ey) = (a.cos() * 0.01, a.sin() * 0.01);
                    }
                    let f = scaling * mass * m / (ex * ex + ey * ey).max(0.01);
                    fx += ex * f;
                    fy += ey * f;
                }
            } else {
                for q in 0..4 {
                    stack[top] = cell.children + q;
                    top += 1;
                }
            }
        }
        [fx, fy]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leaf_walk_matches_the_body_walk_and_brute_force() {
        let n = 3000;
        let mut state = 12345u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 100_000) as f32 / 100.0
        };
        let positions: Vec<[f32; 2]> = (0..n).map(|_| [next(), next()]).collect();
        let masses: Vec<f32> = (0..n).map(|i| 1.0 + (i % 7) as f32).collect();
        let mut tree = QuadTree::default();
        tree.rebuild(&positions, &masses);
        let mut by_leaf = vec![[0.0f32; 2]; n];
        let mut at = 0;
        for (leaf, count) in tree.leaves() {
            tree.repulsion_leaf(leaf, 1.0, 10.0, &mut by_leaf[at..at + count]);
            at += count;
        }
        assert_eq!(at, n);
        let (mut err_leaf, mut err_body, mut norm) = (0.0f64, 0.0f64, 0.0f64);
        for (slot, &b) in tree.bodies().iter().enumerate() {
            let i = b as usize;
            let mut exact = [0.0f64; 2];
            for j in 0..n {
                if j != i {
                    let dx = f64::from(positions[i][0] - positions[j][0]);
                    let dy = f64::from(positions[i][1] - positions[j][1]);
                    let f = 10.0 * f64::from(masses[i] * masses[j]) / (dx * dx + dy * dy).max(0.01);
                    exact[0] += dx * f;
                    exact[1] += dy * f;
                }
            }
            let body = tree.repulsion(slot, 1.0, 10.0);
            let e = |f: [f32; 2]| {
                (f64::from(f[0]) - exact[0]).powi(2) + (f64::from(f[1]) - exact[1]).powi(2)
            };
            err_leaf += e(by_leaf[slot]);
            err_body += e(body);
            norm += exact[0].powi(2) + exact[1].powi(2);
        }
        let (rel_leaf, rel_body) = ((err_leaf / norm).sqrt(), (err_body / norm).sqrt());
        // Barnes–Hut at theta 1 is a few per cent off; the leaf walk is no worse.
        assert!(rel_body < 0.1, "body walk {rel_body}");
        assert!(
            rel_leaf < 0.1 && rel_leaf <= rel_body * 1.01,
            "leaf {rel_leaf} body {rel_body}"
        );
    }
}
