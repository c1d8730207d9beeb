//! The input grid on which every neuron's response is drawn.

use ndarray::Array2;

/// The smallest 2-D grid side.
pub(crate) const MIN_PLANE_RESOLUTION: usize = 8;
/// The largest 2-D grid side.
pub(crate) const MAX_PLANE_RESOLUTION: usize = 128;
/// The fewest 1-D grid points.
pub(crate) const MIN_LINE_RESOLUTION: usize = 32;
/// The most 1-D grid points.
pub(crate) const MAX_LINE_RESOLUTION: usize = 1024;

/// Evenly spaced inputs covering the domain: a `resolution x resolution` image for 2-D sets, a
/// line of `resolution` points for 1-D sets.
#[derive(Clone, Debug, PartialEq)]
pub struct InputGrid {
    /// Points per side (2-D) or in all (1-D).
    pub resolution: usize,
    /// Half the side of the domain.
    pub extent: f32,
    /// `[resolution^2, 2]` in row-major image order (row 0 at the top, `y = +extent`), or
    /// `[resolution, 1]` from left to right.
    pub inputs: Array2<f32>,
}

impl InputGrid {
    /// A 2-D grid of cell centres over `[-extent, extent]^2`; the side is clamped to 8..=128.
    pub fn plane(resolution: usize, extent: f32) -> Self {
        let resolution = resolution.clamp(MIN_PLANE_RESOLUTION, MAX_PLANE_RESOLUTION);
        let step = 2.0 * extent / resolution as f32;
        let inputs = Array2::from_shape_fn((resolution * resolution, 2), |(index, axis)| {
            let (row, column) = (index / resolution, index % resolution);
            if axis == 0 { -extent + (column as f32 + 0.5) * step } else { extent - (row as f32 + 0.5) * step }
        });
        Self { resolution, extent, inputs }
    }

    /// A 1-D grid from `-extent` to `extent` inclusive; the count is clamped to 32..=1024.
    pub fn line(resolution: usize, extent: f32) -> Self {
        let resolution = resolution.clamp(MIN_LINE_RESOLUTION, MAX_LINE_RESOLUTION);
        let step = 2.0 * extent / (resolution - 1) as f32;
        let inputs = Array2::from_shape_fn((resolution, 1), |(index, _)| -extent + index as f32 * step);
        Self { resolution, extent, inputs }
    }

    /// Whether this is a 2-D grid.
    pub fn is_plane(&self) -> bool {
        self.inputs.ncols() == 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plane_starts_top_left() {
        let grid = InputGrid::plane(8, 6.0);
        assert_eq!(grid.inputs.nrows(), 64);
        assert_eq!(grid.inputs[[0, 0]], -6.0 + 0.75);
        assert_eq!(grid.inputs[[0, 1]], 6.0 - 0.75);
    }

    #[test]
    fn line_covers_both_ends() {
        let grid = InputGrid::line(10, 1.0);
        assert_eq!(grid.resolution, 32);
        assert_eq!(grid.inputs[[0, 0]], -1.0);
        assert!((grid.inputs[[31, 0]] - 1.0).abs() < 1e-6);
    }
}
