//! Channels nobody asked for, and cw20s that are not cw20s: an attacker
//! with 64 throwaway accounts opens channels to a seller, and a contract
//! that moved no token calls `receive` naming a victim as payer.

mod suite;

use cosmwasm_std::{coins, to_json_binary, Uint128};
use cw20::{Cw20Coin, Cw20ExecuteMsg, Cw20ReceiveMsg};
use cw_multi_test::{BankSudo, Executor, SudoMsg};
use payment_channel::msg::{
    BatchClaim, ChannelsResponse, Cw20AllowlistResponse, ExecuteMsg, QueryMsg, ReceiveMsg,
};
use payment_channel::state::PAGE_SLOTS;
use payment_channel::ContractError;
use suite::*;
use wevalue_voucher::VoucherScheme;

fn payee_channels(s: &Suite, payee: &str) -> Vec<u64> {
    let mut out = vec![];
    let mut start_after = None;
    loop {
        let r: ChannelsResponse = s
            .query(&QueryMsg::ChannelsByPayee {
                payee: s.addr(payee).to_string(),
                start_after,
                limit: Some(30),
            })
            .unwrap();
        let Some(last) = r.channels.last() else {
            return out;
        };
        start_after = Some(last.id);
        out.extend(r.channels.iter().map(|c| c.id));
    }
}

#[test]
fn channels_opened_unasked_take_no_claim_slot_and_stay_off_the_sellers_list() {
    let mut s = SuiteBuilder::new().build();
    let junk = signer(VoucherScheme::Ed25519, "junk");
    // 64 throwaway accounts open a channel each to the seller.
    for i in 0..64 {
        let spammer = s.addr(&format!("spammer-{i}"));
        s.app
            .sudo(SudoMsg::Bank(BankSudo::Mint {
                to_address: spammer.to_string(),
                amount: coins(1, DENOM),
            }))
            .unwrap();
        s.open_native(&format!("spammer-{i}"), "seller", &junk, 1);
    }
    // Then the seller's real buyers.
    let keys: Vec<_> = (0..PAGE_SLOTS)
        .map(|i| signer(VoucherScheme::Ed25519, &format!("real-{i}")))
        .collect();
    let payers = ["buyer", "buyer2", "hub", "stranger"];
    let real: Vec<u64> = keys
        .iter()
        .zip(payers)
        .map(|(k, p)| s.open_native(p, "seller", k, 1_000))
        .collect();
    assert_eq!(real[0], 65);
    // Unclaimed channels have no slot and are not on the seller's list.
    assert_eq!(s.stored_channel(1).slot, None);
    assert_eq!(s.stored_channel(real[0]).slot, None);
    assert_eq!(payee_channels(&s, "seller"), Vec::<u64>::new());
    // The seller's first batch accepts its real channels: they share the
    // first page, written once, whatever the spam.
    let items: Vec<BatchClaim> = real
        .iter()
        .zip(&keys)
        .map(|(id, k)| BatchClaim {
            channel_id: *id,
            voucher: s.voucher(k, *id, 100),
            preimage: None,
        })
        .collect();
    s.claim_batch("seller", items).unwrap();
    for (slot, id) in real.iter().enumerate() {
        assert_eq!(s.stored_channel(*id).slot, Some((1, slot as u32)));
    }
    assert_eq!(
        s.stored_page(1),
        Some(vec![Uint128::new(100); PAGE_SLOTS as usize])
    );
    assert_eq!(payee_channels(&s, "seller"), real);
    // The spam is still listed by its payers, and they get it back.
    let by_payer: ChannelsResponse = s
        .query(&QueryMsg::ChannelsByPayer {
            payer: s.addr("spammer-0").to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(by_payer.channels.len(), 1);
    assert!(!by_payer.channels[0].accepted);
    s.close("seller", 1, None).unwrap();
    assert_eq!(s.balance_of("spammer-0"), 1);
    s.assert_conserved(68);
}

#[test]
fn only_accepted_cw20s_can_fund_channels() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "attacker");
    let open = to_json_binary(&ReceiveMsg::Open(open_msg(&s.addr("seller"), &key, None))).unwrap();
    // An account calls `receive` itself, naming the buyer as payer: it moved
    // no token, and would fill the buyer's 8 channels to the seller.
    let forged = ExecuteMsg::Receive(Cw20ReceiveMsg {
        sender: s.addr("buyer").to_string(),
        amount: Uint128::new(1_000_000),
        msg: open.clone(),
    });
    assert_eq!(
        s.exec("stranger", &forged, &[]).unwrap_err(),
        ContractError::Cw20NotAccepted {
            token: s.addr("stranger").to_string()
        }
    );
    // A real cw20 the owner did not accept is refused too.
    let code = s.app.store_code(cw20_contract());
    let other = s
        .app
        .instantiate_contract(
            code,
            s.owner.clone(),
            &cw20_base::msg::InstantiateMsg {
                name: "Other".into(),
                symbol: "OTHR".into(),
                decimals: 6,
                initial_balances: vec![Cw20Coin {
                    address: s.addr("buyer").to_string(),
                    amount: Uint128::new(1_000),
                }],
                mint: None,
                marketing: None,
            },
            &[],
            "other",
            None,
        )
        .unwrap();
    let send = Cw20ExecuteMsg::Send {
        contract: s.contract.to_string(),
        amount: Uint128::new(10),
        msg: open,
    };
    let e = s
        .app
        .execute_contract(s.addr("buyer"), other.clone(), &send, &[])
        .map_err(err)
        .unwrap_err();
    assert_eq!(
        e,
        ContractError::Cw20NotAccepted {
            token: other.to_string()
        }
    );
    assert_eq!(s.cw20_balance(&s.contract.clone()), 0);
    // The accepted one works; the list is public.
    let id = s.open_cw20("buyer", "seller", &key, 100);
    let r: Cw20AllowlistResponse = s
        .query(&QueryMsg::AcceptedCw20s {
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(r.cw20s, vec![s.token.clone()]);
    // Once the owner stops accepting it, it funds nothing more.
    s.app
        .execute_contract(
            s.owner.clone(),
            s.contract.clone(),
            &ExecuteMsg::UpdateAllowlists {
                add_cw20s: vec![],
                remove_cw20s: vec![s.token.to_string()],
                add_ibc_channels: vec![],
                remove_ibc_channels: vec![],
            },
            &[],
        )
        .unwrap();
    assert_eq!(
        s.top_up_cw20("buyer", id, 5).unwrap_err(),
        ContractError::Cw20NotAccepted {
            token: s.token.to_string()
        }
    );
    // Its open channel still pays out and closes.
    s.claim("seller", id, s.voucher(&key, id, 60)).unwrap();
    s.close("seller", id, None).unwrap();
    assert_eq!(s.cw20_balance(&s.addr("seller")), 1_000_000_000 + 60);
    s.assert_conserved(id);
}
