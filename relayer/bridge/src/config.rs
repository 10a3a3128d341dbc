//! `[bridge]` configuration: which contract's payouts to follow and how to
//! run Hermes.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[bridge]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BridgeConfig {
    /// Run the bridge at all.
    pub enabled: bool,
    /// Payment-channel contract address; empty = the deployed `payment-channel`.
    pub contract: String,
    /// How often to follow events, in milliseconds.
    pub poll_interval_ms: u64,
    /// Blocks scanned per event poll.
    pub max_blocks_per_poll: u64,
    /// Height to start following from on the first start (no stored
    /// cursor); unset = the latest height then.
    pub start_height: Option<u64>,
    /// A payout still in flight this many seconds after its claim makes
    /// the bridge ask Hermes to clear the channel's packets (at most once
    /// per this period per channel): Hermes relays what its event
    /// subscription delivers, and an event it missed (one emitted while it
    /// was starting, say) would otherwise wait for the next pending packet.
    pub clear_after_seconds: u64,
    /// A payout still in flight this many seconds after its packet's
    /// timeout is logged as overdue.
    pub overdue_after_seconds: u64,
    /// The supervised Hermes process; absent = Hermes runs elsewhere (the
    /// bridge then only follows payouts).
    pub hermes: Option<HermesConfig>,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            contract: String::new(),
            poll_interval_ms: 500,
            max_blocks_per_poll: 200,
            start_height: None,
            clear_after_seconds: 30,
            overdue_after_seconds: 120,
            hermes: None,
        }
    }
}

/// `[bridge.hermes]`: Hermes (ibc-relayer-cli) run as a child process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HermesConfig {
    /// The `hermes` binary.
    #[serde(default = "default_binary")]
    pub binary: PathBuf,
    /// Hermes' own config file (chains, keys, packet clearing, telemetry).
    pub config: PathBuf,
    /// First restart delay after Hermes exits, in milliseconds; doubled
    /// after each exit up to `restart_max_ms`, reset once it ran a minute.
    #[serde(default = "default_restart_min")]
    pub restart_min_ms: u64,
    /// Longest restart delay, in milliseconds.
    #[serde(default = "default_restart_max")]
    pub restart_max_ms: u64,
    /// This chain's id as Hermes names it, for `hermes clear packets`.
    pub chain_id: String,
}

fn default_binary() -> PathBuf {
    PathBuf::from("hermes")
}
fn default_restart_min() -> u64 {
    500
}
fn default_restart_max() -> u64 {
    30_000
}

impl BridgeConfig {
    /// Every problem, one line each (empty = valid).
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !self.enabled {
            return out;
        }
        if self.poll_interval_ms == 0 {
            out.push("bridge.poll_interval_ms must be above 0".into());
        }
        if !(1..=10_000).contains(&self.max_blocks_per_poll) {
            out.push("bridge.max_blocks_per_poll must be 1 to 10000".into());
        }
        if self.clear_after_seconds == 0 {
            out.push("bridge.clear_after_seconds must be above 0".into());
        }
        if let Some(h) = &self.hermes {
            if h.config.as_os_str().is_empty() {
                out.push("bridge.hermes.config is empty".into());
            }
            if h.chain_id.is_empty() {
                out.push("bridge.hermes.chain_id is empty".into());
            }
            if h.restart_min_ms == 0 || h.restart_min_ms > h.restart_max_ms {
                out.push(
                    "bridge.hermes.restart_min_ms must be above 0 and at most restart_max_ms"
                        .into(),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_bridge_is_valid_and_an_enabled_one_is_checked() {
        assert!(BridgeConfig::default().problems().is_empty());
        let bad = BridgeConfig {
            enabled: true,
            poll_interval_ms: 0,
            max_blocks_per_poll: 0,
            hermes: Some(HermesConfig {
                binary: default_binary(),
                config: PathBuf::new(),
                restart_min_ms: 10,
                restart_max_ms: 5,
                chain_id: String::new(),
            }),
            ..BridgeConfig::default()
        };
        assert_eq!(
            bad.problems(),
            vec![
                "bridge.poll_interval_ms must be above 0",
                "bridge.max_blocks_per_poll must be 1 to 10000",
                "bridge.hermes.config is empty",
                "bridge.hermes.chain_id is empty",
                "bridge.hermes.restart_min_ms must be above 0 and at most restart_max_ms",
            ]
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<BridgeConfig>(r#"{"enabled":true,"hermes_bin":"x"}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `hermes_bin`"),
            "{err}"
        );
    }
}
