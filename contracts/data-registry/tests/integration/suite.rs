//! `Suite`: a multi-test app with the registry, optional mock curation
//! registry and purchase verifier, and helpers named after what they do
//! (queries, actions, `*_err` variants that return the contract error).

use std::str::FromStr;

use cosmwasm_std::{coin, Addr, Coin, Empty, HexBinary, SignedDecimal, StdResult, Uint128};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use data_registry::msg::{
    CategoryCursor, ConfigResponse, DataTerms, ExecuteMsg, InstantiateMsg, ListingInfo,
    ListingUpdate, ListingsResponse, Location, NewListing, PlaceCursor, PriceCursor, PriceMsg,
    QueryMsg, RatingResponse, RatingSummaryResponse, RatingsResponse,
};
use data_registry::state::{ListingStatus, PricingModel};
use data_registry::ContractError;
use wevalue_common::asset::{AssetInfo, AssetInfoUnchecked};

use crate::mocks::{curation_contract, silent_contract, verifier_contract, MockExecuteMsg};

pub const DENOM: &str = "ucity";
pub const FEE_DENOM: &str = "ustake";

pub fn registry_contract() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(
        ContractWrapper::new(
            data_registry::contract::execute,
            data_registry::contract::instantiate,
            data_registry::contract::query,
        )
        .with_migrate(data_registry::contract::migrate),
    )
}

/// A valid listing; `n` varies the title so listings are distinguishable.
pub fn new_listing(n: u32) -> NewListing {
    NewListing {
        title: format!("Air quality sensor {n}"),
        description: "PM2.5 and PM10 every 10 seconds".to_string(),
        category: "air-quality".to_string(),
        sensor_type: "pm2.5".to_string(),
        unit: "µg/m³".to_string(),
        location: loc("45.0703", "7.6869"),
        price: price(DENOM, 100),
        metadata_cid: "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi".to_string(),
        endpoint: "wss://sensors.turin.example/air".to_string(),
        terms: DataTerms {
            license: "ODbL-1.0".to_string(),
            terms_hash: HexBinary::from([7u8; 32]),
        },
    }
}

pub fn loc(lat: &str, lon: &str) -> Location {
    Location {
        latitude: SignedDecimal::from_str(lat).unwrap(),
        longitude: SignedDecimal::from_str(lon).unwrap(),
    }
}

pub fn price(denom: &str, amount: u128) -> PriceMsg {
    PriceMsg {
        asset: AssetInfoUnchecked::Native(denom.to_string()),
        amount: Uint128::new(amount),
        model: PricingModel::PerMessage,
    }
}

#[derive(Default)]
pub struct SuiteBuilder {
    deposit: Option<Coin>,
    curation: bool,
    verifier: bool,
    min_rating_units: Option<u64>,
    allow_private_endpoints: Option<bool>,
    funded: Vec<&'static str>,
}

impl SuiteBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires this deposit per listing.
    pub fn with_deposit(mut self, amount: u128) -> Self {
        self.deposit = Some(coin(amount, DENOM));
        self
    }

    /// Deploys a mock curation registry and configures it.
    pub fn with_curation(mut self) -> Self {
        self.curation = true;
        self
    }

    /// Deploys a mock purchase verifier and configures it.
    pub fn with_verifier(mut self) -> Self {
        self.verifier = true;
        self
    }

    /// Sets how many units of a listing a first rating needs paid for.
    pub fn with_min_rating_units(mut self, units: u64) -> Self {
        self.min_rating_units = Some(units);
        self
    }

    /// Accepts endpoints on private, loopback and local hosts.
    pub fn allow_private_endpoints(mut self) -> Self {
        self.allow_private_endpoints = Some(true);
        self
    }

    /// Gives these accounts 1,000,000,000 of both test denoms.
    pub fn with_funded(mut self, names: &[&'static str]) -> Self {
        self.funded.extend_from_slice(names);
        self
    }

    pub fn build(self) -> Suite {
        let mut app = App::default();
        let owner = app.api().addr_make("owner");
        let funded: Vec<Addr> = self.funded.iter().map(|n| app.api().addr_make(n)).collect();
        app.init_modules(|router, _, storage| {
            for addr in &funded {
                router
                    .bank
                    .init_balance(
                        storage,
                        addr,
                        vec![coin(1_000_000_000, DENOM), coin(1_000_000_000, FEE_DENOM)],
                    )
                    .unwrap();
            }
        });
        let mock_id = |app: &mut App, verifier: bool| {
            if verifier {
                app.store_code(verifier_contract())
            } else {
                app.store_code(curation_contract())
            }
        };
        let curation = self.curation.then(|| {
            let id = mock_id(&mut app, false);
            app.instantiate_contract(id, owner.clone(), &Empty {}, &[], "curation", None)
                .unwrap()
        });
        let verifier = self.verifier.then(|| {
            let id = mock_id(&mut app, true);
            app.instantiate_contract(id, owner.clone(), &Empty {}, &[], "verifier", None)
                .unwrap()
        });
        let code_id = app.store_code(registry_contract());
        let registry = app
            .instantiate_contract(
                code_id,
                owner.clone(),
                &InstantiateMsg {
                    owner: None,
                    listing_deposit: self.deposit,
                    curation_registry: curation.as_ref().map(Addr::to_string),
                    purchase_verifier: verifier.as_ref().map(Addr::to_string),
                    min_rating_units: self.min_rating_units,
                    allow_private_endpoints: self.allow_private_endpoints,
                },
                &[],
                "data-registry",
                Some(owner.to_string()),
            )
            .unwrap();
        Suite {
            app,
            registry,
            owner,
            curation,
            verifier,
            code_id,
        }
    }
}

pub struct Suite {
    pub app: App,
    pub registry: Addr,
    pub owner: Addr,
    pub curation: Option<Addr>,
    pub verifier: Option<Addr>,
    pub code_id: u64,
}

pub fn err(e: anyhow::Error) -> ContractError {
    e.downcast().expect("a data-registry ContractError")
}

impl Suite {
    pub fn addr(&self, name: &str) -> Addr {
        self.app.api().addr_make(name)
    }

    pub fn next_block(&mut self) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = b.time.plus_seconds(5);
        });
    }

    // ------------------------------------------------------------- actions

    pub fn execute(
        &mut self,
        sender: &str,
        msg: &ExecuteMsg,
        funds: &[Coin],
    ) -> Result<AppResponse, ContractError> {
        let sender = self.addr(sender);
        self.app
            .execute_contract(sender, self.registry.clone(), msg, funds)
            .map_err(err)
    }

    pub fn create_with(
        &mut self,
        seller: &str,
        listing: NewListing,
        funds: &[Coin],
    ) -> Result<u64, ContractError> {
        let res = self.execute(seller, &ExecuteMsg::CreateListing(listing), funds)?;
        let id = res
            .events
            .iter()
            .flat_map(|e| e.attributes.iter())
            .find(|a| a.key == "listing_id")
            .expect("listing_id attribute")
            .value
            .parse()
            .unwrap();
        Ok(id)
    }

    pub fn create(&mut self, seller: &str, listing: NewListing) -> u64 {
        self.create_with(seller, listing, &[]).unwrap()
    }

    pub fn create_err(&mut self, seller: &str, listing: NewListing) -> ContractError {
        self.create_with(seller, listing, &[]).unwrap_err()
    }

    pub fn update(
        &mut self,
        seller: &str,
        id: u64,
        update: ListingUpdate,
    ) -> Result<AppResponse, ContractError> {
        self.execute(seller, &ExecuteMsg::UpdateListing { id, update }, &[])
    }

    pub fn pause(&mut self, seller: &str, id: u64) -> Result<AppResponse, ContractError> {
        self.execute(seller, &ExecuteMsg::PauseListing { id }, &[])
    }

    pub fn resume(&mut self, seller: &str, id: u64) -> Result<AppResponse, ContractError> {
        self.execute(seller, &ExecuteMsg::ResumeListing { id }, &[])
    }

    pub fn retire(&mut self, seller: &str, id: u64) -> Result<AppResponse, ContractError> {
        self.execute(seller, &ExecuteMsg::RetireListing { id }, &[])
    }

    pub fn rate(
        &mut self,
        buyer: &str,
        id: u64,
        score: u8,
        review_cid: Option<&str>,
    ) -> Result<AppResponse, ContractError> {
        self.execute(
            buyer,
            &ExecuteMsg::Rate {
                id,
                score,
                review_cid: review_cid.map(str::to_string),
            },
            &[],
        )
    }

    /// Sets whether the mock curation registry lists `subject`.
    pub fn set_listed(&mut self, subject: &str, listed: bool) {
        let registry = self.curation.clone().expect("suite built with curation");
        let subject = self.addr(subject).to_string();
        self.app
            .execute_contract(
                self.owner.clone(),
                registry,
                &MockExecuteMsg::Listed { subject, listed },
                &[],
            )
            .unwrap();
    }

    /// Sets what the mock verifier's `paid_for_listing` reports `payer` paid
    /// `payee` in `denom` for listing `id` of this registry.
    pub fn set_paid_for(&mut self, payer: &str, payee: &str, id: u64, denom: &str, amount: u128) {
        let registry = self.registry.to_string();
        self.set_paid_for_in(payer, payee, &registry, id, denom, amount);
    }

    /// As [`Self::set_paid_for`], for a listing of any `registry`.
    pub fn set_paid_for_in(
        &mut self,
        payer: &str,
        payee: &str,
        registry: &str,
        id: u64,
        denom: &str,
        amount: u128,
    ) {
        let verifier = self.verifier.clone().expect("suite built with verifier");
        let msg = MockExecuteMsg::PaidForListing {
            payer: self.addr(payer).to_string(),
            payee: self.addr(payee).to_string(),
            registry: registry.to_string(),
            listing_id: id,
            asset: AssetInfo::Native(denom.to_string()),
            amount: Uint128::new(amount),
        };
        self.app
            .execute_contract(self.owner.clone(), verifier, &msg, &[])
            .unwrap();
    }

    /// Sets what the mock verifier's `total_paid` reports `payer` paid `payee`
    /// in `denom` over all channels.
    pub fn set_paid(&mut self, payer: &str, payee: &str, denom: &str, total: u128) {
        let verifier = self.verifier.clone().expect("suite built with verifier");
        let msg = MockExecuteMsg::Paid {
            payer: self.addr(payer).to_string(),
            payee: self.addr(payee).to_string(),
            asset: AssetInfo::Native(denom.to_string()),
            total: Uint128::new(total),
        };
        self.app
            .execute_contract(self.owner.clone(), verifier, &msg, &[])
            .unwrap();
    }

    // ------------------------------------------------------------- queries

    pub fn query<T: serde::de::DeserializeOwned>(&self, msg: &QueryMsg) -> StdResult<T> {
        self.app.wrap().query_wasm_smart(&self.registry, msg)
    }

    pub fn config(&self) -> ConfigResponse {
        self.query(&QueryMsg::Config {}).unwrap()
    }

    pub fn listing(&self, id: u64) -> ListingInfo {
        self.query(&QueryMsg::Listing { id }).unwrap()
    }

    pub fn listings(&self, start_after: Option<u64>, limit: Option<u32>) -> Vec<ListingInfo> {
        let r: ListingsResponse = self
            .query(&QueryMsg::Listings { start_after, limit })
            .unwrap();
        r.listings
    }

    pub fn ids(listings: &[ListingInfo]) -> Vec<u64> {
        listings.iter().map(|l| l.id).collect()
    }

    fn page(&self, msg: QueryMsg) -> Vec<ListingInfo> {
        let r: ListingsResponse = self.query(&msg).unwrap();
        r.listings
    }

    pub fn by_seller(
        &self,
        seller: &str,
        start_after: Option<u64>,
        limit: Option<u32>,
    ) -> Vec<u64> {
        Self::ids(&self.seller_page(seller, start_after, limit))
    }

    pub fn seller_page(
        &self,
        seller: &str,
        start_after: Option<u64>,
        limit: Option<u32>,
    ) -> Vec<ListingInfo> {
        self.page(QueryMsg::ListingsBySeller {
            seller: self.addr(seller).to_string(),
            start_after,
            limit,
        })
    }

    /// Ids of a category page after listing `after` as it is stored now.
    pub fn by_category(&self, category: &str, after: Option<u64>, limit: Option<u32>) -> Vec<u64> {
        let cursor = after.map(|id| self.listing(id).category_cursor());
        Self::ids(&self.category_page(category, cursor, limit))
    }

    pub fn category_page(
        &self,
        category: &str,
        start_after: Option<CategoryCursor>,
        limit: Option<u32>,
    ) -> Vec<ListingInfo> {
        self.page(QueryMsg::ListingsByCategory {
            category: category.to_string(),
            start_after,
            limit,
        })
    }

    /// Ids of a place page after listing `after` as it is stored now.
    pub fn near(&self, cell: &str, after: Option<u64>, limit: Option<u32>) -> Vec<u64> {
        let cursor = after.map(|id| self.listing(id).place_cursor());
        Self::ids(&self.near_page(cell, cursor, limit))
    }

    pub fn near_page(
        &self,
        cell: &str,
        start_after: Option<PlaceCursor>,
        limit: Option<u32>,
    ) -> Vec<ListingInfo> {
        self.page(QueryMsg::ListingsNear {
            cell: cell.to_string(),
            start_after,
            limit,
        })
    }

    /// Ids of a price-range page after listing `after` as it is stored now.
    pub fn by_price(
        &self,
        category: &str,
        denom: &str,
        min: Option<u128>,
        max: Option<u128>,
        after: Option<u64>,
    ) -> Vec<u64> {
        let cursor = after.map(|id| self.listing(id).price_cursor());
        Self::ids(&self.price_page(category, denom, (min, max), cursor, None))
    }

    pub fn price_page(
        &self,
        category: &str,
        denom: &str,
        (min, max): (Option<u128>, Option<u128>),
        start_after: Option<PriceCursor>,
        limit: Option<u32>,
    ) -> Vec<ListingInfo> {
        self.page(QueryMsg::ListingsByPrice {
            category: category.to_string(),
            asset: AssetInfoUnchecked::Native(denom.to_string()),
            model: PricingModel::PerMessage,
            min_price: min.map(Uint128::new),
            max_price: max.map(Uint128::new),
            start_after,
            limit,
        })
    }

    /// Every page of a list query, each started after the last listing of
    /// the previous page as that page showed it; the ids in order.
    pub fn all_pages(
        &self,
        mut page: impl FnMut(Option<&ListingInfo>) -> Vec<ListingInfo>,
    ) -> Vec<u64> {
        let mut out: Vec<ListingInfo> = vec![];
        for _ in 0..1_000 {
            let listings = page(out.last());
            if listings.is_empty() {
                return Self::ids(&out);
            }
            out.extend(listings);
        }
        panic!("paging did not end after 1,000 pages");
    }

    pub fn rating_summary(&self, id: u64) -> RatingSummaryResponse {
        self.query(&QueryMsg::RatingSummary { id }).unwrap()
    }

    pub fn rating(&self, id: u64, buyer: &str) -> StdResult<RatingResponse> {
        self.query(&QueryMsg::Rating {
            id,
            buyer: self.addr(buyer).to_string(),
        })
    }

    pub fn ratings(
        &self,
        id: u64,
        start_after: Option<String>,
        limit: Option<u32>,
    ) -> RatingsResponse {
        self.query(&QueryMsg::Ratings {
            id,
            start_after,
            limit,
        })
        .unwrap()
    }

    pub fn balance(&self, addr: &Addr, denom: &str) -> u128 {
        self.app
            .wrap()
            .query_balance(addr, denom)
            .unwrap()
            .amount
            .u128()
    }

    pub fn registry_balance(&self) -> u128 {
        self.balance(&self.registry, DENOM)
    }

    // ---------------------------------------------------------- assertions

    pub fn assert_status(&self, id: u64, status: ListingStatus) {
        assert_eq!(self.listing(id).status, status, "status of listing {id}");
    }

    pub fn silent_contract(&mut self) -> Addr {
        let id = self.app.store_code(silent_contract());
        self.app
            .instantiate_contract(id, self.owner.clone(), &Empty {}, &[], "silent", None)
            .unwrap()
    }
}
