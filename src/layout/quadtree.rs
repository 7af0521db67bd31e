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
