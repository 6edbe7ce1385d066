// Turning a field exclusive (WriteBatch::set_exclusive_field) is a write the
// index refuses by its state: while any user holds two or more of the
// field's values, the field cannot be exclusive (the planner sums an
// exclusive field's values as disjoint). Decided in Index::check, under the
// writer lock, so no write gives someone a second value in between, and
// decided alike on every replica of a shard, which apply the same batches
// in the same order.
#pragma once

#include <optional>
#include <string>

#include "index/index_view.h"
#include "index/write_batch.h"

namespace crowd {

// Why `view` cannot take the batch's exclusive fields (the first field
// that is not exclusive yet and has users with two of its values), or
// nothing. O(the field's tags) for each field turned exclusive.
[[nodiscard]] std::optional<std::string> exclusive_refusal(const WriteBatch& batch, const IndexView& view);

// The refusal's words when `doubled` users hold two of `field`'s values;
// and the number back from such words (a cluster router sums its shards').
[[nodiscard]] std::string not_exclusive_words(uint64_t doubled, std::string_view field);
[[nodiscard]] std::optional<uint64_t> doubled_users_in(std::string_view refusal);

}  // namespace crowd
