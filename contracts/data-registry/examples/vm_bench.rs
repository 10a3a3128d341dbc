//! Gas benchmark of the optimized data-registry wasm in cosmwasm-vm.
//!
//! Prints SDK gas (wasmd's schedule, see wevalue-vm-harness) for create,
//! update and retire, and for one page (limit 30) of the `listings_near` and
//! `listings_by_category` queries when the registry holds 10, 1,000 and
//! 10,000 listings. The queried cell and category hold the same 10 listings
//! at every size (all of them at size 10), so the comparison isolates the
//! registry's size: a query that scanned would grow with it. A dense page
//! (30 results) is reported for the larger sizes too. A cw20-base transfer,
//! measured the same way, is the yardstick for create.
//!
//! Run: `cargo run -p data-registry --example data-registry-gas` (needs artifacts/).

use std::str::FromStr;

use cosmwasm_std::{
    to_json_binary, Addr, ContractResult, HexBinary, SignedDecimal, SystemResult, Uint128,
    WasmQuery,
};
use data_registry::msg::{
    DataTerms, ExecuteMsg, InstantiateMsg, ListingUpdate, ListingsResponse, Location, NewListing,
    PriceMsg, QueryMsg,
};
use data_registry::state::PricingModel;
use wevalue_common::asset::AssetInfoUnchecked;
use wevalue_vm_harness::{check_target, cw20_transfer_baseline, Gas, GasTable, VmContract};

const TARGET_CELL: &str = "u0j2q";
const TARGET_CATEGORY: &str = "air-quality";

/// A realistic listing: short texts, a CIDv1, a wss endpoint.
fn listing(n: u64, category: &str, lat: String, lon: String) -> NewListing {
    NewListing {
        title: format!("PM2.5 sensor #{n}, Via Roma"),
        description: "Particulate matter every 10 s".to_string(),
        category: category.to_string(),
        sensor_type: "pm2.5".to_string(),
        unit: "ug/m3".to_string(),
        location: Location {
            latitude: SignedDecimal::from_str(&lat).unwrap(),
            longitude: SignedDecimal::from_str(&lon).unwrap(),
        },
        price: PriceMsg {
            asset: AssetInfoUnchecked::Native("ucity".to_string()),
            amount: Uint128::new(100 + n as u128 % 50),
            model: PricingModel::PerMessage,
        },
        metadata_cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku".to_string(),
        endpoint: "wss://sdpp.turin.example/s".to_string(),
        terms: DataTerms {
            license: "ODbL-1.0".to_string(),
            terms_hash: HexBinary::from([9u8; 32]),
        },
    }
}

/// A listing inside the target cell (Turin, within ~4 km).
fn in_target(n: u64, category: &str) -> NewListing {
    let lat = format!("45.07{:02}", n % 20);
    let lon = format!("7.68{:02}", n % 17);
    listing(n, category, lat, lon)
}

/// A listing somewhere else on Earth (deterministic spread), never in the
/// target cell.
fn elsewhere(n: u64) -> NewListing {
    let lat = -60.0_f64 + (n * 7919 % 12_000) as f64 / 100.0;
    let lon = -170.0_f64 + (n * 104_729 % 34_000) as f64 / 100.0;
    let (lat, lon) = if (44.0..46.0).contains(&lat) && (6.0..9.0).contains(&lon) {
        (lat + 5.0, lon)
    } else {
        (lat, lon)
    };
    let category = ["energy", "mobility", "noise", "water"][n as usize % 4];
    listing(n, category, format!("{lat:.4}"), format!("{lon:.4}"))
}

struct Registry {
    vm: VmContract,
    seller: Addr,
    count: u64,
}

impl Registry {
    fn new() -> Self {
        let mut vm = VmContract::new("data-registry");
        let owner = vm.user_addr("owner");
        vm.instantiate(
            &owner,
            &[],
            &InstantiateMsg {
                owner: None,
                listing_deposit: None,
                curation_registry: None,
                purchase_verifier: None,
                min_rating_units: None,
                allow_private_endpoints: None,
            },
        )
        .expect("instantiate");
        let seller = vm.user_addr("seller");
        Self {
            vm,
            seller,
            count: 0,
        }
    }

    fn create(&mut self, l: NewListing) -> Gas {
        self.count += 1;
        self.vm
            .execute(&self.seller, &[], &ExecuteMsg::CreateListing(l))
            .expect("create")
            .gas
    }

    fn page(&mut self, msg: QueryMsg) -> (usize, Gas) {
        let (r, gas): (ListingsResponse, Gas) = self.vm.query(&msg).expect("query");
        (r.listings.len(), gas)
    }

    fn near(&mut self, cell: &str) -> (usize, Gas) {
        self.page(QueryMsg::ListingsNear {
            cell: cell.to_string(),
            start_after: None,
            limit: Some(30),
        })
    }

    fn by_category(&mut self, category: &str) -> (usize, Gas) {
        self.page(QueryMsg::ListingsByCategory {
            category: category.to_string(),
            start_after: None,
            limit: Some(30),
        })
    }

    /// The second page of 5 of the target cell and category: the cursor is
    /// the fifth listing of the first page.
    fn second_pages(&mut self) -> (Gas, Gas) {
        let first = |r: &mut Self, msg: QueryMsg| {
            let (page, _): (ListingsResponse, Gas) = r.vm.query(&msg).expect("page 1");
            page.listings[4].clone()
        };
        let near_cursor = first(
            self,
            QueryMsg::ListingsNear {
                cell: TARGET_CELL.into(),
                start_after: None,
                limit: Some(5),
            },
        );
        let (n, near) = self.page(QueryMsg::ListingsNear {
            cell: TARGET_CELL.into(),
            start_after: Some(near_cursor.place_cursor()),
            limit: Some(5),
        });
        assert_eq!(n, 5);
        let cat_cursor = first(
            self,
            QueryMsg::ListingsByCategory {
                category: TARGET_CATEGORY.into(),
                start_after: None,
                limit: Some(5),
            },
        );
        let (n, cat) = self.page(QueryMsg::ListingsByCategory {
            category: TARGET_CATEGORY.into(),
            start_after: Some(cat_cursor.category_cursor()),
            limit: Some(5),
        });
        assert_eq!(n, 5);
        (near, cat)
    }
}

/// A registry wired to a curation registry and a purchase verifier, both
/// answered by the VM's querier (every seller listed, every buyer paid
/// 1,000,000 ucity for every listing): gas of an update that checks curation
/// and of ratings. The harness does not charge the called contracts' own
/// gas; on wasmd each query also costs the callee's execution.
fn rating_and_curated_update(table: &mut GasTable) {
    let mut vm = VmContract::new("data-registry");
    let tcr = vm.addr("tcr");
    let verifier = vm.addr("verifier");
    vm.set_wasm_querier(move |q| {
        let text = match q {
            WasmQuery::Smart { msg, .. } => String::from_utf8_lossy(msg.as_slice()).to_string(),
            _ => String::new(),
        };
        let answer = if text.contains("is_listed") {
            serde_json::json!({ "listed": true })
        } else if text.contains("paid_for_listing") {
            serde_json::json!({ "paid": [{ "info": { "native": "ucity" }, "amount": "1000000" }] })
        } else {
            serde_json::json!({ "total": "1000000" })
        };
        SystemResult::Ok(ContractResult::Ok(to_json_binary(&answer).expect("json")))
    });
    let owner = vm.user_addr("owner");
    vm.instantiate(
        &owner,
        &[],
        &serde_json::json!({
            "owner": null,
            "listing_deposit": null,
            "curation_registry": tcr,
            "purchase_verifier": verifier,
        }),
    )
    .expect("instantiate");
    let seller = vm.user_addr("seller");
    let buyer = vm.user_addr("buyer");
    vm.execute(
        &seller,
        &[],
        &ExecuteMsg::CreateListing(in_target(1, TARGET_CATEGORY)),
    )
    .expect("create");
    let update = vm
        .execute(
            &seller,
            &[],
            &ExecuteMsg::UpdateListing {
                id: 1,
                update: ListingUpdate {
                    title: Some("PM2.5 sensor, Via Po".into()),
                    ..Default::default()
                },
            },
        )
        .expect("update")
        .gas;
    let rate = |vm: &mut VmContract, score: u8| {
        vm.execute(
            &buyer,
            &[],
            &ExecuteMsg::Rate {
                id: 1,
                score,
                review_cid: None,
            },
        )
        .expect("rate")
        .gas
    };
    let first = rate(&mut vm, 4);
    let revised = rate(&mut vm, 2);
    table.add("update_listing (title, curation checked)", update);
    table.add("rate (first rating of a buyer)", first);
    table.add("rate (revision)", revised);
}

/// A registry of `size` listings: 10 in the target cell and category, the
/// rest elsewhere in other categories, plus a dense cell of 30 in `u33d`
/// (Berlin) once the size allows it.
fn build(size: u64) -> Registry {
    let mut r = Registry::new();
    for n in 0..10 {
        r.create(in_target(n, TARGET_CATEGORY));
    }
    let dense = if size >= 1_000 { 30 } else { 0 };
    for n in 0..dense {
        let lat = format!("52.52{:02}", n);
        r.create(listing(10 + n, "dense", lat, "13.4050".into()));
    }
    for n in (10 + dense)..size {
        r.create(elsewhere(n));
    }
    assert_eq!(r.count, size);
    r
}

fn main() {
    let baseline = cw20_transfer_baseline();
    let mut table = GasTable::new("data-registry (optimized wasm in cosmwasm-vm)");
    table.add("cw20-base transfer (yardstick)", baseline);

    let mut ok = true;
    let mut sizes = vec![];
    for size in [10u64, 1_000, 10_000] {
        let started = std::time::Instant::now();
        let mut r = build(size);
        let build_time = started.elapsed();
        let create = r.create(in_target(size, "energy"));
        let id = r.count;
        let update =
            r.vm.execute(
                &r.seller.clone(),
                &[],
                &ExecuteMsg::UpdateListing {
                    id,
                    update: ListingUpdate {
                        price: Some(PriceMsg {
                            asset: AssetInfoUnchecked::Native("ucity".into()),
                            amount: Uint128::new(42),
                            model: PricingModel::PerMessage,
                        }),
                        ..Default::default()
                    },
                },
            )
            .expect("update")
            .gas;
        let retire =
            r.vm.execute(&r.seller.clone(), &[], &ExecuteMsg::RetireListing { id })
                .expect("retire")
                .gas;
        let (near2, cat2) = r.second_pages();
        let (near_n, near) = r.near(TARGET_CELL);
        let (cat_n, cat) = r.by_category(TARGET_CATEGORY);
        assert_eq!((near_n, cat_n), (10, 10), "the target holds 10 listings");
        table.add(format!("create_listing @ {size}"), create);
        table.add(format!("update_listing (price, re-index) @ {size}"), update);
        table.add(format!("retire_listing @ {size}"), retire);
        table.add(format!("listings_near page, 10 results @ {size}"), near);
        table.add(
            format!("listings_by_category page, 10 results @ {size}"),
            cat,
        );
        table.add(format!("listings_near page 2 of 5, cursor @ {size}"), near2);
        table.add(
            format!("listings_by_category page 2 of 5, cursor @ {size}"),
            cat2,
        );
        if size >= 1_000 {
            let (n, dense_near) = r.near("u33d");
            assert_eq!(n, 30);
            table.add(
                format!("listings_near full page, 30 results @ {size}"),
                dense_near,
            );
            let (n, dense_cat) = r.by_category("dense");
            assert_eq!(n, 30);
            table.add(
                format!("listings_by_category full page, 30 results @ {size}"),
                dense_cat,
            );
        }
        eprintln!("built a registry of {size} listings in {build_time:.1?}");
        sizes.push((size, create, near, cat));
    }
    rating_and_curated_update(&mut table);
    println!("{}", table.to_markdown());
    println!(
        "SDK gas as wasmd charges it (compute = CosmWasm gas / 140,000; storage by the SDK KV gas config); the flat 60,000 instance cost is left out.\n"
    );

    let (_, create_10, near_10, cat_10) = sizes[0];
    let (_, create_10k, near_10k, cat_10k) = sizes[2];
    ok &= check_target(
        "listings_near page gas at 10,000 / at 10 listings",
        near_10k.sdk() as f64 / near_10.sdk() as f64,
        1.2,
    );
    ok &= check_target(
        "listings_by_category page gas at 10,000 / at 10 listings",
        cat_10k.sdk() as f64 / cat_10.sdk() as f64,
        1.2,
    );
    ok &= check_target(
        "create_listing / cw20-base transfer (SDK gas)",
        create_10k.sdk().max(create_10.sdk()) as f64 / baseline.sdk() as f64,
        2.0,
    );
    // For information: the Wasm execution part alone (a listing message is
    // six times the size of a transfer, so its parsing costs more).
    println!(
        "info: create_listing / cw20-base transfer (Wasm execution only) = {:.3}",
        create_10k.vm_internal.max(create_10.vm_internal) as f64 / baseline.vm_internal as f64
    );
    // Targets are reported, not enforced: a benchmark prints figures.
    println!(
        "{}",
        if ok {
            "all gas targets met"
        } else {
            "some gas targets MISSED"
        }
    );
}
