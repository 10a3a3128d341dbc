//! Opening, topping up, closing (payee, payer + challenge, finalize),
//! configuration and migration.

mod suite;

use cosmwasm_std::{coin, coins, Uint128};
use cw_multi_test::Executor;
use cw_utils::PaymentError;
use payment_channel::msg::{ChannelStatus, ExecuteMsg, OpenChannel, QueryMsg};
use payment_channel::ContractError;
use suite::*;
use wevalue_voucher::{PubkeyError, VoucherScheme};

#[test]
fn open_registers_the_channel_and_indexes_it() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    assert_eq!(id, 1);
    let c = s.channel(1);
    assert_eq!(c.payer, s.addr("buyer"));
    assert_eq!(c.payee, s.addr("seller"));
    assert_eq!(c.deposit, Uint128::new(1_000));
    assert_eq!(c.balance, Uint128::new(1_000));
    assert_eq!(c.claimed, Uint128::zero());
    assert_eq!(c.challenge_period, 3600);
    assert_eq!(c.status, ChannelStatus::Open);
    assert_eq!(c.pubkey.as_slice(), key.public_key().as_slice());
    assert_eq!(s.balance(&s.contract.clone()), 1_000);

    let id2 = s.open_cw20("buyer", "seller2", &key, 500);
    assert_eq!(id2, 2);
    assert_eq!(s.channel(2).asset, s.cw20());
    let by_payer: payment_channel::msg::ChannelsResponse = s
        .query(&QueryMsg::ChannelsByPayer {
            payer: s.addr("buyer").to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(
        by_payer.channels.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    let page: payment_channel::msg::ChannelsResponse = s
        .query(&QueryMsg::ChannelsByPayer {
            payer: s.addr("buyer").to_string(),
            start_after: Some(1),
            limit: Some(1),
        })
        .unwrap();
    assert_eq!(
        page.channels.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![2]
    );
    let by_payee = |s: &Suite| -> Vec<u64> {
        let r: payment_channel::msg::ChannelsResponse = s
            .query(&QueryMsg::ChannelsByPayee {
                payee: s.addr("seller2").to_string(),
                start_after: None,
                limit: None,
            })
            .unwrap();
        r.channels.iter().map(|c| c.id).collect()
    };
    // A payee's list holds the channels it accepted by redeeming on them.
    assert_eq!(by_payee(&s), Vec::<u64>::new());
    assert!(!s.channel(2).accepted);
    s.claim("seller2", 2, s.voucher(&key, 2, 1)).unwrap();
    assert_eq!(by_payee(&s), vec![2]);
    assert!(s.channel(2).accepted);
    s.assert_conserved(2);
}

#[test]
fn pagination_is_bounded() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    for i in 0..35 {
        s.open_native("buyer", &format!("seller-{i}"), &key, 10);
    }
    let q = |limit| QueryMsg::ChannelsByPayer {
        payer: s.addr("buyer").to_string(),
        start_after: None,
        limit,
    };
    let r: payment_channel::msg::ChannelsResponse = s.query(&q(None)).unwrap();
    assert_eq!(r.channels.len(), 10);
    let r: payment_channel::msg::ChannelsResponse = s.query(&q(Some(100))).unwrap();
    assert_eq!(r.channels.len(), 30);
    assert_eq!(r.channels.last().unwrap().id, 30);
}

#[test]
fn open_channels_per_pair_are_bounded() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    for _ in 0..8 {
        s.open_native("buyer", "seller", &key, 10);
    }
    assert_eq!(
        s.open_native_err("buyer", "seller", &key, &coins(10, DENOM))
            .unwrap_err(),
        ContractError::TooManyOpenChannels { max: 8 }
    );
    // Another asset is another pair; a closed channel frees a slot and its
    // claims stay in the total.
    s.open_cw20("buyer", "seller", &key, 10);
    s.claim("seller", 1, s.voucher(&key, 1, 4)).unwrap();
    s.claim("seller", 2, s.voucher(&key, 2, 3)).unwrap();
    s.close("seller", 1, None).unwrap();
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 7);
    s.open_native("buyer", "seller", &key, 10);
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 7);
    s.assert_conserved(10);
}

#[test]
fn open_rejects_bad_input() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Secp256k1, "buyer");
    assert_eq!(
        s.open_native_err("buyer", "seller", &key, &[]).unwrap_err(),
        ContractError::Payment(PaymentError::NoFunds {})
    );
    assert_eq!(
        s.open_native_err(
            "buyer",
            "seller",
            &key,
            &[coin(5, DENOM), coin(5, "uother")]
        )
        .unwrap_err(),
        ContractError::Payment(PaymentError::MultipleDenoms {})
    );
    assert_eq!(
        s.open_native_err("buyer", "buyer", &key, &coins(5, DENOM))
            .unwrap_err(),
        ContractError::SelfChannel
    );
    let mut open = open_msg(&s.addr("seller"), &key, None);
    open.pubkey = vec![4u8; 33].into();
    assert_eq!(
        s.exec("buyer", &ExecuteMsg::Open(open), &coins(5, DENOM))
            .unwrap_err(),
        ContractError::InvalidPubkey {
            scheme: "secp256k1".into(),
            source: PubkeyError::NotCompressed
        }
    );
    let mut open = open_msg(&s.addr("seller"), &key, None);
    open.scheme = VoucherScheme::Ed25519;
    assert_eq!(
        s.exec("buyer", &ExecuteMsg::Open(open), &coins(5, DENOM))
            .unwrap_err(),
        ContractError::InvalidPubkey {
            scheme: "ed25519".into(),
            source: PubkeyError::Length {
                expected: 32,
                actual: 33
            }
        }
    );
    for period in [59, 30 * DAY + 1] {
        let open = open_msg(&s.addr("seller"), &key, Some(period));
        assert_eq!(
            s.exec("buyer", &ExecuteMsg::Open(open), &coins(5, DENOM))
                .unwrap_err(),
            ContractError::ChallengePeriodOutOfRange {
                period,
                min: 3600,
                max: 30 * DAY
            }
        );
    }
    let open = OpenChannel {
        payee: "not-an-address".into(),
        ..open_msg(&s.addr("seller"), &key, None)
    };
    assert!(matches!(
        s.exec("buyer", &ExecuteMsg::Open(open), &coins(5, DENOM))
            .unwrap_err(),
        ContractError::Std(_)
    ));
    assert_eq!(s.balance(&s.contract.clone()), 0);
}

#[test]
fn top_ups_follow_the_channel() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let native = s.open_native("buyer", "seller", &key, 100);
    let token = s.open_cw20("buyer", "seller", &key, 100);
    s.top_up("buyer", native, &coins(50, DENOM)).unwrap();
    assert_eq!(s.channel(native).deposit, Uint128::new(150));
    s.top_up_cw20("buyer", token, 25).unwrap();
    assert_eq!(s.channel(token).deposit, Uint128::new(125));
    assert_eq!(
        s.top_up("buyer", native, &coins(5, "uother")).unwrap_err(),
        ContractError::Payment(PaymentError::MissingDenom(DENOM.into()))
    );
    assert_eq!(
        s.top_up("stranger", native, &coins(5, DENOM)).unwrap_err(),
        ContractError::NotPayer { id: native }
    );
    assert!(matches!(
        s.top_up("buyer", token, &coins(5, DENOM)).unwrap_err(),
        ContractError::WrongAsset { .. }
    ));
    assert!(matches!(
        s.top_up_cw20("buyer", native, 5).unwrap_err(),
        ContractError::WrongAsset { .. }
    ));
    assert_eq!(
        s.top_up("buyer", 99, &coins(5, DENOM)).unwrap_err(),
        ContractError::ChannelNotFound { id: 99 }
    );
    s.start_close("buyer", native).unwrap();
    assert_eq!(
        s.top_up("buyer", native, &coins(5, DENOM)).unwrap_err(),
        ContractError::ChannelNotOpen {
            id: native,
            status: "closing"
        }
    );
    s.assert_conserved(2);
}

#[test]
fn payee_closes_at_once_with_a_final_voucher() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Secp256k1, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    let seller0 = s.balance_of("seller");
    let buyer0 = s.balance_of("buyer");
    s.claim("seller", id, s.voucher(&key, id, 100)).unwrap();
    let v = s.voucher(&key, id, 350);
    assert_eq!(
        s.close("buyer", id, Some(v.clone())).unwrap_err(),
        ContractError::NotPayee { id }
    );
    s.close("seller", id, Some(v)).unwrap();
    assert_eq!(s.balance_of("seller") - seller0, 350);
    assert_eq!(s.balance_of("buyer") - buyer0, 650);
    let c = s.channel(id);
    assert_eq!(c.status, ChannelStatus::Closed);
    assert_eq!(c.claimed, Uint128::new(350));
    assert_eq!(c.balance, Uint128::zero());
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 350);
    assert_eq!(
        s.close("seller", id, None).unwrap_err(),
        ContractError::ChannelClosed { id }
    );
    assert_eq!(
        s.claim("seller", id, s.voucher(&key, id, 400)).unwrap_err(),
        ContractError::ChannelClosed { id }
    );
    s.assert_conserved(1);
}

#[test]
fn payer_close_opens_a_challenge_window() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_cw20("buyer", "seller", &key, 1_000);
    assert_eq!(
        s.start_close("seller", id).unwrap_err(),
        ContractError::NotPayer { id }
    );
    assert_eq!(
        s.finalize("stranger", id).unwrap_err(),
        ContractError::ChannelNotOpen {
            id,
            status: "open (no close started)"
        }
    );
    let t0 = s.now();
    s.start_close("buyer", id).unwrap();
    assert_eq!(
        s.channel(id).status,
        ChannelStatus::Closing {
            finalize_after: cosmwasm_std::Timestamp::from_seconds(t0 + 3600)
        }
    );
    assert_eq!(
        s.start_close("buyer", id).unwrap_err(),
        ContractError::ChannelNotOpen {
            id,
            status: "closing"
        }
    );
    // The payee still claims its best voucher inside the window.
    s.advance(3000);
    s.claim("seller", id, s.voucher(&key, id, 400)).unwrap();
    assert_eq!(
        s.finalize("stranger", id).unwrap_err(),
        ContractError::ChallengePeriodRunning {
            id,
            finalize_after: t0 + 3600,
            now: t0 + 3000
        }
    );
    s.advance(600);
    assert_eq!(
        s.claim("seller", id, s.voucher(&key, id, 500)).unwrap_err(),
        ContractError::ChallengePeriodOver {
            id,
            finalize_after: t0 + 3600
        }
    );
    let buyer0 = s.cw20_balance(&s.addr("buyer"));
    s.finalize("stranger", id).unwrap();
    assert_eq!(s.cw20_balance(&s.addr("buyer")) - buyer0, 600);
    assert_eq!(s.cw20_balance(&s.addr("seller")), 1_000_000_000 + 400);
    assert_eq!(s.total_paid("buyer", "seller", s.cw20()), 400);
    assert_eq!(
        s.finalize("stranger", id).unwrap_err(),
        ContractError::ChannelClosed { id }
    );
    s.assert_conserved(1);
}

#[test]
fn payee_can_close_without_voucher_refunding_all() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    let buyer0 = s.balance_of("buyer");
    s.close("seller", id, None).unwrap();
    assert_eq!(s.balance_of("buyer") - buyer0, 1_000);
    s.assert_conserved(1);
}

#[test]
fn every_message_refuses_unexpected_funds() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let id = s.open_native("buyer", "seller", &key, 1_000);
    let f = coins(1, DENOM);
    let v = s.voucher(&key, id, 1);
    let msgs = vec![
        ExecuteMsg::Claim {
            channel_id: id,
            voucher: v.clone(),
            preimage: None,
            payout: None,
        },
        ExecuteMsg::ClaimBatch {
            claims: vec![],
            payout: None,
        },
        ExecuteMsg::Close {
            channel_id: id,
            voucher: None,
            preimage: None,
            payout: None,
        },
        ExecuteMsg::StartClose { channel_id: id },
        ExecuteMsg::Finalize { channel_id: id },
        ExecuteMsg::AuthorizeWatchtower {
            watchtower: s.addr("x").to_string(),
        },
        ExecuteMsg::RevokeWatchtower {
            watchtower: s.addr("x").to_string(),
        },
        ExecuteMsg::WithdrawCredit {
            denom: DENOM.into(),
        },
        ExecuteMsg::LodgeVoucher {
            channel_id: id,
            voucher: v.clone(),
        },
        ExecuteMsg::ConfirmPayout { payout_id: 1 },
        ExecuteMsg::AuthorizeHubSender {
            channel: "channel-0".into(),
            sender: "cosmos1x".into(),
        },
        ExecuteMsg::RevokeHubSender {
            channel: "channel-0".into(),
            sender: "cosmos1x".into(),
        },
        ExecuteMsg::UpdateConfig {
            min_challenge_period: None,
            max_challenge_period: None,
            max_batch_size: None,
        },
        ExecuteMsg::UpdateAllowlists {
            add_cw20s: vec![],
            remove_cw20s: vec![],
            add_ibc_channels: vec![],
            remove_ibc_channels: vec![],
        },
        ExecuteMsg::Sweep {
            asset: wevalue_common::asset::AssetInfoUnchecked::Native(DENOM.into()),
            recipient: s.addr("x").to_string(),
        },
    ];
    for msg in msgs {
        assert_eq!(
            s.exec("seller", &msg, &f).unwrap_err(),
            ContractError::Payment(PaymentError::NonPayable {}),
            "{msg:?}"
        );
    }
}

#[test]
fn config_is_owner_only_and_validated() {
    let mut s = SuiteBuilder::new().build();
    let owner = s.owner.to_string();
    let upd = |min, max, batch| ExecuteMsg::UpdateConfig {
        min_challenge_period: min,
        max_challenge_period: max,
        max_batch_size: batch,
    };
    assert!(matches!(
        s.exec("buyer", &upd(Some(600), None, None), &[])
            .unwrap_err(),
        ContractError::Ownership(_)
    ));
    let res = s
        .app
        .execute_contract(
            s.owner.clone(),
            s.contract.clone(),
            &upd(Some(600), None, Some(20)),
            &[],
        )
        .unwrap();
    assert!(res.events.iter().any(|e| e
        .attributes
        .iter()
        .any(|a| a.key == "max_batch_size" && a.value == "20")));
    assert_eq!(s.config().min_challenge_period, 600);
    assert_eq!(s.config().max_batch_size, 20);
    for bad in [
        upd(Some(10), None, None),
        upd(None, Some(100), None),
        upd(None, None, Some(51)),
        upd(None, None, Some(0)),
    ] {
        let e = s
            .app
            .execute_contract(s.owner.clone(), s.contract.clone(), &bad, &[])
            .map_err(err)
            .unwrap_err();
        assert!(matches!(e, ContractError::InvalidConfig { .. }), "{e:?}");
    }
    // Refused updates change nothing; the owner is the instantiator.
    assert_eq!(
        s.config(),
        payment_channel::msg::ConfigResponse {
            min_challenge_period: 600,
            max_challenge_period: 30 * DAY,
            max_batch_size: 20,
        }
    );
    let ownership: cw_ownable::Ownership<cosmwasm_std::Addr> =
        s.query(&QueryMsg::Ownership {}).unwrap();
    assert_eq!(ownership.owner.map(|o| o.to_string()), Some(owner));
}

#[test]
fn migrate_refuses_downgrades() {
    let mut s = SuiteBuilder::new().build();
    let code = s.code;
    s.app
        .migrate_contract(
            s.owner.clone(),
            s.contract.clone(),
            &payment_channel::msg::MigrateMsg {},
            code,
        )
        .unwrap();
    // A stored newer version must be refused.
    let mut deps = cosmwasm_std::testing::mock_dependencies();
    cw2::set_contract_version(
        deps.as_mut().storage,
        payment_channel::contract::CONTRACT_NAME,
        "9.0.0",
    )
    .unwrap();
    let e = payment_channel::contract::migrate(
        deps.as_mut(),
        cosmwasm_std::testing::mock_env(),
        payment_channel::msg::MigrateMsg {},
    )
    .unwrap_err();
    assert!(matches!(e, ContractError::Migration(_)), "{e:?}");
}
