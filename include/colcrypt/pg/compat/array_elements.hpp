// The elements of an array of any element type, with the element type's
// storage properties looked up (deconstruct_array needs them spelled out).
#pragma once

#include "colcrypt/pg/compat/postgres.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace colcrypt::pg {

struct ArrayElements {
    Oid type;
    Datum *values;  // palloc'd in the current memory context
    bool *nulls;
    int count;
};

inline ArrayElements array_elements(ArrayType *array) {
    ArrayElements out{ARR_ELEMTYPE(array), nullptr, nullptr, 0};
    int16 length;
    bool by_value;
    char align;
    get_typlenbyvalalign(out.type, &length, &by_value, &align);
    deconstruct_array(array, out.type, length, by_value, align, &out.values, &out.nulls, &out.count);
    return out;
}

}  // namespace colcrypt::pg
