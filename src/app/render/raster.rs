//! A CPU rasterizer for egui's tessellated meshes: the app's own drawing turned into pixels
//! with no GPU, no graphics driver and no window, so that a video renders the same way on a
//! laptop, a server and CI.
//!
//! It does what egui's GPU painters (egui_glow, egui-wgpu) do, in the same colour space:
//! vertex colours and texels are premultiplied sRGBA, a fragment is `vertex colour × texel`,
//! and it is blended over the frame with premultiplied "source over", all in gamma space.
//! Anti-aliasing comes from the meshes themselves (egui feathers every edge with a thin band
//! of vertices fading to transparent), so one sample per pixel, at its centre, is enough.
//!
//! Triangles cover a pixel by the top-left rule, so two triangles that share an edge never
//! both paint the pixels on it (a translucent quad has no seam down its diagonal). All the
//! arithmetic is plain `f32` in a fixed order, so the same meshes give the same bytes on the
//! same machine. Rows are split into bands, one per thread; each pixel is painted by one band
//! in primitive order, so the bands give the same bytes as one thread would.

use std::collections::HashMap;

use egui::epaint::{ClippedPrimitive, ImageDelta, Mesh, Primitive, Vertex};
use egui::{Color32, ImageData, Pos2, Rect, TextureFilter, TextureId, TextureOptions, TextureWrapMode, TexturesDelta};

use crate::media::RgbaImage;

/// Rows per band below which splitting a frame across threads costs more than it saves.
const MIN_BAND_ROWS: usize = 64;

/// One texture, as egui uploaded it: premultiplied sRGBA texels.
struct Texture {
    width: usize,
    height: usize,
    texels: Vec<Color32>,
    options: TextureOptions,
}

impl Texture {
    /// The texel at `(x, y)` after wrapping.
    fn texel(&self, x: i64, y: i64) -> [f32; 4] {
        let x = wrap(x, self.width, self.options.wrap_mode);
        let y = wrap(y, self.height, self.options.wrap_mode);
        let texel = self.texels[y * self.width + x];
        [f32::from(texel.r()), f32::from(texel.g()), f32::from(texel.b()), f32::from(texel.a())]
    }

    /// The texture at `uv` (0 to 1 across it), filtered as its options say. egui's textures are
    /// drawn at about their own size or larger, so the magnification filter is the one used.
    fn sample(&self, uv: [f32; 2]) -> [f32; 4] {
        let x = uv[0] * self.width as f32;
        let y = uv[1] * self.height as f32;
        match self.options.magnification {
            TextureFilter::Nearest => self.texel(x.floor() as i64, y.floor() as i64),
            TextureFilter::Linear => {
                let (x, y) = (x - 0.5, y - 0.5);
                let (left, top) = (x.floor(), y.floor());
                let (fx, fy) = (x - left, y - top);
                let (left, top) = (left as i64, top as i64);
                let [a, b, c, d] = [
                    self.texel(left, top),
                    self.texel(left + 1, top),
                    self.texel(left, top + 1),
                    self.texel(left + 1, top + 1),
                ];
                std::array::from_fn(|channel| {
                    let upper = a[channel] + (b[channel] - a[channel]) * fx;
                    let lower = c[channel] + (d[channel] - c[channel]) * fx;
                    upper + (lower - upper) * fy
                })
            }
        }
    }
}

/// `index` brought into `0..size` as the wrap mode says.
fn wrap(index: i64, size: usize, mode: TextureWrapMode) -> usize {
    let size = size as i64;
    let wrapped = match mode {
        TextureWrapMode::ClampToEdge => index.clamp(0, size - 1),
        TextureWrapMode::Repeat => index.rem_euclid(size),
        TextureWrapMode::MirroredRepeat => {
            let period = index.rem_euclid(2 * size);
            if period < size { period } else { 2 * size - 1 - period }
        }
    };
    wrapped as usize
}

/// Keeps egui's textures (the font atlas, the neuron tiles, …) and paints frames with them.
#[derive(Default)]
pub struct Rasterizer {
    textures: HashMap<TextureId, Texture>,
    /// Threads a frame is painted on (at least 1).
    threads: usize,
}

impl Rasterizer {
    /// A rasterizer that paints each frame on up to `threads` threads (the bytes do not depend
    /// on how many).
    pub fn new(threads: usize) -> Self {
        Self { textures: HashMap::new(), threads: threads.max(1) }
    }

    /// Applies the textures egui set this frame (before painting it).
    pub fn set_textures(&mut self, delta: &TexturesDelta) {
        for (id, images) in &delta.set {
            for image in images {
                self.set_texture(*id, image);
            }
        }
    }

    /// Frees the textures egui freed this frame (after painting it).
    pub fn free_textures(&mut self, delta: &TexturesDelta) {
        for id in &delta.free {
            self.textures.remove(id);
        }
    }

    fn set_texture(&mut self, id: TextureId, delta: &ImageDelta) {
        let ImageData::Color(image) = &delta.image;
        let [width, height] = image.size;
        match delta.pos {
            None => {
                let texture = Texture { width, height, texels: image.pixels.clone(), options: delta.options };
                self.textures.insert(id, texture);
            }
            Some([left, top]) => {
                let Some(texture) = self.textures.get_mut(&id) else { return };
                texture.options = delta.options;
                for row in 0..height.min(texture.height.saturating_sub(top)) {
                    let columns = width.min(texture.width.saturating_sub(left));
                    let start = (top + row) * texture.width + left;
                    texture.texels[start..start + columns]
                        .copy_from_slice(&image.pixels[row * width..row * width + columns]);
                }
            }
        }
    }

    /// Paints `primitives` (in points, `pixels_per_point` pixels each) over `background` on a
    /// frame `size` pixels wide and tall. Paint callbacks (custom GPU drawing) are skipped: the
    /// app has none.
    pub fn paint(
        &self,
        primitives: &[ClippedPrimitive],
        pixels_per_point: f32,
        size: [usize; 2],
        background: Color32,
    ) -> RgbaImage {
        let [width, height] = size;
        let mut frame = vec![background; width * height];
        let bands = self.threads.min(height / MIN_BAND_ROWS).max(1);
        let rows_per_band = height.div_ceil(bands).max(1);
        let paint_band = |index: usize, pixels: &mut [Color32]| {
            let band = Band { width, top: index * rows_per_band, rows: pixels.len() / width.max(1) };
            for primitive in primitives {
                if let Primitive::Mesh(mesh) = &primitive.primitive {
                    self.paint_mesh(mesh, primitive.clip_rect, pixels_per_point, band, pixels);
                }
            }
        };
        // The bands wait in a queue; this thread and its helpers each take the next one. A
        // helper that cannot start leaves its share to the others: the bytes are the same.
        let queue = std::sync::Mutex::new(frame.chunks_mut(rows_per_band * width).enumerate().collect::<Vec<_>>());
        let work = || {
            loop {
                let next = queue.lock().ok().and_then(|mut waiting| waiting.pop());
                let Some((index, pixels)) = next else { break };
                paint_band(index, pixels);
            }
        };
        std::thread::scope(|scope| {
            for helper in 1..bands {
                let _ = std::thread::Builder::new().name(format!("raster-{helper}")).spawn_scoped(scope, work);
            }
            work();
        });
        let mut pixels = Vec::with_capacity(width * height * 4);
        for color in frame {
            pixels.extend_from_slice(&color.to_array());
        }
        RgbaImage { width, height, pixels }
    }

    /// Paints the triangles of `mesh` that fall in `clip` (in points) onto `band`.
    fn paint_mesh(&self, mesh: &Mesh, clip: Rect, pixels_per_point: f32, band: Band, pixels: &mut [Color32]) {
        let Some(texture) = self.textures.get(&mesh.texture_id) else { return };
        let Some(clip) = band.clip(clip, pixels_per_point) else { return };
        for triangle in mesh.indices.chunks_exact(3) {
            let corner = |index: u32| mesh.vertices.get(index as usize).copied();
            if let (Some(a), Some(b), Some(c)) = (corner(triangle[0]), corner(triangle[1]), corner(triangle[2])) {
                paint_triangle([a, b, c], pixels_per_point, texture, clip, band, pixels);
            }
        }
    }
}

/// The rows of the frame one thread paints.
#[derive(Clone, Copy, Debug)]
struct Band {
    width: usize,
    /// The band's first row in the frame.
    top: usize,
    rows: usize,
}

/// A clip rectangle in whole pixels of the frame: columns `left..right`, rows `top..bottom`.
#[derive(Clone, Copy, Debug)]
struct PixelClip {
    left: usize,
    right: usize,
    top: usize,
    bottom: usize,
}

impl Band {
    /// `clip` (in points) in pixels, rounded as egui's GPU painters round their scissor
    /// rectangles, and cut to this band; `None` if nothing is left.
    fn clip(self, clip: Rect, pixels_per_point: f32) -> Option<PixelClip> {
        let to_pixels =
            |points: f32, limit: usize| (points * pixels_per_point).round().clamp(0.0, limit as f32) as usize;
        let (left, right) = (to_pixels(clip.min.x, self.width), to_pixels(clip.max.x, self.width));
        let frame_bottom = self.top + self.rows;
        let top = to_pixels(clip.min.y, frame_bottom).max(self.top);
        let bottom = to_pixels(clip.max.y, frame_bottom);
        (left < right && top < bottom).then_some(PixelClip { left, right, top, bottom })
    }
}

/// Sub-pixel steps per pixel: corners are snapped to 1/256 of a pixel, and coverage is
/// decided in exact integers on that grid, so two triangles that share an edge agree on every
/// pixel centre along it (one paints it, never both, never neither).
const SUBPIXELS: i64 = 256;

/// The farthest a corner may lie from the origin, in sub-pixels (2^28: a million pixels).
const MAX_SUBPIXEL: f32 = 268_435_456.0;

/// A corner in sub-pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fixed {
    x: i64,
    y: i64,
}

impl Fixed {
    fn snap(pos: Pos2, pixels_per_point: f32) -> Option<Self> {
        let snap = |points: f32| {
            let sub = (points * pixels_per_point * SUBPIXELS as f32).round();
            // Beyond a million pixels nothing is on screen, and within it the products of
            // `edge` stay in i64 (2^29 sub-pixels squared, times 2).
            (sub.is_finite() && sub.abs() < MAX_SUBPIXEL).then_some(sub as i64)
        };
        Some(Self { x: snap(pos.x)?, y: snap(pos.y)? })
    }
}

/// Twice the signed area of `a, b, c` in sub-pixels squared (positive when clockwise on
/// screen): exact.
fn edge(a: Fixed, b: Fixed, c: Fixed) -> i64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Whether the edge from `a` to `b` of a triangle wound clockwise on screen is a top or a left
/// edge: a pixel centre exactly on it belongs to this triangle.
fn is_top_left(a: Fixed, b: Fixed) -> bool {
    (a.y == b.y && b.x > a.x) || b.y < a.y
}

/// The first `x` in `from..to` from which `value + step * (x - from) >= 0` holds to the end
/// of the range (`step > 0`), or up to which it holds (`step < 0`), as a column range.
fn span_of(value: i64, step: i64, from: i64, to: i64) -> (i64, i64) {
    match step.cmp(&0) {
        std::cmp::Ordering::Equal => {
            if value >= 0 {
                (from, to)
            } else {
                (to, to)
            }
        }
        std::cmp::Ordering::Greater => {
            let start = if value >= 0 { from } else { from + (-value + step - 1) / step };
            (start.min(to), to)
        }
        std::cmp::Ordering::Less => {
            let end = if value < 0 { from } else { from + value / -step + 1 };
            (from, end.min(to))
        }
    }
}

/// Paints one triangle (positions in points) within `clip` onto `band`.
fn paint_triangle(
    corners: [Vertex; 3],
    pixels_per_point: f32,
    texture: &Texture,
    clip: PixelClip,
    band: Band,
    pixels: &mut [Color32],
) {
    let mut corners = corners;
    let snapped = corners.map(|corner| Fixed::snap(corner.pos, pixels_per_point));
    let [Some(p0), Some(mut p1), Some(mut p2)] = snapped else { return };
    let mut area = edge(p0, p1, p2);
    if area == 0 {
        return;
    }
    if area < 0 {
        // egui winds triangles either way: make them all clockwise on screen.
        corners.swap(1, 2);
        std::mem::swap(&mut p1, &mut p2);
        area = -area;
    }
    let to_column = |sub: i64, is_max: bool| {
        let pixel = if is_max { (sub + SUBPIXELS - 1).div_euclid(SUBPIXELS) } else { sub.div_euclid(SUBPIXELS) };
        pixel.max(0)
    };
    let min_x = to_column(p0.x.min(p1.x).min(p2.x), false).max(clip.left as i64);
    let max_x = to_column(p0.x.max(p1.x).max(p2.x), true).min(clip.right as i64);
    let min_y = to_column(p0.y.min(p1.y).min(p2.y), false).max(clip.top as i64);
    let max_y = to_column(p0.y.max(p1.y).max(p2.y), true).min(clip.bottom as i64);
    if min_x >= max_x || min_y >= max_y {
        return;
    }
    // Each edge as `w(x) = w(min_x) + step * (x - min_x)` along a row; a pixel is inside when
    // every edge's `w` is positive, or zero on a top or left edge (`w - 1 + top_left >= 0`).
    let edges = [(p1, p2), (p2, p0), (p0, p1)];
    let steps = edges.map(|(a, b)| -(b.y - a.y) * SUBPIXELS);
    let biases = edges.map(|(a, b)| i64::from(is_top_left(a, b)) - 1);
    let shader = Shader::new(corners, texture);
    let area = area as f32;
    for y in min_y..max_y {
        let centre_y = y * SUBPIXELS + SUBPIXELS / 2;
        let first = Fixed { x: min_x * SUBPIXELS + SUBPIXELS / 2, y: centre_y };
        let weights = edges.map(|(a, b)| edge(a, b, first));
        let (mut from, mut to) = (min_x, max_x);
        for ((&weight, &step), &bias) in weights.iter().zip(&steps).zip(&biases) {
            let (start, end) = span_of(weight + bias, step, min_x, max_x);
            from = from.max(start);
            to = to.min(end);
        }
        if from >= to {
            continue;
        }
        let row = (y as usize - band.top) * band.width;
        let span = &mut pixels[row + from as usize..row + to as usize];
        if let Some(constant) = shader.constant {
            fill_span(span, constant);
            continue;
        }
        for (offset, pixel) in span.iter_mut().enumerate() {
            let dx = from - min_x + offset as i64;
            let at: [f32; 3] = std::array::from_fn(|index| (weights[index] + steps[index] * dx) as f32 / area);
            blend_over(pixel, shader.shade(at));
        }
    }
}

/// Paints one premultiplied colour over a run of pixels (an opaque one replaces them).
fn fill_span(span: &mut [Color32], source: [f32; 4]) {
    if source[3] >= 255.0 {
        let colour = Color32::from_rgba_premultiplied(
            source[0].round() as u8,
            source[1].round() as u8,
            source[2].round() as u8,
            255,
        );
        span.fill(colour);
    } else if source[3] > 0.0 || source[..3].iter().any(|&channel| channel > 0.0) {
        for pixel in span {
            blend_over(pixel, source);
        }
    }
}

/// What a triangle's fragments are: interpolated colour times the texture at the
/// interpolated coordinates (one texel for the whole triangle when all corners share theirs,
/// as every untextured shape does: its corners sit on the font atlas's white texel).
struct Shader<'a> {
    colours: [[f32; 4]; 3],
    uvs: [[f32; 2]; 3],
    /// The texel every fragment gets, when the coordinates do not vary.
    constant_texel: Option<[f32; 4]>,
    /// The colour every fragment gets, when it does not vary either.
    constant: Option<[f32; 4]>,
    texture: &'a Texture,
}

impl<'a> Shader<'a> {
    fn new(corners: [Vertex; 3], texture: &'a Texture) -> Self {
        let colours = corners.map(|corner| corner.color.to_array().map(f32::from));
        let uvs = corners.map(|corner| [corner.uv.x, corner.uv.y]);
        let constant_texel = (uvs[0] == uvs[1] && uvs[1] == uvs[2]).then(|| texture.sample(uvs[0]));
        let constant = constant_texel
            .filter(|_| colours[0] == colours[1] && colours[1] == colours[2])
            .map(|texel| modulate(colours[0], texel));
        Self { colours, uvs, constant_texel, constant, texture }
    }

    /// The premultiplied colour at barycentric `weights`, as bytes.
    fn shade(&self, weights: [f32; 3]) -> [f32; 4] {
        if let Some(constant) = self.constant {
            return constant;
        }
        let colour: [f32; 4] = std::array::from_fn(|channel| {
            weights[0] * self.colours[0][channel]
                + weights[1] * self.colours[1][channel]
                + weights[2] * self.colours[2][channel]
        });
        let texel = self.constant_texel.unwrap_or_else(|| {
            let uv: [f32; 2] = std::array::from_fn(|axis| {
                weights[0] * self.uvs[0][axis] + weights[1] * self.uvs[1][axis] + weights[2] * self.uvs[2][axis]
            });
            self.texture.sample(uv)
        });
        modulate(colour, texel)
    }
}

/// A vertex colour times a texel, both premultiplied bytes.
fn modulate(colour: [f32; 4], texel: [f32; 4]) -> [f32; 4] {
    std::array::from_fn(|channel| colour[channel] * texel[channel] / 255.0)
}

/// Blends the premultiplied `source` over `destination` ("source over", in gamma space).
fn blend_over(destination: &mut Color32, source: [f32; 4]) {
    let keep = 1.0 - source[3] / 255.0;
    let old = destination.to_array();
    let mixed: [u8; 4] = std::array::from_fn(|channel| {
        (source[channel] + f32::from(old[channel]) * keep).round().clamp(0.0, 255.0) as u8
    });
    *destination = Color32::from_rgba_premultiplied(mixed[0], mixed[1], mixed[2], mixed[3]);
}

#[cfg(test)]
mod tests {
    use egui::epaint::{ClippedPrimitive, Mesh, Primitive};
    use egui::{Color32, ColorImage, Pos2, Rect, TextureId, TextureOptions, TexturesDelta, pos2};

    use super::*;

    /// A rasterizer with one 1×1 white texture, as egui's font atlas has its white texel.
    fn with_white_texture(threads: usize) -> Rasterizer {
        let mut rasterizer = Rasterizer::new(threads);
        let mut delta = TexturesDelta::default();
        let image = ColorImage::new([1, 1], vec![Color32::WHITE]);
        delta.set.insert(TextureId::default(), [ImageDelta::full(image, TextureOptions::LINEAR)].into_iter().collect());
        rasterizer.set_textures(&delta);
        delta.clear();
        rasterizer
    }

    fn rectangle(rect: Rect, color: Color32) -> ClippedPrimitive {
        let mut mesh = Mesh::default();
        mesh.add_colored_rect(rect, color);
        ClippedPrimitive { clip_rect: Rect::EVERYTHING, primitive: Primitive::Mesh(mesh) }
    }

    fn pixel(image: &RgbaImage, x: usize, y: usize) -> [u8; 4] {
        let at = (y * image.width + x) * 4;
        image.pixels[at..at + 4].try_into().unwrap()
    }

    #[test]
    fn a_rectangle_covers_exactly_its_pixels() {
        let rasterizer = with_white_texture(1);
        let red = rectangle(Rect::from_min_max(pos2(2.0, 1.0), pos2(5.0, 3.0)), Color32::RED);
        let image = rasterizer.paint(&[red], 1.0, [8, 4], Color32::BLACK);
        let covered: Vec<(usize, usize)> =
            (0..4).flat_map(|y| (0..8).map(move |x| (x, y))).filter(|&(x, y)| pixel(&image, x, y)[0] == 255).collect();
        // Columns 2, 3, 4 of rows 1 and 2: the diagonal is painted once, not twice or never.
        assert_eq!(covered, [(2, 1), (3, 1), (4, 1), (2, 2), (3, 2), (4, 2)]);
    }

    #[test]
    fn a_translucent_quad_has_no_seam_on_its_diagonal() {
        let rasterizer = with_white_texture(1);
        // Half-transparent white (premultiplied 128) over black gives 128 everywhere, once.
        let quad = rectangle(Rect::from_min_max(Pos2::ZERO, pos2(16.0, 16.0)), Color32::from_white_alpha(128));
        let image = rasterizer.paint(&[quad], 1.0, [16, 16], Color32::BLACK);
        assert!(image.pixels.chunks(4).all(|pixel| pixel == [128, 128, 128, 255]));
    }

    #[test]
    fn the_clip_rectangle_and_the_scale_are_honoured() {
        let rasterizer = with_white_texture(1);
        let mut green = rectangle(Rect::from_min_max(Pos2::ZERO, pos2(4.0, 4.0)), Color32::GREEN);
        green.clip_rect = Rect::from_min_max(Pos2::ZERO, pos2(1.0, 4.0));
        // Two pixels per point: the 1-point-wide clip leaves 2 columns of 8.
        let image = rasterizer.paint(&[green], 2.0, [8, 8], Color32::BLACK);
        let row: Vec<u8> = (0..8).map(|x| pixel(&image, x, 3)[1]).collect();
        assert_eq!(row, [255, 255, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn bands_on_threads_paint_the_same_bytes_as_one_thread() {
        let shapes: Vec<ClippedPrimitive> = (0..40)
            .map(|index| {
                let offset = index as f32 * 7.3;
                let rect = Rect::from_min_max(pos2(offset, offset * 0.7), pos2(offset + 50.5, offset * 0.7 + 90.25));
                rectangle(rect, Color32::from_rgba_unmultiplied(200, (index * 6) as u8, 90, 140))
            })
            .collect();
        let one = with_white_texture(1).paint(&shapes, 1.5, [480, 400], Color32::from_gray(20));
        let four = with_white_texture(4).paint(&shapes, 1.5, [480, 400], Color32::from_gray(20));
        assert_eq!(one, four);
        assert_ne!(one, with_white_texture(1).paint(&shapes[1..], 1.5, [480, 400], Color32::from_gray(20)));
    }
}
