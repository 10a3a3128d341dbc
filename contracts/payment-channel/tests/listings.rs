//! Purchases tied to a listing (`paid_for_listing`): a channel names the
//! listing it buys when it is opened, and the query answers what the payee
//! redeemed on the channels a payer opened for it, per asset, with bounded
//! work however many channels and listings exist.

mod suite;

use cosmwasm_std::{coin, coins, to_json_binary, Uint128};
use cw20::Cw20ExecuteMsg;
use cw_multi_test::{BankSudo, Executor, SudoMsg};
use payment_channel::msg::{ListingRef, ReceiveMsg};
use payment_channel::ContractError;
use suite::*;
use wevalue_common::asset::AssetInfo;
use wevalue_voucher::VoucherScheme;

#[test]
fn what_the_payee_redeemed_counts_for_the_listing_it_was_bought_for() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let a = s
        .open_for_listing("buyer", "seller", &key, &coins(1_000, DENOM), "registry", 1)
        .unwrap();
    let b = s
        .open_for_listing("buyer", "seller", &key, &coins(1_000, DENOM), "registry", 2)
        .unwrap();
    let plain = s.open_native("buyer", "seller", &key, 1_000);
    let c = s.channel(a);
    assert_eq!(
        c.listing,
        Some(payment_channel::msg::ListingResponse {
            registry: s.addr("registry"),
            listing_id: 1
        })
    );
    // Nothing redeemed yet.
    assert_eq!(s.paid_for_listing("buyer", "seller", "registry", 1), vec![]);
    s.claim("seller", a, s.voucher(&key, a, 300)).unwrap();
    s.claim("seller", b, s.voucher(&key, b, 50)).unwrap();
    s.claim("seller", plain, s.voucher(&key, plain, 7)).unwrap();
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 1),
        vec![(s.native(), 300)]
    );
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 2),
        vec![(s.native(), 50)]
    );
    // Other listings, registries, payers and payees have nothing.
    assert_eq!(s.paid_for_listing("buyer", "seller", "registry", 3), vec![]);
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "other-registry", 1),
        vec![]
    );
    assert_eq!(
        s.paid_for_listing("buyer2", "seller", "registry", 1),
        vec![]
    );
    assert_eq!(
        s.paid_for_listing("buyer", "seller2", "registry", 1),
        vec![]
    );
    // total_paid counts every channel of the pair.
    assert_eq!(s.total_paid("buyer", "seller", s.native()), 357);
    // A closed channel keeps counting; a reopened one adds to it.
    s.close("seller", a, Some(s.voucher(&key, a, 400))).unwrap();
    let a2 = s
        .open_for_listing("buyer", "seller", &key, &coins(500, DENOM), "registry", 1)
        .unwrap();
    s.claim("seller", a2, s.voucher(&key, a2, 25)).unwrap();
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 1),
        vec![(s.native(), 425)]
    );
    // The data registry asks through wevalue-common's helper.
    let paid = wevalue_common::purchase::query_paid_for_listing(
        &s.app.wrap(),
        &s.contract,
        &s.addr("buyer"),
        &s.addr("seller"),
        &s.addr("registry"),
        1,
        &s.native(),
    )
    .unwrap();
    assert_eq!(paid, Uint128::new(425));
    s.assert_conserved(a2);
}

#[test]
fn a_listing_may_be_paid_in_several_assets() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let native = s
        .open_for_listing("buyer", "seller", &key, &coins(1_000, DENOM), "registry", 9)
        .unwrap();
    let mut open = open_msg(&s.addr("seller"), &key, None);
    open.listing = Some(ListingRef {
        registry: s.addr("registry").to_string(),
        listing_id: 9,
    });
    s.app
        .execute_contract(
            s.addr("buyer"),
            s.token.clone(),
            &Cw20ExecuteMsg::Send {
                contract: s.contract.to_string(),
                amount: Uint128::new(800),
                msg: to_json_binary(&ReceiveMsg::Open(open)).unwrap(),
            },
            &[],
        )
        .unwrap();
    let cw20 = native + 1;
    s.claim("seller", cw20, s.voucher(&key, cw20, 80)).unwrap();
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 9),
        vec![(s.cw20(), 80)]
    );
    s.claim("seller", native, s.voucher(&key, native, 10))
        .unwrap();
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 9),
        vec![(s.native(), 10), (s.cw20(), 80)]
    );
    s.assert_conserved(cw20);
}

#[test]
fn the_work_per_listing_is_bounded() {
    let mut s = SuiteBuilder::new().build();
    let key = signer(VoucherScheme::Ed25519, "buyer");
    let buyer = s.addr("buyer");
    for denom in ["uthree", "ufour", "ufive"] {
        s.app
            .sudo(SudoMsg::Bank(BankSudo::Mint {
                to_address: buyer.to_string(),
                amount: coins(1_000_000, denom),
            }))
            .unwrap();
    }
    let open = |s: &mut Suite, denom: &str| {
        s.open_for_listing("buyer", "seller", &key, &[coin(10, denom)], "registry", 1)
    };
    // At most 8 channels open at once for a listing, across assets.
    for denom in ["ucity", "uother"] {
        for _ in 0..4 {
            open(&mut s, denom).unwrap();
        }
    }
    assert_eq!(
        open(&mut s, "uthree").unwrap_err(),
        ContractError::ListingFull {
            max: 8,
            what: "open channels"
        }
    );
    // Closing one makes room; at most 4 assets ever.
    s.close("seller", 1, None).unwrap();
    open(&mut s, "uthree").unwrap();
    s.close("seller", 2, None).unwrap();
    open(&mut s, "ufour").unwrap();
    s.close("seller", 3, None).unwrap();
    assert_eq!(
        open(&mut s, "ufive").unwrap_err(),
        ContractError::ListingFull {
            max: 4,
            what: "assets"
        }
    );
    // Other listings are not affected.
    s.open_for_listing("buyer", "seller", &key, &[coin(10, "ufive")], "registry", 2)
        .unwrap();
    // The registry must be an address.
    let mut bad = open_msg(&s.addr("seller"), &key, None);
    bad.listing = Some(ListingRef {
        registry: "not-an-address".into(),
        listing_id: 1,
    });
    assert!(matches!(
        s.exec(
            "buyer",
            &payment_channel::msg::ExecuteMsg::Open(bad),
            &coins(10, DENOM)
        )
        .unwrap_err(),
        ContractError::Std(_)
    ));
    assert_eq!(
        s.paid_for_listing("buyer", "seller", "registry", 1),
        Vec::<(AssetInfo, u128)>::new()
    );
}
