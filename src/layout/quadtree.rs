//! A Barnes–Hut quadtree over node positions: far-away groups of nodes act as one mass, so
//! repulsion costs O(n log n) per iteration instead of O(n²).

const LEAF_CAPACITY: usize = 1;
const MAX_DEPTH: u32 = 24;

#[derive(Debug, Clone)]
struct Cell {
    /// Centre of mass and total mass.
    cx: f32,
    cy: f32,
    mass: f32,
    /// Side length of the square.
    size: f32,
    /// Index of the first of four children, or 0 for a leaf.
    children: u32,
    /// The bodies of a leaf (a range in `QuadTree::bodies`).
    first: u32,
    count: u32,
}

#[derive(Debug)]
pub struct QuadTree {
    cells: Vec<Cell>,
    bodies: Vec<u32>,
    positions: Vec<[f32; 2]>,
    masses: Vec<f32>,
}

impl QuadTree {
    pub fn build(positions: &[[f32; 2]], masses: &[f32]) -> QuadTree {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for p in positions {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        }
        let size = (x1 - x0).max(y1 - y0).max(1e-3) * 1.001;
        let mut tree = QuadTree {
            cells: Vec::with_capacity(positions.len() * 2),
            bodies: (0..positions.len() as u32).collect(),
            positions: positions.to_vec(),
            masses: masses.to_vec(),
        };
        let n = positions.len() as u32;
        tree.cells.push(Cell {
            cx: 0.0,
            cy: 0.0,
            mass: 0.0,
            size,
            children: 0,
            first: 0,
            count: n,
        });
        tree.split(0, x0, y0, 0);
        tree
    }

    /// Splits cell `c` (whose bodies are `bodies[first..first+count]`) into quadrants,
    /// partitioning the body list in place, and fills in masses bottom-up.
    fn split(&mut self, c: usize, x0: f32, y0: f32, depth: u32) {
        let Cell {
            size, first, count, ..
        } = self.cells[c];
        let range = first as usize..(first + count) as usize;
        if count as usize <= LEAF_CAPACITY || depth >= MAX_DEPTH {
            let (mut m, mut sx, mut sy) = (0.0, 0.0, 0.0);
            for &b in &self.bodies[range] {
                let w = self.masses[b as usize];
                m += w;
                sx += w * self.positions[b as usize][0];
                sy += w * self.positions[b as usize][1];
            }
            let cell = &mut self.cells[c];
            cell.mass = m;
            (cell.cx, cell.cy) = if m > 0.0 { (sx / m, sy / m) } else { (x0, y0) };
            return;
        }
        let half = size / 2.0;
        let (mx, my) = (x0 + half, y0 + half);
        let quadrant = |p: [f32; 2]| usize::from(p[0] >= mx) + 2 * usize::from(p[1] >= my);
        // Counting sort of this cell's bodies by quadrant.
        let slice: Vec<u32> = self.bodies[range.clone()].to_vec();
        let mut counts = [0u32; 4];
        for &b in &slice {
            counts[quadrant(self.positions[b as usize])] += 1;
        }
        let mut offsets = [0u32; 4];
        for q in 1..4 {
            offsets[q] = offsets[q - 1] + counts[q - 1];
        }
        let mut fill = offsets;
        for &b in &slice {
            let q = quadrant(self.positions[b as usize]);
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
                size: half,
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
                self.split(child, qx, qy, depth + 1);
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

    /// ForceAtlas2 repulsion on body `i`: scaling · m_i · m_j / d, from every other body, with
    /// far cells approximated by their centre of mass.
    pub fn repulsion(
        &self,
        i: usize,
        p: [f32; 2],
        mass: f32,
        theta: f32,
        scaling: f32,
    ) -> [f32; 2] {
        let mut force = [0.0f32; 2];
        let mut stack = vec![0u32];
        let mut push = |dx: f32, dy: f32, m: f32| {
            let d2 = (dx * dx + dy * dy).max(0.01);
            // f = k m_i m_j / d along the unit vector: k m_i m_j (dx, dy) / d².
            let f = scaling * mass * m / d2;
            force[0] += dx * f;
            force[1] += dy * f;
        };
        while let Some(c) = stack.pop() {
            let cell = &self.cells[c as usize];
            if cell.mass == 0.0 {
                continue;
            }
            let dx = p[0] - cell.cx;
            let dy = p[1] - cell.cy;
            let d = (dx * dx + dy * dy).sqrt();
            if cell.children == 0 {
                for &b in &self.bodies[cell.first as usize..(cell.first + cell.count) as usize] {
                    if b as usize == i {
                        continue;
                    }
                    let q = self.positions[b as usize];
                    let (mut ex, mut ey) = (p[0] - q[0], p[1] - q[1]);
                    if ex == 0.0 && ey == 0.0 {
                        // Coincident nodes: push apart in a direction fixed by their indices.
                        let a = (i as f32 * 0.618 + b as f32 * 0.382) * std::f32::consts::TAU;
                        (ex, ey) = (a.cos() * 0.01, a.sin() * 0.01);
                    }
                    push(ex, ey, self.masses[b as usize]);
                }
            } else if cell.size / d.max(1e-6) < theta {
                push(dx, dy, cell.mass);
            } else {
                for q in 0..4 {
                    stack.push(cell.children + q);
                }
            }
        }
        force
    }
}
