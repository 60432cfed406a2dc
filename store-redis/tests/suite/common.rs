//! What the tests share: token sets, and a store on a server.

use oidc_refresh_core::{AccessToken, RefreshToken, TokenSet};
use oidc_refresh_redis::RedisStore;
use oidc_refresh_testing::redis::RedisServer;

/// A key of its own for each test (one server may serve several).
pub(crate) const KEY: &str = "oidc-refresh:app";

/// A set holding `rt` and an access token `at` expiring at `expires_at`.
pub(crate) fn set(rt: &str, at: Option<&str>, expires_at: Option<u64>) -> TokenSet {
    let mut set = TokenSet::from_refresh_token(RefreshToken::new(rt));
    set.access_token = at.map(AccessToken::new);
    set.token_type = at.map(|_| "Bearer".to_owned());
    set.expires_at = expires_at;
    set
}

/// A store at [`KEY`] on `server`.
pub(crate) fn store(server: &RedisServer) -> RedisStore {
    RedisStore::open(&server.url(), KEY).expect("the test server's URL")
}
