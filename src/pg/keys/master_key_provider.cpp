// Master key loading: key file (generated on first start when the default
// path is used), or key command; locked, no-dump memory; per-backend
// derived keys.
#include "colcrypt/pg/compat/postgres.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern "C" {
#include "miscadmin.h"
#include "port.h"
#include "storage/fd.h"
#include "utils/guc.h"
}

#include "colcrypt/core/error.hpp"
#include "colcrypt/core/master_key.hpp"
#include "colcrypt/core/secure.hpp"
#include "colcrypt/pg/boundary/boundary.hpp"
#include "colcrypt/pg/config/gucs.hpp"
#include "colcrypt/pg/keys/data_directory_files.hpp"
#include "colcrypt/pg/keys/key_command.hpp"
#include "colcrypt/pg/keys/master_key_provider.hpp"

namespace colcrypt::pg {

namespace {

// Key text larger than this is not a key; refuse before reading it all.
constexpr size_t kMaxKeyTextSize = 4096;

// Where a key comes from, for messages: the current master key (loaded by the
// postmaster) or the previous one (read by colcrypt.rotate_master_key()).
struct KeySource {
    const char *what;
    const char *file_guc;
    const char *command_guc;
    const char *file_hint;
};
constexpr KeySource kCurrentKey{"master key", "colcrypt.master_key_file", "colcrypt.master_key_command",
                                "Check colcrypt.master_key_file; the key is never generated for an explicitly "
                                "configured path."};
constexpr KeySource kPreviousKey{"previous master key", "colcrypt.previous_master_key_file",
                                 "colcrypt.previous_master_key_command",
                                 "Check colcrypt.previous_master_key_file: it names the key the server used before "
                                 "colcrypt.master_key_file was changed."};

// The raw key lives in its own page: locked (never swapped) and marked
// MADV_DONTDUMP (never in a core file).  fork() shares it copy-on-write.
struct LockedKeyPage {
    bool loaded;
    std::uint8_t key[core::kKeySize];
    char fingerprint[core::kFingerprintHexSize + 1];
};

LockedKeyPage *key_page = nullptr;
core::MasterKey *backend_master_key = nullptr;

LockedKeyPage *allocate_locked_page() {
    size_t size = sysconf(_SC_PAGESIZE);
    void *page = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY),
                        errmsg("could not allocate memory for the colcrypt master key: %m")));
    if (madvise(page, size, MADV_DONTDUMP) != 0)
        ereport(WARNING, (errmsg("could not exclude the colcrypt master key from core dumps: %m")));
    if (mlock(page, size) != 0)
        ereport(WARNING, (errmsg("could not lock the colcrypt master key in memory: %m"),
                          errhint("Raise the server's RLIMIT_MEMLOCK (ulimit -l) so the key page cannot be swapped out.")));
    std::memset(page, 0, size);
    return static_cast<LockedKeyPage *>(page);
}

// Parse key text into the locked page.  Returns nullptr or the core's
// message (a literal naming what is wrong, never the key).
const char *store_key_text(const char *text, size_t size, LockedKeyPage *page) {
    std::optional<CaughtError> problem = cpp_try({core::Errc::invalid_key_material}, [&] {
        core::SecretKey key = core::parse_master_key(text, size);
        std::memcpy(page->key, key.data(), core::kKeySize);
        core::MasterKey derived(key);
        std::memcpy(page->fingerprint, derived.fingerprint(), sizeof(page->fingerprint));
        page->loaded = true;
    });
    return problem ? problem->what() : nullptr;
}

// Text of a new random key in the key file format, into out.
void new_key_text(char *out, size_t out_size) {
    cpp_guard([&] {
        std::string text = core::format_master_key(core::SecretKey::random());
        bool fits = text.size() < out_size;
        if (fits)
            std::memcpy(out, text.c_str(), text.size() + 1);
        core::secure_wipe(text.data(), text.size());
        if (!fits)
            throw core::Error(core::Errc::invalid_argument, "master key text does not fit its buffer");
    });
}

// Default key file: next to the data directory, never inside it, so base
// backups and copies of the data directory do not carry the key.
char *default_key_file_path() {
    char *data_dir = pstrdup(DataDir);
    char *base = pstrdup(last_dir_separator(data_dir) ? last_dir_separator(data_dir) + 1 : data_dir);
    get_parent_directory(data_dir);
    return psprintf("%s/colcrypt_%s.key", data_dir[0] ? data_dir : ".", base);
}

void generate_key_file(const char *path) {
    char text[128];
    new_key_text(text, sizeof(text));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
    if (fd < 0) {
        core::secure_wipe(text, sizeof(text));
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not create colcrypt master key file \"%s\": %m", path),
                        errhint("Set colcrypt.master_key_file to a writable path, or create the key yourself.")));
    }
    size_t size = strlen(text);
    bool ok = write(fd, text, size) == (ssize_t) size && pg_fsync(fd) == 0;
    int save_errno = errno;
    core::secure_wipe(text, sizeof(text));
    close(fd);
    // The directory entry too: data sealed under the key becomes durable
    // soon, and without the file none of it could be read after a crash.
    if (ok) {
        char *directory = pstrdup(path);
        get_parent_directory(directory);
        ok = fsync_fname_ext(directory[0] != '\0' ? directory : ".", true, false, LOG) == 0;
        save_errno = errno;
        pfree(directory);
    }
    if (!ok) {
        unlink(path);
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not write colcrypt master key file \"%s\": %m", path)));
    }
    ereport(LOG, (errmsg("colcrypt: generated a new master key in \"%s\"", path),
                  errhint("Back this file up apart from the database: without it no encrypted value can be read.")));
}

// Read the key file into buf (NUL-terminated).  The file must be a regular
// file without group or other permissions, like the server's SSL key.
size_t read_key_file(const char *path, char *buf, size_t buf_size, const KeySource &source = kCurrentKey) {
    const char *what = source.what;
    int fd = open(path, O_RDONLY | PG_BINARY, 0);
    if (fd < 0)
        ereport(ERROR, (errcode_for_file_access(),
                        errmsg("could not open colcrypt %s file \"%s\": %m", what, path),
                        errhint("%s", source.file_hint)));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not stat colcrypt %s file \"%s\": %m", what, path)));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("colcrypt %s file \"%s\" is not a regular file", what, path)));
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        close(fd);
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("colcrypt %s file \"%s\" has group or world access", what, path),
                        errdetail("File mode is %04o.", (unsigned) (st.st_mode & 07777)),
                        errhint("Run: chmod 0600 \"%s\"", path)));
    }
    ssize_t n = read(fd, buf, buf_size - 1);
    int save_errno = errno;
    close(fd);
    if (n < 0) {
        errno = save_errno;
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not read colcrypt %s file \"%s\": %m", what, path)));
    }
    if ((size_t) n >= buf_size - 1) {
        core::secure_wipe(buf, buf_size);
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("colcrypt %s file \"%s\" is too large to be a key", what, path),
                        errhint("The file must hold 64 hex digits or 44 base64 characters.")));
    }
    buf[n] = '\0';
    return n;
}

// The fingerprint of the key this data directory's values are under
// (not secret: a keyed hash of nothing but the key's identity).
char *fingerprint_file_path() {
    return psprintf("%s/master_key_fingerprint", kColcryptDirectory);
}

// Why this data directory must not get a new master key, or nullptr when it
// may (colcrypt never used it).  Paths are relative: the postmaster runs in
// the data directory when it loads the preloaded libraries.
const char *reason_to_keep_existing_key() {
    struct stat st;
    if (stat("standby.signal", &st) == 0)
        return "it is a standby (standby.signal exists)";
    if (stat("recovery.signal", &st) == 0)
        return "it is in archive recovery (recovery.signal exists)";
    if (stat("backup_label", &st) == 0)
        return "it is restored from a base backup (backup_label exists)";
    if (stat(fingerprint_file_path(), &st) == 0 || stat(psprintf("%s/nonce_counters", kColcryptDirectory), &st) == 0)
        return "colcrypt has used a master key in it before";
    return nullptr;
}

// Write the loaded key's fingerprint, when it is not there already.
// Best effort: a failure is logged, the server starts anyway.
void record_fingerprint(const char *fingerprint) {
    char *path = fingerprint_file_path();
    char current[core::kFingerprintHexSize + 2] = {0};
    int fd = open(path, O_RDONLY | PG_BINARY, 0);
    if (fd >= 0) {
        ssize_t n = read(fd, current, sizeof(current) - 1);
        close(fd);
        if (n == (ssize_t) core::kFingerprintHexSize + 1 && strncmp(current, fingerprint, core::kFingerprintHexSize) == 0)
            return;
    }
    if (ensure_colcrypt_directory(LOG)) {
        char *line = psprintf("%s\n", fingerprint);
        (void) replace_file_durably(path, line, strlen(line), LOG);
    }
}

}  // namespace

void load_master_key_at_startup() {
    const char *command = guc_master_key_command;
    const char *file = guc_master_key_file;
    if (command && command[0] && file && file[0])
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("colcrypt.master_key_file and colcrypt.master_key_command are both set"),
                        errhint("Set only one of them.")));

    key_page = allocate_locked_page();
    char text[kMaxKeyTextSize + 1];
    size_t size;
    const char *source;
    if (command && command[0]) {
        size = run_key_command(command, "colcrypt.master_key_command", text, sizeof(text));
        source = "colcrypt.master_key_command";
    } else {
        bool use_default = !(file && file[0]);
        const char *path = use_default ? default_key_file_path() : file;
        struct stat st;
        if (use_default && stat(path, &st) != 0 && errno == ENOENT) {
            if (const char *reason = reason_to_keep_existing_key())
                ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                                errmsg("colcrypt master key file \"%s\" does not exist", path),
                                errdetail("No new key is generated because %s: its encrypted values are under an "
                                          "existing key, which a new one could not read.",
                                          reason),
                                errhint("Copy the key file of the server this data directory comes from (the "
                                        "primary) to \"%s\", or point colcrypt.master_key_file or "
                                        "colcrypt.master_key_command at it.",
                                        path)));
            generate_key_file(path);
        }
        source = psprintf("file \"%s\"", path);
        size = read_key_file(path, text, sizeof(text));
    }
    const char *problem = store_key_text(text, size, key_page);
    core::secure_wipe(text, sizeof(text));
    if (problem != nullptr)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("invalid colcrypt master key from %s: %s", source, problem),
                        errhint("A master key is 32 random bytes written as 64 hex digits or 44 base64 characters, "
                                "for example from: openssl rand -hex 32")));

    // The key schedules derived in backends live in ordinary memory; keep
    // them out of core files unless the DBA opted in.
    if (!guc_allow_core_dumps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        ereport(WARNING, (errmsg("could not disable core dumps: %m")));
    record_fingerprint(key_page->fingerprint);
    ereport(LOG, (errmsg("colcrypt: master key loaded from %s (fingerprint %s)", source, key_page->fingerprint)));
}

core::MasterKey *load_previous_master_key(MemoryContext owner) {
    const char *command = guc_previous_master_key_command;
    const char *file = guc_previous_master_key_file;
    bool have_command = command && command[0];
    bool have_file = file && file[0];
    if (have_command && have_file)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("colcrypt.previous_master_key_file and colcrypt.previous_master_key_command are both set"),
                        errhint("Set only one of them.")));
    if (!have_command && !have_file)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("no previous master key is configured"),
                        errhint("Set colcrypt.previous_master_key_file (or colcrypt.previous_master_key_command) to "
                                "the master key the keys are wrapped with, reload the configuration, and try again.")));

    // Room for the key first: nothing can fail between parsing it and
    // handing it to its owner.
    ContextOwned<core::MasterKey> *key = new_context_owned<core::MasterKey>(owner);
    char text[kMaxKeyTextSize + 1];
    size_t size;
    const char *origin = have_command ? kPreviousKey.command_guc : psprintf("file \"%s\"", file);
    if (have_command)
        size = run_key_command(command, kPreviousKey.command_guc, text, sizeof(text));
    else
        size = read_key_file(file, text, sizeof(text), kPreviousKey);
    // The parsed key lives only in the guarded body; the MasterKey built
    // from it belongs to owner, whose reset or deletion wipes it.
    std::optional<CaughtError> problem = cpp_try({core::Errc::invalid_key_material}, [&] {
        core::SecretKey parsed = core::parse_master_key(text, size);
        key->build(parsed);
    });
    core::secure_wipe(text, sizeof(text));
    if (problem)
        ereport(ERROR, (errcode(ERRCODE_CONFIG_FILE_ERROR),
                        errmsg("invalid colcrypt previous master key from %s: %s", origin, problem->what()),
                        errhint("A master key is 32 random bytes written as 64 hex digits or 44 base64 characters.")));
    return key->object;
}

const char *loaded_master_key_fingerprint() {
    return key_page != nullptr && key_page->loaded ? key_page->fingerprint : nullptr;
}

core::MasterKey &master_key() {
    if (backend_master_key != nullptr)
        return *backend_master_key;
    if (key_page == nullptr || !key_page->loaded)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("colcrypt master key is not loaded"),
                        errhint("Add colcrypt to shared_preload_libraries in postgresql.conf and restart the server.")));
    backend_master_key = cpp_guard([] { return new core::MasterKey(core::SecretKey(key_page->key)); });
    return *backend_master_key;
}

}  // namespace colcrypt::pg
