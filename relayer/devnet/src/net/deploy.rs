//! Deploying the suite on the devnet's chain.

use std::sync::Arc;

use serde_json::Value;

use super::{Backend, Net, SPEC, TX_TIMEOUT};
use crate::{DevnetError, DevnetOptions};
use relayer_core::deploy::{deploy, deploy_with, DeploySpec};
use relayer_core::outbox::{Outbox, OutboxOptions};
use relayer_core::store::Store;

impl Net {
    /// Deploys `deploy.example.toml`, adjusted for the devnet: SDPP
    /// endpoints on this machine allowed, and on a real chain the curation
    /// periods and challenge window short (time cannot jump there) and each
    /// run's own instances (labels name the height the run started at, so a
    /// second run on the same chain starts from empty contracts). On a real
    /// chain the deploy's txs (from its journal) count into the current step.
    pub async fn deploy(&mut self, options: &DevnetOptions) -> Result<(), DevnetError> {
        let mut spec = DeploySpec::parse(SPEC, "deploy.example.toml")?;
        let localnet = matches!(self.backend, Backend::Localnet(_));
        for instance in &mut spec.instances {
            match instance.code.as_str() {
                "data-registry" => instance.msg["allow_private_endpoints"] = Value::Bool(true),
                "token-curated-registry" if localnet => {
                    let p = &mut instance.msg["params"];
                    let stage = self.timing.tcr_stage_secs;
                    p["apply_stage_secs"] = stage.into();
                    p["commit_stage_secs"] = stage.into();
                    p["reveal_stage_secs"] = stage.into();
                    p["exit_delay_secs"] = (2 * stage).into();
                }
                "payment-channel" if localnet => {
                    instance.msg["min_challenge_period"] = self.timing.challenge_secs.into();
                }
                _ => {}
            }
            if localnet {
                instance.label = format!(
                    "{} (devnet from height {})",
                    instance.label, self.start_height
                );
            }
        }
        let deployer = self.client("deployer")?;
        self.deployment = match &self.backend {
            Backend::Embedded(_) => {
                deploy(
                    deployer.as_ref(),
                    &spec,
                    &options.artifacts_dir,
                    None,
                    false,
                )
                .await?
                .0
            }
            Backend::Localnet(_) => {
                // Crash-safe like `relayer deploy`: a journal, instantiate2.
                let store = Arc::new(Store::open(
                    options.state_dir.join("deploy.journal.sqlite"),
                )?);
                let journal = Outbox::new(
                    store.clone(),
                    deployer.clone(),
                    &self.chain_id,
                    OutboxOptions {
                        inclusion_timeout: TX_TIMEOUT,
                        ..OutboxOptions::default()
                    },
                );
                let before = self.balance("deployer").await?;
                let (deployment, _) = deploy_with(
                    deployer.as_ref(),
                    &spec,
                    &options.artifacts_dir,
                    None,
                    true,
                    Some(&journal),
                )
                .await?;
                // Deploying sends no funds: what the deployer lost is fees.
                let fees = before.saturating_sub(self.balance("deployer").await?);
                let done = store.outbox_done_totals("")?;
                *self.fees.entry("deployer".into()).or_default() += fees;
                if let Some(step) = self.steps.last_mut() {
                    step.txs += done.count as u32;
                    step.gas += done.gas_used;
                    step.fees += fees;
                    step.to_height = step.to_height.max(done.max_height);
                }
                deployment
            }
        };
        self.deployment.save(&self.deployment_file)?;
        Ok(())
    }
}
