//! Voucher checks on chain: the amount, hashlock and expiry rules, and the
//! signature under the channel's scheme. The sign bytes are rebuilt from
//! `env` (chain id, this contract's address) and the channel id, so a
//! voucher signed for another chain, instance or channel cannot verify.

use cosmwasm_std::{ensure, Addr, Api, CanonicalAddr, Env, HexBinary, StdResult, Uint128};
use wevalue_voucher::{
    account_id, signed_payload, SignedPayload, Voucher, VoucherScheme, MAX_PREIMAGE_LEN,
};

use crate::error::ContractError;
use crate::msg::SignedVoucher;
use crate::state::Channel;

/// The voucher the payer must have signed for `voucher` on channel `id`.
pub fn signed_fields(env: &Env, id: u64, voucher: &SignedVoucher) -> Voucher {
    Voucher {
        chain_id: env.block.chain_id.clone(),
        contract: env.contract.address.to_string(),
        channel_id: id,
        amount: voucher.amount,
        hashlock: voucher.hashlock,
        expiry: voucher.expiry,
    }
}

/// The ADR-036 signer of `pubkey`: its account address on this chain.
pub fn adr036_signer(api: &dyn Api, pubkey: &[u8]) -> StdResult<Addr> {
    api.addr_humanize(&CanonicalAddr::from(account_id(pubkey).as_slice()))
}

/// Everything but the signature, for channel `id` that has `claimed` so
/// far: returns the amount the voucher adds.
pub fn check_terms(
    env: &Env,
    id: u64,
    channel: &Channel,
    claimed: Uint128,
    voucher: &SignedVoucher,
    preimage: Option<&HexBinary>,
) -> Result<Uint128, ContractError> {
    let increase = check_unlocked_terms(env, id, channel, claimed, voucher)?;
    match (&voucher.hashlock, preimage) {
        (None, None) => {}
        (None, Some(_)) => return Err(ContractError::UnexpectedPreimage { id }),
        (Some(_), None) => return Err(ContractError::PreimageRequired { id }),
        (Some(lock), Some(preimage)) => {
            ensure!(
                !preimage.is_empty() && preimage.len() <= MAX_PREIMAGE_LEN,
                ContractError::PreimageLength {
                    len: preimage.len(),
                    max: MAX_PREIMAGE_LEN
                }
            );
            ensure!(
                lock.is_opened_by(preimage.as_slice()),
                ContractError::WrongPreimage { id }
            );
        }
    }
    Ok(increase)
}

/// Everything but the signature and the hashlock's preimage: the channel
/// still takes claims, the amount raises what was claimed within the
/// deposit, and the voucher has not expired. Returns the increase.
pub fn check_unlocked_terms(
    env: &Env,
    id: u64,
    channel: &Channel,
    claimed: Uint128,
    voucher: &SignedVoucher,
) -> Result<Uint128, ContractError> {
    ensure!(!channel.closed, ContractError::ChannelClosed { id });
    let now = env.block.time.seconds();
    if let Some(finalize_after) = channel.finalize_after {
        ensure!(
            now < finalize_after,
            ContractError::ChallengePeriodOver { id, finalize_after }
        );
    }
    ensure!(
        voucher.amount > claimed,
        ContractError::VoucherNotIncreasing {
            id,
            amount: voucher.amount,
            claimed
        }
    );
    ensure!(
        voucher.amount <= channel.deposit,
        ContractError::VoucherExceedsDeposit {
            id,
            amount: voucher.amount,
            deposit: channel.deposit
        }
    );
    ensure!(
        voucher.signature.len() == 64,
        ContractError::SignatureLength {
            len: voucher.signature.len()
        }
    );
    if let Some(expiry) = voucher.expiry {
        ensure!(
            now < expiry,
            ContractError::VoucherExpired { id, expiry, now }
        );
    }
    Ok(voucher.amount - claimed)
}

/// The message a signature of this channel's scheme is checked against.
pub fn payload(
    api: &dyn Api,
    env: &Env,
    id: u64,
    channel: &Channel,
    voucher: &SignedVoucher,
) -> Result<SignedPayload, ContractError> {
    let bytes = signed_fields(env, id, voucher).sign_bytes();
    let signer = match channel.scheme {
        VoucherScheme::Adr036 => adr036_signer(api, &channel.pubkey)?.into_string(),
        _ => String::new(),
    };
    Ok(signed_payload(channel.scheme, &bytes, &signer))
}

/// Verifies one voucher's signature.
pub fn verify(
    api: &dyn Api,
    env: &Env,
    id: u64,
    channel: &Channel,
    voucher: &SignedVoucher,
) -> Result<(), ContractError> {
    let sig = voucher.signature.as_slice();
    let pk = channel.pubkey.as_slice();
    // A malformed key or signature is as invalid as a wrong one.
    let ok = match payload(api, env, id, channel, voucher)? {
        SignedPayload::Secp256k1Digest(digest) => api.secp256k1_verify(&digest, sig, pk),
        SignedPayload::Ed25519Message(msg) => api.ed25519_verify(&msg, sig, pk),
    }
    .unwrap_or(false);
    ensure!(ok, ContractError::InvalidSignature { id });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::mock_env;
    use wevalue_voucher::Hashlock;

    fn channel(deposit: u128) -> Channel {
        Channel {
            payer: cosmwasm_std::Addr::unchecked("payer"),
            payee: cosmwasm_std::Addr::unchecked("payee"),
            asset: wevalue_common::asset::AssetInfo::Native("ucity".into()),
            pubkey: vec![0; 32].into(),
            scheme: VoucherScheme::Ed25519,
            challenge_period: 3600,
            pair: 1,
            listing: None,
            slot: Some((1, 0)),
            deposit: deposit.into(),
            finalize_after: None,
            hold_until: None,
            closed: false,
        }
    }

    fn voucher(amount: u128) -> SignedVoucher {
        SignedVoucher {
            amount: amount.into(),
            hashlock: None,
            expiry: None,
            signature: vec![0; 64].into(),
        }
    }

    #[test]
    fn terms_pay_only_the_increase() {
        let env = mock_env();
        assert_eq!(
            check_terms(&env, 1, &channel(100), 40u128.into(), &voucher(70), None),
            Ok(Uint128::new(30))
        );
        assert_eq!(
            check_terms(&env, 1, &channel(100), 40u128.into(), &voucher(100), None),
            Ok(Uint128::new(60))
        );
    }

    #[test]
    fn expiry_is_exclusive_and_hashlocks_need_their_preimage() {
        let env = mock_env();
        let now = env.block.time.seconds();
        let mut v = voucher(10);
        v.expiry = Some(now);
        assert_eq!(
            check_terms(&env, 3, &channel(100), 0u128.into(), &v, None),
            Err(ContractError::VoucherExpired {
                id: 3,
                expiry: now,
                now
            })
        );
        v.expiry = Some(now + 1);
        let preimage = HexBinary::from(b"x".to_vec());
        v.hashlock = Some(Hashlock::of_preimage(b"x"));
        assert_eq!(
            check_terms(&env, 3, &channel(100), 0u128.into(), &v, Some(&preimage)),
            Ok(Uint128::new(10))
        );
        let long = HexBinary::from(vec![7; MAX_PREIMAGE_LEN + 1]);
        assert_eq!(
            check_terms(&env, 3, &channel(100), 0u128.into(), &v, Some(&long)),
            Err(ContractError::PreimageLength { len: 65, max: 64 })
        );
    }

    #[test]
    fn sign_bytes_bind_the_environment() {
        let env = mock_env();
        let v = voucher(5);
        let base = signed_fields(&env, 9, &v).sign_bytes();
        let mut other_chain = env.clone();
        other_chain.block.chain_id = "other".into();
        let mut other_contract = env.clone();
        other_contract.contract.address = cosmwasm_std::Addr::unchecked("cosmwasm1other");
        assert_ne!(signed_fields(&other_chain, 9, &v).sign_bytes(), base);
        assert_ne!(signed_fields(&other_contract, 9, &v).sign_bytes(), base);
        assert_ne!(signed_fields(&env, 10, &v).sign_bytes(), base);
    }
}
