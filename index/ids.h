// The three integer kinds of the index, named so signatures say which is which.
#pragma once

#include <cstdint>
#include <limits>

namespace crowd {

using UserId = uint64_t;   // external user ID, as clients send it
using Ordinal = uint32_t;  // dense internal user number: the bitmaps' values
using TagId = uint32_t;    // dense tag number, in order of creation

inline constexpr TagId kNoTag = std::numeric_limits<TagId>::max();

}  // namespace crowd
