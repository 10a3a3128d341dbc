//! Matching solver service (issue 7).
