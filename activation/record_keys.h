// The keys of activation's records and kept bitmaps (index/system_view.h
// stores them opaquely). Parts are joined with the unit separator 0x1F,
// which no crowd or destination name can hold, so one name's keys are never
// a prefix of another's:
//   records   dest <name>                 a destination
//             crowd <crowd>               a crowd's versions, schedule, destinations' state
//             push <crowd> <seq>          one push (seq: 10 digits, so byte order is push order)
//             gone <crowd> <destination>  IDs of erased users to remove at the next push
//   bitmaps   ver <crowd> <version>       a version a destination needs
//             cohort <crowd> <version>    users first pushed with that version
//             held <crowd> <version>      users first held out with that version
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::activation::keys {

[[nodiscard]] std::string destination(std::string_view name);
[[nodiscard]] std::string destination_prefix();
[[nodiscard]] std::string crowd(std::string_view crowd);
[[nodiscard]] std::string crowd_prefix();
[[nodiscard]] std::string push(std::string_view crowd, uint64_t seq);
[[nodiscard]] std::string push_prefix(std::string_view crowd);
[[nodiscard]] std::string gone(std::string_view crowd, std::string_view destination);
[[nodiscard]] std::string gone_prefix(std::string_view crowd);

[[nodiscard]] std::string version(std::string_view crowd, uint64_t version);
[[nodiscard]] std::string version_prefix(std::string_view crowd);
[[nodiscard]] std::string cohort(std::string_view crowd, uint64_t version);
[[nodiscard]] std::string cohort_prefix(std::string_view crowd);
[[nodiscard]] std::string held(std::string_view crowd, uint64_t version);
[[nodiscard]] std::string held_prefix(std::string_view crowd);
// Every kept bitmap of every crowd: the prefixes above without a crowd.
[[nodiscard]] std::string version_prefix_all();

// The number after the last separator of a key made above (a version or a
// push's seq), nullopt for anything else.
[[nodiscard]] std::optional<uint64_t> trailing_number(std::string_view key);
// The name after the prefix of a one-name key (destination, crowd).
[[nodiscard]] std::string_view name_after(std::string_view key, std::string_view prefix);

}  // namespace crowd::activation::keys
