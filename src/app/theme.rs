//! Light and dark themes, and presentation mode: larger text, thicker strokes, higher contrast.

use egui::{Color32, FontFamily, FontId, Stroke, Style, TextStyle, Theme, Visuals};

use super::shared::ViewSettings;

/// What the app's look was last built from, so it is rebuilt only when a setting changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppliedTheme {
    /// Dark (true) or light.
    pub dark_theme: bool,
    /// Presentation mode.
    pub presentation: bool,
}

impl AppliedTheme {
    /// The look that `settings` ask for.
    pub fn of(settings: &ViewSettings) -> Self {
        Self { dark_theme: settings.dark_theme, presentation: settings.presentation }
    }
}

/// Installs the fonts: egui's defaults, with the monospace font (Hack) as a fallback for the
/// proportional one, so arrows and maths signs in annotations ("0.03 → 3") have glyphs.
pub fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    let fallback = fonts.families.get(&FontFamily::Monospace).and_then(|list| list.first()).cloned();
    if let (Some(fallback), Some(list)) = (fallback, fonts.families.get_mut(&FontFamily::Proportional))
        && !list.contains(&fallback)
    {
        list.push(fallback);
    }
    ctx.set_fonts(fonts);
}

/// Sets the context's styles for `settings` if they differ from `applied`; returns what is now
/// in force. Cheap when nothing changed.
pub fn apply(ctx: &egui::Context, settings: &ViewSettings, applied: Option<AppliedTheme>) -> AppliedTheme {
    let wanted = AppliedTheme::of(settings);
    if applied != Some(wanted) {
        ctx.set_style_of(Theme::Dark, style(Theme::Dark, wanted.presentation));
        ctx.set_style_of(Theme::Light, style(Theme::Light, wanted.presentation));
        ctx.set_theme(if wanted.dark_theme { Theme::Dark } else { Theme::Light });
    }
    wanted
}

/// The full style for `theme`, larger and bolder in presentation mode.
pub fn style(theme: Theme, presentation: bool) -> Style {
    let mut style = Style { visuals: visuals(theme, presentation), ..Style::default() };
    // Even outside presentation mode the text is a little larger than egui's default: the app
    // is meant to be read from the back of a classroom.
    let scale = if presentation { 1.45 } else { 1.1 };
    let size = |points: f32| (points * scale).round();
    style.text_styles = [
        (TextStyle::Small, FontId::new(size(11.0), FontFamily::Proportional)),
        (TextStyle::Body, FontId::new(size(14.0), FontFamily::Proportional)),
        (TextStyle::Button, FontId::new(size(14.0), FontFamily::Proportional)),
        (TextStyle::Heading, FontId::new(size(19.0), FontFamily::Proportional)),
        (TextStyle::Monospace, FontId::new(size(13.0), FontFamily::Monospace)),
    ]
    .into();
    if presentation {
        style.spacing.item_spacing *= 1.3;
        style.spacing.button_padding *= 1.4;
        style.spacing.interact_size.y *= 1.4;
        style.spacing.slider_width *= 1.3;
        style.spacing.icon_width *= 1.4;
    }
    style
}

fn visuals(theme: Theme, presentation: bool) -> Visuals {
    let mut visuals = match theme {
        Theme::Dark => Visuals::dark(),
        Theme::Light => Visuals::light(),
    };
    if presentation {
        // High contrast: pure text colours, darker (or lighter) panels, thick outlines.
        let (text, panel, window) = match theme {
            Theme::Dark => (Color32::WHITE, Color32::from_gray(10), Color32::from_gray(18)),
            Theme::Light => (Color32::BLACK, Color32::WHITE, Color32::from_gray(250)),
        };
        visuals.override_text_color = Some(text);
        visuals.panel_fill = panel;
        visuals.window_fill = window;
        visuals.weak_text_alpha = 0.85;
        let widgets = &mut visuals.widgets;
        for widget in [
            &mut widgets.noninteractive,
            &mut widgets.inactive,
            &mut widgets.hovered,
            &mut widgets.active,
            &mut widgets.open,
        ] {
            widget.fg_stroke = Stroke::new(widget.fg_stroke.width.max(1.0) * 2.0, text);
            widget.bg_stroke.width = widget.bg_stroke.width.max(1.0) * 2.0;
        }
        visuals.selection.stroke.width *= 2.0;
    }
    visuals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presentation_text_is_larger() {
        let normal = style(Theme::Dark, false);
        let large = style(Theme::Dark, true);
        let body = |style: &Style| style.text_styles[&TextStyle::Body].size;
        assert!(body(&large) > body(&normal) * 1.2);
    }
}
