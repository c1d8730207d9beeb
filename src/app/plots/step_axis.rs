//! The step axis of every time plot. egui_plot's default grid splits the axis into powers of
//! ten and labels a mark only when its decade is wide enough on screen, so a run of 8000 steps
//! on a narrow plot showed a lone "0". Here the marks are chosen for the axis: round steps
//! (1, 2 or 5 × 10^k), at least [`MIN_STEP_MARKS`] of them across the visible range, as many as
//! fit without their labels touching, each one labelled.

use egui_plot::{AxisHints, GridInput, GridMark, Plot};

/// The fewest labelled marks a step axis shows.
pub const MIN_STEP_MARKS: usize = 3;
/// The grid spacing passed to egui_plot: its `GridInput::base_step_size` is this many points'
/// worth of steps, which is how the spacer learns how wide a step is on screen.
const GRID_SPACING_MIN_POINTS: f32 = 8.0;
/// Above this spacing, egui_plot draws grid lines at full strength.
const GRID_SPACING_MAX_POINTS: f32 = 300.0;
/// The widest step label, in characters ("10.5k", "1.25M").
const WIDEST_LABEL_CHARS: f32 = 5.0;
/// The width of one character of a label, as a fraction of the font size (digits are ~0.55).
const CHAR_WIDTH_EM: f32 = 0.6;
/// The space left between two labels, in points.
const LABEL_GAP_POINTS: f32 = 12.0;
/// The most times a step is made smaller for room on screen (each is a factor of 2 to 2.5).
const MAX_REFINEMENTS: usize = 60;

/// A round step size: `mantissa × 10^exponent`, with `mantissa` 1, 2 or 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RoundStep {
    mantissa: u8,
    exponent: i32,
}

impl RoundStep {
    /// The smallest round step that is at least `value` (which must be positive).
    fn at_least(value: f64) -> Self {
        let mut step = Self { mantissa: 1, exponent: value.log10().floor() as i32 - 1 };
        while step.value() < value {
            step = step.larger();
        }
        step
    }

    fn value(self) -> f64 {
        f64::from(self.mantissa) * 10_f64.powi(self.exponent)
    }

    fn larger(self) -> Self {
        match self.mantissa {
            1 => Self { mantissa: 2, ..self },
            2 => Self { mantissa: 5, ..self },
            _ => Self { mantissa: 1, exponent: self.exponent + 1 },
        }
    }

    fn smaller(self) -> Self {
        match self.mantissa {
            5 => Self { mantissa: 2, ..self },
            2 => Self { mantissa: 1, ..self },
            _ => Self { mantissa: 5, exponent: self.exponent - 1 },
        }
    }

    /// The multiples of this step in `[low, high]`, as `(first, last)` indices.
    fn multiples(self, low: f64, high: f64) -> (i64, i64) {
        let step = self.value();
        ((low / step).ceil() as i64, (high / step).floor() as i64)
    }

    fn count(self, low: f64, high: f64) -> i64 {
        let (first, last) = self.multiples(low, high);
        last - first + 1
    }
}

/// Marks for a step axis showing `[low, high]` (negative steps are never marked), where one
/// step is `points_per_step` points wide and a label needs `label_points` points: the largest
/// round step that gives at least [`MIN_STEP_MARKS`] marks, made smaller while the labels still
/// fit. Empty only when no step at or above 0 is visible (or the input is not finite).
pub fn step_marks(low: f64, high: f64, points_per_step: f64, label_points: f64) -> Vec<GridMark> {
    let low = low.max(0.0);
    if !(low.is_finite() && high.is_finite() && points_per_step.is_finite()) || high <= low {
        return Vec::new();
    }
    // From a step as wide as the range, at most three smaller ones give three marks; the
    // bound on the second loop keeps a nonsensical width from spinning.
    let mut step = RoundStep::at_least(high - low);
    while step.count(low, high) < MIN_STEP_MARKS as i64 {
        step = step.smaller();
    }
    for _ in 0..MAX_REFINEMENTS {
        if step.smaller().value() * points_per_step < label_points {
            break;
        }
        step = step.smaller();
    }
    let (first, last) = step.multiples(low, high);
    let size = step.value();
    (first..=last).map(|index| GridMark { value: index as f64 * size, step_size: size }).collect()
}

/// The label of a step mark: `1200`, `15k`, `10.5k`, `1.2M`, with as many decimals as the
/// marks' spacing needs to tell neighbours apart; empty below 0.
pub fn step_mark_label(mark: GridMark) -> String {
    let value = mark.value;
    let tolerance = mark.step_size.abs() * 1e-6;
    if value < -tolerance || !value.is_finite() {
        return String::new();
    }
    let value = value.max(0.0);
    let (unit, suffix) = if value >= 1e6 {
        (1e6, "M")
    } else if value >= 1e4 {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    let spacing = mark.step_size / unit;
    let decimals = if spacing > 0.0 { (-(spacing.log10() + 1e-9).floor()).clamp(0.0, 6.0) as usize } else { 0 };
    format!("{:.decimals$}{suffix}", value / unit)
}

/// The points a step label needs (its widest text and a gap) in a font of `font_size` points.
pub fn label_points(font_size: f32) -> f32 {
    WIDEST_LABEL_CHARS * CHAR_WIDTH_EM * font_size + LABEL_GAP_POINTS
}

/// `plot` with a labelled step axis: [`step_marks`] as its x grid and [`step_mark_label`] as
/// its x labels, sized for `ui`'s body text (egui_plot's tick label font).
pub fn with_step_axis<'a>(plot: Plot<'a>, ui: &egui::Ui) -> Plot<'a> {
    let font_size = egui::TextStyle::Body.resolve(ui.style()).size;
    let label_width = f64::from(label_points(font_size));
    let axis = AxisHints::new_x()
        .label("step")
        .formatter(|mark, _| step_mark_label(mark))
        // Every mark the spacer returns is meant to be labelled; egui_plot still leaves out a
        // label wider than the spacing.
        .label_spacing(1.0..=2.0);
    plot.custom_x_axes(vec![axis]).grid_spacing(GRID_SPACING_MIN_POINTS..=GRID_SPACING_MAX_POINTS).x_grid_spacer(
        move |input: GridInput| {
            let points_per_step = f64::from(GRID_SPACING_MIN_POINTS) / input.base_step_size;
            step_marks(input.bounds.0, input.bounds.1, points_per_step, label_width)
        },
    )
}

/// The points a count label needs vertically (one row of text and a gap) in a font of
/// `font_size` points.
fn count_label_points(font_size: f32) -> f32 {
    1.4 * font_size + LABEL_GAP_POINTS
}

/// Marks for an axis of whole counts (neurons) showing `[low, high]`, where one count is
/// `points_per_unit` points tall and a label needs `label_points`: the smallest round step (1,
/// 2 or 5 × 10^k, never below 1) whose labels do not touch, so a layer of 8 neurons reads
/// 0, 2, 4, 6, 8 on a short plot and never 0, 0.5, ….
pub fn count_marks(low: f64, high: f64, points_per_unit: f64, label_points: f64) -> Vec<GridMark> {
    if !(low.is_finite() && high.is_finite() && points_per_unit > 0.0) || high < low.max(0.0) {
        return Vec::new();
    }
    let low = low.max(0.0);
    let step = RoundStep::at_least((label_points / points_per_unit).max(1.0));
    let (first, last) = step.multiples(low, high);
    let size = step.value();
    (first..=last).map(|index| GridMark { value: index as f64 * size, step_size: size }).collect()
}

/// `plot` with a labelled y axis of whole counts named `label`: [`count_marks`] as its y grid,
/// each mark labelled without decimals.
pub fn with_count_axis<'a>(plot: Plot<'a>, ui: &egui::Ui, label: &str) -> Plot<'a> {
    let font_size = egui::TextStyle::Body.resolve(ui.style()).size;
    let label_height = f64::from(count_label_points(font_size));
    let axis = AxisHints::new_y()
        .label(label.to_owned())
        .formatter(|mark, _| if mark.value >= -0.5 { format!("{:.0}", mark.value) } else { String::new() })
        .label_spacing(1.0..=2.0);
    plot.custom_y_axes(vec![axis]).y_grid_spacer(move |input: GridInput| {
        let points_per_unit = f64::from(GRID_SPACING_MIN_POINTS) / input.base_step_size;
        count_marks(input.bounds.0, input.bounds.1, points_per_unit, label_height)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_steps_go_one_two_five() {
        let mut step = RoundStep::at_least(0.3);
        assert_eq!(step, RoundStep { mantissa: 5, exponent: -1 });
        let mut values = Vec::new();
        for _ in 0..5 {
            step = step.larger();
            values.push(step.value());
        }
        assert_eq!(values, vec![1.0, 2.0, 5.0, 10.0, 20.0]);
        assert_eq!(RoundStep::at_least(1000.0).value(), 1000.0);
        assert_eq!(RoundStep::at_least(1001.0).value(), 2000.0);
    }

    #[test]
    fn labels_tell_neighbours_apart() {
        let label = |value, step_size| step_mark_label(GridMark { value, step_size });
        assert_eq!(label(1200.0, 200.0), "1200");
        assert_eq!(label(15_000.0, 5000.0), "15k");
        assert_eq!(label(10_500.0, 500.0), "10.5k");
        assert_eq!(label(1_200_000.0, 200_000.0), "1.2M");
        assert_eq!(label(0.5, 0.5), "0.5");
        assert_eq!(label(-100.0, 100.0), "");
        assert_eq!(label(-1e-12, 100.0), "0");
    }

    #[test]
    fn counts_are_marked_in_whole_numbers() {
        let values = |marks: Vec<GridMark>| marks.iter().map(|m| m.value).collect::<Vec<_>>();
        // A tall axis would take halves; counts stop at 1.
        assert_eq!(values(count_marks(-0.4, 8.4, 40.0, 30.0)), vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        // A short one takes round steps that fit.
        assert_eq!(values(count_marks(-0.4, 8.4, 10.0, 30.0)), vec![0.0, 5.0]);
        assert_eq!(values(count_marks(-0.4, 8.4, 15.0, 30.0)), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(values(count_marks(-0.4, 32.8, 4.0, 30.0)), vec![0.0, 10.0, 20.0, 30.0]);
        assert!(count_marks(f64::NAN, 8.0, 10.0, 30.0).is_empty());
    }
}
