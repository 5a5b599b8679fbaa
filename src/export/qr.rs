//! QR codes of addresses: as SVG for pages, as PNG for Word documents (door codes,
//! pledges, check-in codes, certificates).

use crate::error::{AppError, AppResult};

/// The QR code of a URL as an SVG image.
pub fn qr_svg(url: &str) -> AppResult<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build())
}

/// The QR code of a URL as PNG bytes (for Word documents), `scale` pixels a module.
pub fn qr_png(url: &str, scale: u32) -> AppResult<Vec<u8>> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    let (w, quiet) = (code.width() as u32, 4u32);
    let colors = code.to_colors();
    let side = (w + 2 * quiet) * scale;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = ((x / scale) as i64 - quiet as i64, (y / scale) as i64 - quiet as i64);
        let dark =
            mx >= 0 && my >= 0 && (mx as u32) < w && (my as u32) < w && colors[(my as u32 * w + mx as u32) as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 0 } else { 255 }])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(out.into_inner())
}
