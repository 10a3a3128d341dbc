//! The `update_ownership` message (cw-ownable's two-step transfer), handled
//! the same way by every contract.

use cosmwasm_std::{BlockInfo, DepsMut, MessageInfo, Response};
use cw_ownable::{Action, OwnershipError};
use cw_utils::{nonpayable, PaymentError};

/// Refuses funds, applies `action` for `info.sender` and reports the new
/// ownership with `action = update_ownership` first.
pub fn update_ownership<E>(
    deps: DepsMut,
    block: &BlockInfo,
    info: &MessageInfo,
    action: Action,
) -> Result<Response, E>
where
    E: From<PaymentError> + From<OwnershipError>,
{
    nonpayable(info)?;
    let ownership = cw_ownable::update_ownership(deps, block, &info.sender, action)?;
    Ok(Response::new()
        .add_attribute("action", "update_ownership")
        .add_attributes(ownership.into_attributes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::coin;
    use cosmwasm_std::testing::{message_info, mock_dependencies, mock_env};

    #[derive(Debug, PartialEq)]
    enum E {
        Payment(PaymentError),
        Ownership(OwnershipError),
    }
    impl From<PaymentError> for E {
        fn from(e: PaymentError) -> Self {
            E::Payment(e)
        }
    }
    impl From<OwnershipError> for E {
        fn from(e: OwnershipError) -> Self {
            E::Ownership(e)
        }
    }

    #[test]
    fn transfers_in_two_steps_and_refuses_funds() {
        let mut deps = mock_dependencies();
        let owner = deps.api.addr_make("owner");
        let dao = deps.api.addr_make("dao");
        cw_ownable::initialize_owner(&mut deps.storage, &deps.api, Some(owner.as_str())).unwrap();
        let block = mock_env().block;
        let transfer = Action::TransferOwnership {
            new_owner: dao.to_string(),
            expiry: None,
        };
        let paid = message_info(&owner, &[coin(1, "ucity")]);
        assert_eq!(
            update_ownership::<E>(deps.as_mut(), &block, &paid, transfer.clone()),
            Err(E::Payment(PaymentError::NonPayable {}))
        );
        let res =
            update_ownership::<E>(deps.as_mut(), &block, &message_info(&owner, &[]), transfer)
                .unwrap();
        assert_eq!(res.attributes[0].value, "update_ownership");
        assert_eq!(
            update_ownership::<E>(
                deps.as_mut(),
                &block,
                &message_info(&owner, &[]),
                Action::AcceptOwnership
            ),
            Err(E::Ownership(OwnershipError::NotPendingOwner))
        );
        update_ownership::<E>(
            deps.as_mut(),
            &block,
            &message_info(&dao, &[]),
            Action::AcceptOwnership,
        )
        .unwrap();
        let current = cw_ownable::get_ownership(&deps.storage).unwrap();
        assert_eq!(current.owner, Some(dao));
    }
}
