//! The page's colours, each a text colour on its background, and the contrast check that keeps
//! them readable: every pair meets WCAG AA for normal text (4.5:1). The stylesheet reads them as
//! CSS variables written from this table, so what is tested is what is shown. Colour is never the
//! only signal: every state also has a symbol and a word (`✓ covered`, `✗ invalid`, …).

/// A colour as `0xRRGGBB`.
pub type Rgb = u32;

/// One text colour on one background, named for the CSS variables `--NAME-fg` and `--NAME-bg`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Swatch {
    /// The variable name's stem.
    pub name: &'static str,
    /// Text colour.
    pub fg: Rgb,
    /// Background colour.
    pub bg: Rgb,
}

/// Every swatch the stylesheet uses.
pub const SWATCHES: &[Swatch] = &[
    Swatch {
        name: "page",
        fg: 0x1f2328,
        bg: 0xffffff,
    },
    Swatch {
        name: "muted",
        fg: 0x59636e,
        bg: 0xffffff,
    },
    Swatch {
        name: "link",
        fg: 0x0550ae,
        bg: 0xffffff,
    },
    Swatch {
        name: "pass",
        fg: 0x116329,
        bg: 0xdafbe1,
    },
    Swatch {
        name: "fail",
        fg: 0xa40e26,
        bg: 0xffebe9,
    },
    Swatch {
        name: "warn",
        fg: 0x7d4e00,
        bg: 0xfff8c5,
    },
    Swatch {
        name: "info",
        fg: 0x0a3069,
        bg: 0xddf4ff,
    },
    Swatch {
        name: "off",
        fg: 0x59636e,
        bg: 0xf6f8fa,
    },
    Swatch {
        name: "step",
        fg: 0x512a97,
        bg: 0xfbefff,
    },
    Swatch {
        name: "head",
        fg: 0x1f2328,
        bg: 0xeaeef2,
    },
];

/// Relative luminance (WCAG 2.x) of `c`.
pub fn luminance(c: Rgb) -> f64 {
    let channel = |shift: u32| {
        let v = f64::from((c >> shift) & 0xff) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(16) + 0.7152 * channel(8) + 0.0722 * channel(0)
}

/// Contrast ratio of `a` and `b`, from 1 to 21.
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// The swatches as CSS custom properties on `:root`.
pub fn css_vars() -> String {
    let mut s = String::from(":root{");
    for w in SWATCHES {
        s += &format!("--{0}-fg:#{1:06x};--{0}-bg:#{2:06x};", w.name, w.fg, w.bg);
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_swatch_meets_wcag_aa() {
        for w in SWATCHES {
            let r = contrast(w.fg, w.bg);
            assert!(
                r >= 4.5,
                "{}: {:06x} on {:06x} is {r:.2}:1",
                w.name,
                w.fg,
                w.bg
            );
        }
    }

    #[test]
    fn coloured_text_also_reads_on_the_page_background() {
        for w in SWATCHES {
            assert!(contrast(w.fg, 0xffffff) >= 4.5, "{} on white", w.name);
        }
    }

    #[test]
    fn contrast_is_the_wcag_formula() {
        assert!((contrast(0x000000, 0xffffff) - 21.0).abs() < 1e-9);
        assert!((contrast(0x777777, 0xffffff) - 4.48).abs() < 0.01);
    }
}
