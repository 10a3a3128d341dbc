//! The mnemonic leaves the environment when read: taken early (as the binary
//! does before its runtime starts) or read directly, it is gone from the
//! environment afterwards and can be loaded once. One test in this binary,
//! so no other thread touches the environment meanwhile.

use relayer_chain_cosmos::{load_mnemonic, take_env_secret, Signer};

const PHRASE: &str =
    "peace dance series height pony sponsor chicken second debate ugly prepare odor";

#[test]
fn the_mnemonic_variable_is_removed_once_read_and_read_once() {
    // Taken early: gone from the environment at once, handed out once.
    std::env::set_var("WV_TEST_TAKEN", PHRASE);
    take_env_secret("WV_TEST_TAKEN").unwrap();
    assert_eq!(std::env::var_os("WV_TEST_TAKEN"), None);
    let phrase = load_mnemonic(Some("WV_TEST_TAKEN"), None, "signer.mnemonic_env").unwrap();
    assert_eq!(phrase.as_str(), PHRASE);
    // CosmJS's address for this phrase (relayer/tests/fixtures/cosmjs-mnemonics.json).
    assert_eq!(
        Signer::from_mnemonic(&phrase, "wasm", 0).unwrap().address(),
        "wasm1tsynaa5rnsx2c2gkmy5040xtj5v7mdyqvpfvhj"
    );
    let err = load_mnemonic(Some("WV_TEST_TAKEN"), None, "signer.mnemonic_env").unwrap_err();
    assert!(
        err.to_string()
            .contains("environment variable WV_TEST_TAKEN is not set"),
        "{err}"
    );

    // Read directly (a library caller): removed as it is read.
    std::env::set_var("WV_TEST_DIRECT", PHRASE);
    let phrase = load_mnemonic(Some("WV_TEST_DIRECT"), None, "signer.mnemonic_env").unwrap();
    assert_eq!(phrase.as_str(), PHRASE);
    assert_eq!(std::env::var_os("WV_TEST_DIRECT"), None);

    // Not UTF-8: refused by name, and removed all the same.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::env::set_var("WV_TEST_BYTES", std::ffi::OsStr::from_bytes(b"\xff\xfe"));
        assert_eq!(
            take_env_secret("WV_TEST_BYTES").unwrap_err(),
            "environment variable WV_TEST_BYTES is not UTF-8"
        );
        assert_eq!(std::env::var_os("WV_TEST_BYTES"), None);
    }
}
