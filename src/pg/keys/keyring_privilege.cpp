// Who may decrypt: colcrypt.decrypt_grants, checked with role membership,
// cached per backend.
#include "colcrypt/pg/compat/postgres.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

extern "C" {
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"
}

#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/keys/catalog.hpp"
#include "colcrypt/pg/keys/decrypt_privilege.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/keys/key_cache.hpp"
#include "colcrypt/pg/keys/keyring_names.hpp"

namespace colcrypt::pg {
namespace {

// Allocated once and never destroyed (no static destructors at exit).
using GranteesByKeyring = std::unordered_map<std::uint32_t, std::vector<Oid>>;
using Decisions = std::unordered_map<std::uint64_t, bool>;
GranteesByKeyring *grantees_by_keyring = nullptr;
Decisions *decisions = nullptr;
bool grants_stale = false;
bool decisions_stale = false;

// The last decision, checked first: a query reads one keyring many times.
struct LastDecision {
    bool valid;
    Oid user;
    std::uint32_t keyring_id;
    bool allowed;
};
LastDecision last{};

// As in key_cache.cpp: callbacks only mark; the next check empties.
void on_relcache_invalidation(Datum, Oid relid) {
    if (relid == InvalidOid || relid == keyrings_relid_if_known()) {
        grants_stale = true;
        decisions_stale = true;
        last.valid = false;
    }
}

void on_roles_changed(Datum, int, uint32) {
    decisions_stale = true;
    last.valid = false;
}

void begin_check() {
    if (grantees_by_keyring == nullptr) {
        cpp_guard([] {
            grantees_by_keyring = new GranteesByKeyring();
            decisions = new Decisions();
        });
    }
    if (grants_stale) {
        grants_stale = false;
        cpp_guard([] { grantees_by_keyring->clear(); });
    }
    if (decisions_stale) {
        decisions_stale = false;
        cpp_guard([] { decisions->clear(); });
    }
}

const std::vector<Oid> &grantees_of(std::uint32_t keyring_id) {
    auto it = grantees_by_keyring->find(keyring_id);
    if (it != grantees_by_keyring->end())
        return it->second;

    int count;
    Oid *roles = catalog::decrypt_grantees(keyring_id, &count);
    std::vector<Oid> *entry = cpp_guard([&] {
        std::vector<Oid> &v = (*grantees_by_keyring)[keyring_id];
        v.assign(roles, roles + count);
        return &v;
    });
    pfree(roles);
    return *entry;
}

// Superusers have every role's privileges in has_privs_of_role(); here they
// count only through a grant to themselves or to a role they belong to.
bool has_grantee_privileges(Oid user, Oid grantee) {
    if (user == grantee)
        return true;
    if (superuser_arg(user))
        return is_member_of_role_nosuper(user, grantee);
    return has_privs_of_role(user, grantee);
}

}  // namespace

void register_decrypt_privilege_invalidation() {
    CacheRegisterRelcacheCallback(on_relcache_invalidation, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, on_roles_changed, (Datum) 0);
    CacheRegisterSyscacheCallback(AUTHOID, on_roles_changed, (Datum) 0);
}

bool may_decrypt(std::uint32_t keyring_id) {
    Oid user = GetUserId();
    if (last.valid && last.user == user && last.keyring_id == keyring_id)
        return last.allowed;

    begin_check();
    std::uint64_t key = ((std::uint64_t) user << 32) | keyring_id;
    auto it = decisions->find(key);
    bool allowed;
    if (it != decisions->end()) {
        allowed = it->second;
    } else {
        const std::vector<Oid> &grantees = grantees_of(keyring_id);
        allowed = false;
        for (Oid grantee : grantees) {
            if (has_grantee_privileges(user, grantee)) {
                allowed = true;
                break;
            }
        }
        cpp_guard([&] { (*decisions)[key] = allowed; });
    }
    // An invalidation processed during the lookup leaves `last` invalid.
    if (!grants_stale && !decisions_stale)
        last = LastDecision{true, user, keyring_id, allowed};
    return allowed;
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

}  // namespace colcrypt::pg
