// The physical scan for values under one data-key version.  See
// include/colcrypt/pg/admin/value_scan.hpp and docs/design/retirement.md.
#include "colcrypt/pg/compat/postgres.hpp"

#include <cstring>

extern "C" {
#include "access/gin_private.h"
#include "access/detoast.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/toast_internals.h"
#include "access/itup.h"
#include "access/nbtree.h"
#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_statistic_ext_data.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "statistics/statistics.h"
#include "storage/bufmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/multirangetypes.h"
#include "utils/rangetypes.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"
}

#include "colcrypt/core/envelope.hpp"
#include "colcrypt/pg/admin/containing_types.hpp"
#include "colcrypt/pg/admin/value_scan.hpp"
#include "colcrypt/pg/compat/array_elements.hpp"
#include "colcrypt/pg/keys/internal_access.hpp"
#include "colcrypt/pg/types/encrypted_type.hpp"

namespace colcrypt::pg {
namespace {

// Relations with storage and a column (or index key) of such a type.
// Foreign tables hold no values of this database; partitioned tables and
// indexes have no storage of their own (their partitions are listed).
constexpr const char *kRelationsQuery =
    "SELECT DISTINCT c.oid, c.relkind = 'i', pg_catalog.pg_is_other_temp_schema(c.relnamespace),"
    "       c.oid::pg_catalog.regclass::pg_catalog.text, c.relname"
    "  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
    " WHERE a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = ANY ($1)"
    "   AND c.relkind IN ('r', 'm', 'i')"
    "   AND ($2 = 0 OR c.oid = $2 OR c.oid IN (SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = $2))"
    " ORDER BY 4";

// What one scan looks for, and what it found in one value.
// Counting (coverage): every envelope walked is tallied by column,
// keyring and version, in row versions the latest snapshot sees or not.
struct Tally {
    int16 attnum;
    bool visible;
    List *counts;           // of VersionCount *
    MemoryContext context;  // of counts: the scan resets its own per page
};

struct Target {
    std::uint32_t keyring_id;
    std::uint32_t version;
    const TypeSet *types;
    Oid only_table;  // InvalidOid: every relation
    Tally *tally;    // nullptr: match (keyring_id, version) only
};

void tally_envelope(Tally *tally, std::uint32_t keyring_id, std::uint32_t version) {
    ListCell *cell;
    VersionCount *count = nullptr;
    foreach (cell, tally->counts) {
        auto *c = (VersionCount *) lfirst(cell);
        if (c->attnum == tally->attnum && c->keyring_id == keyring_id && c->version == version) {
            count = c;
            break;
        }
    }
    if (count == nullptr) {
        MemoryContext page = MemoryContextSwitchTo(tally->context);
        count = (VersionCount *) palloc0(sizeof(VersionCount));
        count->attnum = tally->attnum;
        count->keyring_id = keyring_id;
        count->version = version;
        tally->counts = lappend(tally->counts, count);
        MemoryContextSwitchTo(page);
    }
    (tally->visible ? count->live : count->dead)++;
}
struct Found {
    int64 matches;
    int64 unreadable;
};

void walk(Datum value, Oid type, const Target &target, Found &found);

// An encrypted value: its header, read from the first bytes only (a long
// value is not fetched whole).
void walk_envelope(Datum value, const Target &target, Found &found) {
    struct varlena *head = PG_DETOAST_DATUM_SLICE(value, 0, core::kMaxHeaderSize);
    std::uint32_t keyring_id, version;
    if (!core::read_envelope_header(reinterpret_cast<const std::uint8_t *>(VARDATA_ANY(head)),
                                    VARSIZE_ANY_EXHDR(head), &keyring_id, &version))
        found.unreadable++;
    else if (target.tally != nullptr)
        tally_envelope(target.tally, keyring_id, version);
    else if (keyring_id == target.keyring_id && version == target.version)
        found.matches++;
}

void walk_array(Datum value, const Target &target, Found &found) {
    ArrayElements elements = array_elements(DatumGetArrayTypeP(value));
    for (int i = 0; i < elements.count; i++)
        if (!elements.nulls[i])
            walk(elements.values[i], elements.type, target, found);
}

void walk_composite(Datum value, const Target &target, Found &found) {
    HeapTupleHeader header = DatumGetHeapTupleHeader(value);
    TupleDesc desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(header), HeapTupleHeaderGetTypMod(header));
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(header);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = header;
    Datum *values = (Datum *) palloc(sizeof(Datum) * (desc->natts + 1));
    bool *nulls = (bool *) palloc(sizeof(bool) * (desc->natts + 1));
    heap_deform_tuple(&tuple, desc, values, nulls);
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (!att->attisdropped && !nulls[i] && contains(*target.types, att->atttypid))
            walk(values[i], att->atttypid, target, found);
    }
    ReleaseTupleDesc(desc);
}

void walk_range(RangeType *range, TypeCacheEntry *cache, const Target &target, Found &found) {
    RangeBound lower, upper;
    bool empty;
    range_deserialize(cache, range, &lower, &upper, &empty);
    Oid subtype = cache->rngelemtype->type_id;
    if (empty)
        return;
    if (!lower.infinite)
        walk(lower.val, subtype, target, found);
    if (!upper.infinite)
        walk(upper.val, subtype, target, found);
}

void walk(Datum value, Oid type, const Target &target, Found &found) {
    CHECK_FOR_INTERRUPTS();
    type = getBaseType(type);
    if (encrypted_type_of(type) != nullptr) {
        walk_envelope(value, target, found);
    } else if (!contains(*target.types, type)) {
        return;
    } else if (type_is_array(type)) {
        walk_array(value, target, found);
    } else if (type_is_rowtype(type)) {
        walk_composite(value, target, found);
    } else if (type_is_range(type)) {
        TypeCacheEntry *cache = lookup_type_cache(type, TYPECACHE_RANGE_INFO);
        walk_range(DatumGetRangeTypeP(value), cache, target, found);
    } else if (type_is_multirange(type)) {
        TypeCacheEntry *cache = lookup_type_cache(type, TYPECACHE_MULTIRANGE_INFO);
        int32 count;
        RangeType **ranges;
        multirange_deserialize(cache->rngtype, DatumGetMultirangeTypeP(value), &count, &ranges);
        for (int32 i = 0; i < count; i++)
            walk_range(ranges[i], cache->rngtype, target, found);
    }
}

constexpr int kListed = 10;

// "name (n)" appended to a list of at most kListed entries.
void list(StringInfo where, int *listed, const char *name, int64 n, const char *what) {
    if (*listed == kListed)
        appendStringInfoString(where, ", ...");
    if (*listed < kListed)
        appendStringInfo(where, "%s%s (" INT64_FORMAT "%s)", *listed > 0 ? ", " : "", name, n, what);
    (*listed)++;
}

struct Lists {
    int live, dead, index, unreadable, statistics;
};

// Whether the first chunk of a value stored out of line is still in its
// TOAST table.  The TOAST table is vacuumed on its own, so a row version
// that is no longer visible may point at chunks already gone; reading it
// would fail as if the data were corrupt.  The TOAST table and its indexes
// are opened on the first such value of a table scan and kept for the rest.
class ToastProbe {
public:
    explicit ToastProbe(MemoryContext context) : context_(context) {}

    bool present(Datum value) {
        struct varatt_external pointer;
        VARATT_EXTERNAL_GET_POINTER(pointer, DatumGetPointer(value));
        if (toast_ == nullptr || RelationGetRelid(toast_) != pointer.va_toastrelid)
            open(pointer.va_toastrelid);
        ScanKeyData keys[2];
        ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(pointer.va_valueid));
        ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(0));
        SnapshotData toast_snapshot;
        init_toast_snapshot(&toast_snapshot);
        SysScanDesc scan = systable_beginscan_ordered(toast_, indexes_[valid_], &toast_snapshot, 2, keys);
        bool found = systable_getnext_ordered(scan, ForwardScanDirection) != nullptr;
        systable_endscan_ordered(scan);
        return found;
    }

    void close() {
        if (toast_ == nullptr)
            return;
        toast_close_indexes(indexes_, index_count_, AccessShareLock);
        table_close(toast_, AccessShareLock);
        toast_ = nullptr;
    }

private:
    void open(Oid toast_relid) {
        close();
        // The index list outlives the page context the caller runs in.
        MemoryContext caller = MemoryContextSwitchTo(context_);
        toast_ = table_open(toast_relid, AccessShareLock);
        valid_ = toast_open_indexes(toast_, AccessShareLock, &indexes_, &index_count_);
        MemoryContextSwitchTo(caller);
    }

    MemoryContext context_;
    Relation toast_ = nullptr;
    Relation *indexes_ = nullptr;
    int index_count_ = 0;
    int valid_ = 0;
};

// Every tuple on every page of a table, live or not.  Tuples are copied
// under the page's share lock and walked after it is released (walking may
// read TOAST and catalogs).
void scan_table(Oid relid, const char *name, const Target &target, Snapshot snapshot, VersionUse *use,
                Lists *lists) {
    Relation rel = table_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    int natts = desc->natts;
    auto *live = (int64 *) palloc0(sizeof(int64) * (natts + 1));
    auto *dead = (int64 *) palloc0(sizeof(int64) * (natts + 1));
    int64 unreadable = 0;
    Datum *values = (Datum *) palloc(sizeof(Datum) * (natts + 1));
    bool *nulls = (bool *) palloc(sizeof(bool) * (natts + 1));
    MemoryContext page_context = AllocSetContextCreate(CurrentMemoryContext, "colcrypt value scan page",
                                                       ALLOCSET_DEFAULT_SIZES);
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    ToastProbe toast(CurrentMemoryContext);
    BlockNumber blocks = RelationGetNumberOfBlocks(rel);
    for (BlockNumber block = 0; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        MemoryContext caller = MemoryContextSwitchTo(page_context);
        HeapTuple copies[MaxHeapTuplesPerPage];
        bool visible[MaxHeapTuplesPerPage];
        int count = 0;
        Buffer buffer = ReadBufferExtended(rel, MAIN_FORKNUM, block, RBM_NORMAL, strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (!PageIsNew(page)) {
            OffsetNumber max = PageGetMaxOffsetNumber(page);
            for (OffsetNumber offset = FirstOffsetNumber; offset <= max; offset = OffsetNumberNext(offset)) {
                ItemId item = PageGetItemId(page, offset);
                if (!ItemIdIsNormal(item))
                    continue;
                HeapTupleData tuple;
                tuple.t_data = (HeapTupleHeader) PageGetItem(page, item);
                tuple.t_len = ItemIdGetLength(item);
                tuple.t_tableOid = relid;
                ItemPointerSet(&tuple.t_self, block, offset);
                visible[count] = HeapTupleSatisfiesVisibility(&tuple, snapshot, buffer);
                copies[count++] = heap_copytuple(&tuple);
            }
        }
        UnlockReleaseBuffer(buffer);
        for (int i = 0; i < count; i++) {
            heap_deform_tuple(copies[i], desc, values, nulls);
            for (int a = 0; a < natts; a++) {
                Form_pg_attribute att = TupleDescAttr(desc, a);
                if (att->attisdropped || nulls[a] || !contains(*target.types, att->atttypid))
                    continue;
                // An invisible row version whose value's chunks are gone:
                // whatever it held, VACUUM has yet to remove it.
                if (!visible[i] && att->attlen == -1 && VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(values[a])) &&
                    !toast.present(values[a])) {
                    dead[a]++;
                    continue;
                }
                Found found{0, 0};
                if (target.tally != nullptr) {
                    target.tally->attnum = att->attnum;
                    target.tally->visible = visible[i];
                }
                walk(values[a], att->atttypid, target, found);
                (visible[i] ? live : dead)[a] += found.matches;
                unreadable += found.unreadable;
            }
        }
        MemoryContextSwitchTo(caller);
        MemoryContextReset(page_context);
    }
    toast.close();
    FreeAccessStrategy(strategy);
    MemoryContextDelete(page_context);
    int64 dead_total = 0;
    for (int a = 0; a < natts; a++) {
        const char *column = quote_identifier(NameStr(TupleDescAttr(desc, a)->attname));
        if (live[a] > 0) {
            use->live += live[a];
            list(&use->live_where, &lists->live, psprintf("%s.%s", name, column), live[a], "");
        }
        dead_total += dead[a];
    }
    if (dead_total > 0) {
        use->dead += dead_total;
        list(&use->dead_where, &lists->dead, name, dead_total, "");
    }
    if (unreadable > 0) {
        use->unreadable += unreadable;
        list(&use->unreadable_where, &lists->unreadable, name, unreadable, "");
    }
    table_close(rel, AccessShareLock);
}

// Every entry on every page of a btree index, leaf entries and pivots (high
// keys and inner-page separators, which a descent compares with too).
void scan_btree_index(Relation rel, const char *name, const Target &target, VersionUse *use, Lists *lists) {
    TupleDesc desc = RelationGetDescr(rel);
    int keys = IndexRelationGetNumberOfKeyAttributes(rel);
    int64 leaf = 0, pivot = 0, unreadable = 0;
    MemoryContext page_context = AllocSetContextCreate(CurrentMemoryContext, "colcrypt index scan page",
                                                       ALLOCSET_DEFAULT_SIZES);
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    BlockNumber blocks = RelationGetNumberOfBlocks(rel);
    for (BlockNumber block = BTREE_METAPAGE + 1; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        MemoryContext caller = MemoryContextSwitchTo(page_context);
        IndexTuple copies[MaxIndexTuplesPerPage];
        bool is_pivot[MaxIndexTuplesPerPage];
        int count = 0;
        Buffer buffer = ReadBufferExtended(rel, MAIN_FORKNUM, block, RBM_NORMAL, strategy);
        LockBuffer(buffer, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buffer);
        if (!PageIsNew(page)) {
            BTPageOpaque opaque = BTPageGetOpaque(page);
            if (!P_IGNORE(opaque)) {
                OffsetNumber max = PageGetMaxOffsetNumber(page);
                for (OffsetNumber offset = FirstOffsetNumber; offset <= max; offset = OffsetNumberNext(offset)) {
                    ItemId item = PageGetItemId(page, offset);
                    if (!ItemIdIsUsed(item))
                        continue;
                    is_pivot[count] = !P_ISLEAF(opaque) || (offset == P_HIKEY && !P_RIGHTMOST(opaque));
                    copies[count++] = CopyIndexTuple((IndexTuple) PageGetItem(page, item));
                }
            }
        }
        UnlockReleaseBuffer(buffer);
        for (int i = 0; i < count; i++) {
            // Pivots keep only the key attributes that tell pages apart.
            int present = Min(BTreeTupleGetNAtts(copies[i], rel), keys);
            for (int a = 1; a <= present; a++) {
                Oid type = TupleDescAttr(desc, a - 1)->atttypid;
                if (!contains(*target.types, type))
                    continue;
                bool isnull;
                Datum value = index_getattr(copies[i], a, desc, &isnull);
                if (isnull)
                    continue;
                Found found{0, 0};
                walk(value, type, target, found);
                (is_pivot[i] ? pivot : leaf) += found.matches;
                unreadable += found.unreadable;
            }
        }
        MemoryContextSwitchTo(caller);
        MemoryContextReset(page_context);
    }
    FreeAccessStrategy(strategy);
    MemoryContextDelete(page_context);
    if (leaf > 0 || pivot > 0) {
        use->indexes_holding = lappend_oid(use->indexes_holding, RelationGetRelid(rel));
        use->index_leaf += leaf;
        use->index_until_rebuilt += pivot;
        list(&use->index_where, &lists->index, name, leaf + pivot, pivot > 0 ? " entries, some in inner pages" : " entries");
    }
    if (unreadable > 0) {
        use->unreadable += unreadable;
        list(&use->unreadable_where, &lists->unreadable, name, unreadable, "");
    }
}

// Every key on the entry pages and the pending list of a GIN index (an
// index on an array of encrypted values, whose keys are its elements).
// GIN keeps a key after the last row holding it is gone, until the index
// is rebuilt; posting pages hold row pointers only.
void scan_gin_index(Relation rel, const char *name, const Target &target, VersionUse *use, Lists *lists) {
    GinState state;
    initGinState(&state, rel);
    TupleDesc desc = RelationGetDescr(rel);
    int64 keys = 0, unreadable = 0;
    MemoryContext page_context = AllocSetContextCreate(CurrentMemoryContext, "colcrypt index scan page",
                                                       ALLOCSET_DEFAULT_SIZES);
    BufferAccessStrategy strategy = GetAccessStrategy(BAS_BULKREAD);
    BlockNumber blocks = RelationGetNumberOfBlocks(rel);
    for (BlockNumber block = GIN_METAPAGE_BLKNO + 1; block < blocks; block++) {
        CHECK_FOR_INTERRUPTS();
        MemoryContext caller = MemoryContextSwitchTo(page_context);
        IndexTuple copies[MaxIndexTuplesPerPage];
        int count = 0;
        Buffer buffer = ReadBufferExtended(rel, MAIN_FORKNUM, block, RBM_NORMAL, strategy);
        LockBuffer(buffer, GIN_SHARE);
        Page page = BufferGetPage(buffer);
        if (!PageIsNew(page) && !GinPageIsDeleted(page) && !GinPageIsData(page)) {
            OffsetNumber max = PageGetMaxOffsetNumber(page);
            for (OffsetNumber offset = FirstOffsetNumber; offset <= max; offset = OffsetNumberNext(offset)) {
                ItemId item = PageGetItemId(page, offset);
                if (ItemIdIsUsed(item))
                    copies[count++] = CopyIndexTuple((IndexTuple) PageGetItem(page, item));
            }
        }
        UnlockReleaseBuffer(buffer);
        for (int i = 0; i < count; i++) {
            OffsetNumber attnum = gintuple_get_attrnum(&state, copies[i]);
            GinNullCategory category;
            Datum key = gintuple_get_key(&state, copies[i], &category);
            Oid type = TupleDescAttr(desc, attnum - 1)->atttypid;
            if (category != GIN_CAT_NORM_KEY || !contains(*target.types, type))
                continue;
            Found found{0, 0};
            walk(key, type, target, found);
            keys += found.matches;
            unreadable += found.unreadable;
        }
        MemoryContextSwitchTo(caller);
        MemoryContextReset(page_context);
    }
    FreeAccessStrategy(strategy);
    MemoryContextDelete(page_context);
    if (keys > 0) {
        use->indexes_holding = lappend_oid(use->indexes_holding, RelationGetRelid(rel));
        use->index_until_rebuilt += keys;
        list(&use->index_where, &lists->index, name, keys, " keys, which GIN keeps until rebuilt");
    }
    if (unreadable > 0) {
        use->unreadable += unreadable;
        list(&use->unreadable_where, &lists->unreadable, name, unreadable, "");
    }
}

void scan_index(Oid relid, const char *name, const Target &target, VersionUse *use, Lists *lists) {
    Relation rel = index_open(relid, AccessShareLock);
    if (rel->rd_rel->relam == BTREE_AM_OID)
        scan_btree_index(rel, name, target, use, lists);
    else if (rel->rd_rel->relam == GIN_AM_OID)
        scan_gin_index(rel, name, target, use, lists);
    else if (use->unchecked_index == nullptr)
        // An access method whose pages this scan cannot read.
        use->unchecked_index = psprintf("%s (%s)", name, get_am_name(rel->rd_rel->relam));
    index_close(rel, AccessShareLock);
}

// The sample values ANALYZE keeps in one pg_statistic row (or one element
// of an extended statistics object's expression statistics, of the same
// row type): each slot's stavalues array whose elements may hold values.
void walk_statistic_row(HeapTuple row, TupleDesc desc, const Target &target, Found &found) {
    for (int slot = 0; slot < STATISTIC_NUM_SLOTS; slot++) {
        bool isnull;
        Datum values = heap_getattr(row, Anum_pg_statistic_stavalues1 + slot, desc, &isnull);
        if (isnull)
            continue;
        ArrayType *array = DatumGetArrayTypeP(values);
        if (!contains(*target.types, ARR_ELEMTYPE(array)))
            continue;
        ArrayElements elements = array_elements(array);
        for (int i = 0; i < elements.count; i++)
            if (!elements.nulls[i])
                walk(elements.values[i], elements.type, target, found);
    }
}

void note_statistics(Oid relid, const Found &found, const Target &target, VersionUse *use, Lists *lists) {
    if (OidIsValid(target.only_table) && relid != target.only_table)
        return;
    if (found.matches > 0) {
        use->statistics += found.matches;
        char *relation = get_rel_name(relid);
        list(&use->statistics_where, &lists->statistics, relation != nullptr ? quote_identifier(relation) : "?",
             found.matches, "");
    }
    use->unreadable += found.unreadable;
}

// The planner compares query constants with these samples (most common
// values, histogram bounds), so they count as uses like index entries do:
// pg_statistic, and the MCV lists and expression statistics of extended
// statistics objects.
void scan_statistics(const Target &target, VersionUse *use, Lists *lists) {
    Relation statistics = table_open(StatisticRelationId, AccessShareLock);
    TupleDesc statistic_desc = RelationGetDescr(statistics);
    SysScanDesc scan = systable_beginscan(statistics, InvalidOid, false, nullptr, 0, nullptr);
    for (HeapTuple row; (row = systable_getnext(scan)) != nullptr;) {
        Found found{0, 0};
        walk_statistic_row(row, statistic_desc, target, found);
        note_statistics(((Form_pg_statistic) GETSTRUCT(row))->starelid, found, target, use, lists);
    }
    systable_endscan(scan);

    Relation extended = table_open(StatisticExtDataRelationId, AccessShareLock);
    scan = systable_beginscan(extended, InvalidOid, false, nullptr, 0, nullptr);
    for (HeapTuple row; (row = systable_getnext(scan)) != nullptr;) {
        auto *form = (Form_pg_statistic_ext_data) GETSTRUCT(row);
        Found found{0, 0};
        if (!heap_attisnull(row, Anum_pg_statistic_ext_data_stxdmcv, RelationGetDescr(extended))) {
            MCVList *mcv = statext_mcv_load(form->stxoid, form->stxdinherit);
            for (int d = 0; d < mcv->ndimensions; d++) {
                if (!contains(*target.types, mcv->types[d]))
                    continue;
                for (uint32 i = 0; i < mcv->nitems; i++)
                    if (!mcv->items[i].isnull[d])
                        walk(mcv->items[i].values[d], mcv->types[d], target, found);
            }
        }
        bool isnull;
        Datum expressions = heap_getattr(row, Anum_pg_statistic_ext_data_stxdexpr, RelationGetDescr(extended), &isnull);
        if (!isnull) {
            ArrayElements elements = array_elements(DatumGetArrayTypeP(expressions));
            for (int i = 0; i < elements.count; i++) {
                if (elements.nulls[i])
                    continue;
                HeapTupleHeader header = DatumGetHeapTupleHeader(elements.values[i]);
                HeapTupleData element;
                element.t_len = HeapTupleHeaderGetDatumLength(header);
                element.t_data = header;
                ItemPointerSetInvalid(&element.t_self);
                element.t_tableOid = InvalidOid;
                walk_statistic_row(&element, statistic_desc, target, found);
            }
        }
        HeapTuple object = SearchSysCache1(STATEXTOID, ObjectIdGetDatum(form->stxoid));
        Oid relid = HeapTupleIsValid(object) ? ((Form_pg_statistic_ext) GETSTRUCT(object))->stxrelid : InvalidOid;
        if (HeapTupleIsValid(object))
            ReleaseSysCache(object);
        note_statistics(relid, found, target, use, lists);
    }
    systable_endscan(scan);
    table_close(extended, AccessShareLock);
    table_close(statistics, AccessShareLock);
}

}  // namespace

void find_version_use(std::uint32_t keyring_id, std::uint32_t version, VersionUse *use, Oid only_table) {
    std::memset(use, 0, sizeof(*use));
    use->indexes_holding = NIL;
    initStringInfo(&use->live_where);
    initStringInfo(&use->dead_where);
    initStringInfo(&use->index_where);
    initStringInfo(&use->unreadable_where);
    initStringInfo(&use->statistics_where);

    // The relations, read as their owner with search_path pinned (their
    // names are then qualified); the pages, with a snapshot taken now, after
    // the caller waited for the version's writers.
    InternalAccess access;
    begin_internal_access(&access);
    TypeSet types = containing_types();
    QueryArg args[] = {oid_array_arg(types), oid_arg(only_table)};
    run_internal_locking_query(kRelationsQuery, SPI_OK_SELECT, 2, args);
    std::uint64_t relations = result_rows();
    // SPI_palloc: the lists outlive end_internal_access.
    Oid *oids = (Oid *) SPI_palloc(sizeof(Oid) * (relations + 1));
    bool *indexes = (bool *) SPI_palloc(sizeof(bool) * (relations + 1));
    char **names = (char **) SPI_palloc(sizeof(char *) * (relations + 1));
    for (std::uint64_t i = 0; i < relations; i++) {
        oids[i] = result_oid(i, 1);
        indexes[i] = result_bool(i, 2);
        names[i] = result_text_copy(i, 4);
        // Another session's temporary schema is named after its backend
        // slot: the relation's own name says more.
        if (result_bool(i, 3) && use->other_temp_table == nullptr)
            use->other_temp_table = result_text_copy(i, 5);
    }
    end_internal_access(&access);
    if (use->other_temp_table != nullptr)
        return;

    Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
    Target target{keyring_id, version, &types, only_table, nullptr};
    Lists lists{0, 0, 0, 0, 0};
    for (std::uint64_t i = 0; i < relations; i++) {
        if (indexes[i])
            scan_index(oids[i], names[i], target, use, &lists);
        else
            scan_table(oids[i], names[i], target, snapshot, use, &lists);
    }
    UnregisterSnapshot(snapshot);
    scan_statistics(target, use, &lists);
}

List *count_versions(Oid table, const TypeSet &types, int64 *unreadable) {
    Tally tally{0, false, NIL, CurrentMemoryContext};
    Target target{0, 0, &types, table, &tally};
    VersionUse use;
    std::memset(&use, 0, sizeof(use));
    initStringInfo(&use.live_where);
    initStringInfo(&use.dead_where);
    initStringInfo(&use.unreadable_where);
    Lists lists{0, 0, 0, 0, 0};
    Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
    char *name = get_rel_name(table);
    scan_table(table, name != nullptr ? quote_identifier(name) : "?", target, snapshot, &use, &lists);
    UnregisterSnapshot(snapshot);
    *unreadable = use.unreadable;
    return tally.counts;
}

}  // namespace colcrypt::pg
