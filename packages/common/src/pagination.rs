//! The `start_after` + `limit` convention shared by every paginated query.

/// Page size used when a query gives no `limit`.
pub const DEFAULT_LIMIT: u32 = 10;
/// Largest page a query returns, whatever `limit` asks for.
pub const MAX_LIMIT: u32 = 30;

/// Clamps a requested page size to `1..=MAX_LIMIT`, defaulting to
/// [`DEFAULT_LIMIT`].
pub fn page_limit(limit: Option<u32>) -> usize {
    limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped() {
        assert_eq!(page_limit(None), 10);
        assert_eq!(page_limit(Some(0)), 1);
        assert_eq!(page_limit(Some(7)), 7);
        assert_eq!(page_limit(Some(30)), 30);
        assert_eq!(page_limit(Some(31)), 30);
        assert_eq!(page_limit(Some(u32::MAX)), 30);
    }
}
