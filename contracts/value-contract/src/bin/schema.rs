//! Writes `schema/value-contract.json` (the same document `write_api!`
//! produces, without the per-message `raw/` files, which would collide
//! between contracts in the shared `schema/` folder).

use cosmwasm_schema::generate_api;
use value_contract::msg::{ExecuteMsg, InstantiateMsg, MigrateMsg, QueryMsg};

fn main() -> std::io::Result<()> {
    let api = generate_api! {
        name: "value-contract",
        instantiate: InstantiateMsg,
        execute: ExecuteMsg,
        query: QueryMsg,
        migrate: MigrateMsg,
    };
    let json = api.render().to_string().expect("schema renders to JSON");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("value-contract.json");
    std::fs::write(&path, json + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}
