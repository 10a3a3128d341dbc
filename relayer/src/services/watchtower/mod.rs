//! Watchtower and settlement bridge service (issue 7).
