//! Templates, task generation, preview, offers and queries.

use cosmwasm_std::Uint128;
use value_contract::msg::{
    ConfigResponse, ExecuteMsg, QueryMsg, TaskTerms, TasksResponse, TemplatesResponse,
};
use value_contract::state::{TaskKind, TaskStatus};
use value_contract::ContractError;
use wevalue_common::asset::AssetInfoUnchecked;

use crate::suite::{params, template, SuiteBuilder, DENOM, PHASE};

#[test]
fn only_the_owner_registers_valid_templates() {
    let mut s = SuiteBuilder::new().build();
    let stranger = s.addr("stranger");
    assert!(matches!(
        s.execute(
            &stranger,
            &ExecuteMsg::CreateTemplate(template(TaskKind::Bounty)),
            &[]
        )
        .unwrap_err(),
        ContractError::Ownership(_)
    ));
    let owner = s.owner.clone();
    let mut t = template(TaskKind::Bounty);
    t.metric = "kWh Saved".to_string();
    assert!(matches!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::InvalidField {
            field: "metric",
            ..
        }
    ));
    let mut t = template(TaskKind::Bounty);
    t.max_participants = 65;
    assert_eq!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::OutOfRange {
            field: "max_participants",
            min: 1,
            max: 64,
            actual: 65
        }
    );
    let mut t = template(TaskKind::Bounty);
    t.durations.dispute = 0;
    assert!(matches!(
        s.execute(&owner, &ExecuteMsg::CreateTemplate(t), &[])
            .unwrap_err(),
        ContractError::OutOfRange {
            field: "durations.dispute",
            ..
        }
    ));
    let id = s.create_template(template(TaskKind::Bounty));
    assert_eq!(id, 1);
    s.create_template(template(TaskKind::Competition));
    let page: TemplatesResponse = s.query(&QueryMsg::Templates {
        start_after: Some(1),
        limit: None,
    });
    assert_eq!(page.templates.len(), 1);
    assert_eq!(page.templates[0].kind, TaskKind::Competition);
}

#[test]
fn invalid_task_parameters_are_refused_with_a_reason() {
    let mut s = SuiteBuilder::new().build();
    let bounty = s.create_template(template(TaskKind::Bounty));
    let competition = s.create_template(template(TaskKind::Competition));
    assert_eq!(
        s.create_task_err(bounty, params(100, 0, 1)).unwrap_err(),
        ContractError::InvalidParams {
            reason: "bounties and crowdfunding need a target above zero"
        }
    );
    assert_eq!(
        s.create_task_err(competition, params(100, 5, 1))
            .unwrap_err(),
        ContractError::InvalidParams {
            reason: "competitions and per-unit tasks take no target"
        }
    );
    assert_eq!(
        s.create_task_err(competition, params(0, 0, 1)).unwrap_err(),
        ContractError::ZeroAmount {
            what: "funding_goal"
        }
    );
    assert_eq!(
        s.create_task_err(competition, params(10, 0, 65))
            .unwrap_err(),
        ContractError::OutOfRange {
            field: "max_participants",
            min: 1,
            max: 64,
            actual: 65
        }
    );
    let mut p = params(10, 0, 1);
    p.description_cid = "not-a-cid".to_string();
    assert!(matches!(
        s.create_task_err(competition, p).unwrap_err(),
        ContractError::InvalidCid { .. }
    ));
    let mut p = params(10, 0, 1);
    p.durations.dispute = Some(PHASE - 1);
    assert_eq!(
        s.create_task_err(competition, p).unwrap_err(),
        ContractError::InvalidParams {
            reason: "the dispute window cannot be shorter than the template's"
        }
    );
    let mut p = params(10, 0, 1);
    p.asset = AssetInfoUnchecked::Native("x".to_string());
    assert!(matches!(
        s.create_task_err(competition, p).unwrap_err(),
        ContractError::Asset(_)
    ));
    // A template restricted to one asset.
    let mut t = template(TaskKind::Competition);
    t.asset = Some(AssetInfoUnchecked::Native("uother".to_string()));
    let restricted = s.create_template(t);
    assert_eq!(
        s.create_task_err(restricted, params(10, 0, 1)).unwrap_err(),
        ContractError::AssetNotAllowed {
            template_id: restricted,
            allowed: "native:uother".to_string()
        }
    );
    let owner = s.owner.clone();
    s.execute(
        &owner,
        &ExecuteMsg::SetTemplateActive {
            id: bounty,
            active: false,
        },
        &[],
    )
    .unwrap();
    assert_eq!(
        s.create_task_err(bounty, params(100, 1, 1)).unwrap_err(),
        ContractError::TemplateInactive { id: bounty }
    );
    assert_eq!(
        s.create_task_err(99, params(100, 1, 1)).unwrap_err(),
        ContractError::TemplateNotFound { id: 99 }
    );
}

#[test]
fn preview_shows_the_terms_create_would_store() {
    let mut s = SuiteBuilder::new().build();
    let tpl = s.create_template(template(TaskKind::PerUnit));
    let mut p = params(5_000, 0, 10);
    p.durations.execution = Some(7 * 24 * 3600);
    let preview: TaskTerms = s.query(&QueryMsg::PreviewTask {
        template_id: tpl,
        params: p.clone(),
    });
    let now = s.app.block_info().time;
    assert_eq!(preview.funding_deadline, now.plus_seconds(PHASE));
    assert_eq!(preview.acceptance_deadline, now.plus_seconds(5 * PHASE));
    assert_eq!(
        preview.execution_deadline,
        now.plus_seconds(5 * PHASE + 7 * 24 * 3600)
    );
    assert_eq!(preview.metric, "bikes_moved");
    let config: ConfigResponse = s.query(&QueryMsg::Config {});
    assert_eq!(config.task_count, 0);
    let id = s.create_task(tpl, p);
    let stored = s.task(id).terms;
    assert_eq!(stored.creator, s.addr("creator"));
    assert_eq!(
        TaskTerms {
            creator: preview.creator.clone(),
            ..stored
        },
        preview
    );
}

#[test]
fn offers_follow_the_kind_and_the_caps() {
    let names: Vec<String> = (0..63).map(|i| format!("p{i}")).collect();
    let mut funded: Vec<&str> = names.iter().map(String::as_str).collect();
    funded.extend(["city", "h", "late", "x"]);
    let mut s = SuiteBuilder::new().with_funded(&funded).build();
    let competition = s.create_template(template(TaskKind::Competition));
    let per_unit = s.create_template(template(TaskKind::PerUnit));
    let c = s.create_task(competition, params(100, 0, 64));
    let u = s.create_task(per_unit, params(100, 0, 64));
    assert_eq!(
        s.offer_err("h", c, 5, 1, 1).unwrap_err(),
        ContractError::InvalidOffer {
            reason: "competition entries ask no price (the prize pool is shared)"
        }
    );
    assert_eq!(
        s.offer_err("h", u, 1, 10, 11).unwrap_err(),
        ContractError::InvalidOffer {
            reason: "min_units must be 1 to capacity"
        }
    );
    assert_eq!(
        s.offer_err("h", u, 0, 10, 1).unwrap_err(),
        ContractError::InvalidOffer {
            reason: "price must be greater than zero"
        }
    );
    let first = s.offer("h", u, 2, 10, 5);
    assert_eq!(
        s.offer_err("h", u, 2, 10, 5).unwrap_err(),
        ContractError::OfferExists {
            task_id: u,
            participant: s.addr("h").to_string(),
            offer_id: first
        }
    );
    for n in &names {
        s.offer(n, c, 0, 1, 1);
    }
    s.offer("h", c, 0, 1, 1);
    assert_eq!(
        s.offer_err("late", c, 0, 1, 1).unwrap_err(),
        ContractError::TooManyOffers {
            task_id: c,
            max: 64
        }
    );
    // Withdrawing frees a place (and returns the deposit); the next offer gets a new id.
    let h = s.addr("h");
    assert_eq!(s.withdraw("h", c), crate::suite::DEPOSIT);
    assert_eq!(s.offer("late", c, 0, 1, 1), 65);
    assert_eq!(
        s.execute(&h, &ExecuteMsg::WithdrawOffer { task_id: c }, &[])
            .unwrap_err(),
        ContractError::NoOffer {
            task_id: c,
            participant: h.to_string()
        }
    );
    let page = s.offers(c);
    assert_eq!(page.offers.len(), 30);
    assert_eq!(page.offers[0].offer_id, 1);
    // Offers close at the matching deadline.
    s.contribute("city", u, 100);
    s.wait(2 * PHASE);
    assert!(matches!(
        s.offer_err("x", u, 1, 1, 1).unwrap_err(),
        ContractError::WrongStatus {
            status: TaskStatus::Accepting,
            ..
        }
    ));
}

#[test]
fn tasks_are_listed_by_stored_status() {
    let mut s = SuiteBuilder::new().with_funded(&["city"]).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let a = s.create_task(tpl, params(100, 0, 1));
    let b = s.create_task(tpl, params(100, 0, 1));
    s.contribute("city", b, 100);
    s.wait(PHASE);
    s.advance(a);
    s.advance(b);
    let by = |s: &crate::suite::Suite, status| -> Vec<u64> {
        let r: TasksResponse = s.query(&QueryMsg::TasksByStatus {
            status,
            start_after: None,
            limit: None,
        });
        r.tasks.iter().map(|t| t.id).collect()
    };
    assert_eq!(by(&s, TaskStatus::FundingFailed), vec![a]);
    assert_eq!(by(&s, TaskStatus::Matching), vec![b]);
    assert!(by(&s, TaskStatus::Funding).is_empty());
    let all: TasksResponse = s.query(&QueryMsg::Tasks {
        start_after: Some(a),
        limit: None,
    });
    assert_eq!(all.tasks.len(), 1);
    assert_eq!(all.tasks[0].funded, Uint128::new(100));
}

#[test]
fn funds_are_checked_on_every_message() {
    let mut s = SuiteBuilder::new().with_funded(&["city"]).build();
    let tpl = s.create_template(template(TaskKind::Competition));
    let task = s.create_task(tpl, params(100, 0, 1));
    let city = s.addr("city");
    assert!(matches!(
        s.execute(
            &city,
            &ExecuteMsg::Advance { task_id: task },
            &[cosmwasm_std::coin(1, DENOM)]
        )
        .unwrap_err(),
        ContractError::Payment(_)
    ));
    assert_eq!(
        s.execute(&city, &ExecuteMsg::Advance { task_id: 42 }, &[])
            .unwrap_err(),
        ContractError::TaskNotFound { id: 42 }
    );
}

#[test]
fn migrate_keeps_state_and_records_the_version() {
    use cw_multi_test::Executor;
    let mut s = SuiteBuilder::new().build();
    let tpl = s.create_template(template(TaskKind::Bounty));
    let owner = s.owner.clone();
    let contract = s.contract.clone();
    let code_id = s.code_id;
    let res = s
        .app
        .migrate_contract(
            owner,
            contract,
            &value_contract::msg::MigrateMsg {},
            code_id,
        )
        .unwrap();
    assert_eq!(
        crate::suite::attr(&res, "to_version"),
        env!("CARGO_PKG_VERSION")
    );
    let t: value_contract::msg::TemplateResponse = s.query(&QueryMsg::Template { id: tpl });
    assert_eq!(t.kind, TaskKind::Bounty);
}
