// Helpers shared by activation's files (not part of its interface).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "activation/activation.h"
#include "activation/records.h"
#include "identity/id_types.h"
#include "index/bitmap.h"
#include "index/index_view.h"

namespace crowd::activation {

[[nodiscard]] Refusal refusal(Refusal::Kind kind, std::string code, std::string message);

[[nodiscard]] std::optional<CrowdRecord> read_crowd_record(const IndexView& view, std::string_view crowd);
// The record of a crowd saved before activation existed: its members are
// version 1 ("import").
[[nodiscard]] CrowdRecord imported_record(const TagBits& members, int64_t now);
[[nodiscard]] std::optional<PushRecord> read_push_record(const IndexView& view, std::string_view crowd, uint64_t seq);

// The saved crowd's members in `view`, null when there is no such crowd.
[[nodiscard]] const TagBits* crowd_members(const IndexView& view, std::string_view crowd);
// A kept bitmap, null when it was never kept.
[[nodiscard]] const TagBits* kept_bitmap(const IndexView& view, std::string_view key);
// The union of the non-empty kept bitmaps whose keys start with `prefix`.
[[nodiscard]] Bitmap kept_union(const IndexView& view, std::string_view prefix);

// Users of `users` that have an ID of `type` (null: uid). O(|users|) for a
// defined type (one head lookup a user), O(containers) for uid.
[[nodiscard]] uint64_t exported_users(const IndexView& view, const Bitmap& users, const identity::DefinedIdType* type);

// The users of `users` with an ID of `type` (null: uid): those a push in
// that type reaches.
[[nodiscard]] Bitmap reachable(const IndexView& view, const Bitmap& users, const identity::DefinedIdType* type);

// a AND NOT b, a new bitmap.
[[nodiscard]] Bitmap minus(const Bitmap& a, const Bitmap& b);
[[nodiscard]] Bitmap minus(const Bitmap& a, const roaring_bitmap_t* b);

// The versions of `crowd` some destination still needs: each one's
// acknowledged version and its outstanding push's.
[[nodiscard]] std::set<uint64_t> needed_versions(const IndexView& view, std::string_view crowd, const CrowdRecord& c);
// Adds to `batch` the drops of the crowd's kept versions not in `needed`.
void drop_unneeded_versions(const IndexView& view, std::string_view crowd, const std::set<uint64_t>& needed,
                            WriteBatch& batch);

// 32 lower-case hex characters from the system's CSPRNG (libcrypto).
[[nodiscard]] std::string random_push_id();

}  // namespace crowd::activation
