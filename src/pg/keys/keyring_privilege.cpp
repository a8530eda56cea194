// Who may decrypt and who may encrypt: colcrypt.decrypt_grants and
// colcrypt.encrypt_grants, checked with role membership, cached per backend.
#include "colcrypt/pg/compat/postgres.hpp"

#include <unordered_map>
#include <vector>

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"
#include "colcrypt/pg/keys/keyring_privilege.hpp"
#include "colcrypt/pg/keys/restore_session.hpp"

namespace colcrypt::pg {
namespace {

constexpr int kPrivileges = 2;

// Allocated once and never destroyed (no static destructors at exit).  One
// of each per privilege: grantees by keyring, decisions by (user, keyring).
using Grantees = std::unordered_map<std::uint32_t, std::vector<Oid>>;
using Decisions = std::unordered_map<std::uint64_t, bool>;
Grantees *grantees_cache[kPrivileges] = {};
Decisions *decisions[kPrivileges] = {};
bool grants_stale = false;
bool decisions_stale = false;
bool resealing_for_extension = false;
// Grants read in parallel mode, where no new snapshot can be taken, come
// from the query's snapshot, which may predate a revoke: they serve that
// transaction only (keys/internal_access.hpp, run_internal_current_query).
bool forget_at_transaction_end = false;

// The last decision per privilege, checked first: a query reads (or a load
// writes) one keyring many times.
struct LastDecision {
    bool valid;
    Oid user;
    std::uint32_t keyring_id;
    bool allowed;
};
LastDecision last[kPrivileges]{};
// Counts the times decisions were forgotten (privilege_epoch).
std::uint64_t forgotten = 0;

void forget_last() {
    for (LastDecision &decision : last)
        decision.valid = false;
    forgotten++;
}

// As in key_cache.cpp: callbacks only mark; the next check empties.
void on_relcache_invalidation(Datum, Oid relid) {
    if (relid == InvalidOid || relid == keyrings_relid_if_known()) {
        grants_stale = true;
        decisions_stale = true;
        forget_last();
    }
}

void on_roles_changed(Datum, int, uint32) {
    decisions_stale = true;
    forget_last();
}

void begin_check() {
    if (grantees_cache[0] == nullptr) {
        cpp_guard([] {
            for (int i = 0; i < kPrivileges; i++) {
                grantees_cache[i] = new Grantees();
                decisions[i] = new Decisions();
            }
        });
    }
    if (grants_stale) {
        grants_stale = false;
        cpp_guard([] {
            for (Grantees *cache : grantees_cache)
                cache->clear();
        });
    }
    if (decisions_stale) {
        decisions_stale = false;
        cpp_guard([] {
            for (Decisions *cache : decisions)
                cache->clear();
        });
    }
}

const std::vector<Oid> &grantees_of(KeyringPrivilege privilege, std::uint32_t keyring_id) {
    Grantees &cache = *grantees_cache[(int) privilege];
    auto it = cache.find(keyring_id);
    if (it != cache.end())
        return it->second;

    int count;
    if (IsInParallelMode())
        forget_at_transaction_end = true;
    Oid *roles = privilege == KeyringPrivilege::decrypt ? catalog::decrypt_grantees(keyring_id, &count)
                                                        : catalog::encrypt_grantees(keyring_id, &count);
    std::vector<Oid> *entry = cpp_guard([&] {
        std::vector<Oid> &v = cache[keyring_id];
        v.assign(roles, roles + count);
        return &v;
    });
    pfree(roles);
    return *entry;
}

// Superusers have every role's privileges in has_privs_of_role(); here they
// count only through a grant to themselves, to a role they belong to, or
// (encryption) to PUBLIC.
bool has_grantee_privileges(Oid user, Oid grantee) {
    if (user == grantee || grantee == InvalidOid)
        return true;
    if (superuser_arg(user))
        return is_member_of_role_nosuper(user, grantee);
    return has_privs_of_role(user, grantee);
}

bool holds(KeyringPrivilege privilege, std::uint32_t keyring_id) {
    Oid user = GetUserId();
    LastDecision &recent = last[(int) privilege];
    if (recent.valid && recent.user == user && recent.keyring_id == keyring_id)
        return recent.allowed;

    begin_check();
    Decisions &cache = *decisions[(int) privilege];
    std::uint64_t key = (std::uint64_t) user << 32 | keyring_id;
    auto it = cache.find(key);
    bool allowed;
    if (it != cache.end()) {
        allowed = it->second;
    } else {
        const std::vector<Oid> &grantees = grantees_of(privilege, keyring_id);
        allowed = false;
        for (Oid grantee : grantees) {
            if (has_grantee_privileges(user, grantee)) {
                allowed = true;
                break;
            }
        }
        cpp_guard([&] { cache[key] = allowed; });
    }
    // An invalidation processed during the lookup leaves `last` invalid.
    if (!grants_stale && !decisions_stale)
        recent = LastDecision{true, user, keyring_id, allowed};
    return allowed;
}

void at_transaction_end(XactEvent event, void *) {
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
        event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
        return;
    if (forget_at_transaction_end) {
        forget_at_transaction_end = false;
        grants_stale = true;
        decisions_stale = true;
        forget_last();
    }
}

}  // namespace

void register_keyring_privilege_invalidation() {
    RegisterXactCallback(at_transaction_end, nullptr);
    CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_roles_changed, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHOID, on_roles_changed, (Datum) 0);
}

bool may_decrypt(std::uint32_t keyring_id) {
    return holds(KeyringPrivilege::decrypt, keyring_id);
}

bool may_encrypt(std::uint32_t keyring_id) {
    return resealing_for_extension || holds(KeyringPrivilege::encrypt, keyring_id);
}

std::uint64_t privilege_epoch() {
    return forgotten;
}

void set_resealing_for_extension(bool on) {
    resealing_for_extension = on;
    forgotten++;
}

void require_decrypt_privilege(std::uint32_t keyring_id) {
    if (may_decrypt(keyring_id))
        return;
    char *keyring = keyring_name_for_id(keyring_id);
    if (keyring == nullptr)
        report_unknown_keyring(keyring_id);  // "does not exist" says more than "permission denied"
    char *user = GetUserNameFromId(GetUserId(), false);
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to decrypt keyring \"%s\"", keyring),
                    errdetail("Decryption needs a grant (colcrypt.grant_decrypt) to the role or to a role whose "
                              "privileges it has; SELECT on a table, ownership and superuser do not imply it."),
                    errhint("An administrator can run SELECT colcrypt.grant_decrypt(%s, %s); "
                            "or SET colcrypt.output_mode = ciphertext to read the encrypted envelopes instead.",
                            quote_literal_cstr(keyring), quote_literal_cstr(user))));
}

void require_encrypt_privilege(std::uint32_t keyring_id) {
    if (may_encrypt(keyring_id))
        return;
    char *keyring = keyring_name_for_id(keyring_id);
    if (keyring == nullptr)
        report_unknown_keyring(keyring_id);
    char *user = GetUserNameFromId(GetUserId(), false);
    if (in_restore())
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied to encrypt under keyring \"%s\"", keyring),
                        errdetail("Restoring plaintext seals it, which needs a grant (colcrypt.grant_encrypt) to the "
                                  "restoring role or to PUBLIC; colcrypt.encrypt_grants may also not be restored yet."),
                        errhint("Grant it in the source and dump again (SELECT colcrypt.grant_encrypt(%s, %s);), "
                                "restore colcrypt.encrypt_grants before the other table data (pg_restore -L), or "
                                "dump with colcrypt.output_mode = ciphertext, which restores without the grant.",
                                quote_literal_cstr(keyring), quote_literal_cstr(user))));
    ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                    errmsg("permission denied to encrypt under keyring \"%s\"", keyring),
                    errdetail("Storing a plaintext under a keyring needs a grant (colcrypt.grant_encrypt) to the "
                              "role, to a role whose privileges it has, or to PUBLIC; INSERT on a table, ownership "
                              "and superuser do not imply it.  Lookups (=, IN, = ANY) need no grant."),
                    errhint("An administrator can run SELECT colcrypt.grant_encrypt(%s, %s);",
                            quote_literal_cstr(keyring), quote_literal_cstr(user))));
}

}  // namespace colcrypt::pg
