//! Where the training data lies on a neuron's tile. A neuron's state is measured on the
//! training inputs, not on the whole plane, so a tile outlines the data's region (its convex
//! hull): a dead tile with colour outside the outline is dead where it matters.

use egui::{Color32, Painter, Pos2, Rect, Stroke, pos2};

use crate::train::snapshot::PointSet;

/// The colour of the training data's outline on a tile: dark enough to show on white (a
/// switched-off neuron) and on the blue and orange of an active one.
pub(super) const FOOTPRINT_COLOR: Color32 = Color32::from_rgba_premultiplied(27, 27, 27, 170);

/// The outline of the training points, cached for one point set.
#[derive(Default)]
pub(super) struct Footprint {
    /// The point set it was computed for (its address; a new data set is a new `Arc`).
    key: usize,
    /// The convex hull, counter-clockwise, in data coordinates.
    hull: Vec<[f32; 2]>,
}

impl Footprint {
    /// Recomputes the hull when `points` is a new set.
    pub(super) fn refresh(&mut self, points: &std::sync::Arc<PointSet>) {
        let key = std::sync::Arc::as_ptr(points) as usize;
        if key != self.key {
            self.key = key;
            let plane: Vec<[f32; 2]> = points.train.iter().map(|p| [p[0], p[1]]).collect();
            self.hull = convex_hull(plane);
        }
    }

    /// Outlines the training data on a tile showing `[-extent, extent]^2` in `rect`.
    pub(super) fn paint(&self, painter: &Painter, rect: Rect, extent: f32, color: Color32) {
        if self.hull.len() < 3 {
            return;
        }
        let mut outline: Vec<Pos2> = self.hull.iter().map(|&point| to_tile(point, rect, extent)).collect();
        if let Some(&first) = outline.first() {
            outline.push(first);
        }
        painter.add(egui::Shape::dashed_line(&outline, Stroke::new(1.0, color), 3.0, 3.0));
    }
}

/// Data coordinates to a point of a tile (row 0 at the top is `y = +extent`).
pub(super) fn to_tile([x, y]: [f32; 2], rect: Rect, extent: f32) -> Pos2 {
    let u = (x + extent) / (2.0 * extent);
    let v = (extent - y) / (2.0 * extent);
    pos2(rect.left() + u * rect.width(), rect.top() + v * rect.height())
}

/// The convex hull of `points` (Andrew's monotone chain), counter-clockwise.
fn convex_hull(mut points: Vec<[f32; 2]>) -> Vec<[f32; 2]> {
    points.retain(|p| p[0].is_finite() && p[1].is_finite());
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(points.len() * 2);
    for pass in [points.clone(), points.into_iter().rev().collect()] {
        let start = hull.len();
        for point in pass {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], point) <= 0.0 {
                hull.pop();
            }
            hull.push(point);
        }
        hull.pop();
    }
    hull
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hull_of_a_square_with_a_point_inside_is_its_corners() {
        let points = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.5, 0.5]];
        let hull = convex_hull(points);
        assert_eq!(hull.len(), 4);
        assert!(!hull.contains(&[0.5, 0.5]));
    }
}
