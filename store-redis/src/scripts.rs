//! The Lua scripts of the lease, of the compare-and-set and of the compare-and-delete, and
//! the lease's holder ids.
//!
//! Each script touches one key, so that the store works on Redis Cluster (a hash tag in the
//! store's key, `{grant}:tokens`, puts `KEY:lease` in the same slot anyway). Each is
//! idempotent: a connection lost after a script ran and before its answer came is retried
//! once, and the retry answers as the first run would have.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use redis::Script;

/// Takes the lease `KEYS[1]` for holder `ARGV[1]` for `ARGV[2]` ms. Answers -1 when this
/// holder has it (taken now, or already: a retry), else how many ms the other holder keeps
/// it (-2: it just went; a lease without an expiry, left by hand, is given one).
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return -1 end
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return -1
        end
        local ttl = redis.call('PTTL', KEYS[1])
        if ttl == -1 then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return tonumber(ARGV[2])
        end
        return ttl
        ",
    )
});

/// Whether holder `ARGV[1]` still has the lease `KEYS[1]`: 1, and it runs `ARGV[2]` ms more
/// from now; 0 when it lapsed (and maybe went to another holder).
pub(crate) static CONFIRM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return 1
        end
        return 0
        ",
    )
});

/// Gives the lease `KEYS[1]` back, if holder `ARGV[1]` still has it.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        ",
    )
});

/// Writes `ARGV[3]` at `KEYS[1]` if it still holds what was read: nothing (`ARGV[1]` = '0')
/// or `ARGV[2]` (`ARGV[1]` = '1'). Answers 1 when written (or already written: a retry), 0
/// when another writer changed it.
pub(crate) static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local current = redis.call('GET', KEYS[1])
        if current == ARGV[3] then return 1 end
        if (current == false and ARGV[1] == '0') or (current ~= false and ARGV[1] == '1' and current == ARGV[2]) then
            redis.call('SET', KEYS[1], ARGV[3])
            return 1
        end
        return 0
        ",
    )
});

/// Removes `KEYS[1]` if it still holds what was read: nothing (`ARGV[1]` = '0') or `ARGV[2]`
/// (`ARGV[1]` = '1'). Answers 1 when removed (or already gone: a retry), 0 when another
/// writer stored something else meanwhile, which is left as it is.
pub(crate) static COMPARE_AND_DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local current = redis.call('GET', KEYS[1])
        if current == false then return 1 end
        if ARGV[1] == '1' and current == ARGV[2] then
            redis.call('DEL', KEYS[1])
            return 1
        end
        return 0
        ",
    )
});

/// A fresh holder id: 128 bits from two randomly keyed hashes of the process, a counter and
/// the time, so that no two holders anywhere share one.
pub(crate) fn holder_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now();
    let a = RandomState::new().hash_one((std::process::id(), n, now));
    let b = RandomState::new().hash_one((a, n));
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_ids_are_distinct_and_long() {
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| holder_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
