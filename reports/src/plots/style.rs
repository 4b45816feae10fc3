//! The house style of every plot: the colours of policies and VMs, the text sizes, the
//! grid and the legend box.

use plotters::chart::{MeshStyle, SeriesLabelStyle};
use plotters::coord::CoordTranslate;
use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;

use super::FONT;

/// What drawing on a plotters backend returns.
pub(super) type DrawResult<DB> =
    Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Tableau 10, the colours of policies in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// The colour of the `i`-th policy.
pub fn policy_colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The colour of VM `id` in Gantt charts: hue `id · 0.618…` (mod 1), pastel.
pub fn vm_colour(id: u64) -> HSLColor {
    let h = ((id as f64 + 1.0) * 0.618_033_988_749_895).fract();
    HSLColor(h, 0.55, 0.68)
}

/// Tick labels and legend entries.
pub(super) const LABEL: u32 = 15;
/// Axis descriptions.
pub(super) const DESC: u32 = 16;
/// Chart titles.
pub(super) const TITLE: u32 = 20;

/// The bundled font at `size`, in black.
pub(super) fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// The light grid lines.
const GRID: RGBColor = RGBColor(235, 235, 235);

/// The house style of axes: label and description sizes, a light grid.
pub(super) trait MeshHouseStyle {
    /// Applies the house style.
    fn house_style(&mut self) -> &mut Self;
}

impl<X: Ranged, Y: Ranged, DB: DrawingBackend> MeshHouseStyle for MeshStyle<'_, '_, X, Y, DB> {
    fn house_style(&mut self) -> &mut Self {
        self.label_style(text(LABEL))
            .axis_desc_style(text(DESC))
            .light_line_style(GRID)
    }
}

/// The house style of legends: a white, slightly transparent box with a black border.
pub(super) trait LegendHouseStyle {
    /// Applies the house style.
    fn house_style(&mut self) -> &mut Self;
}

impl<'a, DB: DrawingBackend + 'a, CT: CoordTranslate> LegendHouseStyle
    for SeriesLabelStyle<'a, '_, DB, CT>
{
    fn house_style(&mut self) -> &mut Self {
        self.background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(text(LABEL))
    }
}
