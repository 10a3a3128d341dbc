//! Input validation: bounded text without control or invisible characters,
//! slugs and licence ids here; IPFS CIDs, SDPP endpoints and places in the
//! submodules. Everything is pure, never panics on any input (fuzzed in
//! `tests/fuzz.rs`) and refuses with a typed error.

mod cid;
mod endpoint;
mod place;

pub use cid::{cid, Cid, CidText, CID_MAX};
pub use endpoint::{endpoint, ENDPOINT_MAX};
pub use place::{
    cell, degrees_e7, e7_to_decimal, geohash, latitude_e7, longitude_e7, E7, GEOHASH_PRECISION,
};

use crate::error::ContractError;

pub const TITLE_MAX: usize = 100;
pub const DESCRIPTION_MAX: usize = 1_000;
pub const SLUG_MIN: usize = 2;
pub const SLUG_MAX: usize = 32;
pub const SENSOR_TYPE_MAX: usize = 64;
pub const UNIT_MAX: usize = 16;
pub const LICENSE_MAX: usize = 64;

pub fn length(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ContractError> {
    let actual = value.chars().count();
    if actual < min || actual > max {
        return Err(ContractError::FieldLength {
            field,
            min,
            max,
            actual,
        });
    }
    Ok(())
}

/// Characters no listing text may hold, because they are invisible or
/// change how the text around them is displayed: bidirectional embeddings,
/// overrides, isolates and marks (the "Trojan Source" characters), zero-width
/// and other invisible format characters, line and paragraph separators,
/// Unicode tags (invisible ASCII look-alikes) and noncharacters. Zero-width
/// (non-)joiners and variation selectors stay allowed: emoji and scripts such
/// as Persian and Devanagari need them to render correctly.
pub fn is_invisible_or_directional(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                      // soft hyphen
        | '\u{034F}'                    // combining grapheme joiner
        | '\u{061C}'                    // Arabic letter mark (bidi)
        | '\u{115F}' | '\u{1160}'       // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'       // Khmer inherent vowels (invisible)
        | '\u{180E}'                    // Mongolian vowel separator
        | '\u{200B}'                    // zero-width space
        | '\u{200E}' | '\u{200F}'       // left-to-right / right-to-left marks
        | '\u{2028}' | '\u{2029}'       // line / paragraph separators
        | '\u{202A}'..='\u{202E}'       // bidi embeddings and overrides
        | '\u{2060}'..='\u{2065}'       // word joiner, invisible operators
        | '\u{2066}'..='\u{2069}'       // bidi isolates
        | '\u{206A}'..='\u{206F}'       // deprecated format characters
        | '\u{3164}' | '\u{FFA0}'       // Hangul fillers
        | '\u{FDD0}'..='\u{FDEF}'       // noncharacters
        | '\u{FEFF}'                    // zero-width no-break space (BOM)
        | '\u{FFF0}'..='\u{FFFB}'       // specials, interlinear annotations
        | '\u{1BCA0}'..='\u{1BCA3}'     // shorthand format controls
        | '\u{1D173}'..='\u{1D17A}'     // musical format controls
        | '\u{E0000}'..='\u{E007F}' // tags
    ) || (c as u32 & 0xFFFE) == 0xFFFE // U+xFFFE and U+xFFFF of every plane
}

/// Refuses control characters (all of Unicode's Cc: C0, DEL and C1; a line
/// feed only where `newlines` allows it) and [`is_invisible_or_directional`]
/// ones, naming the first offender by code point and position (the text
/// itself is not echoed: it is what must not reach logs and screens).
fn visible(field: &'static str, value: &str, newlines: bool) -> Result<(), ContractError> {
    let bad = value.chars().enumerate().find(|&(_, c)| {
        (c.is_control() && !(newlines && c == '\n')) || is_invisible_or_directional(c)
    });
    match bad {
        Some((position, c)) => Err(ContractError::ForbiddenCharacter {
            field,
            code_point: format!("U+{:04X}", c as u32),
            position,
        }),
        None => Ok(()),
    }
}

/// Free text over several lines (a description): bounded, line feeds
/// allowed, no other control and no invisible characters.
pub fn text(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), ContractError> {
    length(field, value, min, max)?;
    visible(field, value, true)
}

/// One line of text (a title, sensor type or unit): bounded, no control or
/// invisible characters, no whitespace at either end.
pub fn line(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), ContractError> {
    length(field, value, min, max)?;
    visible(field, value, false)?;
    if value.trim() != value {
        return Err(invalid(field, value, "no leading or trailing whitespace"));
    }
    Ok(())
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> ContractError {
    ContractError::InvalidField {
        field,
        value: value.to_string(),
        reason,
    }
}

/// A lower-case slug: `[a-z0-9]` words joined by single `-`.
pub fn slug(field: &'static str, value: &str) -> Result<(), ContractError> {
    length(field, value, SLUG_MIN, SLUG_MAX)?;
    let ok_chars = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_chars {
        return Err(invalid(field, value, "only a-z, 0-9 and - are allowed"));
    }
    if value.starts_with('-') || value.ends_with('-') || value.contains("--") {
        return Err(invalid(field, value, "hyphens must separate words"));
    }
    Ok(())
}

/// A sensor type or unit: one non-empty line of at most `max` characters.
pub fn label(field: &'static str, value: &str, max: usize) -> Result<(), ContractError> {
    line(field, value, 1, max)
}

/// A licence identifier such as an SPDX id (`CC-BY-4.0`, `ODbL-1.0`) or `proprietary`.
pub fn license(value: &str) -> Result<(), ContractError> {
    length("license", value, 1, LICENSE_MAX)?;
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
    {
        return Err(invalid(
            "license",
            value,
            "only letters, digits and . - + _ are allowed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(field: &'static str, code_point: &str, position: usize) -> ContractError {
        ContractError::ForbiddenCharacter {
            field,
            code_point: code_point.to_string(),
            position,
        }
    }

    #[test]
    fn slugs_labels_and_licenses() {
        assert_eq!(slug("category", "air-quality"), Ok(()));
        for bad in [
            "Air",
            "a",
            "air_quality",
            "-air",
            "air-",
            "air--q",
            &"a".repeat(33),
        ] {
            assert!(slug("category", bad).is_err(), "{bad}");
        }
        assert_eq!(label("unit", "µg/m³", UNIT_MAX), Ok(()));
        assert_eq!(
            label("unit", " kWh", UNIT_MAX),
            Err(invalid("unit", " kWh", "no leading or trailing whitespace"))
        );
        assert!(label("unit", "", UNIT_MAX).is_err());
        assert_eq!(
            label("unit", "k\nWh", UNIT_MAX),
            Err(forbidden("unit", "U+000A", 1))
        );
        assert_eq!(license("CC-BY-4.0"), Ok(()));
        assert!(license("CC BY").is_err());
        assert_eq!(
            length("title", &"é".repeat(101), 1, TITLE_MAX),
            Err(ContractError::FieldLength {
                field: "title",
                min: 1,
                max: 100,
                actual: 101
            })
        );
    }

    #[test]
    fn control_characters_are_refused_by_code_point() {
        assert_eq!(
            text("description", "bell\u{7}", 0, DESCRIPTION_MAX),
            Err(forbidden("description", "U+0007", 4))
        );
        assert_eq!(
            text("description", "two\r\nlines", 0, DESCRIPTION_MAX),
            Err(forbidden("description", "U+000D", 3))
        );
        assert_eq!(
            text("description", "two\nlines", 0, DESCRIPTION_MAX),
            Ok(())
        );
        assert_eq!(
            line("title", "two\nlines", 1, TITLE_MAX),
            Err(forbidden("title", "U+000A", 3))
        );
        for (c, name) in [
            ('\u{0}', "U+0000"),
            ('\u{7F}', "U+007F"),
            ('\u{85}', "U+0085"),
        ] {
            assert_eq!(
                line("title", &format!("a{c}"), 1, TITLE_MAX),
                Err(forbidden("title", name, 1))
            );
        }
    }

    #[test]
    fn direction_overrides_and_invisible_characters_are_refused() {
        // Every bidi control the review listed, and the other invisibles.
        let refused = [
            0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F,
            0x061C, 0x200B, 0x2060, 0xFEFF, 0x00AD, 0x2028, 0x2029, 0xE0041, 0xE007F, 0xFFFE,
            0x1FFFF, 0xFDD0, 0x3164, 0xFFF9,
        ];
        for cp in refused {
            let c = char::from_u32(cp).unwrap();
            let title = format!("invoice{c}fdp.exe");
            assert_eq!(
                line("title", &title, 1, TITLE_MAX),
                Err(forbidden("title", &format!("U+{cp:04X}"), 7)),
                "U+{cp:04X}"
            );
            assert!(text("description", &title, 0, DESCRIPTION_MAX).is_err());
            assert!(label("sensor_type", &title, SENSOR_TYPE_MAX).is_err());
        }
        // Joiners and variation selectors that real text needs stay allowed:
        // a family emoji, a red heart, Persian "می‌خواهم", Devanagari "क्‍ष".
        for ok in [
            "👨\u{200D}👩\u{200D}👧",
            "\u{2764}\u{FE0F}",
            "می\u{200C}خواهم",
            "क्\u{200D}ष",
            "葛\u{E0100}飾",
        ] {
            assert_eq!(line("title", ok, 1, TITLE_MAX), Ok(()), "{ok}");
        }
    }
}
