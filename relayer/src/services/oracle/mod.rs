//! Oracle service: proof of value creation (issue 7).
