//! Gas benchmark of the optimized payment-channel wasm in cosmwasm-vm.
//!
//! Prints SDK gas (wasmd's schedule, see wevalue-vm-harness) for open,
//! top-up, a claim under each signature scheme, batch claims of 1, 10 and 50
//! ed25519 vouchers (per voucher), the first claim on a channel (which
//! accepts it: claim slot and the payee's index), lodging a hashlocked
//! voucher, start close and finalize, the purchase queries, and the IBC
//! paths (a claim paid out over IBC, its reply, the source callbacks, a hub
//! deposit's destination callback), next to a cw20-base transfer measured
//! in the same run, and checks the issue's targets. Claims are measured in
//! steady state: each channel has been claimed before, as a streaming
//! channel is, and its claim page is full (every channel pays the same
//! seller, so they share pages).
//!
//! Run: `ci/build-wasm.sh payment-channel cw20-base`, then
//! `cargo run -p payment-channel --example payment-channel-gas`.

use cosmwasm_std::{
    coins, Addr, IbcAckCallbackMsg, IbcAcknowledgement, IbcDestinationCallbackMsg, IbcEndpoint,
    IbcPacket, IbcSourceCallbackMsg, IbcTimeout, MsgResponse, Reply, SubMsgResponse, SubMsgResult,
    Timestamp, Uint128,
};
use payment_channel::msg::{
    BatchClaim, ExecuteMsg, Hashlock, InstantiateMsg, ListingRef, OpenChannel, Payout, QueryMsg,
    SignedVoucher,
};
use payment_channel::state::PAGE_SLOTS;
use wevalue_common::purchase::{PaidForListingResponse, TotalPaidResponse};
use wevalue_vm_harness::{
    check_target, cw20_transfer_baseline, user_addr, Gas, GasTable, VmContract, GAS_MULTIPLIER,
    WASMD_INSTANCE_COST,
};
use wevalue_voucher::sign::VoucherSigner;
use wevalue_voucher::{Voucher, VoucherScheme};

const DENOM: &str = "ucity";

struct Bench {
    vm: VmContract,
    payee: Addr,
}

impl Bench {
    fn new() -> Self {
        let mut vm = VmContract::new("payment-channel");
        let owner = user_addr("owner");
        vm.instantiate(
            &owner,
            &[],
            &InstantiateMsg {
                owner: None,
                min_challenge_period: 3600,
                max_challenge_period: 86_400,
                max_batch_size: None,
            },
        )
        .expect("instantiates");
        Self {
            vm,
            payee: user_addr("seller"),
        }
    }

    fn open(&mut self, payer: &Addr, key: &VoucherSigner) -> (u64, Gas) {
        self.open_for(payer, key, None)
    }

    fn open_for(
        &mut self,
        payer: &Addr,
        key: &VoucherSigner,
        listing: Option<ListingRef>,
    ) -> (u64, Gas) {
        let out = self
            .vm
            .execute(
                payer,
                &coins(1_000_000_000, DENOM),
                &ExecuteMsg::Open(OpenChannel {
                    payee: self.payee.to_string(),
                    pubkey: key.public_key().into(),
                    scheme: key.scheme(),
                    challenge_period: None,
                    listing,
                }),
            )
            .expect("opens");
        let id = out.attr("channel_id").expect("id").parse().expect("number");
        (id, out.gas)
    }

    fn voucher(&self, key: &VoucherSigner, id: u64, amount: u128) -> SignedVoucher {
        self.locked_voucher(key, id, amount, None, None)
    }

    fn locked_voucher(
        &self,
        key: &VoucherSigner,
        id: u64,
        amount: u128,
        hashlock: Option<Hashlock>,
        expiry: Option<u64>,
    ) -> SignedVoucher {
        let fields = Voucher {
            chain_id: self.vm.block.chain_id.clone(),
            contract: self.vm.address.to_string(),
            channel_id: id,
            amount: Uint128::new(amount),
            hashlock,
            expiry,
        };
        SignedVoucher {
            amount: Uint128::new(amount),
            hashlock,
            expiry,
            signature: key.sign(&fields).expect("signs").to_vec().into(),
        }
    }

    fn claim(&mut self, key: &VoucherSigner, id: u64, amount: u128) -> Gas {
        self.claim_to(key, id, amount, None).gas
    }

    fn claim_to(
        &mut self,
        key: &VoucherSigner,
        id: u64,
        amount: u128,
        payout: Option<Payout>,
    ) -> wevalue_vm_harness::Outcome {
        let voucher = self.voucher(key, id, amount);
        let payee = self.payee.clone();
        self.vm
            .execute(
                &payee,
                &[],
                &ExecuteMsg::Claim {
                    channel_id: id,
                    voucher,
                    preimage: None,
                    payout,
                },
            )
            .expect("claims")
    }

    fn batch(&mut self, channels: &[(u64, VoucherSigner)], amount: u128) -> Gas {
        let claims = channels
            .iter()
            .map(|(id, key)| BatchClaim {
                channel_id: *id,
                voucher: self.voucher(key, *id, amount),
                preimage: None,
            })
            .collect();
        let payee = self.payee.clone();
        self.vm
            .execute(
                &payee,
                &[],
                &ExecuteMsg::ClaimBatch {
                    claims,
                    payout: None,
                },
            )
            .expect("batch claims")
            .gas
    }
}

fn key(scheme: VoucherScheme, label: &str) -> VoucherSigner {
    VoucherSigner::from_secret(scheme, wevalue_voucher::sha256(label.as_bytes()), "wasm")
        .expect("valid secret")
}

fn main() {
    let baseline = cw20_transfer_baseline();
    let mut table = GasTable::new("payment-channel (optimized wasm, cosmwasm-vm, SDK gas)");
    table.add("cw20-base transfer (baseline)", baseline);

    let mut b = Bench::new();
    let buyer = user_addr("buyer");
    let ed = key(VoucherScheme::Ed25519, "buyer-ed");
    // Warm the pair record so the measured open is a typical one.
    b.open(&buyer, &ed);
    let (ed_id, open_gas) = b.open(&buyer, &ed);
    table.add("open (native, ed25519 key)", open_gas);
    let top_up =
        b.vm.execute(
            &buyer,
            &coins(1_000, DENOM),
            &ExecuteMsg::TopUp { channel_id: ed_id },
        )
        .expect("tops up")
        .gas;
    table.add("top_up", top_up);

    // The scheme channels are claimed once now and measured after the
    // batches, when their claim pages are full (steady state).
    let mut singles = vec![];
    for (scheme, label) in [
        (VoucherScheme::Ed25519, "claim ed25519"),
        (VoucherScheme::Secp256k1, "claim secp256k1"),
        (VoucherScheme::Adr036, "claim adr036 (signArbitrary)"),
    ] {
        let k = if scheme == VoucherScheme::Ed25519 {
            ed.clone()
        } else {
            key(scheme, label)
        };
        let id = if scheme == VoucherScheme::Ed25519 {
            ed_id
        } else {
            b.open(&buyer, &k).0
        };
        b.claim(&k, id, 1_000);
        singles.push((label, k, id));
    }

    // Batches over distinct channels from distinct payers to one payee (a
    // seller's settlement bridge), each channel claimed once before.
    let mut per_voucher = vec![];
    for n in [1usize, 10, 50] {
        let channels: Vec<(u64, VoucherSigner)> = (0..n)
            .map(|i| {
                let payer = user_addr(&format!("batch-payer-{n}-{i}"));
                let k = key(VoucherScheme::Ed25519, &format!("batch-key-{n}-{i}"));
                let (id, _) = b.open(&payer, &k);
                (id, k)
            })
            .collect();
        b.batch(&channels, 1_000);
        let gas = b.batch(&channels, 2_000);
        table.add(format!("claim_batch of {n} ed25519 vouchers"), gas);
        let per = Gas {
            vm_internal: gas.vm_internal / n as u64,
            vm_external: gas.vm_external / n as u64,
            events: gas.events / n as u64,
        };
        table.add(format!("  per voucher in a batch of {n}"), per);
        per_voucher.push((n, gas, per));
    }

    let mut single = Gas::default();
    for (label, k, id) in &singles {
        let gas = b.claim(k, *id, 2_000);
        table.add(*label, gas);
        if *id == ed_id {
            single = gas;
        }
    }

    let start =
        b.vm.execute(&buyer, &[], &ExecuteMsg::StartClose { channel_id: ed_id })
            .expect("starts close")
            .gas;
    table.add("start_close", start);
    b.vm.advance_blocks(3600 / wevalue_vm_harness::BLOCK_SECONDS + 1);
    let anyone = user_addr("anyone");
    let fin =
        b.vm.execute(&anyone, &[], &ExecuteMsg::Finalize { channel_id: ed_id })
            .expect("finalizes")
            .gas;
    table.add("finalize", fin);
    let (paid, query_gas): (TotalPaidResponse, Gas) =
        b.vm.query(&QueryMsg::TotalPaid {
            payer: buyer.to_string(),
            payee: b.payee.to_string(),
            asset: wevalue_common::asset::AssetInfo::Native(DENOM.into()),
        })
        .expect("total paid");
    assert!(!paid.total.is_zero());
    table.add("total_paid query", query_gas);
    // A channel's first claim accepts it (claim slot, the payee's index):
    // first claims differ only in whether they start a new claim page (the
    // last page id is read and written too); the dearest of PAGE_SLOTS in a
    // row (from fresh payers) is the one that did.
    let firsts: Vec<Gas> = (0..PAGE_SLOTS)
        .map(|i| {
            let k = key(VoucherScheme::Ed25519, &format!("page-{i}"));
            let (id, _) = b.open(&user_addr(&format!("first-{i}")), &k);
            b.claim(&k, id, 1_000)
        })
        .collect();
    let cheapest = firsts
        .iter()
        .copied()
        .min_by_key(Gas::sdk)
        .unwrap_or_default();
    table.add("first claim ed25519 (accepts the channel)", cheapest);
    if let Some(dearest) = firsts.iter().max_by_key(|g| g.sdk()) {
        if dearest.sdk() > cheapest.sdk() + 1_000 {
            table.add("  first claim starting a new claim page", *dearest);
        }
    }

    // Lodging a hashlocked voucher on a channel whose payer started a close.
    let hub_key = key(VoucherScheme::Ed25519, "lodge");
    let (lodge_id, _) = b.open(&user_addr("lodge-payer"), &hub_key);
    b.claim(&hub_key, lodge_id, 1_000);
    b.vm.execute(
        &user_addr("lodge-payer"),
        &[],
        &ExecuteMsg::StartClose {
            channel_id: lodge_id,
        },
    )
    .expect("starts close");
    let expiry = b.vm.block.time.seconds() + 7_200;
    let locked = b.locked_voucher(
        &hub_key,
        lodge_id,
        2_000,
        Some(Hashlock::of_preimage(b"secret")),
        Some(expiry),
    );
    let payee = b.payee.clone();
    let lodge =
        b.vm.execute(
            &payee,
            &[],
            &ExecuteMsg::LodgeVoucher {
                channel_id: lodge_id,
                voucher: locked,
            },
        )
        .expect("lodges")
        .gas;
    table.add("lodge_voucher (stretches a close)", lodge);

    // Purchases tied to a listing.
    let registry = user_addr("registry");
    let listing = || ListingRef {
        registry: registry.to_string(),
        listing_id: 1,
    };
    let list_key = key(VoucherScheme::Ed25519, "listing");
    b.open_for(&buyer, &list_key, Some(listing()));
    let (list_id, open_listing) = b.open_for(&buyer, &list_key, Some(listing()));
    table.add("open for a listing", open_listing);
    b.claim(&list_key, list_id, 1_000);
    let listing_claim = b.claim(&list_key, list_id, 2_000);
    table.add("claim ed25519 on a listing's channel", listing_claim);
    let (paid, listing_query): (PaidForListingResponse, Gas) =
        b.vm.query(&QueryMsg::PaidForListing {
            payer: buyer.to_string(),
            payee: b.payee.to_string(),
            registry: registry.to_string(),
            listing_id: 1,
        })
        .expect("paid for listing");
    assert_eq!(paid.paid.len(), 1);
    table.add("paid_for_listing query", listing_query);

    // IBC: a claim paid out over ICS-20, its reply, and the callbacks.
    let owner = user_addr("owner");
    b.vm.execute(
        &owner,
        &[],
        &ExecuteMsg::UpdateAllowlists {
            add_cw20s: vec![],
            remove_cw20s: vec![],
            add_ibc_channels: vec!["channel-7".into()],
            remove_ibc_channels: vec![],
        },
    )
    .expect("allowlists");
    let ibc_key = key(VoucherScheme::Ed25519, "ibc");
    let (ibc_id, _) = b.open(&user_addr("ibc-payer"), &ibc_key);
    b.claim(&ibc_key, ibc_id, 1_000);
    let payout = || {
        Some(Payout::Ibc {
            channel: "channel-7".into(),
            receiver: "osmo1receiver".into(),
            timeout_seconds: 600,
        })
    };
    let mut packets = vec![];
    for (n, amount) in [(1u64, 2_000u128), (2, 3_000)] {
        let out = b.claim_to(&ibc_key, ibc_id, amount, payout());
        if n == 1 {
            table.add("claim ed25519 paid out over IBC", out.gas);
        }
        #[allow(deprecated)]
        let reply = Reply {
            id: out.response.messages[0].id,
            payload: out.response.messages[0].payload.clone(),
            gas_used: 0,
            result: SubMsgResult::Ok(SubMsgResponse {
                events: vec![],
                data: None,
                msg_responses: vec![MsgResponse {
                    type_url: "/ibc.applications.transfer.v1.MsgTransferResponse".into(),
                    value: vec![0x08, n as u8].into(),
                }],
            }),
        };
        let gas = b.vm.reply(&reply).expect("records the sequence").gas;
        if n == 1 {
            table.add("  its reply (records the packet sequence)", gas);
        }
        packets.push(IbcPacket::new(
            br#"{"amount":"1000","denom":"ucity","memo":"","receiver":"osmo1receiver","sender":"x"}"#.to_vec(),
            IbcEndpoint { port_id: "transfer".into(), channel_id: "channel-7".into() },
            IbcEndpoint { port_id: "transfer".into(), channel_id: "channel-0".into() },
            n,
            IbcTimeout::with_timestamp(Timestamp::from_seconds(1_800_000_000)),
        ));
    }
    for (packet, data, label) in [
        (
            packets[0].clone(),
            &br#"{"result":"AQ=="}"#[..],
            "ibc_source_callback, success ack",
        ),
        (
            packets[1].clone(),
            &br#"{"error":"ABCI code: 1"}"#[..],
            "ibc_source_callback, error ack (credits)",
        ),
    ] {
        let msg = IbcSourceCallbackMsg::Acknowledgement(IbcAckCallbackMsg::new(
            IbcAcknowledgement::new(data.to_vec()),
            packet,
            Addr::unchecked("relayer"),
        ));
        let gas = b.vm.ibc_source_callback(&msg).expect("settles").gas;
        table.add(label, gas);
    }

    // A deposit from the hub opening a channel.
    let city_payer = user_addr("city-payer");
    b.vm.execute(
        &city_payer,
        &[],
        &ExecuteMsg::AuthorizeHubSender {
            channel: "channel-7".into(),
            sender: "cosmos1hub".into(),
        },
    )
    .expect("authorizes");
    let denom = payment_channel::ibc::deposit::ibc_denom("transfer/channel-7/uatom");
    let contract = b.vm.address.clone();
    b.vm.set_balance(&contract, coins(5_000_000, &denom));
    let hub_key = key(VoucherScheme::Ed25519, "hub-buyer");
    let memo = format!(
        r#"{{"dest_callback":{{"address":"{contract}"}},"payment_channel":{{"open":{{"payer":"{city_payer}","channel":{{"payee":"{}","pubkey":"{}","scheme":"ed25519","challenge_period":null}}}}}}}}"#,
        b.payee,
        cosmwasm_std::Binary::from(hub_key.public_key()).to_base64()
    );
    let data = format!(
        r#"{{"amount":"5000000","denom":"uatom","memo":{},"receiver":"{contract}","sender":"cosmos1hub"}}"#,
        cosmwasm_std::to_json_string(&memo).expect("json")
    );
    let deposit =
        b.vm.ibc_destination_callback(&IbcDestinationCallbackMsg {
            packet: IbcPacket::new(
                data.into_bytes(),
                IbcEndpoint {
                    port_id: "transfer".into(),
                    channel_id: "channel-0".into(),
                },
                IbcEndpoint {
                    port_id: "transfer".into(),
                    channel_id: "channel-7".into(),
                },
                1,
                IbcTimeout::with_timestamp(Timestamp::from_seconds(1_800_000_000)),
            ),
            ack: IbcAcknowledgement::new(br#"{"result":"AQ=="}"#.to_vec()),
        })
        .expect("opens from the hub")
        .gas;
    table.add(
        "ibc_destination_callback, hub deposit opens a channel",
        deposit,
    );

    println!("{}", table.to_markdown());
    println!(
        "SDK gas as wasmd charges it (compute = CosmWasm gas / {GAS_MULTIPLIER}; storage by the SDK KV gas config); the flat {WASMD_INSTANCE_COST} instance cost is left out.\nwasm size: {} bytes\n",
        b.vm.wasm_size
    );

    let (_, batch50, per50) = per_voucher[2];
    let mut ok = true;
    ok &= check_target(
        "per-voucher gas in a 50-voucher ed25519 batch / single ed25519 claim",
        per50.sdk() as f64 / single.sdk() as f64,
        0.60,
    );
    ok &= check_target(
        "single ed25519 claim / cw20-base transfer",
        single.sdk() as f64 / baseline.sdk() as f64,
        3.0,
    );
    // What a chain charges per voucher once the flat per-call cost wasmd adds
    // is counted: one instance for the whole batch versus one per claim.
    let with_instance = |g: u64| g + WASMD_INSTANCE_COST;
    println!(
        "with the {WASMD_INSTANCE_COST} instance cost: single ed25519 claim {} gas, 50-voucher batch {} gas = {} per voucher ({:.3} of a single claim)",
        with_instance(single.sdk()),
        with_instance(batch50.sdk()),
        with_instance(batch50.sdk()) / 50,
        (with_instance(batch50.sdk()) as f64 / 50.0) / with_instance(single.sdk()) as f64
    );
    // The source callback must fit the gas its memo asks for, instance cost
    // included, several times over.
    let callback = table
        .sdk("ibc_source_callback, error ack (credits)")
        .unwrap_or_default();
    ok &= check_target(
        "ibc_source_callback incl. instance cost / memo gas_limit",
        (callback + WASMD_INSTANCE_COST) as f64
            / payment_channel::ibc::payout::CALLBACK_GAS_LIMIT as f64,
        0.34,
    );
    println!(
        "{}",
        if ok {
            "all gas targets met"
        } else {
            "some gas targets MISSED"
        }
    );
}
