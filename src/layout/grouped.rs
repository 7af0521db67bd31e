//! A grouped layout: nodes given a group each (a community, an entity type) are drawn as one
//! disc per group, members on a sunflower (Vogel) spiral inside it with the best-connected
//! members of the group in the middle, and the discs packed in rows, largest first.
//!
//! Discs are spaced so that every member is nearer its own group's centre than any other
//! group's: two centres are at least `2·max(R_a, R_b) + gap` apart, where `R` is a disc's
//! radius, so a member (at most `R_a` from its centre) is more than `R_a + gap` from the other.

use super::{LayoutGraph, NODE_SPACING};

/// The golden angle, in radians: successive spiral points turn by it.
const GOLDEN_ANGLE: f32 = 2.399_963_2;
/// Spiral scale: point `k` is at radius `SPIRAL · √k`. The nearest two points of a Vogel
/// spiral `r = √k` are points 0 and 1 (distance 1), so this keeps members `NODE_SPACING` apart.
const SPIRAL: f32 = NODE_SPACING;
/// Space between two discs, beyond the rule above.
const GROUP_GAP: f32 = 2.0 * NODE_SPACING;

/// The group of node `i` is `groups[i]`; nodes past the end of `groups` form one more group.
pub fn grouped(graph: &LayoutGraph, groups: &[u32]) -> Vec<[f32; 2]> {
    let n = graph.node_count;
    if n == 0 {
        return Vec::new();
    }
    let group_of = |i: usize| groups.get(i).copied().unwrap_or(u32::MAX);
    // Links inside a group, per node: the most connected members go in the middle.
    let mut inner = vec![0u32; n];
    for &(a, b) in &graph.edges {
        let (a, b) = (a as usize, b as usize);
        if a != b && a < n && b < n && group_of(a) == group_of(b) {
            inner[a] += 1;
            inner[b] += 1;
        }
    }
    let mut members: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for i in 0..n {
        members.entry(group_of(i)).or_default().push(i);
    }
    let mut members: Vec<Vec<usize>> = members.into_values().collect();
    // Largest first; equal sizes keep the order of their group ids (the sort is stable).
    members.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in &mut members {
        m.sort_by_key(|&v| (std::cmp::Reverse(inner[v]), v));
    }
    let radius = |count: usize| SPIRAL * ((count - 1) as f32).sqrt();

    // Rows of discs. Radii never grow along the packing order, so the disc placed before
    // another (to its left, or in the row above) is the larger one, and the spacing rule needs
    // only the larger radius.
    let footprint: f32 = members
        .iter()
        .map(|m| (2.0 * radius(m.len()) + GROUP_GAP).powi(2))
        .sum();
    let row_width = footprint.sqrt() * 1.2;
    let mut centres = Vec::with_capacity(members.len());
    let mut x = 0.0f32;
    let mut y = 0.0f32;
    let mut row_max = 0.0f32; // the largest radius in the current row (its first)
    let mut previous: Option<f32> = None; // radius of the disc to the left
    for m in &members {
        let r = radius(m.len());
        match previous {
            None => {
                x = 0.0;
                y = 0.0;
                row_max = r;
            }
            Some(left) => {
                x += 2.0 * left.max(r) + GROUP_GAP;
                if x > row_width {
                    x = 0.0;
                    y += 2.0 * row_max + GROUP_GAP;
                    row_max = r;
                }
            }
        }
        centres.push([x, y]);
        previous = Some(r);
    }
    let mut positions = vec![[0.0f32; 2]; n];
    for (m, c) in members.iter().zip(&centres) {
        for (k, &v) in m.iter().enumerate() {
            let r = SPIRAL * (k as f32).sqrt();
            let a = k as f32 * GOLDEN_ANGLE;
            positions[v] = [c[0] + r * a.cos(), c[1] + r * a.sin()];
        }
    }
    super::centre(&mut positions);
    positions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::tests_support::{assert_no_overlap, random_graph};

    fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
    }

    /// Every member is nearer its own group's centre (the mean of its members) than any other.
    fn assert_members_nearest_their_centre(p: &[[f32; 2]], groups: &[u32]) {
        let mut sums: std::collections::BTreeMap<u32, ([f32; 2], usize)> = Default::default();
        for (i, &g) in groups.iter().enumerate() {
            let e = sums.entry(g).or_insert(([0.0; 2], 0));
            e.0[0] += p[i][0];
            e.0[1] += p[i][1];
            e.1 += 1;
        }
        let centres: Vec<(u32, [f32; 2])> = sums
            .into_iter()
            .map(|(g, (s, c))| (g, [s[0] / c as f32, s[1] / c as f32]))
            .collect();
        for (i, &g) in groups.iter().enumerate() {
            let own = centres.iter().find(|c| c.0 == g).expect("own group").1;
            let d_own = dist(p[i], own);
            for &(h, c) in &centres {
                if h != g {
                    assert!(
                        d_own < dist(p[i], c),
                        "node {i} of group {g}: {d_own} from its centre, {} from group {h}'s",
                        dist(p[i], c)
                    );
                }
            }
        }
    }

    #[test]
    fn sunflower_members_do_not_overlap() {
        let n = 3000;
        let g = LayoutGraph {
            node_count: n,
            edges: vec![],
        };
        let p = grouped(&g, &vec![0; n]);
        assert_no_overlap(&p, NODE_SPACING);
    }

    #[test]
    fn members_are_nearest_their_own_group_and_nothing_overlaps() {
        // Very uneven groups: one large, some middling, many singletons.
        let n = 1200;
        let g = random_graph(n, 3000, 3);
        let groups: Vec<u32> = (0..n as u32)
            .map(|i| match i {
                0..600 => 7,
                600..900 => i % 5,
                _ => 100 + i,
            })
            .collect();
        let p = grouped(&g, &groups);
        assert_no_overlap(&p, NODE_SPACING);
        // The disc centre is the spiral's start, not the members' mean; check against both.
        assert_members_nearest_their_centre(&p, &groups);
        for seed in 0..5 {
            let groups: Vec<u32> = (0..200u32).map(|i| (i * 7 + seed) % (3 + seed)).collect();
            let g = random_graph(200, 400, u64::from(seed));
            let p = grouped(&g, &groups);
            assert_no_overlap(&p, NODE_SPACING);
            assert_members_nearest_their_centre(&p, &groups);
        }
    }

    #[test]
    fn the_best_connected_member_is_in_the_middle_of_its_group() {
        // Group 0: a star around node 4 plus others; group 1 elsewhere.
        let g = LayoutGraph {
            node_count: 8,
            edges: vec![(4, 0), (4, 1), (4, 2), (4, 3), (5, 6)],
        };
        let groups = [0, 0, 0, 0, 0, 1, 1, 1];
        let p = grouped(&g, &groups);
        let centre = |members: &[usize]| {
            let s = members
                .iter()
                .fold([0.0f32; 2], |s, &i| [s[0] + p[i][0], s[1] + p[i][1]]);
            [s[0] / members.len() as f32, s[1] / members.len() as f32]
        };
        let c = centre(&[0, 1, 2, 3, 4]);
        for v in 0..4 {
            assert!(dist(p[4], c) < dist(p[v], c));
        }
    }

    #[test]
    fn deterministic_and_total_on_odd_inputs() {
        let g = random_graph(500, 900, 11);
        let groups: Vec<u32> = (0..500u32).map(|i| i % 17).collect();
        assert_eq!(grouped(&g, &groups), grouped(&g, &groups));
        assert!(grouped(&LayoutGraph::default(), &[]).is_empty());
        let one = LayoutGraph {
            node_count: 1,
            edges: vec![(0, 0)],
        };
        assert_eq!(grouped(&one, &[5]), vec![[0.0, 0.0]]);
        // Fewer group ids than nodes, self-loops and an out-of-range edge.
        let odd = LayoutGraph {
            node_count: 6,
            edges: vec![(0, 0), (1, 2), (3, 40)],
        };
        let p = grouped(&odd, &[1, 1, 2]);
        assert_eq!(p.len(), 6);
        assert_no_overlap(&p, NODE_SPACING);
    }
}
